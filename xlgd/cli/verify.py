"""`xlgd verify`: prove every computed cell of a workbook (see verify.py)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = """\
Check every computed cell of a workbook three ways:
  structure    its formula is its column's formula (R1C1 form): catches an
               edited formula, a constant pasted over a formula, a reference
               moved to the wrong cell;
  consistency  its value is its own formula applied to the values the sheet
               holds now: catches stale values (manual calculation);
  trajectory   its value is what xlgd's engine computes from the workbook's
               own inputs (lr, betas, start weights, data as the file holds them).
Failures are grouped by root cause: one line for the cause, one line for the
cells downstream of it.

Works on workbooks made by `xlgd generate` (recognised by their hidden _xlgd
record, even after edits) and on Jeremy Howard's graddesc.xlsm (sheets basic,
momentum, rmsprop, adam, adam_ann).

examples:
  xlgd verify output/graddesc.xlsx
  xlgd verify graddesc.xlsm --sheet adam
  xlgd verify book.xlsx --recalc           # values from a fresh LibreOffice recalculation
  xlgd verify book.xlsx --json | jq .ok
  xlgd verify book.xlsx --rtol 1e-9        # loosen the (default exact) comparison

values: cached values by default; a file without cached values (e.g. saved
by openpyxl) is recalculated by LibreOffice if installed, else evaluated with
xlgd's own column definitions. The report says which source was used.

exit codes: 0 every cell checks out, 1 failures found, 2 unreadable input.
"""


def add_parser(sub):
    p = sub.add_parser("verify", help="check every computed cell of a workbook and explain what is wrong",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", help="an .xlsx or .xlsm workbook")
    p.add_argument("--recalc", action="store_true",
                   help="take values from a fresh LibreOffice recalculation instead of the cached ones")
    p.add_argument("--values", choices=("cached", "libreoffice", "embedded"), default="cached",
                   help="where values come from (default cached; --recalc = libreoffice)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--rtol", type=float, default=0.0, metavar="X",
                   help="relative tolerance for value comparisons (default 0: exact)")
    p.add_argument("--sheet", metavar="NAME", help="check only this sheet")
    p.set_defaults(func=run)
    return p


def run(args):
    from ..check.verify import verify_book

    values = "libreoffice" if args.recalc else args.values
    report = verify_book(args.book, values=values, rtol=args.rtol, sheet=args.sheet)
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        print(report.text())
    return 0 if report.ok else 1

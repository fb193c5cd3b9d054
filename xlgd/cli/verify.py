"""`xlgd verify`: prove every computed cell of a workbook (see verify.py)."""

from __future__ import annotations

import argparse
import gc
import json
import sys

HELP = """\
Check every formula cell of every sheet of a workbook, three ways:
  structure    its formula is its column's formula (R1C1 form): catches an
               edited formula, a constant typed over a formula, a reference
               moved to the wrong cell, an empty row inside a table;
  consistency  its value is its own formula applied to the values the sheet
               holds now: catches stale values (manual calculation);
  trajectory   its value is what the workbook computes from its own
               constants: xlgd's engine for xlgd's and graddesc's sheets, the
               workbook evaluator for every other sheet.
Cells no one can compute (RAND, NOW, a function xlgd does not evaluate) are
reported unchecked, with the reason. Defined names must point where they
should. Failures are grouped by root cause: one line for the cause, one line
for the cells downstream of it. The last line is the verdict:
  OK: 18,276 of 18,276 formula cells check out
  OK with 29 unchecked: 1,594 of 1,623 formula cells check out; data!B5:B33 use RANDBETWEEN (volatile)
  FAILED: 2 root cause(s); ...
  UNCHECKED: 0 of 37 formula cells could be checked (data!C2:C38 use FORECAST.LINEAR, ...)
A sheet none of whose formula cells could be checked says so on its line
(`37 formula cells, none checked: <reason>`), never "ok"; a sheet partly
checked says how many cells were not. A report longer than a screen (40
rows of 120 columns) groups unchecked cells by reason and folds the sheets
without a cause into one list, saying what it grouped; --verbose lists every
range, cause and sheet.

Sheets made by `xlgd generate` (its hidden _xlgd record, even after edits)
and Jeremy Howard's graddesc sheets (basic, momentum, rmsprop, adam,
adam_ann) are checked against their layout; any other sheet -- a learner's
own, an experiment grid -- by the workbook evaluator.

On every sheet that does gradient descent (weights carried row to row or
epoch to epoch, updated from a derivative and a learning rate) verify also
checks the mathematics: each derivative column against the derivative of the
row's own loss formula, each update against its optimiser (SGD, momentum,
RMSProp, Adam). A derivative of the wrong weight, a dropped chain-rule factor
or a sign is a root cause. When the error explodes in a sheet that is right,
it says where, why (lr times the loss's curvature past 2) and the largest
learning rate that stays stable: is it my sheet or the learning rate?

examples:
  xlgd verify output/graddesc.xlsx
  xlgd verify graddesc.xlsm --sheet adam
  xlgd verify book.xlsx --recalc               # values recomputed by the workbook evaluator
  xlgd verify book.xlsx --recalc libreoffice   # values from a fresh LibreOffice recalculation
  xlgd verify book.xlsx --json | jq .ok
  xlgd verify book.xlsx --rtol 1e-9            # loosen the (default exact) comparison

values: cached values by default; a file without cached values (e.g. saved
by openpyxl) is recalculated by the workbook evaluator. The report says which
source was used.

exit codes: 0 every checked cell checks out (OK, OK with N unchecked), 1
failures found (FAILED) or not one formula cell could be checked (UNCHECKED:
nothing was verified, so it is no pass; --json's "ok" is false), 2 unreadable
input (with --json, a JSON object with the error on stdout too).
"""


def add_parser(sub):
    p = sub.add_parser("verify", help="check every computed cell of a workbook and explain what is wrong",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", help="an .xlsx or .xlsm workbook")
    p.add_argument("--recalc", nargs="?", const="evaluator", choices=("evaluator", "libreoffice"),
                   help="take values from a fresh recalculation instead of the cached ones: by the workbook "
                        "evaluator (the default), or by LibreOffice")
    p.add_argument("--values", choices=("cached", "evaluator", "libreoffice", "embedded"), default="cached",
                   help="where values come from (default cached; --recalc = evaluator)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--rtol", type=float, default=0.0, metavar="X",
                   help="relative tolerance for value comparisons (default 0: exact)")
    p.add_argument("--sheet", metavar="NAME", help="check only this sheet")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every unchecked range, root cause and sheet (by default a report longer than a "
                        "screen is grouped by reason)")
    p.set_defaults(func=run)
    return p


def run(args):
    """The command, with Python's cycle collector paused: its imports and its reading make objects by
    the hundred thousand and little garbage. What it made then joins the oldest generation without a
    pass over it (freeze, unfreeze), where a later full collection finds any cycles."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if collecting:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _run(args):
    from ..check.report_text import screen_text
    from ..check.verify import verify_book
    from ..errors import XlgdError

    values = args.recalc or args.values
    try:
        report = verify_book(args.book, values=values, rtol=args.rtol, sheet=args.sheet)
    except (XlgdError, OSError) as e:
        if args.json:  # a JSON reader gets a JSON object even for input it cannot use
            msg = str(e) if isinstance(e, XlgdError) else f"{e.strerror or e} ({args.book})"
            json.dump({"path": str(args.book), "ok": False, "error": msg, "exit_code": 2}, sys.stdout, indent=1)
            sys.stdout.write("\n")
        raise
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    elif args.verbose:
        print(report.text())
    else:
        print(screen_text(report))
    return 0 if report.ok else 1

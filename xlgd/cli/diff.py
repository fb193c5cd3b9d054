"""`xlgd diff`: what a learner changed in a workbook, and what it did."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..errors import XlgdError

HELP = """\
Compare an edited workbook with its reference, cause by cause: the inputs
you changed (old -> new), formulas you edited or typed over, rows, columns
and sheets you inserted, deleted or renamed, chart series you relinked,
defined names and calculation settings; then what they did to each
training sheet (final and best mean err^2, the step it explodes at, the
final weights, before -> after); then, one line per sheet, the values that
changed only as a consequence (column by column with --verbose or --json).

Rows and columns are aligned by content (formulas in relative R1C1 form),
so one inserted row is one change, not a cascade down the sheet. Values a
file does not hold (openpyxl and pandas save none) are recomputed with
xlgd's workbook evaluator, and the report says so; volatile cells
(RANDBETWEEN) are reported as volatile; calculation settings that change
no value are a note.

Without REFERENCE the edited workbook is compared with what xlgd would
generate from the template and knobs recorded inside it.

examples:
  xlgd diff mine.xlsx                        # against what xlgd would generate
  xlgd diff mine.xlsx output/graddesc.xlsx   # against another workbook
  xlgd diff mine.xlsx --sheet adam --formulas-only
  xlgd diff mine.xlsx --rtol 1e-6 --json     # for scripts
  xlgd diff mine.xlsx --html report.html     # grid per sheet, reasons on hover
  xlgd diff --textconv mine.xlsx             # stable text for `git diff`

git:
  .gitattributes:   *.xlsx diff=xlgd
  git config diff.xlgd.textconv "xlgd diff --textconv"

exit codes: 0 same, 1 different, 2 error.
"""


def add_parser(sub):
    p = sub.add_parser("diff", help="compare an edited workbook with its reference, cause by cause",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("edited", nargs="?", type=Path, help="the edited workbook (.xlsx/.xlsm)")
    p.add_argument("reference", nargs="?", type=Path,
                   help="the workbook to compare with (default: regenerate from the record inside EDITED)")
    p.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance for numbers (default 1e-9)")
    p.add_argument("--atol", type=float, default=1e-12, help="absolute tolerance for numbers (default 1e-12)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--formulas-only", action="store_true",
                   help="compare formulas and structure only, not values")
    g.add_argument("--values-only", action="store_true",
                   help="compare values only (cached results and constants), not formula text")
    p.add_argument("--sheet", metavar="NAME", help="only this sheet")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list the values that followed column by column (default: one line per sheet)")
    p.add_argument("--html", metavar="FILE", type=Path, help="also write an HTML report: each changed sheet "
                                                             "as a grid, changed cells highlighted")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour in the terminal report (default: when stdout is a terminal)")
    p.add_argument("--textconv", metavar="BOOK", type=Path,
                   help="print a stable text rendering of BOOK (for git's diff.textconv) and exit")
    p.set_defaults(func=run)


def run(args):
    if args.textconv is not None:
        from ..diff.textconv import render

        try:
            for chunk in render(args.textconv):
                sys.stdout.write(chunk)
            sys.stdout.flush()
        except BrokenPipeError:
            # `| head`: the reader has what it wanted.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.edited is None:
        raise XlgdError("diff needs the edited workbook (try: xlgd diff --help)")
    for name in ("rtol", "atol"):
        v = getattr(args, name)
        if not (v >= 0) or v == float("inf"):
            raise XlgdError(f"--{name} must be a finite number >= 0, not {v}")
    from ..diff import book as diff
    from ..diff import report as diffreport
    from ..xlsx.output import check_not_input

    if args.html is not None:
        check_not_input(args.html, [p for p in (args.edited, args.reference) if p is not None], "--html")
    opt = diff.DiffOptions(rtol=args.rtol, atol=args.atol, formulas=not args.values_only,
                       values=not args.formulas_only, sheet=args.sheet, grid=args.html is not None)
    result = compare(args.edited, args.reference, opt)
    if args.json:
        diffreport.write_json(result, sys.stdout)
    else:
        color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                           and os.environ.get("NO_COLOR") is None)
        diffreport.write_text(result, sys.stdout, color=color, verbose=args.verbose)
    if args.html is not None:
        from ..diff.html import write_html

        write_html(result, args.html)
    return 0 if result.same else 1


def compare(edited, reference, opt):
    """Diff two workbooks (or one against its regenerated self): a DiffResult."""
    from ..diff import book as diff
    from ..xlsx.package import Package

    edited = Path(edited)
    with tempfile.TemporaryDirectory(prefix="xlgd-diff-") as tmp:
        kind = "file"
        if reference is None:
            reference = regenerate(edited, Path(tmp) / "reference.xlsx")
            kind = "regenerated"
            label = f"{edited} as xlgd would generate it"
        else:
            label = str(reference)
        with Package.open(edited) as ed, Package.open(reference) as ref:
            return diff.diff_books(ed, ref, opt, str(edited), label, kind)


def regenerate(edited: Path, out: Path) -> Path:
    """Write what xlgd would generate from the record inside `edited`."""
    from ..pipeline import build
    from ..recipe import record
    from ..recipe.template import rebuild
    from ..xlsx.package import Package

    with Package.open(edited) as pkg:
        rec = record.read(pkg)
    if rec is None:
        raise XlgdError(f"{edited} has no xlgd record (hidden sheet {record.META_SHEET}); give a reference "
                        f"workbook: xlgd diff {edited} REFERENCE.xlsx")
    try:
        recipe = rebuild(rec)
    except XlgdError as e:
        raise XlgdError(f"{edited}: {e}") from None
    build(recipe, out)
    return out

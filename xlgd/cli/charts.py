"""`xlgd charts`: check, fix, render and regenerate chart axis links."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import XlgdError
from ..xlsx.output import check_not_input

HELP = """Check and fix chart axis links in any workbook, without touching anything else.

  check BOOK            list every chart; flag series whose x is missing while a
                        column of the sheet is their x, typed (literal) data,
                        unreadable or dangling references, length mismatches,
                        line charts over uneven x, hidden axes, missing/stale
                        caches; notes for what is right or cannot be better
  fix BOOK -o OUT       relink flagged series to their x cells, turn line charts
                        over uneven x into scatter charts; edits only the chart
                        parts, every other zip member stays byte-identical
  render BOOK -o DIR    one PNG per chart (LibreOffice headless)
  regenerate BOOK       rebuild xlgd's own charts from the recorded layout
"""


def add_parser(subparsers):
    p = subparsers.add_parser("charts", help="check and fix chart axis links",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="charts_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=_no_action)

    c = sub.add_parser("check", help="list charts and flag broken axis links",
                       description="List every chart and flag axis-link problems. Exit 1 when a problem is flagged, "
                                   "0 when there are none (notes alone: exit 0).")
    c.add_argument("book", type=Path)
    c.add_argument("--json", action="store_true", help="machine-readable report")
    c.set_defaults(func=cmd_check)

    f = sub.add_parser(
        "fix", help="relink flagged series to the x cells",
        description="Relink flagged series to their x cells (a per-step or per-epoch series to the step or "
                    "epoch column, a fit to the data x; or --x), turn line charts over unsorted or uneven x "
                    "into scatter charts, make axes visible, rebuild caches. Only xl/charts/chartN.xml parts "
                    "change. Without -o writes BOOK-fixed.<suffix> next to BOOK. Exit 1 if a problem is "
                    "still flagged afterwards, 0 if only notes remain.")
    f.add_argument("book", type=Path)
    f.add_argument("-o", "--output", type=Path, help="where to write the fixed workbook")
    f.add_argument("--in-place", action="store_true", help="replace BOOK (atomically)")
    f.add_argument("--x", metavar="REF", help='x cells for every series without a usable x, e.g. '
                   '"Sheet1!$A$4:$A$32" (they must hold values)')
    f.add_argument("--keep-type", action="store_true",
                   help="keep line charts over unsorted or uneven numeric x as line charts (default: scatter)")
    f.add_argument("--scatter", action="store_true",
                   help="the default (line charts over uneven x become scatter charts); kept for old scripts")
    f.add_argument("--json", action="store_true", help="machine-readable summary")
    f.set_defaults(func=cmd_fix)

    r = sub.add_parser("render", help="write a PNG of each chart",
                       description="Write one PNG (or EMF) per chart into DIR using LibreOffice headless. "
                                   "Exit 1 when LibreOffice had to repair the file: it asked a question while "
                                   "loading, or loaded fewer charts or series than the file has.")
    r.add_argument("book", type=Path)
    r.add_argument("-o", "--outdir", type=Path, required=True)
    r.add_argument("--format", choices=("png", "emf"), default="png",
                   help="png (default) or emf: vector, with the labels as text")
    r.add_argument("--timeout", type=float, default=120, help="seconds LibreOffice may take (default 120)")
    r.set_defaults(func=cmd_render)

    g = sub.add_parser("regenerate", help="rebuild xlgd's own charts from the recorded layout",
                       description="Rebuild the charts of a workbook xlgd generated, from the spec it "
                                   "recorded, for sheets whose charts were deleted or broken.")
    g.add_argument("book", type=Path)
    g.add_argument("-o", "--output", type=Path,
                   help="where to write (default: BOOK-regenerated.<suffix> next to BOOK)")
    g.add_argument("--in-place", action="store_true", help="replace BOOK (atomically)")
    g.set_defaults(func=cmd_regenerate)
    return p


def _no_action(args):
    """`xlgd charts` without an action: one line naming the actions, exit 2 (--help explains them)."""
    raise XlgdError("charts needs an action: check, fix, render or regenerate (try: xlgd charts --help)")


def cmd_check(args) -> int:
    from ..charts.check import check_book, problems, report_dict, report_text
    from ..xlsx.package import Package

    with Package.open(args.book) as book:
        results = check_book(book)
        if args.json:
            print(json.dumps(report_dict(book, results), indent=2))
        else:
            print(report_text(book, results))
    return 1 if problems(results) else 0


def output_path(book_path: Path, output: Path | None, in_place: bool, macros: bool) -> Path:
    if in_place and output is not None:
        raise XlgdError("give either -o or --in-place, not both")
    out = book_path if in_place else (output if output is not None else _default(book_path))
    if out.is_dir():
        out = out / _default(book_path).name
    if not in_place:
        check_not_input(out, [book_path], "-o", "choose another path, or pass --in-place to replace it")
    if macros and out.suffix.lower() not in (".xlsm", ".xltm"):
        raise XlgdError(f"{book_path} has macros; the output must end in .xlsm, not {out.suffix or '(none)'}")
    if not out.parent.exists():
        raise XlgdError(f"{out.parent}: no such directory")
    return out


def _default(path: Path) -> Path:
    from ..charts.fix import default_output
    return default_output(path)


def refuse_opendocument(book, action: str):
    """`charts fix` and `regenerate` edit the workbook's own zip members: an .ods has none to edit."""
    if book.opendocument:
        raise XlgdError(f"{book.path} is an OpenDocument spreadsheet: charts {action} edits .xlsx workbooks only "
                        f"(charts check reads .ods); save it as .xlsx in LibreOffice and run it on that")


def cmd_fix(args) -> int:
    from ..charts.check import issue_text, problems
    from ..charts.fix import fix_book, remaining, write_zip
    from ..xlsx.package import Package

    with Package.open(args.book) as book:
        refuse_opendocument(book, "fix")
        out = output_path(args.book, args.output, args.in_place, book.macro_enabled)
        res = fix_book(book, x=args.x, keep_type=args.keep_type)
        if res.changed:
            left = write_zip(book, out, res.changed,
                             check=lambda written: _remaining(written, args.book, args.keep_type))
        else:
            left = remaining(book, args.keep_type)
    if args.json:
        print(json.dumps({
            "book": str(args.book), "output": str(out) if res.changed else None,
            "changed_parts": sorted(res.changed), "messages": res.messages,
            "remaining": [{"part": ch.part, "sheet": ch.sheet, "title": ch.title,
                           "issues": [i.as_dict() for i in iss]} for ch, iss in left],
            "problems": problems(left),
        }, indent=2))
    else:
        for m in res.messages:
            print(m)
        if res.changed:
            print(f"wrote {out} (changed {', '.join(sorted(res.changed))}; every other part copied unchanged)")
        else:
            print(f"no chart part changed; nothing written ({args.book} is untouched)")
        for ch, iss in left:
            for i in iss:
                print(f"{'still flagged' if i.is_problem else 'note'}: {ch.sheet or '?'}: "
                      f"{ch.title or ch.part!s}: {issue_text(i)}")
    return 1 if problems(left) else 0


def _remaining(written: Path, source: Path, keep_type: bool) -> list:
    """What is still flagged in a fixed copy, read back before it replaces anything (see `_flagged`)."""
    from ..charts.fix import remaining
    from ..xlsx.package import Package

    with Package.open(written, shown_as=source) as fixed:
        return remaining(fixed, keep_type)


def cmd_render(args) -> int:
    from ..charts.render import render_book

    done = render_book(args.book, args.outdir, timeout=args.timeout, fmt=args.format)
    for p in done.paths:
        print(p)
    if not done.paths:
        print(f"{args.book}: no charts to render")
    for r in done.repairs:
        print(f"repaired: {r}")
    if done.repairs:
        print(f"LibreOffice had to repair {args.book}: the images show what it could load")
    return 1 if done.repairs else 0


def _flagged(written: Path, source: Path) -> list:
    """The charts of a written copy that have issues, read back before the copy replaces anything;
    a part the copy took unchanged from `source` and cannot be read is an error naming `source`."""
    from ..charts.check import check_book
    from ..xlsx.package import Package

    with Package.open(written, shown_as=source) as book:
        return [(ch, iss) for ch, iss in check_book(book) if iss]


def cmd_regenerate(args) -> int:
    from ..charts.check import issue_text, problems
    from ..charts.regenerate import regenerate
    from ..xlsx.package import Package

    with Package.open(args.book) as book:
        refuse_opendocument(book, "regenerate")
        macros = book.macro_enabled
    default = args.book.with_name(f"{args.book.stem}-regenerated{args.book.suffix}")
    out = output_path(args.book, args.output if args.output or args.in_place else default,
                      args.in_place, macros)
    plan = regenerate(args.book, out, check=lambda written: _flagged(written, args.book))
    for m in plan.messages:
        print(m)
    if not (plan.replaced or plan.added):
        print(f"every xlgd chart is already as generated; nothing written ({args.book} is untouched)")
        return 0
    changed = sorted(plan.replaced) + list(plan.added)
    print(f"wrote {out} ({len(plan.replaced)} part(s) changed, {len(plan.added)} added: {', '.join(changed)})")
    flagged = plan.checked
    for ch, iss in flagged:
        for i in iss:
            print(f"{'still flagged' if i.is_problem else 'note'}: {ch.sheet or '?'}: {ch.title or ch.part!s}: "
                  f"{issue_text(i)}")
    return 1 if problems(flagged) else 0

"""`xlgd generate`: write a graddesc-style workbook from a template."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import XlgdError

HELP = """\
Write a workbook: an intro sheet, a data sheet, and one sheet per
(model, optimiser) of the template, one row per SGD step, every
computed cell a live formula with its value cached.

examples:
  xlgd generate                                  # template graddesc -> output/graddesc.xlsx
  xlgd generate graddesc --set lr=0.001          # every sheet that has an lr
  xlgd generate graddesc --set adam.lr=0.05 --epochs 10 -o /tmp/adam.xlsx
  xlgd generate my-experiment.toml --json        # a summary for scripts

knobs (per sheet, shown in its yellow input cells):
  lr, beta1, beta2, eps, h (forward-difference step), a_init, b_init, ...
  m_init, v_init, s_init (optimiser state before step 1),
  ann_ratio, ann_factor (adam_ann's rule: lr / ann_factor when the gradient
  indicator exceeds ann_ratio x the best so far)
"""


def templates_help() -> str:
    """The templates a bare name reaches, one line each: name and title."""
    from ..recipe.template import known_templates, read_template

    lines = []
    for name, path in known_templates().items():
        try:
            title = str(read_template(path).get("title") or "")
        except XlgdError as e:  # a broken ./templates/x.toml must not break --help
            title = f"(unreadable: {e})"
        lines.append(f"  {name:<15} {' '.join(title.split())}".rstrip())
    return "templates (xlgd generate NAME):\n" + ("\n".join(lines) or "  none found")


class ListTemplatesHelp(argparse.Action):
    """-h/--help with the template list appended. The list is read only when
    help is asked for: reading templates imports the engine (0.3 s), which
    every other xlgd command would otherwise pay at start-up."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show this help and the templates, then exit")

    def __call__(self, parser, namespace, values, option_string=None):
        parser.epilog = templates_help()
        parser.print_help()
        parser.exit()


def add_parser(sub):
    p = sub.add_parser("generate", help="write a graddesc-style workbook from a template",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False)
    p.add_argument("-h", "--help", action=ListTemplatesHelp)
    p.add_argument("template", nargs="?", default="graddesc",
                   help="a template name (listed below) or a path to a .toml file (default: graddesc)")
    p.add_argument("-o", "--output", help="where to write the workbook (default: output/TEMPLATE.xlsx)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KNOB=VALUE",
                   help="override a knob on every sheet that has it; SHEET.KNOB=VALUE for one sheet")
    p.add_argument("--epochs", type=int, help="number of epochs (passes over the data) on every sheet")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)
    return p


def run(args):
    from ..pipeline import build
    from ..recipe.template import Overrides, load_recipe

    if args.output is not None and not args.output.strip():
        raise XlgdError("-o/--output is empty; give the workbook's path (or leave -o out for output/NAME.xlsx)")
    recipe = load_recipe(args.template, Overrides.parse(args.sets, args.epochs))
    out = Path(args.output) if args.output else Path("output") / f"{recipe.name}.xlsx"
    if out.exists() and out.is_dir():
        raise XlgdError(f"output path {out} is a directory")
    if out.suffix.lower() not in (".xlsx",):
        raise XlgdError(f"output must be an .xlsx file, got {out.name}")
    t0 = time.perf_counter()
    total = sum(s.n_steps for s in recipe.sheets)
    show = not args.quiet and not args.json and sys.stderr.isatty() and total > 20000
    try:
        results = build(recipe, out, progress=_progress() if show else None)
    except OSError as e:
        why = e.strerror or str(e)
        if isinstance(e, FileExistsError):
            why = f"{e.filename} is a file, not a directory"
        raise XlgdError(f"cannot write {out}: {why}") from None
    elapsed = time.perf_counter() - t0
    summary = results.summary(recipe)
    if args.json:
        json.dump({"output": str(out), "seconds": round(elapsed, 3), "sheets": [s.as_dict() for s in summary]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.quiet:
        print(f"wrote {out} ({len(recipe.sheets)} sheets, {total:,} step rows, {elapsed:.1f}s)")
        for s in summary:
            print(f"  {s.sheet:<12} {s.optimizer:<9} {s.epochs} epochs: {_outcome(s, len(recipe.data))}")
    return 0


def _progress():
    last = [0.0]

    def progress(sheet, i, n):
        now = time.perf_counter()
        if now - last[0] > 0.5 or i == n:
            last[0] = now
            sys.stderr.write(f"\r  {sheet}: {i:,}/{n:,} rows")
            if i == n:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return progress


def _outcome(s, n) -> str:
    """One sheet's line: where it exploded, or its final mean error."""
    boom = s.first_explosion_step
    if boom:
        tail = (f"exploded at step {boom} (epoch {(boom - 1) // n + 1}, row {(boom - 1) % n + 1}: "
                f"err^2 {'overflowed' if boom == s.first_error_step else '> %g' % s.explode_at})")
        if s.first_error_step and s.first_error_step != boom:
            tail += f"; #NUM! cells from step {s.first_error_step}"
        return tail
    if s.first_error_step:
        return f"error cells from step {s.first_error_step}"
    return f"final mean err^2 {s.final_mse:.6g}"

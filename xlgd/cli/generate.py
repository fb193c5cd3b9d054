"""`xlgd generate`: write a graddesc-style workbook from a template."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import XlgdError

# Rows from which a run shows its progress: graddesc with --epochs 200 (29,000 rows) takes 30-50 s on a
# loaded 2-core machine; at 20,000 rows a run takes long enough to wonder whether it is still going.
LONG_RUN = 20000

HELP = """\
Write a workbook: an intro sheet, a data sheet, and one sheet per
(model, optimiser) of the template, one row per SGD step, every
computed cell a live formula with its value cached.

examples:
  xlgd generate                                  # template graddesc -> output/graddesc.xlsx
  xlgd generate graddesc --set lr=0.001          # every sheet that has an lr
  xlgd generate graddesc --set adam.lr=0.05 --epochs 10 -o /tmp/adam.xlsx
  xlgd generate my-experiment.toml --json        # a summary for scripts

an existing output is replaced only if it is xlgd's own workbook, untouched
since xlgd wrote it (a digest in its hidden _xlgd record says so); a workbook
someone edited, or another program's, is kept: exit 2, unless --force.

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
    help is asked for: reading templates imports the engine, which
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
    p.add_argument("--force", action="store_true",
                   help="replace the output even if it was edited since xlgd wrote it, or is not xlgd's")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)
    return p


def run(args):
    from ..book.intro import plural
    from ..pipeline import build, refuse_edited
    from ..recipe.template import Overrides, load_recipe

    if args.output is not None and not args.output.strip():
        raise XlgdError("-o/--output is empty; give the workbook's path (or leave -o out for output/NAME.xlsx)")
    recipe = load_recipe(args.template, Overrides.parse(once(args.sets), args.epochs))
    out = Path(args.output) if args.output else Path("output") / f"{recipe.name}.xlsx"
    if out.exists() and out.is_dir():
        raise XlgdError(f"output path {out} is a directory")
    if out.suffix.lower() not in (".xlsx",):
        raise XlgdError(f"output must be an .xlsx file, got {out.name}")
    if not args.force:
        refuse_edited(out, "--force replaces it; -o PATH writes elsewhere")
    t0 = time.perf_counter()
    total = sum(s.n_steps for s in recipe.sheets)
    progress = None
    if not args.quiet and not args.json and total > LONG_RUN:
        progress = Progress(total)
        progress.start(len(recipe.sheets))
    try:
        results = build(recipe, out, progress=progress)
    except OSError as e:
        why = e.strerror or str(e)
        if isinstance(e, FileExistsError):
            why = f"{e.filename} is a file, not a directory"
        raise XlgdError(f"cannot write {out}: {why}") from None
    finally:
        if progress:
            progress.finish()
    elapsed = time.perf_counter() - t0
    size = out.stat().st_size
    summary = results.summary(recipe)
    if args.json:
        json.dump({"output": str(out), "bytes": size, "seconds": round(elapsed, 3),
                   "sheets": [s.as_dict() for s in summary]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.quiet:
        print(f"wrote {out} ({file_size(size)}, {len(recipe.sheets)} sheets, {total:,} step rows, {elapsed:.1f}s)")
        for s in summary:
            print(f"  {s.sheet:<12} {s.optimizer:<9} {plural(s.epochs, 'epoch')}: {_outcome(s, len(recipe.data))}")
    return 0


def once(sets: list) -> list:
    """The --set texts, after refusing a knob set twice (which value would win is nobody's guess)."""
    seen = {}
    for item in sets:
        key = item.split("=", 1)[0].strip() if "=" in item else None
        if key in seen:
            raise XlgdError(f"--set {key} is given twice ({seen[key]} and {item.strip()}); give each knob once")
        if key is not None:
            seen[key] = item.strip()
    return sets


def file_size(size: int) -> str:
    """1,234 bytes -> '1.2 kB'; 109,000,000 -> '109.0 MB' (powers of 1000, as file managers show them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


class Progress:
    """Where a long run is, on stderr: a bar on a terminal, a few plain lines otherwise.

    A notebook or a pipe has no terminal to redraw a bar on (carriage returns
    pile up or are lost), so there it gets one line per quarter of the rows
    written. The writer
    calls `progress(sheet, rows done, rows)`, sheet after sheet; the bar counts
    the rows of all sheets, so it only moves forward."""

    QUARTERS = (25, 50, 75, 100)
    WIDTH = 30

    def __init__(self, total: int, stream=None, clock=time.perf_counter):
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.tty = self.stream.isatty()
        self.done = {}
        self.quarter = 0
        self.drawn = None

    def start(self, sheets: int):
        from ..book.intro import plural

        self._say(f"xlgd: computing {plural(sheets, 'sheet')}, {self.total:,} step rows")

    def __call__(self, sheet, i, n):
        self.done[sheet] = i
        rows = sum(self.done.values())
        pct = 100 * rows / self.total
        if self.tty:
            now = self.clock()
            if self.drawn is None or now - self.drawn >= 0.2 or rows == self.total:
                self.drawn = now
                k = round(self.WIDTH * rows / self.total)
                self.stream.write(f"\r  writing {sheet:<12.12} [{'#' * k}{'.' * (self.WIDTH - k)}] {pct:3.0f}%  "
                                  f"{rows:,}/{self.total:,} rows")
                self.stream.flush()
            return
        while self.quarter < len(self.QUARTERS) and pct >= self.QUARTERS[self.quarter]:
            self._say(f"xlgd: written {self.QUARTERS[self.quarter]}% ({rows:,} of {self.total:,} step rows, "
                      f"sheet {sheet})")
            self.quarter += 1

    def finish(self):
        if self.tty and self.drawn is not None:
            self.stream.write("\n")
            self.stream.flush()

    def _say(self, line):
        if self.tty:
            self.stream.write(f"\r{line}\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _outcome(summary, rows_per_epoch) -> str:
    """One sheet's line: where it exploded, or its final mean error."""
    boom = summary.first_explosion_step
    if boom:
        epoch, row = divmod(boom - 1, rows_per_epoch)
        tail = (f"exploded at step {boom} (epoch {epoch + 1}, row {row + 1}: "
                f"err^2 {'overflowed' if boom == summary.first_error_step else '> %g' % summary.explode_at})")
        if summary.first_error_step and summary.first_error_step != boom:
            tail += f"; #NUM! cells from step {summary.first_error_step}"
        return tail
    if summary.first_error_step:
        return f"error cells from step {summary.first_error_step}"
    return f"final mean err^2 {summary.final_mse:.6g}"

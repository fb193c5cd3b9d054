"""The intro sheet: what the workbook is, how to read a sheet, and every sheet in tab order.

LibreOffice does not grow a row to fit wrapped text when it opens a file
(Excel does when it recalculates the row), so every row gets its height
here, from an estimate of how many lines its text wraps to.
"""

from __future__ import annotations

import math

from ..core.chart_columns import CHART_MAX
from ..core.models import get_model
from ..core.optimizers import get_optimizer
from ..layout import Layout
from ..recipe import record
from ..xlsx.refs import quote_sheet
from .formats import BIG, ORANGE, RED
from .happened import NEVER, exploded_cell, happened_text
from .printing import print_table

LABEL_WIDTH, TEXT_WIDTH, LR_WIDTH = 20, 80, 10
# Characters of ordinary text per line of a TEXT_WIDTH column (its width counts '0's, wider than most
# letters): LibreOffice fits 98-100 of the intro's characters on a line (its PDF); fewer, to be safe.
LINE_CHARS = 92
LINE_HEIGHT = 15  # points, the default row height of an 11-point font
SHEETS = "Sheets, in tab order"
HAPPENED = "What happened"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def row_height(text: str) -> float:
    lines = sum(max(1, math.ceil(len(part) / LINE_CHARS)) for part in text.split("\n"))
    return LINE_HEIGHT * lines + 3


def sheet_line(spec) -> str:
    """One model sheet, for the intro's sheet list: model, optimiser and setting (its lr is a live cell beside)."""
    m, o = get_model(spec.model), get_optimizer(spec.optimizer)
    return (f"{m.formula} ({m.doc}); {spec.optimizer}: {o.doc}. {spec.convention} convention, "
            f"{'analytic' if spec.grad == 'analytic' else 'forward-difference'} gradients, "
            f"{plural(spec.epochs, 'epoch')}.")


def sheet_list(recipe, grids) -> list[tuple[str, str]]:
    """(sheet, what it holds) for every sheet of the workbook, in tab order (book/write.py writes them so)."""
    out = [("intro", "This page."),
           ("data", f"The {len(recipe.data)} (x, y) pairs every sheet learns from; y = true_a*x + true_b.")]
    out += [(g.name, g.title + ".") for g in grids]
    out += [(s.name, sheet_line(s)) for s in recipe.sheets]
    out.append((record.META_SHEET, "Hidden: what this workbook was made from, so `xlgd verify`, `xlgd diff` and "
                                   "`xlgd charts regenerate` can rebuild it, and a digest of what xlgd wrote, so "
                                   "`xlgd generate` never writes over your edits."))
    return out


def how_to_read(recipe) -> list[tuple[str, str]]:
    """The general lines: one row, epochs, knobs, charts; the colours where a sheet has the stability column."""
    fd = any(c.name.startswith("est_") for s in recipe.sheets for c in s.columns)
    stab = any(s.stability for s in recipe.sheets)
    deriv = ("the forward-difference estimates (e(w+h) - e)/h beside the analytic derivatives, " if fd
             else "the derivatives, ")
    lines = [
        ("How to read a sheet", "One row is one SGD step on one data row. Left to right: the step and epoch, "
                                f"the data (x, y), the weights this row uses, the prediction and its squared error, "
                                f"{deriv}the optimiser's state, and the new weights, which the next row uses."),
        ("Epochs", "Epochs are unrolled downward: the first row of epoch 2 starts from the last row of epoch 1 "
                   "(weights and optimiser state). No macros: everything recalculates live."),
        ("Change a knob", "The yellow cells in row 3 of each sheet are inputs with names (lr, "
                          + ("beta1, h, " if fd else "beta1, ") + "a_init...). Type a new value and watch every "
                          "step, chart and epoch total follow."),
        ("Row 6", "The start row: the weights and optimiser state ahead of the first step."),
        ("Epoch block", "Right of the steps: one row per epoch, with its mean squared error."),
        ("Charts", "Error per step and per epoch (log axes: an error from 1 to 1e230 stays readable), the weights, "
                   "the derivative of the last weight (with its momentum where the optimiser keeps one), and the "
                   "fit: data and prediction against x. They draw the '(chart)' columns at the right of the steps: "
                   f"#N/A (a gap) where a value overflowed or lies beyond +-chart_max (an input in row 3, "
                   f"{CHART_MAX:g} by default), "
                   "so one exploded point does not flatten the others. Every series is a link to cells."),
        ("Big numbers", f"From {BIG:,.0f} on, a number shows in scientific notation (1.23E+05): a weight of "
                        "9e230 still fits its column."),
    ]
    if stab:
        lines += [
            ("Stability column", "lr*|dpred/dw|^2 (sheets with stability = true): the step this row takes, "
                                 "measured against the row's own target. Past the optimiser's bound (1 for SGD, "
                                 "(1+beta1)/(1-beta1) with momentum) the step overshoots: the row's error after "
                                 "the step is larger than it was. 'exploded at' carries the first step whose err^2 "
                                 "overflowed or passed explode_at."),
            ("Orange row", "Past the bound: this row's step overshoots its own target."),
            ("Red row", "The runaway: err^2 grew tenfold in this step, on a row past the bound that follows a row "
                        "past the bound (the self-reinforcing loop), or err^2 overflowed to #NUM!."),
        ]
    return lines


def happened_rows(recipe, facts: dict) -> list[tuple[str, str]]:
    """(sheet, what happened) for each sheet where something went wrong, under a heading; [] if none."""
    rows = [(s.name, happened_text(s, facts.get(s.name), recipe.hint)) for s in recipe.sheets]
    rows = [(a, b) for a, b in rows if b]
    return [("", ""), (HAPPENED, "")] + rows if rows else []


def write_intro(workbook, formats, recipe, grids, facts: dict | None = None):
    """The intro sheet, first in the workbook and the one it opens on.

    facts: {sheet: `recipe.facts.SheetFacts` or None}, what happened on each sheet."""
    ws = workbook.add_worksheet("intro")
    ws.set_column(0, 0, LABEL_WIDTH)
    ws.set_column(1, 1, TEXT_WIDTH)
    ws.set_column(2, 2, LR_WIDTH)
    swatch = {"Orange row": formats.conditional(ORANGE), "Red row": formats.conditional(RED)}
    rows = [(recipe.title, None),
            ("", recipe.description or "Gradient descent in a spreadsheet: every number is a formula you can "
                                       "click on."), ("", "")]
    rows += how_to_read(recipe) + happened_rows(recipe, facts or {}) + [("", ""), (SHEETS, "")]
    rows += sheet_list(recipe, grids)
    rows += [("", ""),
             ("Conventions", "graddesc = Jeremy Howard's workbook (no eps, no bias correction, RMSProp divides by "
                             "the previous row's mean square). torch = what torch.optim computes (eps, bias "
                             "correction)."),
             ("Made by", "xlgd -- `xlgd verify` checks every cell of this workbook, even after you edit it.")]
    specs = {s.name: s for s in recipe.sheets}
    section = None
    for r, (a, b) in enumerate(rows):
        if a:
            ws.write_string(r, 0, a, formats.title if r == 0 else swatch.get(a, formats.bold_top))
        if b:
            ws.write_string(r, 1, b, formats.wrap)
            ws.set_row(r, row_height(b))
        if a in (SHEETS, HAPPENED):
            section = a
            ws.write_string(r, 2, "lr" if a == SHEETS else "exploded at", formats.bold_top)
        elif section == HAPPENED and a in specs:
            cell = exploded_cell(Layout(specs[a]))
            if cell is not None:
                # A link: the step the sheet explodes at now (or "never"), after an edit of its lr too.
                ws.write_formula(r, 2, f"={quote_sheet(a)}!{cell}", formats.num(NEVER, "top"),
                                 float((facts or {}).get(a).exploded or 0))
        elif a in specs and "lr" in specs[a].input_values():
            # A link, not a copy: it shows the lr the sheet runs at now, after an edit too.
            spec = specs[a]
            ws.write_formula(r, 2, f"={quote_sheet(a)}!{Layout(spec).input_abs('lr')}", formats.num("General", "top"),
                             spec.input_values()["lr"])
    print_table(ws, len(rows) - 1, 2, landscape=False, gridlines=False)
    ws.activate()
    return ws

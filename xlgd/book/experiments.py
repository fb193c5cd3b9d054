"""Writing the experiment grids (`recipe/experiments.py`) as worksheets with charts.

A grid cell's expression becomes formula text here (its leaves rendered to
addresses through each sheet's `Layout`); its cached value is the one
`compute` evaluated. Every chart series is a link to cells.
"""

from __future__ import annotations

from ..core.expr import EpochCell, Expr, GridCell, Name, SheetInput, StepCell, excel
from ..layout import Layout
from ..recipe.experiments import HEAD_ROW, grids
from ..xlsx.refs import col_letter, quote_sheet
from .charts import CHART_H, CHART_W, chart_rows, make_chart
from .formats import add_rules
from .printing import print_table

EXP_CHART_H = CHART_H + 60


def render(expr: Expr, layouts: dict) -> str:
    """The formula text of one grid cell; layouts: {sheet name: Layout} of the recipe's sheets."""

    def r(leaf):
        if isinstance(leaf, Name):
            return leaf.name
        if isinstance(leaf, GridCell):
            return f"{col_letter(leaf.col)}{leaf.row + 1}"
        lay = layouts[leaf.sheet]
        sheet = quote_sheet(leaf.sheet)
        if isinstance(leaf, StepCell):
            return f"{sheet}!{lay.letter(leaf.col)}{lay.step_row(leaf.step)}"
        if isinstance(leaf, EpochCell):
            return f"{sheet}!{lay.epoch_letter(leaf.col)}{lay.epoch_row(leaf.epoch)}"
        if isinstance(leaf, SheetInput):
            return f"{sheet}!{lay.input_abs(leaf.name)}"
        raise TypeError(f"an experiment cell cannot refer to {leaf!r}")

    return "=" + excel(expr, r)


def extra_cells(recipe, results) -> dict:
    """{extra sheet: [(row, col, formula, value)]}, 0-based, like layout.formula_cells.

    results: the `compute.Results` of the recipe (its grid values)."""
    layouts = {s.name: Layout(s) for s in recipe.sheets}
    out = {}
    for g in grids(recipe):
        vals = results.grids[g.name]
        out[g.name] = [(r, c, render(p, layouts), vals[(r, c)])
                       for (r, c), (kind, p, _) in sorted(g.cells.items()) if kind == "formula"]
    return out


def write_grids(workbook, formats, recipe, results, experiment_grids=None):
    """One worksheet per experiment grid; values from `results.grids` (computed, never here).

    experiment_grids: `recipe.experiments.grids(recipe)`, when the caller has them already."""
    layouts = {s.name: Layout(s) for s in recipe.sheets}
    for g in grids(recipe) if experiment_grids is None else experiment_grids:
        vals = results.grids[g.name]
        ws = workbook.add_worksheet(g.name)
        g.text(0, 0, g.title, "title")
        if g.hint:
            g.text(HEAD_ROW - 1, 0, g.hint, "hint")
        for c, wdt in g.widths.items():
            ws.set_column(c, c, wdt)
        for nm, (r, c) in g.names.items():
            workbook.define_name(f"{quote_sheet(g.name)}!{nm}", f"={quote_sheet(g.name)}!${col_letter(c)}${r + 1}")
        # constant_memory: rows must be written top to bottom.
        for (r, c), (kind, p, fmt) in sorted(g.cells.items()):
            fm = _fmt(formats, fmt)
            if kind == "text":
                ws.write_string(r, c, p, fm)
            elif kind == "num":
                ws.write_number(r, c, p, fm)
            else:
                v = vals[(r, c)]
                ws.write_formula(r, c, render(p, layouts), fm, v if isinstance(v, str) else float(v))
        ws.freeze_panes(HEAD_ROW + 1, 1)
        last_row, last_col = max(r for r, _ in g.cells), max(c for _, c in g.cells)
        add_rules(ws, formats, (HEAD_ROW + 1, 1, last_row, last_col), big_cell=f"B{HEAD_ROW + 2}")
        print_table(ws, last_row, last_col, HEAD_ROW)
        for ch, (row, col) in zip(g.charts, _placed(g.charts)):
            _chart(workbook, ws, g, ch, vals, row, col)


def _fmt(formats, fmt):
    if fmt == "header":
        return formats.header
    if fmt == "title":
        return formats.title
    if fmt == "label":
        return formats.label
    if fmt == "hint":
        return formats.hint
    if fmt == "plain":
        return None
    if fmt == "input":
        return formats.num("General", "input")
    return formats.num(fmt)


def _range(sheet, col, first_row, last_row):
    L = col_letter(col)
    return f"={quote_sheet(sheet)}!${L}${first_row + 1}:${L}${last_row + 1}"


def _data(g, vals, col, first_row, last_row):
    out = []
    for r in range(first_row, last_row + 1):
        kind = g.cells.get((r, col), (None,))[0]
        if kind == "num":
            out.append(g.cells[(r, col)][1])
        elif kind == "formula":
            v = vals[(r, col)]
            out.append(None if isinstance(v, str) else float(v))
        else:
            out.append(None)
    return out


def _placed(charts) -> list:
    """0-based (row, col) of each chart: its recipe anchor, pushed below the
    charts already placed in that column so that no two overlap."""
    free, out = {}, []
    for ch in charts:
        row = max(ch.anchor[0] + HEAD_ROW, free.get(ch.anchor[1], 0))
        free[ch.anchor[1]] = row + chart_rows(EXP_CHART_H)
        out.append((row, ch.anchor[1]))
    return out


def _chart(workbook, worksheet, g, ch, vals, row, col):
    c = {"title": ch.title, "x_title": ch.x_title, "y_title": ch.y_title, "log_y": ch.log_y,
         "series": [{"name": s.name, "cat": _range(*s.cat)[1:], "val": _range(*s.val)[1:],
                     "cat_data": _data(g, vals, s.cat[1], s.cat[2], s.cat[3]),
                     "val_data": _data(g, vals, s.val[1], s.val[2], s.val[3])} for s in ch.series]}
    chart = make_chart(workbook, c)
    chart.set_size({"width": CHART_W + 120, "height": EXP_CHART_H})
    worksheet.insert_chart(row, col, chart)

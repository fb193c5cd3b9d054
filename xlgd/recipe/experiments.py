"""The extra sheets a template asks for with `[[extras]]`: the learners' experiments.

    [[extras]]
    kind = "comparison"    # errors of several sheets per step on one chart, and
                           # linear2's collapsed line (a*c, c*b+d) beside linear's a, b
    kind = "sweep"         # one sheet trained at several learning rates, a chart and a summary
    kind = "sine"          # sin(x), its EMA and fastai's debiased EMA against x
    kind = "derivatives"   # one weight's derivative: no ReLU / ReLU / under mom / mom

Each extra sheet is an `ExperimentGrid` of cells; a computed cell is an expression whose leaves
name another sheet's cell (`StepCell`, `EpochCell`, `SheetInput`), a cell of this grid (`GridCell`)
or a `Name` defined on it. One tree gives the formula text (`book/experiments.py`) and the value
the spreadsheet will show (`evaluate`). Errors are charted through IF(ISERROR(v), NA(), v): #N/A is
the one error value charts skip.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..core.chart_columns import CHART_MAX, clipped, gap_errors, positive
from ..core.expr import (
    EpochCell,
    Fn,
    GridCell,
    Name,
    Num,
    SheetInput,
    StepCell,
    excel_value,
)
from ..errors import XlgdError
from .validate import EXCEL_ROWS, RESERVED

KINDS = ("comparison", "sweep", "sine", "derivatives")
SWEEP_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
HEAD_ROW = 4  # 0-based row of the column headers on an extra sheet; data below


def ref(sheet, col, step) -> StepCell:
    return StepCell(sheet, col, step)


def _cfgs(tpl) -> list[dict]:
    ex = tpl.get("extras") or []
    if isinstance(ex, dict):
        ex = [ex]
    if not isinstance(ex, list) or not all(isinstance(e, dict) for e in ex):
        raise XlgdError("extras must be a list of tables ([[extras]] with a kind)")
    for e in ex:
        if e.get("kind") not in KINDS:
            raise XlgdError(f"unknown extra sheet kind {e.get('kind')!r}; choose one of: {', '.join(KINDS)}")
    return ex


# ------------------------------------------------------------------ template
def expand_sheets(tpl: dict) -> list[dict]:
    """The template's [[sheets]], with each sweep's base sheet replaced by one sheet per lr."""
    sheets = [dict(s) for s in (tpl.get("sheets") or [])]
    for e in _cfgs(tpl):
        if e["kind"] != "sweep":
            continue
        base = e.get("sheet")
        idx = [i for i, s in enumerate(sheets) if s.get("name") == base]
        if not idx:
            raise XlgdError(f"sweep: no [[sheets]] named {base!r} to sweep")
        lrs = sweep_lrs(e)
        s = sheets[idx[0]]
        out = []
        for j, lr in enumerate(lrs):
            t = copy.deepcopy(s)
            t["name"] = f"{base}_{j + 1}"
            t.setdefault("knobs", {})
            t["knobs"] = dict(t["knobs"], lr=lr)
            t["stability"] = True  # the chart and summary read its err_chart and boom columns
            t["title"] = (s.get("title") or f"{s.get('model', 'linear')} / {s.get('optimizer', 'sgd')}") + \
                f"  --  lr sweep {j + 1} of {len(lrs)}: lr = {lr:g}"
            out.append(t)
        sheets[idx[0]:idx[0] + 1] = out
    return sheets


def sweep_lrs(extra) -> list[float]:
    lrs = extra.get("lr", list(SWEEP_GRID))
    if not isinstance(lrs, list) or not lrs:
        raise XlgdError("sweep: lr must be a non-empty list of learning rates")
    out = []
    for v in lrs:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise XlgdError(f"sweep: every lr must be a positive number, got {v!r}")
        out.append(float(v))
    return out


def sweep_groups(recipe) -> list[tuple[dict, list]]:
    """(sweep config, [its SheetSpecs in lr order]) for each sweep of a recipe."""
    by = {s.name: s for s in recipe.sheets}
    groups = []
    for e in _cfgs(recipe.resolved):
        if e["kind"] == "sweep":
            n = len(sweep_lrs(e))
            groups.append((e, [by[f"{e['sheet']}_{j + 1}"] for j in range(n)]))
    return groups


def check_rows(recipe) -> None:
    """Every extra sheet fits above Excel's last row, checked ahead of any work. Only a sweep's
    summary can pass it: it lists each step of its sheets below its table of lrs, while a
    comparison or derivatives table starts above a step sheet's first step and a sine grid has at
    most 100,000 rows."""
    for e, specs in sweep_groups(recipe):
        last = HEAD_ROW + len(specs) + 3 + max(s.n_steps for s in specs)  # 0-based: `sweep`'s t0 + n
        if last >= EXCEL_ROWS:
            raise XlgdError(f"sweep of sheet {e['sheet']}: its summary needs {last + 1:,} rows, past Excel's last "
                            f"row ({EXCEL_ROWS:,}); use fewer epochs or fewer lrs")


# ------------------------------------------------------------------ grids
@dataclass
class ExperimentSeries:
    name: str
    cat: tuple  # (sheet, col, r1, r2) 0-based cells
    val: tuple


@dataclass
class ExperimentChart:
    title: str
    type: str  # scatter: every x of an experiment chart is a number (book/charts.make_chart)
    x_title: str
    y_title: str
    series: list
    log_y: bool = False
    anchor: tuple = (0, 0)


@dataclass
class ExperimentGrid:
    name: str
    title: str
    hint: str = ""
    names: dict = field(default_factory=dict)  # defined name -> (row, col)
    cells: dict = field(default_factory=dict)  # (row, col) -> ("num"|"text"|"formula", payload, fmt)
    widths: dict = field(default_factory=dict)
    charts: list = field(default_factory=list)

    def text(self, row, col, content, fmt="header"):
        self.cells[(row, col)] = ("text", content, fmt)

    def number(self, row, col, value, fmt="0.####"):
        self.cells[(row, col)] = ("num", float(value), fmt)

    def formula(self, row, col, expr, fmt="0.0000"):
        self.cells[(row, col)] = ("formula", expr, fmt)

    def input(self, row, col, name, value):
        self.text(row - 1, col, name, "label")
        self.cells[(row, col)] = ("num", float(value), "input")
        self.names[name] = (row, col)


class Sheets:
    """What the experiment grids can see of a recipe: its sheets by name."""

    def __init__(self, recipe):
        self.recipe = recipe
        self.specs = {s.name: s for s in recipe.sheets}

    def spec(self, name, what):
        if name not in self.specs:
            raise XlgdError(f"{what}: no sheet named {name!r} (sheets: {', '.join(self.specs)})")
        return self.specs[name]


def evaluate(grid: ExperimentGrid, recipe, results: dict, dialect: str = "excel") -> dict:
    """{(row, col): value or error code} for every formula cell, in grid order.

    results: {sheet name: engine Result} of the recipe's sheets."""
    specs = {s.name: s for s in recipe.sheets}
    vals = {}

    def env(leaf):
        if isinstance(leaf, Name):
            return vals[grid.names[leaf.name]]
        if isinstance(leaf, GridCell):
            return vals[(leaf.row, leaf.col)]
        if isinstance(leaf, SheetInput):
            return float(specs[leaf.sheet].input_values()[leaf.name])
        res = results[leaf.sheet]
        if isinstance(leaf, StepCell):
            return float(res.start[leaf.col]) if leaf.step < 0 else res.value(leaf.col, leaf.step)
        if isinstance(leaf, EpochCell):
            return res.value("@" + leaf.col, leaf.epoch)
        raise TypeError(f"an experiment cell cannot refer to {leaf!r}")

    for (r, c), (kind, payload, _) in sorted(grid.cells.items()):
        if kind == "num":
            vals[(r, c)] = payload
        elif kind == "formula":
            vals[(r, c)] = excel_value(payload, env, dialect)
    return vals


# ------------------------------------------------------------------ the four kinds
def _steps_table(grid, first_col, columns, n_steps):
    """Write a step column and one column per (header, expr-of-step-i), charted; returns col ranges."""
    top = HEAD_ROW + 1
    grid.text(HEAD_ROW, 0, "step")
    grid.widths[0] = 7
    for i in range(n_steps):
        grid.number(top + i, 0, i + 1, "0")
    for j, (header, fn, fmt) in enumerate(columns):
        c = first_col + j
        grid.text(HEAD_ROW, c, header)
        grid.widths[c] = 13
        for i in range(n_steps):
            e = fn(i)
            if e is not None:
                grid.formula(top + i, c, e, fmt)
    return top, top + n_steps - 1


def comparison(sheets, extra) -> ExperimentGrid:
    names = extra.get("sheets") or [s.name for s in sheets.recipe.sheets]
    specs = [sheets.spec(n, "comparison") for n in names]
    n = max(s.n_steps for s in specs)
    g = ExperimentGrid(extra.get("name", "compare"), "The same data, the same lr, the same start: error per step of each sheet",
                       "err^2 per step of each sheet (#N/A where it overflowed, so the chart skips it). Right: the line "
                       "linear2 has learned, collapsed to one neuron (slope a*c, intercept c*b+d), beside linear's a and b, "
                       "on a log axis so one exploded value does not flatten the others (#N/A at 0 or below, where a log "
                       "axis cannot go, and beyond chart_max).")
    cols = []
    for s in specs:
        cols.append((f"err^2 {s.name}", lambda i, s=s: gap_errors(ref(s.name, "err", i)) if i < s.n_steps else None,
                     "#,##0.00"))
    one, two = extra.get("one_neuron"), extra.get("two_neuron")
    if one and two:
        g.input(2, 1, "chart_max", CHART_MAX)
        o, t = sheets.spec(one, "comparison"), sheets.spec(two, "comparison")
        if tuple(o.params) != ("a", "b") or not {"a", "b", "c", "d"} <= set(t.params):
            raise XlgdError("comparison: one_neuron must be a linear sheet and two_neuron a linear2/relu2 sheet")
        ok = lambda s, i: i < s.n_steps  # noqa: E731
        cols += [
            (f"slope a ({one})", lambda i: positive(ref(one, "a", i)) if ok(o, i) else None, "0.0000"),
            (f"slope a*c ({two})", lambda i: positive(ref(two, "a", i) * ref(two, "c", i)) if ok(t, i) else None,
             "0.0000"),
            (f"intercept b ({one})", lambda i: positive(ref(one, "b", i)) if ok(o, i) else None, "0.0000"),
            (f"intercept c*b+d ({two})",
             lambda i: positive(ref(two, "c", i) * ref(two, "b", i) + ref(two, "d", i)) if ok(t, i) else None,
             "0.0000"),
        ]
    top, bot = _steps_table(g, 1, cols, n)
    cat = (g.name, 0, top, bot)
    k = len(specs)
    g.charts.append(ExperimentChart(
        "err^2 per step (log scale)", "scatter", "step", "err^2",
        [ExperimentSeries(s.name, cat, (g.name, 1 + j, top, bot)) for j, s in enumerate(specs)], log_y=True,
        anchor=(1, len(cols) + 2)))
    if one and two:
        g.charts.append(ExperimentChart(f"The learned line: {one} (a, b) and {two} collapsed (a*c, c*b+d)", "scatter",
                              "step", "value (log scale)",
                              [ExperimentSeries(cols[k + j][0], cat, (g.name, 1 + k + j, top, bot)) for j in range(4)],
                              log_y=True, anchor=(17, len(cols) + 2)))
    return g


def sweep(extra, specs) -> ExperimentGrid:
    lrs = sweep_lrs(extra)
    base = extra["sheet"]
    g = ExperimentGrid(extra.get("name", f"{base}_summary"),
                       f"Learning-rate sweep: {specs[0].title.split('  --  ')[0]} at lr {lrs[0]:g} ... {lrs[-1]:g}",
                       "One row per learning rate: its sheet, lr (linked to that sheet's lr cell), the last epoch's mean "
                       "err^2, and the first step whose err^2 overflowed or passed explode_at (- : never).")
    hdr = ["sheet", "lr", "final mean err^2", "first exploding step", "explode_at"]
    for c, h in enumerate(hdr):
        g.text(HEAD_ROW, c, h)
        g.widths[c] = 16
    top = HEAD_ROW + 1
    for j, s in enumerate(specs):
        r = top + j
        g.text(r, 0, s.name, "plain")
        g.formula(r, 1, SheetInput(s.name, "lr"), "0.00000")
        g.formula(r, 2, EpochCell(s.name, "mse", s.epochs - 1), "#,##0.0000")
        g.formula(r, 3, ref(s.name, "boom", s.n_steps - 1), "0;-0;\"-\"")
        g.formula(r, 4, SheetInput(s.name, "explode_at"), "0.0E+0")
    # The error per step of every lr, side by side and charted.
    t0 = top + len(specs) + 2
    n = max(s.n_steps for s in specs)
    g.text(t0, 0, "step")
    g.text(t0 - 1, 0, "err^2 per step at each lr (#N/A past overflow)", "hint")
    for i in range(n):
        g.number(t0 + 1 + i, 0, i + 1, "0")
    for j, s in enumerate(specs):
        g.text(t0, 1 + j, f"lr {lrs[j]:g}")
        g.widths[1 + j] = max(g.widths.get(1 + j, 0), 13)
        for i in range(s.n_steps):
            g.formula(t0 + 1 + i, 1 + j, gap_errors(ref(s.name, "err", i)), "#,##0.00")
    bot = t0 + n
    cat = (g.name, 0, t0 + 1, bot)
    g.charts.append(ExperimentChart(
        f"err^2 per step at each learning rate ({base}, log scale)", "scatter", "step", "err^2",
        [ExperimentSeries(f"lr {lrs[j]:g}", cat, (g.name, 1 + j, t0 + 1, bot)) for j in range(len(specs))],
        log_y=True, anchor=(1, max(len(hdr), len(specs) + 1) + 1)))
    return g


def sine(sheets, extra) -> ExperimentGrid:
    start, stop, step, beta = (float(extra.get(k, d)) for k, d in
                               (("start", 0.0), ("stop", 20.0), ("step", 0.2), ("beta", 0.9)))
    if step == 0 or (stop - start) / step < 0 or not (0 <= beta < 1):
        raise XlgdError("sine: step must move from start towards stop, and 0 <= beta < 1")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    if count > 100000:
        raise XlgdError(f"sine: {count} rows is too many; use a larger step")
    g = ExperimentGrid(extra.get("name", "sine"), "Momentum on a wiggly line: the EMA of sin(x), and fastai's debiased EMA",
                       "ema = beta*ema(row above) + (1-beta)*sin(x), starting from 0; debiased = ema/(1-beta^t) "
                       "(fastai's debias). Change beta, start or step; the row count is fixed when the file is written.")
    for c, (nm, v) in enumerate((("start", start), ("stop", stop), ("step", step), ("beta", beta))):
        g.input(2, c, nm, v)
    hdr = ["t", "x", "sin(x)", "ema", "beta^t", "debiased ema"]
    for c, h in enumerate(hdr):
        g.text(HEAD_ROW, c, h)
        g.widths[c] = 12
    s0 = HEAD_ROW + 1  # the start row: ema 0, beta^0 = 1
    g.text(s0, 1, "start", "hint")
    g.formula(s0, 3, Num(0.0), "0.0000")
    g.formula(s0, 4, Num(1.0), "0.0000")
    here = GridCell
    b = Name("beta")
    for i in range(count):
        r = s0 + 1 + i
        g.number(r, 0, i + 1, "0")
        g.formula(r, 1, Name("start") + Name("step") * Num(i), "0.00")
        g.formula(r, 2, Fn("SIN", (here(r, 1),)), "0.0000")
        g.formula(r, 3, here(r - 1, 3) * b + (1 - b) * here(r, 2), "0.0000")
        g.formula(r, 4, here(r - 1, 4) * b, "0.000000")
        g.formula(r, 5, here(r, 3) / (1 - here(r, 4)), "0.0000")
    top, bot = s0 + 1, s0 + count
    xs = (g.name, 1, top, bot)
    g.charts.append(ExperimentChart("sin(x), its EMA and the debiased EMA, against x", "scatter", "x", "value",
                                    [ExperimentSeries(h, xs, (g.name, c, top, bot)) for c, h in ((2, "sin(x)"), (3, "ema"),
                                                                                                (5, "debiased ema"))],
                                    anchor=(1, len(hdr) + 1)))
    return g


def derivatives(sheets, extra) -> ExperimentGrid:
    w = extra.get("weight", "d")
    series = extra.get("series")
    if not series or not all(isinstance(s, list) and len(s) == 3 for s in series):
        raise XlgdError('derivatives: series must be a list of ["label", "sheet", "column"]')
    for label, sheet, col in series:
        sp = sheets.spec(sheet, "derivatives")
        if col not in {c.name for c in sp.columns}:
            raise XlgdError(f"derivatives: sheet {sheet!r} has no column {col!r}")
    n = max(sheets.specs[s].n_steps for _, s, _ in series)
    g = ExperimentGrid(extra.get("name", "derivatives"),
                       f"The derivative of weight {w}, with and without ReLU and momentum",
                       "Each column links to another sheet's cells (#N/A where that sheet overflowed or beyond +-chart_max).")
    g.input(2, 1, "chart_max", CHART_MAX)
    cols = [(label, lambda i, s=sheet, c=col: clipped(ref(s, c, i)) if i < sheets.specs[s].n_steps else None,
             "#,##0.00") for label, sheet, col in series]
    top, bot = _steps_table(g, 1, cols, n)
    g.charts.append(ExperimentChart(f"de/d{w} per step", "scatter", "step", f"de/d{w}",
                                    [ExperimentSeries(cols[j][0], (g.name, 0, top, bot), (g.name, 1 + j, top, bot))
                                     for j in range(len(cols))], anchor=(1, len(cols) + 2)))
    return g


def grids(recipe) -> list[ExperimentGrid]:
    """The experiment sheets a recipe asks for, in template order (cells as expressions, no values)."""
    sheets = Sheets(recipe)
    sweeps = dict((id(e), specs) for e, specs in sweep_groups(recipe))
    out = []
    for e in _cfgs(recipe.resolved):
        kind = e["kind"]
        if kind == "sweep":
            g = sweep(e, sweeps[id(e)])
        else:
            g = {"comparison": comparison, "sine": sine, "derivatives": derivatives}[kind](sheets, e)
        out.append(g)
    seen = {s.name.lower() for s in recipe.sheets}
    for g in out:
        if g.name.lower() in seen or g.name.lower() in RESERVED:
            raise XlgdError(f"extra sheet name {g.name!r} is taken")
        seen.add(g.name.lower())
    return out

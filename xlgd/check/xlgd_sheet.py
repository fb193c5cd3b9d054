"""Checking one sheet made by `xlgd generate`, every step cell, three ways.

* structure   -- read with the step table (`steptable.py`): each cell's
                 formula against its column's formula in R1C1 form;
* consistency -- each column's expression evaluated on whole arrays of the
                 values its references hold in the file (the column's numpy
                 source, `core/expr.py`), then the cells that disagree are
                 evaluated exactly from the formula text they hold;
* trajectory  -- the engine's run from the file's own inputs and data,
                 compared cell by cell (errors must sit where it puts them).

The start row and the epoch block are few cells: `cells.check_cells` checks
them one by one. Findings become root causes in `cells.group`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.engine import run
from ..core.expr import Col, Data, Name, magnitude, n_ops, py
from ..core.functions import numpy_namespace
from ..core.table import SheetSpec
from ..errors import XlgdError
from ..layout import DATA_FIRST_ROW, DATA_SHEET, INPUT_ROW, START_ROW, Layout
from ..recipe import record
from ..xlsx.package import Package
from ..xlsx.refs import a1
from .engine_async import engine_async, peek_inputs
from .listed_cells import (
    ROUNDED_RTOL,
    CheckContext,
    Failures,
    check_cells,
    eval_text,
    group,
)
from .report import Cause, SheetReport, agree, fmt_value, same_value, ulp_distance
from .steptable import StepTable, read_xlgd_sheet

CONSIST_ROUNDED = 4e-14  # per operation, times the formula's magnitude
ENGINE_AHEAD_ROWS = 20000  # from this many step rows on, the engine runs in a forked process meanwhile


def load_xlgd(book: Package):
    """(record, Recipe, damage) of a workbook: (None, None, None) if it has no record, and
    (None, None, why) if its record is damaged or describes nothing this xlgd can rebuild --
    the book is then checked as a workbook of unknown layout, with `why` as a warning."""
    try:
        rec = record.read(book)
        if rec is None:
            return None, None, None
        # imported here: only a workbook with xlgd's record has a recipe to rebuild
        from ..recipe.template import rebuild

        return rec, rebuild(rec), None
    except XlgdError as e:
        why = str(e).removeprefix(f"{book.path}: ")
        return None, None, f"{why}; checked without it, as a workbook of unknown layout"


@dataclass
class SheetContext:
    """One xlgd sheet under check: its spec and layout, the file's step table, its data and inputs."""

    ctx: CheckContext
    spec: SheetSpec
    lay: Layout
    data: dict  # x, y as the checks use them; file_x, file_y as the data sheet holds them
    rep: SheetReport
    table: StepTable
    inputs: dict = field(default_factory=dict)  # input name -> value as the file holds it

    def __post_init__(self):
        self.idx = {c.name: k for k, c in enumerate(self.spec.columns)}
        self.first_row = self.lay.step_row(0)

    def lookup(self, row, col):
        """A cell's value as a formula reading it sees: float, error code, or 0.0 when empty."""
        st, N = self.table, self.spec.n_steps
        i = row - self.first_row
        if 0 <= i < N and 1 <= col <= len(self.spec.columns):
            if (col - 1, i) in st.errs:
                return st.errs[(col - 1, i)]
            if not st.seen[col - 1, i]:
                return 0.0
            v = st.vals[col - 1, i]
            return 0.0 if np.isnan(v) else float(v)
        cell = st.misc.get((row, col))
        if cell is None or cell.value is None:
            return 0.0
        if isinstance(cell.value, str):
            return cell.value if cell.kind == "e" else "#VALUE!"
        return float(cell.value)

    def step_key(self, col_index, i):
        """(row, col), 1-based, of column index col_index on step i."""
        return self.lay.step_row(i), col_index + 1


def check_xlgd_sheet(ctx, spec, lay, data, rep, stale_reason, use_engine_values) -> StepTable:
    """Check every computed cell of one xlgd sheet into rep; returns the step table it read."""
    engine = None if use_engine_values else _start_engine(ctx, spec, lay, data)
    context = SheetContext(ctx, spec, lay, data, rep, read_xlgd_sheet(ctx, spec, lay))
    rep.checked += spec.n_steps * len(spec.columns)
    ctx.big[spec.name] = context.lookup
    ctx.grids[spec.name] = context.table.misc
    context.inputs = _file_inputs(context)
    found = Failures({context.step_key(*k): v for k, v in context.table.formula_fail.items()})
    res = None
    if use_engine_values:
        _take_engine_values(context)
    else:
        found.local = {context.step_key(*k): v for k, v in _consistency(context).items()}
        res = _engine_result(context, engine)  # collected after the consistency check: a big one ran meanwhile
        found.trajectory = {context.step_key(*k): v for k, v in _trajectory(context, res).items()}
    found.update(_check_edges(context, res))
    group(spec.name, rep, found, _step_order(context), stale_reason)
    if use_engine_values:
        rep.notes.append("no cached values: checked the formulas, and computed values with xlgd's own column "
                         "definitions (the embedded evaluator)")
    return context.table


def _start_engine(ctx, spec, lay, data):
    """A big sheet's engine run, started in another process while the sheet is read (or None)."""
    peeked = peek_inputs(ctx, spec, lay) if spec.n_steps >= ENGINE_AHEAD_ROWS else None
    if peeked is None:
        return None
    return peeked, engine_async(spec, data["x"], data["y"], peeked, ctx.dialect)


def _file_inputs(context: SheetContext) -> dict:
    """The input row as the file holds it, against the record (a non-number is a cause)."""
    inputs = {}
    for inp in context.spec.inputs:
        r, c = INPUT_ROW, context.lay.input_index[inp.name] + 1
        cell = context.table.misc.get((r, c))
        v = cell.value if cell is not None else None
        if not isinstance(v, float):
            context.rep.causes.append(Cause(context.spec.name, a1(r, c), "input",
                                            f"input {inp.name} in {a1(r, c)} holds {fmt_value(v)}, not a number; "
                                            f"the template said {fmt_value(inp.value)}"))
            v = inp.value
        elif v != inp.value:
            context.rep.notes.append(f"{inp.name} in {a1(r, c)} is {fmt_value(v)}, the template said "
                                     f"{fmt_value(inp.value)} -- checked with {fmt_value(v)}")
        inputs[inp.name] = v
    return inputs


def _take_engine_values(context: SheetContext):
    """No cached values in the file: the embedded evaluator's values stand in for them."""
    res = run(context.spec, context.data["x"], context.data["y"], inputs=context.inputs, dialect=context.ctx.dialect)
    for c in context.spec.columns:
        context.table.vals[context.idx[c.name]] = res.steps[c.name]
    context.table.errs = {(context.idx[k[0]], k[1]): v for k, v in res.errors.items() if not k[0].startswith("@")}


# ------------------------------------------------------------------ consistency
@dataclass
class Vectors:
    """What a column expression reads, as whole arrays over the step rows (see `_vector_eval`)."""

    start: dict  # carried column -> start-row value
    epoch_vals: dict  # epoch column -> [value per epoch]
    ep_rows: np.ndarray  # step -> its epoch
    d_idx: np.ndarray  # step -> its data row
    helpers: dict  # the engine's numpy helpers (batch form)


def _vectors(context: SheetContext) -> Vectors:
    spec, lay, N = context.spec, context.lay, context.spec.n_steps
    start_row = lay.step_row(-1)
    start = {c.name: context.lookup(start_row, context.idx[c.name] + 1) for c in spec.columns if c.init is not None}
    epoch_vals = {ec.name: np.array([context.lookup(lay.epoch_row(k), lay.epoch_index[ec.name] + 1)
                                     for k in range(spec.epochs)], dtype=object) for ec in spec.epoch_columns}
    return Vectors(start, epoch_vals, np.arange(N) // spec.n_data, np.arange(N) % spec.n_data,
                   numpy_namespace(True, context.ctx.dialect))


def _consistency(context: SheetContext) -> dict:
    """{(ci, i): (holds, its formula gives)} for step cells whose value is not their own formula's."""
    vec = _vectors(context)
    local = {}
    with np.errstate(all="ignore"):
        for c in context.spec.columns:
            comp, tol = _column_values(context, vec, c)
            for i in _disagreeing_rows(context, context.idx[c.name], comp, tol):
                found = _exact_disagreement(context, c, i, tol[i])
                if found is not None:
                    local[(context.idx[c.name], i)] = found
    _edited_cells(context, local)
    return local


def _column_values(context, vec, col):
    """The column's expression (its first-row variant on each epoch's first row) on all rows, and a tolerance."""
    N = context.spec.n_steps
    first_mask = vec.d_idx == 0
    comp, tol = np.empty(N), np.zeros(N)
    for e, mask in ((col.expr, ~first_mask if col.first is not None else None), (col.first, first_mask)):
        if e is None:
            continue
        comp_e, tol_e = _vector_eval(context, vec, e)
        if mask is None:
            comp, tol = comp_e, tol_e
        else:
            comp[mask], tol[mask] = comp_e[mask], tol_e[mask]
    return comp, tol


def _disagreeing_rows(context, col_index, comp, tol):
    have = context.table.vals[col_index]
    # NaN stands for a cell that is not a number (an error): those are checked exactly below
    bad = ~agree(have, comp, context.ctx.rtol, tol if context.ctx.rounded else None) | np.isnan(have) | np.isnan(comp)
    st = context.table
    for i in np.nonzero(bad)[0]:
        i = int(i)
        cell = st.cells.get((col_index, i))
        if (col_index, i) in st.formula_fail and cell is not None and cell.formula is None:
            continue  # a constant: the structure check says it all
        if st.seen[col_index, i]:
            yield i


def _exact_disagreement(context, col, i, tol_i):
    """(holds, want) when step i of column c is not its formula's value, evaluated exactly; else None."""
    ci = context.idx[col.name]
    cell = context.table.cells.get((ci, i))
    text = "=" + cell.formula if cell is not None and cell.formula else context.lay.formula(col.name, i)
    want = eval_text(context.ctx, context.spec.name, text)
    have = context.lookup(context.lay.step_row(i), ci + 1)
    if want is None or same_value(have, want, max(context.ctx.rtol, 1e-12 if context.ctx.rounded else 0.0)):
        return None
    if isinstance(have, float) and isinstance(want, float) and tol_i and abs(have - want) <= tol_i:
        return None
    return have, want


def _edited_cells(context: SheetContext, local: dict):
    """An edited formula: evaluate what the cell actually holds."""
    rtol = max(context.ctx.rtol, 1e-12 if context.ctx.rounded else 0.0)
    for (ci, i), cell in context.table.cells.items():
        if not cell.formula or (ci, i) in local or cell.value is None:
            continue
        want = eval_text(context.ctx, context.spec.name, "=" + cell.formula)
        have = context.lookup(context.lay.step_row(i), ci + 1)
        if want is None:
            context.rep.notes.append(f"{context.spec.name}!{a1(context.lay.step_row(i), ci + 1)}: its formula uses "
                                     f"something xlgd cannot evaluate; consistency not checked there")
        elif not same_value(have, want, rtol):
            local[(ci, i)] = (have, want)


def _vector_eval(context: SheetContext, vec: Vectors, expr):
    """The column expression on whole arrays of the values its references hold in the file."""
    N = context.spec.n_steps
    env = dict(vec.helpers)
    names = {}

    def var(leaf):
        if isinstance(leaf, Col):
            k = context.idx[leaf.name]
            if leaf.lag == 0:
                env[f"c{k}"] = context.table.vals[k]
                return f"c{k}"
            s = vec.start.get(leaf.name, 0.0)
            env[f"p{k}"] = np.concatenate(([np.nan if isinstance(s, str) else s], context.table.vals[k][:-1]))
            return f"p{k}"
        if isinstance(leaf, Name):
            key = names.setdefault(leaf.name, f"n{len(names)}")
            env[key] = np.float64(context.inputs[leaf.name])
            return key
        if isinstance(leaf, Data):
            env[f"d_{leaf.name}"] = np.asarray(context.data["file_" + leaf.name], dtype=np.float64)[vec.d_idx]
            return f"d_{leaf.name}"
        ev = np.array([np.nan if isinstance(v, str) else v for v in vec.epoch_vals[leaf.col]], dtype=np.float64)
        env[f"e_{leaf.col}"] = ev[vec.ep_rows]
        return f"e_{leaf.col}"

    source = py(expr, var, context.ctx.dialect)
    comp = np.asarray(eval(source, env), dtype=np.float64) * np.ones(N)  # noqa: S307 -- our own source
    tol = np.zeros(N)
    if context.ctx.rounded:
        mag = np.asarray(eval(py(magnitude(expr), var, "excel"), env), dtype=np.float64) * np.ones(N)  # noqa: S307
        tol = CONSIST_ROUNDED * max(n_ops(expr), 1) * np.abs(mag)
    return comp, tol


# ------------------------------------------------------------------ trajectory
def _trajectory(context: SheetContext, res) -> dict:
    """{(ci, i): (holds, the engine computes)} against the engine's run `res` from the file's own inputs and data."""
    spec, st = context.spec, context.table
    trtol = max(context.ctx.rtol, ROUNDED_RTOL if context.ctx.rounded else 0.0)
    out = {}
    for c in spec.columns:
        ci = context.idx[c.name]
        ev, have = res.steps[c.name], st.vals[ci]
        ok = agree(have, ev, trtol)  # errors (NaN here) are compared by code below
        both = np.isfinite(have) & np.isfinite(ev) & ok
        if both.any():
            context.rep.max_ulp = max(context.rep.max_ulp, ulp_distance(have[both], ev[both]))
        for i in np.nonzero(~ok)[0]:
            out[(ci, int(i))] = (context.lookup(context.lay.step_row(int(i)), ci + 1), res.value(c.name, int(i)))
    eng_err = {(context.idx[k[0]], k[1]): v for k, v in res.errors.items() if not k[0].startswith("@")}
    for k in set(eng_err) | set(st.errs):
        if eng_err.get(k) != st.errs.get(k):
            ci, i = k
            out[k] = (context.lookup(context.lay.step_row(i), ci + 1), res.value(spec.columns[ci].name, i))
    for k in list(out):
        if not st.seen[k[0], k[1]] and k in st.formula_fail:
            out.pop(k)
    return out


def _engine_result(context: SheetContext, engine):
    if engine is not None:
        peeked, result = engine
        res = result()  # collect the child in any case
        if peeked == context.inputs:
            return res
    return run(context.spec, context.data["x"], context.data["y"], inputs=context.inputs, dialect=context.ctx.dialect)


# ------------------------------------------------------------------ start row and epoch block
def _check_edges(context: SheetContext, res) -> Failures:
    """The start row and the epoch block: few cells, checked one by one (trajectory too, given res)."""
    spec, lay = context.spec, context.lay
    items, ev = [], {}
    for c in spec.columns:
        text = lay.start_formula(c.name)
        if text is not None:
            rc = (lay.step_row(-1), context.idx[c.name] + 1)
            items.append((*rc, text))
            if res is not None:
                ev[rc] = float(res.start[c.name])
    for k in range(spec.epochs):
        for ec in spec.epoch_columns:
            rc = (lay.epoch_row(k), lay.epoch_index[ec.name] + 1)
            items.append((*rc, lay.epoch_formula(ec.name, k)))
            if res is not None:
                ev[rc] = res.value("@" + ec.name, k)
    return check_cells(context.ctx, spec.name, items, context.rep, ev if res is not None else None)


def _step_order(context: SheetContext):
    """Sort key of a (row, col) cell in computation order: a 'pre' epoch cell before its epoch's
    first step, a 'post' one after its last."""
    spec, lay = context.spec, context.lay
    phase = {lay.epoch_index[ec.name]: ec.phase for ec in spec.epoch_columns}
    n = spec.n_data

    def order(k):
        r, c = k
        if c - 1 in phase:
            return (r - START_ROW + (phase[c - 1] == "post")) * n - 0.5
        return r - context.first_row

    return order


# ------------------------------------------------------------------ the data sheet
def data_info(ctx, spec0, recipe, rep: SheetReport) -> dict:
    """x and y as the data sheet holds them; checks the y formulas; notes changes against the record."""
    n = spec0.n_data
    if not (ctx.grid(DATA_SHEET) if DATA_SHEET in ctx.book.sheet_names else {}):
        rep.causes.append(Cause(DATA_SHEET, "A1", "data", "the data sheet is missing or empty"))
    d = recipe.data
    x, ys, empty = _data_columns(ctx, n, rep)
    _note_changed_x(x, d, empty, rep)
    ta, tb = _true_line(ctx, d, rep)
    if d.y_given is None:
        y = np.float64(ta) * x + np.float64(tb)
        items = [(DATA_FIRST_ROW + k, 3, f"=true_a*B{DATA_FIRST_ROW + k}+true_b") for k in range(n)]
        found = check_cells(ctx, DATA_SHEET, items, rep, {(DATA_FIRST_ROW + k, 3): float(y[k]) for k in range(n)})
        group(DATA_SHEET, rep, found, lambda k: k[0])
    else:
        y = np.array([v if isinstance(v, float) else np.nan for v in ys])
    file_y = np.array([v if isinstance(v, float) else np.nan for v in ys])
    return {"x": x, "y": y, "file_x": x, "file_y": file_y}


def _data_columns(ctx, n, rep):
    grid = ctx.grid(DATA_SHEET) if DATA_SHEET in ctx.book.sheet_names else {}
    xs, ys, empty = [], [], []
    for k in range(n):
        r = DATA_FIRST_ROW + k
        v = ctx.value(DATA_SHEET, r, 2)
        cell = grid.get((r, 2))
        if cell is None or cell.value is None:
            empty.append(r)
        xs.append(v if isinstance(v, float) else 0.0)
        ys.append(ctx.value(DATA_SHEET, r, 3))
    if empty:
        rep.causes.append(Cause(DATA_SHEET, f"B{empty[0]}", "data",
                                f"data!B{empty[0]} is empty: the data sheet holds {n - len(empty)} data rows, the "
                                f"workbook was made with {n} -- a data row was deleted? (its sheets still read "
                                f"data!B{DATA_FIRST_ROW}:B{DATA_FIRST_ROW + n - 1})"))
    return np.array(xs, dtype=np.float64), ys, empty


def _note_changed_x(x, d, empty, rep):
    changed = [(k, x[k], d.x[k]) for k in range(len(x)) if x[k] != d.x[k] and DATA_FIRST_ROW + k not in empty]
    for k, now, was in changed[:5]:
        rep.notes.append(f"x in data!B{DATA_FIRST_ROW + k} is {fmt_value(now)}, the template said {fmt_value(was)} "
                         f"-- checked with {fmt_value(now)}")
    if len(changed) > 5:
        rep.notes.append(f"... {len(changed) - 5} more x values differ from the template")


def _true_line(ctx, d, rep):
    ta, tb = ctx.value(DATA_SHEET, 1, 2), ctx.value(DATA_SHEET, 2, 2)
    ta = ta if isinstance(ta, float) else d.true_a
    tb = tb if isinstance(tb, float) else d.true_b
    for name, now, was in (("true_a", ta, d.true_a), ("true_b", tb, d.true_b)):
        if now != was:
            rep.notes.append(f"{name} in data!B{1 if name == 'true_a' else 2} is {fmt_value(now)}, the template said "
                             f"{fmt_value(was)} -- checked with {fmt_value(now)}")
    return ta, tb

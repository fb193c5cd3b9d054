"""The reference engine: every cell of a sheet, computed as the spreadsheet would.

The step columns compile (via `expr.py`) to one Python function per sheet
that runs an epoch row by row on numpy float64 scalars, or on arrays to run
a batch of configurations at once (an lr sweep). Operations associate
exactly as the formulas do, so values equal Excel's bit for bit.

Spreadsheet errors are values, not exceptions: where the fast path yields
inf or nan, the rows from there on are recomputed by the exact evaluator
(`expr.excel_value`), which says which cells hold #NUM!, #DIV/0! or
#VALUE!. dialect='libreoffice' reproduces LibreOffice's arithmetic quirks
(near-cancellations snapped to 0, underflow as #NUM!, #VALUE! for SQRT of
a negative) so our tests can compare with LibreOffice to the last bit too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .expr import Col, Data, EpochValue, Name, Ref, StepEdge, excel_value, leaves, py
from .functions import TINY, numpy_namespace
from .table import SheetSpec


class Program:
    """The compiled step table of one sheet."""

    def __init__(self, spec: SheetSpec, dialect: str = "excel"):
        self.spec = spec
        self.dialect = dialect
        self.order = _topo_order(spec)
        self.carried = sorted({d for c in spec.columns for d in c.deps(1)})
        self.row_keys = ["x", "y"]
        self.epoch_keys = sorted({leaf.col for c in spec.columns for leaf in _leaves_of(c)
                                  if isinstance(leaf, EpochValue)})
        self.pure = _pure_columns(spec)
        self.columns = {c.name: c for c in spec.columns}
        self._fns = {}

    def source(self) -> str:
        cols = {c.name: c for c in self.spec.columns}
        idx = {c.name: i for i, c in enumerate(self.spec.columns)}
        inputs = {i.name: k for k, i in enumerate(self.spec.inputs)}

        def var(leaf):
            if isinstance(leaf, Col):
                return f"{'p' if leaf.lag else 'c'}{idx[leaf.name]}"
            if isinstance(leaf, Name):
                return f"i{inputs[leaf.name]}"
            if isinstance(leaf, Data):
                return f"a_{leaf.name}[r]"
            if isinstance(leaf, EpochValue):
                return f"e{self.epoch_keys.index(leaf.col)}"
            raise TypeError(f"a step column cannot read {leaf!r}")

        lines = ["def run_epoch(I, P, A, E, O, r0, n):"]
        for name, k in inputs.items():
            lines.append(f"    i{k} = I[{name!r}]")
        for name in self.carried:
            lines.append(f"    p{idx[name]} = P[{name!r}]")
        for key in self.row_keys:
            lines.append(f"    a_{key} = A[{key!r}]")
        for k, key in enumerate(self.epoch_keys):
            lines.append(f"    e{k} = E[{key!r}]")
        for name in self.order:
            lines.append(f"    o{idx[name]} = O[{name!r}]")

        def body(first, indent):
            out = []
            for name in self.order:
                c = cols[name]
                e = c.first if (first and c.first is not None) else c.expr
                out.append(f"{indent}c{idx[name]} = {py(e, var, self.dialect)}")
            for name in self.order:
                out.append(f"{indent}o{idx[name]}[r0 + r] = c{idx[name]}")
            for name in self.carried:
                out.append(f"{indent}p{idx[name]} = c{idx[name]}")
            return out

        # Run under np.errstate(raise): an overflow, a division by zero or an
        # invalid operation anywhere inside a formula stops the fast path at
        # that row, even when the cell's final value would look finite
        # (x/(y/0) is 0 in IEEE, #DIV/0! in a spreadsheet).
        lines.append("    r = 0")
        lines.append("    try:")
        lines += body(True, "        ")
        lines.append("        for r in range(1, n):")
        lines += body(False, "            ")
        lines.append("    except FloatingPointError:")
        lines.append("        return None, r")
        lines.append("    return {" + ", ".join(f"{n!r}: p{idx[n]}" for n in self.carried) + "}, n")
        return "\n".join(lines)

    def function(self, batch: bool):
        if batch not in self._fns:
            ns = numpy_namespace(batch, self.dialect)
            exec(compile(self.source(), f"<xlgd sheet {self.spec.name}>", "exec"), ns)
            self._fns[batch] = ns["run_epoch"]
        return self._fns[batch]


def _leaves_of(c):
    for e in (c.expr, c.first, c.init):
        if e is not None:
            yield from leaves(e)


def _topo_order(spec: SheetSpec) -> list[str]:
    deps = {c.name: c.deps(0) for c in spec.columns}
    done, order = set(), []

    def visit(n, path=()):
        if n in done:
            return
        if n in path:
            raise AssertionError(f"circular columns: {' -> '.join(path + (n,))}")
        for d in sorted(deps[n]):
            visit(d, path + (n,))
        done.add(n)
        order.append(n)

    for c in spec.columns:
        visit(c.name)
    return order


def _pure_columns(spec: SheetSpec) -> set:
    """Columns that can never hold an error: they read only the data and step counters."""
    pure = set()
    changed = True
    while changed:
        changed = False
        for c in spec.columns:
            if c.name in pure:
                continue
            ok = True
            for leaf in _leaves_of(c):
                if isinstance(leaf, Col) and leaf.name not in pure and leaf.name != c.name:
                    ok = False
                elif isinstance(leaf, Ref) and not isinstance(leaf, Data) and leaf != EpochValue("epoch"):
                    ok = False
            if ok:
                pure.add(c.name)
                changed = True
    return pure


@dataclass
class Result:
    """Every value of a sheet: start row, step rows, epoch summary, error cells.

    Arrays are (rows,) for one configuration or (rows, B) for a batch;
    error cells hold nan in the arrays and their code in `errors`, keyed by
    (column, row) -- or (column, row, b) for a batch. Epoch-summary columns
    are keyed '@name'.
    """

    spec: SheetSpec
    start: dict
    steps: dict
    epochs: dict
    errors: dict = field(default_factory=dict)
    batch: int | None = None

    def value(self, col, row, b=None):
        """A cell as the sheet shows it: float, or an error code string."""
        key = (col, row) if b is None else (col, row, b)
        if key in self.errors:
            return self.errors[key]
        arr = self.epochs[col[1:]] if col.startswith("@") else self.steps[col]
        v = arr[row] if b is None else arr[row, b]
        return float(v)

    def first_error_step(self, b=None):
        """First step (0-based) with an error cell, or None; #N/A is not one: the chart columns' gaps."""
        rows = [k[1] for k, code in self.errors.items()
                if not k[0].startswith("@") and code != "#N/A" and (b is None or k[2] == b)]
        return min(rows) if rows else None

    def first_explosion_step(self, threshold=None, b=None):
        """First step (0-based) whose err^2 is an error or exceeds threshold, or None.

        threshold defaults to the sheet's explode_at input, else 1e10.
        For a batch without b: one entry per configuration.
        """
        if threshold is None:
            from .stability import EXPLODE_AT

            threshold = self.spec.input_values().get("explode_at", EXPLODE_AT)
        err = self.steps["err"]
        if self.batch is not None and b is None:
            return [self.first_explosion_step(threshold, j) for j in range(self.batch)]
        e = err if b is None else err[:, b]
        with np.errstate(invalid="ignore"):
            hit = ~np.isfinite(e) | (e > threshold)
        rows = np.nonzero(hit)[0]
        return int(rows[0]) if len(rows) else None

    def take(self, b, spec=None):
        """Configuration b of a batch as a Result of its own (spec: that sheet's spec)."""
        errors = {k[:2]: v for k, v in self.errors.items() if k[2] == b}
        return Result(spec or self.spec, {k: np.float64(v[b]) for k, v in self.start.items()},
                      {k: v[:, b].copy() for k, v in self.steps.items()},
                      {k: v[:, b].copy() for k, v in self.epochs.items()}, errors, None)

    def frame(self, b=None):
        import pandas as pd

        data = {}
        for c in self.spec.columns:
            arr = self.steps[c.name]
            data[c.name] = arr if b is None else arr[:, b]
        return pd.DataFrame(data)


@dataclass
class RunState:
    """What one engine run fills in, for one configuration or a batch of B.

    inputs: name -> value ((B,) arrays for a batch); steps / epochs: column ->
    (rows,) or (rows, B) arrays; errors: (column, row[, b]) -> code, epoch
    columns keyed '@name'; start: the start row's values."""

    prog: Program
    inputs: dict
    steps: dict
    epochs: dict
    errors: dict
    start: dict
    x: np.ndarray
    y: np.ndarray
    batch: int | None = None

    @property
    def spec(self):
        return self.prog.spec

    def config(self, b: int) -> "RunState":
        """Configuration b of a batch as a scalar run: views, so its writes land in the batch arrays."""
        errs = {key[:2]: code for key, code in self.errors.items() if len(key) == 3 and key[2] == b}
        return RunState(self.prog, {n: np.float64(v[b]) for n, v in self.inputs.items()},
                        {n: v[:, b] for n, v in self.steps.items()}, {n: v[:, b] for n, v in self.epochs.items()},
                        errs, {n: np.float64(v[b]) for n, v in self.start.items()}, self.x, self.y)

    def cell(self, col, row, b=None):
        key = (col, row) if b is None else (col, row, b)
        if key in self.errors:
            return self.errors[key]
        return float(self.steps[col][row] if b is None else self.steps[col][row, b])

    def epoch_cell(self, name, k, b=None):
        key = ("@" + name, k) if b is None else ("@" + name, k, b)
        if key in self.errors:
            return self.errors[key]
        return float(self.epochs[name][k] if b is None else self.epochs[name][k, b])


def run(spec: SheetSpec, x, y, inputs: dict | None = None, start: dict | None = None,
        dialect: str = "excel") -> Result:
    """Compute every cell of a sheet.

    x, y: the data rows (length spec.n_data). inputs: overrides of the named
    input cells (scalars, or arrays of one length B for a batch). start:
    overrides of start-row values by column (a saved optimiser state).
    """
    st = _prepare(Program(spec, dialect), x, y, inputs, start)
    carried = dict(st.start)
    for name in st.prog.carried:
        carried.setdefault(name, _as_cfg(np.nan, st.batch))  # read only from the second row on
    for k in range(spec.epochs):
        with np.errstate(all="ignore"):
            _epoch_cells(st, k, "pre")
        if st.batch is None:
            carried = _epoch_scalar(st, k, carried)
        else:
            carried = _epoch_batch(st, k, carried)
        with np.errstate(all="ignore"):
            _epoch_cells(st, k, "post")
    return Result(spec, st.start, st.steps, st.epochs, st.errors, st.batch)


def _as_cfg(v, B):
    v = np.asarray(v, dtype=np.float64)
    if B is not None:
        return np.broadcast_to(v.reshape(-1) if v.size > 1 else v.reshape(()), (B,)).copy()
    return np.float64(v.reshape(()))


def _prepare(prog, x, y, inputs, start) -> RunState:
    """Inputs, start row and empty tables of one run; B from the batched inputs."""
    spec = prog.spec
    vals = spec.input_values()
    vals.update(inputs or {})
    sizes = {np.size(v) for v in vals.values()} | {np.size(v) for v in (start or {}).values()}
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"batched inputs disagree in length: {sorted(sizes)}")
    B = sizes.pop() if sizes else None
    I = {k: _as_cfg(v, B) for k, v in vals.items()}  # noqa: E741 -- the inputs, as the compiled source calls them
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != (spec.n_data,) or y.shape != (spec.n_data,):
        raise ValueError(f"expected {spec.n_data} data rows, got x{x.shape} y{y.shape}")
    first = {}
    for c in spec.columns:
        if c.init is None:
            continue
        if B is not None:  # start values may differ per configuration
            first[c.name] = np.array([_eval_small(c.init, lambda leaf, b=b: float(I[leaf.name][b]))
                                      for b in range(B)])
        else:
            first[c.name] = _as_cfg(_eval_small(c.init, lambda leaf: I[leaf.name]), None)
    for k, v in (start or {}).items():
        first[k] = _as_cfg(v, B)
    shape = (spec.n_steps,) + ((B,) if B is not None else ())
    steps = {c.name: np.empty(shape) for c in spec.columns}
    epochs = {c.name: np.empty((spec.epochs,) + shape[1:]) for c in spec.epoch_columns}
    return RunState(prog, I, steps, epochs, {}, first, x, y, B)


def _data(st, k):
    """The compiled source's A (data columns) and E (this epoch's epoch-block values)."""
    batch = st.batch is not None
    A = {"x": st.x[:, None], "y": st.y[:, None]} if batch else {"x": st.x, "y": st.y}
    E = {col: st.epochs[col][k] for col in st.prog.epoch_keys}
    return A, E


def _epoch_batch(st, k, carried):
    """One epoch of a batch: the fast path for all, exact rows for the configurations in trouble."""
    prog, n = st.prog, st.spec.n_data
    r0 = k * n
    A, E = _data(st, k)
    with np.errstate(all="raise", under="ignore"):
        try:
            new, _ = prog.function(True)(st.inputs, carried, A, E, st.steps, r0, n)
        except FloatingPointError:
            new = None
    bad = (set(range(st.batch)) if new is None else
           {int(j) for c in st.spec.columns
            for j in np.nonzero(_bad(st.steps[c.name][r0:r0 + n], prog.dialect).any(axis=0))[0]})
    if not bad:
        return new
    redo = _redo_configs(st, k, carried, sorted(bad))
    if new is not None:  # the other configurations finished the fast path
        good = [j for j in range(st.batch) if j not in bad]
        for name in redo:
            redo[name][good] = np.asarray(new[name])[good]
    return redo


def _epoch_scalar(st, k, carried):
    """One epoch of one configuration: fast path, then exact rows from the first trouble."""
    prog, n = st.prog, st.spec.n_data
    r0 = k * n
    A, E = _data(st, k)
    with np.errstate(all="raise", under="ignore"):
        new, r_fail = prog.function(False)(st.inputs, carried, A, E, st.steps, r0, n)
    first = r_fail
    for c in st.spec.columns:
        rows = np.nonzero(_bad(st.steps[c.name][r0:r0 + r_fail], prog.dialect))[0]
        if len(rows):
            first = min(first, int(rows[0]))
    if first == n:
        return new
    return _exact_rows(st, k, r0 + first, carried)


def _redo_configs(st, k, carried, configs):
    """Recompute one epoch of some configurations of a batch, one at a time."""
    carried = {name: np.array(v, copy=True) for name, v in carried.items()}
    for b in configs:
        one = st.config(b)
        out = _epoch_scalar(one, k, {name: np.float64(v[b]) for name, v in carried.items()})
        for key, code in one.errors.items():
            st.errors[key + (b,)] = code
        for name in st.prog.carried:
            carried[name][b] = out[name]
    return carried


def _eval_small(e, env):
    v = excel_value(e, env)
    return np.nan if isinstance(v, str) else v


def _epoch_cells(st, k, phase):
    """The epoch block's cells of one phase ('pre': known before epoch k runs, 'post': its summary)."""
    for b in range(st.batch) if st.batch is not None else [None]:
        for c in st.spec.epoch_columns:
            if c.phase != phase:
                continue
            e = c.first if (k == 0 and c.first is not None) else c.expr
            v = excel_value(e, _epoch_env(st, k, b), st.prog.dialect)
            key = ("@" + c.name, k) if b is None else ("@" + c.name, k, b)
            if isinstance(v, str):
                st.errors[key] = v
                v = np.nan
            if b is None:
                st.epochs[c.name][k] = v
            else:
                st.epochs[c.name][k, b] = v


def _epoch_env(st, k, b):
    n = st.spec.n_data
    r0 = k * n

    def env(leaf):
        if isinstance(leaf, Name):
            return float(st.inputs[leaf.name] if b is None else st.inputs[leaf.name][b])
        if isinstance(leaf, Col):
            return st.epoch_cell(leaf.name, k - leaf.lag, b)
        if isinstance(leaf, StepEdge):
            row = r0 - 1 if leaf.edge == "before" else r0 + n - 1
            if row < 0:
                v = st.start[leaf.col]
                return float(v if b is None else v[b])
            return st.cell(leaf.col, row, b)
        raise TypeError(f"an epoch-block cell cannot read {leaf!r}")

    return env


def _bad(arr, dialect):
    bad = ~np.isfinite(arr)
    if dialect == "libreoffice":
        a = np.abs(arr)
        bad |= (a > 0) & (a < TINY)
    return bad


def _row_env(st, k, row, prev, r):
    """Leaf values for step row r: this row's cells so far, the row above, inputs, data, the epoch's cells."""
    r0 = k * st.spec.n_data

    def env(leaf):
        if isinstance(leaf, Col):
            return row[leaf.name] if leaf.lag == 0 else prev[leaf.name]
        if isinstance(leaf, Name):
            return float(st.inputs[leaf.name])
        if isinstance(leaf, Data):
            return float((st.x if leaf.name == "x" else st.y)[r - r0])
        if isinstance(leaf, EpochValue):
            return st.epoch_cell(leaf.col, k)
        raise TypeError(f"a step cell cannot read {leaf!r}")

    return env


def _eval_row(st, k, r, prev, only=None):
    """One step row's cells with error semantics, in dependency order (`only`: just these columns)."""
    prog = st.prog
    first_row = r == k * st.spec.n_data
    row = {}
    env = _row_env(st, k, row, prev, r)
    for name in prog.order:
        if only is not None and name not in only:
            continue
        c = prog.columns[name]
        e = c.first if (first_row and c.first is not None) else c.expr
        row[name] = excel_value(e, env, prog.dialect)
    _store_row(st, r, row)
    return row


def _exact_rows(st, k, r_start, carried):
    """Rows r_start.. of epoch k with spreadsheet error semantics.

    Returns the carried values after the epoch's last row (nan for errors).
    """
    prog = st.prog
    r_end = (k + 1) * st.spec.n_data
    if r_start == 0:
        prev = {name: float(carried[name]) for name in prog.carried}
    else:  # from the row above, error codes included
        prev = {name: st.cell(name, r_start - 1) for name in prog.carried}
    last_codes = None
    for r in range(r_start, r_end):
        row = _eval_row(st, k, r, prev)
        codes = tuple(row[nm] for nm in prog.order if nm not in prog.pure)
        prev = {nm: row[nm] for nm in prog.carried}
        if codes == last_codes and all(isinstance(v, str) for v in codes):
            # Every non-data cell of two rows in a row holds the same error: so
            # will every later row (errors propagate whatever finite data they
            # meet); only the data and step columns still change.
            prev = _fill_forward(st, k, r + 1, r_end, codes, prev)
            break
        last_codes = codes
    return {name: np.float64(np.nan if isinstance(v, str) else v) for name, v in prev.items()}


def _fill_forward(st, k, r1, r2, codes, prev):
    """Rows r1..r2-1 hold `codes` in every non-data column; their data and step columns are computed."""
    prog = st.prog
    filled = _fill_errors(st, r1, r2, codes)
    for r in range(r1, r2):
        prow = _eval_row(st, k, r, prev, only=prog.pure)
        prev.update({nm: prow[nm] for nm in prog.carried if nm in prow})
    prev.update({nm: filled[nm] for nm in prog.carried if nm in filled})
    return prev


def _store_row(st, r, row):
    for name, v in row.items():
        if isinstance(v, str):
            st.errors[(name, r)] = v
            v = np.nan
        else:
            st.errors.pop((name, r), None)
        st.steps[name][r] = v


def _fill_errors(st, r1, r2, codes):
    """Rows r1..r2 hold `codes` in every non-data column.

    Once every non-data cell of two consecutive rows holds the same error,
    all later rows of the epoch do too: errors propagate independently of
    the (finite) data they meet."""
    prog = st.prog
    names = [nm for nm in prog.order if nm not in prog.pure]
    for name, code in zip(names, codes):
        for r in range(r1, r2):
            st.errors[(name, r)] = code
        st.steps[name][r1:r2] = np.nan
    return dict(zip(names, codes))

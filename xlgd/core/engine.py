"""The reference engine: every cell of a sheet, computed as the spreadsheet would, bit for bit.

A run goes epoch by epoch through the sheet's compiled step table (`program.Program`): `epochs()`
yields each `Epoch` and keeps only what the next one reads (so `generate` streams a sheet in flat
memory); `run()` collects them into one `Result`. Spreadsheet errors are int8 codes
(`masked.CODE`) beside nan values. Where the fast path meets an overflow, a division by zero or an
invalid operation, the rows from there on are recomputed by the exact evaluator: one configuration
by `expr.excel_value`, a batch's configurations in trouble (only those) together by
`masked_tree.masked_value`, so a batch equals its single runs, error codes included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .expr import Col, Data, EpochValue, Name, StepEdge, excel_value
from .masked import CODE, NA, TINY, error_name
from .masked_tree import masked_value
from .program import Program
from .table import SheetSpec


def _cell(value, code):
    """A cell as the sheet shows it: float, or an error code string."""
    return error_name(int(code)) if code else float(value)


@dataclass
class Epoch:
    """One epoch of a run: its step rows (row r is data row r) and its epoch-block cells.

    steps: column -> (n_data,) or (n_data, B) values, nan where the cell is an
    error; codes: column -> int8 of the same shape (0, or `masked.CODE` of
    the error); cells / cell_codes: epoch-block column -> float and int (or
    (B,) arrays)."""

    k: int
    steps: dict
    codes: dict
    cells: dict = field(default_factory=dict)
    cell_codes: dict = field(default_factory=dict)
    may_hold_errors: bool = True  # False: no step cell of the epoch is an error (the exact path never ran)

    def value(self, col, row, config=None):
        """A step cell as the sheet shows it: float, or an error code string."""
        at = row if config is None else (row, config)
        return _cell(self.steps[col][at], self.codes[col][at])

    def cell(self, col, config=None):
        """An epoch-block cell as the sheet shows it."""
        if config is None:
            return _cell(self.cells[col], self.cell_codes[col])
        return _cell(self.cells[col][config], self.cell_codes[col][config])


@dataclass
class Result:
    """Every value of a sheet: start row, step rows, epoch summary, error codes.

    Arrays are (rows,) for one configuration or (rows, B) for a batch; error
    cells hold nan in `steps` / `epochs` and their code in `codes` /
    `epoch_codes` (int8, `masked.CODE`). `errors` spells them out as
    {(column, row[, b]): '#NUM!'}, epoch-summary columns keyed '@name'.
    """

    spec: SheetSpec
    start: dict
    steps: dict
    epochs: dict
    codes: dict
    epoch_codes: dict
    batch: int | None = None

    @classmethod
    def empty(cls, spec, start, batch=None) -> "Result":
        """Sheet-long arrays for a run to fill (`run` hands their epoch slices to the engine)."""
        tail = () if batch is None else (batch,)
        steps = {c.name: np.empty((spec.n_steps,) + tail) for c in spec.columns}
        codes = {c.name: np.zeros((spec.n_steps,) + tail, np.int8) for c in spec.columns}
        epochs = {c.name: np.empty((spec.epochs,) + tail) for c in spec.epoch_columns}
        epoch_codes = {c.name: np.zeros((spec.epochs,) + tail, np.int8) for c in spec.epoch_columns}
        return cls(spec, start, steps, epochs, codes, epoch_codes, batch)

    def epoch(self, index) -> "Epoch":
        """Epoch `index`'s rows as views of the sheet-long arrays."""
        rows = slice(index * self.spec.n_data, (index + 1) * self.spec.n_data)
        return Epoch(index, {n: a[rows] for n, a in self.steps.items()}, {n: a[rows] for n, a in self.codes.items()})

    def chunks(self):
        """The run again, epoch by epoch (views): what `epochs()` yielded."""
        for k in range(self.spec.epochs):
            epoch = self.epoch(k)
            epoch.cells = {n: a[k] for n, a in self.epochs.items()}
            epoch.cell_codes = {n: a[k] for n, a in self.epoch_codes.items()}
            yield epoch

    def keep(self, epoch: "Epoch"):
        """Store an epoch's epoch-block cells (its rows are views already)."""
        for name in self.epochs:
            self.epochs[name][epoch.k] = epoch.cells[name]
            self.epoch_codes[name][epoch.k] = epoch.cell_codes[name]

    @cached_property
    def errors(self) -> dict:
        out = {}
        names = {code: error_name(code) for code in set(CODE.values())}
        for prefix, codes in (("", self.codes), ("@", self.epoch_codes)):
            for name, arr in codes.items():
                at = np.nonzero(arr)
                if len(at[0]):
                    out.update(zip(zip((prefix + name,) * len(at[0]), *(a.tolist() for a in at)),
                                   (names[c] for c in arr[at].tolist())))
        return out

    def value(self, col, row, config=None):
        """A cell as the sheet shows it: float, or an error code string."""
        at = row if config is None else (row, config)
        if col.startswith("@"):
            return _cell(self.epochs[col[1:]][at], self.epoch_codes[col[1:]][at])
        return _cell(self.steps[col][at], self.codes[col][at])

    def first_error_step(self, config=None):
        """First step (0-based) with an error cell, or None; #N/A is not one: the chart columns' gaps.
        For a batch without config: one per configuration."""
        if self.batch is not None and config is None:
            return [self.first_error_step(j) for j in range(self.batch)]
        any_err = np.zeros(self.spec.n_steps, bool)
        for arr in self.codes.values():
            arr = arr if config is None else arr[:, config]
            any_err |= (arr != 0) & (arr != NA)
        rows = np.nonzero(any_err)[0]
        return int(rows[0]) if len(rows) else None

    def first_explosion_step(self, threshold=None, config=None):
        """First step (0-based) whose err^2 is an error or exceeds threshold, or None.

        threshold defaults to the sheet's explode_at input, else 1e10.
        For a batch without b: one entry per configuration.
        """
        if threshold is None:
            from .stability import EXPLODE_AT

            threshold = self.spec.input_values().get("explode_at", EXPLODE_AT)
        err = self.steps["err"] if config is None else self.steps["err"][:, config]
        with np.errstate(invalid="ignore"):
            hit = ~np.isfinite(err) | (err > threshold)
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), -1)
        if first.ndim:
            return [None if f < 0 else int(f) for f in first]
        return None if first < 0 else int(first)

    def take(self, config, spec=None):
        """Configuration `config` of a batch as a Result of its own (spec: that sheet's spec)."""
        def col(d):
            return {k: v[:, config].copy() for k, v in d.items()}

        return Result(spec or self.spec, {k: np.float64(v[config]) for k, v in self.start.items()},
                      col(self.steps), col(self.epochs), col(self.codes), col(self.epoch_codes), None)

    def frame(self, config=None):
        import pandas as pd

        data = {}
        for c in self.spec.columns:
            arr = self.steps[c.name]
            data[c.name] = arr if config is None else arr[:, config]
        return pd.DataFrame(data)


@dataclass
class RunState:
    """What one engine run carries from epoch to epoch, for one configuration or a batch of B.

    inputs: name -> value ((B,) arrays for a batch); start: the start row's
    values; carried / carried_codes: the columns later rows read with lag 1,
    as the last row left them; last: the previous epoch (None for the
    first), which StepEdge 'above' and lag-1 epoch-block cells read."""

    prog: Program
    inputs: dict
    start: dict
    x: np.ndarray
    y: np.ndarray
    batch: int | None = None
    carried: dict = field(default_factory=dict)
    carried_codes: dict = field(default_factory=dict)
    last: Epoch | None = None

    @property
    def spec(self):
        return self.prog.spec

    def new_epoch(self, epoch) -> Epoch:
        shape = (self.spec.n_data,) + (() if self.batch is None else (self.batch,))
        cols = self.spec.columns
        return Epoch(epoch, {c.name: np.empty(shape) for c in cols}, {c.name: np.zeros(shape, np.int8) for c in cols})


def run(spec: SheetSpec, x, y, inputs: dict | None = None, start: dict | None = None,
        dialect: str = "excel", derive: bool = True) -> Result:
    """Compute every cell of a sheet.

    x, y: the data rows (length spec.n_data). inputs: overrides of the named
    input cells (scalars, or arrays of one length B for a batch). start:
    overrides of start-row values by column (a saved optimiser state).
    derive=False: output-only columns in the row path too (`Program`), for comparisons.
    """
    state = _prepare(Program(spec, dialect, derive), x, y, inputs, start)
    res = Result.empty(spec, state.start, state.batch)
    for epoch in _epochs(state, res.epoch):
        res.keep(epoch)
    return res


def epochs(spec: SheetSpec, x, y, inputs: dict | None = None, start: dict | None = None,
           dialect: str = "excel", derive: bool = True):
    """(start row values, an iterator of the run's `Epoch`s): `run` one epoch at a time."""
    state = _prepare(Program(spec, dialect, derive), x, y, inputs, start)
    return state.start, _epochs(state, state.new_epoch)


def _epochs(state, new_epoch):
    for name in state.prog.carried:
        state.carried.setdefault(name, _as_cfg(np.nan, state.batch))  # read only from the second row on
    for name in state.prog.carried:
        state.carried_codes[name] = 0 if state.batch is None else np.zeros(state.batch, np.int8)
    for k in range(state.spec.epochs):
        epoch = new_epoch(k)
        _epoch_cells(state, epoch, "pre")
        if state.batch is None:
            _epoch_scalar(state, epoch)
        else:
            _epoch_batch(state, epoch)
        _derived_cells(state, epoch)
        _epoch_cells(state, epoch, "post")
        for name in state.prog.carried:
            state.carried[name] = epoch.steps[name][-1].copy()
            state.carried_codes[name] = epoch.codes[name][-1].copy()
        state.last = epoch
        yield epoch


def _as_cfg(value, B):
    value = np.asarray(value, dtype=np.float64)
    if B is not None:
        return np.broadcast_to(value.reshape(-1) if value.size > 1 else value.reshape(()), (B,)).copy()
    return np.float64(value.reshape(()))


def _prepare(prog, x, y, inputs, start) -> RunState:
    """Inputs and start row of one run; B from the batched inputs."""
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
            v, code = masked_value(c.init, lambda leaf: (I[leaf.name], None))  # as _eval_small: excel
            first[c.name] = np.where(code != 0, np.nan, v) if code is not None else np.broadcast_to(v, (B,)).copy()
        else:
            first[c.name] = _as_cfg(_eval_small(c.init, lambda leaf: I[leaf.name]), None)
    for k, v in (start or {}).items():
        first[k] = _as_cfg(v, B)
    state = RunState(prog, I, first, x, y, B)
    state.carried = dict(first)
    return state


def _eval_small(expr, env):
    v = excel_value(expr, env)
    return np.nan if isinstance(v, str) else v


def _data(state, epoch):
    """The compiled source's A (data columns) and E (this epoch's epoch-block values)."""
    batch = state.batch is not None
    A = {"x": state.x[:, None], "y": state.y[:, None]} if batch else {"x": state.x, "y": state.y}
    E = {col: epoch.cells[col] for col in state.prog.epoch_keys}
    return A, E


def _bad(arr, dialect):
    bad = ~np.isfinite(arr)
    if dialect == "libreoffice":
        a = np.abs(arr)
        bad |= (a > 0) & (a < TINY)
    return bad


# ------------------------------------------------------------------ one configuration
def _epoch_scalar(state, epoch):
    """One epoch of one configuration: fast path, then exact rows from the first trouble."""
    prog, n = state.prog, state.spec.n_data
    A, E = _data(state, epoch)
    with np.errstate(all="raise", under="ignore"):
        first = prog.function(False)(state.inputs, state.carried, A, E, epoch.steps, 0, n, None)
    first = _first_bad(state, epoch, first)
    epoch.may_hold_errors = first < n
    if first < n:
        _exact_rows(state, epoch, first)


def _first_bad(state, epoch, rows):
    """The first of the epoch's first `rows` rows holding a cell that is not a finite number
    (LibreOffice: or is below TINY), else `rows`.

    Under np.errstate(raise) a non-finite number only appears with an error raised -- unless
    a leaf already is one, or NA() makes one: so with finite inputs, carried values and epoch
    cells only the columns NA() can reach are looked at (Excel's arithmetic: LibreOffice's
    tiny values are finite). A sum per column first: finite sums mean finite cells (an
    overflow of the sum itself only means: look closer)."""
    prog = state.prog
    names = prog.order
    if prog.dialect != "libreoffice":
        if _finite_leaves(state, epoch):
            names = [nm for nm in prog.order if nm in prog.quiet]
        with np.errstate(all="ignore"):
            if np.isfinite(sum(epoch.steps[name][:rows].sum() for name in names)):
                return rows
    for name in names:
        bad = np.nonzero(_bad(epoch.steps[name][:rows], prog.dialect))[0]
        if len(bad):
            rows = int(bad[0])
    return rows


def _finite_leaves(state, epoch) -> bool:
    """Are the row function's inputs -- named inputs, carried values, this epoch's cells -- finite numbers?"""
    vals = list(state.carried.values()) + [epoch.cells[k] for k in state.prog.epoch_keys] + list(state.inputs.values())
    return bool(np.isfinite(vals).all())


def _carried_cells(state):
    """The carried columns as the row above the epoch's first row shows them (floats or error codes)."""
    return {name: _cell(state.carried[name], state.carried_codes[name]) if state.carried_codes[name]
            else float(state.carried[name]) for name in state.prog.carried}


def _row_env(state, epoch, row, prev, r):
    """Leaf values for step row r: this row's cells so far, the row above, inputs, data, the epoch's cells."""

    def env(leaf):
        if isinstance(leaf, Col):
            return row[leaf.name] if leaf.lag == 0 else prev[leaf.name]
        if isinstance(leaf, Name):
            return float(state.inputs[leaf.name])
        if isinstance(leaf, Data):
            return float((state.x if leaf.name == "x" else state.y)[r])
        if isinstance(leaf, EpochValue):
            return epoch.cell(leaf.col)
        raise TypeError(f"a step cell cannot read {leaf!r}")

    return env


def _eval_row(state, epoch, r, prev, only=None):
    """One step row's cells with error semantics, in dependency order (`only`: just these columns)."""
    prog = state.prog
    row = {}
    env = _row_env(state, epoch, row, prev, r)
    for name in prog.order:
        if only is not None and name not in only:
            continue
        c = prog.columns[name]
        e = c.first if (r == 0 and c.first is not None) else c.expr
        row[name] = excel_value(e, env, prog.dialect)
    for name, v in row.items():
        epoch.codes[name][r] = CODE[v] if isinstance(v, str) else 0
        epoch.steps[name][r] = np.nan if isinstance(v, str) else v
    return row


def _exact_rows(state, epoch, r_start):
    """Rows r_start.. of the epoch with spreadsheet error semantics."""
    prog = state.prog
    n = state.spec.n_data
    prev = _carried_cells(state) if r_start == 0 else {name: epoch.value(name, r_start - 1) for name in prog.carried}
    last_codes = None
    for r in range(r_start, n):
        row = _eval_row(state, epoch, r, prev)
        codes = tuple(row[nm] for nm in prog.order if nm not in prog.pure)
        prev = {nm: row[nm] for nm in prog.carried}
        if codes == last_codes and all(isinstance(v, str) for v in codes):
            # Every non-data cell of two rows in a row holds the same error: so
            # will every later row (errors propagate whatever finite data they
            # meet); only the data and step columns still change.
            _fill_forward(state, epoch, r + 1, codes, prev)
            return
        last_codes = codes


def _fill_forward(state, epoch, first_row, codes, prev):
    """Rows first_row.. of the epoch hold `codes` in every non-data column; their data and step columns are computed."""
    prog = state.prog
    for name, code in zip([nm for nm in prog.order if nm not in prog.pure], codes):
        epoch.codes[name][first_row:] = CODE[code]
        epoch.steps[name][first_row:] = np.nan
    for r in range(first_row, state.spec.n_data):
        prow = _eval_row(state, epoch, r, prev, only=prog.pure)
        prev.update({nm: prow[nm] for nm in prog.carried if nm in prow})


# ------------------------------------------------------------------ a batch of configurations
def _epoch_batch(state, epoch):
    """One epoch of a batch: the fast path for all, then exact rows for the configurations in trouble."""
    prog, n = state.prog, state.spec.n_data
    A, E = _data(state, epoch)
    fn = prog.function(True)
    K = np.zeros((prog.watches[True], n, state.batch))
    with np.errstate(all="ignore"):
        done = fn(state.inputs, state.carried, A, E, epoch.steps, 0, n, K)
    # A C-library function (EXP, LN ... `functions._elementwise`) raises even with errors ignored:
    # the rows from there on were not computed for anyone, so every configuration is in trouble there.
    trouble = _trouble_rows(state, epoch, K, done)
    sick = np.nonzero(trouble < n)[0]
    epoch.may_hold_errors = len(sick) > 0
    if len(sick):
        _masked_rows(state, epoch, trouble, sick)


def _trouble_rows(state, epoch, K, done):
    """Per configuration, the first row a run of its own would recompute exactly (n if none).

    That run stops its fast path at the first floating-point error anywhere
    in a row, or at the first cell that is not a finite number. An error
    inside a formula yields inf or nan, which reaches the cell unless an
    operator or function absorbs it -- and those operands are in K. Rows from
    `done` on (where the fast path stopped for all) are in trouble for all."""
    if not done:
        return np.zeros(state.batch, np.int64)
    bad = (~np.isfinite(K[:, :done])).any(axis=0) if len(K) else np.zeros((done, state.batch), bool)
    for name in state.prog.order:
        if name not in state.prog.pure:
            bad |= _bad(epoch.steps[name][:done], state.prog.dialect)
    return np.where(bad.any(axis=0), bad.argmax(axis=0), done)


def _masked_rows(state, epoch, trouble, sick):
    """Rows from each sick configuration's first trouble on, exactly, all those configurations at once."""
    prog, n = state.prog, state.spec.n_data
    order = sick[np.argsort(trouble[sick], kind="stable")]
    starts = trouble[order]
    with np.errstate(all="ignore"):
        for r in range(int(starts[0]), n):
            idx = _index(order[:np.searchsorted(starts, r, side="right")])  # the configurations in trouble by row r
            if r == 0:
                prev = {nm: state.carried[nm][idx] for nm in prog.carried}
                prev_codes = {nm: state.carried_codes[nm][idx] for nm in prog.carried}
            else:
                prev = {nm: epoch.steps[nm][r - 1, idx] for nm in prog.carried}
                prev_codes = {nm: epoch.codes[nm][r - 1, idx] for nm in prog.carried}
            row = prog.masked(r == 0)({nm: v[idx] for nm, v in state.inputs.items()}, prev, prev_codes,
                                      {c: epoch.cells[c][idx] for c in prog.epoch_keys},
                                      {c: epoch.cell_codes[c][idx] for c in prog.epoch_keys}, state.x[r], state.y[r])
            for name, (v, code) in row.items():
                epoch.steps[name][r, idx] = v
                if code is not None:
                    epoch.codes[name][r, idx] = code
    for name in prog.order:  # error cells hold nan, as a run of its own leaves them
        if name not in prog.pure:
            epoch.steps[name][epoch.codes[name] != 0] = np.nan


def _index(configs):
    """Configurations as an index: a slice (a view, no copy) when they are consecutive, as in an lr sweep."""
    configs = np.sort(configs)
    lo, hi = int(configs[0]), int(configs[-1]) + 1
    return slice(lo, hi) if hi - lo == len(configs) else configs


# ------------------------------------------------------------------ output-only columns
def _derived_cells(state, epoch):
    """The output-only columns (`program._output_only`) of an epoch, a column at a time over its rows
    (and configurations): numpy over the arrays where no source cell is an error, no
    floating-point error is raised and every value comes out a finite number (what the row
    path's fast path asks of a row); else the exact evaluator's masks (`masked_tree.masked_value`):
    nan and a code where an error."""
    prog = state.prog
    if not prog.derived:
        return
    A = {"x": state.x, "y": state.y} if state.batch is None else {"x": state.x[:, None], "y": state.y[:, None]}
    for name in prog.derived:
        col, shape = prog.columns[name], epoch.steps[name].shape
        cols, cells = prog.reads[name]
        if not any(epoch.codes[c].any() for c in cols) and not any(np.any(epoch.cell_codes[c]) for c in cells):
            try:
                with np.errstate(all="raise", under="ignore"):
                    v = prog.derived_function(name)(epoch.steps, state.inputs, A, epoch.cells)
            except FloatingPointError:
                v = None
            if v is not None and not _bad(v, prog.dialect).any():
                epoch.steps[name][...] = v
                continue
        v, code = masked_value(col.expr, _derived_env(state, epoch, A), prog.dialect)
        code = np.broadcast_to(np.int8(0) if code is None else code, shape)
        epoch.steps[name][...] = np.where(code != 0, np.nan, np.broadcast_to(v, shape))
        epoch.codes[name][...] = code
        epoch.may_hold_errors = epoch.may_hold_errors or bool(code.any())


def _derived_env(state, epoch, A):
    """Leaf (values, codes) of an epoch's output-only cells for `masked_tree.masked_value`."""
    def env(leaf):
        if isinstance(leaf, Col):
            codes = epoch.codes[leaf.name]
            return epoch.steps[leaf.name], (codes if codes.any() else None)  # None: no error to carry
        if isinstance(leaf, Name):
            return state.inputs[leaf.name], None
        if isinstance(leaf, Data):
            return A[leaf.name], None
        if isinstance(leaf, EpochValue):
            return epoch.cells[leaf.col], epoch.cell_codes[leaf.col]
        raise TypeError(f"a step cell cannot read {leaf!r}")

    return env


# ------------------------------------------------------------------ the epoch block
def _epoch_cells(state, epoch, phase):
    """The epoch block's cells of one phase ('pre': known as the epoch starts, 'post': its summary)."""
    for c in state.spec.epoch_columns:
        if c.phase != phase:
            continue
        e = c.first if (epoch.k == 0 and c.first is not None) else c.expr
        if state.batch is None:
            v = excel_value(e, _epoch_env(state, epoch), state.prog.dialect)
            epoch.cells[c.name] = np.float64(np.nan if isinstance(v, str) else v)
            epoch.cell_codes[c.name] = CODE[v] if isinstance(v, str) else 0
        else:
            v, code = masked_value(e, _masked_epoch_env(state, epoch), state.prog.dialect)
            code = np.zeros(state.batch, np.int8) if code is None else np.broadcast_to(code, (state.batch,)).astype(np.int8)
            epoch.cells[c.name] = np.where(code != 0, np.nan, np.broadcast_to(v, (state.batch,)))
            epoch.cell_codes[c.name] = code


def _epoch_env(state, epoch):
    n = state.spec.n_data

    def env(leaf):
        if isinstance(leaf, Name):
            return float(state.inputs[leaf.name])
        if isinstance(leaf, Col):
            return epoch.cell(leaf.name) if leaf.lag == 0 else state.last.cell(leaf.name)
        if isinstance(leaf, StepEdge):
            if leaf.edge == "end":
                return epoch.value(leaf.col, n - 1)
            return float(state.start[leaf.col]) if state.last is None else state.last.value(leaf.col, n - 1)
        raise TypeError(f"an epoch-block cell cannot read {leaf!r}")

    return env


def _masked_epoch_env(state, epoch):
    def env(leaf):
        if isinstance(leaf, Name):
            return state.inputs[leaf.name], None
        if isinstance(leaf, Col):
            src = epoch if leaf.lag == 0 else state.last
            return src.cells[leaf.name], src.cell_codes[leaf.name]
        if isinstance(leaf, StepEdge):
            if leaf.edge == "above" and state.last is None:
                return state.start[leaf.col], None
            src = epoch if leaf.edge == "end" else state.last
            return src.steps[leaf.col][-1], src.codes[leaf.col][-1]
        raise TypeError(f"an epoch-block cell cannot read {leaf!r}")

    return env

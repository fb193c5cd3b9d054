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

from .expr import At, Col, Name, approx_equal, excel_value, leaves, py
from .table import SheetSpec

_E48 = 2.0**-48
_TINY = 2.2250738585072014e-308


def _helpers(batch: bool, dialect: str) -> dict:
    def _sq(a):
        return a * a

    def _sub_scalar(a, b):
        if ((a < 0 and b < 0) or (a > 0 and b > 0)) and approx_equal(float(a), float(b)):
            return np.float64(0.0)
        return a - b

    def _add_scalar(a, b):
        if ((a < 0 < b) or (b < 0 < a)) and approx_equal(float(a), float(-b)):
            return np.float64(0.0)
        return a + b

    def _snap(r, a, b, same_sign):
        d = np.abs(r)
        hit = same_sign & (d < np.abs(a) * _E48) & (d < np.abs(b) * _E48)
        return np.where(hit, 0.0, r)

    def _sub_array(a, b):
        r = a - b
        return _snap(r, a, b, ((a < 0) & (b < 0)) | ((a > 0) & (b > 0)))

    def _add_array(a, b):
        r = a + b
        return _snap(r, a, -b, ((a < 0) & (b > 0)) | ((a > 0) & (b < 0)))

    return {
        "_sq": _sq,
        "_pow": np.power,
        "_sqrt": np.sqrt,
        "_max": np.maximum,
        "_min": np.minimum,
        "_sin": np.sin,
        # Non-finite values are recomputed exactly by _exact_rows, so the
        # fast path only needs ISERROR right for finite inputs.
        "_iserror": (lambda a: ~np.isfinite(a)) if batch else (lambda a: not np.isfinite(a)),
        "_na": lambda: np.nan,
        "_if": (lambda c, a, b: np.where(c, a, b)) if batch else (lambda c, a, b: a if c else b),
        "_add": _add_array if batch else _add_scalar,
        "_sub": _sub_array if batch else _sub_scalar,
        "np": np,
    }


class Program:
    """The compiled step table of one sheet."""

    def __init__(self, spec: SheetSpec, dialect: str = "excel"):
        self.spec = spec
        self.dialect = dialect
        self.order = _topo_order(spec)
        self.carried = sorted({d for c in spec.columns for d in c.deps(1)})
        self.row_keys = ["x", "y"]
        self.epoch_keys = sorted({leaf.key for c in spec.columns for leaf in _leaves_of(c)
                                  if isinstance(leaf, At) and leaf.key not in self.row_keys})
        self.pure = _pure_columns(spec)
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
            if leaf.key in self.row_keys:
                return f"a_{leaf.key}[r]"
            return f"e{self.epoch_keys.index(leaf.key)}"

        lines = ["def run_epoch(I, P, A, O, r0, n):"]
        for name, k in inputs.items():
            lines.append(f"    i{k} = I[{name!r}]")
        for name in self.carried:
            lines.append(f"    p{idx[name]} = P[{name!r}]")
        for key in self.row_keys:
            lines.append(f"    a_{key} = A[{key!r}]")
        for k, key in enumerate(self.epoch_keys):
            lines.append(f"    e{k} = A[{key!r}]")
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
            ns = _helpers(batch, self.dialect)
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
                elif isinstance(leaf, At) and leaf.key not in ("x", "y", "epoch:epoch"):
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
        rows = [k[1] for k in self.errors if not k[0].startswith("@") and (b is None or k[2] == b)]
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


def run(spec: SheetSpec, x, y, inputs: dict | None = None, start: dict | None = None,
        dialect: str = "excel") -> Result:
    """Compute every cell of a sheet.

    x, y: the data rows (length spec.n_data). inputs: overrides of the named
    input cells (scalars, or arrays of one length B for a batch). start:
    overrides of start-row values by column (a saved optimiser state).
    """
    prog = Program(spec, dialect)
    vals = spec.input_values()
    vals.update(inputs or {})
    sizes = {np.size(v) for v in vals.values()} | {np.size(v) for v in (start or {}).values()}
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"batched inputs disagree in length: {sorted(sizes)}")
    B = sizes.pop() if sizes else None
    batch = B is not None

    def as_cfg(v):
        v = np.asarray(v, dtype=np.float64)
        if batch:
            return np.broadcast_to(v.reshape(-1) if v.size > 1 else v.reshape(()), (B,)).copy()
        return np.float64(v.reshape(()))

    I = {k: as_cfg(v) for k, v in vals.items()}
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != (spec.n_data,) or y.shape != (spec.n_data,):
        raise ValueError(f"expected {spec.n_data} data rows, got x{x.shape} y{y.shape}")

    errors: dict = {}
    P = {}
    for c in spec.columns:
        if c.init is not None:
            if batch:  # start values may differ per configuration
                P[c.name] = np.array([_eval_small(c.init, lambda leaf, b=b: float(I[leaf.name][b]))
                                      for b in range(B)])
            else:
                P[c.name] = as_cfg(_eval_small(c.init, lambda leaf: I[leaf.name]))
    for k, v in (start or {}).items():
        P[k] = as_cfg(v)
    start_vals = dict(P)
    for name in prog.carried:
        P.setdefault(name, as_cfg(np.nan))  # read only from the second row on

    n, E = spec.n_data, spec.epochs
    shape = (spec.n_steps,) + ((B,) if batch else ())
    O = {c.name: np.empty(shape) for c in spec.columns}
    EP = {c.name: np.empty((E,) + shape[1:]) for c in spec.epoch_columns}
    run_epoch = prog.function(batch)
    rx, ry = (x[:, None], y[:, None]) if batch else (x, y)
    ep_cols = spec.epoch_columns

    for k in range(E):
        r0 = k * n
        with np.errstate(all="ignore"):
            _epoch_cells(prog, k, r0, "pre", ep_cols, EP, O, start_vals, I, errors, B)
        A = {"x": rx, "y": ry}
        for key in prog.epoch_keys:
            A[key] = EP[key.split(":", 1)[1]][k]
        if not batch:
            P = _epoch_scalar(prog, run_epoch, k, I, P, A, O, EP, errors, None, x, y)
        else:
            with np.errstate(all="raise", under="ignore"):
                try:
                    P_new, _ = run_epoch(I, P, A, O, r0, n)
                except FloatingPointError:
                    P_new = None
            bad = (set(range(B)) if P_new is None else
                   {int(j) for c in spec.columns
                    for j in np.nonzero(_bad(O[c.name][r0:r0 + n], dialect).any(axis=0))[0]})
            if bad:
                P_redo = _redo_configs(prog, k, I, P, A, O, EP, errors, sorted(bad), x, y)
                if P_new is not None:  # the other configurations finished the fast path
                    good = [j for j in range(B) if j not in bad]
                    for name in P_redo:
                        P_redo[name][good] = np.asarray(P_new[name])[good]
                P = P_redo
            else:
                P = P_new
        with np.errstate(all="ignore"):
            _epoch_cells(prog, k, r0, "post", ep_cols, EP, O, start_vals, I, errors, B)
    return Result(spec, start_vals, O, EP, errors, B)


def _epoch_scalar(prog, run_epoch, k, I, P, A, O, EP, errors, b, x, y):
    """One epoch of one configuration: fast path, then exact rows from the first trouble."""
    n = prog.spec.n_data
    r0 = k * n
    with np.errstate(all="raise", under="ignore"):
        P_new, r_fail = run_epoch(I, P, A, O, r0, n)
    first = r_fail
    for c in prog.spec.columns:
        rows = np.nonzero(_bad(O[c.name][r0:r0 + r_fail], prog.dialect))[0]
        if len(rows):
            first = min(first, int(rows[0]))
    if first == n:
        return P_new
    return _exact_rows(prog, k, r0 + first, I, P, O, EP, errors, b, x, y)


def _redo_configs(prog, k, I, P, A, O, EP, errors, configs, x, y):
    """Recompute one epoch of some configurations of a batch, one at a time."""
    scalar = prog.function(False)
    P = {name: np.array(v, copy=True) for name, v in P.items()}
    for b in configs:
        Ib = {name: np.float64(v[b]) for name, v in I.items()}
        Pb = {name: np.float64(v[b]) for name, v in P.items()}
        Ab = {key: (v[:, 0] if key in ("x", "y") else np.float64(v[b])) for key, v in A.items()}
        Ob = {name: v[:, b] for name, v in O.items()}  # views: writes land in the batch arrays
        EPb = {name: v[:, b] for name, v in EP.items()}
        errs: dict = {}
        for key, code in list(errors.items()):
            if len(key) == 3 and key[2] == b:
                errs[key[:2]] = code
        out = _epoch_scalar(prog, scalar, k, Ib, Pb, Ab, Ob, EPb, errs, None, x, y)
        for key, code in errs.items():
            errors[key + (b,)] = code
        for name in prog.carried:
            P[name][b] = out[name]
    return P


def _eval_small(e, env):
    v = excel_value(e, env)
    return np.nan if isinstance(v, str) else v


def _cell(arrays, errors, col, row, b):
    key = (col, row) if b is None else (col, row, b)
    if key in errors:
        return errors[key]
    v = arrays[col][row] if b is None else arrays[col][row, b]
    return float(v)


def _epoch_cells(prog, k, r0, phase, ep_cols, EP, O, start, I, errors, B):
    spec = prog.spec
    n = spec.n_data
    for b in range(B) if B is not None else [None]:
        def env(leaf, b=b):
            if isinstance(leaf, Name):
                return float(I[leaf.name] if b is None else I[leaf.name][b])
            if isinstance(leaf, Col):
                return _epoch_val(EP, errors, leaf.name, k - leaf.lag, b)
            where, col = leaf.key.split(":", 1)
            row = r0 - 1 if where == "before" else r0 + n - 1
            if row < 0:
                v = start[col]
                return float(v if b is None else v[b])
            return _cell(O, errors, col, row, b)

        for c in ep_cols:
            if c.phase != phase:
                continue
            e = c.first if (k == 0 and c.first is not None) else c.expr
            v = excel_value(e, env, prog.dialect)
            key = ("@" + c.name, k) if b is None else ("@" + c.name, k, b)
            if isinstance(v, str):
                errors[key] = v
                v = np.nan
            if b is None:
                EP[c.name][k] = v
            else:
                EP[c.name][k, b] = v


def _epoch_val(EP, errors, name, k, b):
    key = ("@" + name, k) if b is None else ("@" + name, k, b)
    if key in errors:
        return errors[key]
    return float(EP[name][k] if b is None else EP[name][k, b])


def _bad(arr, dialect):
    bad = ~np.isfinite(arr)
    if dialect == "libreoffice":
        a = np.abs(arr)
        bad |= (a > 0) & (a < _TINY)
    return bad


def _exact_rows(prog, k, r_start, I, P, O, EP, errors, b, x, y):
    """Rows r_start.. of epoch k with spreadsheet error semantics.

    Returns the carried values after the epoch's last row (nan for errors).
    """
    spec = prog.spec
    n = spec.n_data
    r0, r_end = k * n, k * n + n
    cols = {c.name: c for c in spec.columns}
    if r_start == 0:
        prev = {name: float(P[name]) for name in prog.carried}
    else:  # from the row above, error codes included
        prev = {name: _cell(O, errors, name, r_start - 1, None) for name in prog.carried}

    def row_env(row, r):
        """Leaf values for row r: this row's cells so far, the row above, inputs, data."""
        def env(leaf):
            if isinstance(leaf, Col):
                return row[leaf.name] if leaf.lag == 0 else prev[leaf.name]
            if isinstance(leaf, Name):
                return float(I[leaf.name])
            if leaf.key in ("x", "y"):
                return float((x if leaf.key == "x" else y)[r - r0])
            return _epoch_val(EP, errors, leaf.key.split(":", 1)[1], k, None)
        return env

    last_codes = None
    r = r_start
    while r < r_end:
        row = {}
        env = row_env(row, r)

        for name in prog.order:
            c = cols[name]
            e = c.first if (r == r0 and c.first is not None) else c.expr
            row[name] = excel_value(e, env, prog.dialect)
        _store_row(O, errors, r, row)
        codes = tuple(row[nm] for nm in prog.order if nm not in prog.pure)
        prev = {nm: row[nm] for nm in prog.carried}
        r += 1
        if codes == last_codes and all(isinstance(v, str) for v in codes):
            # Every non-data cell of two rows in a row holds the same error: so
            # will every later row (errors propagate whatever finite data they
            # meet); only the data and step columns still change.
            filled = _fill_errors(prog, O, errors, r, r_end, codes)
            for rr in range(r, r_end):
                prow = {}
                penv = row_env(prow, rr)

                for name in prog.order:
                    if name in prog.pure:
                        c = cols[name]
                        e = c.first if (rr == r0 and c.first is not None) else c.expr
                        prow[name] = excel_value(e, penv, prog.dialect)
                _store_row(O, errors, rr, prow)
                prev.update({nm: prow[nm] for nm in prog.carried if nm in prow})
            prev.update({nm: filled[nm] for nm in prog.carried if nm in filled})
            break
        last_codes = codes
    return {name: np.float64(np.nan if isinstance(v, str) else v) for name, v in prev.items()}


def _store_row(O, errors, r, row):
    for name, v in row.items():
        if isinstance(v, str):
            errors[(name, r)] = v
            v = np.nan
        else:
            errors.pop((name, r), None)
        O[name][r] = v


def _fill_errors(prog, O, errors, r1, r2, codes):
    """Rows r1..r2 hold `codes` in every non-data column.

    Once every non-data cell of two consecutive rows holds the same error,
    all later rows of the epoch do too: errors propagate independently of
    the (finite) data they meet."""
    names = [nm for nm in prog.order if nm not in prog.pure]
    for name, code in zip(names, codes):
        for r in range(r1, r2):
            errors[(name, r)] = code
        O[name][r1:r2] = np.nan
    return dict(zip(names, codes))

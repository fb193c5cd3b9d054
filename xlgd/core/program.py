"""A sheet's step table compiled: one Python function per sheet that runs an epoch's rows.

`Program` turns the step columns (via `expr.py`) into source for numpy float64
scalars (one configuration) or arrays (a batch), the exact path over
configurations (`masked_source`) and the output-only columns computed after
the rows (`derived_function`); `engine.py` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .expr import (
    Col,
    Data,
    EpochValue,
    Fn,
    Name,
    RefLeaf,
    StepEdge,
    leaves,
    nodes,
    py,
)
from .functions import compiled
from .masked_tree import masked_py
from .table import SheetSpec


class Program:
    """The compiled step table of one sheet."""

    def __init__(self, spec: SheetSpec, dialect: str = "excel", derive: bool = True):
        self.spec = spec
        self.dialect = dialect
        # Output-only columns (the chart columns) leave the row path: computed after each
        # epoch's rows over its arrays (`_derived_cells`). derive=False keeps them in the rows,
        # which the tests and benchmarks/chart_columns.py compare against.
        order, derived = _topo_order(spec), _output_only(spec) if derive else set()
        self.derived = [n for n in order if n in derived]
        self.order = [n for n in order if n not in derived]
        by_name = {c.name: list(leaves(c.expr)) for c in spec.columns if c.name in derived}
        self.reads = {n: ({lf.name for lf in by_name[n] if isinstance(lf, Col)},
                          {lf.col for lf in by_name[n] if isinstance(lf, EpochValue)})
                      for n in self.derived}  # the cells an output-only column reads
        self.carried = sorted({d for c in spec.columns for d in c.deps(1)})
        self.row_keys = ["x", "y"]
        self.epoch_keys = sorted({leaf.col for c in spec.columns for leaf in _leaves_of(c)
                                  if isinstance(leaf, EpochValue)})
        self.pure = _pure_columns(spec)
        self.quiet = _quiet_nan_columns(spec)
        self.columns = {c.name: c for c in spec.columns}
        self.watches = {}  # batch?: how many operands its source watches (the K rows it fills)
        self._fns = {}

    def source(self, batch: bool = False) -> str:
        """The epoch function (the row columns); a batch's also records each absorbable operand in K (`expr.py`)."""
        cols = {c.name: c for c in self.spec.columns}
        idx = {c.name: i for i, c in enumerate(self.spec.columns)}
        inputs = {i.name: k for k, i in enumerate(self.spec.inputs)}
        watched = []

        def watch(src):
            watched.append(src)
            return f"_w(k{len(watched) - 1}, r, {src})"

        var = LeafForm(col=lambda lf: f"{'p' if lf.lag else 'c'}{idx[lf.name]}", name=lambda lf: f"i{inputs[lf.name]}",
                       data=lambda lf: f"a_{lf.name}[r]", epoch=lambda lf: f"e{self.epoch_keys.index(lf.col)}")

        def body(first, indent):
            out = []
            for name in self.order:
                c = cols[name]
                e = c.first if (first and c.first is not None) else c.expr
                out.append(f"{indent}c{idx[name]} = {py(e, var, self.dialect, watch if batch else None)}")
            for name in self.order:
                out.append(f"{indent}o{idx[name]}[r0 + r] = c{idx[name]}")
            for name in self.carried:
                out.append(f"{indent}p{idx[name]} = c{idx[name]}")
            return out

        # Run under np.errstate(raise) for one configuration: an overflow, a
        # division by zero or an invalid operation anywhere inside a formula
        # stops the fast path at that row, even when the cell's final value
        # would look finite (x/(y/0) is 0 in IEEE, #DIV/0! in a spreadsheet).
        # A batch runs with errors ignored and finds its rows in trouble after.
        first_row, rows = body(True, "        "), body(False, "            ")
        self.watches[batch] = len(watched)
        lines = ["def run_epoch(I, P, A, E, O, r0, n, K):"]
        lines += [f"    i{k} = I[{name!r}]" for name, k in inputs.items()]
        lines += [f"    p{idx[name]} = P[{name!r}]" for name in self.carried]
        lines += [f"    a_{key} = A[{key!r}]" for key in self.row_keys]
        lines += [f"    e{k} = E[{key!r}]" for k, key in enumerate(self.epoch_keys)]
        lines += [f"    o{idx[name]} = O[{name!r}]" for name in self.order]
        lines += [f"    k{j} = K[{j}]" for j in range(len(watched))]
        lines += ["    r = 0", "    try:"] + first_row + ["        for r in range(1, n):"] + rows
        lines += ["    except FloatingPointError:", "        return r", "    return n"]
        return "\n".join(lines)

    def masked_source(self, first: bool) -> str:
        """One row's exact cells over arrays of configurations (`masked_tree.masked_py`), as a function."""
        idx = {c.name: i for i, c in enumerate(self.spec.columns)}
        inputs = {i.name: k for k, i in enumerate(self.spec.inputs)}

        def code(name, var):
            return "None" if name in self.pure else var

        def col(lf):
            i = idx[lf.name]
            return (f"p{i}", code(lf.name, f"g{i}")) if lf.lag else (f"c{i}", code(lf.name, f"f{i}"))

        def epoch(lf):
            k = self.epoch_keys.index(lf.col)
            return f"e{k}", f"h{k}"

        # (value, error codes) per leaf: inputs and data are never errors
        var = LeafForm(col=col, name=lambda lf: (f"i{inputs[lf.name]}", "None"),
                       data=lambda lf: (f"a_{lf.name}", "None"), epoch=epoch)

        lines = ["def masked_row(I, P, PC, E, EC, a_x, a_y):"]
        lines += [f"    i{k} = I[{name!r}]" for name, k in inputs.items()]
        lines += [f"    p{idx[name]} = P[{name!r}]" for name in self.carried]
        lines += [f"    g{idx[name]} = PC[{name!r}]" for name in self.carried if name not in self.pure]
        lines += [f"    e{k} = E[{key!r}]\n    h{k} = EC[{key!r}]" for k, key in enumerate(self.epoch_keys)]
        for name in self.order:
            c, i = self.columns[name], idx[name]
            e = c.first if (first and c.first is not None) else c.expr
            v, err = masked_py(e, var, lambda line: lines.append("    " + line), self.dialect, f"t{i}")
            lines += [f"    c{i} = {v}", f"    f{i} = {code(name, err)}"]
        lines.append("    return {" + ", ".join(f"{name!r}: (c{idx[name]}, f{idx[name]})" for name in self.order) + "}")
        return "\n".join(lines)

    def derived_function(self, name: str):
        """An output-only column over an epoch's arrays, the fast way: f(S, I, A, E) -> values.
        Exact where no floating-point error is raised and every value is a finite number."""
        key = ("derived", name)
        if key not in self._fns:
            var = LeafForm(col=lambda lf: f"S[{lf.name!r}]", name=lambda lf: f"I[{lf.name!r}]",
                           data=lambda lf: f"A[{lf.name!r}]", epoch=lambda lf: f"E[{lf.col!r}]")
            src = f"def derived(S, I, A, E):\n    return {py(self.columns[name].expr, var, self.dialect)}"
            self._fns[key] = compiled(src, "derived", True, self.dialect, f"<xlgd sheet {self.spec.name} {name}>")
        return self._fns[key]

    def function(self, batch: bool):
        if batch not in self._fns:
            self._fns[batch] = compiled(self.source(batch), "run_epoch", batch, self.dialect,
                                        f"<xlgd sheet {self.spec.name}>")
        return self._fns[batch]

    def masked(self, first: bool):
        """The compiled `masked_source`: row -> {column: (values, codes)}."""
        key = ("masked", first)
        if key not in self._fns:
            self._fns[key] = compiled(self.masked_source(first), "masked_row", True, self.dialect,
                                      f"<xlgd sheet {self.spec.name} exact>")
        return self._fns[key]


@dataclass(frozen=True)
class LeafForm:
    """How one generated function names the leaves a step column reads: one naming per kind of leaf.

    The row path (`source`), the exact path over configurations (`masked_source`) and the output-only
    columns (`derived_function`) read the same four kinds of leaf under different local names; this is
    the one place the kinds are told apart."""

    col: Callable  # a column of this sheet (this row's, or the row above's when lag)
    name: Callable  # an input cell (lr, beta1 ...)
    data: Callable  # x or y of the step's data row
    epoch: Callable  # a value fixed for the epoch (the per-epoch mean of a column ...)

    def __call__(self, leaf):
        for kind, form in ((Col, self.col), (Name, self.name), (Data, self.data), (EpochValue, self.epoch)):
            if isinstance(leaf, kind):
                return form(leaf)
        raise TypeError(f"a step column cannot read {leaf!r}")


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


def _output_only(spec: SheetSpec) -> set:
    """Columns no cell reads -- no other column, no epoch-block cell -- whose formula reads only
    its own row's cells, the inputs, the data and the epoch's cells: the chart columns.

    Nothing downstream waits for them, so they need not run row by row: `_derived_cells`
    computes them after the epoch's rows, a column at a time over the epoch's arrays, with
    the exact evaluator's masks (`masked_tree.masked_value`): the same values and error codes. In the
    row path their #N/A (a clipped point) would look like trouble and send the rest of the epoch
    to the exact evaluator, row by row."""
    def plain(leaf):
        return isinstance(leaf, (Name, Data, EpochValue)) or (isinstance(leaf, Col) and leaf.lag == 0)

    edges = {leaf.col for c in spec.epoch_columns for e in (c.expr, c.first) if e is not None
             for leaf in leaves(e) if isinstance(leaf, StepEdge)}
    out = {c.name for c in spec.columns
           if c.first is None and c.init is None and all(plain(leaf) for leaf in leaves(c.expr))} - edges
    out -= _pure_columns(spec)
    deps = {c.name: (c.deps(0), c.deps(1)) for c in spec.columns}
    out -= {d for now, above in deps.values() for d in above}  # a value the next row reads
    shrunk = True
    while shrunk:  # a column read by one that stays in the rows stays there too
        read = {d for name, (now, _) in deps.items() if name not in out for d in now}
        shrunk = bool(out & read)
        out -= read
    return out


def _quiet_nan_columns(spec: SheetSpec) -> set:
    """Columns that can hold nan with no floating-point error raised: NA() is nan, and nan
    passes quietly through whatever reads it (this row's cells or the next row's)."""
    def has_na(e):
        return any(isinstance(n, Fn) and n.name == "NA" for n in nodes(e))

    quiet = {c.name for c in spec.columns if any(has_na(e) for e in (c.expr, c.first) if e is not None)}
    grown = True
    while grown:
        grown = False
        for c in spec.columns:
            if c.name not in quiet and (c.deps(0) | c.deps(1)) & quiet:
                quiet.add(c.name)
                grown = True
    return quiet


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
                elif isinstance(leaf, RefLeaf) and not isinstance(leaf, Data) and leaf != EpochValue("epoch"):
                    ok = False
            if ok:
                pure.add(c.name)
                changed = True
    return pure

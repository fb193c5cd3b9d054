"""Recognising the gradient descent a sheet does: step rows, weights, updates, optimiser.

A step table unrolls gradient descent one step per row: a weight column whose
next row reads a "new weight" column (`B5 =M4`), the new weight computed as
the weight minus a step (`M4 =B4-$F$1*I4`). The step's form names the
optimiser:

    lr*g                       SGD
    lr*m,  m = b*m' + (1-b)*g  momentum (an EMA of g), or m = b*m' + g (torch's form)
    lr*g/SQRT(v), v = EMA of g^2                 RMSProp (v of this row or the row above)
    lr*m/SQRT(v)  (and a factor with b^t)        Adam (with bias correction)

where g is a gradient column and m, v state columns reading their own row
above. `recognise` returns a `Descent` (the table, one `Weight` each) or
None when the sheet has no such chain; an update it cannot read is kept, with
the reason, so the report can say which cells and why. Two other shapes:
one update per epoch (`recognise_epoch`: the rows read parameter cells, a
single cell computes each new weight from a derivative column's SUM or
AVERAGE; a single cell stands where a column goes, `Table.single`), and
xlgd's own layouts (`recognise_layout`: the trees are the SheetSpec's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.expr import (
    Bin,
    CellRef,
    Col,
    Expr,
    Fn,
    Name,
    Neg,
    Num,
    RangeRef,
    leaves,
    nodes,
)
from ..evaluator import Evaluation
from ..evaluator.prepare import map_leaves
from ..evaluator.store import BLANK, NUMBER
from ..xlsx.refs import a1, col_letters
from .headers import header
from .rowcalc import RowCell, evaluate, relative, same_tree

SINGLE = 1 << 20  # ids of single cells standing as columns: past any sheet's last column


@dataclass
class Table:
    """The step rows first..last of a sheet, its columns' row-relative trees and values."""

    evaluation: Evaluation
    sheet: str
    first: int
    last: int
    trees: dict = field(default_factory=dict)  # column -> tree (one formula over every step row)
    weights: set = field(default_factory=set)  # weight columns (never inlined)
    headers: dict = field(default_factory=dict)  # column -> header, where the sheet's own text is not read
    cells: dict = field(default_factory=dict)  # a single cell standing as a column (see `single`): id -> (row, col)

    @property
    def n(self):
        return self.last - self.first + 1

    def values(self, col, off=0, sheet=None) -> np.ndarray:
        """A column's computed values on the step rows (`off` rows down); NaN where not a number."""
        if col in self.cells:
            return np.full(self.n, self.cell(self.sheet, *self.cells[col]))
        num, kind = self.evaluation.values(sheet or self.sheet).slice(col, self.first + off, self.last + off)
        return np.where((kind == NUMBER) | (kind == BLANK), num, np.nan)

    def cell(self, sheet, row, col) -> float:
        """A cell's computed value as a number (blank 0, anything else not a number NaN)."""
        v = self.evaluation.value(sheet, row, col)
        return float(v) if isinstance(v, (float, int)) and not isinstance(v, bool) else \
            (0.0 if v is None else np.nan)

    def leaf(self, node):
        """A leaf's values for `rowcalc.evaluate`: a column's over the step rows, a cell's number."""
        if isinstance(node, RowCell):
            return self.values(node.col, node.off, node.sheet)
        if isinstance(node, CellRef):
            if node.sheet not in self.evaluation.book.sheets:
                return np.nan
            return self.cell(node.sheet, node.row, node.col)
        return np.nan

    def expand(self, expr: Expr, depth=0) -> Expr:
        """expr with each same-row reference to a column of the table inlined (not the weights)."""
        def inline(node):
            if isinstance(node, RowCell) and node.sheet == self.sheet and node.off == 0 \
                    and node.col in self.trees and node.col not in self.weights and depth < 30:
                return self.expand(self.trees[node.col], depth + 1)
            return node

        return map_leaves(expr, inline)

    def single(self, row, col) -> int:
        """An id standing for one cell (a parameter cell, an update cell) wherever a column goes."""
        key = SINGLE + len(self.cells)
        self.cells[key] = (row, col)
        return key

    def where(self, col) -> str:
        """A column's letter, or a single cell's address."""
        return a1(*self.cells[col]) if col in self.cells else col_letters(col)

    def span(self, col) -> str:
        """A column's step rows (`K5:K33`), or a single cell's address."""
        return self.where(col) if col in self.cells else f"{self.where(col)}{self.first}:{self.where(col)}{self.last}"

    def name(self, col) -> str:
        """A column as a report names it: `de/db (K)`, or the letter alone."""
        h = self.header(col, None)
        return f"{h} ({self.where(col)})" if h else self.where(col)

    def header(self, col, otherwise="") -> str | None:
        """A column's header text; without one, `otherwise` (by default its letter or address)."""
        if col in self.headers:
            return self.headers[col]
        h = None if col in self.cells else header(self.evaluation, self.sheet, self.first, col)
        return h or (self.where(col) if otherwise == "" else otherwise)


@dataclass
class Ema:
    """A state column: col = beta*col(row above) + coef*x, x the gradient or its square."""

    col: int
    grad: int | None
    squared: bool
    beta: Expr
    coef: Expr
    problem: str | None = None


@dataclass
class Weight:
    """One weight: the column each row reads, its update and what the update is made of."""

    col: int
    update: int
    sign: float = -1.0  # -1: new w = w - step
    lr: Expr | None = None
    grad: int | None = None  # the gradient column the update uses (directly or through a state)
    first: Ema | None = None  # momentum
    second: Ema | None = None  # RMSProp/Adam's v
    lagged: bool = False  # divides by the row above's v
    bias_corrected: bool = False
    eps: bool = False
    problem: str | None = None  # why the update could not be read
    causes: list = field(default_factory=list)
    derivative: str = ""  # 'analytic' or 'forward difference'


@dataclass
class Descent:
    table: Table
    weights: list
    per_epoch: bool = False  # one update per epoch from parameter cells (else one per row)


def recognise(evaluation: Evaluation, sheet: str) -> Descent | None:
    """The sheet's gradient descent, or None when no weight column is chained to an update."""
    segs = segments(evaluation, sheet)
    chains = []
    for col, spans in sorted(segs.items()):
        for r0, r1, e in spans:
            if isinstance(e, RowCell) and e.sheet == sheet and e.off == -1 and r1 > r0 and e.col != col:
                new = next(((a, b) for a, b, _ in segs.get(e.col, ()) if a <= r0 - 1 <= b), None)
                if new is not None:
                    chains.append((col, e.col, (r0, r1), new))
                break
    if not chains:
        return recognise_epoch(evaluation, sheet, segs)
    first = max(max(w[0] - 1, n[0]) for _, _, w, n in chains)
    last = min(min(w[1], n[1]) for _, _, w, n in chains)
    if last - first < 1:
        return None
    table = Table(evaluation, sheet, first, last, weights={w for w, *_ in chains})
    for col, spans in segs.items():
        for r0, r1, e in spans:
            if r0 <= first and r1 >= last:
                table.trees[col] = e
    weights = [_weight(table, w, nw) for w, nw, _, _ in chains]
    if not any(w.problem is None for w in weights):
        return None
    return Descent(table, weights)


def recognise_layout(evaluation: Evaluation, sheet: str, spec, first: int, input_row: int) -> Descent | None:
    """The gradient descent of a sheet xlgd laid out from `spec` (a SheetSpec), its step rows from
    `first`: the trees are the spec's own column definitions, the values the sheet's."""
    index = {c.name: i + 1 for i, c in enumerate(spec.columns)}
    inputs = {inp.name: i + 1 for i, inp in enumerate(spec.inputs)}
    table = Table(evaluation, sheet, first, first + spec.n_steps - 1,
                  headers={index[c.name]: c.header for c in spec.columns})

    def leaf(node):
        if isinstance(node, Col) and node.name in index:
            return RowCell(sheet, index[node.name], -node.lag)
        if isinstance(node, Name) and node.sheet is None and node.name in inputs:
            return CellRef(sheet, input_row, inputs[node.name], True)
        raise KeyError(node)

    chains = []
    for c in spec.columns:
        if isinstance(c.expr, Col) and c.expr.lag == 1 and c.expr.name != c.name and c.expr.name in index:
            chains.append((index[c.name], index[c.expr.name]))
        try:
            table.trees[index[c.name]] = map_leaves(c.expr, leaf)
        except KeyError:
            continue
    table.weights = {w for w, _ in chains}
    for w, _ in chains:
        table.trees.pop(w, None)
    weights = [_weight(table, w, nw) for w, nw in chains]
    return Descent(table, weights) if any(w.problem is None for w in weights) else None


def recognise_epoch(evaluation: Evaluation, sheet: str, segs: dict) -> Descent | None:
    """One update per epoch: every row reads the weights from parameter cells, and single cells compute
    the new weights from a column's SUM or AVERAGE (`=B1-$F$1*SUM(E5:E33)`)."""
    sc = evaluation.book.sheets[sheet]
    found = []
    for col, runs in sorted(sc.runs.items()):
        for run in runs:
            if run.n == 1 and not run.array_context and evaluation.prepared_run(run).expr is not None:
                got = _epoch_update(evaluation, sheet, evaluation.prepared_run(run).expr)
                if got is not None:
                    found.append(((run.r0, col),) + got)
    if not found:
        return None
    first, last = max(f[3][0] for f in found), min(f[3][1] for f in found)
    if last - first < 1:
        return None
    table = Table(evaluation, sheet, first, last)
    param = {}
    for (ur, uc), (pr, pc), step, (r0, r1, gcol) in found:
        vcol = param.setdefault((pr, pc), table.single(pr, pc))
        table.headers[vcol] = _label(sc, pr, pc) or a1(pr, pc)
        table.weights.add(vcol)
    for col, spans in segs.items():
        for r0, r1, e in spans:
            if r0 <= first and r1 >= last:
                table.trees[col] = map_leaves(e, lambda x: RowCell(sheet, param[(x.row, x.col)], 0)
                                              if isinstance(x, CellRef) and x.sheet == sheet
                                              and (x.row, x.col) in param else x)
    weights = []
    for (ur, uc), (pr, pc), (sign, lr), (r0, r1, gcol) in found:
        w = Weight(param[(pr, pc)], table.single(ur, uc), sign=sign, lr=lr, grad=gcol)
        table.headers[w.update] = _label(sc, ur, uc) or a1(ur, uc)
        weights.append(w)
    reads = {x.col for t in table.trees.values() for x in leaves(t) if isinstance(x, RowCell)}
    weights = [w for w in weights if w.col in reads]
    return Descent(table, weights, per_epoch=True) if weights else None


def _epoch_update(evaluation, sheet, expr):
    """((param row, col), (sign, lr), (first row, last row, gradient column)) of `P - lr*SUM(G5:G33)`."""
    parts = terms(expr)
    if len(parts) != 2:
        return None
    (s1, own), (s2, step) = parts if isinstance(parts[0][1], CellRef) else parts[::-1]
    sc = evaluation.book.sheets[sheet]
    if not isinstance(own, CellRef) or own.sheet != sheet or s1 < 0 or sc.run_at(own.row, own.col) is not None:
        return None
    sign, num, den = factors(step)
    agg = [f for f in num if _aggregate(evaluation, sheet, f) is not None]
    lr = [f for f in num if isinstance(f, (CellRef, Num)) and _aggregate(evaluation, sheet, f) is None]
    if len(agg) != 1 or len(lr) != 1 or den or len(num) != 2:
        return None
    return (own.row, own.col), (s2 * sign, lr[0]), _aggregate(evaluation, sheet, agg[0])


def _aggregate(evaluation, sheet, expr):
    """(first row, last row, column) of SUM(G5:G33) or AVERAGE(G5:G33), or of a cell holding one."""
    if isinstance(expr, CellRef) and expr.sheet == sheet:
        run = evaluation.book.sheets[sheet].run_at(expr.row, expr.col)
        expr = evaluation.prepared_run(run).expr if run is not None and run.n == 1 else None
    if isinstance(expr, Fn) and expr.name in ("SUM", "AVERAGE") and len(expr.args) == 1:
        r = expr.args[0]
        if isinstance(r, RangeRef) and r.sheet == sheet and r.col == r.col2 and r.row2 > r.row:
            return r.row, r.row2, r.col
    return None


def _label(sheet_cells, row, col) -> str | None:
    """The text left of a cell, or above it."""
    for r, c in ((row, col - 1), (row - 1, col)):
        v = sheet_cells.consts.get(r, c) if r >= 1 and c >= 1 else None
        if isinstance(v, str) and v.strip() and not v.startswith("#"):
            return v.strip()
    return None


def segments(evaluation: Evaluation, sheet: str) -> dict:
    """column -> [(r0, r1, row-relative tree)]: runs of one formula, adjacent runs of the same
    formula (a file's shared-formula blocks) joined."""
    out = {}
    for col, runs in evaluation.book.sheets[sheet].runs.items():
        spans = []
        for run in runs:
            e = evaluation.prepared_run(run).expr if not run.array_context else None
            if e is None:
                continue
            e = relative(e, run.r0)
            if spans and spans[-1][1] == run.r0 - 1 and same_tree(spans[-1][2], e):
                spans[-1] = (spans[-1][0], run.r1, spans[-1][2])
            else:
                spans.append((run.r0, run.r1, e))
        out[col] = spans
    return out


# ------------------------------------------------------------------ the update
def terms(expr: Expr, sign=1.0) -> list:
    """expr as a sum: [(sign, term)]."""
    if isinstance(expr, Bin) and expr.op in "+-":
        return terms(expr.left, sign) + terms(expr.right, sign if expr.op == "+" else -sign)
    if isinstance(expr, Neg):
        return terms(expr.arg, -sign)
    return [(sign, expr)]


def factors(expr: Expr) -> tuple:
    """expr as a product: (sign, numerator factors, denominator factors)."""
    if isinstance(expr, Neg):
        s, num, den = factors(expr.arg)
        return -s, num, den
    if isinstance(expr, Bin) and expr.op == "*":
        s1, n1, d1 = factors(expr.left)
        s2, n2, d2 = factors(expr.right)
        return s1 * s2, n1 + n2, d1 + d2
    if isinstance(expr, Bin) and expr.op == "/":
        s1, n1, d1 = factors(expr.left)
        s2, n2, d2 = factors(expr.right)
        return s1 * s2, n1 + d2, d1 + n2
    return 1.0, [expr], []


def constant(expr: Expr) -> bool:
    """No row-relative reference: the same on every step row (numbers, anchored cells)."""
    return not any(isinstance(x, RowCell) for x in leaves(expr))


def _weight(table: Table, w: int, nw: int) -> Weight:
    out = Weight(w, nw)
    tree = table.trees.get(nw)
    if tree is None:
        out.problem = f"{table.name(nw)} does not hold one formula on rows {table.first}..{table.last}"
        return out
    me = RowCell(table.sheet, w, 0)
    parts = terms(tree)
    own = [p for p in parts if same_tree(p[1], me)]
    rest = [p for p in parts if not same_tree(p[1], me)]
    if len(own) != 1 or own[0][0] < 0 or len(rest) != 1:
        out.problem = f"{table.name(nw)} is not {table.header(w)} minus a step"
        return out
    sign, num, den = factors(rest[0][1])
    out.sign = rest[0][0] * sign
    _step(table, out, num, den)
    return out


def _step(table: Table, out: Weight, num: list, den: list):
    """Read the step's factors into the weight: lr, gradient, state columns, denominator."""
    out.bias_corrected = any(_bias(f) for f in num + den)
    num, den = [f for f in num if not _bias(f)], [f for f in den if not _bias(f)]
    consts = [f for f in num if constant(f)]
    cols = [f for f in num if not constant(f)]
    if len(cols) != 1 or not isinstance(cols[0], RowCell) or cols[0].off != 0 or cols[0].sheet != table.sheet:
        out.problem = f"the step in {table.name(out.update)} is not a rate times one column of its row"
        return
    plain = [f for f in consts if isinstance(f, (CellRef, Num))]
    out.lr = plain[0] if len(plain) == 1 else (consts[0] if len(consts) == 1 else None)
    if out.lr is None:
        out.problem = f"the step in {table.name(out.update)} has no one learning-rate cell"
        return
    col = cols[0].col
    ema = _ema(table, col)
    if ema is not None:
        out.first, out.grad = ema, ema.grad
    else:
        out.grad = col
    for f in den:
        if constant(f):
            continue
        v = _root(table, f, out)
        if v is None:
            out.problem = f"the step in {table.name(out.update)} divides by something other than SQRT of a state"
            return
        out.second = v
    if out.second is not None and out.second.grad != out.grad and out.problem is None:
        out.second.problem = (f"{table.name(out.second.col)} averages the square of "
                              f"{table.name(out.second.grad)}, not of {table.name(out.grad)}")


def _root(table, f, out) -> Ema | None:
    """SQRT(v), SQRT(v)+eps or SQRT(v+eps) with v a state column of squares."""
    if isinstance(f, Bin) and f.op == "+" and constant(f.right):
        out.eps = True
        f = f.left
    if not (isinstance(f, Fn) and f.name == "SQRT" and len(f.args) == 1):
        return None
    inner = f.args[0]
    if isinstance(inner, Bin) and inner.op == "+" and constant(inner.right):
        out.eps, inner = True, inner.left
    if isinstance(inner, Bin) and inner.op == "/" and _bias(inner.right):
        out.bias_corrected, inner = True, inner.left
    if not isinstance(inner, RowCell) or inner.sheet != table.sheet or inner.off not in (0, -1):
        return None
    out.lagged = inner.off == -1
    ema = _ema(table, inner.col)
    return ema if ema is not None and ema.squared else None


def _bias(f: Expr) -> bool:
    """A bias correction's factor: a constant raised to a power that changes by row (b^t), and nothing
    else that changes by row (1-b^t, SQRT(1-b^t))."""
    powers = [n for n in nodes(f) if isinstance(n, Bin) and n.op == "^" and constant(n.left)
              and not constant(n.right)]
    if not powers:
        return False
    inside = {id(x) for p in powers for x in nodes(p.right)}
    return not any(isinstance(x, RowCell) and id(x) not in inside for x in nodes(f))


def _ema(table: Table, col: int) -> Ema | None:
    """The state column col read as beta*col(row above) + coef*x, or None."""
    tree = table.trees.get(col)
    if tree is None:
        return None
    me = RowCell(table.sheet, col, -1)
    parts = terms(tree)
    if len(parts) != 2 or any(s < 0 for s, _ in parts):
        return None
    beta = coef = x = None
    for _, t in parts:
        _, num, den = factors(t)
        if den:
            return None
        if any(same_tree(f, me) for f in num):
            beta = _product([f for f in num if not same_tree(f, me)])
        else:
            x, coef = [f for f in num if not constant(f)], _product([f for f in num if constant(f)])
    if beta is None or x is None or not constant(beta):
        return None
    grad, squared = _gradient_of(table, x)
    if grad is None:
        return None
    return Ema(col, grad, squared, beta, coef)


def _gradient_of(table, x: list) -> tuple:
    """(column, squared) of g or g^2 (written g^2 or g*g) in a state's formula."""
    def cell(expr):
        return expr.col if isinstance(expr, RowCell) and expr.off == 0 and expr.sheet == table.sheet else None

    if len(x) == 1:
        e = x[0]
        if isinstance(e, Bin) and e.op == "^" and isinstance(e.right, Num) and e.right.value == 2.0:
            return cell(e.left), True
        if isinstance(e, Bin) and e.op == "*" and same_tree(e.left, e.right):
            return cell(e.left), True
        return cell(e), False
    if len(x) == 2 and same_tree(x[0], x[1]):
        return cell(x[0]), True
    return None, False


def _product(fs: list) -> Expr:
    if not fs:
        return Num(1.0)
    out = fs[0]
    for f in fs[1:]:
        out = Bin("*", out, f)
    return out


def labelled(table: Table, expr: Expr) -> str:
    """An input cell as a report names it: `F1 (lr)` with the text left of it or above it."""
    text = cell_text(expr)
    if isinstance(expr, CellRef) and expr.sheet in table.evaluation.book.sheets:
        label = _label(table.evaluation.book.sheets[expr.sheet], expr.row, expr.col)
        if label:
            return f"{text} ({label})"
    return text


def cell_text(expr: Expr) -> str:
    """An anchored cell as A1 text, a number as itself, else a short description."""
    if isinstance(expr, CellRef):
        return a1(expr.row, expr.col)
    if isinstance(expr, Num):
        return repr(expr.value)
    return "a formula"


# ------------------------------------------------------------------ the optimiser
def optimizer_name(table: Table, weights: list) -> str:
    """What the updates do, by their form: SGD, momentum, RMSProp, Adam (with/without bias correction)."""
    ok = [w for w in weights if w.problem is None]
    if not ok:
        return "unknown"
    kinds = {(w.first is not None, w.second is not None) for w in ok}
    if len(kinds) != 1:
        return "unknown"
    first, second = kinds.pop()
    if first and second:
        return "Adam" + (" with bias correction" if any(w.bias_corrected for w in ok) else
                         " without bias correction")
    if second:
        return "RMSProp" + (" (dividing by the row above's mean square)" if all(w.lagged for w in ok) else "")
    if first:
        torch = all(abs(value_of(table, w.first.coef) - 1.0) == 0 for w in ok)
        return "momentum (m = b*m + g)" if torch else "momentum"
    return "SGD"


def value_of(table: Table, expr: Expr) -> float:
    v = np.asarray(evaluate(expr, table.leaf, order=0).v, dtype=float)
    return float(v.reshape(-1)[0]) if v.size else float("nan")


def check_states(table: Table, weights: list) -> list:
    """[(column, message)] for each state column whose decay rate is read from the wrong cell: an
    EMA's two coefficients add to 1 (or the gradient's is 1, torch's form), and every state of a
    kind reads its rate from the same cell."""
    out = []
    for kind in ("first", "second"):
        emas = [getattr(w, kind) for w in weights if w.problem is None and getattr(w, kind) is not None]
        if not emas:
            continue
        fine = {}
        for e in emas:
            b, k = value_of(table, e.beta), value_of(table, e.coef)
            fine[e.col] = (abs(b + k - 1.0) <= 4 * np.finfo(float).eps or k == 1.0, b, k)
        good = sorted({cell_text(e.beta) for e in emas if fine[e.col][0]})
        for e in emas:
            ok, b, k = fine[e.col]
            if e.problem is not None:
                out.append((e.col, e.problem))
                continue
            if ok:
                continue
            c = cell_text(e.beta)
            what = "momentum" if kind == "first" else "mean square"
            if good and c not in good:
                msg = (f"{table.name(e.col)} ({what} of {table.header(e.grad)}) reads its decay rate from {c} "
                       f"({b:g}), where the other {what} column(s) read it from {', '.join(good)}")
            else:
                msg = (f"{table.name(e.col)} ({what} of {table.header(e.grad)}) weighs the row above by {b:g} "
                       f"({c}) and the gradient by {k:g}: they do not add to 1, nor is the gradient's weight 1")
            e.problem = msg
            out.append((e.col, msg))
    return out

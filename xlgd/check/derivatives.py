"""Proving a step table's derivatives against its own loss, and that each update uses its own.

The loss of a row is the formula its forward differences subtract (`(e(b+h) -
e)/h`: e), else the column holding a square; its tree, with the same row's
intermediate cells inlined (pred -> err^2), is differentiated forward-mode
(`rowcalc.evaluate`) in the weight cells the row reads, with the row's values,
over every row at once. Then each gradient column an update uses is:

* analytic: equal to dloss/dw to rounding (a few ulp of the size of its terms);
* a forward difference: its `e(w+h)` is the loss with exactly that weight moved
  by h (evaluated: the loss tree with w+h against the column's own), and its
  value within h/2*|d2loss/dw2| (at w or w+h: the Lagrange remainder) plus
  rounding of dloss/dw, on rows where the step h crosses no kink (MAX, IF).

A column that is another weight's derivative, has the wrong sign or misses a
factor is one cause naming it; an update using another weight's gradient is
one cause naming the update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..core.expr import Address, Bin, CellRef, Expr, Num, RangeRef, leaves, n_ops
from ..evaluator.prepare import map_leaves
from .gradient import Table, constant, factors
from .rowcalc import EPS, NotDifferentiable, RowCell, evaluate, magnitude_of, same_tree

ROUNDING = 64  # ulps per operation a column and its reference may each be off by


@dataclass
class Loss:
    tree: Expr  # expanded: a function of the weight cells and constants
    col: int | None  # the column holding it, if one does
    how: str  # 'forward differences subtract it', 'a square', ...
    jet: object = None  # value, gradient and Hessian over the rows
    kinks: list = field(default_factory=list)


@dataclass
class Gradient:
    """What a gradient column is: its kind, and the weight (index) it differentiates, or why none."""

    col: int
    kind: str  # 'analytic' | 'forward difference'
    of: int | None = None
    problem: str | None = None
    checked_rows: int = 0
    wrong: bool = False  # the problem proves a mistake (else the column could not be checked)


def seeds(table: Table) -> dict:
    return {x: i for i, x in enumerate(seed_leaves(table))}


def fd_parts(tree: Expr):
    """(e(w+h), e, h) of a forward difference `(e1 - e0)/h`, or None."""
    if isinstance(tree, Bin) and tree.op == "/" and constant(tree.right) and isinstance(tree.left, Bin) \
            and tree.left.op == "-" and not constant(tree.left.left):
        return tree.left.left, tree.left.right, tree.right
    return None


def find_loss(table: Table, grads: list) -> Loss | None:
    """The row's loss: what the forward differences subtract, else a column holding a square."""
    e0s = [p[1] for p in (fd_parts(table.trees.get(g, Num(0.0))) for g in grads) if p is not None]
    if e0s and all(same_tree(table.expand(e), table.expand(e0s[0])) for e in e0s) and (
            len(e0s) > 1 or isinstance(e0s[0], RowCell)):
        e0 = e0s[0]
        col = e0.col if isinstance(e0, RowCell) and e0.off == 0 else None
        return Loss(table.expand(e0), col, "forward differences")
    best = None
    for col, tree in sorted(table.trees.items()):
        if col in table.weights or col in grads or not _square(tree):
            continue
        e = table.expand(tree)
        reads = {x.col for x in _row_leaves(e) if x.col in table.weights}
        if reads and (best is None or len(reads) > best[0]):
            best = (len(reads), col, e)
    if best is None:
        return None
    return Loss(best[2], best[1], "a square")


def guessed_losses(table: Table, used: set) -> list:
    """Without a loss in the sheet: (pred - y)^2 for each column of the table reading every weight
    (pred) and each column of numbers on the step rows (y)."""
    sc = table.evaluation.book.sheets[table.sheet]
    data = []
    for c in sorted(sc.consts.cols):
        if c in table.trees or c in table.weights or sc.run_at(table.first, c) is not None:
            continue
        v = table.values(c)
        if np.all(np.isfinite(v)) and not np.all(v == 0):
            data.append(c)
    out = []
    for col, tree in sorted(table.trees.items()):
        if col in table.weights or col in used:
            continue
        e = table.expand(tree)
        if {x.col for x in _row_leaves(e)} >= table.weights:
            for y in data:
                diff = Bin("-", e, RowCell(table.sheet, y, 0))
                out.append(Loss(Bin("^", diff, Num(2.0)), None,
                                f"({table.name(col)} - {table.name(y)})^2, the squared error"))
    return out


def _square(expr: Expr) -> bool:
    """A square, maybe scaled by constants: (p-y)^2, (p-y)*(p-y), 0.5*(p-y)^2, (p-y)^2/2."""
    _, num, den = factors(expr)
    rest = [f for f in num if not constant(f)]
    if not all(constant(f) for f in den):
        return False
    if len(rest) == 2:
        return same_tree(rest[0], rest[1])
    expr = rest[0] if len(rest) == 1 else None
    return isinstance(expr, Bin) and expr.op == "^" and isinstance(expr.right, Num) and expr.right.value == 2.0


def _row_leaves(expr):
    return [x for x in leaves(expr) if isinstance(x, RowCell)]


def differentiate(table: Table, loss: Loss):
    """The loss's value, gradient and Hessian in the weights over every step row; NotDifferentiable
    when a column between the weights and the loss changes formula within the rows."""
    sc = table.evaluation.book.sheets[table.sheet]
    for x in _row_leaves(loss.tree):
        if x.sheet == table.sheet and x.off == 0 and x.col not in table.weights and any(
                sc.run_at(r, x.col) is not None for r in range(table.first, table.last + 1)) \
                and not _weight_free(table, x.col):
            raise NotDifferentiable(f"{table.name(x.col)}, which does not hold one formula on rows "
                                    f"{table.first}..{table.last}")
    loss.kinks = []
    loss.jet = evaluate(loss.tree, table.leaf, seeds(table), order=2, kinks=loss.kinks)
    if loss.jet.g is None:
        raise NotDifferentiable("no weight of the table")


def _weight_free(table: Table, col: int, depth: int = 0) -> bool:
    """Whether no formula of a column on the step rows reads a weight through this sheet's cells
    (graddesc's x column, `=data!B5` wrapping every epoch): to the derivatives it is data."""
    if col in table.weights or col in table.trees or depth > 4:
        return False
    sc = table.evaluation.book.sheets[table.sheet]
    runs = {run.id: run for r in range(table.first, table.last + 1) if (run := sc.run_at(r, col)) is not None}
    for run in runs.values():
        expr = table.evaluation.prepared_run(run).expr
        if expr is None:
            return False
        for leaf in leaves(expr):
            if isinstance(leaf, Address) or getattr(leaf, "sheet", None) != table.sheet:
                continue
            if not isinstance(leaf, CellRef) or isinstance(leaf, RangeRef):
                return False
            if sc.run_at(leaf.row, leaf.col) is not None and not _weight_free(table, leaf.col, depth + 1):
                return False
            if leaf.col in table.weights:
                return False
    return True


def _moved(table: Table, k: int, h) -> callable:
    """Leaf values with weight k moved by h (an array or a number)."""
    target = seed_leaves(table)[k]

    def leaf(node):
        v = table.leaf(node)
        return v + h if node == target else v

    return leaf


def check_gradient(table: Table, loss: Loss, col: int, intended: int) -> Gradient:
    """Which weight column col differentiates the loss with respect to (or what is wrong with it)."""
    tree = table.trees.get(col)
    if tree is None:
        return Gradient(col, "analytic", problem=f"{table.name(col)} does not hold one formula on rows "
                                                 f"{table.first}..{table.last}")
    parts = fd_parts(tree)
    try:
        if parts is not None:
            return _forward_difference(table, loss, col, parts, intended)
        return _analytic(table, loss, col, intended)
    except NotDifferentiable as e:
        return Gradient(col, "forward difference" if parts else "analytic",
                        problem=f"{table.name(col)} uses {e}, which the check does not differentiate")


def _finite(*arrays) -> np.ndarray:
    ok = np.ones(np.broadcast(*arrays).shape, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def _analytic(table, loss, col, intended) -> Gradient:
    have = table.values(col)
    ref = loss.jet.g
    scale = magnitude_of(table.expand(table.trees[col]), table.leaf)
    ops = n_ops(table.expand(table.trees[col])) + n_ops(loss.tree)
    out = Gradient(col, "analytic")

    def close(want):
        tol = ROUNDING * EPS * ops * (scale + np.abs(want))
        rows = _finite(have, want, tol)
        return rows, np.all(np.abs(have - want)[rows] <= tol[rows])

    rows, same = close(ref[intended])
    out.checked_rows = int(rows.sum())
    if not out.checked_rows:
        out.problem = f"{table.name(col)} holds no number on a row where the loss's derivative is one"
        return out
    if same:
        out.of = intended
        return out
    out.wrong = True
    why = _explain(table, col, have, ref[intended], intended, close)
    for k in range(len(ref)):
        if k != intended and close(ref[k])[1]:
            out.of = k
            out.problem = f"{table.name(col)} is the derivative with respect to {_wname(table, k)}"
            if "factor" in why:
                out.problem += f" ({why.split(': ', 1)[1]})"
            return out
    out.problem = why
    return out


def _explain(table, col, have, want, intended, close) -> str:
    """Why an analytic derivative differs: a sign, a missing or extra factor, or the first row it does."""
    name, wrt = table.name(col), _wname(table, intended)
    if close(-want)[1]:
        return f"{name} has the wrong sign: it is minus the derivative with respect to {wrt}"
    for c in sorted(set(table.trees) | table.weights):
        if c == col:
            continue
        f = table.values(c)
        if not np.all(np.isfinite(f)) or np.all(f == f[0]) and abs(f[0]) in (0.0, 1.0):
            continue
        if close(want / f)[1]:
            return (f"{name} is not the derivative with respect to {wrt}: it misses the chain rule's "
                    f"factor {table.name(c)}")
        if close(want * f)[1]:
            return f"{name} is not the derivative with respect to {wrt}: it has an extra factor {table.name(c)}"
    rows, _ = close(want)
    bad = np.flatnonzero(rows & ~np.isclose(have, want, rtol=1e-9, atol=0))
    r = int(bad[0]) if len(bad) else 0
    return (f"{name} is not the derivative with respect to {wrt}: row {table.first + r} holds {have[r]:.6g} "
            f"where the derivative of the loss is {want[r]:.6g}")


def _wname(table: Table, k: int) -> str:
    return table.name(sorted(table.weights)[k])


def _forward_difference(table, loss, col, parts, intended) -> Gradient:
    e1, e0, h_tree = parts
    out = Gradient(col, "forward difference")
    h = np.asarray(evaluate(h_tree, table.leaf, order=0).v, dtype=float)
    have_e1 = np.asarray(evaluate(e1, table.leaf, order=0).v, dtype=float)
    scale = magnitude_of(e1, table.leaf) + magnitude_of(loss.tree, table.leaf)
    tol = ROUNDING * EPS * (n_ops(e1) + n_ops(loss.tree)) * scale
    have_e0 = np.asarray(evaluate(e0, table.leaf, order=0).v, dtype=float)
    rows = _finite(have_e0, loss.jet.v, tol)
    if not np.all(np.abs(have_e0 - loss.jet.v)[rows] <= tol[rows]):
        out.problem = (f"{table.name(col)} is (e1 - e0)/h with e0 not the row's loss (a central difference?): "
                       f"not checked")
        return out
    moves, seen = [], False
    for k in range(len(loss.jet.g)):
        want = np.asarray(evaluate(loss.tree, _moved(table, k, h), order=0).v, dtype=float)
        rows = _finite(have_e1, want, tol)
        seen |= bool(rows.any())
        if rows.any() and np.all(np.abs(have_e1 - want)[rows] <= tol[rows]):
            moves.append(k)
    if not seen:
        out.problem = f"{table.name(col)}'s e(w+h) is a number on no row where the loss is one"
        return out
    if len(moves) > 1:  # the rows cannot tell (a weight the same on every row): the formulas can
        moves = [k for k in moves if same_tree(table.expand(e1), _moved_tree(table, loss, k, h_tree))] or moves
        moves = [intended] if intended in moves else moves
    moved = f"e({table.header(seed_leaves(table)[intended].col)}+h)"
    e1_where = f"{moved} in {table.where(e1.col)}" if isinstance(e1, RowCell) else f"its {moved}"
    if moves != [intended]:
        out.wrong = True
        if len(moves) == 1:
            out.of = moves[0]
            w = sorted(table.weights)
            out.problem = (f"{table.name(col)} is the derivative with respect to {_wname(table, moves[0])}: "
                           f"{e1_where} moves {table.where(w[moves[0]])} by h, not {table.where(w[intended])}")
        else:
            out.problem = (f"{table.name(col)} is no forward difference of the loss in {_wname(table, intended)}: "
                           f"{e1_where} is not the loss with that weight moved by h")
        return out
    out.of = intended
    _fd_value(table, loss, col, h, intended, out)
    return out


def _moved_tree(table: Table, loss: Loss, k: int, h_tree: Expr) -> Expr:
    """The loss's tree with weight k written w+h."""
    target = seed_leaves(table)[k]
    return map_leaves(loss.tree, lambda x: Bin("+", x, h_tree) if x == target else x)


def seed_leaves(table: Table) -> list:
    return [RowCell(table.sheet, w, 0) for w in sorted(table.weights)]


def _fd_value(table, loss, col, h, j, out: Gradient):
    """The estimate within h/2*|e''| (at w or w+h) plus rounding of the derivative, off the kinks."""
    kinks = []
    moved = evaluate(loss.tree, _moved(table, j, h), seeds(table), order=2, kinks=kinks)
    crossing = np.zeros(table.n, dtype=bool)
    for a, b in zip(loss.kinks, kinks):
        crossing |= np.broadcast_to(np.asarray(a) != np.asarray(b), (table.n,))
    have = table.values(col)
    g = loss.jet.g[j]
    curv = np.maximum(np.abs(loss.jet.H[j, j]), np.abs(moved.H[j, j]))
    e_scale = np.abs(loss.jet.v) + magnitude_of(loss.tree, table.leaf)
    bound = np.abs(h) / 2 * curv * (1 + 1e-9) + ROUNDING * EPS * n_ops(loss.tree) * (
        e_scale / np.abs(h) + np.abs(g))
    rows = _finite(have, g, bound) & ~crossing
    out.checked_rows = int(rows.sum())
    bad = np.flatnonzero(rows & (np.abs(have - g) > bound))
    if len(bad):
        r = int(bad[0])
        out.wrong = True
        out.problem = (f"{table.name(col)} is {have[r]:.6g} on row {table.first + r}, where the derivative is "
                       f"{g[r]:.6g} and a forward difference with h = {float(np.ravel(h)[0]):g} can be off by "
                       f"{bound[r]:.3g} at most")


def _derivative_columns(table: Table, loss: Loss, k: int) -> list:
    """Columns of the table holding dloss/dw_k to rounding or as a forward difference (for a hint)."""
    out = []
    for col in sorted(table.trees):
        if col in table.weights:
            continue
        g = check_gradient(table, loss, col, k)
        if g.problem is None and g.of == k:
            out.append(col)
    return out


DERIVATIVE_HEADER = re.compile(r"d\w*\s*/\s*d\s*(\w+)\s*$")  # de/db, est de/db, dE/da: the weight it names


def looks_like_derivative(table: Table, col: int) -> bool:
    """A forward difference, or a column headed like one (de/db, est de/da)."""
    return fd_parts(table.trees.get(col, Num(0.0))) is not None or \
        DERIVATIVE_HEADER.search(table.header(col, None) or "") is not None


def other_derivatives(table: Table, grads: dict, loss: Loss) -> list:
    """[(column, message)] for each derivative column no update uses (an `est de/db` beside the analytic
    one) whose header names a weight it is not the derivative with respect to, or which is wrong. A
    weight is named by its header, or by the name in its own derivative's header (graddesc's intercept
    is the b of de/db)."""
    names = {table.header(w): i for i, w in enumerate(sorted(table.weights))}
    for col, g in grads.items():
        m = DERIVATIVE_HEADER.search(table.header(col, None) or "")
        if m is not None and g.of is not None and g.problem is None:
            names.setdefault(m.group(1), g.of)
    used, out = set(grads), []
    for col in sorted(table.trees):
        if col in used or col in table.weights:
            continue
        m = DERIVATIVE_HEADER.search(table.header(col, None) or "")
        if m is None or m.group(1) not in names:
            continue
        g = check_gradient(table, loss, col, names[m.group(1)])
        if g.wrong:
            out.append((col, g.problem))
    return out


def update_causes(table: Table, weights: list, grads: dict, loss: Loss | None) -> list:
    """[(weight, message)]: an update going uphill, or using a gradient column of another weight."""
    out = []
    idx = {w: i for i, w in enumerate(sorted(table.weights))}
    for w in weights:
        if w.problem is not None:
            continue
        if w.sign > 0:
            out.append((w, f"{table.name(w.update)} adds the step to {table.header(w.col)}: new "
                           f"{table.header(w.col)} = {table.header(w.col)} + lr*gradient goes uphill "
                           f"(a sign error)"))
            continue
        g = grads.get(w.grad)
        if g is None or g.of is None or g.of == idx[w.col]:
            continue
        users = [x for x in weights if x.grad == w.grad]
        if len(users) > 1 or g.problem is None:
            own = [c for c, x in grads.items() if x.of == idx[w.col]]
            own = own or (_derivative_columns(table, loss, idx[w.col]) if loss is not None else [])
            hint = f"; {table.header(w.col)}'s is {table.name(own[0])}" if own else ""
            out.append((w, f"{table.name(w.update)} updates {table.header(w.col)} with {table.name(w.grad)}, the "
                           f"derivative with respect to {_wname(table, g.of)}{hint}"))
    return out

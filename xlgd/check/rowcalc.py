"""A step table's formulas evaluated over all its rows at once, with forward-mode derivatives.

A step table repeats one formula per column down its rows, so a column's tree
is read once, in row-relative form (`RowCell`: column `col`, `off` rows from
the step's own row), and evaluated with numpy over every step row together.
`evaluate` carries, beside each node's value, its gradient and Hessian in a
few chosen leaves (the weights: `seeds`), by the chain rule of each operator
and function: + - * / ^, EXP, LN, SQRT, ABS, and MAX, MIN and IF choosing a
branch per row (ReLU), whose choices it records so a caller can tell rows
where a step crossed a kink. `same_tree` compares two trees structurally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.expr import Bin, CellRef, Cmp, Const, Expr, Fn, Neg, Num, RefLeaf, magnitude
from ..evaluator.prepare import map_leaves

EPS = np.finfo(float).eps


@dataclass(frozen=True)
class RowCell(RefLeaf):
    """The cell of column `col` on sheet `sheet`, `off` rows from the row being evaluated."""

    sheet: str
    col: int
    off: int = 0


class NotDifferentiable(Exception):
    """A tree holds something `evaluate` has no numpy or derivative form for (the name says what)."""


@dataclass
class Jet:
    """A value over rows, its gradient (k, rows) and Hessian (k, k, rows) in the seeds; None is zero."""

    v: object
    g: object = None
    H: object = None


def relative(expr: Expr, first_row: int) -> Expr:
    """A run's tree (its references as on row first_row) with every row-relative reference a RowCell."""
    return map_leaves(expr, lambda x: RowCell(x.sheet, x.col, x.row - first_row)
                      if isinstance(x, CellRef) and not x.row_abs else x)


def tree_key(expr: Expr) -> tuple:
    """A hashable structural form of a tree: equal keys, equal trees."""
    if isinstance(expr, Bin):
        return ("bin", expr.op, tree_key(expr.left), tree_key(expr.right))
    if isinstance(expr, Cmp):
        return ("cmp", expr.op, tree_key(expr.left), tree_key(expr.right))
    if isinstance(expr, Neg):
        return ("neg", tree_key(expr.arg))
    if isinstance(expr, Fn):
        return ("fn", expr.name) + tuple(tree_key(a) for a in expr.args)
    if isinstance(expr, (Num, Const)):
        return ("num", expr.value)
    return ("leaf", expr)


def same_tree(a: Expr, b: Expr) -> bool:
    return tree_key(a) == tree_key(b)


# ------------------------------------------------------------------ evaluation
def evaluate(expr: Expr, leaf, seeds: dict | None = None, order: int = 1, kinks: list | None = None) -> Jet:
    """The tree's value over the rows, with gradient (order >= 1) and Hessian (order 2) in `seeds`
    (leaf -> index). leaf(node) gives a leaf's values (an array over the rows, or a number).
    kinks, when given, collects each branch choice (a boolean array) MAX, MIN, IF and ABS made."""
    k = len(seeds or {})
    ctx = (leaf, seeds or {}, order if k else 0, kinks, k)
    with np.errstate(all="ignore"):
        return _ev(expr, ctx)


def _ev(expr, ctx) -> Jet:
    leaf, seeds, order, kinks, k = ctx
    if isinstance(expr, Num):
        return Jet(expr.value)
    if isinstance(expr, Const):
        if isinstance(expr.value, bool):
            return Jet(float(expr.value))
        raise NotDifferentiable(f"the literal {expr.value}")
    if isinstance(expr, RefLeaf):
        return _leaf(expr, ctx)
    if isinstance(expr, Neg):
        a = _ev(expr.arg, ctx)
        return Jet(-a.v, _neg(a.g), _neg(a.H))
    if isinstance(expr, Bin):
        return _bin(expr, _ev(expr.left, ctx), _ev(expr.right, ctx), order)
    if isinstance(expr, Cmp):
        a, b = _ev(expr.left, ctx), _ev(expr.right, ctx)
        return Jet(_compare(expr.op, a.v, b.v).astype(float))
    if isinstance(expr, Fn):
        return _fn(expr, ctx)
    raise NotDifferentiable(type(expr).__name__)


def _leaf(expr, ctx) -> Jet:
    leaf, seeds, order, _, k = ctx
    v = leaf(expr)
    i = seeds.get(expr)
    if i is None or not order:
        return Jet(v)
    n = np.shape(v)[0] if np.ndim(v) else 1
    g = np.zeros((k, n))
    g[i] = 1.0
    return Jet(v, g, None)


def _neg(x):
    return None if x is None else -x


def _add(x, y, sign=1.0):
    if x is None:
        return None if y is None else (y if sign > 0 else -y)
    if y is None:
        return x
    return x + y if sign > 0 else x - y


def _scale(x, s):
    return None if x is None else x * s


def _outer(a, b):
    if a is None or b is None:
        return None
    return a[:, None] * b[None, :]


def _bin(expr, a: Jet, b: Jet, order) -> Jet:
    op = expr.op
    if op in "+-":
        sign = 1.0 if op == "+" else -1.0
        return Jet(a.v + b.v if op == "+" else a.v - b.v, _add(a.g, b.g, sign), _add(a.H, b.H, sign))
    if op == "*":
        g = _add(_scale(b.g, a.v), _scale(a.g, b.v))
        H = None
        if order > 1:
            H = _add(_add(_scale(b.H, a.v), _scale(a.H, b.v)), _add(_outer(a.g, b.g), _outer(b.g, a.g)))
        return Jet(a.v * b.v, g, H)
    if op == "/":
        q = a.v / b.v
        g = None if a.g is None and b.g is None else _scale(_add(a.g, _scale(b.g, q), -1.0), 1.0 / b.v)
        H = None
        if order > 1 and g is not None:
            H = _add(a.H, _scale(b.H, q), -1.0)
            H = _add(H, _add(_outer(g, b.g), _outer(b.g, g)), -1.0)
            H = _scale(H, 1.0 / b.v)
        return Jet(q, g, H)
    if op == "^":
        if b.g is not None:
            raise NotDifferentiable("a power whose exponent depends on a weight")
        p = b.v
        v = a.v * a.v if np.ndim(p) == 0 and p == 2.0 else np.power(a.v, p)
        if a.g is None:
            return Jet(v)
        d1 = p * np.power(a.v, p - 1)
        d2 = p * (p - 1) * np.power(a.v, p - 2) if order > 1 else None
        return _chain(v, a, d1, d2, order)
    raise NotDifferentiable(f"the operator {op}")


def _chain(value, a: Jet, d1, d2, order) -> Jet:
    """f(a) with f' = d1 and f'' = d2 over the rows."""
    g = _scale(a.g, d1)
    H = None
    if order > 1 and a.g is not None:
        H = _add(_scale(a.H, d1), _scale(_outer(a.g, a.g), d2))
    return Jet(value, g, H)


_UNARY = {
    "EXP": (np.exp, np.exp, np.exp),
    "LN": (np.log, lambda x: 1.0 / x, lambda x: -1.0 / (x * x)),
    "SQRT": (np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 / (x * np.sqrt(x))),
    "TANH": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2,
             lambda x: -2.0 * np.tanh(x) * (1.0 - np.tanh(x) ** 2)),
}


def _fn(expr: Fn, ctx) -> Jet:
    order, kinks = ctx[2], ctx[3]
    if expr.name in _UNARY and len(expr.args) == 1:
        f, d1, d2 = _UNARY[expr.name]
        a = _ev(expr.args[0], ctx)
        if a.g is None:
            return Jet(f(a.v))
        return _chain(f(a.v), a, d1(a.v), d2(a.v) if order > 1 else None, order)
    if expr.name == "ABS" and len(expr.args) == 1:
        a = _ev(expr.args[0], ctx)
        pos = np.asarray(a.v) >= 0
        if kinks is not None:
            kinks.append(pos)
        return _pick(pos, a, Jet(-a.v, _neg(a.g), _neg(a.H)))
    if expr.name in ("MAX", "MIN") and expr.args:
        out = _ev(expr.args[0], ctx)
        for arg in expr.args[1:]:
            b = _ev(arg, ctx)
            first = np.asarray(out.v >= b.v if expr.name == "MAX" else out.v <= b.v)
            if kinks is not None:
                kinks.append(first)
            out = _pick(first, out, b)
        return out
    if expr.name == "IF" and len(expr.args) in (2, 3):
        cond = np.asarray(_ev(expr.args[0], ctx).v) != 0
        if kinks is not None:
            kinks.append(cond)
        other = _ev(expr.args[2], ctx) if len(expr.args) == 3 else Jet(0.0)
        return _pick(cond, _ev(expr.args[1], ctx), other)
    raise NotDifferentiable(f"the function {expr.name}")


def _pick(mask, a: Jet, b: Jet) -> Jet:
    """a where mask, else b, in value and derivatives."""
    v = np.where(mask, a.v, b.v)
    g = None if a.g is None and b.g is None else np.where(mask, _full(a.g, b.g), _full(b.g, a.g))
    H = None if a.H is None and b.H is None else np.where(mask, _full(a.H, b.H), _full(b.H, a.H))
    return Jet(v, g, H)


def _full(x, like):
    return np.zeros_like(like) if x is None else x


def _compare(op, a, b):
    a, b = np.asarray(a), np.asarray(b)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "=": a == b, "<>": a != b}[op]


def magnitude_of(expr: Expr, leaf) -> np.ndarray:
    """How large the terms of expr are over the rows (every term added in absolute value): the scale its
    rounding errors are relative to."""
    try:
        return np.abs(np.asarray(evaluate(magnitude(expr), leaf, order=0).v, dtype=float))
    except NotDifferentiable:
        return np.asarray(np.inf)

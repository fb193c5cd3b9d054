"""Why errors explode: a per-row stability column, and the bound it is compared with.

`stab` = sum_p eta_p * J_p^2 on each row, J = dpred/dtheta and eta_p the step the optimiser takes
per unit of gradient on weight p; it is built from the model's own backward pass (its gradient
formulas with 2r replaced by 1) and compared with the optimiser's bound (`optimizers.py`: `eta=`,
`bound=`; SGD and an optimiser declaring nothing: eta = lr, bound 1). `boom` ("exploded at")
carries down the first step whose err^2 is an error or exceeds the input `explode_at`.

Derivation (SGD, one row): r = pred - y, e = r^2, de/dtheta = 2rJ, so the step moves r to
r(1 - 2 lr ||J||^2): past the row's target once lr ||J||^2 > 1/2, further from it than it was
(|r'| > |r|) once lr ||J||^2 > 1. For `linear`, ||J||^2 = x^2 + 1.
"""

from __future__ import annotations

from .expr import Bin, Cmp, Col, Expr, Fn, Name, Neg, Num, if_, iserror
from .models import get_model
from .optimizers import Optimizer, Param
from .table import StepColumn

EXPLODE_AT = 1e10
STAB, BOOM = "stab", "boom"


# ------------------------------------------------------------ expressions
def _subst(expr: Expr, function) -> Expr:
    """Rebuild a tree, replacing leaves where function returns something."""
    r = function(expr)
    if r is not None:
        return r
    if isinstance(expr, Bin):
        return _simplify(Bin(expr.op, _subst(expr.left, function), _subst(expr.right, function)))
    if isinstance(expr, Cmp):
        return Cmp(expr.op, _subst(expr.left, function), _subst(expr.right, function))
    if isinstance(expr, Neg):
        return Neg(_subst(expr.arg, function))
    if isinstance(expr, Fn):
        return Fn(expr.name, tuple(_subst(a, function) for a in expr.args))
    return expr


def _one(expr):
    return isinstance(expr, Num) and expr.value == 1.0


def _simplify(expr: Bin) -> Expr:
    # 2r replaced by 1 leaves factors of 1 a learner should not have to read.
    if expr.op == "*":
        if _one(expr.left):
            return expr.right
        if _one(expr.right):
            return expr.left
    return expr


def jacobian(model: str) -> dict:
    """dpred/dp for every weight, as column expressions of one row."""
    m = get_model(model)
    w = {p: Col(p) for p in m.params}
    hidden, _ = m.forward(w)
    hid = {n: Col(n) for n, *_ in hidden}
    raw = m.backward(w, Num(1.0), hid)
    out = {}

    def resolve(p):
        if p not in out:
            out[p] = _subst(raw[p], lambda leaf: resolve(leaf.name[2:])
                            if isinstance(leaf, Col) and leaf.name.startswith("g_") and leaf.name[2:] in raw
                            else None)
        return out[p]

    for p in m.params:
        resolve(p)
    return {p: out[p] for p in m.params}


def columns(model: str, opt: Optimizer, convention: str, lr: Expr) -> list[StepColumn]:
    """The stability column and the running 'exploded at' step (the charts' columns: chart_columns.py)."""
    jac = jacobian(model)
    total = None
    for p, j in jac.items():
        eta = opt.eta(Param(p, f"g_{p}", lr, [], {}), convention)
        term = eta * j**2 if not _one(j) else eta
        total = term if total is None else total + term
    err = Col("err")
    step = Col("step")
    prev = Col(BOOM, 1)
    return [
        StepColumn(STAB, "lr*|dpred/dw|^2", total, fmt="0.000",
               note="stability: above the bound, this row's step overshoots its own target (see intro)"),
        StepColumn(BOOM, "exploded at", if_(prev > 0, prev, if_(iserror(err), step, if_(err > Name("explode_at"), step, 0))),
               init=Num(0), fmt="0;-0;\"-\"",
               note="the first step whose err^2 overflowed or exceeded explode_at (- : not yet)"),
    ]

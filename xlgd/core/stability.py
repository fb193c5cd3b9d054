"""Why errors explode: a per-row stability column, and the bound it is compared with.

One SGD step on one row
-----------------------
Each row's error is e = r^2 with r = pred - y. Write J = dpred/dtheta (one
entry per weight) for that row. The gradient is de/dtheta = 2 r J, so SGD
moves the weights by  -lr * 2 r J  and, to first order, the prediction by

    pred' - pred = J . (-lr * 2 r J) = -2 lr ||J||^2 r
    r' = r * (1 - 2 lr ||J||^2)

The step on a row overshoots that row's own target (r' changes sign) once
lr*||J||^2 > 1/2, and it leaves that row *worse* than before (|r'| > |r|)
once lr*||J||^2 > 1. So the column

    stab = lr * ||dpred/dtheta||^2        (one cell per row)

exceeding 1 means: this row pushes the weights further past the answer
than they were before the step. If the next rows do the same, the weights
grow, ||J|| grows with them (it contains the weights), stab grows, and the
error runs away: the forum's self-reinforcing loop, one formula per row.

||J||^2 for each model (s = 1 if z > 0 else 0, z = a*x + b)
------------------------------------------------------------
    linear   y = a*x + b             x^2 + 1
    linear2  y = c*(a*x + b) + d     c^2*x^2 + c^2 + z^2 + 1
    relu2    y = c*max(0, z) + d     s*(c^2*x^2 + c^2) + max(0, z)^2 + 1
    mlp      y = sum c_j*act(z_j)+d  sum_j act'(z_j)^2*c_j^2*(x^2 + 1) + act(z_j)^2, + 1

so the bound on lr for one row is lr < 1/||J||^2. For `linear` on the
graddesc data (x <= 99) that is lr < 1/(99^2 + 1) = 1.02e-4: Jeremy's
lr = 1e-4 sits just under it. For `linear2` with every weight 1,
||J||^2 = 2x^2 + 2x + 3 at x = 99 gives lr < 5.05e-5: at 1e-4 the
x = 86 and x = 99 rows overshoot from the first epoch on. Four weights
describing the same line make ||J||^2 about twice as large, and it keeps
growing with c and z: the same function, a harder optimisation problem.
For relu2 a unit that dies (z <= 0 on every row) drops its a, b, c terms:
||J||^2 falls to 1, nothing can explode any more, and nothing trains a, b.

The column is generated from the model's own backward pass (its gradient
formulas with 2r replaced by 1), so a new model gets it for free.

Each optimiser and convention
-----------------------------
The column is  sum_p eta_p * J_p^2,  eta_p the step the optimiser takes
per unit of gradient on weight p, compared with a bound. Both are declared
with each optimiser (`optimizers.py`: `eta=`, `bound=`), so this module
knows no optimiser by name. SGD: eta = lr, bound 1. Momentum (an EMA, m0 =
0): eta = lr, bound (1+beta1)/(1-beta1), heavy-ball's stability limit.
Adagrad, RMSProp, Adam: eta = lr/SQRT(s or v) (torch: lr/(SQRT(v)+eps),
bias correction ignored: it only shrinks after the first steps), with v
treated as frozen for one step -- a guide rather than a proof: dividing by
SQRT(v) makes the step almost independent of the gradient, which is why
Adam rarely explodes where SGD does. An optimiser that declares nothing
gets SGD's eta and bound.

Explosion
---------
A row has exploded when its err^2 is an error (#NUM!: the number overflowed
the largest double, 1.8e308) or exceeds `explode_at` (1e10 by default, a
named input). The `exploded at` column carries the first such step down
the sheet; `Result.first_explosion_step` is the engine's side of it.
"""

from __future__ import annotations

from .expr import Bin, Col, Cmp, Expr, Fn, Name, Neg, Num, if_, iserror
from .models import get_model
from .optimizers import Optimizer, Param
from .table import StepColumn

EXPLODE_AT = 1e10
STAB, BOOM = "stab", "boom"


# ------------------------------------------------------------ expressions
def _subst(e: Expr, fn) -> Expr:
    """Rebuild a tree, replacing leaves where fn returns something."""
    r = fn(e)
    if r is not None:
        return r
    if isinstance(e, Bin):
        return _simplify(Bin(e.op, _subst(e.left, fn), _subst(e.right, fn)))
    if isinstance(e, Cmp):
        return Cmp(e.op, _subst(e.left, fn), _subst(e.right, fn))
    if isinstance(e, Neg):
        return Neg(_subst(e.arg, fn))
    if isinstance(e, Fn):
        return Fn(e.name, tuple(_subst(a, fn) for a in e.args))
    return e


def _one(e):
    return isinstance(e, Num) and e.value == 1.0


def _simplify(e: Bin) -> Expr:
    # 2r replaced by 1 leaves factors of 1 a learner should not have to read.
    if e.op == "*":
        if _one(e.left):
            return e.right
        if _one(e.right):
            return e.left
    return e


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

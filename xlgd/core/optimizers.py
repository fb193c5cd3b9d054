"""Optimisers as fastai composes them: small stats, then one stepper.

A *stat* is one state column per weight (`average_grad` -> m_a, m_b, ...); an optimiser is a function
`(param, conv) -> new-weight expression` calling the stats it needs (`param.w`, `.g`, `.lr`). Two
conventions: graddesc (Jeremy Howard's workbook: no eps, no bias correction, RMSProp divides by the
previous row's mean square) and torch (torch.optim's formulas). `@optimizer` declares its knobs per
convention, its stats' start values, and for `stability.py` its `eta` (step per unit of gradient,
default lr) and `bound` (default 1). A new optimiser is one function here and one test in
tests/test_torch_crosscheck.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from .expr import Col, Expr, Name, Num, StepEdge, if_, maximum, minimum, sqrt
from .table import EpochColumn, StepColumn

CONVENTIONS = ("graddesc", "torch")


class Param:
    """One weight as an optimiser sees it; collects the state columns it asks for."""

    def __init__(self, name: str, grad: str, lr: Expr, sink: list, shared: dict):
        self.name = name
        self.w = Col(name)
        self.g = Col(grad)
        self.lr = lr
        self._sink = sink
        self._shared = shared

    def state(self, stat: str, update: Callable[[Col], Expr], init: str, note: str, fmt="#,##0.00") -> Col:
        col = Col(f"{stat}_{self.name}")
        self._sink.append(StepColumn(col.name, f"{stat} ({self.name})", update(col.prev), init=Name(init),
                                 fmt=fmt, note=note))
        return col

    def shared_state(self, name: str, header: str, update: Callable[[Col], Expr], init: Expr, note: str) -> Col:
        """A state column shared by all weights (a step count, beta^t)."""
        col = Col(name)
        if name not in self._shared:
            self._shared[name] = StepColumn(name, header, update(col.prev), init=init, fmt="0.0000", note=note)
        return col


# ------------------------------------------------------------------ stats
def average_grad(param: Param, beta="beta1") -> Col:
    """m = beta*m + (1-beta)*g -- an EMA of the gradient (fastai, dampened)."""
    b = Name(beta)
    return param.state("m", lambda m: m * b + (1 - b) * param.g, "m_init", f"EMA of de/d{param.name}")


def average_sqr_grad(param: Param, beta="beta2") -> Col:
    """v = beta*v + (1-beta)*g^2 -- an EMA of the squared gradient."""
    b = Name(beta)
    return param.state("v", lambda v: v * b + (1 - b) * param.g**2, "v_init", f"EMA of (de/d{param.name})^2")


def sum_sqr_grad(param: Param) -> Col:
    """s = s + g^2 -- Adagrad's running sum."""
    return param.state("s", lambda s: s + param.g**2, "s_init", f"running sum of (de/d{param.name})^2")


def power_of(param: Param, beta: str) -> Col:
    """beta^t kept as a running product, for Adam's bias correction.

    A product instead of POWER(beta, t) because LibreOffice turns the
    underflow of POWER(0.9, 7000) into #NUM!; the floor keeps it normal.
    """
    b = Name(beta)
    return param.shared_state(f"{beta}_t", f"{beta}^t", lambda q: maximum(q * b, 1e-300), Num(1.0),
                          f"{beta} to the power of the step count")


# ------------------------------------------------------- what stability needs
def lr_eta(param: Param, conv: str) -> Expr:
    """The step per unit of gradient of SGD and of momentum's EMA (the gradient is reused, not rescaled)."""
    return param.lr


def adaptive_eta(stat: str, graddesc_row_above: bool = False):
    """eta = lr/SQRT(stat) (torch: lr/(SQRT(stat)+eps)), the stat frozen for one step: a guide, not a proof.

    graddesc_row_above: the graddesc convention divides by the row above's stat (RMSProp)."""

    def eta(p: Param, conv: str) -> Expr:
        s = Col(f"{stat}_{p.name}")
        if conv == "torch":
            return p.lr / (sqrt(s) + Name("eps"))
        return p.lr / sqrt(s.prev if graddesc_row_above else s)

    return eta


def heavy_ball_bound() -> Expr:
    """Heavy-ball momentum (an EMA with weight 1-beta1) on a quadratic is stable iff
    lr*(1-beta1)*2||J||^2 < 2*(1+beta1): the column's bound is (1+beta1)/(1-beta1), 19 at
    beta1 = 0.9 (the first step alone, with m = 0, overshoots only past 1/(1-beta1) = 10)."""
    b = Name("beta1")
    return (1 + b) / (1 - b)


def sgd_bound() -> Expr:
    return Num(1.0)


# --------------------------------------------------------------- registry
@dataclass
class Optimizer:
    name: str
    step: Callable[[Param, str], Expr]
    hypers: dict  # convention -> {input name: default}
    doc: str
    epoch_rule: Callable | None = None
    inits: dict = field(default_factory=dict)  # convention -> {state init name: default}, beyond 0
    eta: Callable[[Param, str], Expr] = lr_eta  # step per unit of gradient on one weight
    bound: Callable[[], Expr] = sgd_bound  # where the stability column's rows overshoot

    def start_values(self, convention: str) -> dict:
        """{state init name: start value}: 0 for every state the optimiser's stats keep, unless declared."""
        state, shared = [], {}
        self.step(Param("w", "g_w", Name("lr"), state, shared), convention)
        out = {c.init.name: 0.0 for c in state + list(shared.values()) if isinstance(c.init, Name)}
        out.update(self.inits.get(convention, {}))
        return out


OPTIMIZERS: dict[str, Optimizer] = {}


def optimizer(name, doc, graddesc, torch, inits=None, epoch_rule=None, eta=lr_eta, bound=sgd_bound):
    """Register an optimiser: its knobs per convention, and what stability needs (see the module doc)."""

    def deco(function):
        OPTIMIZERS[name] = Optimizer(name, function, {"graddesc": graddesc, "torch": torch}, doc, epoch_rule,
                                     inits or {}, eta, bound)
        return function

    return deco


@optimizer("sgd", "w <- w - g*lr", graddesc={"lr": 1e-4}, torch={"lr": 1e-4})
def sgd(param, conv):
    return param.w - param.g * param.lr


@optimizer("momentum", "m = beta1*m + (1-beta1)*g;  w <- w - m*lr",
           graddesc={"lr": 1e-4, "beta1": 0.9}, torch={"lr": 1e-4, "beta1": 0.9},
           bound=heavy_ball_bound)
def momentum(param, conv):
    return param.w - average_grad(param) * param.lr


@optimizer("adagrad", "s = s + g^2;  w <- w - g*lr/sqrt(s)  (torch: lr*g/(sqrt(s)+eps))",
           graddesc={"lr": 0.1}, torch={"lr": 0.1, "eps": 1e-10},
           eta=adaptive_eta("s"))
def adagrad(param, conv):
    s = sum_sqr_grad(param)
    if conv == "torch":
        return param.w - param.lr * param.g / (sqrt(s) + Name("eps"))
    return param.w - param.g * param.lr / sqrt(s)


@optimizer("rmsprop", "v = beta2*v + (1-beta2)*g^2;  w <- w - g*lr/sqrt(v)  (graddesc: the previous row's v)",
           graddesc={"lr": 0.02, "beta2": 0.9}, torch={"lr": 0.01, "beta2": 0.99, "eps": 1e-8},
           inits={"graddesc": {"v_init": 10000.0}}, eta=adaptive_eta("v", graddesc_row_above=True))
def rmsprop(param, conv):
    v = average_sqr_grad(param)
    if conv == "torch":
        return param.w - param.lr * param.g / (sqrt(v) + Name("eps"))
    # graddesc's H4 = C4-F4*$D$2/SQRT(J3): the mean square of the row above.
    return param.w - param.g * param.lr / sqrt(v.prev)


@optimizer("adam", "m, v as momentum and rmsprop;  w <- w - m*lr/sqrt(v)  (torch: bias-corrected, + eps)",
           graddesc={"lr": 0.1, "beta1": 0.9, "beta2": 0.9},
           torch={"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
           inits={"graddesc": {"v_init": 10000.0}}, eta=adaptive_eta("v"), bound=heavy_ball_bound)
def adam(param, conv):
    m = average_grad(param)
    v = average_sqr_grad(param)
    if conv == "torch":
        bc1 = 1 - power_of(param, "beta1")
        bc2 = 1 - power_of(param, "beta2")
        return param.w - param.lr / bc1 * m / (sqrt(v) / sqrt(bc2) + Name("eps"))
    return param.w - m * param.lr / sqrt(v)


def annealing(params, conv):
    """graddesc's adam_ann rule as live formulas, one row per epoch.

    The indicator is sum(sqrt(v)) of the state carried into the epoch; when
    it exceeds ann_ratio times the best (lowest) of the earlier epochs, lr is divided
    by ann_factor for this and later epochs.
    """
    ind = None
    for p in params:
        term = sqrt(StepEdge(f"v_{p}", "above"))
        ind = term if ind is None else ind + term
    prev = lambda n: Col(n, 1)  # noqa: E731 -- the previous epoch's cell
    best, lr = prev("best"), prev("lr")
    # Compared as ind > ratio*best rather than graddesc's ind/best > ratio so
    # a zero state (torch convention, v_init = 0) never divides by zero; a
    # best of 0 means "nothing seen yet".
    return [
        EpochColumn("grad_ind", "sum sqrt(v) in", ind, phase="pre", fmt="#,##0.0000",
                    note="size of the squared-gradient state carried into the epoch"),
        EpochColumn("lr", "lr", if_(best > 0, if_(Col("grad_ind") > Name("ann_ratio") * best,
                                                  lr / Name("ann_factor"), lr), lr),
                    first=Name("lr"), phase="pre", fmt="0.000000",
                    note="the learning rate this epoch uses"),
        EpochColumn("best", "best so far", if_(best > 0, minimum(best, Col("grad_ind")), Col("grad_ind")),
                    first=Col("grad_ind"), phase="pre", fmt="#,##0.0000",
                    note="lowest indicator seen so far"),
    ]


OPTIMIZERS["adam_ann"] = replace(
    OPTIMIZERS["adam"], name="adam_ann", epoch_rule=annealing,
    hypers={"graddesc": {"lr": 1.0, "beta1": 0.9, "beta2": 0.95, "ann_ratio": 2.0, "ann_factor": 4.0},
            "torch": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "ann_ratio": 2.0, "ann_factor": 4.0}},
    doc="Adam, and lr / ann_factor whenever an epoch starts with sum(sqrt(v)) above ann_ratio x the best so far")


def get_optimizer(name: str) -> Optimizer:
    from ..errors import XlgdError

    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise XlgdError(f"unknown optimiser {name!r}; choose one of: {', '.join(OPTIMIZERS)}") from None

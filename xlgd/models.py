"""Models: a forward pass and its backward pass over named scalars.

As in micrograd, a model is a few lines: the prediction from the row's
weights and x, then one chain-rule line per weight. Each line becomes a
sheet column. Forward-difference estimates (e(w+h) - e(w))/h sit beside
the analytic gradients, as on graddesc's `basic` sheet, so a learner can
see that both agree up to the bias h/2 * d2e/dw2.

To add a model: write a function returning a `Model` and register it in
MODELS. The per-sample error is always e = (pred - y)^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .expr import Col, Expr, Name, if_, maximum
from .table import Column

x, y = Col("x"), Col("y")
h = Name("h")


@dataclass
class Model:
    name: str
    formula: str
    params: tuple[str, ...]
    # forward(w) -> (hidden columns, pred) where w maps param -> Expr; called
    # again with one weight nudged by h for the forward differences.
    forward: Callable[[dict], tuple[list[tuple[str, str, Expr]], Expr]]
    # backward(w, r2, hidden) -> {param: gradient expr}; r2 = 2*(pred - y)
    backward: Callable[[dict, Expr, dict], dict]
    doc: str = ""

    def columns(self, fd: bool = True) -> list[Column]:
        w = {p: Col(p) for p in self.params}
        hidden, pred = self.forward(w)
        cols = [Column(n, hd, e, note=note) for n, hd, e, note in hidden]
        cols.append(Column("pred", "pred", pred, note=f"prediction {self.formula.split('=')[1].strip()}"))
        err = Col("pred") - y
        cols.append(Column("err", "err^2", err**2, fmt="#,##0.00", note="e = (pred - y)^2"))
        if fd:
            for p in self.params:
                nudged = dict(w, **{p: w[p] + h})
                _, pred_h = self.forward(nudged)
                cols.append(Column(f"eh_{p}", f"e({p}+h)", (pred_h - y) ** 2, fmt="#,##0.00",
                                   note=f"the error with {p} nudged by h"))
                cols.append(Column(f"est_{p}", f"est de/d{p}", (Col(f"eh_{p}") - Col("err")) / h,
                                   fmt="#,##0.00", note=f"forward difference (e({p}+h) - e)/h"))
        hid = {n: Col(n) for n, *_ in hidden}
        grads = self.backward(w, 2 * (Col("pred") - y), hid)
        for p in self.params:
            cols.append(Column(f"g_{p}", f"de/d{p}", grads[p], fmt="#,##0.00",
                               note=f"analytic derivative of e with respect to {p}"))
        return cols


def _linear_forward(w):
    return [], w["a"] * x + w["b"]


def _linear_backward(w, r2, hid):
    g_b = Col("g_b")
    return {"b": r2, "a": g_b * x}


def _linear2_forward(w):
    z = w["a"] * x + w["b"]
    if isinstance(w["a"], Col) and isinstance(w["b"], Col):
        # Unnudged: the hidden unit gets its own column so a learner sees it.
        return [("z", "z=a*x+b", z, "hidden unit a*x + b")], w["c"] * Col("z") + w["d"]
    return [], w["c"] * z + w["d"]


def _linear2_backward(w, r2, hid):
    return {"d": r2, "c": Col("g_d") * hid["z"], "b": Col("g_d") * w["c"], "a": Col("g_b") * x}


def _relu2_forward(w):
    z = w["a"] * x + w["b"]
    if isinstance(w["a"], Col) and isinstance(w["b"], Col):
        return [("z", "z=a*x+b", z, "pre-activation a*x + b")], w["c"] * maximum(0, Col("z")) + w["d"]
    return [], w["c"] * maximum(0, z) + w["d"]


def _relu2_backward(w, r2, hid):
    # The derivative at exactly z = 0 is 0, as in torch.relu and micrograd.
    return {
        "d": r2,
        "c": Col("g_d") * maximum(0, hid["z"]),
        "b": if_(hid["z"] > 0, Col("g_d") * w["c"], 0),
        "a": Col("g_b") * x,
    }


MODELS = {
    "linear": Model("linear", "y = a*x + b", ("a", "b"), _linear_forward, _linear_backward,
                    "one neuron: Jeremy Howard's graddesc model"),
    "linear2": Model("linear2", "y = c*(a*x + b) + d", ("a", "b", "c", "d"), _linear2_forward,
                     _linear2_backward, "two stacked linear neurons: the same function class, a harder optimisation"),
    "relu2": Model("relu2", "y = c*max(0, a*x + b) + d", ("a", "b", "c", "d"), _relu2_forward,
                   _relu2_backward, "two neurons with a ReLU between them"),
}


def get_model(name: str) -> Model:
    from .errors import XlgdError

    try:
        return MODELS[name]
    except KeyError:
        raise XlgdError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None

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
from .table import StepColumn

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
    inits: dict | None = None  # start values other than 1 (e.g. to break an mlp's symmetry)

    def columns(self, fd: bool = True) -> list[StepColumn]:
        w = {p: Col(p) for p in self.params}
        hidden, pred = self.forward(w)
        cols = [StepColumn(n, hd, e, note=note) for n, hd, e, note in hidden]
        cols.append(StepColumn("pred", "pred", pred, note=f"prediction {self.formula.split('=')[1].strip()}"))
        err = Col("pred") - y
        cols.append(StepColumn("err", "err^2", err**2, fmt="#,##0.00", note="e = (pred - y)^2"))
        if fd:
            for p in self.params:
                nudged = dict(w, **{p: w[p] + h})
                _, pred_h = self.forward(nudged)
                cols.append(StepColumn(f"eh_{p}", f"e({p}+h)", (pred_h - y) ** 2, fmt="#,##0.00",
                                   note=f"the error with {p} nudged by h"))
                cols.append(StepColumn(f"est_{p}", f"est de/d{p}", (Col(f"eh_{p}") - Col("err")) / h,
                                   fmt="#,##0.00", note=f"forward difference (e({p}+h) - e)/h"))
        hid = {n: Col(n) for n, *_ in hidden}
        grads = self.backward(w, 2 * (Col("pred") - y), hid)
        for p in self.params:
            cols.append(StepColumn(f"g_{p}", f"de/d{p}", grads[p], fmt="#,##0.00",
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


def mlp(width: int = 4, act: str = "relu") -> Model:
    """y = sum_j c_j*act(a_j*x + b_j) + d: one hidden layer of k units.

    With every weight 1 all units would be the same unit forever (they get
    the same gradient), so the defaults break the symmetry: slopes of
    alternating sign and kinks spread over x = -50 ... 100, small c.
    """
    if act not in ("relu", "linear"):
        raise ValueError(act)
    units = range(1, width + 1)
    params = tuple(f"{p}{j}" for p in "abc" for j in units) + ("d",)

    def f(z):
        return maximum(0, z) if act == "relu" else z

    def forward(w):
        hidden, terms = [], []
        for j in units:
            z = w[f"a{j}"] * x + w[f"b{j}"]
            if isinstance(w[f"a{j}"], Col) and isinstance(w[f"b{j}"], Col):
                hidden.append((f"z{j}", f"z{j}", z, f"unit {j}: a{j}*x + b{j}"))
                z = Col(f"z{j}")
            terms.append(w[f"c{j}"] * f(z))
        pred = terms[0]
        for t in terms[1:]:
            pred = pred + t
        return hidden, pred + w["d"]

    def backward(w, r2, hid):
        g = {"d": r2}
        for j in units:
            z = hid[f"z{j}"]
            g[f"c{j}"] = Col("g_d") * f(z)
            g[f"b{j}"] = if_(z > 0, Col("g_d") * w[f"c{j}"], 0) if act == "relu" else Col("g_d") * w[f"c{j}"]
            g[f"a{j}"] = Col(f"g_b{j}") * x
        return g

    inits = {"d": 0.0}
    for j in units:
        sign = 1.0 if j % 2 else -1.0
        kink = -50.0 + 150.0 * (j - 0.5) / width
        inits[f"a{j}"] = sign
        inits[f"b{j}"] = -sign * kink
        inits[f"c{j}"] = round(1.0 / width, 6)
    name = f"mlp{width}" + ("" if act == "relu" else "_linear")
    formula = f"y = sum_j c_j*{'max(0, a_j*x + b_j)' if act == 'relu' else '(a_j*x + b_j)'} + d"
    return Model(name, formula, params, forward, backward,
                 f"one hidden layer of {width} {act} units", inits)


MODELS["mlp"] = mlp(4, "relu")
MODELS["mlp"].name = "mlp"


def get_model(name: str) -> Model:
    """A registered model, or mlpK / mlpK_linear for a width-K hidden layer (K = 1 ... 64)."""
    import re

    from ..errors import XlgdError

    if name not in MODELS:
        m = re.fullmatch(r"mlp(\d+)(_linear|_relu)?", name)
        if m and 1 <= int(m.group(1)) <= 64:
            model = mlp(int(m.group(1)), (m.group(2) or "_relu")[1:])
            model.name = name
            MODELS[name] = model
    try:
        return MODELS[name]
    except KeyError:
        raise XlgdError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}, "
                        f"or mlpK / mlpK_linear (K hidden units)") from None

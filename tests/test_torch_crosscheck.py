"""The torch convention against torch.optim; the backward passes against autograd.

As micrograd's tests do: the same computation run through our engine and
through PyTorch in float64, compared. torch's CPU update is a fused
multiply-add and ours is not, so the bound is 1e-12 relative on stable
runs rather than bit equality.
"""

import math

import numpy as np
import pytest

from xlgd.core.engine import run
from xlgd.core.sheet import build_sheet
from xlgd.recipe.data import GRADDESC_X

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch, pytest.mark.slow]

X = np.array(GRADDESC_X, dtype=np.float64)
Y = 2 * X + 30
EPOCHS = 5


def torch_optimizer(name, params, k):
    lr = k["lr"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=False)
    if name == "momentum":
        # EMA momentum m = b*m + (1-b)*g from m0 = 0: torch's dampening, with
        # the buffer pre-set so step 1 is not the undampened clone of g.
        opt = torch.optim.SGD(params, lr=lr, momentum=k["beta1"], dampening=k["beta1"], foreach=False)
        for p in params:
            opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
        return opt
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=k["eps"], initial_accumulator_value=k["s_init"],
                                   foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=k["beta2"], eps=k["eps"], foreach=False)
    if name in ("adam", "adam_ann"):
        return torch.optim.Adam(params, lr=lr, betas=(k["beta1"], k["beta2"]), eps=k["eps"], foreach=False)
    raise KeyError(name)


def anneal(opt, params, k, best):
    """graddesc's rule between epochs, as a manual hook (torch has no scheduler for it)."""
    ind = sum(float(opt.state[p]["exp_avg_sq"].sqrt()) if opt.state[p] else 0.0 for p in params)
    g = opt.param_groups[0]
    if best is not None and best > 0 and ind > k["ann_ratio"] * best:
        g["lr"] /= k["ann_factor"]
    return ind if best is None or best <= 0 else min(best, ind)


def torch_trajectory(name, k):
    a = torch.tensor(k["a_init"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(k["b_init"], dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(name, [a, b], k)
    best, out = None, []
    for _ in range(EPOCHS):
        if name == "adam_ann":
            best = anneal(opt, [a, b], k, best)
        for xi, yi in zip(X, Y):
            opt.zero_grad()
            loss = (a * float(xi) + b - float(yi)) ** 2
            loss.backward()
            opt.step()
            out.append((a.item(), b.item()))
    return np.array(out)


@pytest.mark.parametrize("name,knobs", [
    ("sgd", {"lr": 1e-4}),
    ("momentum", {"lr": 1e-4}),
    ("adagrad", {"lr": 0.5}),
    ("rmsprop", {"lr": 0.01}),
    ("adam", {"lr": 0.1}),
    ("adam_ann", {"lr": 0.5, "ann_ratio": 1.05}),
])
def test_torch_convention_matches_torch_optim(name, knobs):
    spec = build_sheet("linear", name, "torch", n_data=len(X), epochs=EPOCHS, knobs=knobs)
    res = run(spec, X, Y)
    assert not res.errors
    if name == "adam_ann":
        assert len(set(res.epochs["lr"])) > 1, "the annealing rule never fired: nothing compared"
    ours = np.stack([res.steps["new_a"], res.steps["new_b"]], axis=1)
    theirs = torch_trajectory(name, spec.input_values())
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
    assert rel.max() <= 1e-12, f"max relative difference {rel.max():.3g} at step {rel.max(axis=1).argmax()}"
    # The run must actually move, or agreement would be trivial.
    assert abs(theirs[-1, 1] - 1.0) > 0.01


def test_graddesc_rmsprop_is_not_torch_rmsprop():
    """The comparison above can fail: graddesc's lagged RMSProp differs from torch."""
    spec = build_sheet("linear", "rmsprop", "graddesc", n_data=len(X), epochs=EPOCHS,
                       knobs={"lr": 0.01, "beta2": 0.99})
    res = run(spec, X, Y)
    theirs = torch_trajectory("rmsprop", {**spec.input_values(), "eps": 1e-8})
    assert np.abs(res.steps["new_b"] - theirs[:, 1]).max() > 1e-6


@pytest.mark.parametrize("model", ["linear", "linear2", "relu2"])
def test_analytic_gradients_match_autograd(model):
    """Every row's de/dw column equals torch.autograd at that row's weights."""
    spec = build_sheet(model, "sgd", "graddesc", n_data=len(X), epochs=2, knobs={"lr": 2e-5, "b_init": 0.5})
    res = run(spec, X, Y)
    params = spec.params
    n = spec.n_steps
    for i in range(0, n, 3):
        w = {p: torch.tensor(res.steps[p][i], dtype=torch.float64, requires_grad=True) for p in params}
        xi, yi = float(res.steps["x"][i]), float(res.steps["y"][i])
        z = w["a"] * xi + w["b"]
        if model == "linear":
            pred = z
        elif model == "linear2":
            pred = w["c"] * z + w["d"]
        else:
            pred = w["c"] * torch.relu(z) + w["d"]
        ((pred - yi) ** 2).backward()
        for p in params:
            g = w[p].grad.item()
            ours = res.steps[f"g_{p}"][i]
            assert ours == pytest.approx(g, rel=1e-13, abs=1e-12), (model, i, p, ours, g)


def test_forward_differences_carry_exactly_the_predicted_bias():
    """e is quadratic in each weight, so (e(w+h)-e(w))/h = de/dw + h/2 * d2e/dw2:
    + h for b and + h*x^2 for a on the linear model (graddesc's row 4: -85.99 vs -86)."""
    spec = build_sheet("linear", "sgd", "graddesc", n_data=len(X), epochs=1)
    res = run(spec, X, Y)
    h = spec.input_values()["h"]
    for i in range(spec.n_steps):
        x = res.steps["x"][i]
        scale = abs(res.steps["err"][i]) / h
        assert math.isclose(res.steps["est_b"][i], res.steps["g_b"][i] + h, abs_tol=1e-12 * scale + 1e-9)
        assert math.isclose(res.steps["est_a"][i], res.steps["g_a"][i] + h * x * x,
                            abs_tol=1e-12 * scale * x * x + 1e-9)

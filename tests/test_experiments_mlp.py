"""The width-k hidden layer: gradients against torch autograd, and "in high dimensions SGD gets close"."""

import numpy as np
import pytest

from xlgd.core.engine import run
from xlgd.core.models import get_model
from xlgd.core.sheet import build_sheet
from xlgd.errors import XlgdError
from xlgd.recipe.data import load_data
from xlgd.recipe.template import load_recipe


@pytest.mark.torch
@pytest.mark.parametrize("model", ["mlp", "mlp3", "mlp5_linear"])
def test_gradients_equal_torch_autograd(model):
    torch = pytest.importorskip("torch")
    d = load_data({"source": "range"})
    spec = build_sheet(model, "sgd", n_data=len(d), knobs={"lr": 1e-5}, stability=True)
    r = run(spec, d.x, d.y)
    act = torch.relu if not model.endswith("_linear") else (lambda z: z)
    k = (len(spec.params) - 1) // 3
    for i in (0, 7, len(d) - 1):
        w = {p: torch.tensor(r.steps[p][i], dtype=torch.float64, requires_grad=True) for p in spec.params}
        x = torch.tensor(d.x[i], dtype=torch.float64)
        pred = sum(w[f"c{j}"] * act(w[f"a{j}"] * x + w[f"b{j}"]) for j in range(1, k + 1)) + w["d"]
        assert pred.item() == pytest.approx(r.steps["pred"][i], rel=1e-13)
        e = (pred - float(d.y[i])) ** 2
        e.backward()
        for p in spec.params:
            assert r.steps[f"g_{p}"][i] == pytest.approx(float(w[p].grad), rel=1e-12, abs=1e-12), (i, p)
        # The stability column: lr * |dpred/dw|^2, with dpred/dw from autograd too.
        wp = {p: torch.tensor(r.steps[p][i], dtype=torch.float64, requires_grad=True) for p in spec.params}
        pred = sum(wp[f"c{j}"] * act(wp[f"a{j}"] * x + wp[f"b{j}"]) for j in range(1, k + 1)) + wp["d"]
        pred.backward()
        jj = sum(float(wp[p].grad) ** 2 for p in spec.params)
        assert r.steps["stab"][i] == pytest.approx(1e-5 * jj, rel=1e-12)


@pytest.mark.slow
def test_wider_layers_get_closer():
    """The forum's "in high dimensions SGD gets close": same data, lr and epochs, only the width changes."""
    d = load_data({})
    finals = {}
    for m in ("relu2", "mlp4", "mlp8", "mlp16"):
        spec = build_sheet(m, "sgd", n_data=len(d), epochs=50, knobs={"lr": 1e-5}, fd=False)
        r = run(spec, d.x, d.y)
        assert r.first_explosion_step() is None
        finals[m] = r.epochs["mse"][-1]
    widths = list(finals.values())
    assert all(b < a for a, b in zip(widths, widths[1:])), finals


def test_symmetric_start_never_breaks_symmetry():
    # Why mlp's defaults are spread out: with every weight 1, all units stay one unit.
    d = load_data({})
    knobs = {f"{p}_init": 1.0 for p in get_model("mlp3").params}
    spec = build_sheet("mlp3", "sgd", n_data=len(d), epochs=3, knobs=dict(knobs, lr=1e-6))
    r = run(spec, d.x, d.y)
    for p in "abc":
        assert np.array_equal(r.steps[f"{p}1"], r.steps[f"{p}2"]) and np.array_equal(r.steps[f"{p}1"], r.steps[f"{p}3"])


def test_mlp_template_and_bad_names():
    recipe = load_recipe("tests/data/mlp.toml")
    assert [len(s.params) for s in recipe.sheets] == [13, 10, 7, 16]
    for bad in ("mlp0", "mlp65", "mlpx", "mlp3_tanh"):
        with pytest.raises(XlgdError, match="unknown model"):
            get_model(bad)

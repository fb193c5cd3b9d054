"""The forum learner's findings, recomputed by the engine from templates/two-neuron.toml.

Nothing here is a number copied from our own output: each test states a
finding as a property of the computed steps (which step exploded, when the
ReLU unit died) and lets the engine find it.
"""

import numpy as np
import pytest

from xlgd.core.engine import run
from xlgd.core.sheet import build_sheet
from xlgd.recipe.data import GRADDESC_X
from xlgd.recipe.template import Overrides, load_recipe


@pytest.fixture(scope="module")
def two():
    recipe = load_recipe("two-neuron", Overrides(epochs=10))
    specs = {s.name: s for s in recipe.sheets}
    results = {n: run(s, recipe.data.x, recipe.data.y) for n, s in specs.items()}
    return recipe, specs, results


def test_the_experiment_is_the_learners(two):
    recipe, specs, _ = two
    assert list(recipe.data.x) == list(GRADDESC_X)
    assert np.array_equal(recipe.data.y, 2 * recipe.data.x + 30)
    for s in specs.values():
        knobs = s.input_values()
        assert knobs["lr"] == 1e-4
        assert all(knobs[f"{p}_init"] == 1 for p in s.params)


def test_linear2_explodes_within_epoch_1_and_linear_does_not(two):
    recipe, specs, res = two
    n = len(recipe.data)
    for name in ("linear2", "linear2_fd"):
        k = res[name].first_explosion_step()
        assert k is not None and k < n, (name, k)
    assert res["linear"].first_explosion_step() is None
    assert res["linear"].first_error_step() is None
    mse = res["linear"].epochs["mse"]
    assert np.all(np.diff(mse) < 0), "the 1-neuron model keeps improving epoch after epoch"
    # With SGD on analytic gradients the run overflows: #NUM! cells from then on.
    assert res["linear2"].first_error_step() is not None


def test_the_exploded_at_column_agrees_with_the_engine(two):
    _, specs, res = two
    for name, r in res.items():
        k = r.first_explosion_step()
        boom = r.steps["boom"]
        # The column carries the 1-based step number of the first explosion, 0 before it.
        assert np.all(boom[: k if k is not None else len(boom)] == 0)
        if k is not None:
            assert np.all(boom[k:] == r.steps["step"][k])


def _unit_dead(a, b, x):
    return np.all(a * x + b <= 0)


def test_relu2_survives_because_its_unit_dies(two):
    recipe, specs, res = two
    x = recipe.data.x
    n = len(x)
    for name in ("relu2", "relu2_fd", "relu2_mom"):
        r = res[name]
        assert r.first_explosion_step() is None, name
        a, b = r.steps["a"], r.steps["b"]
        dead = [i for i in range(len(a)) if _unit_dead(a[i], b[i], x)]
        assert dead, f"{name}: the ReLU unit never died"
        k = dead[0]
        # Once dead it stays dead: a and b get zero gradient from then on.
        assert dead == list(range(k, len(a))), name
        g = "g" if r.spec.grad == "analytic" else "est"
        assert np.all(r.steps[f"{g}_a"][k:] == 0) and np.all(r.steps[f"{g}_b"][k:] == 0), name
        if r.spec.optimizer == "sgd":
            assert np.all(a[k:] == a[k]) and np.all(b[k:] == b[k]), name
        else:
            # Momentum only coasts: m shrinks by beta1 each step, pushing a and b deeper.
            beta = r.spec.input_values()["beta1"]
            m = r.steps["m_a"]
            assert np.all(m[k + 1:] == m[k:-1] * beta)
        # What is left is y = d + c*0: only d trains, so stability falls to lr*1.
        assert np.all(r.steps["stab"][k:] == r.spec.input_values()["lr"])
        if name == "relu2":
            assert k < n, "the unit dies within epoch 1"
            died_at = k

    # Until some row first has z <= 0, relu2 *is* linear2, cell for cell: the
    # same weights, the same steps. From that row on linear2 keeps pushing
    # (and explodes), while relu2's unit is switched off.
    lin2, relu2 = res["linear2"], res["relu2"]
    z = relu2.steps["z"]
    first_off = int(np.nonzero(z <= 0)[0][0])
    assert first_off <= died_at
    for col in ("a", "b", "c", "d"):
        assert np.array_equal(lin2.steps[col][:first_off + 1], relu2.steps[col][:first_off + 1]), col
    for col in ("pred", "err"):
        assert np.array_equal(lin2.steps[col][:first_off], relu2.steps[col][:first_off]), col
    assert lin2.first_explosion_step() > first_off


def test_stability_exceeds_its_bound_before_each_explosion(two):
    _, specs, res = two
    exploded = 0
    for name, r in res.items():
        k = r.first_explosion_step()
        if k is None:
            continue
        exploded += 1
        stab = r.steps["stab"][:k]
        assert np.nanmax(stab) > 1, name
        # ...and the rows past it are where the error grew tenfold in a step.
        err = r.steps["err"][:k + 1]
        grew = [i for i in range(1, k + 1) if err[i] > 10 * err[i - 1]]
        assert any(stab[i - 1] > 1 or stab[max(i - 2, 0)] > 1 for i in grew if i - 1 < k), name
    assert exploded >= 2


def test_bound_derivation_on_one_row_of_the_linear_model():
    """For y = a*x + b one SGD step gives r' = r*(1 - 2*stab) exactly (up to rounding):
    the row's own error grows iff stab > 1."""
    xs = np.arange(-80.0, 121.0, 10.0)
    spec = build_sheet("linear", "sgd", n_data=len(xs), knobs={"lr": 2e-4}, stability=True)
    r = run(spec, xs, 2 * xs + 30)
    a, b = r.steps["new_a"], r.steps["new_b"]
    res_before = r.steps["pred"] - r.steps["y"]
    res_after = a * xs + b - r.steps["y"]
    stab = r.steps["stab"]
    assert np.allclose(res_after, res_before * (1 - 2 * stab), rtol=1e-9, atol=1e-9)
    clear = np.abs(stab - 1) > 1e-6
    assert np.any(stab[clear] > 1) and np.any(stab[clear] < 1)
    assert np.array_equal((np.abs(res_after) > np.abs(res_before))[clear], (stab > 1)[clear])


def test_linear_bound_matches_graddesc_lr():
    # lr < 1/(x^2 + 1) for every row: graddesc's 1e-4 sits just under it for x <= 99.
    spec = build_sheet("linear", "sgd", n_data=29, stability=True)
    r = run(spec, np.array(GRADDESC_X, float), 2 * np.array(GRADDESC_X, float) + 30)
    assert r.steps["stab"].max() < 1
    lin2 = build_sheet("linear2", "sgd", n_data=29, stability=True)
    r2 = run(lin2, np.array(GRADDESC_X, float), 2 * np.array(GRADDESC_X, float) + 30)
    # At the start (all weights 1) linear2's first rows already sit near or past the bound.
    assert r2.steps["stab"][:2].max() > 1

"""A batch of configurations in one vectorised run equals each run on its own."""

import numpy as np
import pytest

from xlgd.recipe.data import GRADDESC_X
from xlgd.core.engine import run
from xlgd.core.sheet import build_sheet

X = np.array(GRADDESC_X, dtype=np.float64)
Y = 2 * X + 30


@pytest.mark.parametrize("model,opt,conv", [
    ("linear", "adam", "graddesc"),
    ("linear2", "sgd", "graddesc"),      # explodes at the larger learning rates
    ("relu2", "momentum", "torch"),
    ("linear", "adam_ann", "torch"),
])
def test_batch_equals_scalar_runs_bit_for_bit(model, opt, conv):
    lrs = np.array([1e-5, 3e-5, 1e-4, 3e-4])
    spec = build_sheet(model, opt, conv, n_data=len(X), epochs=3)
    batch = run(spec, X, Y, inputs={"lr": lrs})
    assert batch.batch == len(lrs)
    for b, lr in enumerate(lrs):
        one = run(spec, X, Y, inputs={"lr": lr})
        for c in spec.columns:
            for i in range(spec.n_steps):
                assert batch.value(c.name, i, b) == one.value(c.name, i) or (
                    np.isnan(batch.steps[c.name][i, b]) and (c.name, i) in one.errors
                    and batch.errors.get((c.name, i, b)) == one.errors[(c.name, i)]), (c.name, i, b)
        for c in spec.epoch_columns:
            for k in range(spec.epochs):
                assert batch.value("@" + c.name, k, b) == one.value("@" + c.name, k)


def test_errors_are_spreadsheet_errors_not_nan():
    spec = build_sheet("linear2", "sgd", "graddesc", n_data=len(X), epochs=2, knobs={"lr": 1e-4})
    res = run(spec, X, Y)
    first = res.first_error_step()
    assert first is not None
    assert res.value("err", first) == "#NUM!"
    assert res.value("new_a", spec.n_steps - 1) == "#NUM!"
    assert isinstance(res.value("x", spec.n_steps - 1), float)  # data never turns into an error
    assert res.value("step", spec.n_steps - 1) == spec.n_steps


def test_division_by_zero_is_div0():
    spec = build_sheet("linear", "rmsprop", "graddesc", n_data=len(X), epochs=1, knobs={"v_init": 0})
    res = run(spec, X, Y)
    assert res.value("new_a", 0) == "#DIV/0!"

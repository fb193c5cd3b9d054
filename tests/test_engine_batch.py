"""A batch of configurations in one vectorised run equals each run on its own."""

import numpy as np
import pytest

from xlgd.core.engine import run
from xlgd.core.sheet import build_sheet
from xlgd.recipe.data import GRADDESC_X

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


def _same_as_single_runs(spec, knob, values, dialect, **fixed):
    """Every cell value and every error code of a batch over knob=values equals the single runs'."""
    batch = run(spec, X, Y, inputs={knob: np.asarray(values), **fixed}, dialect=dialect)
    for b, v in enumerate(values):
        one = run(spec, X, Y, inputs={knob: v, **fixed}, dialect=dialect)
        for c in spec.columns:
            got, want = batch.steps[c.name][:, b], one.steps[c.name]
            nan = np.isnan(want)
            assert np.array_equal(np.isnan(got), nan), (c.name, b)  # the same error cells ...
            assert np.array_equal(got[~nan].view(np.int64), want[~nan].view(np.int64)), (c.name, b)  # ... same bits
            assert np.array_equal(batch.codes[c.name][:, b], one.codes[c.name]), (c.name, b)
        for c in spec.epoch_columns:
            assert np.array_equal(batch.epochs[c.name][:, b], one.epochs[c.name], equal_nan=True), (c.name, b)
            assert np.array_equal(batch.epoch_codes[c.name][:, b], one.epoch_codes[c.name]), (c.name, b)
    return batch


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
def test_a_sweep_across_the_explosion_equals_single_runs_error_cells_included(dialect):
    spec = build_sheet("linear2", "sgd", "graddesc", n_data=len(X), epochs=3, stability=True)
    lrs = np.logspace(-6, -2, 24)
    batch = _same_as_single_runs(spec, "lr", lrs, dialect)
    booms = batch.first_explosion_step()
    assert booms[0] is None and booms[-1] is not None, "the grid crosses the explosion"
    assert sum(b is not None for b in booms) >= 8 and sum(b is None for b in booms) >= 8
    codes = {int(c) for arr in batch.codes.values() for c in np.unique(arr)}
    assert {0, 1, 6} <= codes, codes  # numbers, #NUM! and #N/A (the chart column) in one batch


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
@pytest.mark.parametrize("model,opt,conv,knob,values,fixed", [
    ("relu2", "momentum", "torch", "lr", np.logspace(-5, -2, 10), {}),
    ("linear", "adam_ann", "graddesc", "lr", np.logspace(-1, 2, 8), {}),
    # v_init = 0 divides by zero on the first row at every lr, exploding or not.
    ("linear", "rmsprop", "graddesc", "lr", np.logspace(-4, 0, 6), {"v_init": 0.0}),
    ("linear2", "adam", "torch", "beta1", np.linspace(0.0, 0.99, 7), {"lr": 0.5}),
])
def test_batches_of_every_kind_equal_single_runs(dialect, model, opt, conv, knob, values, fixed):
    spec = build_sheet(model, opt, conv, n_data=len(X), epochs=3, stability=True)
    batch = _same_as_single_runs(spec, knob, values, dialect, **fixed)
    if opt == "rmsprop":
        assert {int(c) for arr in batch.codes.values() for c in np.unique(arr)} >= {2}  # #DIV/0!

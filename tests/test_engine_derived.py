"""Output-only columns (the chart columns, forward-difference estimates) computed after each epoch's rows,
over arrays, equal what the row path gives them: every value bit and error code, one run or a batch."""

import numpy as np
import pytest

from xlgd.core.chart_columns import SUFFIX
from xlgd.core.engine import run
from xlgd.core.program import Program
from xlgd.core.sheet import build_sheet
from xlgd.recipe.data import GRADDESC_X

X = np.array(GRADDESC_X, dtype=np.float64)


def _same(a, b, what):
    for c in a.steps:
        got, want = a.steps[c], b.steps[c]
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan), (what, c)
        assert np.array_equal(got[~nan].view(np.int64), want[~nan].view(np.int64)), (what, c)
        assert np.array_equal(a.codes[c], b.codes[c]), (what, c)
    for c in a.epochs:
        assert np.array_equal(a.epochs[c], b.epochs[c], equal_nan=True), (what, c)
        assert np.array_equal(a.epoch_codes[c], b.epoch_codes[c]), (what, c)


def test_the_chart_columns_leave_the_row_path_and_what_others_read_stays():
    spec = build_sheet("linear", "adam", "graddesc", n_data=len(X), epochs=2, stability=True)
    prog = Program(spec)
    charts = {c.name for c in spec.columns if c.name.endswith(SUFFIX)}
    assert charts and charts <= set(prog.derived)
    read = {d for c in spec.columns if c.name in prog.order for d in c.deps(0) | c.deps(1)}
    read |= {d for c in spec.columns for d in c.deps(1)}
    assert not read & set(prog.derived)  # no row waits for a derived column ...
    assert {"err", "pred", "a", "b", "new_a", "new_b"} <= set(prog.order)  # ... and what others read stays
    assert Program(spec, derive=False).derived == [] and len(Program(spec, derive=False).order) == len(spec.columns)


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
@pytest.mark.parametrize("model,opt,conv,true_b,knobs", [
    ("linear", "adam", "graddesc", 3000.0, {"lr": 1.0}),       # b past chart_max on most rows: #N/A gaps
    ("linear", "sgd", "graddesc", 30.0, {"chart_max": 2.0}),   # clipping at a small chart_max
    ("linear2", "sgd", "graddesc", 30.0, {"lr": 1e-3}),        # explodes: #NUM! sources, #N/A charts
    ("relu2", "momentum", "torch", 30.0, {"lr": 3e-3, "chart_max": 1.0}),
    ("linear", "rmsprop", "graddesc", 30.0, {"v_init": 0.0}),  # #DIV/0! from the first row
])
def test_derived_columns_equal_the_row_path(dialect, model, opt, conv, true_b, knobs):
    spec = build_sheet(model, opt, conv, n_data=len(X), epochs=3, stability=True, knobs=knobs)
    y = 2 * X + true_b
    fast, rows = run(spec, X, y, dialect=dialect), run(spec, X, y, dialect=dialect, derive=False)
    _same(fast, rows, "one run")
    codes = {int(c) for c in np.unique(np.concatenate([fast.codes[c] for c in fast.codes]))}
    assert 6 in codes or opt == "rmsprop", codes  # the chart columns' #N/A is among the codes


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
def test_a_batch_with_derived_columns_equals_single_runs_in_the_row_path(dialect):
    spec = build_sheet("linear2", "sgd", "graddesc", n_data=len(X), epochs=3, stability=True)
    lrs = np.logspace(-6, -2, 12)
    batch = run(spec, X, 2 * X + 30, inputs={"lr": lrs, "chart_max": 50.0}, dialect=dialect)
    for b, lr in enumerate(lrs):
        one = run(spec, X, 2 * X + 30, inputs={"lr": lr, "chart_max": 50.0}, dialect=dialect, derive=False)
        _same(batch.take(b), one, f"lr={lr}")
    assert any(batch.codes[c].any() for c in batch.codes if c.endswith(SUFFIX))

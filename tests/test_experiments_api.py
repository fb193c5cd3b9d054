"""The notebook API: xlgd.run -> DataFrame, .plot(), xlgd.generate."""

import numpy as np
import openpyxl
import pytest

import xlgd
from xlgd.core.engine import run as run_engine
from xlgd.errors import XlgdError
from xlgd.recipe.template import load_recipe


def test_run_frame_has_the_sheet_columns_and_engine_values():
    h = xlgd.run("two-neuron", sheet="linear2")
    spec = next(s for s in load_recipe("two-neuron").sheets if s.name == "linear2")
    assert list(h.columns) == [c.name for c in spec.columns]
    assert list(h.index[:3]) == [1, 2, 3]
    recipe = load_recipe("two-neuron")
    res = run_engine(spec, recipe.data.x, recipe.data.y)
    for c in spec.columns:
        assert np.array_equal(h[c.name].to_numpy(), res.steps[c.name], equal_nan=True)
    assert h.attrs["first_explosion_step"] == res.first_explosion_step() + 1
    assert ("err", res.first_error_step() + 1) in h.attrs["errors"]


def test_run_from_a_model_and_knobs_equals_the_template_sheet():
    a = xlgd.run(model="linear2", lr=1e-4, epochs=3, stability=True)
    b = xlgd.run("two-neuron", sheet="linear2")
    common = [c for c in b.columns if c in a.columns]
    assert np.array_equal(a[common].to_numpy(), b[common].to_numpy(), equal_nan=True)


@pytest.mark.slow
def test_plot_draws_error_and_weights():
    import matplotlib

    matplotlib.use("Agg")
    h = xlgd.run(model="relu2", lr=1e-4)
    err_ax, w_ax = h.plot()
    assert err_ax.get_yscale() == "log"
    assert [ln.get_label() for ln in w_ax.get_lines()] == ["a", "b", "c", "d"]
    assert np.array_equal(err_ax.get_lines()[0].get_ydata(), h["err"].to_numpy())


def test_generate_writes_the_workbook(tmp_path):
    out = xlgd.generate("momentum-sine", tmp_path / "ms.xlsx", lr=0.0001)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"no_relu", "relu", "relu_mom", "sine", "derivatives"} <= set(wb.sheetnames)
    wb.close()


@pytest.mark.parametrize("call", [
    lambda: xlgd.run("two-neuron"),
    lambda: xlgd.run("two-neuron", sheet="nope"),
    lambda: xlgd.run(model="nope"),
    lambda: xlgd.run("two-neuron", model="linear"),
    lambda: xlgd.generate(model="linear", path="x.csv"),
])
def test_bad_calls_raise_one_line_errors(call):
    with pytest.raises(XlgdError):
        call()


@pytest.mark.slow
def test_sweep_rows_are_the_single_runs_across_the_explosion():
    lrs = np.logspace(-6, -2, 16)
    s = xlgd.sweep(model="linear2", optimizer="sgd", lr=lrs, epochs=3)
    assert list(s.columns) == ["lr", "final_mse", "explosion_step"] and len(s) == 16
    assert s.attrs["swept"] == ["lr"] and s.result.batch == 16
    assert s["explosion_step"].isna().iloc[0] and not s["explosion_step"].isna().iloc[-1], "crosses the boundary"
    for j, lr in enumerate(lrs):
        h = xlgd.run(model="linear2", optimizer="sgd", lr=float(lr), epochs=3)
        mse = h.attrs["epoch_mse"][-1]
        assert s["lr"].iloc[j] == lr
        if isinstance(mse, str):  # an error cell: NaN in the sweep
            assert np.isnan(s["final_mse"].iloc[j])
        else:
            assert s["final_mse"].iloc[j] == mse
        boom = h.attrs["first_explosion_step"]
        assert (np.isnan(s["explosion_step"].iloc[j]) if boom is None else s["explosion_step"].iloc[j] == boom)
        for c in h.columns:  # every cell of the batch, not only the summary
            assert np.array_equal(s.result.steps[c][:, j], h[c].to_numpy(), equal_nan=True), (c, j)


def test_sweep_of_two_knobs_together_and_its_plot():
    import matplotlib

    matplotlib.use("Agg")
    s = xlgd.sweep("graddesc", sheet="adam", lr=[0.01, 0.1, 1.0], beta1=[0.5, 0.9, 0.99], epochs=2)
    assert list(s.columns[:2]) == ["lr", "beta1"] and len(s) == 3
    one = xlgd.run("graddesc", sheet="adam", lr=1.0, beta1=0.99, epochs=2)
    assert s["final_mse"].iloc[2] == one.attrs["epoch_mse"][-1]
    err_ax, step_ax = s.plot()
    assert err_ax.get_xscale() == "log" and err_ax.get_yscale() == "log"
    assert np.array_equal(err_ax.get_lines()[0].get_ydata(), s["final_mse"].to_numpy())


@pytest.mark.parametrize("call", [
    lambda: xlgd.sweep(model="linear2", lr=0.001),                      # nothing swept
    lambda: xlgd.sweep(model="linear2", lr=[1e-3, 1e-4], h=[0.1]),      # lengths differ
    lambda: xlgd.sweep(model="linear2", lr=[]),
    lambda: xlgd.sweep(model="linear2", nope=[1, 2]),
])
def test_bad_sweeps_raise_one_line_errors(call):
    with pytest.raises(XlgdError):
        call()

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

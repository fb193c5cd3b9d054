"""The notebook API as a learner meets it: both spellings of optimiser, docstrings that teach,
columns named as the sheet's headers when asked."""

import inspect
import re

import numpy as np
import pytest

import xlgd
from xlgd.errors import XlgdError


def test_optimiser_is_optimizer_spelt_the_british_way(tmp_path):
    a = xlgd.run(model="linear", optimiser="momentum", epochs=1)
    b = xlgd.run(model="linear", optimizer="momentum", epochs=1)
    assert a.attrs["optimizer"] == "momentum"
    assert a.equals(b)
    s = xlgd.sweep(model="linear", optimiser="adam", lr=[1e-3, 1e-2], epochs=1)
    assert s.attrs["optimizer"] == "adam"
    out = xlgd.generate(model="linear", optimiser="rmsprop", epochs=1, path=tmp_path / "o.xlsx")
    assert xlgd.read(out).attrs["optimizer"] == "rmsprop"


def test_two_spellings_that_disagree_are_refused():
    with pytest.raises(XlgdError, match="disagree"):
        xlgd.run(model="linear", optimizer="adam", optimiser="sgd", epochs=1)


@pytest.mark.parametrize("name", ["run", "sweep", "read", "generate"])
def test_each_call_has_a_docstring_with_parameters_returns_and_an_example(name):
    func = getattr(xlgd, name)
    doc = inspect.getdoc(func)
    for section in ("Parameters\n----------", "Returns\n-------", "Examples\n--------"):
        assert section in doc, f"xlgd.{name} has no {section.splitlines()[0]}"
    params = doc.split("Parameters\n----------")[1].split("Returns\n-------")[0]
    named = {n.strip() for line in params.splitlines() if not line.startswith(" ") and ":" in line
             for n in re.sub(r"\(or \w+\)", "", line.split(":")[0]).split(",")}
    signature = set(inspect.signature(func).parameters)
    assert named and named <= signature | {"**knobs"}, named - signature
    assert f"xlgd.{name}(" in doc.split("Examples")[1]


def test_headers_names_the_columns_as_the_sheet_does():
    plain = xlgd.run("graddesc", sheet="adam", epochs=1)
    named = xlgd.run("graddesc", sheet="adam", epochs=1, headers=True)
    assert list(named.columns) == [plain.attrs["headers"][c] for c in plain.columns]
    assert "err^2" in named.columns and "de/da" in named.columns and "err" not in named.columns
    assert np.array_equal(named.to_numpy(), plain.to_numpy(), equal_nan=True)
    assert named.column("err").equals(plain["err"].rename("err^2"))


def test_headers_from_a_workbook_and_plot_either_way(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    out = xlgd.generate("graddesc", tmp_path / "g.xlsx", epochs=1)
    named = xlgd.read(out, "momentum", headers=True)
    plain = xlgd.read(out, "momentum")
    assert list(named.columns) == [plain.attrs["headers"][c] for c in plain.columns]
    err_ax, w_ax = named.plot()
    assert np.array_equal(err_ax.get_lines()[0].get_ydata(), plain["err"].to_numpy())
    assert [ln.get_label() for ln in w_ax.get_lines()] == ["a", "b"]

"""The generated workbook as a learner opens it: formulas, names, values, charts."""

import re
import zipfile

import openpyxl
import pytest
from lxml import etree

from xlgd.core.engine import run
from xlgd.layout import HEADER_ROW, START_ROW, Layout, formula_cells
from xlgd.pipeline import build
from xlgd.recipe.compute import compute
from xlgd.recipe.template import Overrides, load_recipe

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The workbook as `generate` writes it (sheets streamed epoch by epoch from the engine into the
    file), and every value from a separate whole run of the recipe (`compute`)."""
    recipe = load_recipe("graddesc")
    path = tmp_path_factory.mktemp("wb") / "graddesc.xlsx"
    streamed = build(recipe, path)
    results = compute(recipe)
    assert streamed.summary(recipe) == results.summary(recipe)  # the summary tallied while streaming
    return recipe, path, results


def test_no_computed_cell_is_a_plain_number(generated):
    recipe, path, _ = generated
    wb = openpyxl.load_workbook(path)
    for spec in recipe.sheets:
        ws, lay = wb[spec.name], Layout(spec)
        n_cols = len(spec.columns)
        for row in ws.iter_rows(min_row=START_ROW + 1, max_row=lay.last_row, max_col=n_cols):
            for cell in row:
                assert isinstance(cell.value, str) and cell.value.startswith("="), \
                    f"{spec.name}!{cell.coordinate} is {cell.value!r}, not a formula"
        for c in spec.epoch_columns:
            for k in range(spec.epochs):
                v = ws.cell(lay.epoch_row(k), lay.epoch_index[c.name] + 1).value
                assert isinstance(v, str) and v.startswith("="), f"epoch block {c.name}{k} is {v!r}"
    data = wb["data"]
    for r in range(5, 5 + len(recipe.data)):
        assert data[f"C{r}"].value == f"=true_a*B{r}+true_b"


@pytest.mark.slow
def test_formulas_in_the_file_are_the_layouts(generated):
    recipe, path, _ = generated
    wb = openpyxl.load_workbook(path)
    for spec in recipe.sheets:
        ws = wb[spec.name]
        for r, c, f, _ in formula_cells(Layout(spec)):
            assert ws.cell(r + 1, c + 1).value == f


def test_cached_values_are_the_engines_to_the_bit(generated):
    recipe, path, results = generated
    wb = openpyxl.load_workbook(path, data_only=True)
    for spec in recipe.sheets:
        ws = wb[spec.name]
        for r, c, _, v in formula_cells(Layout(spec), results[spec.name]):
            assert ws.cell(r + 1, c + 1).value == v


def test_inputs_are_sheet_local_defined_names(generated):
    recipe, path, _ = generated
    wb = openpyxl.load_workbook(path)
    for spec in recipe.sheets:
        ws, lay = wb[spec.name], Layout(spec)
        names = ws.defined_names
        for inp in spec.inputs:
            assert inp.name in names, f"{spec.name} lacks the name {inp.name}"
            dest = names[inp.name].attr_text
            assert dest.endswith(lay.input_abs(inp.name)), dest
            assert ws[lay.input_cell(inp.name)].value == inp.value
    # The formulas read the names, not copies of the values.
    assert "lr" in wb["basic"].cell(START_ROW + 1, Layout(recipe.sheets[0]).col_index["new_a"] + 1).value


def _chart_parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)}


def test_every_chart_series_is_a_cell_reference_and_axes_show(generated):
    recipe, path, _ = generated
    charts = _chart_parts(path)
    # error, weights, derivative and error per epoch, and the fit (book/charts.py chart_specs)
    assert len(charts) == 5 * len(recipe.sheets)
    for name, root in charts.items():
        assert not root.findall(f".//{C}numLit") and not root.findall(f".//{C}strLit"), name
        for ser in root.iter(f"{C}ser"):
            for tag in ("cat", "val", "xVal", "yVal"):
                for part in ser.findall(f"{C}{tag}"):
                    refs = part.findall(f"{C}numRef/{C}f") + part.findall(f"{C}strRef/{C}f")
                    assert refs and refs[0].text, f"{name}: {tag} is not a reference"
            has_x = ser.find(f"{C}cat") is not None or ser.find(f"{C}xVal") is not None
            assert has_x, f"{name}: a series without categories / x values"
        for ax in list(root.iter(f"{C}catAx")) + list(root.iter(f"{C}valAx")):
            d = ax.find(f"{C}delete")
            assert d is None or d.get("val") in ("0", "false"), f"{name}: an axis is deleted"


def test_chart_axes_reference_the_step_epoch_and_x_cells(generated):
    recipe, path, _ = generated
    spec = recipe.sheets[0]
    lay = Layout(spec)
    refs = set()
    for root in _chart_parts(path).values():
        for tag in ("cat", "xVal"):
            refs |= {f.text for f in root.iter(f"{C}f") if f.getparent().getparent().tag == f"{C}{tag}"}
    assert lay.column_range("step") in refs
    assert lay.epoch_range("epoch") in refs
    assert lay.column_range("x", epoch=spec.epochs - 1) in refs


def test_same_recipe_same_bytes(tmp_path):
    recipe = load_recipe("graddesc", Overrides(epochs=1))
    build(recipe, tmp_path / "a.xlsx")
    build(recipe, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_epochs_continue_from_the_previous_epoch(generated):
    """Epoch 2's first row reads epoch 1's last row: weights and state carry over."""
    recipe, path, results = generated
    spec = next(s for s in recipe.sheets if s.optimizer == "adam")
    lay, n = Layout(spec), spec.n_data
    assert lay.formula("a", n) == f"={lay.cell('new_a', n - 1)}"
    assert lay.formula("m_a", n).startswith(f"={lay.cell('m_a', n - 1)}*beta1")
    res = results[spec.name]
    one = run(spec.__class__(**{**spec.__dict__, "epochs": 1}), recipe.data.x, recipe.data.y,
              start={k: res.steps[k][n - 1] for k in ("new_a", "new_b", "m_a", "m_b", "v_a", "v_b")})
    assert one.steps["new_a"][0] == res.steps["new_a"][n]


def test_pandas_reads_real_numbers(generated):
    import pandas as pd

    recipe, path, results = generated
    df = pd.read_excel(path, sheet_name="adam", header=HEADER_ROW - 1)
    step1 = df.iloc[1]  # row after the start row
    assert step1["err^2"] == results["adam"].steps["err"][0] != 0


def test_xlsxwriter_is_the_version_the_fast_row_writer_was_written_against():
    # book/xlsxwriter_fast.py uses XlsxWriter's private names; another version may move them.
    from xlgd.book import xlsxwriter_fast

    assert xlsxwriter_fast.installed_version() == xlsxwriter_fast.XLSXWRITER_VERSION, \
        "check book/xlsxwriter_fast.py against this XlsxWriter, then update XLSXWRITER_VERSION and pyproject.toml"


def test_number_text_reads_back_as_the_same_bits():
    """book/numbers.py: every double, as cell text, parses back (float(), as Excel and LibreOffice
    read xsd:double) to the same 64 bits -- subnormals, extremes, -0.0 and integers included."""
    import math

    import numpy as np

    from xlgd.book.numbers import text, texts

    rng = np.random.default_rng(15)
    bits = rng.integers(0, 2**63 - 1, 200_000, dtype=np.int64)
    vals = np.concatenate([bits.view(np.float64), (bits | np.int64(-2**63)).view(np.float64),  # both signs
                           [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16, 1e-5, 0.1, 3.0]])
    vals = vals[np.isfinite(vals)]
    got = np.array([float(t) for t in texts(vals)])
    assert np.array_equal(got.view(np.int64), vals.view(np.int64))
    assert all(len(t) <= 24 and "nan" not in t for t in texts(vals))
    assert [float(text(v)) for v in (1e16, -0.0, 5e-324)] == [1e16, -0.0, 5e-324]
    assert math.copysign(1, float(text(-0.0))) == -1
    assert texts([1.0, np.nan, math.inf]) == ["1.0", "null", "null"] and texts([]) == []

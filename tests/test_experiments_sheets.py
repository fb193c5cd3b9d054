"""The extra sheets and the stability formatting, read back from written workbooks."""

import math
import re
import zipfile

import openpyxl
import pytest

from xlgd.book.experiments import extra_cells
from xlgd.pipeline import build
from xlgd.recipe import experiments
from xlgd.recipe.compute import compute
from xlgd.recipe.template import load_recipe


@pytest.fixture(scope="module")
def sine_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("ms") / "ms.xlsx"
    build(load_recipe("momentum-sine"), out)
    return out


@pytest.mark.slow
def test_sine_sheet_is_fastais_ema_and_debias(sine_book):
    ws = openpyxl.load_workbook(sine_book, data_only=True)["sine"]
    start, stop, step, beta = (ws.cell(3, c).value for c in range(1, 5))
    rows = [r for r in ws.iter_rows(min_row=experiments.HEAD_ROW + 3, max_col=6, values_only=True) if r[0] is not None]
    assert len(rows) == int(round((stop - start) / step)) + 1
    ema, power = 0.0, 1.0
    for t, x, s, m, p, deb in rows:
        assert x == start + step * (t - 1)
        ema = ema * beta + (1 - beta) * math.sin(x)   # fastai average_grad(dampening=True)
        power *= beta
        assert (s, m, p) == (math.sin(x), ema, power)
        assert deb == ema / (1 - power)                # fastai debias: 1 - mom**step
    # Debiasing removes the pull towards the zero start: at t=1 it is sin(x) itself.
    assert rows[0][5] == pytest.approx(rows[0][2], rel=1e-15)
    f = openpyxl.load_workbook(sine_book)["sine"]
    assert f.cell(experiments.HEAD_ROW + 3, 4).value == "=D6*beta+(1-beta)*C7"


def test_derivatives_sheet_links_each_series(sine_book):
    ws = openpyxl.load_workbook(sine_book)["derivatives"]
    heads = [c.value for c in ws[experiments.HEAD_ROW + 1]][:5]
    assert heads == ["step", "no ReLU", "ReLU", "under mom", "mom"]
    row = [c.value for c in ws[experiments.HEAD_ROW + 2]][1:5]
    assert all(v.startswith("=IF(ISERROR(") for v in row)
    assert [re.search(r"ISERROR\((\w+)!", v).group(1) for v in row] == ["no_relu", "relu", "relu_mom", "relu_mom"]


@pytest.mark.slow
def test_every_chart_series_is_a_link_to_cells(sine_book, tmp_path):
    two = tmp_path / "two.xlsx"
    build(load_recipe("two-neuron"), two)
    for book in (sine_book, two):
        with zipfile.ZipFile(book) as z:
            charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
            assert charts
            for n in charts:
                xml = z.read(n).decode()
                assert "<c:numLit>" not in xml and "<c:strLit>" not in xml, n
                assert "<c:f>" in xml


def _conditional(book, sheet_index):
    with zipfile.ZipFile(book) as z:
        return z.read(f"xl/worksheets/sheet{sheet_index}.xml").decode().count("<cfRule")


@pytest.mark.slow
def test_stability_sheets_colour_rows_past_the_bound(tmp_path):
    two = tmp_path / "two.xlsx"
    recipe = load_recipe("two-neuron")
    build(recipe, two)
    names = openpyxl.load_workbook(two, read_only=True).sheetnames
    for s in recipe.sheets:
        # red, orange on step/epoch/x/y; red, orange, each again with big numbers, and big numbers alone on
        # the other columns; big numbers on the epoch block (book/formats.py)
        assert _conditional(two, names.index(s.name) + 1) == 2 + 5 + 1, s.name
    with zipfile.ZipFile(two) as z:
        xml = z.read(f"xl/worksheets/sheet{names.index('relu2_mom') + 1}.xml").decode()
    assert "(1+beta1)/(1-beta1)" in xml  # momentum's bound
    g = tmp_path / "g.xlsx"
    build(load_recipe("graddesc"), g)
    assert _conditional(g, 3) == 2  # no colours: big numbers on the step table and on the epoch block


def test_comparison_shows_the_collapsed_line(tmp_path):
    recipe = load_recipe("two-neuron")
    res = compute(recipe)
    cells = extra_cells(recipe, res)
    comp = {(r, c): (f, v) for r, c, f, v in cells["compare"]}
    f, v = comp[(experiments.HEAD_ROW + 1, 8)]
    assert f.startswith("=IF(ISERROR(linear2!") and "*linear2!" in f
    a, c = res["linear2"].steps["a"][0], res["linear2"].steps["c"][0]
    assert v == a * c


"""`xlgd diff` on files as users really make them: re-saved by openpyxl, pandas and
LibreOffice (no cached values, settings added on save), inf and NaN values, volatile cells."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import openpyxl
import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.diff.classify import DiffOptions, values_equal
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    p = tmp_path_factory.mktemp("realedits") / "graddesc.xlsx"
    build(load_recipe("graddesc"), p)
    return p


def xdiff(*args, json_out=True):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["diff", *map(str, args), *(["--json"] if json_out else [])])
    return rc, (json.loads(out.getvalue()) if json_out else out.getvalue())


def formula_cells(path):
    wb = openpyxl.load_workbook(path)
    return sum(isinstance(c.value, str) and c.value.startswith("=")
               for ws in wb.worksheets if ws.title != "_xlgd" for row in ws.iter_rows() for c in row)


def resave(src, dst, edit=None):
    """Open and save with openpyxl (which keeps formulas but drops every cached value)."""
    wb = openpyxl.load_workbook(src)
    if edit:
        edit(wb)
    wb.save(dst)
    return dst


@pytest.mark.slow
def test_openpyxl_resave_without_edit_is_no_difference(base, tmp_path):
    mine = resave(base, tmp_path / "resaved.xlsx")
    assert openpyxl.load_workbook(mine, data_only=True)["basic"]["G7"].value is None  # no cached values
    n = formula_cells(base)
    for args in ((mine, base), (base, mine), (mine,)):
        rc, rep = xdiff(*args)
        assert rc == 0 and rep["same"] and rep["changes"] == [], rep["changes"][:3]
        rec = [r for r in rep["recomputed"] if r["recomputed"]]
        assert len(rec) == 1 and rec[0]["recomputed"] == n and rec[0]["not_computed"] == 0
    rc, text = xdiff(mine, base, json_out=False)
    assert rc == 0 and text.splitlines()[-1] == "no differences"
    assert f"holds no cached value for {n:,} formula cell(s): {n:,} recomputed by xlgd's workbook evaluator" in text


@pytest.mark.slow
def test_openpyxl_edit_recomputes_what_followed(base, tmp_path):
    # The learner types a new lr with openpyxl: only basic's values follow, and they are
    # recomputed, never reported as "changed" merely for being absent.
    def lr(wb):
        wb["basic"]["A3"] = 0.0002

    mine = resave(base, tmp_path / "lr.xlsx", lr)
    twin = tmp_path / "twin.xlsx"
    from xlgd.recipe.template import Overrides

    build(load_recipe("graddesc", Overrides(sheet_knobs={("basic", "lr"): 0.0002})), twin)
    rc, rep = xdiff(mine, base)
    assert rc == 1
    inp = [c for c in rep["changes"] if c["kind"] == "input_changed"]
    assert [(c["cell"], c["name"], c["old"], c["new"]) for c in inp] == [("A3", "lr", 0.0001, 0.0002)]
    vals = [c for c in rep["changes"] if c["kind"] == "values_changed"]
    assert {c["kind"] for c in rep["changes"]} == {"input_changed", "values_changed"}
    # basic's values, and the intro's one link to basic's lr.
    assert {v["sheet"] for v in vals} == {"basic", "intro"}
    assert [(v["count"], v["example"]["new"]) for v in vals if v["sheet"] == "intro"] == [(1, 0.0002)]
    assert next(v for v in vals if v["header"] == "new a")["count"] == 145
    # The recomputed values are the ones xlgd's engine writes for lr = 0.0002.
    rc, rep = xdiff(mine, twin)
    assert rc == 0 and rep["same"], rep["changes"][:3]


@pytest.mark.slow
def test_pandas_edit_of_the_data_sheet(base, tmp_path):
    pd = pytest.importorskip("pandas")
    mine = tmp_path / "pandas.xlsx"
    mine.write_bytes(base.read_bytes())
    # A learner's script overwrites one x value of the data sheet in place.
    with pd.ExcelWriter(mine, mode="a", engine="openpyxl", if_sheet_exists="overlay") as w:
        pd.DataFrame([[55]]).to_excel(w, sheet_name="data", startrow=9, startcol=1, header=False, index=False)
    was = openpyxl.load_workbook(base)["data"]["B10"].value
    rc, rep = xdiff(mine, base)
    assert rc == 1
    inp = [c for c in rep["changes"] if c["kind"] == "input_changed"]
    assert [(c["sheet"], c["cell"], c["name"], c["old"], c["new"]) for c in inp] == [("data", "B10", "x", was, 55.0)]
    kinds = {c["kind"] for c in rep["changes"]}
    assert kinds == {"input_changed", "values_changed"}
    ys = [c for c in rep["changes"] if c["kind"] == "values_changed" and c["sheet"] == "data"]
    assert [(c["header"], c["count"], c["first"]) for c in ys] == [("y", 1, "C10")]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_resave_without_edit_is_no_difference(base, tmp_path):
    from xlgd.xlsx import libreoffice

    if not libreoffice.soffice():
        pytest.skip("LibreOffice is not installed")
    mine = libreoffice.recalc_xlsx(base, tmp_path / "lo")
    rc, rep = xdiff(mine, base)
    assert rc == 0 and rep["same"] and rep["changes"] == []
    notes = {n["setting"]: (n["old"], n["new"]) for n in rep["notes"]}
    assert notes == {"fullCalcOnLoad": ("1", "0"), "iterateDelta": ("0.001", "0.0001")}
    rc, text = xdiff(mine, base, json_out=False)
    assert "note: calculation setting iterateDelta: 0.001 -> 0.0001 (changes no value)" in text
    assert text.splitlines()[-1] == "no differences"


def test_calc_settings_that_change_values_are_differences(base, tmp_path):
    def iterate(root):
        root.find(E.S + "calcPr").set("iterate", "1")
        root.find(E.S + "calcPr").set("iterateDelta", "0.5")

    mine = E.rewrite(base, tmp_path / "it.xlsx", {"xl/workbook.xml": E.workbook_edit(iterate)})
    rc, rep = xdiff(mine, base)
    assert rc == 1
    assert {c["setting"] for c in rep["changes"]} == {"iterate", "iterateDelta"}


@pytest.mark.parametrize("old, new, equal", [
    (15.0, math.inf, False), (15.0, -math.inf, False), (math.inf, -math.inf, False), (math.inf, math.inf, True),
    (-math.inf, -math.inf, True), (math.nan, math.nan, True), (math.nan, 15.0, False), (math.nan, math.inf, False),
    (1e308, math.inf, False), (15.0, 15.0 * (1 + 1e-12), True)])
def test_inf_and_nan_are_values_of_their_own(old, new, equal):
    loose = DiffOptions(rtol=0.5, atol=1e6)
    assert values_equal(old, new, DiffOptions()) is equal and values_equal(new, old, loose) is equal


@pytest.mark.slow
@pytest.mark.parametrize("text, shown", [("inf", "inf"), ("-inf", "-inf"), ("NaN", "nan")])
def test_a_cached_value_turned_inf_or_nan_is_a_change(base, tmp_path, text, shown):
    part = E.sheet_part(base, "basic")
    assert openpyxl.load_workbook(base, data_only=True)["basic"]["G7"].value == 15.0
    mine = E.rewrite(base, tmp_path / "inf.xlsx", {part: E.set_cached("G7", text)})
    for args in ((mine, base), (mine, base, "--rtol", "0.9", "--atol", "1e9")):
        rc, rep = xdiff(*args)
        assert rc == 1
        (c,) = rep["changes"]
        assert (c["kind"], c["cell" if "cell" in c else "first"], c["count"]) == ("values_changed", "G7", 1)
        assert (c["example"]["old"], c["example"]["new"]) == (15.0, shown)
    # The same non-finite value on both sides is no difference.
    rc, rep = xdiff(mine, mine)
    assert rc == 0 and rep["same"]


def _reroll(values):
    """Data-sheet edits as a recalculation would leave them: new RANDBETWEEN draws, y following."""
    def fn(data):
        for i, x in enumerate(values):
            data = E.set_cached(f"B{5 + i}", repr(float(x)))(data)
            data = E.set_cached(f"C{5 + i}", repr(30.0 + 2.0 * x))(data)
        return data
    return fn


@pytest.mark.graddesc
def test_volatile_cells_are_reported_as_volatile(reference_xlsm, tmp_path):
    part = E.sheet_part(reference_xlsm, "data")
    mine = E.rewrite(reference_xlsm, tmp_path / "rerolled.xlsm", {part: _reroll([(7 * i) % 100 + 1 for i in range(29)])})
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 1
    vol = [c for c in rep["changes"] if c["kind"] == "volatile_changed"]
    assert [(c["sheet"], c["column"], c["function"], c["count"], c["first"], c["last"]) for c in vol] == [
        ("data", "B", "RANDBETWEEN", 29, "B5", "B33")]
    rest = [(c["kind"], c["column"], c["count"]) for c in rep["changes"] if c["kind"] != "volatile_changed"]
    assert rest == [("values_changed", "C", 29)]
    rc, text = xdiff(mine, reference_xlsm, json_out=False)
    assert "RANDBETWEEN is volatile: a new value on every recalculation, not an edit" in text


@pytest.mark.graddesc
def test_openpyxl_resave_of_jeremys_workbook(reference_xlsm, tmp_path):
    wb = openpyxl.load_workbook(reference_xlsm, keep_vba=True)
    mine = tmp_path / "resaved.xlsm"
    wb.save(mine)
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 0 and rep["same"], rep["changes"][:3]
    (rec,) = rep["recomputed"]
    # RANDBETWEEN cannot be recomputed, nor y = 30 + 2x of those x: 58 cells not compared, and said so.
    assert rec["not_computed"] == 58 and rec["recomputed"] > 1500
    assert list(rec["reasons"]) == ["uses RANDBETWEEN (volatile)"]
    rc, text = xdiff(mine, reference_xlsm, json_out=False)
    assert text.splitlines()[-1] == "no differences (58 formula cell(s) not compared: no value held or computable, see note)"


@pytest.mark.slow
def test_textconv_of_an_openpyxl_resave_is_the_same_text(base, tmp_path):
    mine = resave(base, tmp_path / "resaved.xlsx")
    a, b = io.StringIO(), io.StringIO()
    with redirect_stdout(a):
        assert cli.main(["diff", "--textconv", str(base)]) == 0
    with redirect_stdout(b):
        assert cli.main(["diff", "--textconv", str(mine)]) == 0
    la, lb = a.getvalue().splitlines(), b.getvalue().splitlines()
    n = formula_cells(base)
    assert lb == la + ["=== note", f"the file holds no value for {n} formula cell(s): {n} recomputed by xlgd's "
                                   f"workbook evaluator, 0 shown as ?"]


@pytest.mark.graddesc
@pytest.mark.libreoffice
def test_libreoffice_resave_of_jeremys_workbook_rerolls_only_volatile_cells(reference_xlsm, tmp_path):
    from xlgd.xlsx import libreoffice

    if not libreoffice.soffice():
        pytest.skip("LibreOffice is not installed")
    mine = libreoffice.recalc_xlsx(reference_xlsm, tmp_path / "lo")  # recalculated on load: new draws
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 1
    got = [(c["kind"], c["sheet"], c["column"]) for c in rep["changes"]]
    assert got == [("volatile_changed", "data", "B"), ("values_changed", "data", "C")]
    # A draw may repeat its old value (1 in 100); y = 30 + 2x changes exactly where x did.
    n = rep["changes"][0]["count"]
    assert 20 <= n <= 29 and rep["changes"][1]["count"] == n
    assert [n["setting"] for n in rep["notes"]] == ["iterateDelta"]


def _chart_book(path):
    """A learner's loss curve charted with openpyxl, which quotes every sheet name in chart references."""
    from openpyxl.chart import LineChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "losses"
    ws.append(["step", "loss"])
    for i in range(1, 21):
        ws.append([i, 100.0 / i])
    chart = LineChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=21), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=21))
    ws.add_chart(chart, "D2")
    wb.save(path)
    return path


def test_identical_copies_of_an_openpyxl_chart_are_no_difference(tmp_path):
    one = _chart_book(tmp_path / "one.xlsx")
    two = tmp_path / "two.xlsx"
    two.write_bytes(one.read_bytes())
    rc, text = xdiff(one, two, json_out=False)
    assert rc == 0 and text.splitlines()[-1] == "no differences", text
    # The quotes are the only thing the references differ in from a re-save's: a moved series still shows.
    wb = openpyxl.load_workbook(one)
    wb["losses"].insert_rows(5)  # openpyxl moves the cells, not the chart's references
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)
    rc, rep = xdiff(moved, one)
    series = [(c["role"], c["old"], c["new"]) for c in rep["changes"] if c["kind"] == "chart_series_changed"]
    assert rc == 1 and series == [("x", "'losses'!$A$2:$A$21", "'losses'!$A$2:$A$21"),
                                  ("y", "'losses'!$B$2:$B$21", "'losses'!$B$2:$B$21")]


@pytest.mark.libreoffice
def test_libreoffice_resave_of_an_openpyxl_chart_is_no_difference(tmp_path):
    from xlgd.xlsx import libreoffice

    if not libreoffice.soffice():
        pytest.skip("LibreOffice is not installed")
    one = _chart_book(tmp_path / "one.xlsx")
    mine = libreoffice.recalc_xlsx(one, tmp_path / "lo")
    rc, rep = xdiff(mine, one)
    assert rc == 0 and rep["same"] and rep["changes"] == [], rep["changes"]

"""The edit matrix: each edit a learner makes, classified right, field by field."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout

import openpyxl
import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    p = d / "graddesc.xlsx"
    build(load_recipe("graddesc"), p)
    return p


def xdiff(*args):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["diff", *map(str, args), "--json"])
    return rc, json.loads(out.getvalue())


def edited(base, tmp_path, edits):
    return E.rewrite(base, tmp_path / "edited.xlsx", edits)


def kinds(rep):
    return sorted({c["kind"] for c in rep["changes"]})


def only(rep, kind):
    got = [c for c in rep["changes"] if c["kind"] == kind]
    assert len(got) == 1, rep["changes"]
    return got[0]


def test_unchanged_is_same_both_ways(base, tmp_path):
    copy = shutil.copy(base, tmp_path / "copy.xlsx")
    assert xdiff(copy, base) == (0, xdiff(copy, base)[1])
    rc, rep = xdiff(copy)
    assert rc == 0 and rep["same"] and rep["changes"] == [] and rep["reference_kind"] == "regenerated"


def test_lr_changed_with_recalculated_values(base, tmp_path):
    # The edited file is what Excel would hold after the learner typed lr =
    # 0.0002 on the basic sheet: xlgd's engine computes every value below.
    mine = tmp_path / "lr.xlsx"
    build(load_recipe("graddesc", Overrides(sheet_knobs={("basic", "lr"): 0.0002})), mine)
    rc, rep = xdiff(mine, base)
    assert rc == 1
    inp = only(rep, "input_changed")
    assert (inp["sheet"], inp["cell"], inp["name"], inp["old"], inp["new"]) == ("basic", "A3", "lr", 0.0001, 0.0002)
    assert set(kinds(rep)) == {"input_changed", "values_changed"}
    vals = [c for c in rep["changes"] if c["kind"] == "values_changed"]
    # basic's values, and the intro's link to basic's lr (book/intro.py): one cell, 0.0001 -> 0.0002
    assert {v["sheet"] for v in vals} == {"basic", "intro"}
    intro = [v for v in vals if v["sheet"] == "intro"]
    assert len(intro) == 1 and intro[0]["count"] == 1, intro
    assert (intro[0]["example"]["old"], intro[0]["example"]["new"]) == (0.0001, 0.0002)
    by_header = {v["header"]: v for v in vals}
    # Every step of a and b moves after the first update; step, epoch, x, y do not.
    assert {"a", "b", "pred", "err^2", "new a", "new b", "mean err^2"} <= set(by_header)
    assert not {"step", "epoch", "x", "y"} & set(by_header)
    a = by_header["new a"]
    assert a["column"] == "P" and a["first"] == "P7" and a["count"] == 145
    assert a["max_abs"] > 0 and a["example"]["cell"] == "P7"
    assert a["example"]["old"] != a["example"]["new"]


def test_initial_weight_changed(base, tmp_path):
    part = E.sheet_part(base, "momentum")
    mine = edited(base, tmp_path, {part: E.set_value("E3", 2)})
    rc, rep = xdiff(mine, base)
    assert rc == 1 and kinds(rep) == ["input_changed"]
    c = only(rep, "input_changed")
    assert (c["sheet"], c["cell"], c["name"], c["old"], c["new"]) == ("momentum", "E3", "a_init", 1.0, 2.0)
    # Against the regenerated reference: the same single cause.
    rc, rep2 = xdiff(mine)
    assert rc == 1 and rep2["changes"] == rep["changes"]


def test_one_data_point_changed(base, tmp_path):
    part = E.sheet_part(base, "data")
    mine = edited(base, tmp_path, {part: E.set_value("B10", 55)})
    rc, rep = xdiff(mine, base)
    c = only(rep, "input_changed")
    was = openpyxl.load_workbook(base, read_only=True)["data"]["B10"].value
    assert was != 55
    assert (c["sheet"], c["cell"], c["name"], c["old"], c["new"]) == ("data", "B10", "x", was, 55.0)
    assert kinds(rep) == ["input_changed"]


def test_formula_edited_mid_column(base, tmp_path):
    part = E.sheet_part(base, "basic")
    mine = edited(base, tmp_path, {part: E.set_formula("G50", "E50*C50-F50")})
    rc, rep = xdiff(mine, base)
    c = only(rep, "formula_changed")
    assert (c["sheet"], c["cell"], c["ref_cell"]) == ("basic", "G50", "G50")
    assert c["old"] == "=E50*C50+F50" and c["new"] == "=E50*C50-F50"
    assert c["differs"] == [["+", "-"]]
    assert kinds(rep) == ["formula_changed"]


def test_constant_pasted_over_formula(base, tmp_path):
    part = E.sheet_part(base, "adam")
    mine = edited(base, tmp_path, {part: E.set_value("K80", 5)})
    rc, rep = xdiff(mine, base)
    c = only(rep, "formula_to_constant")
    assert (c["sheet"], c["cell"], c["new"]) == ("adam", "K80", 5.0)
    assert c["old"].startswith("=") and "80" in c["old"]
    assert isinstance(c["old_value"], float) and c["old_value"] != 5.0
    assert kinds(rep) == ["formula_to_constant"]


def test_row_inserted_in_the_middle_is_one_change(base, tmp_path):
    part = E.sheet_part(base, "basic")
    charts = r"xl/charts/chart[1-5]\.xml"  # basic's five charts move with it
    mine = edited(base, tmp_path, {
        part: E.insert_row(61),
        charts: E.chart_refs(lambda t: E.move_refs(t, lambda s: s == "basic", rows=(61, 1))),
    })
    rc, rep = xdiff(mine, base)
    assert rc == 1
    c = only(rep, "rows_inserted")
    assert (c["sheet"], c["at"], c["count"]) == ("basic", 61, 1)
    assert kinds(rep) == ["rows_inserted"], rep["changes"]


def test_column_deleted(base, tmp_path):
    part = E.sheet_part(base, "basic")
    mine = edited(base, tmp_path, {
        part: E.delete_column(10),  # J: est de/da, read by no other cell
        r"xl/charts/chart[1-5]\.xml": E.chart_refs(lambda t: E.move_refs(t, lambda s: s == "basic", cols=(10, -1))),
    })
    rc, rep = xdiff(mine, base)
    c = only(rep, "column_removed")
    assert (c["sheet"], c["ref_column"], c["header"]) == ("basic", "J", "est de/da")
    assert kinds(rep) == ["column_removed"], rep["changes"]


def test_sheet_renamed(base, tmp_path):
    def wb(root):
        for sh in root.iter(E.S + "sheet"):
            if sh.get("name") == "momentum":
                sh.set("name", "my momentum")
        for dn in root.iter(E.S + "definedName"):
            dn.text = dn.text.replace("momentum!", "'my momentum'!")

    mine = edited(base, tmp_path, {
        "xl/workbook.xml": E.workbook_edit(wb),
        r"xl/charts/chart([6-9]|10)\.xml": E.chart_refs(lambda t: t.replace("momentum!", "'my momentum'!")),
    })
    rc, rep = xdiff(mine, base)
    c = only(rep, "sheet_renamed")
    assert (c["sheet"], c["old"], c["new"]) == ("my momentum", "momentum", "my momentum")
    assert kinds(rep) == ["sheet_renamed"], rep["changes"]
    assert {"name": "my momentum", "ref_name": "momentum", "status": "renamed"} in rep["sheets"]


def test_chart_x_reference_changed(base, tmp_path):
    def to_epoch(t):
        return t.replace("basic!$A$7:$A$151", "basic!$B$7:$B$151")

    mine = edited(base, tmp_path, {r"xl/charts/chart1\.xml": E.chart_refs(to_epoch)})
    rc, rep = xdiff(mine, base)
    c = only(rep, "chart_series_changed")
    assert (c["sheet"], c["chart"], c["role"]) == ("basic", "Error per step (log scale)", "x")
    assert (c["old"], c["new"]) == ("basic!$A$7:$A$151", "basic!$B$7:$B$151")
    assert kinds(rep) == ["chart_series_changed"]


def test_calc_mode_manual(base, tmp_path):
    def manual(root):
        root.find(E.S + "calcPr").set("calcMode", "manual")

    mine = edited(base, tmp_path, {"xl/workbook.xml": E.workbook_edit(manual)})
    rc, rep = xdiff(mine, base)
    c = only(rep, "calc_settings_changed")
    assert (c["setting"], c["old"], c["new"]) == ("calcMode", "auto", "manual")
    assert kinds(rep) == ["calc_settings_changed"]

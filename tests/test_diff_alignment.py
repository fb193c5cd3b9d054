"""`xlgd diff` aligns what moved: rows deleted at the top, rows inserted (filled down, or naively),
columns added, sheets renamed and edited -- each one change, and every other change still found."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout

import openpyxl
import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx import refs


def xdiff(*args, json_out=True):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["diff", *map(str, args), *(["--json"] if json_out else [])])
    return rc, (json.loads(out.getvalue()) if json_out else out.getvalue())


def of(rep, kind):
    return [c for c in rep["changes"] if c["kind"] == kind]


def own_formula(ref, text):
    """Type a formula into a cell (a shared formula's member becomes a formula of its own)."""
    def fn(root):
        f = E.cell(root, ref).find(E.S + "f")
        f.attrib.clear()
        f.text = text
    return E.xml_edit(fn)


def like_2016(reference, out):
    """Jeremy's 2016 graddesc rebuilt from the 2018 file, the way 2018 differs from it: the data
    sheet has a title row on top (and `y=a*x + b` as its header), `basic` is `basic SGD` and
    `Sheet1` is `Intro` (with two more lines), momentum has no err^2 column, and adam_ann!J5
    reads the adam sheet -- the slip 2018 fixed."""
    def names(root):
        for dn in root.iter(E.S + "definedName"):
            if dn.text and dn.text.startswith("momentum!") and "#REF!" not in dn.text:
                dn.text = E.move_refs(dn.text, lambda s: s == "momentum", cols=(12, -1))

    intro = E.chain(E.put_text("A31", "adagrad:"), E.put_text("B31", "Adapts the learning rate per weight"),
                    E.put_text("A32", "eve:"), E.put_text("B32", "Modifies learning rate based on recent volatility"))
    return E.rewrite(reference, out, {
        E.sheet_part(reference, "data"): E.chain(E.insert_row(1), E.put_text("A1", "weights:"),
                                                 E.put_text("C5", "y=a*x + b")),
        E.sheet_part(reference, "Sheet1"): intro,
        E.sheet_part(reference, "momentum"): E.delete_column(12),
        E.sheet_part(reference, "adam_ann"): E.chain(own_formula("J5", "adam!J4*$J$1+$K$1*F5")),
        "xl/workbook.xml": E.chain(E.rename_sheet("basic", "basic SGD"), E.rename_sheet("Sheet1", "Intro"),
                                   E.xml_edit(names)),
        r"xl/charts/chart\d+\.xml": E.chart_refs(lambda t: t.replace("basic!", "'basic SGD'!")),
    })


@pytest.mark.graddesc
def test_jeremys_2016_to_2018(reference_xlsm, tmp_path):
    old = like_2016(reference_xlsm, tmp_path / "graddesc-2016.xlsm")
    rc, rep = xdiff(reference_xlsm, old)
    assert rc == 1
    ch = rep["changes"]
    # The one real fix comes first, with what differs in both forms.
    assert (ch[0]["kind"], ch[0]["sheet"], ch[0]["cell"]) == ("formula_changed", "adam_ann", "J5")
    assert ch[0]["differs"] == [["adam!", ""]] and ch[0]["differs_r1c1"] == [["adam!R[-1]C", "R[-1]C"]]
    assert (ch[0]["old_r1c1"], ch[0]["new_r1c1"]) == ("=adam!R[-1]C*R1C10+R1C11*RC[-4]", "=R[-1]C*R1C10+R1C11*RC[-4]")
    assert len(of(rep, "formula_changed")) == 1
    # The data sheet lost its top row: one change, no false input or formula changes.
    assert [(c["cell"], c["old"], c["new"]) for c in of(rep, "text_changed")] == [("C4", "y=a*x + b", "y")]
    assert not of(rep, "input_changed")
    # momentum's err^2 column is one change; the renamed sheets are found by content, Intro edited too.
    assert [(c["sheet"], c["column"], c["header"]) for c in of(rep, "column_added")] == [("momentum", "L", "err^2")]
    assert not of(rep, "cell_added")
    assert sorted((c["old"], c["new"]) for c in of(rep, "sheet_renamed")) == [("Intro", "Sheet1"),
                                                                           ("basic SGD", "basic")]
    assert [(c["sheet"], c["ref_rows"]) for c in of(rep, "rows_deleted")] == [("Sheet1", "31:32"), ("data", "1:1")]
    assert not of(rep, "sheet_added") and not of(rep, "sheet_removed")
    assert not of(rep, "chart_series_changed") and not of(rep, "defined_name_changed")
    # The edits' cached values were not recalculated: nothing else differs.
    assert [c["kind"] for c in ch] == ["formula_changed", "text_changed", "sheet_renamed", "sheet_renamed",
                                       "rows_deleted", "rows_deleted", "column_added"]
    rc, text = xdiff(reference_xlsm, old, json_out=False)
    assert text.splitlines()[3].startswith("  adam_ann!J5: formula changed: =adam!J4*$J$1+$K$1*F5 -> =J4*$J$1+$K$1*F5")


def redrawn(path, out):
    """The data sheet with other RANDBETWEEN draws (x) and y following, as each recalculation leaves it:
    every row of the table differs in value, only the formulas say which row is which."""
    first = 6  # like_2016's data rows start one row lower

    def fn(data):
        for i in range(29):
            x = (7 * i) % 100 + 1
            data = E.set_cached(f"B{first + i}", repr(float(x)))(data)
            data = E.set_cached(f"C{first + i}", repr(30.0 + 2.0 * x))(data)
        return data
    return E.rewrite(path, out, {E.sheet_part(path, "data"): fn})


@pytest.mark.graddesc
def test_jeremys_2016_with_other_draws(reference_xlsm, tmp_path):
    old = redrawn(like_2016(reference_xlsm, tmp_path / "a.xlsm"), tmp_path / "graddesc-2016.xlsm")
    rc, text = xdiff(reference_xlsm, old, json_out=False)
    lines = text.splitlines()
    assert rc == 1 and len(lines) <= 30, text
    assert any(x.startswith("  adam_ann!J5: formula changed") for x in lines[:10]), text
    assert "input changed" not in text and "data!C6" not in text
    rc, rep = xdiff(reference_xlsm, old)
    assert [(c["sheet"], c["ref_rows"]) for c in of(rep, "rows_deleted")] == [("Sheet1", "31:32"), ("data", "1:1")]
    assert len(of(rep, "formula_changed")) == 1 and not of(rep, "input_changed")
    # The other way round: one row inserted at the top of the data sheet, its constants moved with it.
    rc, rep = xdiff(old, reference_xlsm)
    assert [(c["sheet"], c["at"], c["count"]) for c in of(rep, "rows_inserted")] == [("Intro", 31, 2), ("data", 1, 1)]
    assert not of(rep, "input_changed") and [c["cell"] for c in of(rep, "formula_changed")] == ["J5"]


def test_a_column_edited_the_same_way_is_one_change(base, tmp_path):
    wb = openpyxl.load_workbook(base)
    ws = wb["momentum"]
    last = ws.max_row
    for r in range(7, last + 1):
        ws[f"H{r}"] = f"=(G{r}-D{r})^2"
    ws["H20"] = "=(G20-D20)^3"  # one cell edited otherwise: a change of its own, splitting the run
    mine = tmp_path / "squared.xlsx"
    wb.save(mine)
    rc, rep = xdiff(mine, base)
    assert rc == 1
    got = [(c["cell"], c.get("last"), c.get("cells")) for c in of(rep, "formula_changed")]
    assert got == [("H7", "H19", 13), ("H20", None, None), ("H21", f"H{last}", last - 20)]
    rc, text = xdiff(mine, base, json_out=False)
    assert f"  momentum!H21:H{last}: formula changed: =(G21-D21)*(G21-D21) -> =(G21-D21)^2" in text


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    p = tmp_path_factory.mktemp("align") / "graddesc.xlsx"
    build(load_recipe("graddesc"), p)
    return p


def excel_insert(base, at):
    """Excel's row insert on basic: rows below and every reference to them move down."""
    return {E.sheet_part(base, "basic"): E.insert_row(at),
            E.chart_parts(base, "basic"): E.chart_refs(lambda t: E.move_refs(t, lambda s: s == "basic", rows=(at, 1)))}


def series_reaching(path, sheet, row):
    """How many chart series references on `sheet` name a row at or below `row`."""
    from xlgd.charts.model import read_charts
    from xlgd.xlsx.package import Package

    with Package.open(path) as src:
        texts = [src_.formula for ch in read_charts(src) if ch.sheet == sheet for s in ch.series
                 for src_ in (s.cats, s.values) if src_.formula]
    return sum(max(int(n) for n in re.findall(r"\$(\d+)", t)) >= row for t in texts)


@pytest.mark.slow
def test_inserted_row_filled_down_is_named(base, tmp_path):
    edits = excel_insert(base, 61)
    edits[E.sheet_part(base, "basic")] = E.chain(E.insert_row(61), E.fill_down(60))
    mine = E.rewrite(base, tmp_path / "filled.xlsx", edits)
    # Rows 61 and 62 now hold the same formulas reading the same rows above: only the
    # references of row 63 (to row 62) say that 61 is the new one.
    rc, rep = xdiff(mine, base)
    assert rc == 1
    assert [(c["kind"], c["sheet"], c["at"], c["count"]) for c in rep["changes"]] == [
        ("rows_inserted", "basic", 61, 1)]


def openpyxl_rows(base, tmp_path, method, at):
    """basic's rows moved by openpyxl (`insert_rows` / `delete_rows` at row `at`), saved, diffed."""
    wb = openpyxl.load_workbook(base)
    getattr(wb["basic"], method)(at)
    mine = tmp_path / f"{method}.xlsx"
    wb.save(mine)
    return (mine, *xdiff(mine, base))


@pytest.mark.slow
def test_naive_insert_is_one_cause(base, tmp_path):
    # openpyxl's insert_rows moves the cells but leaves every reference as it was written.
    mine, rc, rep = openpyxl_rows(base, tmp_path, "insert_rows", 61)
    assert rc == 1
    (cause,) = [c for c in rep["changes"] if c["kind"] != "values_changed"]
    assert (cause["kind"], cause["sheet"], cause["at"], cause["first"]) == ("rows_inserted_unadjusted", "basic",
                                                                              61, "G62")
    assert cause["formulas"] > 1000 and cause["charts"] == series_reaching(base, "basic", 61)
    assert {c["sheet"] for c in rep["changes"]} == {"basic"}
    rc, text = xdiff(mine, base, json_out=False)
    lines = [l for l in text.splitlines() if l.startswith("  ")]
    assert lines[0].startswith("  basic: row 61 inserted but references below were not adjusted: ")
    assert not any("formula changed" in l for l in lines)


@pytest.mark.slow
def test_formula_change_shows_the_r1c1_difference(base, tmp_path):
    # A1 texts identical, R1C1 not: =G79 typed into G81 reads two rows up.
    part = E.sheet_part(base, "basic")
    mine = E.rewrite(base, tmp_path / "r1c1.xlsx", {part: E.set_formula("E81", "P79")})
    rc, rep = xdiff(mine, base)
    (c,) = of(rep, "formula_changed")
    assert (c["old"], c["new"], c["differs"]) == ("=P80", "=P79", [["P80", "P79"]])
    assert (c["old_r1c1"], c["new_r1c1"], c["differs_r1c1"]) == ("=R[-1]C[11]", "=R[-2]C[11]",
                                                                 [["R[-1]C[11]", "R[-2]C[11]"]])
    rc, text = xdiff(mine, base, json_out=False)
    assert "basic!E81: formula changed: =P80 -> =P79  [P80 -> P79]; R1C1 =R[-1]C[11] -> =R[-2]C[11]" in text


@pytest.mark.slow
def test_lr_change_and_row_insert_keep_the_moved_cells_value_changes(base, tmp_path):
    # Inserted above the epoch block's rows 8..10, which move to 9..11: their own value
    # changes (lr changed) are still reported, recomputed by the evaluator (openpyxl save).
    edits = excel_insert(base, 8)
    edits[E.sheet_part(base, "basic")] = E.chain(E.insert_row(8), E.set_value("A3", 0.0002))
    zipped = E.rewrite(base, tmp_path / "zipped.xlsx", edits)
    mine = tmp_path / "lr-insert.xlsx"
    openpyxl.load_workbook(zipped).save(mine)
    rc, rep = xdiff(mine, base)
    assert rc == 1
    causes = [(c["kind"], c.get("cell") or c.get("at")) for c in rep["changes"] if c["kind"] != "values_changed"]
    assert causes == [("input_changed", "A3"), ("rows_inserted", 8)]
    (mean,) = [c for c in of(rep, "values_changed") if c["header"] == "mean err^2"]
    col = mean["column"]
    assert (mean["count"], mean["first"], mean["last"]) == (5, f"{col}6", f"{col}11")
    assert {c["sheet"] for c in of(rep, "values_changed")} == {"basic", "intro"}  # intro links basic's lr


@pytest.mark.slow
def test_added_column_is_one_change(base, tmp_path):
    # The reference lacks basic's column J (est de/da), as a sheet written before it existed.
    older = E.rewrite(base, tmp_path / "older.xlsx", {
        E.sheet_part(base, "basic"): E.delete_column(10),
        E.chart_parts(base, "basic"): E.chart_refs(lambda t: E.move_refs(t, lambda s: s == "basic", cols=(10, -1)))})
    rc, rep = xdiff(base, older)
    assert rc == 1
    assert [(c["kind"], c["sheet"], c["column"], c["header"]) for c in rep["changes"]] == [
        ("column_added", "basic", "J", "est de/da")]


@pytest.mark.slow
def test_renamed_and_edited_sheet_is_matched_by_content(base, tmp_path):
    mine = E.rewrite(base, tmp_path / "renamed.xlsx", {
        "xl/workbook.xml": E.rename_sheet("momentum", "Sheet1"),
        E.chart_parts(base, "momentum"): E.chart_refs(lambda t: t.replace("momentum!", "Sheet1!")),
        E.sheet_part(base, "momentum"): E.chain(E.set_value("E3", 2), E.put_text("A1", "my momentum"),
                                                E.set_formula("G50", "E50*C50-F50")),
    })
    rc, rep = xdiff(mine, base)
    assert rc == 1
    got = sorted((c["kind"], c.get("cell", "")) for c in rep["changes"])
    assert got == [("formula_changed", "G50"), ("input_changed", "E3"), ("sheet_renamed", ""),
                   ("text_changed", "A1")]
    (r,) = of(rep, "sheet_renamed")
    assert (r["old"], r["new"]) == ("momentum", "Sheet1")
    assert {c["sheet"] for c in rep["changes"]} == {"Sheet1"}


def test_r1c1_keeps_relative_references_and_sheet_names(tmp_path):
    wb = openpyxl.Workbook()
    intro = wb.active
    intro.title = "Intro"
    intro["F5"] = 3
    calc = wb.create_sheet("my calc")
    calc["H5"] = "=Intro!F5*2"
    calc["H6"] = "=Intro!$F$5+'my calc'!H5+SUM(Intro!F:F)"
    path = tmp_path / "sheets.xlsx"
    wb.save(path)
    assert refs.r1c1("=Intro!F5*2", 5, 8) == "=Intro!RC[-2]*2"
    assert refs.r1c1("=Intro!$F$5+'my calc'!H5+SUM(Intro!F:F)", 6, 8) == \
        "=Intro!R5C6+'my calc'!R[-1]C+SUM(Intro!C[-2]:C[-2])"
    rc, text = 0, io.StringIO()
    with redirect_stdout(text):
        rc = cli.main(["diff", "--textconv", str(path)])
    lines = text.getvalue().splitlines()
    assert rc == 0
    assert "H =Intro!RC[-2]*2 -> " in lines[lines.index("=== sheet my calc") + 1]
    assert "H =Intro!R5C6+'my calc'!R[-1]C+SUM(Intro!C[-2]:C[-2]) -> " in lines[lines.index("=== sheet my calc") + 2]


@pytest.mark.graddesc
def test_column_labels_come_from_the_tables_header_row(reference_xlsm, tmp_path):
    # momentum's row 1 holds 'b', 'learn', 'beta' beside the inputs; its table's header is row 3.
    wb = openpyxl.load_workbook(reference_xlsm, keep_vba=True)
    wb["momentum"]["D2"] = 0.0002
    mine = tmp_path / "lr.xlsm"
    wb.save(mine)
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 1
    (inp,) = of(rep, "input_changed")
    assert (inp["sheet"], inp["cell"], inp["name"]) == ("momentum", "D2", "lr")
    labels = {c["column"]: c["header"] for c in of(rep, "values_changed") if c["sheet"] == "momentum"}
    assert {k: labels[k] for k in "CDEH"} == {"C": "b", "D": "a", "E": "pred", "H": "new b"}
    assert labels["L"] == "err^2"


@pytest.mark.graddesc
def test_row_filled_down_in_jeremys_layout(reference_xlsm, tmp_path):
    # Jeremy's step rows hold x and y as constants: Excel's fill down copies them too.
    def names(root):
        for dn in root.iter(E.S + "definedName"):
            if dn.text and dn.text.startswith("momentum!"):
                dn.text = E.move_refs(dn.text, lambda s: s == "momentum", rows=(15, 1))

    part = E.sheet_part(reference_xlsm, "momentum")
    mine = E.rewrite(reference_xlsm, tmp_path / "filled.xlsm", {
        part: E.chain(E.insert_row(15), E.fill_down(14)), "xl/workbook.xml": E.xml_edit(names)})
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 1
    assert [(c["kind"], c["sheet"], c["at"]) for c in rep["changes"]] == [("rows_inserted", "momentum", 15)]
    # The same insert with the names left where they were: each says it now names other cells.
    mine = E.rewrite(reference_xlsm, tmp_path / "names-kept.xlsm", {
        part: E.chain(E.insert_row(15), E.fill_down(14))})
    rc, text = xdiff(mine, reference_xlsm, json_out=False)
    assert "momentum: 1 row(s) inserted at row 15 (rows 15:15)" in text
    assert ("workbook: defined name lastconst kept its text momentum!$C$32 while rows or columns moved: "
            "it now names other cells") in text


@pytest.mark.slow
def test_naive_delete_is_one_cause(base, tmp_path):
    mine, rc, rep = openpyxl_rows(base, tmp_path, "delete_rows", 61)
    assert rc == 1
    (cause,) = [c for c in rep["changes"] if c["kind"] != "values_changed"]
    assert (cause["kind"], cause["ref_at"], cause["count"]) == ("rows_deleted_unadjusted", 61, 1)
    # Row 61 now holds row 62's formulas, which read row 61: circular, so not computed -- and said so.
    (rec,) = rep["recomputed"]
    assert rec["not_computed"] > 0 and list(rec["reasons"]) == ["is on a circular reference"]
    rc, text = xdiff(mine, base, json_out=False)
    assert f"could not be computed and are not compared (is on a circular reference: {rec['not_computed']:,})" in text

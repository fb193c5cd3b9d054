"""Which cells `charts fix` links as a series' x: by the evidence on the sheet.

Every workbook is built here the way a learner makes one: openpyxl (formulas
with no cached values, charts with no categories), XlsxWriter, and xlgd's own
workbooks with a category link removed inside the zip.
"""

import json
import re
import zipfile

import openpyxl
import pytest
from openpyxl.chart import LineChart, Reference, ScatterChart, Series

from tests.test_charts_helpers import (
    LATER_STEP,
    X,
    cli_main,
    edit_member,
    generate_graddesc,
    learner_sgd,
    soffice_convert,
)
from xlgd.charts.check import check_book
from xlgd.charts.model import parse_area, read_charts
from xlgd.xlsx.package import Package


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def issues_of(path):
    with Package.open(path) as b:
        return {ch.title: [(i.code, i.severity, i.message) for i in iss] for ch, iss in check_book(b)}


def cats_of(path):
    """{chart title: [category/x formula of each series]}."""
    with Package.open(path) as b:
        return {ch.title: [s.cats.formula for s in ch.series] for ch in read_charts(b)}


def line(ws, title, col, r1, r2, anchor, header=True):
    """A line chart of one column with no categories (openpyxl's default when none are set)."""
    ch = LineChart()
    ch.add_data(Reference(ws, min_col=col, min_row=r1 - 1 if header else r1, max_row=r2), titles_from_data=header)
    ch.title = title
    ws.add_chart(ch, anchor)
    return ch


# --------------------------------------------------------------------------
# A learner's per-step chart: step, never the data x


@pytest.mark.parametrize("step_formulas,header", [(False, "step"), (True, "step"), (False, "iteration"),
                                                  (False, "t"), (False, "Step #")],
                         ids=["typed-steps", "step-formulas", "iteration", "t", "Step #"])
def test_err_per_step_links_the_step_column_not_x(tmp_path, capsys, step_formulas, header):
    # A later epoch's rows (typed steps 30..58; formulas nobody calculated could hold anything).
    book = learner_sgd(tmp_path / "learner.xlsx", step_formulas, first_step=LATER_STEP, step_header=header)
    found = issues_of(book)["err² per step"]
    assert [c for c, s, _ in found if s == "problem"] == ["no-categories"], found
    assert "sgd!$C$2:$C$30" in found[0][2] and "per step" in found[0][2]
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert parse_area(cats_of(out)["err² per step"][0]) == parse_area("sgd!$C$2:$C$30")


def xw_table(path, header, rows, chart_col, title):
    """An XlsxWriter table (cached values, as Excel would save them) and a line chart of one
    column with no categories."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("sgd")
    ws.write_row(0, 0, header)
    for i, row in enumerate(rows):
        ws.write_row(i + 1, 0, row)
    letter = chr(65 + chart_col)
    ch = wb.add_chart({"type": "line"})
    ch.add_series({"name": f"=sgd!${letter}$1", "values": f"=sgd!${letter}$2:${letter}${len(rows) + 1}"})
    ch.set_title({"name": title})
    ws.insert_chart("F2", ch)
    wb.close()
    return path


@pytest.mark.libreoffice
@pytest.mark.slow
def test_learner_book_saved_by_libreoffice(tmp_path, capsys):
    import shutil
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    (tmp_path / "lo").mkdir()
    book = soffice_convert(learner_sgd(tmp_path / "learner.xlsx", first_step=LATER_STEP), "xlsx:Calc MS Excel 2007 XML",
                           tmp_path / "lo")
    with Package.open(book) as b:      # the premise: LibreOffice wrote it, with cached values, still no categories
        assert "libreoffice" in b.application.lower()
        assert b.values("sgd", (2, 2), [5])[(2, 5)] == (1.5 * X[0] + 20 - 2 * X[0] - 30) ** 2
    assert cats_of(book)["err² per step"] == [None]
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert parse_area(cats_of(out)["err² per step"][0]) == parse_area("sgd!$C$2:$C$30")


def test_per_step_series_without_a_step_column_keeps_1_to_n(tmp_path, capsys):
    # Only the data x runs along the loss's rows: linking it would draw a wrong learning curve.
    book = xw_table(tmp_path / "nostep.xlsx", ["x", "loss"], [[x, float((x - 40) ** 2)] for x in X], 1, "loss")
    (found,) = issues_of(book).values()
    assert [(c, s) for c, s, _ in found] == [("implicit-categories", "note")]
    assert "step numbers" in found[0][2]
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0 and "no problems, 1 note(s)" in out
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0 and "nothing written" in text and not out.exists()


def test_a_step_column_that_does_not_rise_is_no_step_axis(tmp_path):
    rows = [[s, float(10 - i)] for i, s in enumerate([3, 1, 2, 5, 4, 6])]
    book = xw_table(tmp_path / "shuffled.xlsx", ["step", "err"], rows, 1, "err per step")
    (found,) = issues_of(book).values()
    assert [c for c, _, _ in found] == ["implicit-categories"]


def test_a_series_with_no_values_is_a_problem(tmp_path, capsys):
    # openpyxl's Series(values) on a scatter chart without xvalues writes a series with nothing in it.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["x", "pred"])
    for x in X:
        ws.append([x, 1.5 * x + 20])
    ch = ScatterChart()
    ch.title = "empty"
    ch.series.append(Series(Reference(ws, min_col=2, min_row=2, max_row=len(X) + 1), title="pred"))
    ws.add_chart(ch, "D2")
    book = tmp_path / "novalues.xlsx"
    wb.save(book)
    (found,) = issues_of(book).values()
    assert ("no-values", "problem") in [(c, s) for c, s, _ in found]
    rc, _, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1


# --------------------------------------------------------------------------
# Two x-like columns: the one on exactly the values' rows


def two_x_book(path, kind="line"):
    """Data x in A2:A30 (and y); a grid x2 in F2:F22 next to sin(x2) in G2:G22 (XlsxWriter, cached values)."""
    import math

    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("fit")
    ws.write_row(0, 0, ["x", "y"])
    ws.write_row(0, 5, ["x2", "sin(x2)"])
    for i, x in enumerate(X):
        ws.write_number(i + 1, 0, x)
        ws.write_formula(i + 1, 1, f"=2*A{i + 2}+30", None, 2 * x + 30)
    for i in range(21):
        x2 = i * 0.3
        ws.write_number(i + 1, 5, x2)
        ws.write_formula(i + 1, 6, f"=SIN(F{i + 2})", None, math.sin(x2))
    ch = wb.add_chart({"type": kind})
    ch.add_series({"name": "sin(x2)", "values": "=fit!$G$2:$G$22"})
    ch.set_title({"name": "a sine"})
    ws.insert_chart("I2", ch)
    wb.close()
    return path


def test_grid_series_takes_its_own_x_not_a_slice_of_the_longer_one(tmp_path, capsys):
    book = two_x_book(tmp_path / "two.xlsx")
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert parse_area(cats_of(out)["a sine"][0]) == parse_area("fit!$F$2:$F$22")
    with Package.open(out) as b:
        (ch,) = read_charts(b)
    assert ch.types == ["line"]        # the grid is evenly spaced: a line chart reads it right


def _step_x_book():
    """Sheet t: a step column, an x column of different numbers and a series z beside them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "t"
    ws.append(["step", "x", "z"])
    for i, x in enumerate(X):
        ws.append([i + LATER_STEP, x, float(x % 7)])
    return wb, ws


def test_two_candidates_link_none_and_name_both(tmp_path, capsys):
    # A series nothing describes, beside a step column and an x column of different numbers.
    wb, ws = _step_x_book()
    line(ws, "Chart", 3, 2, len(X) + 1, "E2", header=False)
    book = tmp_path / "ambiguous.xlsx"
    wb.save(book)
    rc, out, _ = run(capsys, "charts", "check", str(book), "--json")
    assert rc == 1
    (issue,) = [i for i in json.loads(out)["charts"][0]["issues"] if i["code"] == "no-categories"]
    suggested = re.findall(r'--x "([^"]+)"', issue["message"])
    assert sorted(suggested) == ["t!$A$2:$A$30", "t!$B$2:$B$30"]
    with Package.open(book) as b:  # every suggestion points at cells that hold numbers
        for ref in suggested:
            a = parse_area(ref)
            cells = b.values(a.sheet, (a.r1, a.r2), [a.c1])
            assert all(isinstance(cells.get((r, a.c1)), float) for r in range(a.r1, a.r2 + 1)), ref
    fixed = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 1 and "--x" in text and "left as is" in text
    assert cats_of(fixed)["Chart"] == [None]        # caches were rebuilt, the x left alone
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed), "--x", suggested[0])
    assert rc == 0, text
    assert parse_area(cats_of(fixed)["Chart"][0]) == parse_area(suggested[0])


@pytest.mark.parametrize("title,want", [("x", "t!$B$2:$B$30"), ("Step", "t!$A$2:$A$30")])
def test_the_axis_title_names_the_x(tmp_path, capsys, title, want):
    # The same two candidates; the category axis title (openpyxl writes its catAx with axPos "l") decides.
    wb, ws = _step_x_book()
    line(ws, "Chart", 3, 2, len(X) + 1, "E2", header=False).x_axis.title = title
    book = tmp_path / "titled.xlsx"
    wb.save(book)
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out), "--keep-type")
    assert rc == 0, text
    assert parse_area(cats_of(out)["Chart"][0]) == parse_area(want)


def test_two_counters_with_the_same_numbers_are_one_axis(tmp_path, capsys):
    # Adam tables carry both a step column and t: the same numbers, so there is nothing to choose.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "adam"
    ws.append(["step", "t", "x", "err"])
    for i, x in enumerate(X):
        ws.append([i + LATER_STEP, i + LATER_STEP, x, float(1000 / (i + 1))])
    line(ws, "err", 4, 2, len(X) + 1, "F2")
    book = tmp_path / "adam.xlsx"
    wb.save(book)
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert parse_area(cats_of(out)["err"][0]) == parse_area("adam!$B$2:$B$30")   # the nearer one


def test_explicit_x_at_empty_cells_is_refused(tmp_path, capsys):
    book = learner_sgd(tmp_path / "learner.xlsx")
    out = tmp_path / "fixed.xlsx"
    rc, _, err = run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", "sgd!$K$2:$K$30")
    assert rc == 2 and err.startswith("xlgd: ") and err.count("\n") == 1 and "empty" in err
    assert not out.exists()


# --------------------------------------------------------------------------
# xlgd's own workbooks with their category links removed


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate_graddesc(tmp_path_factory.mktemp("gen") / "gd.xlsx", epochs=2)


def unlink_all(src, dst):
    """Every chart of every sheet loses its category / x reference (the zip edit a broken copy shows)."""
    with zipfile.ZipFile(src) as z:
        names = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    dst.write_bytes(src.read_bytes())
    for n in names:
        edit_member(dst, n, lambda xml: re.sub(rb"<c:(cat|xVal)>.*?</c:\1>", b"", xml, flags=re.DOTALL))
    return dst


@pytest.mark.slow
def test_generated_workbook_gets_its_own_links_back(generated, tmp_path, capsys):
    with Package.open(generated) as b:
        want = {(ch.sheet, ch.title): [s.cats.formula for s in ch.series] for ch in read_charts(b)}
        assert not any(iss for _, iss in check_book(b))
    broken = unlink_all(generated, tmp_path / "broken.xlsx")
    with Package.open(broken) as b:
        found = {(ch.sheet, ch.title): {(i.code, i.severity) for i in iss} for ch, iss in check_book(b)}
    # Steps and epochs count 1..n: the unlinked axis shows the same numbers, a note. The fit's x is
    # the data x: a problem (every generated chart is a scatter chart: LibreOffice gaps #N/A only there).
    for (sheet, title), codes in found.items():
        fit = title.startswith("Fit")
        assert codes == ({("no-x-values", "problem")} if fit else {("implicit-categories", "note")}), title
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(broken), "-o", str(out))
    assert rc == 0, text
    with Package.open(out) as b:
        got = {(ch.sheet, ch.title): [s.cats.formula for s in ch.series] for ch in read_charts(b)}
        assert not any(i.is_problem for _, iss in check_book(b) for i in iss)
    for key, formulas in got.items():
        expect = want[key] if key[1].startswith("Fit") else [None] * len(formulas)
        assert [parse_area(f) if f else None for f in formulas] == [parse_area(f) if f else None for f in expect]
    fit = next(v for (sh, t), v in got.items() if sh == "basic" and t.startswith("Fit"))
    assert parse_area(fit[0]) == parse_area("basic!$C$36:$C$64")
    # With --x the user links the step column all the same.
    rc, text, _ = run(capsys, "charts", "fix", str(broken), "-o", str(tmp_path / "x.xlsx"), "--x",
                      "basic!$A$7:$A$64")
    assert rc in (0, 1), text   # other sheets' series are other lengths: left as they were, and said
    with Package.open(tmp_path / "x.xlsx") as b:
        err = next(c for c in read_charts(b) if c.sheet == "basic" and c.title.startswith("Error per step"))
        assert parse_area(err.series[0].cats.formula) == parse_area("basic!$A$7:$A$64")


# --------------------------------------------------------------------------
# A scatter series without x values


def test_scatter_without_x_values_gets_the_data_x(tmp_path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "d"
    ws.append(["x", "pred"])
    for x in X:
        ws.append([x, 1.5 * x + 20])
    ch = ScatterChart()
    ch.title = "prediction"
    s = Series(Reference(ws, min_col=2, min_row=2, max_row=len(X) + 1), title="pred")
    s.yVal, s.val = s.val, None      # y values and no x values: what a learner's scatter without x holds
    ch.series.append(s)
    ws.add_chart(ch, "D2")
    book = tmp_path / "scatter.xlsx"
    wb.save(book)
    with zipfile.ZipFile(book) as z:  # the premise: openpyxl wrote a scatter series with no xVal
        xml = z.read("xl/charts/chart1.xml")
    assert b"scatterChart" in xml and b"xVal" not in xml
    (found,) = issues_of(book).values()
    # openpyxl writes no caches either; fix rebuilds them.
    assert sorted(c for c, s, _ in found if s == "problem") == ["missing-cache", "no-x-values"]
    out = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert parse_area(cats_of(out)["prediction"][0]) == parse_area("d!$A$2:$A$30")

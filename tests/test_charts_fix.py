"""`xlgd charts check` / `fix` on workbooks with each kind of broken chart."""

import json
import re
import shutil
import zipfile

import pytest

from tests.test_charts_helpers import (
    EXPECTED_CODES,
    EXPECTED_X,
    FORUM_X,
    X,
    build_book,
    cli_main,
    edit_member,
    members,
    soffice_convert,
    vba_bytes,
)
from xlgd.charts.check import check_book
from xlgd.charts.model import parse_area, read_charts
from xlgd.xlsx.package import Package

CHART_PART = re.compile(r"xl/charts/chart\d+\.xml$")


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def charts_by_title(path):
    with Package.open(path) as b:
        return {ch.title: ch for ch in read_charts(b)}


@pytest.fixture
def book(tmp_path):
    return build_book(tmp_path / "broken.xlsm")


def test_check_flags_each_fault(book, capsys):
    rc, out, _ = run(capsys, "charts", "check", str(book), "--json")
    assert rc == 1
    report = json.loads(out)
    got = {c["title"]: {i["code"] for i in c["issues"]} for c in report["charts"]}
    assert got == EXPECTED_CODES


def test_check_text_lists_series(book, capsys):
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1
    assert "'loss by step'" in out and "sgd!$D$4:$D$32" in out
    assert "no-categories" in out and "hidden-axis" in out and "strLit" in out


def test_fix_links_every_series_and_keeps_other_parts(book, tmp_path, capsys):
    out = tmp_path / "fixed.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out), "--scatter")
    assert rc == 0, text
    charts = charts_by_title(out)
    assert set(charts) == set(EXPECTED_X)
    for title, ch in charts.items():
        for s in ch.series:
            assert s.cats.kind == "numRef", title
            assert parse_area(s.cats.formula) == parse_area(EXPECTED_X[title]), title
        assert not any(a.deleted for a in ch.axes), title
    assert charts["pred over x"].types == ["scatter"]
    assert charts["loss by step"].types == ["line"]
    # The rebuilt caches hold the cell values, not the old typed labels' text.
    cats = charts["typed categories"].series[0].cats
    assert [float(cats.points[i]) for i in range(len(FORUM_X))] == FORUM_X
    xs = charts["pred over x"].series[0].cats
    assert [float(xs.points[i]) for i in range(len(X))] == X

    before, after = members(book), members(out)
    assert [n for n, _ in before] == [n for n, _ in after]
    changed = {n for (n, a), (_, b) in zip(before, after) if a != b}
    assert changed and all(CHART_PART.match(n) for n in changed)
    with Package.open(out) as b:
        assert check_book(b) and not any(iss for _, iss in check_book(b))


def test_fix_makes_uneven_line_a_scatter_unless_keep_type(book, tmp_path, capsys):
    # Default: the line chart over unsorted x becomes a scatter chart, and nothing is left.
    out = tmp_path / "fixed.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0, text
    assert "turned into a scatter chart" in text
    assert charts_by_title(out)["pred over x"].types == ["scatter"]
    # Over unsorted x the points stand alone: segments in row order would zigzag across the plot.
    ser = charts_by_title(out)["pred over x"].series[0].elem
    ns = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
          "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    assert ser.find("c:spPr/a:ln/a:noFill", ns) is not None
    assert ser.find("c:marker/c:symbol", ns) is None or ser.find("c:marker/c:symbol", ns).get("val") != "none"
    with Package.open(out) as b:
        assert not any(iss for _, iss in check_book(b))
    # --keep-type: the line stays, check still flags it, fix reports it as the user's choice (exit 0).
    kept = tmp_path / "kept.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(kept), "--keep-type")
    assert rc == 0, text
    assert "--keep-type" in text and "note: sgd: pred over x" in text
    with Package.open(kept) as b:
        left = {ch.title: {i.code for i in iss} for ch, iss in check_book(b)}
    assert left["pred over x"] == {"line-over-uneven-x"}
    assert all(not codes for t, codes in left.items() if t != "pred over x")
    assert charts_by_title(kept)["pred over x"].types == ["line"]
    rc, _, _ = run(capsys, "charts", "check", str(kept))
    assert rc == 1


def test_fix_keeps_macros_and_buttons(book, tmp_path, capsys):
    out = tmp_path / "fixed.xlsm"
    run(capsys, "charts", "fix", str(book), "-o", str(out))
    with zipfile.ZipFile(book) as a, zipfile.ZipFile(out) as b:
        assert b.read("xl/vbaProject.bin") == a.read("xl/vbaProject.bin") == vba_bytes()
        vml = [n for n in a.namelist() if n.endswith(".vml")]
        assert vml and all(a.read(n) == b.read(n) for n in vml)
        assert b"macroEnabled" in b.read("[Content_Types].xml")


def test_default_output_name_and_no_overwrite(book, capsys):
    rc, text, _ = run(capsys, "charts", "fix", str(book))
    target = book.with_name("broken-fixed.xlsm")
    assert target.exists() and str(target) in text
    rc, _, err = run(capsys, "charts", "fix", str(book), "-o", str(book))
    assert rc == 2 and "--in-place" in err


def test_macro_book_refuses_xlsx_output(book, tmp_path, capsys):
    with zipfile.ZipFile(book) as z:  # the premise: a macro workbook, built here, not borrowed
        assert "xl/vbaProject.bin" in z.namelist() and b"macroEnabled" in z.read("[Content_Types].xml")
    rc, _, err = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "out.xlsx"))
    assert rc == 2 and ".xlsm" in err and not (tmp_path / "out.xlsx").exists()


def test_in_place_is_atomic_and_complete(book, capsys):
    before = members(book)
    rc, _, _ = run(capsys, "charts", "fix", str(book), "--in-place", "--scatter")
    assert rc == 0
    after = members(book)
    assert [n for n, _ in before] == [n for n, _ in after]
    assert sorted(p.name for p in book.parent.iterdir()) == [book.name]
    rc, _, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0


def test_explicit_x_wrong_length_is_not_applied(book, tmp_path, capsys):
    out = tmp_path / "fixed.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", "sgd!$C$4:$C$10")
    assert rc == 1 and "left as is" in text
    ch = charts_by_title(out)["loss by step"]
    assert ch.series[0].cats.kind is None


def test_bad_x_reference_is_one_line(book, tmp_path, capsys):
    rc, _, err = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "o.xlsm"), "--x", "nonsense")
    assert rc == 2 and err.count("\n") == 1 and err.startswith("xlgd: ")
    rc, _, err = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "o.xlsm"), "--x", "nope!$A$1:$A$3")
    assert rc == 2 and "nope" in err


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_opens_fixed_book(book, tmp_path, capsys):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    out = tmp_path / "fixed.xlsm"
    run(capsys, "charts", "fix", str(book), "-o", str(out), "--scatter")
    conv = tmp_path / "lo"
    conv.mkdir()
    pdf = soffice_convert(out, "pdf", conv)
    assert pdf.read_bytes().startswith(b"%PDF")
    # LibreOffice's own re-save must still show the links the fix made.
    xlsx = soffice_convert(out, "xlsx:Calc MS Excel 2007 XML", conv)
    with Package.open(xlsx) as b:
        refs = {parse_area(s.cats.formula) for ch in read_charts(b) for s in ch.series if s.cats.formula}
    assert refs == {parse_area(v) for v in EXPECTED_X.values()}


def test_broken_reference_is_flagged_and_relinked(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    edit_member(book, "xl/charts/chart3.xml", lambda xml: xml.replace(
        b"<c:val>", b"<c:cat><c:numRef><c:f>gone!$A$4:$A$32</c:f></c:numRef></c:cat><c:val>", 1))
    with Package.open(book) as b:
        issues = {ch.title: {i.code for i in iss} for ch, iss in check_book(b)}
    assert issues["loss by step"] == {"bad-reference"}
    out = tmp_path / "o.xlsx"
    run(capsys, "charts", "fix", str(book), "-o", str(out))
    cats = charts_by_title(out)["loss by step"].series[0].cats
    assert parse_area(cats.formula) == parse_area(EXPECTED_X["loss by step"])


def _mode(path):
    import os
    import stat
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_output_keeps_input_permission_bits(book, tmp_path, capsys, mode):
    book.chmod(mode)
    out = tmp_path / "fixed.xlsm"
    stale = tmp_path / "stale.xlsm"           # an existing output with other bits is replaced by the input's
    stale.write_bytes(b"old")
    stale.chmod(0o600)
    for target in (out, stale):
        rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(target))
        assert "wrote" in text
        assert _mode(target) == mode, (target, oct(_mode(target)))
    rc, text, _ = run(capsys, "charts", "fix", str(book), "--in-place")
    assert "wrote" in text and _mode(book) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([book.name, out.name, stale.name])


def test_new_generated_file_gets_umask_defaults(tmp_path):
    import os

    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe
    old = os.umask(0o027)
    try:
        build(load_recipe("graddesc", Overrides(epochs=1)), tmp_path / "g.xlsx")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "g.xlsx") == 0o640

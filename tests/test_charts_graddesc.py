"""`xlgd charts` on Jeremy's graddesc-2018.xlsm: the "Error by epoch" chart."""

import json
import re
import shutil
import zipfile

import pytest

from tests.test_charts_helpers import cli_main, members, soffice_convert, type_cells
from xlgd.charts.model import parse_area, read_charts
from xlgd.xlsx.package import Package

pytestmark = pytest.mark.graddesc

SERIES = "basic!$C$38:$C$62"
X = "basic!$B$38:$B$62"


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def book(tmp_path, reference_xlsm):
    # A copy, so nothing here can touch the read-only reference.
    return shutil.copyfile(reference_xlsm, tmp_path / "graddesc.xlsm")


def typed_epochs(book, header=None):
    """The learner types the epoch numbers 1..25 into B38:B62 (and a header into B37)."""
    with Package.open(book) as b:
        part = b.sheet_part("basic")
    cells = {(38 + k, 2): k + 1 for k in range(25)}
    if header:
        cells[(37, 2)] = header
    type_cells(book, part, cells)
    return book


def test_check_notes_implicit_epochs(book, capsys):
    # "Error by epoch" numbers its 25 points 1..25, which are its epoch numbers: a note, exit 0.
    rc, out, _ = run(capsys, "charts", "check", str(book), "--json")
    assert rc == 0
    report = json.loads(out)
    charts = report["charts"]
    assert len(charts) == 1
    ch = charts[0]
    assert ch["sheet"] == "basic" and ch["title"] == "Error by epoch" and ch["types"] == ["line"]
    assert ch["series"][0]["values"]["ref"] == SERIES
    assert ch["series"][0]["categories"]["kind"] is None
    assert [(i["code"], i["series"], i["severity"]) for i in ch["issues"]] == [
        ("implicit-categories", 1, "note"), ("empty-tail", 1, "note")]
    assert "epoch numbers" in ch["issues"][0]["message"]
    assert (report["flagged"], report["notes"]) == (0, 2)
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0 and "no problems, 2 note(s)" in out


def test_fix_without_x_explains_and_writes_nothing(book, tmp_path, capsys):
    out = tmp_path / "out.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0
    assert "--x" in text and "nothing written" in text
    assert not out.exists()


def test_x_at_empty_cells_is_an_error_that_writes_nothing(book, tmp_path, capsys):
    # B38:B62 is empty on `basic` (the epochs are implicit). Checked, not assumed:
    with Package.open(book) as b:
        cells = b.values("basic", (38, 62))
    assert all(cells.get((r, 2)) is None for r in range(38, 63))
    out = tmp_path / "out.xlsm"
    before = book.read_bytes()
    rc, text, err = run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", X)
    assert rc == 2 and err.startswith("xlgd: ") and err.count("\n") == 1 and "empty" in err
    assert not out.exists() and book.read_bytes() == before


def test_typed_epochs_with_a_header_are_named_in_a_note(book, tmp_path, capsys):
    """Epochs typed 1..25 under an 'epoch' header beside the values: the axis's own 1..n draws them,
    so the chart reads right as it is (a note naming the column, exit 0); fix leaves it."""
    typed_epochs(book, header="epoch")
    rc, text, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0 and "implicit-categories" in text and X in text and "'epoch'" in text, text
    out = tmp_path / "out.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out))
    assert rc == 0 and "nothing written" in text and not out.exists(), text


def test_fix_with_x_links_and_keeps_everything_else(book, tmp_path, capsys):
    typed_epochs(book)           # no header: found by nobody, linked with --x
    rc, text, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0 and "implicit-categories" in text
    out = tmp_path / "out.xlsm"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", X)
    assert rc == 0 and "linked to" in text, text
    with Package.open(out) as b:
        (ch,) = read_charts(b)
    assert parse_area(ch.series[0].values.formula) == parse_area(SERIES)
    assert parse_area(ch.series[0].cats.formula) == parse_area(X)
    assert ch.series[0].cats.pt_count == 25

    before, after = members(book), members(out)
    assert [n for n, _ in before] == [n for n, _ in after]
    changed = {n for (n, a), (_, b) in zip(before, after) if a != b}
    assert changed == {"xl/charts/chart1.xml"}
    names = [n for n, _ in before]
    must_keep = ["xl/vbaProject.bin", "[Content_Types].xml", "xl/charts/style1.xml", "xl/charts/colors1.xml"]
    must_keep += [n for n in names if n.startswith(("xl/ctrlProps/", "xl/worksheets/", "xl/drawings/"))]
    assert len([n for n in must_keep if n.startswith("xl/ctrlProps/")]) == 10
    b_before, b_after = dict(before), dict(after)
    for n in must_keep:
        assert b_after[n] == b_before[n], n
    assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in b_after["[Content_Types].xml"]
    assert out.suffix == ".xlsm"


def test_fixed_chart_keeps_its_style(book, tmp_path, capsys):
    typed_epochs(book)
    out = tmp_path / "out.xlsm"
    run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", X)
    with zipfile.ZipFile(book) as a, zipfile.ZipFile(out) as b:
        old, new = a.read("xl/charts/chart1.xml"), b.read("xl/charts/chart1.xml")
    # Only a c:cat was added: with it removed the part is the original element for element.
    stripped = re.sub(rb"<c:cat>.*?</c:cat>", b"", new, flags=re.DOTALL)
    from lxml import etree
    assert etree.tostring(etree.fromstring(stripped), method="c14n") == \
        etree.tostring(etree.fromstring(old), method="c14n")
    assert new.split(b"?>")[0] == old.split(b"?>")[0]


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_opens_fixed_graddesc(book, tmp_path, capsys):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    typed_epochs(book)
    out = tmp_path / "out.xlsm"
    assert run(capsys, "charts", "fix", str(book), "-o", str(out), "--x", X)[0] == 0
    conv = tmp_path / "lo"
    conv.mkdir()
    pdf = soffice_convert(out, "pdf", conv)
    assert pdf.read_bytes().startswith(b"%PDF")

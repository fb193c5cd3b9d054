"""`charts check` reads every series reference and says where it points.

No false all-clear: a reference xlgd cannot read, or that points outside the
workbook, is a problem (exit 1); one Excel reads but xlgd does not check cell
by cell (a union, whole columns, a name computed by OFFSET) is a note; a
drawing that points at a missing part is a problem. Each workbook is built
here with XlsxWriter and the reference typed into the chart part inside the
zip, as a damaged or hand-edited file has it.
"""

import re

import pytest
import xlsxwriter

from tests.test_charts_helpers import build_book, cli_main, drop_member, edit_member
from xlgd.charts.check import check_book
from xlgd.charts.model import parse_ref
from xlgd.xlsx.package import Package

N = 29
VALUES = f"sgd!$D$4:$D${3 + N}"


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def names_book(path):
    """A step column, an error column, one chart of the errors against the steps, and defined names."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("sgd")
    ws.write_row(2, 0, ["x", "y", "step", "err^2"])
    for i in range(N):
        ws.write_row(3 + i, 0, [i * 3, 2 * i * 3 + 30, i + 1, float((N - i) ** 2)])
    wb.define_name("losses", f"={VALUES}")
    wb.define_name("sgd!local", f"={VALUES}")
    wb.define_name("moving", f"=OFFSET(sgd!$D$4,0,0,{N},1)")
    wb.define_name("dead", "=sgd!#REF!")
    ch = wb.add_chart({"type": "line"})
    ch.add_series({"name": "=sgd!$D$3", "values": f"={VALUES}", "categories": f"=sgd!$C$4:$C${3 + N}"})
    ch.set_title({"name": "err per step"})
    ws.insert_chart("G3", ch)
    wb.close()
    return path


def set_values_ref(path, text):
    """Type `text` as the values' <c:f> (None: remove the <c:f> element)."""
    def edit(xml):
        new = "" if text is None else f"<c:f>{text}</c:f>"
        out, n = re.subn(rb"(<c:val><c:numRef>)<c:f>[^<]*</c:f>", rb"\g<1>" + new.encode(), xml)
        assert n == 1
        return out
    edit_member(path, "xl/charts/chart1.xml", edit)
    return path


def codes(path):
    with Package.open(path) as b:
        return {(i.code, i.severity, i.role) for _, iss in check_book(b) for i in iss}


PROBLEMS = [
    ("(((", "cannot read"),
    ('""', "cannot read"),
    ("sgd!$D$4:$D$10:$D$32", "not one block"),
    (None, "no formula"),
    (f"gone!$D$4:$D${3 + N}", "no sheet named 'gone'"),
    (f"[1]sgd!$D$4:$D${3 + N}", "another workbook"),
    ("sgd!nosuch", "no defined name 'nosuch'"),
    ("[0]!dead", "#REF!"),
    ("sgd!$D$4:$D$1048577", "beyond Excel's last row"),
    ("sgd!#REF!", "#REF!"),
]


@pytest.mark.parametrize("ref,why", PROBLEMS, ids=[str(r) for r, _ in PROBLEMS])
def test_unreadable_or_dangling_reference_is_a_problem(tmp_path, capsys, ref, why):
    book = set_values_ref(names_book(tmp_path / "b.xlsx"), ref)
    assert ("bad-reference", "problem", "val") in codes(book)
    rc, out, err = run(capsys, "charts", "check", str(book))
    assert rc == 1 and why in out and "Traceback" not in out + err, out
    # fix cannot mend it: it says so and exits 1, without a traceback.
    rc, out, err = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "fixed.xlsx"))
    assert rc == 1 and "bad-reference" in out and "Traceback" not in out + err


NOTES = [
    (f"(sgd!$D$4:$D$10,sgd!$D$11:$D${3 + N})", "union of 2 blocks"),
    ("sgd!$D:$D", "whole rows or columns"),
    ("[0]!moving", "computed when the chart is drawn"),
]


@pytest.mark.parametrize("ref,why", NOTES, ids=[r for r, _ in NOTES])
def test_valid_but_unchecked_reference_is_a_note(tmp_path, capsys, ref, why):
    book = set_values_ref(names_book(tmp_path / "b.xlsx"), ref)
    assert codes(book) == {("unchecked-reference", "note", "val")}
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 0 and why in out and "no problems, 1 note(s)" in out


@pytest.mark.parametrize("ref", ["[0]!losses", "sgd!local", "SGD!$D$4:$D$32", "'sgd'!$D$4:$D$32"])
def test_names_and_spellings_excel_reads_are_followed_to_their_cells(tmp_path, capsys, ref):
    book = set_values_ref(names_book(tmp_path / "b.xlsx"), ref)
    assert codes(book) == set()
    # Followed, not waved through: a cache that differs from the named cells is still caught.
    edit_member(book, "xl/charts/chart1.xml", lambda xml: re.sub(
        rb'(<c:val>.*?<c:pt idx="2"><c:v>)[^<]*', rb"\g<1>12345", xml, count=1, flags=re.DOTALL))
    assert ("stale-cache", "problem", "val") in codes(book)


def test_series_name_pointing_at_a_missing_sheet(tmp_path):
    book = names_book(tmp_path / "b.xlsx")
    edit_member(book, "xl/charts/chart1.xml", lambda xml: xml.replace(b"<c:f>sgd!$D$3</c:f>", b"<c:f>gone!$D$3</c:f>"))
    assert codes(book) == {("bad-reference", "problem", "tx")}


@pytest.mark.parametrize("literal", ['"err^2"', '="err ""sq"""'])
def test_series_name_typed_as_a_text_formula_is_a_name(tmp_path, literal):
    """LibreOffice writes a typed series name as a text formula in <c:strRef> (`"err^2"`)."""
    book = names_book(tmp_path / "b.xlsx")
    edit_member(book, "xl/charts/chart1.xml",
                lambda xml: xml.replace(b"<c:f>sgd!$D$3</c:f>", f"<c:f>{literal}</c:f>".encode()))
    assert codes(book) == set()


def test_parse_ref_kinds():
    assert parse_ref("sgd!$A$1:$A$3").kind == "area"
    assert parse_ref("'my sheet'!A1").areas[0].sheet == "my sheet"
    assert parse_ref("(s!A1:A3,s!A5:A7)").kind == "union"
    assert [parse_ref(t).kind for t in ("(((", '""', "", None, "A1:A3", "s!A1:B2:C3")] == ["bad"] * 6
    assert (parse_ref("[0]!lr").kind, parse_ref("s!lr").name) == ("name", "lr")


# --------------------------------------------------------------------------
# Drawings that point at parts that are not there


def test_drawing_pointing_at_a_missing_chart_part(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    drop_member(book, "xl/charts/chart3.xml")
    rc, out, err = run(capsys, "charts", "check", str(book))
    assert rc == 1 and "missing-part" in out and "xl/charts/chart3.xml" in out, out
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "fixed.xlsx"))
    assert rc == 1 and "missing-part" in out


def test_sheet_pointing_at_a_missing_drawing(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    drop_member(book, "xl/drawings/drawing1.xml")
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1 and "missing-part" in out and "drawing1.xml" in out


def test_chart_anchor_naming_an_unknown_relationship(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    edit_member(book, "xl/drawings/drawing1.xml", lambda xml: xml.replace(b'r:id="rId1"', b'r:id="rId99"', 1))
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1 and "missing-part" in out and "rId99" in out

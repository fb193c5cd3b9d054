"""What the run of every command over ~875 damaged inputs still found, case by case.

Same contract as test_hostile_inputs.py (through `tests/hostile.py`: exit code, one line, CPU
time and memory, input unchanged, nothing left behind), plus: a command that fails writes no
output at all, and a legal file (cells without `r`) is read, not refused.
"""

from __future__ import annotations

import re
import struct
import zipfile

import pytest

from tests import hostile as H
from tests.test_hostile_inputs import one_line

SGD = "xl/worksheets/sheet3.xml"
CHART_NS = b"http://schemas.openxmlformats.org/drawingml/2006/chart"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return H.build_xlgd_book(tmp_path_factory.mktemp("findings"))


def parts(path) -> dict:
    return {i.filename: d for i, d in H.members(path.read_bytes())}


# ------------------------------------------------------------------ charts regenerate: all or nothing


def _chart_is_a_worksheet(p):
    return {"xl/charts/chart1.xml": p[SGD]}


def _drawing_rel_to(target):
    def edit(p):
        rels = "xl/drawings/_rels/drawing1.xml.rels"
        return {rels: re.sub(rb'Target="[^"]*"', b'Target="' + target + b'"', p[rels], count=1)}
    return edit


def _chart_in_another_namespace(p):
    return {"xl/charts/chart1.xml": p["xl/charts/chart1.xml"].replace(CHART_NS, b"http://example.com/chart")}


REGENERATE_DAMAGE = [
    ("a chart part that is a worksheet", _chart_is_a_worksheet, "not a DrawingML chart"),
    ("a drawing relationship to a sheet", _drawing_rel_to(b"../worksheets/sheet1.xml"), "not a DrawingML chart"),
    ("a drawing relationship outside the package", _drawing_rel_to(b"../../../../etc/passwd"),
     "not a part of the package"),
    ("a chart part in another namespace", _chart_in_another_namespace, "not a DrawingML chart"),
]


@pytest.mark.parametrize("case", REGENERATE_DAMAGE, ids=[c[0] for c in REGENERATE_DAMAGE])
@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_regenerate_writes_nothing(book, tmp_path, case, existing):
    _, damage, words = case
    data = book.read_bytes()
    edits = damage(parts(book))
    for name, new in edits.items():
        data = H.with_part(data, name, new)
    p = H.write_case(tmp_path, "in.xlsx", data)
    out = tmp_path / "r.xlsx"
    if existing:
        out.write_bytes(b"what was there before")
    r = H.run_cli(["charts", "regenerate", p, "-o", out], inputs=[p], folder=tmp_path)
    line = one_line(r, words)
    assert str(p) in line and "r.xlsx" not in line  # the damage is the input's
    assert out.read_bytes() == b"what was there before" if existing else not out.exists()


# ------------------------------------------------------------------ generate: Excel counts UTF-16 units


def test_a_sheet_name_of_31_emoji_is_62_units_and_refused(tmp_path):
    tpl = tmp_path / "t.toml"
    tpl.write_text(H.SMALL_TEMPLATE.replace('name = "sgd"', 'name = "' + "\U0001F600" * 31 + '"'))
    out = tmp_path / "o.xlsx"
    one_line(H.run_cli(["generate", tpl, "-o", out], inputs=[tpl], folder=tmp_path),
             "is 62 characters long as Excel counts them", "Excel allows 31")
    assert not out.exists()


def test_a_sheet_name_of_31_units_with_emoji_is_written(tmp_path):
    import openpyxl

    name = "\U0001F600" * 15 + "a"
    tpl = tmp_path / "t.toml"
    tpl.write_text(H.SMALL_TEMPLATE.replace('name = "sgd"', f'name = "{name}"'))
    out = tmp_path / "o.xlsx"
    r = H.run_cli(["generate", tpl, "-o", out], inputs=[tpl], folder=tmp_path, outputs=[out])
    assert r.rc == 0 and not r.problems((0,)), r.describe()
    assert name in openpyxl.load_workbook(out).sheetnames


# ------------------------------------------------------------------ refused before the work


def _undercounting_zip(members: int) -> bytes:
    """A zip of `members` empty members whose end record says it holds 10."""
    data = bytearray(H.zip_bytes([(f"m/{i}", b"") for i in range(members)], zipfile.ZIP_STORED))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 10, 10)
    return bytes(data)


def test_a_zip_whose_end_record_undercounts_its_members(book, tmp_path):
    from xlgd.xlsx.safezip import MAX_MEMBERS

    p = H.write_case(tmp_path, "lying.xlsx", _undercounting_zip(MAX_MEMBERS + 1))
    for argv in (["verify", p], ["charts", "check", p], ["diff", p, book]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), f"more than {MAX_MEMBERS} zip members",
                 "end record says 10")


def test_a_zip_of_as_many_members_as_allowed_is_opened(tmp_path):
    from xlgd.xlsx.safezip import MAX_MEMBERS, SafeZip

    p = H.write_case(tmp_path, "many.xlsx", _undercounting_zip(MAX_MEMBERS))
    with SafeZip(p) as z:
        assert len(z.names()) == MAX_MEMBERS


def test_a_list_past_the_last_row_is_refused_from_its_text(tmp_path):
    from xlgd.recipe.validate import MAX_DATA_ROWS

    tpl = tmp_path / "t.toml"
    values = ", ".join(["1"] * (MAX_DATA_ROWS + 1))
    tpl.write_text(H.SMALL_TEMPLATE.replace("x = [1, 2, 3, 4, 5]", f"x = [\n{values},\n]"))
    one_line(H.run_cli(["generate", tpl, "-o", tmp_path / "o.xlsx"], inputs=[tpl], folder=tmp_path),
             "line 6", f"a list of {MAX_DATA_ROWS + 1:,} numbers", f"at most {MAX_DATA_ROWS:,} rows")


def test_a_list_that_fits_is_left_to_the_toml_parser(tmp_path):
    from xlgd.recipe.template import _refuse_long_lists
    from xlgd.recipe.validate import MAX_DATA_ROWS

    text = "x = [" + ", ".join(["1"] * MAX_DATA_ROWS) + "]\n"
    _refuse_long_lists(text, tmp_path / "t.toml")  # no error: the list fits, TOML reads it


# ------------------------------------------------------------------ plain words


@pytest.mark.parametrize("x,words", [("basic!$A$7:$A$9\x01", "an invisible control character (U+0001)"),
                                     ("sgd\t!$A$7:$A$9", "a tab"),
                                     ("sgd!$A$7:\n$A$9", "a line break")])
def test_x_with_a_control_character_is_said_in_words(book, tmp_path, x, words):
    line = one_line(H.run_cli(["charts", "fix", book, "-o", tmp_path / "f.xlsx", "--x", x], inputs=[book],
                              folder=tmp_path), "--x holds", words)
    assert "\\x" not in line and "\\t" not in line and "\\n" not in line


def test_charts_without_an_action_is_one_line(tmp_path):
    one_line(H.run_cli(["charts"], folder=tmp_path), "check, fix, render or regenerate", "--help")


# ------------------------------------------------------------------ cells without `r` (legal: they follow on)


def _without_addresses(x: bytes) -> bytes:
    """Every cell right after the cell before it in its row loses its r (as a writer may leave it
    out), and so does every row right after the row before it."""
    from xlgd.xlsx.refs import col_number

    at = [0, 0]  # row, column of the element before

    def drop(m):
        if m.group(1):  # a row
            row, col, tag = int(m.group(1)), 0, b"<row"
        else:
            row, col, tag = int(m.group(3)), col_number(m.group(2).decode()), b"<c"
        follows = (row, col) == ((at[0] + 1, 0) if tag == b"<row" else (at[0], at[1] + 1))
        at[:] = [row, col]
        return tag if follows else m.group(0)

    return re.sub(rb'<row r="(\d+)"|<c r="([A-Z]+)(\d+)"', drop, x)


def test_cells_without_r_read_as_the_cells_they_follow(book, tmp_path):
    from xlgd.xlsx.package import Package

    data = book.read_bytes()
    new = _without_addresses(parts(book)[SGD])
    assert new.count(b"<c>") + new.count(b"<c ") > new.count(b"<c r=")  # most cells lost their r
    p = H.write_case(tmp_path, "no-r.xlsx", H.with_part(data, SGD, new))
    with Package.open(book) as a, Package.open(p) as b:
        assert list(b.cells("sgd")) == list(a.cells("sgd"))
    for argv in (["diff", p, book], ["diff", "--textconv", p], ["charts", "check", p], ["verify", p]):
        r = H.run_cli(argv, inputs=[p, book], folder=tmp_path)
        good = H.run_cli([book if a == p else a for a in argv], inputs=[p, book], folder=tmp_path)
        assert not r.problems((0,)), r.describe()
        assert r.out.replace(str(p), "B").replace(str(book), "B") == good.out.replace(str(book), "B")


def test_cells_without_r_late_in_a_big_sheet_are_read_once(book, tmp_path, monkeypatch):
    """The fast scanner reads a sheet in pieces; a piece it cannot read sends the whole sheet to lxml,
    which must not give the cells of the earlier pieces twice."""
    from xlgd.xlsx import package
    from xlgd.xlsx.package import Package

    x = parts(book)[SGD]
    last = x.rindex(b'<c r="', 0, x.rindex(b"</row>"))
    new = x[:last] + re.sub(rb'^<c r="[A-Z]+\d+"', b"<c", x[last:])
    p = H.write_case(tmp_path, "late.xlsx", H.with_part(book.read_bytes(), SGD, new))
    monkeypatch.setattr(package, "CHUNK", 2048)  # many pieces: the cell without r is in a late one
    with Package.open(book) as a, Package.open(p) as b:
        assert len(list(b.bodies("sgd"))) > 3
        assert list(b.cells("sgd")) == list(a.cells("sgd"))


def test_a_cell_without_r_past_the_last_column_is_damage(book, tmp_path):
    x = parts(book)[SGD]
    after = max(int(r) for r in re.findall(rb'<row r="(\d+)"', x)) + 1
    row = b'<row r="%d">' % after + b"<c><v>1</v></c>" * 16_385 + b"</row>"
    new = x.replace(b"</sheetData>", row + b"</sheetData>")
    p = H.write_case(tmp_path, "wide.xlsx", H.with_part(book.read_bytes(), SGD, new))
    for argv in (["diff", "--textconv", p], ["verify", p]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), SGD, "outside Excel's grid")

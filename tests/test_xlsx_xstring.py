"""Text as Excel writes it in a file: a control character is `_xHHHH_` (ECMA-376's ST_Xstring), in text
cells and in a formula's cached text alike. `verify` reads them as the characters they stand for, so a
label holding a line break and a formula giving one are not called stale."""

import re

import openpyxl

from tests.test_wild_books import causes, verify_json
from tests.verify_helpers import edit_zip
from xlgd.xlsx.package import Package, xstring


def _book(tmp_path, cached_text):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"] = '=CHAR(7)&"x"'
    ws["A2"] = "label"
    ws["A3"] = "=LEN(A2)"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)

    def cached(xml):
        xml = re.sub(r'<c r="A1"([^>]*)>(<f>[^<]*</f>)<v\s*/?>(</v>)?', rf'<c r="A1"\1 t="str">\2<v>{cached_text}</v>', xml)
        return re.sub(r'(<c r="A3"[^>]*><f>[^<]*</f>)<v\s*/?>(</v>)?', r"\1<v>3</v>", xml)

    return edit_zip(plain, tmp_path / "book.xlsx", "xl/worksheets/sheet1.xml",
                    lambda xml: cached(xml).replace(">label<", ">a_x000D_b<"))  # openpyxl writes text inline


def test_escaped_characters_are_read_as_excel_reads_them(tmp_path):
    path = _book(tmp_path, "_x0007_x")
    with Package.open(path) as package:
        values = {(c.row, c.col): c.value for c in package.cells("s")}
    assert values[(1, 1)] == "\x07x" and values[(2, 1)] == "a\rb"
    code, report = verify_json(path)
    assert code == 0 and report["checked_ok"] == 2, report["verdict"]


def test_a_stale_escaped_text_is_still_found(tmp_path):
    code, report = verify_json(_book(tmp_path, "_x0007_y"))
    assert code == 1 and [c["cell"] for c in causes(report)] == ["A1"], report["verdict"]


def test_an_escaped_underscore_stays_literal():
    assert xstring("_x005F_x0001_") == "_x0001_" and xstring("a_x000d_b") == "a\rb" and xstring("_x00_") == "_x00_"

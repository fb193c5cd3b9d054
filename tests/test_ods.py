"""OpenDocument spreadsheets: verify, diff and charts read an .ods as LibreOffice saves it.

The .ods files are made as users make them: xlgd generates a graddesc, LibreOffice opens it (recalculating)
and saves it as .ods; a stale value is an .ods whose content.xml holds another value for one formula
cell than its formula gives, as a spreadsheet saved without recalculating would.
"""

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.libreoffice import make_profile, soffice

ROOT = Path(__file__).resolve().parents[1]
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def xlgd(*args, env=None):
    env = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "xlgd", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, check=False)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """(graddesc.xlsx made by xlgd, graddesc.ods LibreOffice saved from it after recalculating)."""
    if not soffice():
        pytest.skip("needs LibreOffice (soffice)")
    folder = tmp_path_factory.mktemp("ods")
    xlsx = folder / "graddesc.xlsx"
    build(load_recipe("graddesc"), xlsx)
    profile = make_profile(folder / "profile")
    r = subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "ods",
                        "--outdir", str(folder), str(xlsx)], capture_output=True, text=True, timeout=600, check=False)
    ods = folder / "graddesc.ods"
    assert r.returncode == 0 and ods.exists(), r.stderr
    return xlsx, ods


def _cell(root, sheet, row, col):
    """The table:table-cell element at 1-based (row, col) of `sheet`, through repeated rows and cells."""
    table = next(t for t in root.iter(f"{{{TABLE}}}table") if t.get(f"{{{TABLE}}}name") == sheet)
    r = 0
    for tr in table.iter(f"{{{TABLE}}}table-row"):
        r += int(tr.get(f"{{{TABLE}}}number-rows-repeated", "1"))
        if r < row:
            continue
        c = 0
        for tc in tr:
            c += int(tc.get(f"{{{TABLE}}}number-columns-repeated", "1"))
            if c >= col:
                return tc
    raise AssertionError(f"{sheet} has no cell at row {row}, column {col}")


def edit_ods(src, dst, edit):
    """Copy the .ods src to dst with content.xml changed by edit(root); mimetype stays first, stored."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            data = zin.read(zi.filename)
            if zi.filename == "content.xml":
                root = etree.fromstring(data)
                edit(root)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            zout.writestr(zi, data)
    return dst


def make_stale(src, dst, sheet="basic", row=23, col=9, factor=1.5):
    """dst: src with one formula cell's cached value multiplied by factor; returns (old, new) values."""
    seen = {}

    def edit(root):
        cell = _cell(root, sheet, row, col)
        assert cell.get(f"{{{TABLE}}}formula"), "the edited cell is a formula cell"
        old = float(cell.get(f"{{{OFFICE}}}value"))
        cell.set(f"{{{OFFICE}}}value", repr(old * factor))
        seen["values"] = (old, old * factor)

    edit_ods(src, dst, edit)
    return seen["values"]


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.libreoffice
def test_ods_saved_by_libreoffice_verifies_with_the_count_of_its_xlsx(books, tmp_path):
    xlsx, ods = books
    before = digest(ods)
    temp = tmp_path / "tmp"
    temp.mkdir()
    rx = xlgd("verify", xlsx, "--json")
    ro = xlgd("verify", ods, "--json", env=dict(os.environ, TMPDIR=str(temp)))
    assert rx.returncode == 0 and ro.returncode == 0, ro.stdout[-2000:] + ro.stderr
    jx, jo = json.loads(rx.stdout), json.loads(ro.stdout)
    assert jo["ok"] and jo["dialect"] == "libreoffice"
    assert jo["checked"] == jx["checked"] == jx["formula_cells"] == jo["formula_cells"]
    assert digest(ods) == before, "the .ods was modified"
    assert list(temp.iterdir()) == [], "temporary files left behind"


@pytest.mark.slow
@pytest.mark.libreoffice
def test_stale_value_in_an_ods_is_the_cause(books, tmp_path):
    _, ods = books
    stale = tmp_path / "learner.ods"
    _, new = make_stale(ods, stale)
    r = xlgd("verify", stale)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    cause = next(line for line in r.stdout.splitlines() if line.strip().startswith("basic!I23:"))
    assert "stale" in cause and f"{new:.10g}"[:8] in cause.replace(",", ""), cause
    assert "FAILED" in r.stdout.splitlines()[-1]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_formula_edited_in_an_ods_is_found(books, tmp_path):
    """A learner typed another formula into basic!I23 (the loss cell H23) and saved without recalculating."""
    _, ods = books

    def edit(root):
        _cell(root, "basic", 23, 9).set(f"{{{TABLE}}}formula", "of:=[.H23]")

    edited = edit_ods(ods, tmp_path / "learner.ods", edit)
    r = xlgd("verify", edited)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    causes = [line for line in r.stdout.splitlines() if line.strip().startswith("basic!I")]
    assert causes and any("I23" in line for line in causes), r.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_diff_an_ods_against_an_xlsx(books, tmp_path):
    xlsx, ods = books
    stale = tmp_path / "learner.ods"
    make_stale(ods, stale)
    same = xlgd("diff", ods, xlsx)
    changed = xlgd("diff", stale, xlsx)
    assert same.returncode in (0, 1) and changed.returncode == 1, changed.stderr
    assert "1 values changed" in changed.stdout and "values changed" not in same.stdout, same.stdout[-2000:]
    assert any(line.startswith("basic: 1 value") for line in changed.stdout.splitlines()), changed.stdout


@pytest.mark.slow
@pytest.mark.libreoffice
def test_charts_check_reads_an_ods_and_fix_refuses_it(books, tmp_path):
    xlsx, ods = books
    rx, ro = xlgd("charts", "check", xlsx), xlgd("charts", "check", ods)
    assert ro.returncode == rx.returncode == 0, ro.stdout[-2000:] + ro.stderr
    count = rx.stdout.splitlines()[-1].split()[0]
    assert int(count) > 0 and ro.stdout.splitlines()[-1] == rx.stdout.splitlines()[-1], ro.stdout[-2000:]
    fix = xlgd("charts", "fix", ods, "-o", tmp_path / "fixed.xlsx")
    assert fix.returncode == 2 and fix.stdout == "" and len(fix.stderr.splitlines()) == 1, fix.stderr
    assert "OpenDocument" in fix.stderr and not (tmp_path / "fixed.xlsx").exists()


EMPTY_CONTENT = b'<office:document-content xmlns:office="%s" office:version="1.3"/>' % OFFICE.encode()


def tiny_ods(path, content=EMPTY_CONTENT):
    """A minimal .ods zip: mimetype stored first, then content.xml."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("damage", ["truncated", "content cut", "content missing"])
def test_a_damaged_ods_is_one_line_and_exit_2(tmp_path, damage):
    path = tmp_path / "damaged.ods"
    if damage == "truncated":
        full = tiny_ods(tmp_path / "full.ods").read_bytes()
        path.write_bytes(full[: len(full) // 2])
    elif damage == "content cut":
        tiny_ods(path, b'<office:document-content xmlns:office="%s"><office:body>' % OFFICE.encode())
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
    for command in (("verify",), ("diff",), ("charts", "check")):
        args = (*command, path, path) if command == ("diff",) else (*command, path)
        r = xlgd(*args)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        assert "damaged" in r.stderr or "not well-formed" in r.stderr, r.stderr


def test_missing_libreoffice_is_an_environment_problem(tmp_path):
    path = tiny_ods(tmp_path / "book.ods")
    r = xlgd("verify", path, env=dict(os.environ, PATH=str(tmp_path / "nothing")))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "LibreOffice" in r.stderr and "apt-get install libreoffice-calc" in r.stderr


def test_an_opendocument_text_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / "notes.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", EMPTY_CONTENT)
    r = xlgd("verify", path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "OpenDocument text, not a spreadsheet" in r.stderr


HAND_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="{office}" xmlns:table="{table}"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3"><office:body><office:spreadsheet>
<table:table table:name="Sheet1"><table:table-row>
<table:table-cell office:value-type="float" office:value="0.1"/><table:table-cell office:value-type="float" office:value="3"/>
<table:table-cell table:formula="of:=[.A1]*[.B1]" office:value-type="float" office:value="{c1}"/>
<table:table-cell table:formula="of:=SUM([.A1:.B1];[$Sheet2.A1])" office:value-type="float" office:value="{d1}"/>
</table:table-row></table:table>
<table:table table:name="Sheet2"><table:table-row><table:table-cell office:value-type="float" office:value="2"/>
</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"""
MANIFEST = (b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
            b'<manifest:file-entry manifest:full-path="/" manifest:media-type="%s"/><manifest:file-entry '
            b'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>' % MIMETYPE)


def hand_ods(path, c1, d1):
    """An .ods written by another program (no LibreOffice settings): OpenFormula across two sheets."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
        z.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", HAND_CONTENT.format(office=OFFICE, table=TABLE, c1=c1, d1=d1), zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.slow
@pytest.mark.libreoffice
def test_openformula_is_read_and_a_value_libreoffice_recalculates_is_never_ok(tmp_path):
    """LibreOffice recalculates such a file on opening it: where that changes a value the file holds,
    the .ods is refused (exit 2) rather than its recalculation called OK."""
    if not soffice():
        pytest.skip("needs LibreOffice (soffice)")
    good = xlgd("verify", hand_ods(tmp_path / "good.ods", "0.3", "5.1"))
    assert good.returncode == 0 and "2 of 2 formula cells" in good.stdout, good.stdout + good.stderr
    stale = xlgd("verify", hand_ods(tmp_path / "stale.ods", "0.3", "5.2"))
    assert stale.returncode == 2 and len(stale.stderr.splitlines()) == 1, stale.stdout + stale.stderr
    assert "Sheet1!D1" in stale.stderr and "5.2" in stale.stderr and "OK" not in stale.stdout


@pytest.fixture(scope="module")
def typed_results(tmp_path_factory):
    """An .ods LibreOffice saved (recalculating) from a learner's openpyxl sheet whose formulas give a
    text (B1), a boolean (C1), an error (D1) and a number (E1)."""
    if not soffice():
        pytest.skip("needs LibreOffice (soffice)")
    import openpyxl

    folder = tmp_path_factory.mktemp("typed")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"], ws["B1"], ws["C1"], ws["D1"], ws["E1"] = 2, '=IF(A1>1,"big","small")', "=A1>1", "=1/(A1-2)", "=A1*3"
    wb.save(folder / "typed.xlsx")
    profile = make_profile(folder / "profile")
    r = subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "ods",
                        "--outdir", str(folder), str(folder / "typed.xlsx")],
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0 and (folder / "typed.ods").exists(), r.stderr
    return folder / "typed.ods"


def _retype(col, attribute, value, paragraph):
    """An edit of content.xml: Sheet1's formula cell on row 1, column col, holds another cached value."""
    def edit(root):
        cell = _cell(root, "Sheet1", 1, col)
        assert cell.get(f"{{{TABLE}}}formula")
        cell.set(attribute, value)
        next(cell.iter("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p")).text = paragraph
    return edit


@pytest.mark.slow
@pytest.mark.libreoffice
def test_text_boolean_and_error_results_of_an_ods_are_compared(typed_results, tmp_path):
    """The text, boolean and error a LibreOffice-saved .ods caches are its own: unedited, verify checks
    them (OK); hand-edited stale, the text and the boolean are causes naming the cell, and the error, which
    LibreOffice recalculates on opening, is refused in one line naming both values, never OK."""
    good = xlgd("verify", typed_results)
    assert good.returncode == 0 and "4 of 4 formula cells" in good.stdout, good.stdout + good.stderr
    string = f"{{{OFFICE}}}string-value"
    text = xlgd("verify", edit_ods(typed_results, tmp_path / "text.ods", _retype(2, string, "small", "small")))
    assert text.returncode == 1 and "Sheet1!B1" in text.stdout and "holds small" in text.stdout, text.stdout
    flag = xlgd("verify", edit_ods(typed_results, tmp_path / "bool.ods",
                                   _retype(3, f"{{{OFFICE}}}boolean-value", "false", "FALSE")))
    assert flag.returncode == 1 and "Sheet1!C1" in flag.stdout, flag.stdout
    error = xlgd("verify", edit_ods(typed_results, tmp_path / "error.ods", _retype(4, string, "", "#N/A")))
    assert error.returncode == 2 and len(error.stderr.splitlines()) == 1, error.stdout + error.stderr
    assert "Sheet1!D1" in error.stderr and "'#N/A'" in error.stderr and "'#DIV/0!'" in error.stderr
    assert "OK" not in error.stdout


TYPED_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="{office}" xmlns:table="{table}"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"><office:body><office:spreadsheet>
<table:table table:name="S"><table:table-row>
<table:table-cell table:formula="of:=1" office:value-type="string"><text:p><text:s/>a<text:s text:c="2"/>b</text:p><text:p>c<text:tab/>d</text:p></table:table-cell>
<table:table-cell table:formula="of:=1" office:value-type="date" office:date-value="2020-01-02T06:00:00"/>
<table:table-cell table:formula="of:=1" office:value-type="time" office:time-value="PT06H30M00S"/>
<table:table-cell table:formula="of:=1" office:value-type="boolean" office:boolean-value="true"/>
<table:table-cell table:formula="of:=1" office:value-type="string" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>
<table:table-cell table:formula="of:=1" office:value-type="string" calcext:value-type="error"><text:p>Err:502</text:p></table:table-cell>
<table:table-cell table:formula="of:=1"><text:p/></table:table-cell>
<table:table-cell office:value-type="string"><text:p>typed</text:p></table:table-cell>
</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"""


def test_cached_values_of_every_type_read_from_content_xml():
    """Texts through <text:s>, <text:tab> and paragraphs; dates and times as serial numbers from
    1899-12-30; a boolean as 1; an error Excel has; LibreOffice's own `Err:502`, a formula cell without a
    value, and a typed cell are not compared."""
    from xlgd.xlsx.ods import cached_values

    root = etree.fromstring(TYPED_CONTENT.format(office=OFFICE, table=TABLE).encode())
    got = cached_values(root)
    assert got == {("S", 1, 1): ("s", " a  b\nc\td"), ("S", 1, 2): ("n", 43832.25),
                   ("S", 1, 3): ("n", 6.5 / 24), ("S", 1, 4): ("n", 1.0), ("S", 1, 5): ("e", "#DIV/0!")}, got

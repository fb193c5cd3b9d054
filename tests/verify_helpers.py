"""Edit a workbook's XML inside its zip, as a learner's spreadsheet would leave it."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


def sheet_part(path, name):
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(r'<sheet name="%s" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"' % re.escape(name), wb).group(1)
    target = re.search(r'Id="%s"[^>]*Target="([^"]+)"' % rid, rels) or \
        re.search(r'Target="([^"]+)"[^>]*Id="%s"' % rid, rels)
    t = target.group(1)
    return t.lstrip("/") if t.startswith("/") else "xl/" + t


def edit_zip(src, dst, part, fn):
    """Copy src to dst with one member's text replaced by fn(text)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            data = zin.read(zi.filename)
            if zi.filename == part:
                new = fn(data.decode())
                assert new != data.decode(), f"edit of {part} changed nothing"
                data = new.encode()
            zout.writestr(zi, data)
    return Path(dst)


def cell_xml(text, ref):
    m = re.search(r'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref, text, re.S)
    assert m, ref
    return m


def set_formula(text, ref, formula):
    m = cell_xml(text, ref)
    old = m.group(0)
    new = re.sub(r"<f>[^<]*</f>|<f [^>]*>[^<]*</f>|<f [^>]*/>", f"<f>{formula}</f>", old, count=1)
    return text[:m.start()] + new + text[m.end():]


def set_constant(text, ref, value):
    m = cell_xml(text, ref)
    s = re.search(r'\ss="\d+"', m.group(0))
    new = f'<c r="{ref}"{s.group(0) if s else ""}><v>{value}</v></c>'
    return text[:m.start()] + new + text[m.end():]


def set_value(text, ref, value):
    m = cell_xml(text, ref)
    new = re.sub(r"<v>[^<]*</v>", f"<v>{value}</v>", m.group(0))
    return text[:m.start()] + new + text[m.end():]


def verify(path, *args):
    r = subprocess.run([sys.executable, "-m", "xlgd", "verify", str(path), *args], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[1])
    return r


def soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


def add_sheet(src, dst, name, xml):
    """Copy src to dst with one more worksheet (name, its XML) at the end of the tabs, the parts a
    spreadsheet writes for it: the sheet part, its relationship, its content type, its <sheet> entry."""
    part, rid = "xl/worksheets/sheet_added.xml", "rIdAdded1"
    ws_type = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    edits = {
        "xl/workbook.xml": lambda t: re.sub(r"</(\w+:)?sheets>", lambda m: f'<{m.group(1) or ""}sheet name="{name}" '
                                            f'sheetId="999" r:id="{rid}"/></{m.group(1) or ""}sheets>', t, count=1),
        "xl/_rels/workbook.xml.rels": lambda t: t.replace(
            "</Relationships>", f'<Relationship Id="{rid}" Type="{ws_type}" Target="worksheets/sheet_added.xml"/>'
                                "</Relationships>"),
        "[Content_Types].xml": lambda t: t.replace(
            "</Types>", f'<Override PartName="/{part}" ContentType="{ct}"/></Types>'),
    }
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            data = zin.read(zi.filename)
            if zi.filename in edits:
                new = edits[zi.filename](data.decode())
                assert new != data.decode(), f"adding a sheet changed nothing in {zi.filename}"
                data = new.encode()
            zout.writestr(zi, data)
        zout.writestr(part, xml)
    return Path(dst)


def with_libreoffice(test):
    """Marks a test that recalculates with LibreOffice: `libreoffice` and `slow`, skipped without soffice."""
    import pytest

    for mark in (pytest.mark.libreoffice, pytest.mark.slow,
                 pytest.mark.skipif(not soffice(), reason="LibreOffice not installed")):
        test = mark(test)
    return test

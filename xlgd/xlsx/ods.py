"""OpenDocument spreadsheets (.ods) read as the .xlsx LibreOffice makes of them.

`is_ods(archive)` tells an OpenDocument spreadsheet from an OOXML package by its `mimetype` member.
`as_xlsx(path, archive, outdir)` checks the .ods's `content.xml` (hardened parser, its root element) and
asks LibreOffice headless to convert the file to .xlsx in `outdir`, with a profile that never
recalculates an ODF file on load: the .xlsx holds the formulas LibreOffice translates from
OpenFormula and the cached values exactly as the .ods holds them (LibreOffice writes 15 significant
digits in both formats), so a stale value in the .ods is stale in the .xlsx. LibreOffice still
recalculates some files or cells on opening (an .ods another program wrote, a cell holding an error):
`cached_values` reads every formula cell's cached value from content.xml (number, text, boolean, error,
date) and `recalculated` finds one the conversion changed.
The input is only read.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from ..core.values import ERRORS
from ..errors import MissingDependency, XlgdError, shorten
from .safezip import SafeZip, parse_xml

ODF_MIMETYPE = b"application/vnd.oasis.opendocument."
ODS_MIMETYPE = ODF_MIMETYPE + b"spreadsheet"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = f"{{{OFFICE_NS}}}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
CONVERT_TIMEOUT = 600
MAX_REPEAT = 1 << 16  # a formula repeated over more cells than this is not looked at one by one
SAME_15_DIGITS = 1e-14  # both formats hold 15 significant digits

# ODFRecalcMode 1: never recalculate on load (the cached values are what is checked).
_NEVER_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def is_ods(archive: SafeZip) -> bool:
    """True when the zip says it is an OpenDocument spreadsheet or its template (its `mimetype`
    member); another OpenDocument type (a text, a drawing) is refused in one line."""
    if not archive.has("mimetype") or archive.has("[Content_Types].xml"):
        return False
    mimetype = archive.read("mimetype", limit=1 << 10).strip()
    if mimetype.startswith(ODS_MIMETYPE):
        return True
    if mimetype.startswith(ODF_MIMETYPE):
        kind = mimetype[len(ODF_MIMETYPE):].decode("ascii", "replace")
        raise XlgdError(f"{archive.path} is an OpenDocument {shorten(kind, 30)}, not a spreadsheet")
    return False


def as_xlsx(path, archive: SafeZip, outdir) -> tuple:
    """(the .xlsx LibreOffice converts the .ods at `path` into, written in `outdir`; the .ods's
    cached values of formula cells, see `cached_values`)."""
    import subprocess  # here: reading an .xlsx never starts a process

    from .libreoffice import soffice

    values = cached_values(_check_content(path, archive))
    exe = soffice()
    if not exe:
        raise MissingDependency(f"reading {path} (OpenDocument) needs LibreOffice, which is not installed: "
                                f"apt-get install libreoffice-calc")
    outdir = Path(outdir)
    profile = outdir / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_NEVER_RECALC)
    source = outdir / "book.ods"  # a plain name: LibreOffice names its output after the input
    os.symlink(os.path.abspath(path), source)
    try:
        r = subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
                            "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(source)],
                           capture_output=True, text=True, timeout=CONVERT_TIMEOUT, check=False,
                           env=dict(os.environ, TMPDIR=str(outdir)))
    except subprocess.TimeoutExpired:
        raise XlgdError(f"LibreOffice took longer than {CONVERT_TIMEOUT} s to read {path}") from None
    out = outdir / "book.xlsx"
    if r.returncode != 0 or not out.exists():
        why = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise XlgdError(f"LibreOffice could not read {path}" + (f": {why[-1]}" if why else ""))
    return out, values


def cached_values(root) -> dict:
    """{(sheet, row, col): (kind, value)} of every formula cell in content.xml (1-based, through repeated
    rows and cells): what the .xlsx LibreOffice converts it to must hold. kind 'n' a number (a date or
    time as its serial number, a boolean as 1 or 0), 's' a text, 'e' an error code Excel also has."""
    out = {}
    null_date = _null_date(root)
    for table in root.iter(TABLE + "table"):
        name, row = table.get(TABLE + "name"), 0
        for tr in table.iter(TABLE + "table-row"):
            rows = int(tr.get(TABLE + "number-rows-repeated", "1"))
            col = 0
            for cell in tr:
                cols = int(cell.get(TABLE + "number-columns-repeated", "1"))
                value = _cached(cell, null_date) if cell.get(TABLE + "formula") else None
                if value is not None and rows * cols <= MAX_REPEAT:
                    for r in range(row + 1, row + rows + 1):
                        for c in range(col + 1, col + cols + 1):
                            out[(name, r, c)] = value
                col += cols
            row += rows
    return out


def _cached(cell, null_date: date) -> tuple | None:
    """(kind, value) a formula cell of content.xml holds, or None where it holds none xlgd can compare
    (no value type, one of LibreOffice's own error codes `Err:502`, a date it cannot read)."""
    kind = cell.get(OFFICE + "value-type")
    try:
        if cell.get(CALCEXT + "value-type") == "error":
            code = _paragraphs(cell)
            return ("e", code) if code in ERRORS else None
        if kind in ("float", "percentage", "currency"):
            return "n", float(cell.get(OFFICE + "value"))
        if kind == "boolean":
            return "n", 1.0 if cell.get(OFFICE + "boolean-value", "").strip().lower() == "true" else 0.0
        if kind == "date":
            return "n", _serial(cell.get(OFFICE + "date-value"), null_date)
        if kind == "time":
            return "n", _day_fraction(cell.get(OFFICE + "time-value"))
        if kind == "string":
            text = cell.get(OFFICE + "string-value")
            return "s", _paragraphs(cell) if text is None else text
    except (TypeError, ValueError):
        return None
    return None


def _paragraphs(cell) -> str:
    """The text of a cell's <text:p> paragraphs, one line each (<text:s c="n"/> is n spaces)."""
    lines = []
    for p in cell.iter(TEXT + "p"):
        parts = [p.text or ""]
        for child in p.iter():
            if child is p:
                continue
            if child.tag == TEXT + "s":
                parts.append(" " * int(child.get(TEXT + "c", "1")))
            elif child.tag == TEXT + "tab":
                parts.append("\t")
            elif child.tag == TEXT + "line-break":
                parts.append("\n")
            elif child.text:
                parts.append(child.text)
            parts.append(child.tail or "")
        lines.append("".join(parts))
    return "\n".join(lines)


def _null_date(root) -> date:
    """The day serial number 0 stands for: table:null-date, else 1899-12-30 (both programs' default)."""
    for node in root.iter(TABLE + "null-date"):
        text = node.get(TABLE + "date-value")
        if text:
            return date.fromisoformat(text[:10])
    return date(1899, 12, 30)


def _serial(text: str, null_date: date) -> float:
    """An ODF date value (`2020-01-02` or `2020-01-02T06:00:00`) as a day serial number."""
    day = date.fromisoformat(text[:10])
    serial = float((day - null_date).days)
    if "T" in text:
        h, m, sec = text.split("T", 1)[1].split(":")
        serial += (int(h) * 3600 + int(m) * 60 + float(sec)) / 86400.0
    return serial


def _day_fraction(text: str) -> float:
    """An ODF time value (`PT12H30M00S`, a duration) as a fraction of a day."""
    m = re.fullmatch(r"-?P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text.strip())
    if not m:
        raise ValueError(text)
    d, h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
    return (-1.0 if text.strip().startswith("-") else 1.0) * (d + (h * 3600 + mi * 60 + sec) / 86400.0)


def recalculated(book, values: dict) -> tuple | None:
    """The first formula cell whose value in the converted book is not the .ods's own
    ((sheet, row, col), .ods value, converted value), or None: LibreOffice kept every cached value."""
    for sheet in sorted({key[0] for key in values}):
        for cell in book.cells(sheet):
            want = values.get((sheet, cell.row, cell.col))
            if want is None or cell.formula is None:
                continue
            if not _kept(want, cell):
                return (sheet, cell.row, cell.col), want[1], cell.value
    return None


def _kept(want: tuple, cell) -> bool:
    """The converted cell holds the .ods's cached value: a number to 15 digits, the same text, the same
    error (another program's .ods may type an error as text)."""
    kind, value = want
    got = cell.value
    if kind == "n":
        return isinstance(got, float) and abs(got - value) <= SAME_15_DIGITS * max(abs(value), abs(got))
    if cell.kind not in ("s", "e", ""):
        return False
    return (got or "") == value


def _check_content(path, archive: SafeZip):
    """A damaged or missing content.xml is the user's file, said on one line (LibreOffice would
    convert it to an empty workbook). Returns the parsed root."""
    if not archive.has("content.xml"):
        raise XlgdError(f"{path} is an OpenDocument file without content.xml: damaged")
    root = parse_xml(archive.read("content.xml"), f"{path}'s content.xml")
    if root.tag != f"{{{OFFICE_NS}}}document-content":
        raise XlgdError(f"{path} is damaged: its content.xml is not an OpenDocument document")
    return root

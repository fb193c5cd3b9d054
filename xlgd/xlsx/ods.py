"""OpenDocument spreadsheets (.ods) read as the .xlsx LibreOffice makes of them.

`is_ods(archive)` tells an OpenDocument spreadsheet from an OOXML package by its `mimetype` member.
`as_xlsx(path, archive, outdir)` checks the .ods's `content.xml` (hardened parser, its root element) and
asks LibreOffice headless to convert the file to .xlsx in `outdir`, with a profile that never
recalculates an ODF file on load: the .xlsx holds the formulas LibreOffice translates from
OpenFormula and the cached values exactly as the .ods holds them (LibreOffice writes 15 significant
digits in both formats), so a stale value in the .ods is stale in the .xlsx. LibreOffice still
recalculates some files on opening (an .ods another program wrote): `cached_numbers` reads every
formula cell's cached number from content.xml and `recalculated` finds one the conversion changed.
The input is only read.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import MissingDependency, XlgdError, shorten
from .libreoffice import soffice
from .safezip import SafeZip, parse_xml

ODF_MIMETYPE = b"application/vnd.oasis.opendocument."
ODS_MIMETYPE = ODF_MIMETYPE + b"spreadsheet"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = f"{{{OFFICE_NS}}}"
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
    cached numbers of formula cells, see `cached_numbers`)."""
    numbers = cached_numbers(_check_content(path, archive))
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
    return out, numbers


def cached_numbers(root) -> dict:
    """{(sheet, row, col): the cached number} of every formula cell in content.xml (1-based, through
    repeated rows and cells): what the .xlsx LibreOffice converts it to must hold."""
    out = {}
    for table in root.iter(TABLE + "table"):
        name, row = table.get(TABLE + "name"), 0
        for tr in table.iter(TABLE + "table-row"):
            rows = int(tr.get(TABLE + "number-rows-repeated", "1"))
            col = 0
            for cell in tr:
                cols = int(cell.get(TABLE + "number-columns-repeated", "1"))
                value = cell.get(OFFICE + "value")
                if cell.get(TABLE + "formula") and value is not None and rows * cols <= MAX_REPEAT:
                    for r in range(row + 1, row + rows + 1):
                        for c in range(col + 1, col + cols + 1):
                            out[(name, r, c)] = float(value)
                col += cols
            row += rows
    return out


def recalculated(book, numbers: dict) -> tuple | None:
    """The first formula cell whose value in the converted book is not the .ods's own
    ((sheet, row, col), .ods value, converted value), or None: LibreOffice kept every cached value."""
    for sheet in sorted({key[0] for key in numbers}):
        for cell in book.cells(sheet):
            want = numbers.get((sheet, cell.row, cell.col))
            if want is None or cell.formula is None:
                continue
            got = cell.value
            if not isinstance(got, float) or abs(got - want) > SAME_15_DIGITS * max(abs(want), abs(got)):
                return (sheet, cell.row, cell.col), want, got
    return None


def _check_content(path, archive: SafeZip):
    """A damaged or missing content.xml is the user's file, said on one line (LibreOffice would
    convert it to an empty workbook). Returns the parsed root."""
    if not archive.has("content.xml"):
        raise XlgdError(f"{path} is an OpenDocument file without content.xml: damaged")
    root = parse_xml(archive.read("content.xml"), f"{path}'s content.xml")
    if root.tag != f"{{{OFFICE_NS}}}document-content":
        raise XlgdError(f"{path} is damaged: its content.xml is not an OpenDocument document")
    return root

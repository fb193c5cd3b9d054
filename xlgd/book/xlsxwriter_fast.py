"""The one place that touches XlsxWriter's private names.

`RawRows` lets `book/steprows.py` hand XlsxWriter whole `<row>` elements of sheet XML in
constant-memory mode (XlsxWriter streams rows into `Worksheet.row_data_fh`); `fast_caches` writes
chart caches; docProps/app.xml, the chart parts and the record's digest go through its packager. Those private names
(`Worksheet._write_single_row`, `Format._get_xf_index`, `Packager._write_app_file`, ...) are why
XlsxWriter is pinned to `XLSXWRITER_VERSION` (pyproject.toml asks for exactly it, and
tests/test_workbook.py fails on another): an upgrade means reading this module against the new
version's worksheet.py, chart.py, workbook.py and packager.py, then moving both pins.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import tempfile
import zlib
from io import StringIO
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.packager import Packager

from .numbers import texts

XLSXWRITER_VERSION = "3.3.1"


def installed_version() -> str:
    return xlsxwriter.__version__


class RawRows:
    """Whole `<row>` elements into a constant-memory worksheet, from `first_row` (0-based) down.

    XlsxWriter must write nothing more into those rows; what it wrote above
    them is flushed first, so the file keeps row order. Rows that must come
    after rows not written yet go to a spool file (`spool`, `append`), which
    the sheet part gets straight after XlsxWriter's own row file, as bytes."""

    def __init__(self, sheet, first_row: int):
        if not sheet.constant_memory:
            raise ValueError("RawRows needs a worksheet in constant_memory mode")
        self.ws = sheet
        self.tail = None
        sheet._write_single_row(first_row)  # flush the rows above; later rows are ours
        sheet._write_optimized_sheet_data = self._sheet_data

    @staticmethod
    def xf(fmt) -> int:
        """The style index a cell with this format carries (`s="..."`)."""
        return fmt._get_xf_index() if fmt is not None else 0

    def write(self, text: str):
        self.ws.row_data_fh.write(text)

    def spool(self):
        """A temporary file (bytes) for rows that must come after rows not written yet (flat memory)."""
        return tempfile.TemporaryFile("w+b", dir=self.ws.tmpdir)

    def append(self, spool):
        """The spooled rows follow every row written so far (copied when the sheet part is assembled)."""
        self.tail = spool

    def span(self, first_row, first_col, last_row, last_col):
        """The cells the rows fill (the sheet's <dimension>)."""
        self.ws._check_dimensions(first_row, first_col)
        self.ws._check_dimensions(last_row, last_col)

    def _sheet_data(self):
        """Worksheet._write_optimized_sheet_data: <sheetData> from the row file, then the spool,
        copied as bytes in 1 MB blocks (XlsxWriter decodes and re-encodes 64 kB at a time)."""
        ws = self.ws
        if ws.dim_rowmin is None:
            ws._xml_empty_tag("sheetData")
            return
        ws._xml_start_tag("sheetData")
        ws.fh.flush()
        ws.row_data_fh.flush()
        with open(ws.row_data_filename, "rb") as rows:
            shutil.copyfileobj(rows, ws.fh.buffer, 1 << 20)
        if self.tail is not None:
            self.tail.seek(0)
            shutil.copyfileobj(self.tail, ws.fh.buffer, 1 << 20)
            self.tail.close()
        ws.fh.buffer.flush()
        ws.row_data_fh.close()
        os.unlink(ws.row_data_filename)
        ws._xml_end_tag("sheetData")


def discard(workbook) -> None:
    """Close the temporary files of a workbook that will never be closed (a failure half-way):
    constant_memory keeps one open per sheet, and the folder they are in is about to go."""
    for ws in workbook.worksheets():
        fh = getattr(ws, "row_data_fh", None)
        if fh is not None and not fh.closed:
            fh.close()


class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's Workbook, but docProps/app.xml names the program that wrote the file.

    XlsxWriter writes `<Application>Microsoft Excel</Application>` and
    `<AppVersion>12.0000</AppVersion>` into every file; a workbook xlgd wrote
    says `xlgd` and xlgd's version instead (`application`, `app_version`:
    AppVersion keeps the XX.YYYY form ECMA-376 gives for it).

    That claim mattered to LibreOffice: XlsxWriter leaves out chart elements
    whose value is Excel 2007's default, and LibreOffice fills them with Excel
    2007's defaults only for a file from "Microsoft ... 12"; for any other
    file it takes ECMA-376's, which smooths every line (c:smooth) and draws
    #N/A points as 0 (c:dispBlanksAs). So the chart parts say both
    explicitly, as Excel 2010 and later write them (`explicit_chart_xml`);
    tests/test_learner_charts.py renders the charts both ways and compares
    the pixels. `_get_packager` is XlsxWriter's hook for its packager.

    Its parts are deflated at `deflate_level` (1), not zlib's default (6): much less CPU time
    on step sheets for slightly larger files (benchmarks/generate.py measures both).

    seal=(sheet, placeholder, digest): once every part is written, `digest(parts)` of their
    (name, size, CRC-32) -- the sheet's part holding `placeholder` -- replaces the placeholder in
    that sheet's part (`recipe.record.seal`)."""

    def __init__(self, filename, options=None, *, application="xlgd", app_version="00.0000", deflate_level=1,
                 seal=None):
        super().__init__(filename, options)
        self.xlgd_app = (application, app_version)
        self.deflate_level = deflate_level
        self.seal = seal

    def _get_packager(self):
        return _XlgdPackager(*self.xlgd_app, seal=self.seal)

    def _store_workbook(self):
        import xlsxwriter.workbook as xw

        zipfile = xw.ZipFile
        xw.ZipFile = functools.partial(zipfile, compresslevel=self.deflate_level)
        try:
            super()._store_workbook()
        finally:
            xw.ZipFile = zipfile


class _XlgdPackager(Packager):
    def __init__(self, application, app_version, seal=None):
        super().__init__()
        self.xlgd_app = (application, app_version)
        self.seal = seal

    def _create_package(self):
        files = super()._create_package()
        if self.seal:
            self._seal(*self.seal)
        return files

    def _seal(self, sheet, placeholder, digest):
        """Put the digest of every part, as written, where `placeholder` is in `sheet`'s part."""
        names = [ws.name for ws in self.workbook.worksheets() if not ws.is_chartsheet]
        part = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"  # XlsxWriter's own naming
        sealed = digest([(name, *_size_crc(where, binary)) for where, name, binary in self.filenames])

        def put(text):
            if text.count(placeholder) != 1:
                raise ValueError(f"{part} holds {text.count(placeholder)} digest placeholders, not 1")
            return text.replace(placeholder, sealed)

        self._rewrite(lambda name: name == part, put)

    def _write_app_file(self):
        super()._write_app_file()
        self._rewrite(lambda name: name == "docProps/app.xml", lambda text: app_xml(text, *self.xlgd_app))

    def _write_chart_files(self):
        super()._write_chart_files()
        self._rewrite(lambda name: name.startswith("xl/charts/chart"), explicit_chart_xml)

    def _rewrite(self, which, edit):
        for i, (where, name, binary) in enumerate(self.filenames):
            if which(name):
                self.filenames[i] = (_edit_part(where, edit), name, binary)


def app_xml(text: str, application: str, app_version: str) -> str:
    """app.xml as XlsxWriter writes it, with our Application and AppVersion."""
    text = text.replace("<Application>Microsoft Excel</Application>",
                        f"<Application>{escape(application)}</Application>")
    return text.replace("<AppVersion>12.0000</AppVersion>", f"<AppVersion>{escape(app_version)}</AppVersion>")


def explicit_chart_xml(text: str) -> str:
    """A chart part with c:smooth (per line or scatter series) and c:dispBlanksAs written out.

    ECMA-376 orders c:smooth last in a series but for c:extLst, and
    c:dispBlanksAs right after c:plotVisOnly; XlsxWriter writes no series
    extLst and always writes plotVisOnly."""
    text = re.sub(r"(<c:(?:lineChart|scatterChart)>.*?</c:(?:lineChart|scatterChart)>)",
                  lambda m: re.sub(r"(?<!<c:smooth val=\"[01]\"/>)</c:ser>", '<c:smooth val="0"/></c:ser>', m.group(1)),
                  text, flags=re.DOTALL)
    if "<c:dispBlanksAs" not in text:
        text = re.sub(r"(<c:plotVisOnly [^>]*/>)", r'\1<c:dispBlanksAs val="gap"/>', text, count=1)
    # Namespace declarations first, as lxml writes them: `charts regenerate` compares a chart it
    # parsed and wrote back with the one in the file, and an attribute order is no change.
    return re.sub(r'<c:ext (uri="[^"]*") (xmlns:\w+="[^"]*")>', r"<c:ext \2 \1>", text)


def _size_crc(where, binary) -> tuple:
    """(size, CRC-32) of a part XlsxWriter wrote, as the zip will hold it."""
    if isinstance(where, StringIO):
        data = where.getvalue().encode("utf-8")
        return len(data), zlib.crc32(data)
    if hasattr(where, "getvalue"):  # an in-memory binary part
        data = where.getvalue()
        return len(data), zlib.crc32(data)
    size, crc = 0, 0
    with open(where, "rb") as f:
        while chunk := f.read(1 << 20):
            size, crc = size + len(chunk), zlib.crc32(chunk, crc)
    return size, crc


def _edit_part(where, edit):
    """Apply edit(text) to a part XlsxWriter wrote: a temporary file, or a StringIO when in_memory."""
    if isinstance(where, StringIO):
        return StringIO(edit(where.getvalue()))
    with open(where, encoding="utf-8") as f:
        text = f.read()
    with open(where, "w", encoding="utf-8") as f:
        f.write(edit(text))
    return where


def fast_caches(chart):
    """Write the chart's number caches in one string each, the XML XlsxWriter writes point by point
    (~15 function calls and two regular expressions a point: 300,000 points took seconds), the
    numbers spelt as the cells' (`numbers.texts`); a series given no points gets no <c:numCache> at
    all (XlsxWriter would write an empty one, ptCount 0, which a viewer takes as "no points"): the
    reader draws from the cells."""
    write_cache = chart._write_num_cache

    def num_cache(data):
        if not data:
            return
        if not all(v is None or isinstance(v, float) for v in data):
            return write_cache(data)  # XlsxWriter's rules for anything else
        pts = "".join(f'<c:pt idx="{i}"><c:v>{t}</c:v></c:pt>'
                      for i, t in enumerate(texts([math.nan if v is None else v for v in data])) if t != "null")
        chart.fh.write(f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{len(data)}"/>{pts}'
                       "</c:numCache>")

    chart._write_num_cache = num_cache
    return chart

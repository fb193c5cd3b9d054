"""The one place that touches XlsxWriter's private names.

XlsxWriter writes a cell at a time (`write_formula` re-parses each formula
for future functions, ~40 regular-expression passes per cell, then escapes
and writes it through its XML writer); a step table is millions of formula
cells that differ only by row. `RawRows` lets `book/steprows.py` hand
XlsxWriter whole `<row>` elements of sheet XML instead, in constant-memory
mode, where XlsxWriter itself streams rows into a temporary file
(`Worksheet.row_data_fh`) and copies that file into the sheet part at
close. It reaches into `Worksheet.row_data_fh`, `Worksheet._write_single_row`,
`Worksheet._check_dimensions`, `Format._get_xf_index` and the chart's
`_write_num_cache`, which is why it is pinned: written against XlsxWriter
`XLSXWRITER_VERSION`, pyproject.toml asks for exactly that version, and
tests/test_workbook.py fails when another one is installed -- an upgrade is
a deliberate change: read this module against the new version's
worksheet.py and chart.py, then move both pins. benchmarks/generate.py
measures the writer against a raw sheet-XML writer of the same cells.
"""

from __future__ import annotations

import shutil
import tempfile

import xlsxwriter

XLSXWRITER_VERSION = "3.3.1"


def installed_version() -> str:
    return xlsxwriter.__version__


class RawRows:
    """Whole `<row>` elements into a constant-memory worksheet, from `first_row` (0-based) down.

    XlsxWriter must write nothing more into those rows; what it wrote above
    them is flushed first, so the file keeps row order."""

    def __init__(self, ws, first_row: int):
        if not ws.constant_memory:
            raise ValueError("RawRows needs a worksheet in constant_memory mode")
        self.ws = ws
        ws._write_single_row(first_row)  # flush the rows above; later rows are ours

    @staticmethod
    def xf(fmt) -> int:
        """The style index a cell with this format carries (`s="..."`)."""
        return fmt._get_xf_index() if fmt is not None else 0

    def write(self, text: str):
        self.ws.row_data_fh.write(text)

    def append(self, spool):
        """Copy rows held in a spool (`spool()`) after the ones written so far."""
        spool.seek(0)
        shutil.copyfileobj(spool, self.ws.row_data_fh, 1 << 20)
        spool.close()

    def spool(self):
        """A temporary file for rows that must come after rows not written yet (flat memory)."""
        return tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.ws.tmpdir)

    def span(self, first_row, first_col, last_row, last_col):
        """The cells the rows fill (the sheet's <dimension>)."""
        self.ws._check_dimensions(first_row, first_col)
        self.ws._check_dimensions(last_row, last_col)


def leave_out_empty_caches(chart):
    """A series given no cached points gets no <c:numCache> at all (XlsxWriter would write an empty
    one, ptCount 0, which a viewer takes as "no points"): the reader draws from the cells."""
    write_cache = chart._write_num_cache

    def num_cache(data):
        if data:
            write_cache(data)

    chart._write_num_cache = num_cache
    return chart

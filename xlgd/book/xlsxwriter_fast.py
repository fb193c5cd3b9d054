"""The one place that touches XlsxWriter's private names.

XlsxWriter's `write_formula` re-parses each formula for future functions
(~40 regular-expression passes per cell); xlgd's formulas use none, so
`FastRows` stores the cell directly, doing what `write_formula` does after
that parse (benchmarks/generate.py measures the writer against bare
XlsxWriter). It reaches into `Worksheet.table`, `Worksheet._write_single_row`,
`Worksheet._check_dimensions` and `CellFormulaTuple`, which is why it is
pinned: written against XlsxWriter `XLSXWRITER_VERSION`, pyproject.toml asks
for exactly that version, and tests/test_workbook.py fails when another one
is installed -- an upgrade is a deliberate change: read this module against
the new version's worksheet.py, then move both pins.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.worksheet import CellFormulaTuple

XLSXWRITER_VERSION = "3.3.1"


def installed_version() -> str:
    return xlsxwriter.__version__


class FastRows:
    """XlsxWriter's write_formula re-parses each formula for future functions
    (~40 regex passes per cell); ours use none, so store the cell directly,
    doing what write_formula does after that parse. Measured in
    benchmarks/generate.py."""

    def __init__(self, ws):
        self.ws = ws

    def formula(self, row, col, text, fmt, value):
        ws = self.ws
        if ws.constant_memory and row > ws.previous_row:
            ws._write_single_row(row)
        ws.table[row][col] = CellFormulaTuple(text[1:], fmt, value)

    def span(self, row, first_col, last_col):
        self.ws._check_dimensions(row, first_col)
        self.ws._check_dimensions(row, last_col)


def discard(wb) -> None:
    """Close the temporary files of a workbook that will never be closed (a failure half-way):
    constant_memory keeps one open per sheet, and the folder they are in is about to go."""
    for ws in wb.worksheets():
        fh = getattr(ws, "row_data_fh", None)
        if fh is not None and not fh.closed:
            fh.close()

"""The one place that touches XlsxWriter's private names.

XlsxWriter's `write_formula` re-parses each formula for future functions
(~40 regular-expression passes per cell); xlgd's formulas use none, so
`FastRows` stores the cell directly, doing what `write_formula` does after
that parse (benchmarks/generate.py measures the writer against bare
XlsxWriter). It reaches into `Worksheet.table`, `Worksheet._write_single_row`,
`Worksheet._check_dimensions` and `CellFormulaTuple` (and, for docProps/app.xml,
`Workbook._get_packager` and `Packager._write_app_file`), which is why it is
pinned: written against XlsxWriter `XLSXWRITER_VERSION`, pyproject.toml asks
for exactly that version, and tests/test_workbook.py fails when another one
is installed -- an upgrade is a deliberate change: read this module against
the new version's worksheet.py, then move both pins.
"""

from __future__ import annotations

from io import StringIO
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.packager import Packager
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




class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's Workbook, but docProps/app.xml names the program that wrote the file.

    XlsxWriter writes `<Application>Microsoft Excel</Application>` and
    `<AppVersion>12.0000</AppVersion>` into every file; a workbook xlgd wrote
    says `xlgd` and xlgd's version instead (`application`, `app_version`:
    AppVersion keeps the XX.YYYY form ECMA-376 gives for it). `_get_packager`
    is XlsxWriter's hook for its packager; the override rewrites the app.xml
    part it has just written and leaves every other part alone."""

    def __init__(self, filename, options=None, *, application="xlgd", app_version="00.0000"):
        super().__init__(filename, options)
        self.xlgd_app = (application, app_version)

    def _get_packager(self):
        return _AppPackager(*self.xlgd_app)


class _AppPackager(Packager):
    def __init__(self, application, app_version):
        super().__init__()
        self.xlgd_app = (application, app_version)

    def _write_app_file(self):
        super()._write_app_file()
        for i, (where, name, binary) in enumerate(self.filenames):
            if name == "docProps/app.xml":
                self.filenames[i] = (_rewrite_app(where, *self.xlgd_app), name, binary)


def _rewrite_app(where, application, app_version):
    """app.xml (a temporary file, or a StringIO when in_memory) with our Application and AppVersion."""
    if isinstance(where, StringIO):
        text = where.getvalue()
    else:
        with open(where, encoding="utf-8") as f:
            text = f.read()
    text = text.replace("<Application>Microsoft Excel</Application>",
                        f"<Application>{escape(application)}</Application>")
    text = text.replace("<AppVersion>12.0000</AppVersion>", f"<AppVersion>{escape(app_version)}</AppVersion>")
    if isinstance(where, StringIO):
        return StringIO(text)
    with open(where, "w", encoding="utf-8") as f:
        f.write(text)
    return where

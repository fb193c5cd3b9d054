"""The one place that touches XlsxWriter's private names.

XlsxWriter's `write_formula` re-parses each formula for future functions
(~40 regular-expression passes per cell); xlgd's formulas use none, so
`FastRows` stores the cell directly, doing what `write_formula` does after
that parse (benchmarks/generate.py measures the writer against bare
XlsxWriter). It reaches into `Worksheet.table`, `Worksheet._write_single_row`,
`Worksheet._check_dimensions` and `CellFormulaTuple` (and, for docProps/app.xml and
the chart parts, `Workbook._get_packager`, `Packager._write_app_file`,
`Packager._write_chart_files` and `Packager.filenames`), which is why it is
pinned: written against XlsxWriter `XLSXWRITER_VERSION`, pyproject.toml asks
for exactly that version, and tests/test_workbook.py fails when another one
is installed -- an upgrade is a deliberate change: read this module against
the new version's worksheet.py, then move both pins.
"""

from __future__ import annotations

import re
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


def discard(wb) -> None:
    """Close the temporary files of a workbook that will never be closed (a failure half-way):
    constant_memory keeps one open per sheet, and the folder they are in is about to go."""
    for ws in wb.worksheets():
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
    the pixels. `_get_packager` is XlsxWriter's hook for its packager."""

    def __init__(self, filename, options=None, *, application="xlgd", app_version="00.0000"):
        super().__init__(filename, options)
        self.xlgd_app = (application, app_version)

    def _get_packager(self):
        return _XlgdPackager(*self.xlgd_app)


class _XlgdPackager(Packager):
    def __init__(self, application, app_version):
        super().__init__()
        self.xlgd_app = (application, app_version)

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
                  text, flags=re.S)
    if "<c:dispBlanksAs" not in text:
        text = re.sub(r"(<c:plotVisOnly [^>]*/>)", r'\1<c:dispBlanksAs val="gap"/>', text, count=1)
    # Namespace declarations first, as lxml writes them: `charts regenerate` compares a chart it
    # parsed and wrote back with the one in the file, and an attribute order is no change.
    return re.sub(r'<c:ext (uri="[^"]*") (xmlns:\w+="[^"]*")>', r"<c:ext \2 \1>", text)


def _edit_part(where, edit):
    """Apply edit(text) to a part XlsxWriter wrote: a temporary file, or a StringIO when in_memory."""
    if isinstance(where, StringIO):
        return StringIO(edit(where.getvalue()))
    with open(where, encoding="utf-8") as f:
        text = f.read()
    with open(where, "w", encoding="utf-8") as f:
        f.write(edit(text))
    return where

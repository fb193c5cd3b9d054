"""Where generated charts sit: beside the top of the step table, never on top of each other.

Read from the drawing XML of freshly generated workbooks, one per shipped
template (XlsxWriter writes every chart as a twoCellAnchor: the cell and
EMU offset of its top-left and bottom-right corners)."""

from pathlib import Path

import pytest
from lxml import etree

from xlgd.book.charts import chart_specs
from xlgd.layout import HEADER_ROW, Layout
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.package import Package

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p.stem for p in (REPO / "templates").glob("*.toml"))
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"


def corner(el):
    """(col, colOff, row, rowOff) of an xdr:from / xdr:to element, 0-based cells."""
    return tuple(int(el.find(XDR + t).text) for t in ("col", "colOff", "row", "rowOff"))


def anchors(book: Package, sheet: str) -> list:
    """[(from, to)] of every anchored object on a sheet's drawing, in drawing order."""
    rels = book.rels(book.sheet_part(sheet))
    drawing = next((p for t, p in rels.values() if t == "drawing"), None)
    if drawing is None:
        return []
    root = etree.fromstring(book.part(drawing))
    return [(corner(a.find(XDR + "from")), corner(a.find(XDR + "to"))) for a in root
            if etree.QName(a).localname == "twoCellAnchor"]


def overlap(a, b) -> bool:
    (af, at), (bf, bt) = a, b
    cols = af[:2] < bt[:2] and bf[:2] < at[:2]
    rows = af[2:] < bt[2:] and bf[2:] < at[2:]
    return cols and rows


@pytest.fixture(scope="module", params=TEMPLATES)
def generated(request, shipped_books):
    return load_recipe(request.param), shipped_books[request.param]


def test_templates_are_found():
    assert {"graddesc", "lr-sweep", "momentum-sine", "two-neuron"} <= set(TEMPLATES)


def test_no_two_charts_overlap(generated):
    recipe, path = generated
    seen = 0
    with Package.open(path) as book:
        for sheet in book.worksheet_names:
            got = anchors(book, sheet)
            seen += len(got)
            for i, a in enumerate(got):
                assert a[0] < a[1], (sheet, a)
                for j, b in enumerate(got[:i]):
                    assert not overlap(a, b), f"{path.name} {sheet}: chart {j + 1} {b} and chart {i + 1} {a} overlap"
    assert seen >= 4 * len(recipe.sheets)


def test_step_sheet_charts_start_beside_the_top_of_the_step_table(generated):
    recipe, path = generated
    with Package.open(path) as book:
        for spec in recipe.sheets:
            header = book.values(spec.name, (HEADER_ROW, HEADER_ROW))
            assert header.get((HEADER_ROW, 1)) == "step", spec.name     # the premise: the step table's header row
            last = max(c for (r, c), v in header.items() if r == HEADER_ROW and v is not None)
            got = anchors(book, spec.name)
            n = len(chart_specs(Layout(spec)))  # the charts the writer was asked for
            assert len(got) == n >= 4, spec.name
            (col, col_off, row, row_off), _ = got[0]
            # 0-based anchor: row HEADER_ROW - 1 is the header row; one empty column after the epoch block.
            assert (row, row_off) == (HEADER_ROW - 1, 0), (spec.name, got[0])
            assert col == last + 1 and col_off == 0, (spec.name, last, got[0])
            # The others below it in the same column, in order.
            assert [a[0][0] for a in got] == [col] * n
            assert all(got[k][1][2:] < got[k + 1][0][2:] for k in range(n - 1)), (spec.name, got)

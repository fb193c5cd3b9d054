"""Charts that don't lie when training explodes: gaps not zeros, readable axes, distinct colours."""

import re
import zipfile

import pytest
from lxml import etree

from xlgd.book.charts import palette
from xlgd.book.xlsxwriter_fast import explicit_chart_xml
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.package import Package
from xlgd.xlsx.refs import parse_cell

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TEMPLATES = ("graddesc", "two-neuron", "lr-sweep", "momentum-sine")


@pytest.fixture(scope="module")
def books(shipped_books):
    """Every shipped template: {template: path} (tests/conftest.py)."""
    assert set(TEMPLATES) <= set(shipped_books)
    return shipped_books


def charts(path):
    """[(part, chart root)] of a workbook, in part order."""
    with zipfile.ZipFile(path) as z:
        names = sorted((n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)),
                       key=lambda n: int(re.search(r"\d+", n).group()))
        return [(n, etree.fromstring(z.read(n))) for n in names]


def title(root) -> str:
    return "".join(t.text or "" for t in root.find(f"{C}chart/{C}title").iter(f"{A}t"))


def series_colour(ser) -> str:
    line = ser.find(f"{C}spPr/{A}ln/{A}solidFill/{A}srgbClr")
    if line is not None:
        return line.get("val")
    return ser.find(f"{C}marker/{C}spPr/{A}solidFill/{A}srgbClr").get("val")


def first_formula(book: Package, ref: str) -> str:
    """The formula of the first cell of a chart reference like sheet!$E$7:$E$93."""
    sheet, cells = ref.rsplit("!", 1)
    row, col = parse_cell(cells.split(":")[0])
    for cell in book.cells(sheet.strip("'")):
        if (cell.row, cell.col) == (row, col):
            return cell.formula or ""
    return ""


@pytest.mark.slow
def test_series_of_one_chart_have_distinct_colours(books):
    for name, path in books.items():
        for part, root in charts(path):
            colours = [series_colour(s) for s in root.iter(f"{C}ser")]
            assert len(set(colours)) == len(colours), f"{name} {part} {title(root)!r}: {colours}"
    # The sweep's seven learning rates, and an mlp's thirteen weights, each in a colour of its own.
    assert len(set(palette(13))) == 13 and len(set(palette(200))) == 200
    sweep = [r for _, r in charts(books["lr-sweep"]) if "each learning rate" in title(r)][0]
    assert len(list(sweep.iter(f"{C}ser"))) == 7


@pytest.mark.slow
def test_charts_that_can_explode_draw_gaps_on_a_readable_axis(books):
    """Every series that xlgd computes is drawn from a cell holding NA() where it is an error (a gap in
    Excel, and in LibreOffice's scatter charts; a line chart would draw it as 0), on a log axis or
    clipped to +-chart_max. The exceptions draw what cannot explode: the data y, and the sine sheet."""
    checked = 0
    for name, path in books.items():
        with Package.open(path) as book:
            for part, root in charts(path):
                assert root.find(f".//{C}lineChart") is None, f"{name} {part}: a line chart draws #N/A as 0"
                assert root.find(f"{C}chart/{C}dispBlanksAs").get("val") == "gap"
                log = root.find(f".//{C}valAx/{C}scaling/{C}logBase") is not None
                for ser in root.iter(f"{C}ser"):
                    ref = ser.find(f"{C}yVal/{C}numRef/{C}f").text
                    formula = first_formula(book, ref)
                    if ref.startswith("sine!") or formula.startswith("data!"):
                        continue
                    assert "NA()" in formula, f"{name} {title(root)!r}: {ref} holds {formula!r}"
                    assert log or "chart_max" in formula, f"{name} {title(root)!r}: {ref} is neither log nor clipped"
                    checked += 1
    assert checked > 100


def test_an_exploded_epoch_is_a_gap_in_the_cached_points(books):
    """linear2 overflows in epoch 1: the error-per-epoch chart caches epoch 1 and nothing for epochs 2 and 3."""
    path = books["two-neuron"]
    part = next(p for p, r in charts(path)
                if title(r) == "Error per epoch (log scale)" and "linear2!" in r.find(f".//{C}yVal//{C}f").text)
    root = dict(charts(path))[part]
    cache = root.find(f".//{C}yVal/{C}numRef/{C}numCache")
    assert cache.find(f"{C}ptCount").get("val") == "3"
    assert [pt.get("idx") for pt in cache.iter(f"{C}pt")] == ["0"]
    assert float(cache.find(f"{C}pt/{C}v").text) > 1e30


def test_explicit_chart_xml_says_what_xlsxwriter_leaves_to_excel_2007s_defaults():
    xml = ('<c:chartSpace><c:chart><c:plotArea><c:scatterChart><c:ser><c:idx val="0"/></c:ser>'
           '<c:ser><c:idx val="1"/><c:smooth val="1"/></c:ser></c:scatterChart></c:plotArea>'
           '<c:plotVisOnly val="1"/><c:extLst><c:ext uri="{X}" xmlns:c16r3="u"></c:ext></c:extLst></c:chart></c:chartSpace>')
    out = explicit_chart_xml(xml)
    assert out.count('<c:smooth val="0"/>') == 1 and out.count('<c:smooth val="1"/>') == 1
    assert '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>' in out
    assert '<c:ext xmlns:c16r3="u" uri="{X}">' in out  # the order lxml writes: regenerate sees no change
    assert explicit_chart_xml(out) == out


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_draws_the_charts_as_it_would_for_excel_2007(tmp_path):
    """Our app.xml names xlgd, not "Microsoft Excel 12", so LibreOffice does not fill the chart elements
    XlsxWriter leaves out with Excel 2007's defaults (it does for a file naming Excel 12: smoothed lines,
    #N/A drawn as 0, minor ticks). With those elements written out the pictures are the same pixels either way."""
    import shutil

    from PIL import Image, ImageChops

    from xlgd.charts.render import render_book
    from xlgd.recipe.template import Overrides

    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    ours = tmp_path / "ours.xlsx"
    build(load_recipe("two-neuron", Overrides(epochs=2)), ours)
    excel = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(ours) as zin, zipfile.ZipFile(excel, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/app.xml":
                data = re.sub(rb"<Application>[^<]*</Application>", b"<Application>Microsoft Excel</Application>",
                              data)
                data = re.sub(rb"<AppVersion>[^<]*</AppVersion>", b"<AppVersion>12.0000</AppVersion>", data)
                assert b"Microsoft Excel" in data
            zout.writestr(info, data)
    a = render_book(ours, tmp_path / "a").paths
    b = render_book(excel, tmp_path / "b").paths
    assert len(a) == len(b) == 6 * 5 + 2
    for pa, pb in zip(sorted(a), sorted(b)):
        ia, ib = Image.open(pa).convert("RGB"), Image.open(pb).convert("RGB")
        assert ia.size == ib.size and ImageChops.difference(ia, ib).getbbox() is None, (pa, pb)


def test_every_model_sheet_charts_a_derivative_per_step_with_its_momentum(books):
    """The forum's "derivative with and without momentum", on every sheet: the last weight's gradient
    (the one the optimiser reads: analytic, or the forward-difference estimate) and its momentum."""
    from xlgd.layout import Layout

    want = {("graddesc", "basic"): ["g_b"], ("graddesc", "momentum"): ["g_b", "m_b"],
            ("graddesc", "rmsprop"): ["g_b"], ("graddesc", "adam"): ["g_b", "m_b"],
            ("two-neuron", "linear2"): ["g_d"], ("two-neuron", "linear2_fd"): ["est_d"],
            ("two-neuron", "relu2_mom"): ["g_d", "m_d"], ("momentum-sine", "relu_mom"): ["g_d", "m_d"]}
    for (name, sheet), cols in want.items():
        spec = next(s for s in load_recipe(name).sheets if s.name == sheet)
        lay = Layout(spec)
        found = [r for _, r in charts(books[name]) if title(r).startswith("Derivative per step")
                 and f"{sheet}!" in r.find(f".//{C}yVal//{C}f").text
                 and r.find(f".//{C}yVal//{C}f").text.split("!")[0] == sheet]
        assert len(found) == 1, (name, sheet)
        refs = [s.find(f"{C}yVal/{C}numRef/{C}f").text for s in found[0].iter(f"{C}ser")]
        assert refs == [lay.column_range(c + "_chart") for c in cols], (name, sheet, refs)
        assert ("and its momentum" in title(found[0])) == (len(cols) == 2)

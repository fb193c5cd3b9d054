"""`xlgd charts render`: PNGs a person can look at, with visible axis labels."""

import shutil

import pytest

from tests.test_charts_helpers import (
    EXPECTED_X,
    X,
    build_book,
    category_labels,
    cli_main,
    drop_member,
    edit_member,
    learner_sgd,
)
from xlgd.charts.render import render_book

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")

pytestmark = [
    pytest.mark.libreoffice, pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed"),
]


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def dark(png):
    """Boolean mask of text-dark pixels (axis labels, titles); gridlines and series are lighter or coloured."""
    a = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return (a < 110).all(axis=2)


def label_bands(png):
    """Dark pixels where category labels (bottom 15%) and value labels (left 10%) sit."""
    m = dark(png)
    h, w = m.shape
    return int(m[int(h * 0.85):].sum()), int(m[:, : int(w * 0.10)].sum())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    book = build_book(tmp / "broken.xlsm")
    fixed = tmp / "fixed.xlsm"
    assert cli_main(["charts", "fix", str(book), "-o", str(fixed), "--scatter"]) == 0
    out = {}
    for name, path in (("broken", book), ("fixed", fixed)):
        d = tmp / name
        # Called directly so a LibreOffice failure shows its own message.
        done = render_book(path, d)
        assert done.repairs == [], done.repairs
        out[name] = {p.name: p for p in d.glob("*.png")}
        assert sorted(out[name].values()) == sorted(done.paths)
    return out


def test_one_png_per_chart_none_blank(rendered):
    for which in ("broken", "fixed"):
        pngs = rendered[which]
        assert len(pngs) == len(EXPECTED_X), which
        for p in pngs.values():
            img = Image.open(p)
            assert img.width > 300 and img.height > 200
            assert dark(p).mean() > 0.002, p.name


def test_fixed_axes_show_labels_hidden_ones_did_not(rendered):
    # The "hidden axes" chart is the fifth one, on the sgd sheet.
    before = label_bands(rendered["broken"]["sgd-chart5.png"])
    after = label_bands(rendered["fixed"]["sgd-chart5.png"])
    assert after[0] > 200 and after[1] > 200, after
    assert before[0] * 5 < after[0] and before[1] * 5 < after[1], (before, after)


def test_every_fixed_chart_has_category_labels(rendered):
    for name, p in rendered["fixed"].items():
        bottom, left = label_bands(p)
        assert bottom > 200 and left > 200, (name, bottom, left)


@pytest.mark.graddesc
def test_render_graddesc(tmp_path, capsys, reference_xlsm):
    book = shutil.copyfile(reference_xlsm, tmp_path / "graddesc.xlsm")
    rc, out, _ = run(capsys, "charts", "render", str(book), "-o", str(tmp_path / "png"))
    assert rc == 0
    (png,) = (tmp_path / "png").glob("*.png")
    assert png.name == "basic-chart1.png" and str(png) in out
    bottom, left = label_bands(png)
    assert bottom > 200 and left > 200


def test_render_book_without_charts(tmp_path, capsys):
    import xlsxwriter
    p = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet().write("A1", 1)
    wb.close()
    rc, out, _ = run(capsys, "charts", "render", str(p), "-o", str(tmp_path / "png"))
    assert rc == 0 and "no charts" in out


def test_fixed_learner_chart_reads_the_step_numbers(tmp_path, capsys):
    # The learner's table shows epoch 2: steps 30..58. Unlinked, the axis reads 1..29; linked to the
    # data x it would read 99, 14, 86...; linked to the step column it reads the step numbers.
    first = 30
    book = learner_sgd(tmp_path / "learner.xlsx", first_step=first)
    fixed = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 0, text
    labels = {}
    for name, path in (("broken", book), ("fixed", fixed)):
        rc, out, _ = run(capsys, "charts", "render", str(path), "-o", str(tmp_path / name), "--format", "emf")
        assert rc == 0, out
        (emf,) = (tmp_path / name).glob("*.emf")
        labels[name] = category_labels(emf)
    steps = range(first, first + len(X))
    assert labels["broken"][0] == 1 and all(v <= len(X) for v in labels["broken"]), labels["broken"]
    got = labels["fixed"]
    assert len(got) >= 8 and got[0] == first and got == sorted(got), got
    assert all(v.is_integer() and int(v) in steps for v in got), got
    assert got[-1] >= steps[-1] - 4, got
    assert not set(got) & (set(X) - set(steps))     # no data x value that is not also a step number


def test_render_reports_a_missing_chart_part(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    drop_member(book, "xl/charts/chart3.xml")
    rc, out, _ = run(capsys, "charts", "render", str(book), "-o", str(tmp_path / "png"))
    assert rc == 1, out
    assert "repaired: sgd: xl/charts/chart3.xml: the chart part is missing" in out
    assert len(list((tmp_path / "png").glob("*.png"))) == len(EXPECTED_X)   # the rest is still drawn


def test_render_reports_charts_libreoffice_did_not_load(tmp_path, capsys):
    book = build_book(tmp_path / "b.xlsx")
    # The sgd sheet's XML cut short (a copy that stopped half way): LibreOffice loads the sheet
    # without its six charts and says nothing.
    edit_member(book, "xl/worksheets/sheet2.xml", lambda xml: xml[: len(xml) // 2])
    rc, out, _ = run(capsys, "charts", "render", str(book), "-o", str(tmp_path / "png"))
    assert rc == 1, out
    assert "sheet 'sgd': LibreOffice loaded 0 of the 6 charts the file has" in out


def test_unsorted_line_made_scatter_shows_its_points(tmp_path, capsys):
    # openpyxl's line series hides its markers (symbol "none"); as a scatter without the line the
    # points must be drawn, in colour (LibreOffice drew the hidden marker's style white on white).
    book = learner_sgd(tmp_path / "learner.xlsx", fit_chart=True)
    fixed = tmp_path / "fixed.xlsx"
    rc, text, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 0 and "scatter" in text, text
    rc, out, _ = run(capsys, "charts", "render", str(fixed), "-o", str(tmp_path / "png"))
    assert rc == 0, out
    a = np.asarray(Image.open(tmp_path / "png" / "sgd-chart2.png").convert("RGB")).astype(int)
    coloured = (a.max(axis=2) - a.min(axis=2)) > 60      # saturated pixels: the series, not text or grid
    h, w = coloured.shape
    plot = coloured[: int(h * 0.9), : int(w * 0.8)]      # leave out the legend on the right
    assert plot.sum() > 20 * len(X), plot.sum()           # 29 points of several pixels each


def _series_pixels(png, rgb=(0x1F, 0x77, 0xB4)):
    """Pixels of the first series' colour (tab10's first): the line or markers LibreOffice drew."""
    a = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int((np.abs(a - np.array(rgb)).sum(axis=2) < 60).sum())


def test_charts_without_cached_points_are_drawn_from_the_cells(tmp_path, monkeypatch):
    """A sheet past CACHE_POINTS steps gets charts with no <c:numCache>: LibreOffice draws them
    from the cells, as it draws the cached ones (here CACHE_POINTS is cut to 100 to keep it quick)."""
    import zipfile

    from xlgd.book import write
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    recipe = load_recipe("graddesc", Overrides(epochs=5))  # 145 steps a sheet
    build(recipe, tmp_path / "cached.xlsx")
    monkeypatch.setattr(write, "CACHE_POINTS", 100)
    build(recipe, tmp_path / "bare.xlsx")
    with zipfile.ZipFile(tmp_path / "bare.xlsx") as z:
        charts = [z.read(n) for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert charts and not any(b"numCache" in c for c in charts)
    with zipfile.ZipFile(tmp_path / "cached.xlsx") as z:
        assert all(b"numCache" in z.read(n) for n in z.namelist() if n.startswith("xl/charts/chart"))
    drawn = {}
    for name in ("cached", "bare"):
        render_book(tmp_path / f"{name}.xlsx", tmp_path / name)
        drawn[name] = {p.name: _series_pixels(p) for p in (tmp_path / name).glob("basic-*.png")}
    assert len(drawn["bare"]) == 5 and drawn["bare"].keys() == drawn["cached"].keys()
    for chart, n in drawn["cached"].items():
        assert n > 200, (chart, n)  # the series is there ...
        assert abs(drawn["bare"][chart] - n) <= 0.05 * n, (chart, drawn)  # ... and just as drawn without a cache

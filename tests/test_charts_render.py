"""`xlgd charts render`: PNGs a person can look at, with visible axis labels."""

import shutil

import pytest

try:
    from .test_charts_helpers import EXPECTED_X, build_book, cli_main
except ImportError:  # tests/ run as plain modules, not a package
    from test_charts_helpers import EXPECTED_X, build_book, cli_main

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
        written = render_book(path, d)
        out[name] = {p.name: p for p in d.glob("*.png")}
        assert sorted(out[name].values()) == sorted(written)
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

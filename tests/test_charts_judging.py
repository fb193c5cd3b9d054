"""`charts check` judges an x that is there, and `fix` puts it right: by what the reader of the chart sees.

Books are built as learners meet them: xlgd's graddesc with a chart's link edited inside the zip
(as Excel's "Select Data" box leaves it), and openpyxl sheets (no cached values unless typed).
"""

import random
import re
import shutil

import openpyxl
import pytest
from openpyxl.chart import LineChart, Reference, ScatterChart, Series

from tests.test_charts_helpers import cli_main, edit_member, generate_graddesc
from xlgd.charts.check import check_book
from xlgd.charts.model import read_charts
from xlgd.xlsx.package import Package


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def problems_of(path):
    """{(sheet, chart title): [(code, message)]} of the problems (not notes) `check` finds."""
    with Package.open(path) as b:
        return {(ch.sheet, ch.title): [(i.code, i.message) for i in iss if i.is_problem] for ch, iss in check_book(b)}


def links_of(path):
    """{(sheet, title): [(x formula, values formula)]}."""
    with Package.open(path) as b:
        return {(ch.sheet, ch.title): [(s.cats.formula, s.values.formula) for s in ch.series]
                for ch in read_charts(b)}


def chart_part(path, sheet, title_start):
    with Package.open(path) as b:
        return next(ch.part for ch in read_charts(b) if ch.sheet == sheet and ch.title.startswith(title_start))


def relink(path, part, old, new, count=0):
    """Point the chart's <c:f>old</c:f> at new, as a learner's edit of the series' x leaves it."""
    def edit(xml):
        out, n = re.subn(b"<c:f>" + re.escape(old.encode()) + b"</c:f>", b"<c:f>" + new.encode() + b"</c:f>",
                         xml, count=count)
        assert n, (old, part)
        return out
    edit_member(path, part, edit)


@pytest.fixture(scope="module")
def graddesc(tmp_path_factory):
    return generate_graddesc(tmp_path_factory.mktemp("judge") / "graddesc.xlsx", epochs=2)


def broken_graddesc(graddesc, path):
    """The issue's edits: "Error per step" against the data x, the fit's data series against y."""
    shutil.copy(graddesc, path)
    links = links_of(path)
    err = next(v for (sh, t), v in links.items() if sh == "basic" and t.startswith("Error per step"))
    fit = next(v for (sh, t), v in links.items() if sh == "basic" and t.startswith("Fit in epoch"))
    step_x, step_y = err[0]
    fit_x, fit_y = fit[0]
    data_x = step_y.split("!")[0] + "!$C$" + step_x.split("$")[-3].rstrip(":") + ":$C$" + step_x.split("$")[-1]
    relink(path, chart_part(path, "basic", "Error per step"), step_x, data_x)
    relink(path, chart_part(path, "basic", "Fit in epoch"), fit_x, fit_y, count=1)
    return path, {"err": (data_x, step_x), "fit": (fit_y, fit_x)}


def test_generated_wrong_x_is_named_and_relinked(graddesc, tmp_path, capsys):
    book, want = broken_graddesc(graddesc, tmp_path / "edited.xlsx")
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1, out
    found = problems_of(book)
    err = dict(next(v for (sh, t), v in found.items() if sh == "basic" and t.startswith("Error per step")))
    fit = dict(next(v for (sh, t), v in found.items() if sh == "basic" and t.startswith("Fit in epoch")))
    have, should = want["err"]
    assert have in err["wrong-x"] and should in err["wrong-x"] and "err^2" in err["wrong-x"]
    assert "scribble" in err   # lines through the unsorted data x
    have, should = want["fit"]
    assert have in fit["wrong-x"] and should in fit["wrong-x"] and "data y" in fit["wrong-x"]
    fixed = tmp_path / "fixed.xlsx"
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 0, out
    assert links_of(fixed) == links_of(graddesc)
    rc, out, _ = run(capsys, "charts", "check", str(fixed))
    assert rc == 0, out


def test_generated_book_as_written_has_no_wrong_x(graddesc):
    assert not any(c in ("wrong-x", "scribble") for v in problems_of(graddesc).values() for c, _ in v)


def learner_book(path, fit_x_col=3, err_x_col=2, two_x=False):
    """A learner's openpyxl sheet: step, x, y, pred, err² typed in (as values, so a reader can judge
    them), an "err² per step" scatter with lines and a "fit against x" scatter of markers."""
    random.seed(7)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sgd"
    ws.append(["step", "x", "y", "pred", "err²"] + (["x2"] if two_x else []))
    for i in range(30):
        x = random.randint(1, 99)
        ws.append([i + 1, x, 2 * x + 30, 1.5 * x + 20 + i, (0.5 * x + 10 - i) ** 2] + ([x + 0.5] if two_x else []))
    err = ScatterChart()
    err.title = "err² per step"
    err.series.append(Series(Reference(ws, min_col=5, min_row=2, max_row=31),
                             Reference(ws, min_col=err_x_col, min_row=2, max_row=31), title="err²"))
    ws.add_chart(err, "H2")
    fit = ScatterChart()
    fit.title = "fit against x"
    s = Series(Reference(ws, min_col=3, min_row=2, max_row=31), Reference(ws, min_col=fit_x_col, min_row=2, max_row=31),
               title="data y")
    s.graphicalProperties.line.noFill = True
    s.marker.symbol = "circle"
    fit.series.append(s)
    ws.add_chart(fit, "H20")
    wb.save(path)
    return path


def test_learner_wrong_x_by_the_sheets_words(tmp_path, capsys):
    book = learner_book(tmp_path / "learner.xlsx")
    found = problems_of(book)
    err, fit = dict(found[("sgd", "err² per step")]), dict(found[("sgd", "fit against x")])
    assert "sgd!$B$2:$B$31" in err["wrong-x"] and "sgd!$A$2:$A$31" in err["wrong-x"]
    assert "themselves" in fit["wrong-x"] and "sgd!$B$2:$B$31" in fit["wrong-x"]
    fixed = tmp_path / "fixed.xlsx"
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 0, out
    links = links_of(fixed)
    assert links[("sgd", "err² per step")][0][0] == "sgd!$A$2:$A$31"
    assert links[("sgd", "fit against x")][0][0] == "sgd!$B$2:$B$31"
    assert run(capsys, "charts", "check", str(fixed))[0] == 0


def test_a_right_x_is_left_alone(tmp_path):
    book = learner_book(tmp_path / "learner.xlsx", fit_x_col=2, err_x_col=1)
    codes = {c for v in problems_of(book).values() for c, _ in v}
    assert codes == {"missing-cache"}   # openpyxl writes no cached points; the links are right


def test_split_evidence_is_named_and_left(tmp_path, capsys):
    """A fit drawn against the step, with two x columns holding different numbers: fix cannot tell which."""
    book = learner_book(tmp_path / "learner.xlsx", fit_x_col=1, err_x_col=1, two_x=True)
    msg = dict(problems_of(book)[("sgd", "fit against x")])["wrong-x"]
    assert "sgd!$B$2:$B$31" in msg and "sgd!$F$2:$F$31" in msg and "fix leaves it" in msg
    fixed = tmp_path / "fixed.xlsx"
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert "sgd!$F$2:$F$31" in out and fixed.exists()   # caches were filled; the x was not chosen
    assert links_of(book) == links_of(fixed)
    rc, out, _ = run(capsys, "charts", "check", str(fixed))
    assert rc == 1 and "wrong-x" in out   # still true after fix: nobody chose


def test_scribble_is_drawn_as_points(tmp_path, capsys):
    """A curve with no words saying what it is, drawn with lines over unsorted x: fix keeps the x and
    draws the points alone; a markers-only series over the same x is no problem."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["u", "v"])
    for u in (5, 1, 4, 2, 3, 0):
        ws.append([u, u * u])
    ch = ScatterChart()
    ch.title = "v and u"
    ch.series.append(Series(Reference(ws, min_col=2, min_row=2, max_row=7), Reference(ws, min_col=1, min_row=2,
                                                                                       max_row=7)))
    ws.add_chart(ch, "D2")
    book = tmp_path / "curve.xlsx"
    wb.save(book)
    assert [c for c, _ in problems_of(book)[("Sheet", "v and u")] if c != "missing-cache"] == ["scribble"]
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    assert problems_of(fixed)[("Sheet", "v and u")] == []
    assert links_of(fixed) == links_of(book)


# --------------------------------------------------------------------------
# What LibreOffice draws, and what Microsoft's validator says of fix's output


def series_crossings(png, rgb):
    """Pixel columns where the series colour shows as more than two separate vertical runs: a line
    doubling back across the plot (a scribble) crosses a column many times, a curve once or twice."""
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    a = np.asarray(Image.open(png).convert("RGB")).astype(int)
    m = (abs(a - np.array(rgb)) < 40).all(axis=2)
    n = 0
    for c in range(m.shape[1]):
        col = m[:, c]
        n += int(col[0]) + int((~col[:-1] & col[1:]).sum()) > 2
    return n


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_render_before_and_after_fix(graddesc, tmp_path, capsys):
    from xlgd.charts.render import render_book

    book, _ = broken_graddesc(graddesc, tmp_path / "edited.xlsx")
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    part = chart_part(book, "basic", "Error per step").rsplit("/", 1)[-1][:-4]
    pngs = {}
    for name, path in (("before", book), ("after", fixed)):
        done = render_book(path, tmp_path / name)
        assert done.repairs == []
        pngs[name] = next(p for p in done.paths if p.name == f"basic-{part}.png")
    blue = (0x1F, 0x77, 0xB4)
    before, after = series_crossings(pngs["before"], blue), series_crossings(pngs["after"], blue)
    assert before > 100 and after < 10, (before, after)


@pytest.mark.slow
@pytest.mark.ooxml
def test_fix_output_passes_the_open_xml_validator(graddesc, tmp_path, capsys):
    try:
        from .ooxml_helpers import validate
    except ImportError:
        from ooxml_helpers import validate
    learner = learner_book(tmp_path / "learner.xlsx")
    books = {"gen": broken_graddesc(graddesc, tmp_path / "edited.xlsx")[0], "learner": learner,
             "smooth": smoothed_learner(tmp_path / "smooth.xlsx"), "log": log_learner(tmp_path / "log.xlsx")}
    outs = {}
    for name, book in books.items():
        outs[name] = tmp_path / f"{name}-fixed.xlsx"
        assert run(capsys, "charts", "fix", str(book), "-o", str(outs[name]))[0] == 0
    got = validate(list(outs.values()) + [learner])
    assert got[str(outs["gen"])] == [], got
    # openpyxl's own styles part draws a finding the fix leaves as it is; no chart finding remains.
    for name in ("learner", "smooth", "log"):
        assert not any("chart" in line.lower() for line in got[str(outs[name])]), got
        assert set(got[str(outs[name])]) <= set(got[str(learner)]), got


# --------------------------------------------------------------------------
# Problem or note by what the reader sees: smoothing, and 1..n that are the step numbers

ERRS = [900, 400, 30, 0.5, 200, 5, 0.1, 80, 1, 0.2, 60, 0.3, 0.1, 40, 0.2]


def smoothed_learner(path, title="err² per step", header="err²", values=ERRS, smooth=True, first_step=1):
    """A learner's openpyxl line chart of typed values beside a step column, no x link."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sgd"
    ws.append(["step", header])
    for i, e in enumerate(values):
        ws.append([i + first_step, e])
    ch = LineChart()
    ch.title = title
    ch.add_data(Reference(ws, min_col=2, min_row=1, max_row=len(values) + 1), titles_from_data=True)
    ch.series[0].smooth = smooth
    ws.add_chart(ch, "D2")
    wb.save(path)
    return path


def test_smoothed_error_is_a_problem_fix_turns_off(tmp_path, capsys):
    book = smoothed_learner(tmp_path / "smooth.xlsx")
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1 and "! smoothing" in out and "below 0" in out, out
    fixed = tmp_path / "fixed.xlsx"
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(fixed))
    assert rc == 0 and "smoothing turned off" in out, out
    rc, out, _ = run(capsys, "charts", "check", str(fixed))
    assert rc == 0 and "smoothing" not in out, out


@pytest.mark.parametrize("title,header,values,problem", [
    ("loss", "loss", [5.0, 4.0, 3.5, 3.2, 3.0], True),         # smooth curve, but an error all the same
    ("a per step", "a", ERRS, True),                            # no error words, its curve dips below 0
    ("a per step", "a", [5.0, 4.0, 3.5, 3.2, 3.0], False),      # a gentle weight: smoothing draws no lie
    ("a per step", "a", [3.0, -1.0, 2.0, -4.0, 1.0], False),    # goes below 0 itself
], ids=["loss", "dips", "gentle", "signed"])
def test_smoothing_judged_by_what_it_draws(tmp_path, title, header, values, problem):
    book = smoothed_learner(tmp_path / "s.xlsx", title, header, values)
    codes = [c for v in problems_of(book).values() for c, _ in v]
    assert ("smoothing" in codes) == problem, codes


def test_generated_error_chart_smoothed_is_found_and_fixed(graddesc, tmp_path, capsys):
    book = tmp_path / "smooth.xlsx"
    shutil.copy(graddesc, book)
    part = chart_part(book, "basic", "Error per step")
    edit_member(book, part, lambda xml: xml.replace(b'<c:smooth val="0"/>', b'<c:smooth val="1"/>'))
    found = problems_of(book)
    assert [c for (sh, t), v in found.items() for c, _ in v] == ["smoothing"]
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    assert run(capsys, "charts", "check", str(fixed))[0] == 0


def test_categories_1_to_n_that_are_the_steps_are_a_note(tmp_path, capsys):
    """Beside a step column holding exactly 1..n the implicit axis shows the step numbers: exit 0, and
    fix has nothing to link; from a later epoch's step 30 the axis would lie: a problem fix links."""
    book = smoothed_learner(tmp_path / "steps.xlsx", smooth=False)
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert "note implicit-categories" in out and "sgd!$A$2:$A$16" in out, out
    assert [c for v in problems_of(book).values() for c, _ in v] == ["missing-cache"]  # openpyxl writes none
    rc, out, _ = run(capsys, "charts", "fix", str(book), "-o", str(tmp_path / "fixed.xlsx"))
    assert rc == 0 and "linked" not in out, out
    assert links_of(tmp_path / "fixed.xlsx")[("sgd", "err² per step")][0][0] is None
    assert run(capsys, "charts", "check", str(tmp_path / "fixed.xlsx"))[0] == 0
    later = smoothed_learner(tmp_path / "later.xlsx", smooth=False, first_step=30)
    rc, out, _ = run(capsys, "charts", "check", str(later))
    assert rc == 1 and "! no-categories" in out, out
    fixed = tmp_path / "later-fixed.xlsx"
    assert run(capsys, "charts", "fix", str(later), "-o", str(fixed))[0] == 0
    assert links_of(fixed)[("sgd", "err² per step")][0][0] == "sgd!$A$2:$A$16"
    assert run(capsys, "charts", "check", str(fixed))[0] == 0


def plot_gaps(png):
    """Pixel columns between the series' first and last that show none of it (a curve clipped below
    the axis), the legend's right-hand strip left out."""
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    a = np.asarray(Image.open(png).convert("RGB")).astype(int)
    m = (a[..., 2] > a[..., 0] + 60) & (a[..., 2] > a[..., 1] + 30)
    m[:, int(m.shape[1] * 0.85):] = False
    cols = [c for c in range(m.shape[1]) if m[:, c].any()]
    return sum(1 for c in range(cols[0], cols[-1] + 1) if not m[:, c].any())


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_render_smoothing_before_and_after_fix(tmp_path, capsys):
    from xlgd.charts.render import render_book

    book = smoothed_learner(tmp_path / "smooth.xlsx")
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    gaps = {}
    for name, path in (("before", book), ("after", fixed)):
        (png,) = render_book(path, tmp_path / name).paths
        gaps[name] = plot_gaps(png)
    assert gaps["before"] > 50 and gaps["after"] == 0, gaps


# --------------------------------------------------------------------------
# Axes a learner can read: one label format per log axis, no spike flattening a comparison


def log_learner(path):
    """A learner's openpyxl scatter of an exploding err² on a log axis, labelled General (openpyxl's default)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sgd"
    ws.append(["step", "err²"])
    for i in range(40):
        ws.append([i + 1, 1.7 * 10.0 ** (i * 1.2 - 3)])
    ch = ScatterChart()
    ch.title = "err² per step"
    ch.scatterStyle = "lineMarker"
    ch.series.append(Series(Reference(ws, min_col=2, min_row=2, max_row=41),
                            Reference(ws, min_col=1, min_row=2, max_row=41), title="err²"))
    ch.y_axis.scaling.logBase = 10
    ws.add_chart(ch, "D2")
    wb.save(path)
    return path


def log_axes(path):
    """{(sheet, title): [formatCode of each log axis]}."""
    with Package.open(path) as b:
        out = {}
        for ch in read_charts(b):
            codes = []
            for ax in ch.axes:
                if ax.elem.find("{%s}scaling/{%s}logBase" % (C_NS, C_NS)) is not None:
                    fmt = ax.elem.find("{%s}numFmt" % C_NS)
                    codes.append(fmt.get("formatCode") if fmt is not None else None)
            out[(ch.sheet, ch.title)] = codes
        return out


C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def test_learner_log_axis_in_two_formats_is_found_and_fixed(tmp_path, capsys):
    book = log_learner(tmp_path / "log.xlsx")
    rc, out, _ = run(capsys, "charts", "check", str(book))
    assert rc == 1 and "! log-axis-labels" in out and "1E-03 to 1E+45" in out, out
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    assert log_axes(fixed) == {("sgd", "err² per step"): ["0E+00"]}
    assert run(capsys, "charts", "check", str(fixed))[0] == 0


def test_a_log_axis_general_can_show_in_one_format_is_left(tmp_path):
    book = smoothed_learner(tmp_path / "narrow.xlsx", smooth=False)
    edit_member(book, "xl/charts/chart1.xml", lambda xml: xml.replace(
        b"<scaling><orientation", b'<scaling><logBase val="10"/><orientation', 1))
    assert "log-axis-labels" not in [c for v in problems_of(book).values() for c, _ in v]


@pytest.fixture(scope="module")
def two_neuron(tmp_path_factory):
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    path = tmp_path_factory.mktemp("tn") / "two-neuron.xlsx"
    build(load_recipe("two-neuron", Overrides()), path)
    return path


def test_two_neuron_log_axes_have_one_format_and_the_learned_line_is_apart_from_zero(two_neuron, capsys):
    axes = log_axes(two_neuron)
    assert all(codes == ["0E+00"] for codes in axes.values() if codes), axes
    learned = next(k for k in axes if k[0] == "compare" and k[1].startswith("The learned line"))
    assert axes[learned] == ["0E+00"]      # a log axis: one spike cannot flatten the others onto 0
    with Package.open(two_neuron) as b:
        ch = next(c for c in read_charts(b) if (c.sheet, c.title) == learned)
        for s in ch.series:
            pts = [float(v) for v in s.values.points.values() if v is not None]
            assert pts and min(pts) > 0, s.name   # drawn, and above 0 where a log axis draws
    assert run(capsys, "charts", "check", str(two_neuron))[0] == 0


def value_labels(emf):
    """The numeric labels LibreOffice drew that are not along the bottom: the value axis's."""
    try:
        from .test_charts_helpers import category_labels, emf_texts
    except ImportError:
        from test_charts_helpers import category_labels, emf_texts
    bottom = set(category_labels(emf))
    out = []
    for _, _, text in emf_texts(emf):
        t = text.strip()
        try:
            v = float(t.replace(",", ""))
        except ValueError:
            continue
        if v not in bottom or "E" in t:
            out.append(t)
    return out


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_render_log_axis_labels_before_and_after_fix(two_neuron, tmp_path, capsys):
    from xlgd.charts.render import render_book

    book = log_learner(tmp_path / "log.xlsx")
    fixed = tmp_path / "fixed.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(fixed))[0] == 0
    sci = re.compile(r"\d(\.\d+)?E[+-]\d+")
    labels = {}
    for name, path in (("before", book), ("after", fixed)):
        (emf,) = render_book(path, tmp_path / name, fmt="emf").paths
        labels[name] = value_labels(emf)
    assert any(sci.fullmatch(t) for t in labels["before"]) and not all(sci.fullmatch(t) for t in labels["before"])
    assert labels["after"] and all(sci.fullmatch(t) for t in labels["after"]), labels
    # xlgd's own two-neuron book, as generated: every log axis in one format, a few decades a label.
    done = render_book(two_neuron, tmp_path / "tn", fmt="emf")
    logs = {f"{sh}-{part.rsplit('/', 1)[-1][:-4]}.emf" for (sh, t), codes in log_axes(two_neuron).items() if codes
            for part in [_part(two_neuron, sh, t)]}
    for emf in done.paths:
        if emf.name in logs:
            got = value_labels(emf)
            assert 2 <= len(got) <= 12 and all(sci.fullmatch(t) for t in got), (emf.name, got)


def _part(path, sheet, title):
    with Package.open(path) as b:
        return next(ch.part for ch in read_charts(b) if (ch.sheet, ch.title) == (sheet, title))


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_render_of_implicit_steps_is_what_the_step_column_would_draw(tmp_path, capsys):
    """The note's claim, drawn: 1..n beside a step column of 1..n renders as the linked chart does."""
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    from xlgd.charts.render import render_book

    book = smoothed_learner(tmp_path / "steps.xlsx", smooth=False)
    linked = tmp_path / "linked.xlsx"
    assert run(capsys, "charts", "fix", str(book), "-o", str(linked), "--x", "sgd!$A$2:$A$16")[0] == 0
    assert links_of(linked)[("sgd", "err² per step")][0][0] == "sgd!$A$2:$A$16"
    pngs = [render_book(p, tmp_path / p.stem).paths[0] for p in (book, linked)]
    a, b = (np.asarray(Image.open(p).convert("L")).astype(int) for p in pngs)
    assert a.shape == b.shape and (abs(a - b) > 60).mean() < 0.002

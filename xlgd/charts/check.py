"""Checks on a workbook's charts, judged as their reader would see them.

Each check returns `Issue`s; a chart with none plots what its sheet says.
An issue is a *problem* (the chart misleads or is broken; `check` exits 1)
or a *note* (true and worth knowing, but the chart is right or xlgd cannot
do better; exit 0). The codes are stable (the JSON output and `fix` rely on
them):

  problems
  no-categories / no-x-values  no category or x reference, so the axis numbers
                               the points 1..n, while a column of the sheet is
                               the series' x (fix links it), or two columns
                               could be (the message names both as --x)
  wrong-x                      the linked x is not the series' x: xlgd's record
                               of what it wrote, or the sheet's words, say so (a
                               per-step series against the data x, a fit against
                               a counter, values against themselves); fix
                               relinks it, or leaves it naming why
  scribble                     a scatter series draws lines through unsorted x
                               (fix draws its points alone)
  smoothing                    a smoothed series of errors or losses, or one whose
                               smoothed curve dips below 0 where its values never
                               do (fix turns smoothing off)
  log-axis-labels              a log axis labelled "General" over decades that
                               General writes in two formats (1000, 1E+20); fix
                               labels it 0E+00, a label every few decades
  literal-data                 numLit/strLit typed into the chart instead of
                               a link to cells
  length-mismatch              the category/x reference is not as long as
                               the values
  line-over-uneven-x           a line chart over numeric x that is unsorted
                               or unevenly spaced (fix makes it a scatter chart)
  hidden-axis                  an axis has c:delete val="1"
  missing-cache / stale-cache  the cached points a viewer shows before
                               recalculating are absent or differ from the cells
  bad-reference                a reference xlgd cannot read (`(((`, `""`,
                               `A1:B2:C3`, a numRef with no <c:f>) or that points
                               outside the workbook: a missing sheet, a chart
                               sheet, an undefined name, #REF!, another workbook
  missing-part                 a sheet's drawing, or a drawing's chart, is not
                               in the file
  empty-x / empty-values       the category/x or value cells are all empty
  no-values                    a series with no values at all (draws nothing)

  notes
  implicit-categories          no category/x reference, and the step or epoch
                               column beside the values holds 1..n, the numbers
                               the axis shows; or no step, epoch or x column
                               runs along exactly the values' rows: 1..n
                               is the best axis there is (for a per-step or
                               per-epoch series, 1..n are its step or epoch
                               numbers -- graddesc's "Error by epoch")
  unchecked-reference          valid for Excel but not checked cell by cell here:
                               a union of blocks, whole rows or columns, a name
                               computed by a formula (OFFSET...)
  empty-tail                   the last cells of the values are empty (past the
                               sheet's data): the chart leaves room for more points
  missing-cache                when the cells themselves are formulas nobody has
                               calculated (openpyxl writes them so): nothing to
                               cache until a spreadsheet recalculates

Which column is a series' x is decided in `xaxis.py`, from the words and
the shape of the sheet (see its docstring).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..xlsx.package import UNKNOWN, Package
from .model import (
    A,
    Area,
    C,
    Chart,
    Series,
    Source,
    area_values,
    format_value,
    is_number,
    missing_parts,
    read_charts,
    resolve,
)
from .xaxis import XChoice, choose_x, judge_x, series_name

PROBLEM, NOTE = "problem", "note"
RELINK_CODES = ("no-categories", "no-x-values", "literal-data", "length-mismatch", "bad-reference", "empty-x",
                "wrong-x")
ROLE_WORDS = {"val": "values", "yVal": "y values", "cat": "categories", "xVal": "x values", "tx": "series name"}


@dataclass
class Issue:
    code: str
    message: str
    series: int | None = None     # 1-based series number, None = whole chart
    role: str | None = None       # 'val', 'cat', 'xVal', 'yVal', 'tx'
    severity: str = PROBLEM
    choice: XChoice | None = None  # for a missing x: what `xaxis.choose_x` found
    should: Area | None = None     # for a wrong x: the x the evidence names (None: fix leaves it)

    @property
    def is_problem(self) -> bool:
        return self.severity == PROBLEM

    def as_dict(self):
        return {"code": self.code, "severity": self.severity, "series": self.series, "role": self.role,
                "message": self.message}


def _floats_equal(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def numeric_sequence(book: Package, src: Source):
    """The numbers a category/x source holds (cells first, else its cache), or None."""
    vals = None
    if src.area is not None:
        vals = area_values(book, src.area)
    if vals is None or any(v is UNKNOWN for v in vals):
        if not src.points:
            return None
        try:
            vals = [float(src.points[i]) if src.points.get(i) is not None else None
                    for i in range(src.pt_count or (max(src.points) + 1))]
        except ValueError:
            return None
    if not vals or not all(is_number(v) for v in vals):
        return None
    return vals


def spacing_problem(xs) -> str | None:
    """'unsorted' / 'unevenly spaced' / None for a numeric x sequence."""
    if len(xs) < 3:
        return None
    d = [b - a for a, b in zip(xs, xs[1:])]
    if not (all(v >= 0 for v in d) or all(v <= 0 for v in d)):
        return "unsorted"
    scale = max(abs(v) for v in d) or 1.0
    if any(abs(v - d[0]) > 1e-9 * scale for v in d):
        return "unevenly spaced"
    return None


def _preview(xs, n=4) -> str:
    head = ", ".join(format_value(v) for v in xs[:n])
    return head + (", …" if len(xs) > n else "")


def cache_issue(book: Package, src: Source, series: int) -> Issue | None:
    """Compare a reference's cache with the cells it points at."""
    if src.kind not in ("numRef", "strRef") or src.area is None:
        return None
    what = ROLE_WORDS[src.role]
    vals = area_values(book, src.area)
    if vals is None:
        return None  # bad-reference says it better
    if not src.has_cache:
        if all(v is UNKNOWN or v is None for v in vals):
            # openpyxl writes formulas without values: there is nothing to cache until a spreadsheet calculates.
            return Issue("missing-cache", f"{what} {src.formula} have no cached points, and their cells are "
                         "formulas nobody calculated yet: the cache fills when a spreadsheet recalculates",
                         series, src.role, NOTE)
        return Issue("missing-cache", f"{what} {src.formula} have no cached points "
                     "(viewers that do not recalculate show an empty chart)", series, src.role)
    n = len(vals)
    if src.pt_count != n:
        return Issue("stale-cache", f"{what} cache holds ptCount {src.pt_count} but {src.formula} "
                     f"has {n} cells", series, src.role)
    for i, v in enumerate(vals):
        if v is UNKNOWN:
            continue
        cached = src.points.get(i)
        if not _cache_matches(src.kind, v, cached):
            return Issue("stale-cache", f"{what} cache point {i + 1} is {cached!r} but the cell holds "
                         f"{format_value(v) if v is not None else 'nothing'}", series, src.role)
    return None


def _cache_matches(kind: str, cell, cached) -> bool:
    if kind == "numRef":
        if not is_number(cell):
            # Excel leaves empty and text cells out of a number cache.
            return cached is None
        try:
            return cached is not None and _floats_equal(float(cached), cell)
        except ValueError:
            return False
    if cell is None:
        return cached in (None, "")
    if is_number(cell) and cached is not None:
        try:
            return _floats_equal(float(cached), cell)
        except ValueError:
            return False
    return cached == (cell if isinstance(cell, str) else format_value(cell))


def reference_issues(series: Series) -> list:
    """What each reference of a series is: typed in, unreadable, outside the workbook, unchecked."""
    out = []
    for src in series.sources():
        what = ROLE_WORDS[src.role]
        if src.is_literal and src.role != "tx":
            out.append(Issue("literal-data", f"{what} are typed into the chart ({src.kind}, {src.pt_count} "
                             "points) instead of a link to cells", series.number, src.role))
        elif src.is_ref and src.target is not None and src.target.status == "bad":
            out.append(Issue("bad-reference", f"{what} {src.formula or '(no formula)'}: {src.target.why}",
                             series.number, src.role))
        elif src.is_ref and src.target is not None and src.target.status == "unchecked":
            out.append(Issue("unchecked-reference", f"{what}: {src.target.why}; Excel reads it, xlgd does not "
                             "check its cells, cache or x", series.number, src.role, NOTE))
    return out


def missing_x_issue(book: Package, chart: Chart, series: Series) -> Issue:
    """A series with no category/x reference: a problem when a column is its x, else a note."""
    xy = series.cats.role == "xVal"
    n = series.values.area.length if series.values.area else series.values.pt_count
    head = f"no {ROLE_WORDS[series.cats.role]} reference: the axis numbers the points 1..{n}"
    choice = choose_x(book, chart, series)
    code = "no-x-values" if xy else "no-categories"
    if choice.chosen is not None and _counts_one_to_n(choice.chosen, n):
        c = choice.chosen
        return Issue("implicit-categories", f"{head}, the numbers {c.area.formula()} holds (the column headed "
                     f"{c.header!r} beside it): the chart reads right as it is (pass --x to link the column)",
                     series.number, series.cats.role, NOTE, choice)
    if choice.chosen is not None:
        c = choice.chosen
        return Issue(code, f"{head}; its x is {c.area.formula()} (the column headed {c.header!r}; a {choice.kind} "
                     f"series, by its {choice.because}): fix links it", series.number, series.cats.role, choice=choice)
    if choice.ambiguous:
        opts = " or ".join(f'--x "{c.area.formula()}" ({c.header!r})' for c in choice.candidates)
        return Issue(code, f"{head}; {len(choice.candidates)} columns could be its x and hold different numbers, "
                     f"so fix links none: pass {opts}", series.number, series.cats.role, choice=choice)
    if not choice.searched:
        return Issue(code, f"{head}; its values are not one column of this workbook, so no x column was "
                     f"looked for: pass --x with {n} cells", series.number, series.cats.role, choice=choice)
    return Issue("implicit-categories", f"{head}, and no step, epoch or x column runs along exactly these rows"
                 + _implicit_reading(choice, n), series.number, series.cats.role, NOTE, choice)


def _counts_one_to_n(c, n: int) -> bool:
    """A step or epoch column holding exactly 1..n: the numbers the implicit axis shows."""
    return c.word in ("step", "epoch") and c.numbers == tuple(float(k) for k in range(1, n + 1))


def _implicit_reading(choice: XChoice, n: int) -> str:
    if choice.kind == "progress":
        unit = "epoch" if "epoch" in choice.because.lower() else "step"
        return (f"; for a per-{unit} series ({choice.because}) 1..{n} are its {unit} numbers, so the chart reads "
                f"right (to label the points otherwise, type {n} labels into cells and pass --x)")
    return f"; to plot against x, put the x values in {n} cells beside the values and pass --x"


def empty_issues(book: Package, series: Series) -> list:
    out = []
    for src in (series.values, series.cats):
        vals = area_values(book, src.area) if src.is_ref and src.area is not None else None
        if not vals:
            continue
        what = ROLE_WORDS[src.role]
        if all(v is None for v in vals):
            code = "empty-x" if src is series.cats else "empty-values"
            out.append(Issue(code, f"{what} {src.formula} are empty cells: the "
                             f"{'axis has no labels' if src is series.cats else 'chart draws nothing'}",
                             series.number, src.role))
            continue
        tail = next(i for i, v in enumerate(reversed(vals)) if v is not None)
        if tail and src is series.values:
            out.append(Issue("empty-tail", f"the last {tail} of {len(vals)} cells of {what} {src.formula} are "
                             "empty (past the sheet's data): the chart leaves room for more points",
                             series.number, src.role, NOTE))
    return out


def check_series(book: Package, chart: Chart, series: Series) -> list:
    out = reference_issues(series)
    if series.values.kind is None:
        out.append(Issue("no-values", "the series has no values reference: it draws nothing", series.number,
                         series.values.role))
    if series.cats.kind is None and series.values.kind is not None:
        out.append(missing_x_issue(book, chart, series))
    va, ca = series.values.area, series.cats.area
    if va is not None and ca is not None and va.length != ca.length:
        out.append(Issue("length-mismatch", f"{ROLE_WORDS[series.cats.role]} {series.cats.formula} has {ca.length} "
                         f"cells but values {series.values.formula} have {va.length}", series.number,
                         series.cats.role))
    out += empty_issues(book, series)
    out += present_x_issues(book, chart, series)
    smooth = smoothing_issue(book, chart, series) if series.values.kind else None
    if smooth is not None:
        out.append(smooth)
    if series.chart_type in ("lineChart", "line3DChart") and series.cats.kind and not _date_axis(chart):
        xs = numeric_sequence(book, series.cats)
        problem = spacing_problem(xs) if xs else None
        if problem:
            out.append(Issue("line-over-uneven-x", f"line chart over numeric x that is {problem} "
                             f"({_preview(xs)}): points are joined in row order at even spacing; fix makes "
                             "it a scatter chart, which plots x to scale (--keep-type keeps the line)",
                             series.number, series.cats.role))
    for src in (series.values, series.cats):
        issue = cache_issue(book, src, series.number)
        if issue:
            out.append(issue)
    return out


def present_x_issues(book: Package, chart: Chart, series: Series) -> list:
    """A linked x the evidence says is wrong (`xaxis.judge_x`); a scatter line through unsorted x."""
    out = []
    if series.cats.is_ref and series.cats.area is not None:
        verdict = judge_x(book, chart, series)
        if verdict is not None:
            label = series_name(book, series)
            head = f"{label + ' ' if label else ''}is drawn against {series.cats.area.formula()}: {verdict.why}"
            tail = (f"; its x is {verdict.should.formula()}: fix relinks it" if verdict.should is not None
                    else f"; fix leaves it: {verdict.left}")
            out.append(Issue("wrong-x", head + tail, series.number, series.cats.role, should=verdict.should))
    if series.chart_type == "scatterChart" and series.cats.kind and draws_lines(series.elem):
        xs = numeric_sequence(book, series.cats)
        if xs and spacing_problem(xs) == "unsorted":
            out.append(Issue("scribble", f"a line joins the points in row order through x that is unsorted "
                             f"({_preview(xs)}): it zigzags back and forth across the plot; fix draws the points "
                             "alone (markers only)", series.number, series.cats.role))
    return out


def smoothing_issue(book: Package, chart: Chart, series: Series) -> Issue | None:
    """Smoothing that draws what the sheet never holds: a curve below 0 for values that never are, or
    any smoothed error or loss (the bends between steps are no error anyone computed)."""
    sm = series.elem.find(C + "smooth")
    if sm is None or sm.get("val", "1") not in ("1", "true"):
        return None
    ys = plotted_numbers(book, series.values)
    numbers = [y for y in ys if y is not None]
    if numbers and min(numbers) < 0:
        return None
    dip = smoothed_min(ys) if numbers else 0.0  # no values yet: the words alone decide
    words = " ".join([series_name(book, series), chart.title or ""])
    if dip >= 0 and not ERROR_WORDS.search(words.lower()):
        return None
    why = (f"the smoothed curve dips to {dip:.3g}, below 0, where the values never go" if dip < 0 else
           "it bends between the points through values no step computed")
    return Issue("smoothing", f"smoothing on an error or loss series that is never below 0: {why}; fix turns "
                 "smoothing off (straight lines between the points)", series.number, series.values.role)


ERROR_WORDS = re.compile(r"\b(err|errs|error|errors|loss|losses|cost|mse|rmse)\b|err\^?2|err²")


def plotted_numbers(book: Package, src: Source) -> list:
    """The numbers a values source draws, None for a gap (cells first, else the cache)."""
    vals = area_values(book, src.area) if src.area is not None else None
    if vals is None or any(v is UNKNOWN for v in vals):
        if not src.points:
            return []
        vals = []
        for i in range(src.pt_count or (max(src.points) + 1)):
            try:
                vals.append(float(src.points[i]))
            except (KeyError, TypeError, ValueError):
                vals.append(None)
    return [v if is_number(v) else None for v in vals]


def smoothed_min(ys) -> float:
    """The lowest point of the smoothed curve Excel draws through ys (a Bezier between neighbours, its
    control points a sixth of the way along the neighbours' chord); gaps break the curve."""
    low = min(y for y in ys if y is not None)
    for i in range(len(ys) - 1):
        y1, y2 = ys[i], ys[i + 1]
        if y1 is None or y2 is None:
            continue
        y0 = ys[i - 1] if i > 0 and ys[i - 1] is not None else y1
        y3 = ys[i + 2] if i + 2 < len(ys) and ys[i + 2] is not None else y2
        c1, c2 = y1 + (y2 - y0) / 6, y2 - (y3 - y1) / 6
        for k in range(1, 16):
            t = k / 16
            u = 1 - t
            low = min(low, u ** 3 * y1 + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t ** 3 * y2)
    return low


def draws_lines(ser) -> bool:
    """Whether a series draws a line between its points (not when its line is set to no fill)."""
    ln = ser.find(f"{C}spPr/{A}ln")
    return ln is None or ln.find(A + "noFill") is None


def _date_axis(chart: Chart) -> bool:
    return any(a.kind == "dateAx" for a in chart.axes)


def axis_values(book: Package, chart: Chart, axis) -> list:
    """The positive numbers the series plot along an axis (a series group's first axis is its x)."""
    out = []
    for s in chart.series:
        ids = [a.get("val") for a in s.elem.getparent().findall(C + "axId")]
        if axis.ax_id in ids:
            src = s.cats if ids.index(axis.ax_id) == 0 else s.values
            out += [v for v in plotted_numbers(book, src) if v is not None and v > 0]
    return out


def log_axis_issue(book: Package, chart: Chart, axis) -> Issue | None:
    """A log axis labelled "General" over a range where General writes some decades out (1000) and
    others in E notation (1E+20): labels in two formats on one axis."""
    if axis.elem is None or axis.elem.find(f"{C}scaling/{C}logBase") is None:
        return None
    fmt = axis.elem.find(C + "numFmt")
    if fmt is not None and (fmt.get("formatCode") or "General").lower() != "general":
        return None
    pos = axis_values(book, chart, axis)
    if not pos:
        return None
    lo, hi = math.floor(math.log10(min(pos))), math.ceil(math.log10(max(pos)))
    plain = any(-4 <= k <= 10 for k in range(lo, hi + 1))
    sci = hi >= 15 or lo <= -10
    if not (plain and sci):
        return None
    return Issue("log-axis-labels", f"the log axis {axis.ax_id} spans 1E{lo:+03d} to 1E{hi:+03d} in the General "
                 "format, which writes some labels out (1000) and others in E notation (1E+20); fix labels "
                 "every decade 0E+00")


def check_chart(book: Package, chart: Chart) -> list:
    resolve(book, chart)
    out = []
    for ax in chart.axes:
        if ax.deleted:
            where = {"b": "horizontal", "t": "horizontal", "l": "vertical", "r": "vertical"}.get(ax.position, "")
            out.append(Issue("hidden-axis", f"the {where + ' ' if where else ''}{ax.kind} axis "
                             f"{ax.ax_id} is hidden (c:delete val=\"1\"): no labels show"))
    for s in chart.series:
        out.extend(check_series(book, chart, s))
    for ax in chart.axes:
        issue = log_axis_issue(book, chart, ax)
        if issue is not None:
            out.append(issue)
    return out


def prime_cells(book: Package, charts) -> None:
    """Read each sheet once for every cell any chart refers to."""
    need = {}
    for ch in charts:
        for s in ch.series:
            for src in s.sources():
                a = src.area
                if a is None:
                    continue
                lo, hi, cols = need.get(a.sheet, (a.r1, a.r2, set()))
                cols.update(range(a.c1, a.c2 + 1))
                need[a.sheet] = (min(lo, a.r1), max(hi, a.r2), cols)
    for sheet, (lo, hi, cols) in need.items():
        if sheet in book.worksheet_names:  # a missing sheet is reported per reference
            book.values(sheet, (lo, hi), cols)


def check_book(book: Package) -> list:
    """[(Chart, [Issue])] for every chart part of the workbook, and for each part a sheet points at
    that is missing (a placeholder chart with one `missing-part` issue)."""
    charts = read_charts(book)
    for ch in charts:
        resolve(book, ch)
    prime_cells(book, charts)
    out = [(ch, check_chart(book, ch)) for ch in charts]
    for sheet, part, drawing, why in missing_parts(book):
        out.append((Chart(part, sheet, drawing, "(missing)", [], [], []), [Issue("missing-part", why)]))
    return out


def problems(results) -> int:
    return sum(i.is_problem for _, issues in results for i in issues)


def report_dict(book: Package, results) -> dict:
    charts = []
    for ch, issues in results:
        charts.append({
            "part": ch.part, "sheet": ch.sheet, "drawing": ch.drawing, "title": ch.title,
            "types": ch.types,
            "axes": [{"kind": a.kind, "id": a.ax_id, "position": a.position, "deleted": a.deleted}
                     for a in ch.axes],
            "series": [{"number": s.number, "type": s.chart_type.replace("Chart", ""), "name": s.name,
                        "values": s.values.as_dict(),
                        ("x" if s.cats.role == "xVal" else "categories"): s.cats.as_dict()}
                       for s in ch.series],
            "issues": [i.as_dict() for i in issues],
        })
    return {"book": str(book.path), "charts": charts, "flagged": problems(results),
            "notes": sum(not i.is_problem for _, issues in results for i in issues)}


def _src_text(src: Source) -> str:
    if src.kind is None:
        return "none"
    d = src.as_dict()
    if src.is_literal:
        return f"{src.kind} ({src.pt_count} typed points)"
    cache = ("no cache" if not src.has_cache
             else f"cache {d['cache_points']}/{src.pt_count} points")
    return f"{src.formula or '(no formula)'} ({src.kind}, {cache})"


def report_text(book: Package, results) -> str:
    lines = []
    if not results:
        return f"{book.path}: no charts"
    for ch, issues in results:
        where = ch.sheet if ch.sheet is not None else "(no sheet)"
        lines.append(f"{where}: {ch.title or '(untitled)'!r} [{', '.join(ch.types) or '?'}] {ch.part}")
        for s in ch.series:
            label = "x" if s.cats.role == "xVal" else "categories"
            name = f" {s.name!r}" if s.name else ""
            lines.append(f"  series {s.number}{name}: values {_src_text(s.values)}; "
                         f"{label} {_src_text(s.cats)}")
        lines += ["  " + issue_line(i) for i in issues]
    lines.append(summary_line(results))
    return "\n".join(lines)


def issue_line(issue: Issue) -> str:
    """`! code: ...` for a problem, `- note code: ...` for a note."""
    return f"! {issue_text(issue)}" if issue.is_problem else f"- note {issue_text(issue)}"


def issue_text(issue: Issue) -> str:
    """`code: series N: message`, for a line that says problem or note itself."""
    who = f"series {issue.series}: " if issue.series else ""
    return f"{issue.code}: {who}{issue.message}"


def summary_line(results) -> str:
    n = problems(results)
    notes = sum(not i.is_problem for _, issues in results for i in issues)
    text = f"{len(results)} chart(s), " + (f"{n} problem(s) flagged" if n else "no problems")
    return text + (f", {notes} note(s)" if notes else "")

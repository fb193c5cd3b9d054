"""Checks on a workbook's charts: are the axes linked to the cells they plot?

Each check returns `Issue`s; a chart with none plots what its sheet says.
The codes are stable (the JSON output and `fix` rely on them):

  no-categories / no-x-values  the series has no category or x reference,
                               so Excel numbers the points 1..n
  literal-data                 numLit/strLit typed into the chart instead of
                               a link to cells
  length-mismatch              the category/x reference is not as long as
                               the values
  line-over-uneven-x           a line chart over numeric x that is unsorted
                               or unevenly spaced (wants a scatter chart)
  hidden-axis                  an axis has c:delete val="1"
  missing-cache / stale-cache  the cached points a viewer shows before
                               recalculating are absent or differ from the cells
  bad-reference                a reference that is not one block of cells on
                               a sheet of this workbook
  empty-x                      the category/x cells hold no values
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..xlsx.package import UNKNOWN, Package
from .model import MAX_POINTS, Chart, Series, Source, area_values, read_charts

RELINK_CODES = ("no-categories", "no-x-values", "literal-data", "length-mismatch", "bad-reference")


@dataclass
class Issue:
    code: str
    message: str
    series: int | None = None     # 1-based series number, None = whole chart
    role: str | None = None       # 'val', 'cat', 'xVal', 'yVal'

    def as_dict(self):
        return {"code": self.code, "series": self.series, "role": self.role, "message": self.message}


def is_number(v) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def format_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


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
    what = {"val": "values", "yVal": "y values", "cat": "categories", "xVal": "x values"}[src.role]
    vals = area_values(book, src.area)
    if vals is None:
        return None  # bad-reference says it better
    if not src.has_cache:
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


def check_series(book: Package, chart: Chart, s: Series) -> list:
    out = []
    xy = s.cats.role == "xVal"
    label = "x values" if xy else "categories"
    for src in (s.values, s.cats):
        if src.is_literal:
            out.append(Issue("literal-data", f"{'values' if src in (s.values,) else label} are typed into "
                             f"the chart ({src.kind}, {src.pt_count} points) instead of a link to cells",
                             s.number, src.role))
        elif src.formula and src.kind in ("numRef", "strRef", "multiLvlStrRef"):
            # Defined names and unions are fine, just not checkable here;
            # #REF! and a sheet that is gone are broken.
            a = src.area
            if a is not None and a.length > MAX_POINTS:
                out.append(Issue("bad-reference", f"{src.formula} spans {a.length:,} cells, more than the "
                                 f"{MAX_POINTS:,} points a series can plot", s.number, src.role))
            elif "#REF!" in src.formula.upper() or (a is not None and area_values(book, a) is None):
                out.append(Issue("bad-reference", f"{src.formula} does not point at cells of this workbook",
                                 s.number, src.role))
    if s.cats.kind is None and s.values.kind is not None:
        n = s.values.area.length if s.values.area else s.values.pt_count
        code = "no-x-values" if xy else "no-categories"
        out.append(Issue(code, f"no {label} reference: the {'x' if xy else 'category'} axis shows "
                         f"1..{n} instead of the x cells", s.number, s.cats.role))
    va, ca = s.values.area, s.cats.area
    if va is not None and ca is not None and va.length != ca.length:
        out.append(Issue("length-mismatch", f"{label} {s.cats.formula} has {ca.length} cells but values "
                         f"{s.values.formula} have {va.length}", s.number, s.cats.role))
    if ca is not None:
        cv = area_values(book, ca)
        if cv is not None and all(v is None for v in cv):
            out.append(Issue("empty-x", f"{label} {s.cats.formula} are empty cells: the axis has no labels",
                             s.number, s.cats.role))
    if s.chart_type in ("lineChart", "line3DChart") and s.cats.kind and not _date_axis(chart):
        xs = numeric_sequence(book, s.cats)
        problem = spacing_problem(xs) if xs else None
        if problem:
            out.append(Issue("line-over-uneven-x", f"line chart over numeric x that is {problem} "
                             f"({_preview(xs)}): points are joined in row order at even spacing; "
                             "a scatter chart plots x to scale (fix --scatter)", s.number, s.cats.role))
    for src in (s.values, s.cats):
        issue = cache_issue(book, src, s.number)
        if issue:
            out.append(issue)
    return out


def _date_axis(chart: Chart) -> bool:
    return any(a.kind == "dateAx" for a in chart.axes)


def check_chart(book: Package, chart: Chart) -> list:
    out = []
    for ax in chart.axes:
        if ax.deleted:
            where = {"b": "horizontal", "t": "horizontal", "l": "vertical", "r": "vertical"}.get(ax.position, "")
            out.append(Issue("hidden-axis", f"the {where + ' ' if where else ''}{ax.kind} axis "
                             f"{ax.ax_id} is hidden (c:delete val=\"1\"): no labels show"))
    for s in chart.series:
        out.extend(check_series(book, chart, s))
    return out


def prime_cells(book: Package, charts) -> None:
    """Read each sheet once for every cell any chart refers to."""
    need = {}
    for ch in charts:
        for s in ch.series:
            for src in (s.values, s.cats):
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
    """[(Chart, [Issue])] for every chart part of the workbook."""
    charts = read_charts(book)
    prime_cells(book, charts)
    return [(ch, check_chart(book, ch)) for ch in charts]


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
    return {"book": str(book.path), "charts": charts,
            "flagged": sum(len(i) for _, i in results)}


def _src_text(src: Source) -> str:
    if src.kind is None:
        return "none"
    d = src.as_dict()
    if src.is_literal:
        return f"{src.kind} ({src.pt_count} typed points)"
    cache = ("no cache" if not src.has_cache
             else f"cache {d['cache_points']}/{src.pt_count} points")
    return f"{src.formula} ({src.kind}, {cache})"


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
        for i in issues:
            who = f"series {i.series}: " if i.series else ""
            lines.append(f"  ! {i.code}: {who}{i.message}")
    n = sum(len(i) for _, i in results)
    lines.append(f"{len(results)} chart(s), {n} problem(s) flagged" if n else
                 f"{len(results)} chart(s), no problems")
    return "\n".join(lines)

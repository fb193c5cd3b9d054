"""Fix what `charts check` flags by editing only the chart parts of the zip.

openpyxl would re-save the whole workbook and drop buttons, VBA, drawings
and chart styles; here every member other than an edited
`xl/charts/chartN.xml` is copied over with the same name, order and bytes.
"""

from __future__ import annotations

import copy
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .check import RELINK_CODES, format_value, cache_issue, check_chart, is_number, prime_cells
from ..xlsx.package import UNKNOWN, Package
from .model import (C, NS, Area, Chart, area_values, parse_area, read_chart,
                       read_charts, serialize)
from ..errors import XlgdError
from ..xlsx.output import atomic_output, file_mode

X_HEADERS = ("step", "steps", "epoch", "epochs", "x")
# Categories are the "which point" axis: a step or epoch counter is the
# natural one in an SGD table; x (the data) comes last because a loss over
# random x is unsorted.
X_RANK = {"step": 0, "steps": 0, "epoch": 1, "epochs": 1, "x": 2}


@dataclass
class FixResult:
    changed: dict = field(default_factory=dict)     # part -> new bytes
    messages: list = field(default_factory=list)


# --------------------------------------------------------------------------
# Finding the x cells


def _header_text(v) -> str | None:
    if isinstance(v, str):
        return v.strip().lower().rstrip(":")
    return None


def _axis_title(chart: Chart) -> str:
    for ax in chart.axes:
        if ax.position in ("b", "t"):
            t = ax.elem.find(C + "title")
            if t is not None:
                return "".join(x.text or "" for x in t.iter("{%s}t" % NS["a"])).strip().lower()
    return ""


def detect_x(book: Package, values: Area, axis_title: str = "") -> Area | None:
    """The column headed x/step/epoch that covers the rows of a values column."""
    if values is None or not values.is_column:
        return None
    top = max(1, values.r1 - 3)
    cells = book.values(values.sheet, (top, values.r2))
    cols = {c for (_, c) in cells} - {values.c1}
    best = None
    for col in cols:
        header = None
        for r in range(values.r1 - 1, top - 1, -1):
            v = cells.get((r, col))
            if v is not None:
                header = _header_text(v)
                break
        if header not in X_RANK:
            continue
        rows = range(values.r1, values.r2 + 1)
        xs = [cells.get((r, col)) for r in rows]
        ys = [cells.get((r, values.c1)) for r in rows]
        if all(x is None for x in xs):
            continue
        if any(y is not None and x is None for x, y in zip(xs, ys)):
            continue
        nums = [x for x in xs if is_number(x)]
        increasing = len(nums) == len(xs) and all(b > a for a, b in zip(nums, nums[1:]))
        rank = (0 if axis_title and axis_title == header else 1, 0 if increasing else 1, X_RANK[header], col)
        if best is None or rank < best[0]:
            best = (rank, Area(values.sheet, values.r1, col, values.r2, col))
    return best[1] if best else None


# --------------------------------------------------------------------------
# Building references and caches


def _clear(el):
    for child in list(el):
        el.remove(child)


def _fill_cache(cache, values, numeric: bool, fmt_code: str = "General"):
    _clear(cache)
    if numeric:
        etree.SubElement(cache, C + "formatCode").text = fmt_code
    etree.SubElement(cache, C + "ptCount").set("val", str(len(values)))
    for i, v in enumerate(values):
        if v is None or v is UNKNOWN or (numeric and not is_number(v)):
            continue
        pt = etree.SubElement(cache, C + "pt")
        pt.set("idx", str(i))
        etree.SubElement(pt, C + "v").text = format_value(v)


def _is_numeric(values) -> bool:
    real = [v for v in values if v is not None and v is not UNKNOWN]
    return bool(real) and all(is_number(v) for v in real)


def link(src_el, area: Area, values, force_numeric: bool = False):
    """Make a c:cat/c:val/c:xVal/c:yVal element a reference to `area` with a fresh cache."""
    numeric = force_numeric or _is_numeric(values)
    _clear(src_el)
    ref = etree.SubElement(src_el, C + ("numRef" if numeric else "strRef"))
    etree.SubElement(ref, C + "f").text = area.formula()
    cache = etree.SubElement(ref, C + ("numCache" if numeric else "strCache"))
    _fill_cache(cache, values, numeric)


def _role_element(ser, role: str):
    el = ser.find(C + role)
    if el is None:
        el = etree.Element(C + role)
        after = {"cat": "val", "xVal": "yVal"}[role]
        anchor = ser.find(C + after)
        if anchor is None:
            raise XlgdError("a chart series has no values element; cannot add categories")
        anchor.addprevious(el)
    return el


def rebuild_caches(book: Package, chart: Chart) -> int:
    """Refresh every numRef/strRef cache of the chart from the cells; returns how many changed."""
    n = 0
    for s in chart.series:
        for src in (s.values, s.cats):
            if src.kind not in ("numRef", "strRef") or src.area is None:
                continue
            vals = area_values(book, src.area)
            # Uncalculated formulas: the old cache is the best we have.
            if vals is None or any(v is UNKNOWN for v in vals):
                continue
            # A cache that already holds the cell values keeps its bytes ("1.0" stays "1.0").
            if cache_issue(book, src, s.number) is None:
                continue
            ref = src.elem.find(C + src.kind)
            tag = "numCache" if src.kind == "numRef" else "strCache"
            cache = ref.find(C + tag)
            before = etree.tostring(cache) if cache is not None else None
            fmt_code = "General"
            if cache is None:
                cache = etree.SubElement(ref, C + tag)
            else:
                fc = cache.find(C + "formatCode")
                if fc is not None and fc.text:
                    fmt_code = fc.text
            _fill_cache(cache, vals, src.kind == "numRef", fmt_code)
            if etree.tostring(cache) != before:
                n += 1
    return n


# --------------------------------------------------------------------------
# Scatter conversion

_CAT_ONLY = ("auto", "lblAlgn", "lblOffset", "tickLblSkip", "tickMarkSkip", "noMultiLvlLbl")


def _cat_to_val_axis(ax):
    ax.tag = C + "valAx"
    for name in _CAT_ONLY:
        for el in ax.findall(C + name):
            ax.remove(el)
    _set_cross_between(ax)


def _set_cross_between(ax):
    cb = ax.find(C + "crossBetween")
    if cb is None:
        cb = etree.Element(C + "crossBetween")
        anchor = ax.find(C + "crosses")
        if anchor is None:
            anchor = ax.find(C + "crossesAt")
        if anchor is None:
            anchor = ax.find(C + "crossAx")
        anchor.addnext(cb)
    cb.set("val", "midCat")


def to_scatter(book: Package, chart: Chart, messages: list) -> bool:
    """Turn each line chart group over numeric x into a scatter chart group."""
    plot = chart.root.find("c:chart/c:plotArea", {"c": C[1:-1]})
    changed = False
    for group in plot.findall(C + "lineChart"):
        ax_ids = [a.get("val") for a in group.findall(C + "axId")]
        others = [g for g in plot if g is not group and g.tag.endswith("Chart")
                  and any(a.get("val") in ax_ids for a in g.findall(C + "axId"))]
        if others:
            messages.append(f"{chart.part}: line chart shares its axes with another chart type; "
                            "not converted to scatter")
            continue
        sers = group.findall(C + "ser")
        ok = True
        for ser in sers:
            cat = ser.find(C + "cat")
            if cat is None or cat.find(C + "numRef") is None:
                ok = False
        if not ok or not sers:
            messages.append(f"{chart.part}: line chart has series without numeric x cells; "
                            "not converted to scatter")
            continue
        scatter = etree.Element(C + "scatterChart")
        etree.SubElement(scatter, C + "scatterStyle").set("val", "lineMarker")
        vary = group.find(C + "varyColors")
        scatter.append(copy.deepcopy(vary) if vary is not None else _val_el("varyColors", "0"))
        for ser in sers:
            ser.find(C + "cat").tag = C + "xVal"
            ser.find(C + "val").tag = C + "yVal"
            scatter.append(ser)
        dl = group.find(C + "dLbls")
        if dl is not None:
            scatter.append(dl)
        for a in group.findall(C + "axId"):
            scatter.append(a)
        group.addprevious(scatter)
        plot.remove(group)
        for ax in plot:
            axid = ax.find(C + "axId")
            if axid is None or axid.get("val") not in ax_ids:
                continue
            if ax.tag == C + "catAx":
                _cat_to_val_axis(ax)
            elif ax.tag == C + "valAx":
                _set_cross_between(ax)
        messages.append(f"{chart.part}: line chart turned into a scatter chart (x plotted to scale)")
        changed = True
    return changed


def _val_el(name, val):
    el = etree.Element(C + name)
    el.set("val", val)
    return el


# --------------------------------------------------------------------------
# One chart


def _no_x_hint(values: Area | None, n: int) -> str:
    if values is None or not values.is_column:
        return (f"no column headed x, step or epoch to link; left as is (the axis shows 1..{n}); "
                f"pass --x with {n} cells to link one")
    col = values.c1 - 1 if values.c1 > 1 else values.c1 + 1
    example = Area(values.sheet, values.r1, col, values.r2, col).formula()
    return (f"no column headed x, step or epoch beside {values.formula()}; left as is (the axis shows "
            f"1..{n}); to link one, put the x values in {n} cells and pass e.g. --x \"{example}\"")


def fix_chart(book: Package, chart: Chart, x: Area | None, scatter: bool, messages: list) -> bool:
    issues = check_chart(book, chart)
    if not issues:
        return False
    changed = False
    where = f"{chart.sheet or '?'}: {chart.title or chart.part!s}"
    relink = {i.series for i in issues if i.code in RELINK_CODES and i.role in ("cat", "xVal")}
    for i in issues:
        if i.code == "literal-data" and i.role in ("val", "yVal"):
            messages.append(f"{where}: series {i.series} values are typed into the chart; "
                            "xlgd cannot tell which cells they came from, left as is")
    axis_title = _axis_title(chart)
    for s in chart.series:
        if s.number not in relink:
            continue
        vals_area = s.values.area
        n = vals_area.length if vals_area else s.values.pt_count
        target = x if x is not None else detect_x(book, vals_area, axis_title)
        if target is None:
            messages.append(f"{where}: series {s.number}: {_no_x_hint(vals_area, n)}")
            continue
        if target.length != n:
            messages.append(f"{where}: series {s.number}: --x {target.formula()} has {target.length} cells "
                            f"but the values have {n}; left as is")
            continue
        xs = area_values(book, target)
        if xs is None:
            raise XlgdError(f"--x {target.formula()}: no sheet named {target.sheet!r} in {book.path}")
        link(_role_element(s.elem, s.cats.role), target, xs, force_numeric=s.cats.role == "xVal")
        messages.append(f"{where}: series {s.number}: {'x values' if s.cats.role == 'xVal' else 'categories'} "
                        f"linked to {target.formula()}")
        changed = True
    chart = read_chart(chart.root, chart.part, chart.sheet, chart.drawing)
    if scatter and any(i.code == "line-over-uneven-x" for i in check_chart(book, chart)):
        changed |= to_scatter(book, chart, messages)
        chart = read_chart(chart.root, chart.part, chart.sheet, chart.drawing)
    elif any(i.code == "line-over-uneven-x" for i in issues):
        messages.append(f"{where}: line chart over unsorted/uneven x left as a line chart; "
                        "--scatter plots it to scale")
    for ax in chart.axes:
        if ax.deleted:
            ax.elem.find(C + "delete").set("val", "0")
            messages.append(f"{where}: {ax.kind} {ax.ax_id} made visible")
            changed = True
    if rebuild_caches(book, chart):
        messages.append(f"{where}: caches rebuilt from the cell values")
        changed = True
    return changed


def fix_book(book: Package, x: str | None = None, scatter: bool = False) -> FixResult:
    x_area = None
    if x:
        x_area = parse_area(x)
        if x_area is None or not x_area.is_line:
            raise XlgdError(f"--x {x!r}: want one row or column of cells such as \"Sheet1!$A$4:$A$32\"")
        if area_values(book, x_area) is None:
            raise XlgdError(f"--x {x!r}: no sheet named {x_area.sheet!r} in {book.path}")
    res = FixResult()
    charts = read_charts(book)
    prime_cells(book, charts)
    for chart in charts:
        if fix_chart(book, chart, x_area, scatter, res.messages):
            res.changed[chart.part] = serialize(chart.root, book.part(chart.part))
    return res


# --------------------------------------------------------------------------
# Writing the zip


def default_output(src: Path) -> Path:
    return src.with_name(f"{src.stem}-fixed{src.suffix}")


def write_zip(book: Package, out: Path, replacements: dict, additions: dict | None = None):
    """Copy `book` to `out` member by member, swapping in `replacements` and
    appending `additions` (new parts) at the end; atomic. The copy keeps the
    input's permission bits, in place or not: it is the same workbook."""
    with atomic_output(out, mode=file_mode(book.path)) as tmp, open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w") as zout:
        members = book.members()
        for info in members:
            zi = zipfile.ZipInfo(info.filename, info.date_time)
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            zi.create_system = info.create_system
            zi.comment = info.comment
            if info.filename in replacements:
                zout.writestr(zi, replacements[info.filename])
                continue
            with book.open_member(info.filename) as fin, zout.open(zi, "w", force_zip64=info.file_size > 2**31) as fout:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
        for name, data in (additions or {}).items():
            zi = zipfile.ZipInfo(name, members[0].date_time if members else (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)

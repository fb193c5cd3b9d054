"""Fix what `charts check` flags by editing only the chart parts of the zip.

openpyxl would re-save the whole workbook and drop buttons, VBA, drawings
and chart styles; here every member other than an edited
`xl/charts/chartN.xml` is copied over with the same name, order and bytes.

What a fix does, per chart: a series whose x is missing or broken (typed in,
too short, empty, pointing nowhere) is linked to `--x` or to the column
`xaxis.choose_x` finds (none when two columns could be its x); a linked x
the evidence calls wrong is relinked to the x it names; a scatter series
drawing lines through unsorted x draws its points alone; smoothing that
draws an error between its points, or below 0, is turned off; a log axis
labelled in two formats gets one (0E+00); a line chart
over numeric x that is unsorted or unevenly spaced becomes a scatter chart,
the only chart type that plots x to scale (`--keep-type` keeps the line);
hidden axes are shown; caches are rebuilt from the cells.
"""

from __future__ import annotations

import copy
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import XlgdError
from ..xlsx.output import atomic_output, file_mode
from ..xlsx.package import UNKNOWN, Package
from .check import (
    RELINK_CODES,
    Issue,
    axis_values,
    cache_issue,
    check_book,
    check_chart,
    log_axis_issue,
    numeric_sequence,
    prime_cells,
    spacing_problem,
)
from .model import (
    A,
    Area,
    C,
    Chart,
    Series,
    area_values,
    format_value,
    is_number,
    read_chart,
    read_charts,
    resolve,
    resolve_ref,
    serialize,
)
from .xaxis import choose_x


@dataclass
class FixResult:
    changed: dict = field(default_factory=dict)     # part -> new bytes
    messages: list = field(default_factory=list)


# --------------------------------------------------------------------------
# Building references and caches


def _clear(element):
    for child in list(element):
        element.remove(child)


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


def _cat_to_val_axis(axis):
    axis.tag = C + "valAx"
    for name in _CAT_ONLY:
        for el in axis.findall(C + name):
            axis.remove(el)
    _set_cross_between(axis)


def _set_cross_between(axis):
    cb = axis.find(C + "crossBetween")
    if cb is None:
        cb = etree.Element(C + "crossBetween")
        anchor = axis.find(C + "crosses")
        if anchor is None:
            anchor = axis.find(C + "crossesAt")
        if anchor is None:
            anchor = axis.find(C + "crossAx")
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
        unsorted = {id(x.elem) for x in chart.series
                    if spacing_problem(numeric_sequence(book, x.cats) or []) == "unsorted"}
        for ser in sers:
            ser.find(C + "cat").tag = C + "xVal"
            ser.find(C + "val").tag = C + "yVal"
            if id(ser) in unsorted:
                _markers_only(ser)
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


_AFTER_LN = ("effectLst", "effectDag", "scene3d", "sp3d", "extLst")   # CT_ShapeProperties after a:ln
_AFTER_SPPR = ("marker", "dPt", "dLbls", "trendline", "errBars", "xVal", "yVal", "smooth", "extLst")


def _markers_only(ser):
    """Points without the line: over unsorted x, segments joining rows in row order mean nothing
    (they zigzag across the plot), so a scatter series shows its points alone, in the line's colour."""
    sp = ser.find(C + "spPr")
    if sp is None:
        sp = etree.Element(C + "spPr")
        next(e for e in ser if etree.QName(e).localname in _AFTER_SPPR).addprevious(sp)
    ln = sp.find(A + "ln")
    if ln is None:
        ln = etree.Element(A + "ln")
        after = next((e for e in sp if etree.QName(e).localname in _AFTER_LN), None)
        sp.append(ln) if after is None else after.addprevious(ln)
    fills = [e for e in ln if etree.QName(e).localname in ("noFill", "solidFill", "gradFill", "pattFill")]
    colour = next((f for f in fills if f.tag == A + "solidFill"), None)
    for fill in fills:
        ln.remove(fill)
    ln.insert(0, etree.Element(A + "noFill"))
    _show_marker(ser, colour)


def _show_marker(ser, colour):
    """A marker that draws: a symbol that was "none" becomes a circle, filled with the line's colour
    (LibreOffice 7.4 drew a marker styled while it was hidden in white, on white, measured)."""
    marker = ser.find(C + "marker")
    symbol = marker.find(C + "symbol") if marker is not None else None
    if symbol is None or symbol.get("val") != "none":
        return
    symbol.set("val", "circle")
    for old in marker.findall(C + "spPr"):
        marker.remove(old)
    if colour is not None:
        sp = etree.Element(C + "spPr")
        sp.append(copy.deepcopy(colour))
        etree.SubElement(sp, A + "ln").append(copy.deepcopy(colour))
        ext = marker.find(C + "extLst")
        marker.append(sp) if ext is None else ext.addprevious(sp)


def _val_el(name, val):
    el = etree.Element(C + name)
    el.set("val", val)
    return el


# --------------------------------------------------------------------------
# One chart


@dataclass(frozen=True)
class FixOptions:
    """What the user asked of `fix`: an explicit x for every series to relink, and whether a line
    chart over uneven x keeps its type (else it becomes a scatter chart)."""

    x: Area | None = None
    keep_type: bool = False


def _no_x_text(choice, n: int) -> str:
    if choice is not None and choice.ambiguous:
        opts = " or ".join(f'--x "{c.area.formula()}"' for c in choice.candidates)
        return f"{len(choice.candidates)} columns could be its x and hold different numbers; left as is: pass {opts}"
    return (f"no step, epoch or x column runs along exactly its rows; left as is (the axis shows 1..{n}); "
            f"to link one, put the x values in {n} cells and pass --x")


def relink(book: Package, chart: Chart, series: Series, issue: Issue | None, opts: FixOptions, say) -> bool:
    """Link one series' categories/x to --x, or to the column `xaxis.choose_x` found."""
    n = series.values.area.length if series.values.area else series.values.pt_count
    target = opts.x
    if target is None and issue is not None and issue.code == "wrong-x":
        if issue.should is None:
            say(f"series {series.number}: {issue.message}")
            return False
        target = issue.should
    if target is None:
        # A missing x was looked for by the check; a broken link (typed, too short, empty) is looked for here.
        choice = issue.choice if issue is not None and issue.choice is not None else choose_x(book, chart, series)
        target = choice.chosen.area if choice is not None and choice.chosen is not None else None
        if target is None:
            say(f"series {series.number}: {_no_x_text(choice, n)}")
            return False
    if target.length != n:
        say(f"series {series.number}: --x {target.formula()} has {target.length} cells but the values have {n}; "
            "left as is")
        return False
    link(_role_element(series.elem, series.cats.role), target, area_values(book, target),
         force_numeric=series.cats.role == "xVal")
    what = "x values" if series.cats.role == "xVal" else "categories"
    say(f"series {series.number}: {what} linked to {target.formula()}")
    return True


def _to_relink(issues, explicit_x: bool) -> dict:
    """{series number: the issue that asks for a new x} -- notes too when the user gave --x."""
    out = {}
    for i in issues:
        wanted = i.code in RELINK_CODES or (explicit_x and i.code == "implicit-categories")
        if wanted and i.role in ("cat", "xVal"):
            out.setdefault(i.series, i)
    return out


def fix_chart(book: Package, chart: Chart, opts: FixOptions, messages: list) -> bool:
    issues = check_chart(book, chart)
    if not issues:
        return False
    where = f"{chart.sheet or '?'}: {chart.title or chart.part!s}"

    def say(text):
        messages.append(f"{where}: {text}")

    for i in issues:
        if i.code == "literal-data" and i.role in ("val", "yVal"):
            say(f"series {i.series} values are typed into the chart; xlgd cannot tell which cells they came "
                "from, left as is")
    wanted = _to_relink(issues, opts.x is not None)
    changed = False
    for s in chart.series:
        if s.number in wanted:
            changed |= relink(book, chart, s, wanted[s.number], opts, say)
    chart = _reread(book, chart)
    if any(i.code == "line-over-uneven-x" for i in check_chart(book, chart)):
        if opts.keep_type:
            say("line chart over unsorted/uneven x kept as a line chart (--keep-type)")
        elif to_scatter(book, chart, messages):
            changed = True
            chart = _reread(book, chart)
    redrawn, chart = redraw(book, chart, issues, say)
    changed |= redrawn
    for ax in chart.axes:
        if ax.deleted:
            ax.elem.find(C + "delete").set("val", "0")
            say(f"{ax.kind} {ax.ax_id} made visible")
            changed = True
    if rebuild_caches(book, chart):
        say("caches rebuilt from the cell values")
        changed = True
    if changed:
        _scatter_style(chart.root)
    return changed


def redraw(book: Package, chart: Chart, issues: list, say) -> tuple:
    """What the reader sees drawn wrong with the right cells: smoothing turned off, a log axis given one
    label format, a line through unsorted x drawn as points. (changed, the chart re-read)."""
    changed = False
    for s in chart.series:
        if any(i.code == "smoothing" and i.series == s.number for i in issues):
            s.elem.find(C + "smooth").set("val", "0")
            say(f"series {s.number}: smoothing turned off (straight lines between the points)")
            changed = True
    for ax in chart.axes:
        if log_axis_issue(book, chart, ax) is not None:
            label_log_axis(ax.elem, axis_values(book, chart, ax))
            say(f"log axis {ax.ax_id} labelled 0E+00")
            changed = True
    scribbles = {i.series for i in check_chart(book, chart) if i.code == "scribble"}
    for s in chart.series:
        if s.number in scribbles:
            _markers_only(s.elem)
            say(f"series {s.number}: its x is unsorted, so its points are drawn alone (no line zigzagging "
                "between them)")
            changed = True
    return changed, (_reread(book, chart) if scribbles else chart)


def _scatter_style(root):
    """The c:scatterStyle a scatter chart must open with (openpyxl leaves it out; the schema wants
    it): "lineMarker", how Excel draws a series with no style of its own."""
    for group in root.iter(C + "scatterChart"):
        if group.find(C + "scatterStyle") is None:
            group.insert(0, _val_el("scatterStyle", "lineMarker"))


_AFTER_NUMFMT = ("majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx")
_AFTER_MAJOR_UNIT = ("minorUnit", "dispUnits", "extLst")


def label_log_axis(axis, values):
    """One scientific label format on a log value axis, and a label every few decades over a range
    wider than the labels can show one by one (as `xlgd generate` writes its own)."""
    from ..pipeline import LOG_FORMAT, log_axis

    fmt = axis.find(C + "numFmt")
    if fmt is None:
        fmt = etree.Element(C + "numFmt")
        _insert_before(axis, fmt, _AFTER_NUMFMT)
    fmt.set("formatCode", LOG_FORMAT)
    fmt.set("sourceLinked", "0")
    unit = log_axis(values).get("major_unit")
    if unit is not None and axis.tag == C + "valAx" and axis.find(C + "majorUnit") is None:
        _insert_before(axis, _val_el("majorUnit", format_value(unit)), _AFTER_MAJOR_UNIT)


def _insert_before(parent, element, later):
    """Insert element before the first child named in `later` (the schema's order), else at the end."""
    anchor = next((c for c in parent if etree.QName(c).localname in later), None)
    parent.append(element) if anchor is None else anchor.addprevious(element)


def _reread(book: Package, chart: Chart) -> Chart:
    chart = read_chart(chart.root, chart.part, chart.sheet, chart.drawing)
    resolve(book, chart)
    return chart


def explicit_x(book: Package, x: str | None) -> Area | None:
    """--x checked before anything is written: one row or column of this workbook holding something."""
    if not x:
        return None
    hidden = next((i for i, ch in enumerate(x) if not ch.isprintable()), None)
    if hidden is not None:
        raise XlgdError(f"--x holds {_invisible(x[hidden])} as its character {hidden + 1} of {len(x)}; "
                        f"type a reference such as \"Sheet1!$A$4:$A$32\"")
    target = resolve_ref(book, x)
    if target.status == "bad":
        raise XlgdError(f"--x \"{x}\": {target.why}")
    area = target.area
    if area is None or not area.is_line:
        raise XlgdError(f"--x \"{x}\": want one row or column of cells such as \"Sheet1!$A$4:$A$32\"")
    vals = area_values(book, area)
    if all(v is None for v in vals):
        raise XlgdError(f"--x \"{x}\": those {area.length} cells are empty; type the x values there first "
                        "(nothing written)")
    return area


def _invisible(ch: str) -> str:
    """A character that prints as nothing, said in words."""
    return {"\t": "a tab", "\n": "a line break", "\r": "a carriage return"}.get(
        ch, f"an invisible control character (U+{ord(ch):04X})")


def fix_book(book: Package, x: str | None = None, keep_type: bool = False) -> FixResult:
    opts = FixOptions(explicit_x(book, x), keep_type)
    res = FixResult()
    charts = read_charts(book)
    for chart in charts:
        resolve(book, chart)
    prime_cells(book, charts)
    for chart in charts:
        if fix_chart(book, chart, opts, res.messages):
            res.changed[chart.part] = serialize(chart.root, book.part(chart.part))
    return res


def remaining(book: Package, keep_type: bool = False) -> list:
    """[(Chart, [Issue])] still flagged in a (fixed) workbook; a line chart the user kept with
    --keep-type is reported as a note, since keeping it was asked for."""
    out = []
    for ch, issues in check_book(book):
        for i in issues:
            if keep_type and i.code == "line-over-uneven-x":
                i.severity = "note"
                i.message += " (kept: --keep-type)"
        if issues:
            out.append((ch, issues))
    return out


# --------------------------------------------------------------------------
# Writing the zip


def default_output(src: Path) -> Path:
    return src.with_name(f"{src.stem}-fixed{src.suffix}")


def write_zip(book: Package, out: Path, replacements: dict, additions: dict | None = None, check=None):
    """Copy `book` to `out` member by member, swapping in `replacements` and
    appending `additions` (new parts) at the end; atomic. The copy keeps the
    input's permission bits, in place or not: it is the same workbook.

    check(path of the finished copy, before it becomes `out`) reads the copy back; its result is
    returned, and if it fails `out` is left as it was: all or nothing."""
    with atomic_output(out, mode=file_mode(book.path)) as tmp:
        with open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w") as zout:
            _copy_members(book, zout, replacements, additions or {})
        return check(Path(tmp)) if check is not None else None


def _copy_members(book: Package, zout, replacements: dict, additions: dict):
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
    for name, data in additions.items():
        zi = zipfile.ZipInfo(name, members[0].date_time if members else (1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zout.writestr(zi, data)

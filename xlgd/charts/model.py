"""Read and edit the chart parts of an .xlsx/.xlsm zip with lxml.

A workbook Excel made carries buttons, VBA, drawings and chart styles that
openpyxl drops when it re-saves, so charts are handled here as XML parts
inside the zip: find them through the relationship parts, read their series
references and caches, and read just the cell values those references need.

Everything that reads the zip goes through `xlsx.package.Package` (the one
reader), which refuses non-zips, OLE files (old .xls, password-protected
workbooks) and members whose declared or actual size is beyond a cap, so
bad input costs one line and bounded memory. This module keeps only the
chart model: areas, sources, series, charts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..xlsx.package import Package
from ..xlsx.safezip import parse_xml as _parse_xml
from ..errors import XlgdError, shorten
from ..xlsx.refs import col_letters, parse_cell, quote_sheet

NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
C = "{%s}" % NS["c"]
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

CHART_TYPES = (
    "lineChart", "line3DChart", "barChart", "bar3DChart", "areaChart", "area3DChart",
    "scatterChart", "pieChart", "pie3DChart", "doughnutChart", "radarChart",
    "bubbleChart", "stockChart", "surfaceChart", "surface3DChart", "ofPieChart",
)
AXIS_TYPES = ("catAx", "valAx", "dateAx", "serAx")
# A series plots at most one point per row of a sheet; a part claiming more (ptCount 1e9) is
# damaged or hostile, and an area larger than this is never read cell by cell.
MAX_POINTS = 1_048_576


def parse_xml(data: bytes, what: str):
    """A chart-side part, parsed by the one hardened parser with its comments kept (it may be written back)."""
    return _parse_xml(data, what, keep_comments=True)


def area_values(book: Package, area: "Area"):
    """Cached cell values of an area in reading order, or None if its sheet is missing (or the
    area is larger than any series can be: see MAX_POINTS)."""
    if area.length > MAX_POINTS or area.sheet not in book.worksheet_names:
        return None
    # A sheet that is there but cannot be read is an error naming its part, not a bad reference.
    cells = book.values(area.sheet, (area.r1, area.r2), range(area.c1, area.c2 + 1))
    return [cells.get(rc) for rc in area.cells()]


# --------------------------------------------------------------------------
# A1 references


@dataclass(frozen=True)
class Area:
    """One rectangular block of cells on one sheet, 1-based inclusive."""

    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def length(self) -> int:
        return (self.r2 - self.r1 + 1) * (self.c2 - self.c1 + 1)

    @property
    def is_column(self) -> bool:
        return self.c1 == self.c2

    @property
    def is_line(self) -> bool:
        return self.c1 == self.c2 or self.r1 == self.r2

    def cells(self):
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield r, c

    def formula(self) -> str:
        a = f"${col_letters(self.c1)}${self.r1}"
        b = f"${col_letters(self.c2)}${self.r2}"
        return f"{quote_sheet(self.sheet)}!{a}" + ("" if a == b else f":{b}")


def parse_area(formula: str):
    """`Sheet!$A$1:$A$9` → Area, or None for anything else (names, unions)."""
    if not formula:
        return None
    f = formula.strip()
    if f.startswith("="):
        f = f[1:]
    if f.startswith("(") and f.endswith(")"):
        f = f[1:-1]
    if f.startswith("'"):
        m = re.match(r"^'((?:[^']|'')+)'!(.+)$", f)
        if not m:
            return None
        sheet, rest = m.group(1).replace("''", "'"), m.group(2)
    else:
        if "!" not in f:
            return None
        sheet, rest = f.rsplit("!", 1)
        if "," in sheet or "," in rest:
            return None
    parts = rest.split(":")
    if len(parts) > 2:
        return None
    a = parse_cell(parts[0])
    b = parse_cell(parts[-1])
    if not a or not b:
        return None
    return Area(sheet, min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


# --------------------------------------------------------------------------
# Charts


@dataclass
class Source:
    """What a series reads for one role (values, categories, x, y, name)."""

    role: str                 # 'val', 'cat', 'xVal', 'yVal'
    kind: str | None          # numRef, strRef, multiLvlStrRef, numLit, strLit; None = absent
    formula: str | None = None
    pt_count: int | None = None
    points: dict = field(default_factory=dict)  # idx -> cached value (str)
    has_cache: bool = False
    elem: object = None       # the c:cat / c:val ... element

    @property
    def area(self):
        return parse_area(self.formula) if self.formula else None

    @property
    def is_literal(self) -> bool:
        return self.kind in ("numLit", "strLit")

    def as_dict(self):
        a = self.area
        return {
            "kind": self.kind, "ref": self.formula,
            "length": a.length if a else (self.pt_count if self.is_literal else None),
            "cache_points": len(self.points) if (self.has_cache or self.is_literal) else None,
            "pt_count": self.pt_count,
        }


@dataclass
class Series:
    number: int               # 1-based position in the chart
    chart_type: str
    name: str
    values: Source
    cats: Source              # categories, or x values for scatter/bubble
    elem: object = None

    @property
    def cat_role(self):
        return self.cats.role


@dataclass
class Axis:
    kind: str
    ax_id: str
    deleted: bool
    position: str | None
    elem: object = None


@dataclass
class Chart:
    part: str
    sheet: str | None
    drawing: str | None
    title: str
    types: list
    series: list
    axes: list
    root: object = None


def _text(elem) -> str:
    return "".join(t.text or "" for t in elem.iter("{%s}t" % NS["a"]))


def _source(ser, role: str) -> Source:
    el = ser.find(C + role)
    if el is None:
        return Source(role, None)
    for kind in ("numRef", "strRef", "multiLvlStrRef", "numLit", "strLit"):
        k = el.find(C + kind)
        if k is None:
            continue
        src = Source(role, kind, elem=el)
        f = k.find(C + "f")
        src.formula = f.text.strip() if f is not None and f.text else None
        cache = k if kind in ("numLit", "strLit") else k.find(C + ("numCache" if kind == "numRef" else
                                                                 "strCache" if kind == "strRef" else "multiLvlStrCache"))
        if cache is not None:
            src.has_cache = True
            pc = cache.find(C + "ptCount")
            if pc is not None and (pc.get("val") or "").isdigit():
                src.pt_count = _points(pc.get("val"), "ptCount")
            for pt in cache.iter(C + "pt"):
                v = pt.find(C + "v")
                if (pt.get("idx") or "").isdigit():
                    src.points[_points(pt.get("idx"), "a point index")] = v.text if v is not None else None
        return src
    return Source(role, "unknown", elem=el)


def _points(text: str, what: str) -> int:
    n = int(text) if len(text) < 10 else MAX_POINTS + 1
    if n > MAX_POINTS:
        raise XlgdError(f"a series cache claims {what} {shorten(text, 20)}, more than the {MAX_POINTS:,} "
                        f"points a series can have; refusing it")
    return n


def _series_name(ser) -> str:
    tx = ser.find(C + "tx")
    if tx is None:
        return ""
    v = tx.find(".//c:v", NS)
    if v is not None and v.text:
        return v.text
    f = tx.find(".//c:f", NS)
    return f.text if f is not None and f.text else ""


def chart_title(root) -> str:
    chart = root.find(C + "chart")
    if chart is None:
        return ""
    t = chart.find(C + "title")
    if t is not None:
        rich = t.find("c:tx/c:rich", NS)
        if rich is not None:
            return _text(rich)
        v = t.find(".//c:v", NS)
        if v is not None and v.text:
            return v.text
    auto = chart.find(C + "autoTitleDeleted")
    sers = root.findall(".//c:ser", NS)
    if (auto is None or auto.get("val") in ("0", "false")) and len(sers) == 1:
        return _series_name(sers[0])
    return ""


def read_chart(root, part, sheet=None, drawing=None) -> Chart:
    plot = root.find("c:chart/c:plotArea", NS)
    types, series, axes = [], [], []
    if plot is not None:
        for group in plot:
            tag = etree.QName(group).localname if isinstance(group.tag, str) else ""
            if tag in CHART_TYPES:
                types.append(tag.replace("Chart", ""))
                xy = tag in ("scatterChart", "bubbleChart")
                for ser in group.findall(C + "ser"):
                    values = _source(ser, "yVal" if xy else "val")
                    cats = _source(ser, "xVal" if xy else "cat")
                    series.append(Series(len(series) + 1, tag, _series_name(ser), values, cats, ser))
            elif tag in AXIS_TYPES:
                d = group.find(C + "delete")
                pos = group.find(C + "axPos")
                axid = group.find(C + "axId")
                axes.append(Axis(tag, axid.get("val") if axid is not None else "",
                                 d is not None and d.get("val") in ("1", "true"),
                                 pos.get("val") if pos is not None else None, group))
    return Chart(part, sheet, drawing, chart_title(root), types, series, axes, root)


def chart_locations(book: Package) -> dict:
    """{chart part: (sheet name, drawing part)} found through the rels."""
    out = {}
    for s in book.sheets:
        name, part = s.name, s.part
        for rtype, drawing in book.rels(part).values():
            if rtype != "drawing":
                continue
            for ctype, chart in book.rels(drawing).values():
                if ctype == "chart":
                    out.setdefault(chart, (name, drawing))
    return out


def read_charts(book: Package) -> list:
    locs = chart_locations(book)
    parts = [n for n in book.names() if re.fullmatch(r"xl/charts/chart[^/]*\.xml", n)]
    for p in locs:
        if p not in parts and book.has(p):
            parts.append(p)
    charts = []
    for p in sorted(parts, key=_natural):
        sheet, drawing = locs.get(p, (None, None))
        try:
            charts.append(read_chart(book.xml(p, editable=True, root=C + "chartSpace"), p, sheet, drawing))
        except XlgdError as e:
            if str(e).startswith(book.path):
                raise
            raise XlgdError(f"{book.path}: part {p}: {e}") from None
    return charts


def _natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def serialize(root, original: bytes = b"") -> bytes:
    """The edited part, keeping the original XML declaration byte for byte."""
    body = etree.tostring(root, encoding="UTF-8")
    if original.startswith(b"<?xml"):
        end = original.index(b"?>") + 2
        while original[end:end + 1] in (b"\r", b"\n"):
            end += 1
        return original[:end] + body
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + body

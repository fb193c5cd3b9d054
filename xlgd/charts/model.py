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

import math
import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import XlgdError, shorten
from ..xlsx.package import Package
from ..xlsx.refs import col_letters, parse_cell, quote_sheet
from ..xlsx.safezip import parse_xml as _parse_xml

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
A = "{%s}" % NS["a"]

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


def is_number(value) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def format_value(value) -> str:
    """A cell value as a chart cache writes it (whole floats without '.0')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


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


MAX_ROW, MAX_COL = 1048576, 16384   # Excel's last row and column (XFD)
_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*")
_CELLISH = re.compile(r"\$?[A-Za-z]{1,3}\$?[0-9]+|[Rr][0-9]*[Cc][0-9]*|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]")
_WHOLE = re.compile(r"\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}|\$?[0-9]+:\$?[0-9]+")
_DYNAMIC = re.compile(r"\b(OFFSET|INDEX|INDIRECT|CHOOSE|IF|FILTER|SORT)\s*\(", re.IGNORECASE)
_LITERAL = re.compile(r'"(?:[^"]|"")*"')  # a text literal, `"data y"`


@dataclass(frozen=True)
class Ref:
    """A series reference (`<c:f>`) parsed: what kind of thing it names.

    kind: 'area' (one block on a sheet), 'union' (several, Excel's
    `(S!A1:A3,S!A5:A7)`), 'name' (a defined name, `S!name` for a sheet's own
    or `[0]!name` for the workbook's), 'whole' (whole rows or columns),
    'dynamic' (a formula such as OFFSET(...), as a defined name may hold),
    'bad' (anything else; `reason` says what)."""

    kind: str
    areas: tuple = ()
    sheet: str | None = None
    name: str | None = None
    reason: str = ""


def _split_top(text: str, sep: str) -> list:
    """Split at `sep` outside quotes and parentheses."""
    out, depth, quote, cur = [], 0, False, []
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == sep and not quote and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _sheet_and_rest(formula: str):
    """('sheet', 'rest') of `'My sheet'!A1` / `data!A1`; (None, formula) without '!'; None if malformed."""
    if formula.startswith("'"):
        m = re.match(r"^'((?:[^']|'')+)'!(.+)$", formula)
        return (m.group(1).replace("''", "'"), m.group(2)) if m else None
    if "!" not in formula:
        return None, formula
    sheet, rest = formula.rsplit("!", 1)
    return (sheet, rest) if sheet and "'" not in sheet else None


def _one(formula: str) -> Ref:
    split = _sheet_and_rest(formula.strip())
    if split is None:
        return Ref("bad", reason=f"cannot read {formula!r}")
    sheet, rest = split
    if sheet is not None and sheet.startswith("[") and not sheet.startswith("[0]"):
        return Ref("bad", reason=f"{formula} points into another workbook")
    if _NAME.fullmatch(rest) and not _CELLISH.fullmatch(rest):
        return Ref("name", sheet=sheet, name=rest)
    if sheet is None:
        cellish = all(parse_cell(p) for p in rest.split(":"))
        return Ref("bad", reason=f"{formula!r} names no sheet" if cellish else f"cannot read {formula!r}")
    if _WHOLE.fullmatch(rest):
        return Ref("whole", sheet=sheet, reason=f"{formula} is whole rows or columns")
    parts = rest.split(":")
    if len(parts) > 2:
        return Ref("bad", reason=f"{rest} is not one block of cells")
    a, b = parse_cell(parts[0]), parse_cell(parts[-1])
    if not a or not b:
        return Ref("bad", reason=f"cannot read {formula!r}")
    area = Area(sheet, min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
    if area.r2 > MAX_ROW or area.c2 > MAX_COL:
        return Ref("bad", reason=f"{formula} lies beyond Excel's last row or column")
    return Ref("area", (area,), sheet=sheet)


def parse_ref(formula: str | None) -> Ref:
    """A series reference parsed (see `Ref`); never raises."""
    if formula is None:
        return Ref("bad", reason="a reference with no formula (<c:f>)")
    f = formula.strip()
    f = f[1:].strip() if f.startswith("=") else f
    if not f:
        return Ref("bad", reason="an empty formula")
    if "#REF!" in f.upper():
        return Ref("bad", reason=f"{f} holds #REF! (its cells were deleted)")
    if _DYNAMIC.search(f):
        return Ref("dynamic", reason=f"{f} is computed when the chart is drawn")
    if f.startswith("(") and f.endswith(")"):
        f = f[1:-1].strip()
    if f.count("(") or f.count(")"):
        return Ref("bad", reason=f"cannot read {formula.strip()!r}")
    parts = _split_top(f, ",")
    if len(parts) == 1:
        return _one(f)
    refs = [_one(p) for p in parts]
    bad = next((r for r in refs if r.kind != "area"), None)
    if bad is not None:
        return Ref("bad", reason=bad.reason if bad.kind == "bad" else f"cannot read {formula.strip()!r}")
    return Ref("union", tuple(r.areas[0] for r in refs))


def parse_area(formula: str):
    """`Sheet!$A$1:$A$9` → Area, or None for anything else (names, unions)."""
    ref = parse_ref(formula) if formula else None
    return ref.areas[0] if ref is not None and ref.kind == "area" else None


@dataclass(frozen=True)
class RefTarget:
    """Where a reference points in this workbook: 'ok' with its areas (sheet
    names as the workbook spells them), 'unchecked' (a union, whole columns,
    a computed name: valid for Excel, not checked cell by cell here) or
    'bad' (cannot be read, or points outside the workbook); `why` says which."""

    status: str
    areas: tuple = ()
    why: str = ""

    @property
    def area(self):
        return self.areas[0] if self.status == "ok" and len(self.areas) == 1 else None


def _sheet_named(book: Package, name: str):
    """The workbook's spelling of a sheet name (Excel matches them case-insensitively)."""
    return next((s for s in book.sheets if s.name.upper() == name.upper()), None)


def _on_sheets(book: Package, areas) -> RefTarget:
    out = []
    for a in areas:
        info = _sheet_named(book, a.sheet)
        if info is None:
            return RefTarget("bad", why=f"there is no sheet named {a.sheet!r}")
        if info.kind != "worksheet" or not info.part or not book.has(info.part):
            return RefTarget("bad", why=f"sheet {info.name!r} has no cells (a chart sheet or a missing part)")
        out.append(Area(info.name, a.r1, a.c1, a.r2, a.c2))
    return RefTarget("ok", tuple(out))


def _named(book: Package, ref: Ref, depth: int) -> RefTarget:
    scope = None
    if ref.sheet is not None and not ref.sheet.startswith("[0]"):
        info = _sheet_named(book, ref.sheet)
        scope = info.name if info is not None else None
        if info is None and not ref.sheet.lower().endswith((".xlsx", ".xlsm")):
            return RefTarget("bad", why=f"there is no sheet named {ref.sheet!r} (for the name {ref.name})")
    names = {(sc, n.upper()): text for (sc, n), text in book.defined_names.items()}
    text = names.get((scope, ref.name.upper()), names.get((None, ref.name.upper())))
    if text is None:
        return RefTarget("bad", why=f"there is no defined name {ref.name!r}")
    inner = resolve_ref(book, text, depth + 1)
    if inner.status == "bad":
        return RefTarget("bad", why=f"the name {ref.name!r} = {text}: {inner.why}")
    return inner


def resolve_ref(book: Package, formula: str | None, depth: int = 0) -> RefTarget:
    """Where a series reference points in `book` (see `RefTarget`)."""
    ref = parse_ref(formula)
    if ref.kind == "bad":
        return RefTarget("bad", why=ref.reason)
    if ref.kind in ("whole", "dynamic"):
        return RefTarget("unchecked", why=ref.reason)
    if ref.kind == "name":
        if depth > 4:
            return RefTarget("bad", why=f"the name {ref.name!r} refers to itself")
        return _named(book, ref, depth)
    target = _on_sheets(book, ref.areas)
    big = next((a for a in target.areas if a.length > MAX_POINTS), None)
    if big is not None:
        # Never read cell by cell: $A$1:$XFD$1048576 is 17 billion cells.
        return RefTarget("bad", why=f"{formula} spans {big.length:,} cells, more than the {MAX_POINTS:,} points "
                      "a series can plot")
    if ref.kind == "union" and target.status == "ok":
        return RefTarget("unchecked", target.areas, f"{formula} is a union of {len(ref.areas)} blocks")
    return target


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
    target: RefTarget | None = None   # set by `resolve`: where the formula points in the workbook

    @property
    def is_ref(self) -> bool:
        return self.kind in ("numRef", "strRef", "multiLvlStrRef")

    @property
    def area(self):
        """The one block of cells the reference points at (through a defined name too), else None."""
        if self.target is not None:
            return self.target.area
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
    label: Source | None = None   # the series name (c:tx): a reference, a typed text or absent

    def sources(self):
        """Every reference the series holds: values, categories/x, and its name."""
        return [src for src in (self.values, self.cats, self.label) if src is not None]


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
    if role == "tx" and el.find(C + "v") is not None:
        return Source(role, "text", elem=el)
    for kind in ("numRef", "strRef", "multiLvlStrRef", "numLit", "strLit"):
        k = el.find(C + kind)
        if k is None:
            continue
        src = Source(role, kind, elem=el)
        f = k.find(C + "f")
        src.formula = f.text.strip() if f is not None and f.text else None
        if role == "tx" and src.formula and _LITERAL.fullmatch(src.formula.lstrip("=")):
            return Source(role, "text", elem=el)  # a typed name written as a formula (LibreOffice: "a")
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
                    series.append(Series(len(series) + 1, tag, _series_name(ser), values, cats, ser,
                                         _source(ser, "tx")))
            elif tag in AXIS_TYPES:
                d = group.find(C + "delete")
                pos = group.find(C + "axPos")
                axid = group.find(C + "axId")
                axes.append(Axis(tag, axid.get("val") if axid is not None else "",
                                 d is not None and d.get("val") in ("1", "true"),
                                 pos.get("val") if pos is not None else None, group))
    return Chart(part, sheet, drawing, chart_title(root), types, series, axes, root)


def resolve(book: Package, chart: Chart) -> None:
    """Point every reference of a chart at the workbook's cells (`Source.target`)."""
    for s in chart.series:
        for src in s.sources():
            if src.is_ref:
                src.target = resolve_ref(book, src.formula)


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


def missing_parts(book: Package) -> list:
    """[(sheet, part, drawing, why)] for drawings and charts a sheet points at that are not in the zip."""
    out = []
    for s in book.sheets:
        if not s.part or not book.has(s.part):
            continue
        for rtype, drawing in book.rels(s.part).values():
            if rtype != "drawing":
                continue
            if not book.has(drawing):
                out.append((s.name, drawing, None, f"sheet {s.name!r} points at drawing {drawing}, which is missing"))
                continue
            rels = book.rels(drawing)
            for ctype, chart in rels.values():
                if ctype == "chart" and not book.has(chart):
                    out.append((s.name, chart, drawing, f"{drawing} points at chart part {chart}, which is missing"))
            for el in book.xml(drawing).iter(C + "chart"):
                rid = el.get("{%s}id" % NS["r"])
                if rid not in rels:
                    out.append((s.name, f"{drawing}#{rid}", drawing,
                                f"a chart in {drawing} names relationship {rid!r}, which its rels part lacks"))
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

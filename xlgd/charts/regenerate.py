"""`xlgd charts regenerate`: put xlgd's own charts back into a workbook.

The hidden `_xlgd` sheet records what the workbook was made from. A fresh
copy is generated from that record into a temporary file, and its charts
are grafted into the person's zip, sheet by sheet:

* a chart whose title matches one xlgd makes gets the fresh chart XML
  (links, axes, styling), with caches rebuilt from the person's cells;
* a chart xlgd makes that is missing is added (chart part, drawing anchor,
  relationship, content type);
* any other chart is the person's own and is left alone.

Only chart parts, drawings, their relationship parts, `[Content_Types].xml`
and, for a sheet that lost its whole drawing, that sheet's XML (one
`<drawing>` element inserted, every other byte kept) change.
"""

from __future__ import annotations

import copy
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import XlgdError
from ..recipe import record
from ..recipe.template import rebuild
from ..xlsx.package import Package
from .fix import rebuild_caches
from .model import NS, chart_title, parse_xml, read_chart, serialize

XDR = "{%s}" % NS["xdr"]
PR = "{%s}" % NS["pr"]
CT = "{%s}" % NS["ct"]
R_ID = "{%s}id" % NS["r"]
T_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
T_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
ANCHORS = ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor")
# Worksheet children that must come after <drawing> (ECMA-376 CT_Worksheet order).
AFTER_DRAWING = {"legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst", "AlternateContent"}


@dataclass
class Plan:
    replaced: dict = field(default_factory=dict)   # existing part -> new bytes
    added: dict = field(default_factory=dict)      # new part -> bytes (in order)
    messages: list = field(default_factory=list)
    checked: object = None  # what `regenerate`'s check said of the written copy


def read_record(book: Package) -> dict:
    rec = record.read(book)
    if rec is None:
        raise XlgdError(f"{book.path} has no xlgd record (hidden sheet {record.META_SHEET}); regenerate only "
                        "works on workbooks xlgd generated. Use `xlgd charts fix` for others")
    return rec


def generate_fresh(rec: dict, tmpdir: Path) -> Path:
    from ..pipeline import build

    recipe = rebuild(rec)
    out = tmpdir / "fresh.xlsx"
    build(recipe, out)
    return out


# --------------------------------------------------------------------------
# Part names and relationship parts


def _rels_name(part: str) -> str:
    d, base = part.rsplit("/", 1)
    return f"{d}/_rels/{base}.rels"


def _relative(src_part: str, target: str) -> str:
    import posixpath
    return posixpath.relpath(target, posixpath.dirname(src_part))


class Parts:
    """The person's zip as it will be: existing names plus what we add."""

    def __init__(self, book: Package, plan: Plan):
        self.book, self.plan = book, plan

    def exists(self, name):
        return self.book.has(name) or name in self.plan.added

    def read(self, name) -> bytes:
        for d in (self.plan.added, self.plan.replaced):
            if name in d:
                return d[name]
        return self.book.part(name)

    def put(self, name, data: bytes):
        if name in self.plan.added or not self.book.has(name):
            self.plan.added[name] = data
        elif data != self.book.part(name):
            self.plan.replaced[name] = data

    def new_name(self, pattern: str) -> str:
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    def add_rel(self, src_part: str, rtype: str, target_part: str) -> str:
        name = _rels_name(src_part)
        if self.exists(name):
            root = parse_xml(self.read(name), name)
            original = self.read(name)
        else:
            root = etree.Element(PR + "Relationships", nsmap={None: NS["pr"]})
            original = b""
        ids = {r.get("Id") for r in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rel = etree.SubElement(root, PR + "Relationship")
        rel.set("Id", f"rId{n}")
        rel.set("Type", rtype)
        rel.set("Target", _relative(src_part, target_part))
        self.put(name, serialize(root, original))
        return f"rId{n}"

    def add_override(self, part: str, ctype: str):
        data = self.read("[Content_Types].xml")
        if f'PartName="/{part}"'.encode() in data:
            return
        # Byte-level insert: every existing declaration stays as it was.
        entry = f'<Override PartName="/{part}" ContentType="{ctype}"/>'.encode()
        i = data.rindex(b"</")
        self.put("[Content_Types].xml", data[:i] + entry + data[i:])


# --------------------------------------------------------------------------
# Drawings


def _chart_anchors(root):
    """[(anchor element, chart r:id)] in the drawing's order."""
    out = []
    for anchor in root:
        if not isinstance(anchor.tag, str) or etree.QName(anchor).localname not in ANCHORS:
            continue
        ch = anchor.find(".//c:chart", NS)
        if ch is not None:
            out.append((anchor, ch.get(R_ID)))
    return out


def _drawing_of(rels: dict):
    for rid, (rtype, part) in rels.items():
        if rtype == "drawing":
            return rid, part
    return None, None


def _rels_of(parts: Parts, part: str) -> dict:
    name = _rels_name(part)
    if not parts.exists(name):
        return {}
    root = parse_xml(parts.read(name), name)
    import posixpath
    out = {}
    for rel in root:
        t = rel.get("Target", "")
        full = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(part), t))
        out[rel.get("Id")] = (rel.get("Type", "").rsplit("/", 1)[-1], full)
    return out


def _next_shape_id(root) -> int:
    ids = [int(e.get("id")) for e in root.iter(XDR + "cNvPr") if (e.get("id") or "").isdigit()]
    return max(ids, default=1) + 1


def _fresh_charts(fresh: Package, sheet: str):
    """[(title, anchor element, chart xml bytes)] of one fresh sheet, in order."""
    part = fresh.sheet_part(sheet)
    rels = fresh.rels(part)
    _, drawing = _drawing_of(rels)
    if drawing is None:
        return []
    drels = fresh.rels(drawing)
    out = []
    for anchor, rid in _chart_anchors(fresh.xml(drawing, editable=True)):
        cpart = drels[rid][1]
        data = fresh.part(cpart)
        if fresh.rels(cpart):
            raise XlgdError(f"internal: generated chart {cpart} has its own parts; cannot graft it")
        out.append((chart_title(parse_xml(data, cpart)), anchor, data))
    return out


# --------------------------------------------------------------------------
# Sheet XML: insert <drawing r:id> without touching other bytes

_TOKEN = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>"
    rb"|<(/?)([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>",
    re.DOTALL)


def insert_drawing_element(sheet_xml: bytes, rid: str) -> bytes:
    depth, root_tag, insert_at, end_of_root = 0, None, None, None
    for m in _TOKEN.finditer(sheet_xml):
        if m.group(2) is None:
            continue
        closing, name, attrs, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
        local = name.split(b":")[-1].decode()
        if closing:
            depth -= 1
            if depth == 0:
                end_of_root = m.start()
            continue
        if depth == 0 and root_tag is None:
            root_tag = (name, attrs)
        elif depth == 1 and local in AFTER_DRAWING and insert_at is None:
            insert_at = m.start()
        if local == "drawing" and depth == 1:
            raise XlgdError("sheet already has a <drawing> element but no drawing part; repair it in Excel")
        if not selfclose:
            depth += 1
    if root_tag is None or end_of_root is None:
        raise XlgdError("a worksheet part is not a well-formed worksheet")
    name, attrs = root_tag
    prefix = name.split(b":")[0] + b":" if b":" in name else b""
    m = re.search(rb'xmlns:(\w+)="' + re.escape(NS["r"].encode()) + b'"', attrs)
    if m:
        elem = b"<" + prefix + b"drawing " + m.group(1) + b':id="' + rid.encode() + b'"/>'
    else:
        elem = (b"<" + prefix + b'drawing xmlns:r="' + NS["r"].encode() + b'" r:id="' + rid.encode() + b'"/>')
    at = insert_at if insert_at is not None else end_of_root
    return sheet_xml[:at] + elem + sheet_xml[at:]


# --------------------------------------------------------------------------
# The plan


def _new_chart(parts: Parts, xml: bytes) -> str:
    name = parts.new_name("xl/charts/chart{}.xml")
    parts.put(name, xml)
    parts.add_override(name, CT_CHART)
    return name


def _refresh(book: Package, xml: bytes, part: str) -> bytes:
    """Fresh chart XML with caches from the person's cells (they may have changed inputs)."""
    root = parse_xml(xml, part)
    rebuild_caches(book, read_chart(root, part))
    return serialize(root, xml)


def plan_sheet(book: Package, fresh: Package, parts: Parts, sheet: str):
    plan = parts.plan
    wanted = _fresh_charts(fresh, sheet)
    if not wanted:
        return
    spart = book.sheet_part(sheet)
    _, drawing = _drawing_of(_rels_of(parts, spart))
    if drawing is None or not parts.exists(drawing):
        drawing = parts.new_name("xl/drawings/drawing{}.xml")
        root = etree.Element(XDR + "wsDr", nsmap={"xdr": NS["xdr"], "a": NS["a"]})
        for _, anchor, xml in wanted:
            cpart = _new_chart(parts, _refresh(book, xml, "chart"))
            rid = parts.add_rel(drawing, T_CHART, cpart)
            a = copy.deepcopy(anchor)
            a.find(".//c:chart", NS).set(R_ID, rid)
            root.append(a)
        parts.put(drawing, serialize(root))
        parts.add_override(drawing, CT_DRAWING)
        rid = parts.add_rel(spart, T_DRAWING, drawing)
        parts.put(spart, insert_drawing_element(parts.read(spart), rid))
        plan.messages.append(f"{sheet}: {len(wanted)} chart(s) added (the sheet had none)")
        return
    original = parts.read(drawing)
    root = parse_xml(original, drawing)
    drels = _rels_of(parts, drawing)
    have = {}
    for anchor, rid in _chart_anchors(root):
        if rid in drels and parts.exists(drels[rid][1]):
            cpart = drels[rid][1]
            have.setdefault(chart_title(parse_xml(parts.read(cpart), cpart)), []).append(cpart)
    added = 0
    for title, anchor, xml in wanted:
        if have.get(title):
            cpart = have[title].pop(0)
            new = _refresh(book, xml, cpart)
            if new != parts.read(cpart):
                parts.put(cpart, new)
                plan.messages.append(f"{sheet}: {title!r} rebuilt ({cpart})")
            continue
        cpart = _new_chart(parts, _refresh(book, xml, "chart"))
        rid = parts.add_rel(drawing, T_CHART, cpart)
        a = copy.deepcopy(anchor)
        a.find(".//c:chart", NS).set(R_ID, rid)
        for cnv in a.iter(XDR + "cNvPr"):
            cnv.set("id", str(_next_shape_id(root)))
        root.append(a)
        added += 1
        plan.messages.append(f"{sheet}: {title!r} added ({cpart})")
    if added:
        parts.put(drawing, serialize(root, original))


def plan_regenerate(book: Package, fresh: Package) -> Plan:
    rec = read_record(book)
    plan = Plan()
    parts = Parts(book, plan)
    present = {s.name for s in book.sheets if s.kind == "worksheet"}
    for s in rec.get("sheets", []):
        name = s.get("name")
        if name not in present:
            plan.messages.append(f"{name}: sheet not in the workbook (renamed or deleted); skipped")
            continue
        plan_sheet(book, fresh, parts, name)
    return plan


def regenerate(book_path: Path, out: Path, check=None):
    """Plan and write the regenerated copy; check(path of the copy) reads it back before it
    becomes `out` (its result is Plan.checked; if it fails, nothing is written)."""
    from .fix import write_zip

    with Package.open(book_path) as book:
        rec = read_record(book)
        with tempfile.TemporaryDirectory(prefix="xlgd-regen-") as tmp:
            fresh_path = generate_fresh(rec, Path(tmp))
            with Package.open(fresh_path) as fresh:
                plan = plan_regenerate(book, fresh)
        if plan.replaced or plan.added:
            plan.checked = write_zip(book, out, plan.replaced, plan.added, check)
    return plan

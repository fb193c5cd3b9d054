"""Edits a learner makes, done to a generated workbook's XML inside the zip.

Each edit changes only what the person changed (cached values stay, as in
a file saved without recalculating), and shifts references the way Excel
does when rows or columns are inserted or deleted, so the diff sees what a
real edited file holds.
"""

from __future__ import annotations

import re
import zipfile

from lxml import etree

from xlgd.xlsx import refs
from xlgd.xlsx.package import Package

S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CNS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def sheet_part(path, name):
    with Package.open(path) as src:
        return src.sheet_part(name)


def rewrite(src, dst, edits: dict):
    """Copy the zip, passing the named parts through edits[name](bytes) -> bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for pattern, fn in edits.items():
                if re.fullmatch(pattern, info.filename):
                    data = fn(data)
            zout.writestr(info, data)
    return dst


def unshare(root):
    """Write a sheet's shared formulas (`<f t="shared">`, which xlgd, like Excel, writes for runs of
    one column) out cell by cell, as openpyxl and LibreOffice save them: the same formulas, so the
    edits below can be Excel's edits of plain formulas."""
    masters = {}
    for c in root.iter(S + "c"):
        f = c.find(S + "f")
        if f is None or f.get("t") != "shared":
            continue
        r, col, _, _ = refs.split_ref(c.get("r"))
        if f.text:
            masters[f.get("si")] = (f.text, r, col)
        else:
            text, mr, mc = masters[f.get("si")]
            f.text = refs.shift(text, r - mr, col - mc)
        for a in ("t", "si", "ref"):
            f.attrib.pop(a, None)


def xml_edit(fn):
    def run(data):
        root = etree.fromstring(data)
        if root.tag == S + "worksheet":
            unshare(root)
        fn(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return run


def cell(root, ref):
    for c in root.iter(S + "c"):
        if c.get("r") == ref:
            return c
    raise KeyError(ref)


def set_value(ref, value):
    """Type a number into a cell (over a formula, if it had one)."""
    def fn(root):
        c = cell(root, ref)
        for child in list(c):
            c.remove(child)
        c.attrib.pop("t", None)
        etree.SubElement(c, S + "v").text = repr(float(value))
    return xml_edit(fn)


def set_formula(ref, text):
    def fn(root):
        cell(root, ref).find(S + "f").text = text
    return xml_edit(fn)


def move_refs(formula, on_target, rows=None, cols=None):
    """Excel's reference update for an inserted row / deleted column.

    rows=(at, by): rows >= at move by `by`; cols=(col, -1): the column is
    deleted (references to it become #REF!), later columns move left.
    Only references on the target sheet move (`on_target` says whether
    unprefixed references are on it; prefixed ones name their sheet).
    """
    out, target, prev = [], None, None
    toks = refs.tokens(formula)
    for kind, t in toks:
        if kind == "sheet":
            target = on_target(t[:-1].strip("'"))
            out.append(t)
            prev = kind
            continue
        if kind == "ref":
            here = on_target(None) if target is None else target
            if here:
                r, c, ra, ca = refs.split_ref(t)
                if rows and r >= rows[0]:
                    r += rows[1]
                if cols:
                    if c == cols[0]:
                        t = "#REF!"
                        out.append(t)
                        prev = kind
                        continue
                    if c > cols[0]:
                        c -= 1
                t = f"{'$' if ca else ''}{refs.col_letters(c)}{'$' if ra else ''}{r}"
            if not (prev == "op" and out and out[-1] == ":"):
                pass
        elif not (kind == "op" and t == ":"):
            target = None
        out.append(t)
        prev = kind
    return "".join(out)


def insert_row(at):
    """Insert an empty row before row `at`; rows below and references to them move down."""
    def fn(root):
        for row in list(root.iter(S + "row")):
            r = int(row.get("r"))
            if r >= at:
                row.set("r", str(r + 1))
                for c in row.iter(S + "c"):
                    m = re.match(r"([A-Z]+)(\d+)", c.get("r"))
                    c.set("r", f"{m.group(1)}{int(m.group(2)) + 1}")
        for f in root.iter(S + "f"):
            if f.text:
                f.text = move_refs(f.text, lambda s: s is None, rows=(at, 1))
        data = root.find(S + "sheetData")
        for i, row in enumerate(data):
            if int(row.get("r")) > at:
                new = etree.Element(S + "row", r=str(at))
                data.insert(i, new)
                break
    return xml_edit(fn)


def delete_column(col):
    def fn(root):
        for row in root.iter(S + "row"):
            for c in list(row.iter(S + "c")):
                m = re.match(r"([A-Z]+)(\d+)", c.get("r"))
                ci = refs.col_number(m.group(1))
                if ci == col:
                    row.remove(c)
                elif ci > col:
                    c.set("r", f"{refs.col_letters(ci - 1)}{m.group(2)}")
        for f in root.iter(S + "f"):
            if f.text:
                f.text = move_refs(f.text, lambda s: s is None, cols=(col, -1))
    return xml_edit(fn)


def chart_refs(fn_text):
    """Rewrite every series reference text in a chart part."""
    def fn(root):
        for f in root.iter(CNS + "f"):
            if f.text:
                f.text = fn_text(f.text)
    return xml_edit(fn)


def workbook_edit(fn):
    return xml_edit(fn)


def set_cached(ref, text):
    """Change only what a formula cell holds as its value (<v>), as a file that was not recalculated."""
    def fn(root):
        c = cell(root, ref)
        c.attrib.pop("t", None)
        v = c.find(S + "v")
        if v is None:
            v = etree.SubElement(c, S + "v")
        v.text = text
    return xml_edit(fn)


def _row_el(root, r):
    """The <row r=..> element, created in order when missing."""
    data = root.find(S + "sheetData")
    for i, row in enumerate(data):
        n = int(row.get("r"))
        if n == r:
            return row
        if n > r:
            new = etree.Element(S + "row", r=str(r))
            data.insert(i, new)
            return new
    return etree.SubElement(data, S + "row", r=str(r))


def put_text(ref, text):
    """Type a label into a cell (created if the row or cell does not exist)."""
    def fn(root):
        m = re.match(r"([A-Z]+)(\d+)", ref)
        row = _row_el(root, int(m.group(2)))
        try:
            c = cell(root, ref)
            for child in list(c):
                c.remove(child)
        except KeyError:
            col = refs.col_number(m.group(1))
            after = [x for x in row if refs.col_number(re.match(r"[A-Z]+", x.get("r")).group()) < col]
            c = etree.Element(S + "c", r=ref)
            row.insert(len(after), c)
        c.set("t", "inlineStr")
        etree.SubElement(etree.SubElement(c, S + "is"), S + "t").text = text
    return xml_edit(fn)


def fill_down(row_from):
    """Excel's fill down into the (empty, inserted) row below `row_from`: constants copied,
    formulas copied with their relative references moved one row, cached values kept."""
    def fn(root):
        src = _row_el(root, row_from)
        dst = _row_el(root, row_from + 1)
        for c in list(src):
            new = etree.fromstring(etree.tostring(c))
            m = re.match(r"([A-Z]+)(\d+)", c.get("r"))
            new.set("r", f"{m.group(1)}{row_from + 1}")
            f = new.find(S + "f")
            if f is not None:
                f.attrib.clear()  # a shared formula's copy is a formula of its own
                f.text = refs.shift(formula_text(root, c), 1, 0)
            dst.append(new)
    return xml_edit(fn)


def formula_text(root, c):
    """A cell's formula text, a shared formula's expanded from its master."""
    f = c.find(S + "f")
    if f.get("t") != "shared" or f.text:
        return f.text
    si = f.get("si")
    for other in root.iter(S + "c"):
        g = other.find(S + "f")
        if g is not None and g.get("t") == "shared" and g.get("si") == si and g.text:
            (r0, c0), (r1, c1) = refs.parse_cell(other.get("r")), refs.parse_cell(c.get("r"))
            return refs.shift(g.text, r1 - r0, c1 - c0)
    raise KeyError(c.get("r"))


def rename_sheet(old, new):
    """workbook.xml: the sheet's name and every defined name pointing at it."""
    def fn(root):
        for sh in root.iter(S + "sheet"):
            if sh.get("name") == old:
                sh.set("name", new)
        for dn in root.iter(S + "definedName"):
            if dn.text:
                dn.text = dn.text.replace(f"{refs.quote_sheet(old)}!", f"{refs.quote_sheet(new)}!")
    return xml_edit(fn)


def chain(*fns):
    def run(data):
        for fn in fns:
            data = fn(data)
        return data
    return run


def chart_parts(path, sheet):
    """A pattern for `rewrite` matching the chart parts drawn on one sheet (they move with it)."""
    from xlgd.charts.model import read_charts

    with Package.open(path) as src:
        parts = [ch.part for ch in read_charts(src) if ch.sheet == sheet]
    return "(" + "|".join(re.escape(p) for p in parts) + ")"

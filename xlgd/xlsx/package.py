"""Read a workbook's formulas and cached values, streaming, in bounded memory.

`Package.open(path)` opens the zip through `safezip` (every bad-input guard) and
reads the small parts with a hardened lxml parser: the sheet list, defined
names, calcPr, shared strings, the producing application (docProps/app.xml)
and whether macros are present. `book.cells(sheet)` then streams one
sheet's cells in file order as `Cell(row, col, formula, value, kind)`:

* row/col 1-based; formula without '=' (None for a constant), shared
  formulas (`<f t="shared" si=..>`, how Excel and LibreOffice store runs of
  similar formulas -- graddesc-2018.xlsm is full of them) expanded to each
  cell's own text;
* value: float for numbers and booleans, str for text, an error code
  ('#NUM!') for kind 'e', None when the cell has no cached value.

The sheet body is read by a regex scanner, not a full XML parser: it is the
one reader fast enough for big sheets (benchmarks/RESULTS.md compares it with
openpyxl, lxml iterparse and python-calamine). `sheetdata.py` streams the
`<sheetData>` body in chunks cut at `</row>` boundaries (memory flat in the row
count); the scanner is strict: each piece's count of `<c` elements must equal
the cells it matched; any shape it does not know (namespace prefixes, cells
without an `r` attribute) makes the whole sheet fall back to lxml `iterparse`
(hardened: no entities, no DTD, no network), which yields the same cells.
Tests read every sheet both ways and compare.

Nothing damaged passes as empty: every part is checked for its root
element (namespace-aware, so `<x:worksheet>` is SpreadsheetML too) before
it is read, a worksheet must be UTF-8 or UTF-16 as it declares and close
after its cells, and a cell outside A1:XFD1048576, a shared string that
does not exist or a sheet without its part is an error naming the part.

`bodies()` hands out the raw pieces of whole rows so that `verify` can
compare rows it knows the exact text of in bulk and only scan the others
(`scan_piece`), as a cell scanned costs Python objects.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass
from html import unescape
from typing import Iterator, NamedTuple

from ..errors import XlgdError, shorten
from .ods import as_xlsx, is_ods, recalculated
from .refs import FormulaSyntaxError, a1, col_number, shift, split_ref
from .rowtemplate import CellParts
from .safezip import SafeZip, iterparse, parse_xml, root_element
from .sheetdata import (
    MAX_COL,
    MAX_ROW,
    ODD_ROW,
    Fallback,
    Prefetch,
    cell_address,
    check_tail,
    checked_rows,
    decoded,
    row_number,
    row_pieces,
    sheet_data_start,
)

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PNS = "http://schemas.openxmlformats.org/package/2006/relationships"
CTNS = "http://schemas.openxmlformats.org/package/2006/content-types"
_M = "{%s}" % NS
_P = "{%s}" % PNS
CHUNK = 8 << 20

_CELL = re.compile(
    r'<c r="([A-Z]{1,3})([0-9]+)"([^>]*?)(?:/>|>'
    r'(?:<f>([^<]*)</f>|<f((?:\s+[a-zA-Z]+="[^"]*")*)\s*(?:/>|>([^<]*)</f>))?'
    r'(?:<v>([^<]*)</v>)?(.*?)</c>)', re.DOTALL)
_T_ATTR = re.compile(r'\st="([a-zA-Z]+)"')
_ATTR = re.compile(r'([a-zA-Z]+)="([^"]*)"')
_ROW_PAST = re.compile(r'<row r="([0-9]{1,7})"')  # (a row number past 7 digits is past every `until`)
_INLINE_T = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>|<t\s*/>", re.DOTALL)
_XCHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xstring(text: str) -> str:
    """A text as Excel reads it (ECMA-376's ST_Xstring): `_xHHHH_` is the character HHHH -- Excel writes a
    control character so (`_x000D_`), and an underscore that would start one as `_x005F_`."""
    return _XCHAR.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class Cell(NamedTuple):
    row: int
    col: int
    formula: str | None
    value: object
    kind: str  # 'n' number, 'e' error, 's' text, 'b' boolean, '' empty
    array: str | None = None  # an array formula's range ("E5:F6") on its first cell


@dataclass
class SheetInfo:
    name: str
    part: str
    state: str = "visible"
    index: int = 0
    kind: str = "worksheet"  # or 'chartsheet' (a sheet that is one chart, no cells)


class _Unknown:
    """The value of a formula cell nobody calculated yet: not empty, not known."""

    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = _Unknown()
MAX_PART_BYTES = 64 << 20  # a workbook's XML parts other than sheets are kilobytes; sheets stream


def _kept_cached_values(pkg, numbers):
    """Refuse an .ods whose cached values LibreOffice replaced while converting it: checking its
    recalculation would call a stale file OK."""
    changed = recalculated(pkg, numbers)
    if changed is not None:
        (sheet, row, col), want, got = changed
        raise XlgdError(f"{pkg.path}: LibreOffice recalculates its formulas on opening it, and {sheet}!{a1(row, col)} "
                        f"then differs from the value the file holds ({want!r}, recalculated {got!r}): a stale "
                        f"value or another application's arithmetic; its cached values cannot be checked")


class Package:
    """One .xlsx/.xlsm opened for reading: the only reader of workbook files in xlgd.

    Opens the zip through `SafeZip` (every bad-input guard) and parses XML only
    with the hardened parser; verify, diff and charts all read through it.
    Small parts: `part`/`xml`, `rels`, `sheets`, `defined_names`, `calc`,
    `application`, `custom`, `has_macros`, `strings()`. Cells: `cells(sheet)` /
    `rows(sheet)` stream (see the module doc), `bodies`/`scan_piece` hand out
    raw row pieces, `values(sheet, rows, cols)` looks a few cells up (charts).
    """

    def __init__(self, path, archive: SafeZip):
        self.path = str(path)
        self._z = archive
        self._strings = None
        self._parts = {}
        self._values = {}
        self._first = {}  # sheet -> (until, cells of its rows 1..until): `first_rows`
        self.cell_parts = CellParts()  # the parts of the cells the row readers have seen
        self._converted = None  # the temporary directory of an .ods read as .xlsx
        self.opendocument = False  # the file is an .ods, read as the .xlsx LibreOffice makes of it
        self._heads = {}  # sheet part -> True if the scanner reads it (see _scannable)
        self.sheets: list[SheetInfo] = []
        self.defined_names: dict = {}  # (sheet scope or None, name as written) -> reference text
        self.defined_name_list: list = []  # every <definedName> in order: (scope or None, name, text)
        self.calc: dict = {}  # calcPr attributes
        self.application = ""
        self.custom: dict = {}
        self.has_macros = False
        self.macro_enabled = False  # the content type says .xlsm (macros or not)

    @classmethod
    def open(cls, path, shown_as=None) -> "Package":
        """The workbook at path; shown_as: the name its messages give it (a copy about to replace
        a file, checked under the name of the file it was made from)."""
        z, converted, numbers = SafeZip(path), None, None
        if is_ods(z):  # read as the .xlsx LibreOffice makes of it (xlsx/ods.py)
            converted = tempfile.mkdtemp(prefix="xlgd-ods-")
            try:
                xlsx, numbers = as_xlsx(path, z, converted)
                z.close()
                z = SafeZip(xlsx)
                z.path = str(path)  # messages name the user's file, not the temporary .xlsx
            except BaseException:
                z.close()
                shutil.rmtree(converted, ignore_errors=True)
                raise
        pkg = cls(shown_as if shown_as is not None else path, z)
        pkg._converted, pkg.opendocument = converted, converted is not None
        try:
            pkg._read_workbook()
            if numbers:
                _kept_cached_values(pkg, numbers)
        except BaseException:
            pkg.close()
            raise
        return pkg

    def close(self):
        self._z.close()
        if self._converted:
            shutil.rmtree(self._converted, ignore_errors=True)
            self._converted = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ parts
    def has(self, name) -> bool:
        return self._z.has(name)

    def members(self) -> list:
        """The zip's members (ZipInfo) in file order, for copying the package part by part."""
        return list(self._z.infos.values())

    def names(self) -> list:
        return self._z.names()

    def open_member(self, name):
        """A capped stream over one member (for copying it unchanged)."""
        return self._z.open(name)

    def part(self, name) -> bytes:
        """A part's bytes (small XML parts are kept: charts ask for the same rels many times)."""
        if name in self._parts:
            return self._parts[name]
        with self._z.open(name) as f:
            data = f.read(MAX_PART_BYTES + 1)
        if len(data) > MAX_PART_BYTES:
            raise XlgdError(f"{self.path}: part {name} is larger than {MAX_PART_BYTES >> 20} MB; refusing it "
                            f"(no such part of a workbook is that big)")
        if name.endswith((".xml", ".rels")) and len(data) < (1 << 20):
            self._parts[name] = data
        return data

    def xml(self, name, editable=False, root: str | None = None):
        """A part parsed by the hardened parser; editable keeps comments (the part will be written back).

        root: the element the part must be (`{namespace}name`); a part in another namespace or of
        another kind is an error naming it -- never read as a part with nothing in it."""
        el = parse_xml(self.part(name), f"{self.path}: {name}", keep_comments=editable)
        if root is not None and el.tag != root:
            raise XlgdError(f"{self.path}: part {name} is not {_describe(root)} (its root element is "
                            f"{_describe(el.tag)})")
        return el

    def rels(self, part: str) -> dict:
        """{rId: (type suffix, target part)} of a part's relationships, {} when it has none."""
        d, base = posixpath.split(part)
        rels_name = posixpath.join(d, "_rels", base + ".rels")
        if not self.has(rels_name):
            return {}
        out = {}
        for rel in self.xml(rels_name, root=_P + "Relationships"):
            if rel.tag != _P + "Relationship" or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target") or ""
            full = target.lstrip("/") if target.startswith("/") else _norm_path(posixpath.join(d, target))
            if full is None or not full or not rel.get("Id"):
                raise XlgdError(f"{self.path}: part {rels_name} has a relationship to {target!r}, "
                                f"which is not a part of the package")
            out[rel.get("Id")] = (rel.get("Type", "").rsplit("/", 1)[-1], full)
        return out

    # ------------------------------------------------------------ the workbook part and its friends
    def _read_workbook(self):
        if not self.has("xl/workbook.xml") or not self.has("[Content_Types].xml"):
            raise XlgdError(f"{self.path} is a zip but not an Excel workbook (no xl/workbook.xml)")
        self.xml("[Content_Types].xml", root="{%s}Types" % CTNS)
        wb = self.xml("xl/workbook.xml", root=_M + "workbook")
        rels = self.rels("xl/workbook.xml")
        self._read_sheets(wb, rels)
        for d in wb.iter(_M + "definedName"):
            local = d.get("localSheetId")
            sheet = None
            if local is not None:
                if not (local.isdigit() and len(local) < 10 and int(local) < len(self.sheets)):
                    raise XlgdError(f"{self.path}: part xl/workbook.xml names {d.get('name')!r} for sheet "
                                    f"number {shorten(local, 20)}, which does not exist")
                sheet = self.sheets[int(local)].name
            self.defined_names[(sheet, d.get("name") or "")] = (d.text or "").strip()
            self.defined_name_list.append((sheet, d.get("name") or "", (d.text or "").strip()))
        self._upper = {(s, n.upper()): text for (s, n), text in self.defined_names.items()}
        cp = next(wb.iter(_M + "calcPr"), None)
        self.calc = dict(cp.attrib) if cp is not None else {}
        self._read_props()
        self.has_macros = any(n.lower().endswith("vbaproject.bin") for n in self.names())
        self.macro_enabled = self.has_macros or b"macroEnabled" in self.part("[Content_Types].xml")

    def _read_sheets(self, wb, rels):
        """The sheet list: every sheet named once (Excel: names unique ignoring case) and found
        through the workbook's relationships."""
        seen = set()
        for i, s in enumerate(wb.iter(_M + "sheet")):
            name = s.get("name") or ""
            if not name.strip() or name.lower() in seen:
                what = "a sheet with no name" if not name.strip() else f"two sheets named {shorten(name)!r}"
                raise XlgdError(f"{self.path}: part xl/workbook.xml lists {what}")
            seen.add(name.lower())
            rid = s.get("{%s}id" % RNS)
            if rid not in rels:
                raise XlgdError(f"{self.path}: part xl/workbook.xml lists sheet {shorten(name)!r} with relationship "
                                f"{shorten(str(rid), 20)}, which xl/_rels/workbook.xml.rels does not have")
            kind, part = rels[rid]
            if not self.has(part):
                raise XlgdError(f"{self.path}: part xl/workbook.xml lists sheet {shorten(name)!r} in part {part}, "
                                f"which the package does not have")
            self.sheets.append(SheetInfo(name, part, s.get("state", "visible"), i,
                                         "chartsheet" if kind == "chartsheet" else "worksheet"))
        if not self.sheets:
            raise XlgdError(f"{self.path}: part xl/workbook.xml lists no sheets (a workbook has at least one)")

    def _read_props(self):
        if self.has("docProps/app.xml"):
            app = self.xml("docProps/app.xml")
            el = next((e for e in app.iter() if isinstance(e.tag, str) and e.tag.endswith("}Application")), None)
            self.application = (el.text or "").strip() if el is not None else ""
        if self.has("docProps/custom.xml"):
            for p in self.xml("docProps/custom.xml"):
                vals = [c.text for c in p]
                self.custom[p.get("name")] = vals[0] if vals else None

    @property
    def producer(self) -> str:
        """'libreoffice' if LibreOffice saved the file last, else 'excel' (Excel, XlsxWriter, openpyxl...)."""
        return "libreoffice" if "libreoffice" in self.application.lower() else "excel"

    def sheet(self, name) -> SheetInfo:
        for s in self.sheets:
            if s.name == name:
                return s
        raise XlgdError(f"{self.path} has no sheet {name!r}; its sheets: {', '.join(self.sheet_names)}")

    @property
    def sheet_names(self):
        return [s.name for s in self.sheets]

    @property
    def worksheet_names(self):
        """The sheets that hold cells (not chart sheets), in workbook order."""
        return [s.name for s in self.sheets if s.kind == "worksheet" and s.part and self.has(s.part)]

    def sheet_part(self, name) -> str:
        """The part of a worksheet (an error for a chart sheet or a missing part)."""
        for s in self.sheets:
            if s.name == name and s.kind == "worksheet":
                if not s.part or not self.has(s.part):
                    raise XlgdError(f"{self.path}: sheet {name!r} part {s.part} is missing")
                return s.part
        raise XlgdError(f"{self.path}: no worksheet named {name!r}")

    def name_ref(self, sheet, name):
        """A defined name's reference as (sheet, row, col), sheet-local first; None if not a single cell."""
        text = self._upper.get((sheet, name.upper()), self._upper.get((None, name.upper())))
        if not text or "!" not in text:
            return None
        sh, ref = text.rsplit("!", 1)
        sh = sh.strip("'").replace("''", "'")
        try:
            r, c, _, _ = split_ref(ref)
        except FormulaSyntaxError:
            return None
        return sh, r, c

    def strings(self) -> list:
        """The shared strings (found through the workbook's relationships), phonetic runs left out."""
        if self._strings is None:
            self._strings = []
            part = next((p for t, p in self.rels("xl/workbook.xml").values() if t == "sharedStrings"),
                        "xl/sharedStrings.xml")
            if self.has(part):
                where = f"{self.path}: part {part}"
                with self._z.open(part) as f:
                    root, _ = root_element(f, where)
                if root.tag != _M + "sst":
                    raise XlgdError(f"{where} is not {_describe(_M + 'sst')} (its root element is {_describe(root.tag)})")
                with self._z.open(part) as f:
                    for _, si in iterparse(f, where, events=("end",), tag=_M + "si"):
                        self._strings.append(xstring("".join(t.text or "" for t in si.iter(_M + "t")
                                                             if t.getparent().tag != _M + "rPh")))
                        si.clear()
        return self._strings

    def values(self, sheet: str, rows: tuple, cols=None) -> dict:
        """{(row, col): value} of a worksheet's cached values, at least for rows lo..hi and the
        given columns (all when None): a few cells for a chart's cache or a header.

        Values are float, str (text and error codes alike), bool, None (empty) or UNKNOWN (a
        formula nobody calculated). Streams the sheet, keeps only what was asked for and stops
        after the last wanted row; what was read is kept for the next question."""
        part = self.sheet_part(sheet)
        lo, hi = rows
        want = None if cols is None else frozenset(cols)
        regions, out = self._values.setdefault(part, ([], {}))
        for rlo, rhi, rcols in regions:
            if rlo <= lo and rhi >= hi and (rcols is None or (want is not None and want <= rcols)):
                return out
        for c in self.cells(sheet):
            if c.row > hi:
                break
            if c.row >= lo and (want is None or c.col in want):
                out[(c.row, c.col)] = _plain_value(c)
        regions.append((lo, hi, want))
        return out

    # ------------------------------------------------------------------ cells
    def cells(self, sheet: str, force_xml=False) -> Iterator[Cell]:
        """Every non-empty cell of a sheet, row by row, in file order."""
        info = self.sheet(sheet)
        if not info.part or not self._z.has(info.part):
            raise XlgdError(f"{self.path}: sheet {sheet!r} has no worksheet part (a chart sheet?)")
        if not self._scannable(info):
            force_xml = True
        done = 0
        if not force_xml:
            try:
                for done, cell in enumerate(self._scan(info), 1):
                    yield cell
                return
            except Fallback:
                pass  # lxml reads the sheet from the start: the cells the scanner gave are not given twice
        yield from itertools.islice(self._iterparse(info), done, None)

    def first_rows(self, sheet: str, until: int) -> list:
        """The cells of a sheet's rows 1..until, in file order: read from the sheet's start once and
        kept (a question about fewer rows is answered from what was read)."""
        got = self._first.get(sheet)
        if got is None or got[0] < until:
            got = self._first[sheet] = (until, self._read_first_rows(sheet, until))
        return got[1] if got[0] == until else [c for c in got[1] if c.row <= until]

    def _read_first_rows(self, sheet, until):
        try:
            pieces = self.bodies(sheet)
            shared, cols, out = {}, {}, []
            try:
                for body in pieces:
                    past = _ROW_PAST.search(body, 0)
                    while past is not None and int(past.group(1)) <= until:
                        past = _ROW_PAST.search(body, past.end())
                    out += self.scan_piece(sheet, body if past is None else body[:past.start()], shared, cols)
                    if past is not None:
                        break
            finally:
                pieces.close()
            return out
        except Fallback:
            return list(itertools.takewhile(lambda c: c.row <= until, self.cells(sheet, force_xml=True)))

    def rows(self, sheet: str, force_xml=False):
        """Cells grouped by row: yields (row, [Cell, ...])."""
        cur, group = None, []
        for c in self.cells(sheet, force_xml):
            if c.row != cur:
                if group:
                    yield cur, group
                cur, group = c.row, []
            group.append(c)
        if group:
            yield cur, group

    def typed_value(self, value: str, kind: str, sheet: str):
        """(value, kind) of a cell's <v> text and t attribute on `sheet`, checked as every reader of
        this package checks it: a shared string past the table or a number that is not one is an
        XlgdError naming it and the sheet (a fast reader cutting values out of the XML itself comes
        here for its odd cells)."""
        try:
            return self._value(value, kind, None)
        except XlgdError as e:
            raise XlgdError(f"{e} (on sheet {sheet!r})") from None

    def _value(self, v, t, rest):
        if t == "s":
            if v is None:
                return None, ""
            strings = self.strings()
            i = int(v) if v.isdigit() and len(v) < 10 else -1
            if not 0 <= i < len(strings):
                raise XlgdError(f"{self.path}: a cell points at shared string {shorten(v, 20)}, which part "
                                f"xl/sharedStrings.xml does not have ({len(strings)} strings)")
            return strings[i], "s"
        if t == "inlineStr":
            parts = _INLINE_T.findall(rest or "")
            return xstring(unescape("".join(parts))), "s"
        if v is None or (v == "" and t not in ("str", "inlineStr")):
            return None, ""
        if "&" in v:
            v = unescape(v)
        if t == "e":
            return v, "e"
        if t in ("str", "s"):
            return xstring(v), "s"
        if t == "b":
            return (1.0 if v.strip() in ("1", "true") else 0.0), "b"
        try:
            return float(v), "n"
        except ValueError:
            raise XlgdError(f"{self.path}: a number cell holds {shorten(v, 20)!r}") from None

    def _scan(self, info) -> Iterator[Cell]:
        shared = {}
        cols = {}
        for body in self._bodies(info):
            yield from self._scan_body(body, shared, cols, info)

    def bodies(self, sheet: str, rows_checked=True):
        """The sheet's `<sheetData>` text in pieces of whole rows (about CHUNK bytes each), for
        readers that check many rows at once; parse a piece with `scan_piece`. Raises `Fallback`
        where the scanner cannot read the sheet (use `cells(sheet, force_xml=True)` then).
        rows_checked=False: the pieces' row numbers are not checked (a cost on big sheets); the
        reader promises to pass every row it does not match against a row it rendered itself from a
        row number of Excel's to `check_rows` (the workbook evaluator's row reader does)."""
        info = self.sheet(sheet)
        if not info.part or not self._z.has(info.part):
            raise XlgdError(f"{self.path}: sheet {sheet!r} has no worksheet part (a chart sheet?)")
        if not self._scannable(info):
            raise Fallback
        return self._bodies(info, rows_checked)

    def check_rows(self, sheet: str, text: str) -> None:
        """An error naming the part if a row of `text` (a piece of `bodies`) is numbered outside Excel's rows."""
        where = self._where(self.sheet(sheet))
        for row in ODD_ROW.findall(text):
            row_number(row, where)

    def _where(self, info) -> str:
        return f"{self.path}: part {info.part} (sheet {shorten(info.name)!r})"

    def _scannable(self, info) -> bool:
        """Check a sheet part's root element (an error naming the part unless it is a SpreadsheetML
        worksheet); True when the fast scanner reads it: UTF-8, SpreadsheetML as the default
        namespace. Anything else valid (a prefix such as `<x:worksheet>`, UTF-16) is read by
        lxml, namespace-aware, with the same cells."""
        if info.part in self._heads:
            return self._heads[info.part]
        with self._z.open(info.part) as f:
            root, encoding = root_element(f, self._where(info))
        if root.tag != _M + "worksheet":
            raise XlgdError(f"{self._where(info)} is not {_describe(_M + 'worksheet')} (its root element is "
                            f"{_describe(root.tag)})")
        ok = root.prefix is None and encoding == "UTF-8"
        self._heads[info.part] = ok
        return ok

    def scan_piece(self, sheet, body, shared, cols):
        """The cells of a piece of `bodies(sheet)`; pass the same `shared` and `cols` dicts every time."""
        return self._scan_body(body, shared, cols, self.sheet(sheet))

    def _bodies(self, info, rows_checked=True):
        where = self._where(info)
        with self._z.open(info.part) as f, Prefetch(f, CHUNK) as chunks:
            text = decoded(chunks, where)
            buf, empty = sheet_data_start(text, where)
            pieces = row_pieces(text, buf, where)
            tail = buf if empty else (yield from (checked_rows(pieces, where) if rows_checked else pieces))
            check_tail(tail, text, where)

    def _scan_body(self, body, shared, cols, info):
        matches = _CELL.findall(body)
        if len(matches) != body.count("<c ") + body.count("<c>") + body.count("<c/>"):
            raise Fallback
        strs = None
        for letters, row, attrs, fplain, fattrs, ftext, v, rest in matches:
            col = cols.get(letters)
            if col is None:
                col = cols[letters] = col_number(letters)
                if col > MAX_COL:
                    raise XlgdError(f"{self._where(info)} has a cell in column {letters}, past Excel's last column XFD")
            r = int(row) if len(row) < 8 else MAX_ROW + 1
            if r > MAX_ROW or r < 1:
                raise XlgdError(f"{self._where(info)} has a cell in row {shorten(row, 20)}, outside Excel's rows "
                                f"1..{MAX_ROW:,}")
            arr = None
            if fplain:
                formula = unescape(fplain) if "&" in fplain else fplain
            elif fattrs or ftext:
                formula = self._formula(fattrs, ftext, r, col, shared)
                arr = _array_ref(fattrs)
            else:
                formula = None
            t = "n"
            if attrs:
                m = _T_ATTR.search(attrs)
                if m:
                    t = m.group(1)
            if t == "n" and v and not rest and arr is None:
                try:
                    num = float(v)
                except ValueError:
                    raise XlgdError(f"{self._where(info)} cell {letters}{row} holds {shorten(v, 20)!r} where a "
                                    f"number belongs") from None
                yield Cell(r, col, formula, num, "n")
                continue
            if rest and "<v" in rest:
                raise Fallback  # <v> in an order we do not scan
            value, kind = self._value(v if v else None, t, rest)
            if formula is None and kind == "" and t != "inlineStr":
                value = None
            yield Cell(r, col, formula, value, kind, arr)
        del strs

    def _formula(self, fattrs, ftext, r, col, shared):
        a = dict(_ATTR.findall(fattrs or ""))
        text = unescape(ftext) if ftext and "&" in ftext else ftext
        if a.get("t") == "shared":
            si = a.get("si")
            if text:  # the master cell of a run
                shared[si] = (text, r, col)
                return text
            if si not in shared:
                raise XlgdError(f"{self.path}: shared formula {si} is used before it is defined")
            mt, mr, mc = shared[si]
            try:
                return shift(mt, r - mr, col - mc)
            except FormulaSyntaxError:
                return mt
        return text or ""

    def _iterparse(self, info) -> Iterator[Cell]:
        shared = {}
        C, F, V, IS, ROW = _M + "c", _M + "f", _M + "v", _M + "is", _M + "row"
        where = self._where(info)
        at = (0, 0)  # (row, column) of the cell before: where a cell without `r` follows on
        with self._z.open(info.part) as f:
            for event, el in iterparse(f, where, events=("start", "end"), tag=(C, ROW)):
                if el.tag == ROW:
                    if event == "start":
                        row_number(el.get("r"), where)
                        at = (int(el.get("r")) if el.get("r") else at[0] + 1, 0)
                    continue
                if event == "start":
                    continue
                r, col = at = cell_address(el.get("r"), where, at)
                formula, v, rest, arr = None, None, None, None
                for ch in el:
                    if ch.tag == F:
                        attrs = " ".join(f'{k}="{val}"' for k, val in ch.attrib.items())
                        formula = self._formula(" " + attrs if attrs else "", ch.text or "", r, col, shared)
                        arr = ch.get("ref") if ch.get("t") == "array" else None
                        if not ch.attrib and not ch.text:
                            formula = ""
                    elif ch.tag == V:
                        v = ch.text or ""
                    elif ch.tag == IS:
                        rest = "".join(f"<t>{_esc(t.text or '')}</t>" for t in ch.iter(_M + "t"))
                value, kind = self._value(v, el.get("t", "n"), rest)
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
                yield Cell(r, col, formula, value, kind, arr)


def _array_ref(fattrs):
    """The range of an array formula (`<f t="array" ref="E5:F6">`), else None."""
    if not fattrs or 'array' not in fattrs:
        return None
    a = dict(_ATTR.findall(fattrs))
    return a.get("ref") if a.get("t") == "array" else None


def _plain_value(c: Cell):
    if c.value is None:
        return UNKNOWN if c.formula is not None else None
    if c.kind == "b":
        return bool(c.value)
    return c.value


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;")


def _norm_path(p):
    """`xl/worksheets/../charts/c.xml` -> `xl/charts/c.xml`; None for a path that leaves the package."""
    parts = []
    for seg in p.split("/"):
        if seg == "..":
            if not parts:
                return None
            parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return "/".join(parts)


def _describe(tag: str) -> str:
    """`{ns}worksheet` as words: 'a SpreadsheetML worksheet', or the name and its namespace."""
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    known = {NS: "SpreadsheetML", PNS: "package relationships", CTNS: "content types",
             "http://schemas.openxmlformats.org/drawingml/2006/chart": "DrawingML chart"}
    if ns in known:
        return f"a {known[ns]} {local}"
    return f"{shorten(local, 40)!r} in namespace {shorten(ns, 60)!r}" if ns else f"{shorten(local, 40)!r} in no namespace"



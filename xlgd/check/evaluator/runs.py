"""Reading a workbook's cells into values and runs of formulas.

A run is consecutive cells of one column whose formulas are the same in
Excel's relative R1C1 form (`refs.relative`): `=J4*$J$1+$K$1*F5` in J5 and
`=J5*$J$1+$K$1*F6` in J6 are one formula, `=R[-1]C*R1C10+R1C11*RC[-4]`. A
step table of 100,000 rows is a few dozen runs (a few thousand when a
column reads a data sheet that wraps every epoch), so formulas are parsed
and compiled per run, not per cell. An array formula (`{=MMULT(...)}`) is a
run of one cell that fills its range; the other cells are its members.

Reading is string comparison wherever rows repeat (`RowReader`): the
values are cut out of a whole 8 MB piece at once (`_split_values`), a row
with its values cut out is compared with the row above's text moved one
row down (`RowTemplate`, a %-format string; a hundred rows at a time where
row numbers share their hundreds), and rows that match are taken whole --
their values parsed in one numpy call, their runs extended. In a row that
does not match, each cell equal to the cell above's template is taken as
it is, a plain cell that differs starts a run without the scanner
(`RowReader.quick`), and only the rest goes through `Package.scan_piece`.
Measured (benchmarks/evaluate.py, this 2-core machine under load): a
100,000-row graddesc-style sheet (1.1 M formula cells) is read in about 2 s
of CPU; xlgd's own layout, whose data references wrap every 29 rows, in
about 9 s (every epoch's first rows differ from the rows above).

`read_sheet(package, name)` gives a `SheetCells`: constants and cached
values in `store.SheetValues`, the runs by column, array members; a sheet
the scanner cannot read falls back to lxml, cell by cell (`CellTaker`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from html import unescape

import numpy as np

from ...core.values import Text
from ...xlsx.package import Fallback
from ...xlsx.refs import FormulaSyntaxError, col_number, relative, row_parts, split_ref
from .store import SheetValues


@dataclass(eq=False)
class Run:
    """Cells r0..r1 of column col on sheet: one formula in R1C1 form (`key`), text as on row r0."""

    sheet: str
    col: int
    r0: int
    r1: int
    text: str
    array: tuple | None = None  # an array formula: (r0, c0, r1, c1) it fills
    id: int = -1  # index in the book's list of runs

    @property
    def n(self):
        return self.r1 - self.r0 + 1

    @cached_property
    def key(self) -> tuple:
        """The formula in Excel's R1C1 form (`refs.relative`): computed when asked, most runs never are."""
        return _key(self.text, self.r0, self.col)

    @cached_property
    def template(self):
        """f(row) -> the formula's text on that row, or None."""
        return _template(self.text, self.r0) if self.array is None else None

    def __repr__(self):
        return f"Run({self.sheet}!C{self.col} R{self.r0}:R{self.r1} ={self.text})"


@dataclass
class SheetCells:
    """One sheet as read: constants and cached values, and its formula cells as runs."""

    name: str
    consts: SheetValues  # constants only (formula cells blank)
    cached: SheetValues  # what the file holds for every cell, formula cells included
    runs: dict = field(default_factory=dict)  # col -> [Run] by row
    members: dict = field(default_factory=dict)  # (row, col) of an array formula's other cells -> its Run
    no_cache: int = 0  # formula cells without a cached value

    def run_at(self, r, c):
        """The run holding cell (r, c), or None."""
        runs = self.runs.get(c)
        if not runs:
            return self.members.get((r, c))
        i = bisect_right(runs, r, key=lambda x: x.r0) - 1
        if i >= 0 and runs[i].r1 >= r:
            return runs[i]
        return self.members.get((r, c))

    def is_formula(self, r, c) -> bool:
        return self.run_at(r, c) is not None

    def all_runs(self):
        for col in sorted(self.runs):
            yield from self.runs[col]

    @property
    def formula_cells(self) -> int:
        return sum(run.n for run in self.all_runs()) + len(self.members)


def _key(text, r, c):
    try:
        return relative(text, r, c)
    except FormulaSyntaxError:
        return ("unreadable", text)


def _template(text, r):
    """The formula's text on any row, or None (a generic renderer: runs that start every epoch are
    many, and compiling each would cost more than it saves)."""
    try:
        parts = row_parts(text, r, other_sheets=True)
    except FormulaSyntaxError:
        return None

    def t(R):
        return "".join(p if isinstance(p, str) else str(R + p) for p in parts)

    return t if t(r) == text else None


class RunBuilder:
    """Collects one sheet's formula cells into runs, in file order (row by row)."""

    def __init__(self, sheet: SheetCells):
        self.sheet = sheet
        self.cur: dict[int, Run] = {}

    def add(self, r, c, text, array=None, careful=True):
        """Cell (r, c) holds formula text: it continues its column's run or starts one. careful: compare
        R1C1 forms when the text is not the run's text on this row (spacing, case); a caller that
        knows the cell's XML differs from the row above's can skip it (two runs of one formula are
        harmless)."""
        cur = self.cur.get(c)
        if array is None and cur is not None and cur.r1 == r - 1 and cur.array is None:
            tmpl = cur.template
            if (tmpl is not None and tmpl(r) == text) or (careful and _key(text, r, c) == cur.key):
                cur.r1 = r
                return
        self.start(r, c, text, array)

    def start(self, r, c, text, array=None):
        """A new run begins at (r, c)."""
        run = Run(self.sheet.name, c, r, r, text, _array_range(array, r, c) if array else None)
        self.sheet.runs.setdefault(c, []).append(run)
        self.cur[c] = run
        if run.array:
            ar0, ac0, ar1, ac1 = run.array
            for rr in range(ar0, ar1 + 1):
                for cc in range(ac0, ac1 + 1):
                    if (rr, cc) != (r, c):
                        self.sheet.members[(rr, cc)] = run

    def extend(self, c, r):
        """Column c's run goes on to row r (rows taken whole: the same formula, row after row)."""
        self.cur[c].r1 = r


def _array_range(ref, r, c):
    try:
        if ":" in ref:
            a, b = ref.split(":")
            (r0, c0, _, _), (r1, c1, _, _) = split_ref(a), split_ref(b)
            return (min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))
        r0, c0, _, _ = split_ref(ref)
        return (r0, c0, r0, c0)
    except FormulaSyntaxError:
        return (r, c, r, c)


def read_sheet(package, name) -> SheetCells:
    """Stream one worksheet into constants, cached values and runs (whole rows where they repeat)."""
    sc = SheetCells(name, SheetValues(name), SheetValues(name))
    try:
        RowReader(package, sc).run()
    except Fallback:  # a shape the scanner does not read: start again, cell by cell through lxml
        sc = SheetCells(name, SheetValues(name), SheetValues(name))
        taker = CellTaker(sc, package)
        for cell in package.cells(name, force_xml=True):
            taker.take(cell)
    _finish(sc)
    return sc


class CellTaker:
    """Takes one cell at a time into a SheetCells."""

    def __init__(self, sc: SheetCells, package):
        self.sc, self.package = sc, package
        self.builder = RunBuilder(sc)

    def take(self, cell):
        sc = self.sc
        v = cell_value(cell)
        if cell.formula is not None:
            self.builder.add(cell.row, cell.col, cell.formula, cell.array)
            if cell.value is None:
                sc.no_cache += 1
                return
        else:
            sc.consts.put(cell.row, cell.col, v)
        sc.cached.put(cell.row, cell.col, v)


_ROW = re.compile(r'\s*<row r="([0-9]+)"')
_V = re.compile(r"<v>([^<]*)</v>")
_PIECE = re.compile(r'(<c r="[A-Z]{1,3})([0-9]+)(")|(<f(?:\s[^>]*)?>)([^<]*)(</f>)')
_T = re.compile(r'^<c [^>]*?\st="([a-zA-Z]+)"')
_PLAIN_F = re.compile(r"<f>([^<]*)</f>")
HOLE = "\x00"  # where a row's <v>..</v> was cut out
def _key_name(k):
    return f"o{k + 1000000}" if k else "o0"


class CellTemplate:
    """One cell's XML (value cut out) on any row: literal text and row offsets (`refs.row_parts`),
    kept as a %-format string whose row numbers are named by their offset."""

    __slots__ = ("col", "fmt", "offsets", "type", "hole", "formula")

    def __init__(self, chunk: str, col: int, row: int):
        parts, pos = [], 0
        for m in _PIECE.finditer(chunk):
            parts.append(chunk[pos:m.start()])
            if m.group(1):
                parts += [m.group(1), int(m.group(2)) - row, m.group(3)]
            else:
                if "&#" in m.group(5):
                    raise ValueError("a character reference in a formula")
                parts += [m.group(4)] + row_parts(m.group(5), row, other_sheets=True) + [m.group(6)]
            pos = m.end()
        parts.append(chunk[pos:])
        self.fmt = "".join(p.replace("%", "%%") if isinstance(p, str) else f"%({_key_name(p)})s" for p in parts)
        self.offsets = frozenset(p for p in parts if not isinstance(p, str))
        self.col, self.hole, self.formula = col, HOLE in chunk, "<f" in chunk
        t = _T.match(chunk)
        self.type = t.group(1) if t else "n"
        if self.render(row) != chunk:
            raise ValueError("the cell does not rebuild")

    def render(self, r):
        return self.fmt % {_key_name(k): str(r + k) for k in self.offsets}


class RowTemplate:
    """A row's cells with values cut out, on any row number: a following row equal to it holds the
    same cells, each formula the same in R1C1 form, so it is taken whole. One %-format string for the
    whole row: the row numbers it needs are few (r, r-1 ...), so a row is one format and a handful of
    str() calls."""

    BLOCK = 100

    def __init__(self, head: str, cells: list):
        self.cells = cells  # head: '<row r="#" ...>' (# for the row number)
        self.holes = [(c.col, c.type, c.formula) for c in cells if c.hole]
        self.formulas = [c.col for c in cells if c.formula]
        self.fmt = head.replace("%", "%%").replace("#", "%(o0)s", 1) + "".join(c.fmt for c in cells)
        offsets = {0}.union(*(c.offsets for c in cells))
        self.keys = [(_key_name(k), k) for k in sorted(offsets)]
        self._block = None

    def text(self, r):
        return self.fmt % {name: str(r + k) for name, k in self.keys}

    def block(self, R):
        """Rows R..R+99 joined by '</row>' (R a multiple of 100, >= 200): rendered once with the
        hundreds of each row number left as placeholders, then filled in with a few replaces --
        a hundred rows compared with one string comparison."""
        if self._block is None:
            self._block = self._render_block()
        text, marks = self._block
        if text is None:
            return None
        hi = R // self.BLOCK
        for ch, d in marks:
            text = text.replace(ch, str(hi + d))
        return text

    def _render_block(self):
        B = self.BLOCK
        deltas = sorted({(j + k) // B for j in range(B) for _, k in self.keys})
        marks = {d: chr(1 + i) for i, d in enumerate(deltas)}
        if min(k for _, k in self.keys) < -B or len(deltas) > 8 or any(ch in self.fmt for ch in marks.values()):
            return None, ()
        rows = [self.fmt % {name: marks[(j + k) // B] + "%02d" % ((j + k) % B) for name, k in self.keys}
                for j in range(B)]
        return "</row>".join(rows), tuple((ch, d) for d, ch in marks.items())


_C = '<c r="'


class RowReader:
    """One sheet's pieces (`Package.bodies`): values cut out of a whole piece at once, then row by
    row -- a hundred rows at a time where they repeat -- rows equal to the row above's template
    (`RowTemplate`) are taken whole; in any other row, each cell equal to the cell above's template
    is taken as it is and only the others are scanned (`Package.scan_piece`)."""

    def __init__(self, package, sc: SheetCells):
        self.package, self.sc = package, sc
        self.taker = CellTaker(sc, package)
        self.shared, self.colmap = {}, {}
        self.tmpl, self.first, self.last, self.vals = None, 0, 0, []

    def run(self):
        for body in self.package.bodies(self.sc.name):
            parts = _split_values(body)
            values = parts[1::2]
            rows = HOLE.join(parts[0::2]).split("</row>")
            tail = rows.pop()
            i = vi = 0
            while i < len(rows):
                n = self.match(rows, i) if self.tmpl is not None else 0
                if n:
                    k = n * len(self.tmpl.holes)
                    self.vals.extend(values[vi:vi + k])
                    i, vi, self.last = i + n, vi + k, self.last + n
                    continue
                nv = rows[i].count(HOLE)
                self.flush()
                self.row(rows[i], values[vi:vi + nv])
                i, vi = i + 1, vi + nv
            if tail.strip():
                self.flush()
                self.tmpl = None
                self.slow(_with_values(tail, values[vi:]))
        self.flush()

    def match(self, rows, i) -> int:
        """How many rows from rows[i] on are the template's rows last+1, last+2 ..."""
        tm, n, r = self.tmpl, 0, self.last + 1
        B = RowTemplate.BLOCK
        while i + n < len(rows):
            if r % B == 0 and r >= 2 * B and i + n + B <= len(rows):
                block = tm.block(r)
                if block is not None and "</row>".join(rows[i + n:i + n + B]) == block:
                    n, r = n + B, r + B
                    continue
            if rows[i + n] != tm.text(r):
                break
            n, r = n + 1, r + 1
        return n

    def row(self, skel, values):
        m = _ROW.match(skel)
        if m is None:
            self.tmpl = None
            self.slow(_with_values(skel, values) + "</row>")
            return
        r = int(m.group(1))
        tm = self.tmpl
        self.cells(skel, values, r, tm.text(r) if tm is not None and r == self.last + 1 else None)

    def cells(self, skel, values, r, expected):
        """A row that is not the row above again: cell by cell, reusing the cells that are."""
        got = skel.split(_C)
        old = expected.split(_C) if expected is not None else None
        same = old is not None and len(old) == len(got)
        cells, vi = [], 0
        for i, chunk in enumerate(got[1:], 1):
            chunk = _C + chunk
            nv = chunk.count(HOLE)
            vals = values[vi:vi + nv]
            vi += nv
            if same and got[i] == old[i]:
                ct = self.tmpl.cells[i - 1]
                self.same_cell(ct, r, vals)
                if cells is not None:
                    cells.append(ct)
                continue
            col = col_number(chunk[6:chunk.index('"', 6)].rstrip("0123456789"))
            ct = self.quick(chunk, col, r, vals, old[i] if same else None)
            if ct is None:
                self.slow(_with_values(chunk, vals))
                try:
                    ct = CellTemplate(chunk, col, r)
                except (ValueError, FormulaSyntaxError, SyntaxError):
                    ct = None
            if cells is not None:
                if ct is None:
                    cells = None
                else:
                    cells.append(ct)
        head = got[0]
        tag = f'r="{r}"'
        if cells is None or vi != len(values) or "#" in head or tag not in head:
            self.tmpl = None
        else:
            self.tmpl = RowTemplate(head.replace(tag, 'r="#"', 1), cells)
        self.first = self.last = r

    def quick(self, chunk, col, r, vals, above):
        """A cell whose XML is plain (a number, or a formula written out in full): taken without the
        scanner -- the cells that differ from the row above in a periodic table are mostly these.
        above: the row above's cell moved to this row (its formula text, if equal, continues the run)."""
        f = _PLAIN_F.search(chunk)
        if (f is None and "<f" in chunk) or "<is>" in chunk or len(vals) > 1:
            return None
        try:
            ct = CellTemplate(chunk, col, r)
        except (ValueError, FormulaSyntaxError, SyntaxError):
            return None
        if f is not None:
            text = unescape(f.group(1)) if "&" in f.group(1) else f.group(1)
            fa = _PLAIN_F.search(above) if above is not None else None
            builder = self.taker.builder
            if fa is not None and fa.group(1) == f.group(1) and col in builder.cur and builder.cur[col].r1 == r - 1:
                builder.extend(col, r)  # only the value's type or the style differs
            elif above is None:  # a row shaped unlike the one above: compare R1C1 forms
                builder.add(r, col, text)
            else:  # the formula differs from the one above moved down: a new run
                builder.start(r, col, text)
        self.same_cell(ct, r, vals, extend=False)
        return ct

    def same_cell(self, ct: CellTemplate, r, vals, extend=True):
        """A cell equal to its column's template: its value, and its run goes on."""
        sc = self.sc
        if ct.formula:
            if extend:
                self.taker.builder.extend(ct.col, r)
            if not vals:
                sc.no_cache += 1
                return
        if vals and (vals[0] != "" or ct.type in ("str", "inlineStr")):
            v = self._typed(vals[0], ct.type)
            sc.cached.put(r, ct.col, v)
            if not ct.formula:
                sc.consts.put(r, ct.col, v)

    def slow(self, text):
        for cell in self.package.scan_piece(self.sc.name, text, self.shared, self.colmap):
            self.taker.take(cell)

    def flush(self):
        """The rows taken whole since the template's row: values in bulk, runs extended."""
        tm, vals = self.tmpl, self.vals
        self.vals = []
        if tm is None or self.last == self.first:
            return
        sc, r0, n = self.sc, self.first + 1, self.last - self.first
        k = len(tm.holes)
        table = None
        if k and all(t == "n" for _, t, _ in tm.holes):
            try:  # short blocks: float() per value beats numpy's string parsing
                table = (np.fromiter(map(float, vals), np.float64, len(vals)) if len(vals) < 50000 else
                         np.array(vals, dtype=np.float64)).reshape(n, k)
            except ValueError:  # an empty <v></v> or such: column by column below
                table = None
        for j, (col, t, formula) in enumerate(tm.holes):
            texts = vals[j::k]
            stores = (sc.cached,) if formula else (sc.cached, sc.consts)
            if t == "n" and (table is not None or "" not in texts):
                nums = table[:, j] if table is not None else np.array(texts, dtype=np.float64)
                for st in stores:
                    st.put_numbers(col, r0, nums)
                continue
            for i, v in enumerate(texts):
                if v == "" and t not in ("str", "inlineStr"):  # <v></v>: no cached value
                    sc.no_cache += formula
                    continue
                val = self._typed(v, t)
                for st in stores:
                    st.put(r0 + i, col, val)
        for col in tm.formulas:
            self.taker.builder.extend(col, self.last)
        holes = {c for c, _, _ in tm.holes}
        sc.no_cache += n * sum(1 for c in tm.formulas if c not in holes)
        self.first = self.last

    def _typed(self, v, t):
        if "&" in v:
            v = unescape(v)
        if t == "e":
            return v
        if t == "b":
            return v.strip() in ("1", "true")
        if t == "s":
            return Text(self.package.strings()[int(v)])
        if t in ("str", "inlineStr"):
            return Text(v)
        return float(v)


def _split_values(body):
    """[text, value, text, value ...]: the <v>..</v> of a piece cut out (str.split where every <v> is
    a plain one -- values never hold '<' -- else the regular expression)."""
    n = body.count("<v")
    if n == body.count("</v>"):  # every <v is a plain <v> then: </v> closes as many
        parts = body.replace("</v>", "<v>").split("<v>")
        if len(parts) == 2 * n + 1:
            return parts
    return _V.split(body)


def _with_values(chunk, vals):
    for v in vals:
        chunk = chunk.replace(HOLE, f"<v>{v}</v>", 1)
    return chunk


def _finish(sc):
    for (r, c) in sc.members:  # an array formula's other cells: their values are the formula's
        if sc.consts.get(r, c) is not None:
            sc.consts.put(r, c, None)
    _fix_extent(sc)


def _fix_extent(sc):
    sc.consts.max_row = max(sc.consts.max_row, sc.cached.max_row)
    for runs in sc.runs.values():
        for run in runs:
            sc.cached.max_row = max(sc.cached.max_row, run.r1)
            sc.consts.max_row = max(sc.consts.max_row, run.r1)


def cell_value(cell):
    """A cell's value as a formula reads it (Text for text, bool for booleans)."""
    v = cell.value
    if v is None:
        return None
    if cell.kind == "s":
        return Text(v)
    if cell.kind == "b":
        return bool(v)
    if cell.kind == "e":
        return v
    return float(v)

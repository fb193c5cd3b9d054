"""Aligning two sheets: columns by their headers, rows by content, references through the row map.

Rows are streamed in lockstep; only around a mismatch is a bounded window
buffered and searched for the point where the two sides agree again
(`resync`), so memory stays flat in the number of rows and an inserted row
is one change. Two rows are alike when their values or their formulas in
relative (R1C1) form agree (`RowKeys`). The `Translator` rewrites an edited
formula into reference coordinates once rows or columns moved or sheets
were renamed, so an untouched formula still compares equal.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import deque
from dataclasses import dataclass, field

from ..xlsx import refs
from ..xlsx.refs import col_letters, quote_sheet, unquote_sheet
from .changes import ColumnAdded, ColumnRemoved
from .recompute import NOT_HELD

# How far ahead to look for the point where two sheets agree again, and
# how many following rows must agree to accept it.
WINDOW = 64
CONFIRM = 4
HEADER_SCAN = 40          # rows read before the first formula row to find column headers


def canon(text: str, row: int, col: int):
    try:
        return refs.canonical(text, row, col)
    except refs.FormulaSyntaxError:
        return ("text", text.replace(" ", "").upper())


# --------------------------------------------------------------------------
# Row maps: where an edited row sits in the reference


class RowMap:
    """Piecewise edited-row -> reference-row map, built while streaming.

    Segments are (first edited row, offset or None for inserted rows); a
    few per structural change, so it stays small however long the sheet.
    """

    def __init__(self):
        self.starts = [1]
        self.offsets = [0]

    def set(self, ed_row: int, offset):
        if self.offsets[-1] == offset:
            return
        if self.starts[-1] == ed_row:
            self.offsets[-1] = offset
            if len(self.offsets) > 1 and self.offsets[-2] == offset:
                self.starts.pop()
                self.offsets.pop()
            return
        self.starts.append(ed_row)
        self.offsets.append(offset)

    def __call__(self, row: int):
        i = bisect.bisect_right(self.starts, row) - 1
        off = self.offsets[max(i, 0)]
        return None if off is None else row + off

    @property
    def identity(self) -> bool:
        return self.offsets == [0]


@dataclass
class SheetMap:
    ref_name: str
    rows: RowMap
    cols: dict            # edited column -> reference column (None = an added column)
    tail: int = 0         # columns right of the mapped ones move by this much

    def col(self, col):
        return self.cols.get(col, col + self.tail) if self.cols is not None else col

    def set_columns(self, columns):
        """Take a `Columns` alignment (or None: the same columns)."""
        self.cols, self.tail = (columns.cols, columns.tail) if columns is not None else (None, 0)


_Foreign = object()  # a sheet outside the comparison: references kept as written


class Translator:
    """Rewrites an edited formula into reference coordinates, so that a
    formula that still points at the same cells compares equal after rows
    or columns were inserted or deleted and sheets renamed."""

    def __init__(self):
        self.maps: dict[str, SheetMap] = {}  # edited sheet name -> map
        self.renamed = False

    def simple(self) -> bool:
        """No sheet renamed and no rows or columns moved so far: same text, same formula."""
        return not self.renamed and all(m.rows.identity and m.cols is None for m in self.maps.values())

    def translate(self, formula: str, sheet: str, cols_only=False) -> str:
        """The formula with each reference moved to where its cell sits in the reference."""
        here = self.maps.get(sheet)
        try:
            toks = refs.tokens(formula)
        except refs.FormulaSyntaxError:
            return formula
        out, smap, last, prev = [], here, here, None
        for kind, t in toks:
            if kind == "sheet":
                smap = self.maps.get(unquote_sheet(t), _Foreign)
                out.append(quote_sheet(smap.ref_name) + "!" if smap is not _Foreign else t)
                prev = kind
                continue
            if kind == "ref":
                if smap is not None and smap is not _Foreign:
                    r, c, ra, ca = refs.split_ref(t)
                    r2 = r if cols_only else smap.rows(r)
                    c2 = smap.col(c)
                    t = "#REF!" if r2 is None or c2 is None else \
                        f"{'$' if ca else ''}{col_letters(c2)}{'$' if ra else ''}{r2}"
                last, smap = smap, here
            elif kind == "op" and t == ":" and prev == "ref":
                smap = last  # the far corner of a range is on the same sheet
            else:
                smap = here
            out.append(t)
            prev = kind
        return "".join(out)


def points_below(formula, row):
    try:
        return any(s is None and r > row for s, r, _ in refs.refs(formula, row, 0))
    except refs.FormulaSyntaxError:
        return False


def anchored(row) -> tuple:
    """A row with references to its own row relative and every other reference absolute: two
    rows holding the same cells read from the same rows. (A row filled down into an inserted
    row and the row it was copied over read the same rows above; `sheet.SheetDiff` uses it
    to name the inserted one.)"""
    r, cells = row
    out = []
    for c in sorted(cells):
        f, v = cells[c]
        if f is None:
            out.append((c, value_key(v)))
            continue
        try:
            toks = tuple(("ref", "here", refs.split_ref(t)[1:]) if k == "ref" and refs.split_ref(t)[0] == r
                         else (k, t) for k, t in refs.tokens(f))
        except refs.FormulaSyntaxError:
            toks = (f,)
        out.append((c, toks))
    return tuple(out)


def reads_row(row, target: int) -> bool:
    """Does a formula of this row refer to row `target` of its own sheet?"""
    r, cells = row
    for f, _ in cells.values():
        if f is not None:
            try:
                if any(s is None and rr == target for s, rr, _ in refs.refs(f, r, 0)):
                    return True
            except refs.FormulaSyntaxError:
                pass
    return False


def value_key(value):
    """A value for matching rows: numbers to 12 digits (a re-save keeps 15); NaN equal to NaN."""
    if isinstance(value, float):
        return float(f"{value:.12g}") if value == value else "NaN"
    return value


class Stream:
    """A row iterator with a bounded look-ahead buffer."""

    def __init__(self, head, items):
        self.buf = deque(head)
        self.it = items
        self.done = False

    def peek(self, k):
        while len(self.buf) <= k and not self.done:
            try:
                self.buf.append(next(self.it))
            except StopIteration:
                self.done = True
        return self.buf[k] if k < len(self.buf) else None

    def pop(self):
        self.peek(0)
        return self.buf.popleft()


# --------------------------------------------------------------------------
# Columns


@dataclass
class Columns:
    """How an edited sheet's columns map onto the reference's, read from their header blocks."""

    cols: dict | None = None  # edited col -> reference col (None: an added column); None: the same columns
    removed: set = field(default_factory=set)  # reference columns with no edited column
    headers_ed: dict = field(default_factory=dict)
    headers_ref: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)  # column_added / column_removed

    tail: int = 0  # beyond the header block's last column: reference col = edited col + tail
    last: int = 0  # the header block's last edited column

    def ref_col(self, col):
        if self.cols is None:
            return col
        return self.cols.get(col, col + self.tail if col > self.last else col + 10 ** 6)

    def ed_col_of(self, ref_c):
        if self.cols is None:
            return ref_c
        for k, v in self.cols.items():
            if v == ref_c:
                return k
        return ref_c - self.tail if ref_c - self.tail > self.last else None

    def added(self, col) -> bool:
        return self.cols is not None and self.cols.get(col, 0) is None


def header_block(items):
    """Rows up to and including the first row of formulas (at least two, half its cells or more):
    the table's header row sits above it, below parameter rows that hold a formula or two
    (graddesc's `beta` and `=1-J1` beside its inputs)."""
    block = []
    for r, cells in items:
        block.append((r, cells))
        n = sum(f is not None for f, _ in cells.values())
        if (n and (n >= 2 or len(cells) == 1) and 2 * n >= len(cells)) or len(block) >= HEADER_SCAN:
            break
    return block


def _col_keys(block):
    keys = {}
    texts = {}
    for r, cells in block:
        for c, (f, v) in cells.items():
            if f is None and isinstance(v, str) and v.strip():
                keys.setdefault(c, []).append(v.strip())
                texts[c] = v.strip()
    return {c: tuple(k) for c, k in keys.items()}, texts


def align_columns(sheet, ed_block, ref_block) -> Columns:
    """Match columns by their header texts (difflib over the header tuples)."""
    ek, headers_ed = _col_keys(ed_block)
    rk, headers_ref = _col_keys(ref_block)
    out = Columns(None, set(), headers_ed, headers_ref)
    if ek == rk:
        return out  # identity
    ncols_e = max([max(c) for _, c in ed_block if c] + [1])
    ncols_r = max([max(c) for _, c in ref_block if c] + [1])
    a = [ek.get(c, ()) for c in range(1, ncols_e + 1)]
    b = [rk.get(c, ()) for c in range(1, ncols_r + 1)]
    cols = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        _align_opcode(out, sheet, cols, tag, i1, i2, j1, j2)
    out.cols, out.tail, out.last = cols, ncols_r - ncols_e, ncols_e
    out.removed = {j for j in range(1, ncols_r + 1)} - {v for v in cols.values() if v}
    return out


def _align_opcode(out, sheet, cols, tag, i1, i2, j1, j2):
    if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
        for k in range(i2 - i1):
            cols[i1 + k + 1] = j1 + k + 1
    elif tag in ("insert", "replace") and j2 > j1:
        for j in range(j1, j2):
            if tag == "insert" or j - j1 >= i2 - i1:
                out.changes.append(ColumnRemoved(sheet, col_letters(j + 1), out.headers_ref.get(j + 1, "")))
        if tag == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                cols[i1 + k + 1] = j1 + k + 1
    if tag in ("delete", "replace") and i2 - i1 > j2 - j1:
        for i in range(i1 + (j2 - j1 if tag == "replace" else 0), i2):
            cols[i + 1] = None
            out.changes.append(ColumnAdded(sheet, col_letters(i + 1), out.headers_ed.get(i + 1, "")))


# --------------------------------------------------------------------------
# Rows


class RowKeys:
    """Row signatures for matching: (values, relative-form formulas) in reference columns."""

    def __init__(self, sheet: str, columns: Columns, translator: "Translator"):
        self.ed_name, self.columns, self.translator = sheet, columns, translator
        self._kcache = {True: {}, False: {}}

    def keys(self, row, mapped: bool):
        """(values, relative-form formulas) of a row, in reference columns; cached
        per row while it sits in a look-ahead buffer."""
        cache = self._kcache[mapped]
        k = cache.get(row[0])
        if k is not None and k[0] is row:
            return k[1]
        r, cells = row
        vals, sig, texts = [], [], []
        skip = self.columns.removed if not mapped else ()
        # Once rows or columns moved, an edited formula is read in reference coordinates (the rows
        # mapped so far), so `=$S$9` after a row inserted above row 9 is the reference's `=$S$8`.
        moved = mapped and not self.translator.simple()
        for c in sorted(cells):
            f, v = cells[c]
            if mapped:
                cc = self.columns.ref_col(c)
                if self.columns.added(c):
                    continue  # an added column
            else:
                cc = c
                if c in skip:
                    continue
            if v not in (None, "") and v is not NOT_HELD:
                vals.append((cc, value_key(v)))
            if f is not None:
                if moved:
                    f = self.translator.translate(f, self.ed_name)
                elif mapped and self.columns.cols is not None:
                    f = self.translator.translate(f, self.ed_name, cols_only=True)
                sig.append((cc, canon(f, r, cc)))
                texts.append((cc, f.replace(" ", "").upper()))
            elif v not in (None, ""):
                sig.append((cc, value_key(v)))
                texts.append((cc, value_key(v)))
        out = (tuple(vals), tuple(sig), tuple(texts))
        if len(cache) > 4 * WINDOW + 16:
            cache.clear()
        cache[r] = (row, out)
        return out

    def similar(self, edited_row, reference_row):
        """The same row: equal values, or equal formulas in relative form and constants, or equal
        texts (a row moved by a tool that left its references as they were)."""
        if not edited_row[1] and not reference_row[1]:
            return True
        if self._quick_same(edited_row[0], edited_row[1], reference_row[0], reference_row[1]):
            return True
        ev, es, et = self.keys(edited_row, True)
        fv, fs, ft = self.keys(reference_row, False)
        return (bool(ev) and ev == fv) or es == fs or et == ft

    def alike(self, edited_row, reference_row):
        """Most of the row the same (half its cells or more, by value or relative formula): the row
        after an edit that changed some of it -- a header retitled, constants re-rolled, absolute
        references moved. Used only where no row is `similar` (the sheet's top lost rows)."""
        if self.similar(edited_row, reference_row):
            return True
        ev, es, _ = self.keys(edited_row, True)
        fv, fs, _ = self.keys(reference_row, False)
        same = len(set(es) & set(fs)) + len(set(ev) & set(fv))
        return same > 0 and 2 * same >= max(len(es), len(fs)) + max(len(ev), len(fv))

    def _quick_same(self, edited_row, edited_cells, reference_row, reference_cells):
        # The common case: same row number, same column layout, same text.
        if edited_row != reference_row or self.columns.cols is not None or len(edited_cells) != len(reference_cells):
            return False
        for c, (f, v) in edited_cells.items():
            g = reference_cells.get(c)
            if g is None or g[0] != f:
                return False
            if f is None and g[1] != v:
                return False
        return True


def resync(edited: Stream, ref: Stream, similar, alike=None) -> tuple:
    """(edited rows to skip, reference rows to skip) to get back in step.

    The nearest point where CONFIRM rows are `similar` decides: (i, 0) or (0, j) is a run
    inserted or deleted here, (k, k) k edited rows (pair the head rows and look again). A
    point (i, j) with both apart and unequal says only that rows differ somewhere ahead;
    then, and when nothing is similar at all, the nearer point where rows are `alike`
    decides instead (a sheet whose top lost a row, with its header retitled and its absolute
    references moved, is alike row by row but similar only further down)."""
    got = _search(edited, ref, similar, False)
    if got is not None and (min(got[:2]) == 0 or got[0] == got[1]):
        return (got[0], got[1]) if min(got[:2]) == 0 else (0, 0)
    if alike is not None:
        near = _search(edited, ref, alike, True, got[2] if got else 2 * WINDOW + 1)
        if near is not None:
            return (near[0], near[1]) if min(near[:2]) == 0 else (0, 0)
    return 0, 0  # nothing lines up nearby: pair the rows and let cells tell


def _search(edited, ref, similar, here_first, limit=2 * WINDOW + 1):
    """(i, j, s) of the nearest confirmed point, s = i + j, or None."""
    if here_first and _confirm(edited, ref, 0, 0, similar):
        return 0, 0, 0
    for s in range(1, limit):
        # Prefer an edited row pair (k, k) over an insertion of the same span.
        cands = []
        if s % 2 == 0 and s // 2 <= WINDOW:
            cands.append((s // 2, s // 2))
        for i in range(0, s + 1):
            j = s - i
            if i <= WINDOW and j <= WINDOW and i != j:
                cands.append((i, j))
        for i, j in cands:
            if _confirm(edited, ref, i, j, similar):
                return i, j, s
        if edited.peek(s) is None and ref.peek(s) is None and s > 2:
            break
    return None


def _confirm(edited, ref, i, j, similar):
    n = 0
    for k in range(CONFIRM):
        e, f = edited.peek(i + k), ref.peek(j + k)
        if e is None and f is None:
            return n > 0 or k == 0 and (i or j)
        if e is None or f is None:
            return False
        if not similar(e, f):
            return False
        n += 1
    return True


# --------------------------------------------------------------------------
# Whole-sheet row plans for small sheets

PLAN_ROWS = 2000  # a sheet with at most this many rows on each side is also aligned as a whole
_ABS_ROW = re.compile(r"(?<![A-Za-z0-9_\[])R\d+")


@dataclass
class RowPlan:
    """Rows inserted (edited row numbers) and deleted (reference row numbers), found for the whole
    sheet at once (`row_plan`)."""

    inserted: set
    deleted: set


def _plan_key(row) -> tuple:
    """A row as the whole-sheet alignment compares it: texts as written, numbers as 'a number' (an
    input may have changed), formulas in R1C1 form with absolute row numbers left out (they move
    with the rows they name)."""
    r, cells = row
    out = []
    for c in sorted(cells):
        f, v = cells[c]
        if f is not None:
            try:
                out.append((c, _ABS_ROW.sub("R#", refs.r1c1(f, r, c))))
            except refs.FormulaSyntaxError:
                out.append((c, f))
        elif isinstance(v, str):
            out.append((c, "'" + v.strip()))
        else:
            out.append((c, 0))
    return tuple(out)


def row_plan(ed_rows: list, ref_rows: list) -> RowPlan | None:
    """Rows inserted and deleted when both whole sheets are lined up at once (difflib over the rows'
    `_plan_key`s), or None when that finds none: what the lockstep walk cannot see when a row
    above a table moved its absolute references and the values below changed too."""
    a, b = [_plan_key(x) for x in ref_rows], [_plan_key(x) for x in ed_rows]
    plan = RowPlan(set(), set())
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        plan.deleted.update(ref_rows[i][0] for i in range(i1 + paired, i2))
        plan.inserted.update(ed_rows[j][0] for j in range(j1 + paired, j2))
    return plan if plan.inserted or plan.deleted else None

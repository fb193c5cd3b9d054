"""Compare an edited workbook with its reference, cause by cause.

A learner changes one input and every cell below it changes value; a cell
by cell diff buries the one edit under thousands of consequences. Here the
two workbooks are aligned first (sheets by name or content, columns by
header, rows by content with formulas compared in relative form), then
each difference is classified:

    input_changed          a constant (named input, data x/y) old -> new
    formula_changed        both formulas, and the tokens that differ
    formula_to_constant    a value typed over a formula
    constant_to_formula    a formula typed over a value
    cell_added/removed     content where the other side is empty
    text_changed           a label or title
    values_changed         same formula, other value: a consequence of an
                           upstream change, summarised per sheet and column
    rows_inserted/deleted, column_added/removed,
    sheet_added/removed/renamed, chart_series_changed,
    defined_name_changed/added/removed, calc_settings_changed

Rows are streamed in lockstep; only around a mismatch is a bounded window
buffered and searched for the point where the two sides agree again, so
memory stays flat in the number of rows and an inserted row is one change.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
from collections import deque
from dataclasses import dataclass, field

from ..xlsx import refs
from ..errors import XlgdError
from ..recipe.record import META_SHEET
from ..xlsx.refs import a1, col_letters, quote_sheet, unquote_sheet

# How far ahead to look for the point where two sheets agree again, and
# how many following rows must agree to accept it.
WINDOW = 64
CONFIRM = 4
HEADER_SCAN = 40          # rows read before the first formula row to find column headers
GRID_ROWS_PER_SHEET = 120  # rows of context kept per sheet for the HTML grid
GRID_CONTEXT = 2
MAX_LISTED = 2000          # cell-level changes listed per sheet; the rest are counted

STRUCTURAL = ("sheet_added", "sheet_removed", "sheet_renamed", "rows_inserted", "rows_deleted",
              "column_added", "column_removed")
CELL_KINDS = ("input_changed", "formula_changed", "formula_to_constant", "constant_to_formula",
              "cell_added", "cell_removed", "text_changed")


@dataclass
class Options:
    rtol: float = 1e-9
    atol: float = 1e-12
    formulas: bool = True     # compare formula text
    values: bool = True       # compare values
    sheet: str | None = None  # only this sheet (edited name)
    grid: bool = False        # keep context rows for the HTML report


# --------------------------------------------------------------------------
# References inside formulas (tokens and R1C1 form come from refs.py)


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

    def __call__(self, r: int):
        i = bisect.bisect_right(self.starts, r) - 1
        off = self.offsets[max(i, 0)]
        return None if off is None else r + off

    @property
    def identity(self) -> bool:
        return self.offsets == [0]


@dataclass
class SheetMap:
    ref_name: str
    rows: RowMap
    cols: dict            # edited column -> reference column (absent = added column)

    def col(self, c):
        return self.cols.get(c, c) if self.cols is not None else c


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


def norm_formula(f: str) -> str:
    return f.replace(" ", "").upper()


def formula_tokens(f: str):
    return re.findall(r'"(?:[^"]|"")*"|\$?[A-Za-z_][A-Za-z0-9_.]*!?\$?\d*(?::\$?[A-Za-z]+\$?\d+)?|\d+\.?\d*(?:[eE][-+]?\d+)?|<>|<=|>=|\S', f)


def what_differs(old: str, new: str) -> list:
    """The token runs that differ: [[old text, new text], ...]."""
    a, b = formula_tokens(old), formula_tokens(new)
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(["".join(a[i1:i2]), "".join(b[j1:j2])])
    return out


# --------------------------------------------------------------------------
# Values


def _is_num(v):
    return isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool))


def values_equal(a, b, opt: Options) -> bool:
    if a is b or a == b:
        return True
    if _is_num(a) and _is_num(b):
        if math.isnan(a) or math.isnan(b):
            return False
        return abs(a - b) <= opt.atol + opt.rtol * max(abs(a), abs(b))
    if a in (None, "") and b in (None, ""):
        return True
    return False


def show(v):
    """A value as JSON can carry it (errors and text stay strings)."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


# --------------------------------------------------------------------------
# Per-sheet diff


@dataclass
class ColumnSummary:
    sheet: str
    col: int          # reference column
    ed_col: int
    header: str
    count: int = 0
    first: str = ""
    last: str = ""
    max_abs: float = 0.0
    max_rel: float = 0.0
    example: tuple = ()

    def add(self, ed_r, ed_c, old, new):
        cell = a1(ed_r, ed_c)
        if not self.count:
            self.first = cell
            self.example = (cell, show(old), show(new))
        self.last = cell
        self.count += 1
        if _is_num(old) and _is_num(new):
            d = abs(new - old)
            if d > self.max_abs or math.isnan(d):
                self.max_abs = d
            rel = d / max(abs(old), abs(new)) if max(abs(old), abs(new)) else 0.0
            if rel > self.max_rel:
                self.max_rel = rel

    def as_change(self):
        return {"kind": "values_changed", "sheet": self.sheet, "column": col_letters(self.ed_col),
                "ref_column": col_letters(self.col), "header": self.header, "count": self.count,
                "first": self.first, "last": self.last,
                "max_abs": show(self.max_abs), "max_rel": show(self.max_rel),
                "example": {"cell": self.example[0], "old": self.example[1], "new": self.example[2]}}


class Grid:
    """Rows around changes, kept for the HTML report (bounded per sheet)."""

    def __init__(self, limit=GRID_ROWS_PER_SHEET):
        self.rows = []          # [ed row or None, ref row or None, {ed col: display}, {ed col: (kind, reason)}, row kind]
        self.limit = limit
        self.recent = deque(maxlen=GRID_CONTEXT)
        self.after = 0
        self.shown = set()
        self.max_col = 1

    @staticmethod
    def _cells(cells):
        out = {}
        for c, (f, v) in cells.items():
            out[c] = {"v": show(v), "f": f}
        return out

    def offer(self, ed_r, ref_r, cells, marks, row_kind=None):
        """Each streamed row passes here; rows with marks open a window."""
        item = (ed_r, ref_r, cells, marks, row_kind)
        if marks or row_kind:
            if len(self.rows) >= self.limit:
                return
            while self.recent:
                self._keep(self.recent.popleft())
            self._keep(item)
            self.after = GRID_CONTEXT
        elif self.after > 0 and len(self.rows) < self.limit:
            self._keep(item)
            self.after -= 1
        else:
            self.recent.append(item)

    def _keep(self, item):
        key = (item[0], item[1])
        if key in self.shown:
            return
        self.shown.add(key)
        ed_r, ref_r, cells, marks, row_kind = item
        if cells:
            self.max_col = max(self.max_col, max(cells))
        self.rows.append({"row": ed_r, "ref_row": ref_r, "cells": self._cells(cells or {}),
                          "marks": {c: list(m) for c, m in (marks or {}).items()}, "kind": row_kind})


class SheetDiff:
    def __init__(self, ed_name, ref_name, opt: Options, tr: Translator, names_at: dict, ed_rows, ref_rows):
        self.ed_name, self.ref_name = ed_name, ref_name
        self.opt, self.tr = opt, tr
        self.names_at = names_at            # (ref row, ref col) -> defined name of the input
        self.ed_it, self.ref_it = iter(ed_rows), iter(ref_rows)
        self.changes = []
        self.listed = 0
        self.unlisted = 0
        self.summaries: dict[int, ColumnSummary] = {}
        self.rowmap = RowMap()
        self.cols = None
        self.headers_ref: dict[int, str] = {}
        self.headers_ed: dict[int, str] = {}
        self.grid = Grid() if opt.grid else None
        self.pending = []  # cells whose formulas point below the current row: rechecked at the end
        self.ed_last = 0
        self.ref_last = 0
        self.removed_cols = set()
        self._kcache = {True: {}, False: {}}

    # -- column alignment ----------------------------------------------------
    def _header_block(self, it):
        """Rows up to and including the first row holding a formula."""
        block = []
        for r, cells in it:
            block.append((r, cells))
            if any(f is not None for f, _ in cells.values()) or len(block) >= HEADER_SCAN:
                break
        return block

    @staticmethod
    def _col_keys(block):
        keys = {}
        texts = {}
        for r, cells in block:
            for c, (f, v) in cells.items():
                if f is None and isinstance(v, str) and v.strip():
                    keys.setdefault(c, []).append(v.strip())
                    texts[c] = v.strip()
        return {c: tuple(k) for c, k in keys.items()}, texts

    def _align_columns(self, ed_block, ref_block):
        ek, self.headers_ed = self._col_keys(ed_block)
        rk, self.headers_ref = self._col_keys(ref_block)
        ncols_e = max([max(c) for _, c in ed_block if c] + [1])
        ncols_r = max([max(c) for _, c in ref_block if c] + [1])
        if ek == rk:
            self.cols = None  # identity
            return
        a = [ek.get(c, ()) for c in range(1, ncols_e + 1)]
        b = [rk.get(c, ()) for c in range(1, ncols_r + 1)]
        cols = {}
        sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for k in range(i2 - i1):
                    cols[i1 + k + 1] = j1 + k + 1
            elif tag in ("insert", "replace") and j2 > j1:
                n = j2 - j1 if tag == "insert" else j2 - j1
                for j in range(j1, j2):
                    if tag == "insert" or j - j1 >= i2 - i1:
                        self.changes.append({"kind": "column_removed", "sheet": self.ed_name,
                                             "ref_column": col_letters(j + 1),
                                             "header": self.headers_ref.get(j + 1, "")})
                if tag == "replace":
                    for k in range(min(i2 - i1, n)):
                        cols[i1 + k + 1] = j1 + k + 1
            if tag in ("delete", "replace") and i2 - i1 > j2 - j1:
                for i in range(i1 + (j2 - j1 if tag == "replace" else 0), i2):
                    cols[i + 1] = None
                    self.changes.append({"kind": "column_added", "sheet": self.ed_name,
                                         "column": col_letters(i + 1), "header": self.headers_ed.get(i + 1, "")})
        self.cols = cols
        self.removed_cols = {j for j in range(1, ncols_r + 1)} - {v for v in cols.values() if v}

    def ref_col(self, c):
        if self.cols is None:
            return c
        return self.cols.get(c, c + 10 ** 6)  # beyond the header block: keep apart from mapped ones

    def ed_col_of(self, ref_c):
        if self.cols is None:
            return ref_c
        for k, v in self.cols.items():
            if v == ref_c:
                return k
        return None

    # -- row matching ---------------------------------------------------------
    def _keys(self, row, mapped: bool):
        """(values, relative-form formulas) of a row, in reference columns; cached
        per row while it sits in a look-ahead buffer."""
        cache = self._kcache[mapped]
        k = cache.get(row[0])
        if k is not None and k[0] is row:
            return k[1], k[2]
        r, cells = row
        vals, sig = [], []
        skip = self.removed_cols if not mapped else ()
        for c in sorted(cells):
            f, v = cells[c]
            if mapped:
                cc = self.ref_col(c)
                if self.cols is not None and self.cols.get(c, 0) is None:
                    continue  # an added column
            else:
                cc = c
                if c in skip:
                    continue
            if v not in (None, ""):
                vals.append((cc, _vkey(v)))
            if f is not None:
                if mapped and self.cols is not None:
                    f = self.tr.translate(f, self.ed_name, cols_only=True)
                sig.append((cc, canon(f, r, cc)))
            elif v not in (None, ""):
                sig.append((cc, _vkey(v)))
        out = (tuple(vals), tuple(sig))
        if len(cache) > 4 * WINDOW + 16:
            cache.clear()
        cache[r] = (row, out[0], out[1])
        return out

    def _similar(self, e, f):
        if not e[1] and not f[1]:
            return True
        if self._quick_same(e[0], e[1], f[0], f[1]):
            return True
        ev, es = self._keys(e, True)
        fv, fs = self._keys(f, False)
        return (bool(ev) and ev == fv) or es == fs

    def _quick_same(self, er, ec, fr, fc):
        # The common case: same row number, same column layout, same text.
        if er != fr or self.cols is not None or len(ec) != len(fc):
            return False
        for c, (f, v) in ec.items():
            g = fc.get(c)
            if g is None or g[0] != f:
                return False
            if f is None and g[1] != v:
                return False
        return True

    # -- the walk -------------------------------------------------------------
    def run(self):
        ed_block = self._header_block(self.ed_it)
        ref_block = self._header_block(self.ref_it)
        self._align_columns(ed_block, ref_block)
        m = self.tr.maps.get(self.ed_name)
        if m is not None:
            m.cols = self.cols
        ed = _Stream(ed_block, self.ed_it)
        ref = _Stream(ref_block, self.ref_it)
        run_ins = run_del = None  # (first row, count) of the current structural run
        while True:
            e, f = ed.peek(0), ref.peek(0)
            if e is None and f is None:
                break
            if e is None or f is None:
                skip_e, skip_f = (0, 1) if e is None else (1, 0)
            elif self._aligned_rows(e, f):
                skip_e = skip_f = 0
            else:
                skip_e, skip_f = self._resync(ed, ref)
            if skip_e == 0 and skip_f == 0:
                run_ins = self._flush_ins(run_ins)
                run_del = self._flush_del(run_del)
                e, f = ed.pop(), ref.pop()
                # Empty rows are not in the stream: a gap that differs between
                # the sides is blank rows inserted or deleted.
                gap_e, gap_f = e[0] - self.ed_last - 1, f[0] - self.ref_last - 1
                if gap_e > gap_f:
                    self.rowmap.set(self.ed_last + 1, None)
                    self._flush_ins((e[0] - (gap_e - gap_f), gap_e - gap_f, e[0] - 1))
                elif gap_f > gap_e:
                    self._flush_del((f[0] - (gap_f - gap_e), gap_f - gap_e, f[0] - 1))
                self.rowmap.set(e[0], f[0] - e[0])
                self._pair(e, f)
                continue
            for _ in range(skip_e):
                e = ed.pop()
                self.ed_last = e[0]
                self.rowmap.set(e[0], None)
                run_ins = (run_ins[0], run_ins[1] + 1, e[0]) if run_ins else (e[0], 1, e[0])
                if self.grid:
                    self.grid.offer(e[0], None, e[1], {}, "inserted")
            for _ in range(skip_f):
                f = ref.pop()
                self.ref_last = f[0]
                run_del = (run_del[0], run_del[1] + 1, f[0]) if run_del else (f[0], 1, f[0])
                if self.grid:
                    self.grid.offer(None, f[0], {}, {}, "deleted")
            if skip_e and skip_f:
                # Replaced block of different sizes: neither side alone explains it.
                pass
        self._flush_ins(run_ins)
        self._flush_del(run_del)
        self._recheck_pending()
        for s in self.summaries.values():
            self.changes.append(s.as_change())
        if self.unlisted:
            self.changes.append({"kind": "more_cells", "sheet": self.ed_name, "count": self.unlisted})
        return self

    def _flush_ins(self, run):
        if run:
            self.changes.append({"kind": "rows_inserted", "sheet": self.ed_name, "at": run[0], "count": run[1],
                                 "rows": f"{run[0]}:{run[2]}"})
        return None

    def _flush_del(self, run):
        if run:
            self.changes.append({"kind": "rows_deleted", "sheet": self.ed_name, "ref_at": run[0],
                                 "count": run[1], "ref_rows": f"{run[0]}:{run[2]}"})
        return None

    def _aligned_rows(self, e, f):
        # Lockstep: rows at the current offset that are alike, or that differ
        # only in a few cells while the rows after them agree (an edited row).
        if self._similar(e, f):
            return True
        return False

    def _resync(self, ed, ref):
        """(edited rows to skip, reference rows to skip) to get back in step."""
        for s in range(1, 2 * WINDOW + 1):
            # Prefer an edited row pair (k, k) over an insertion of the same span.
            cands = []
            if s % 2 == 0 and s // 2 <= WINDOW:
                cands.append((s // 2, s // 2))
            for i in range(0, s + 1):
                j = s - i
                if i <= WINDOW and j <= WINDOW and i != j:
                    cands.append((i, j))
            for i, j in cands:
                if self._confirm(ed, ref, i, j):
                    # (k, k): k edited rows; (i, 0) or (0, j): a run inserted or
                    # deleted here; otherwise pair the head rows and look again.
                    return (i, j) if min(i, j) == 0 else (0, 0)
            if ed.peek(s) is None and ref.peek(s) is None and s > 2:
                break
        return 0, 0  # nothing lines up nearby: pair the rows and let cells tell

    def _confirm(self, ed, ref, i, j):
        n = 0
        for k in range(CONFIRM):
            e, f = ed.peek(i + k), ref.peek(j + k)
            if e is None and f is None:
                return n > 0 or k == 0 and (i or j)
            if e is None or f is None:
                return False
            if not self._similar(e, f):
                return False
            n += 1
        return True

    # -- cells ----------------------------------------------------------------
    def _list(self, ch):
        if self.listed < MAX_LISTED:
            self.changes.append(ch)
            self.listed += 1
        else:
            self.unlisted += 1

    def _pair(self, e, f):
        er, ec = e
        fr, fc = f
        self.ed_last, self.ref_last = er, fr
        marks = {} if self.grid else None
        self._fast = er == fr and self.cols is None and self.tr.simple()
        seen = set()
        for c, (ef, ev) in ec.items():
            rc = self.ref_col(c)
            if self.cols is not None and self.cols.get(c, 0) is None:
                continue  # an added column: reported once
            seen.add(rc)
            g = fc.get(rc)
            self._cell(er, c, fr, rc, ef, ev, g, marks)
        for rc, g in fc.items():
            if rc in seen:
                continue
            if self.cols is not None and rc in getattr(self, "removed_cols", ()):
                continue
            c = self.ed_col_of(rc)
            if c is None:
                continue
            self._cell(er, c, fr, rc, None, None, g, marks)
        if self.grid is not None:
            self.grid.offer(er, fr, ec, marks)

    def _cell(self, er, c, fr, rc, ef, ev, g, marks):
        opt = self.opt
        gf, gv = g if g is not None else (None, None)
        if ef is not None and gf is not None:
            if ef == gf and self._fast:
                same = True
            else:
                same = self._same_formula(ef, gf, er, c, fr, rc)
            if same is None:
                return
            if same or not opt.formulas:
                if opt.values and not values_equal(ev, gv, opt):
                    s = self.summaries.get(rc)
                    if s is None:
                        s = self.summaries[rc] = ColumnSummary(self.ed_name, rc, c, self.headers_ref.get(rc, ""))
                    s.add(er, c, gv, ev)
                    if marks is not None and s.count <= 3:
                        marks[c] = ("values_changed", f"value {show(gv)} -> {show(ev)} (upstream change)")
                return
            ch = {"kind": "formula_changed", "sheet": self.ed_name, "cell": a1(er, c), "ref_cell": a1(fr, rc),
                  "old": "=" + gf, "new": "=" + ef, "differs": what_differs(gf, ef),
                  "old_value": show(gv), "new_value": show(ev)}
            self._list(ch)
            if marks is not None:
                marks[c] = ("formula_changed", f"formula ={gf} -> ={ef}")
            return
        if gf is not None:  # formula in the reference, constant or empty here
            if ev in (None, ""):
                if not opt.formulas:
                    return
                ch = {"kind": "cell_removed", "sheet": self.ed_name, "cell": a1(er, c), "ref_cell": a1(fr, rc),
                      "old": "=" + gf, "old_value": show(gv)}
                reason = f"formula ={gf} deleted"
            else:
                if not opt.formulas and values_equal(ev, gv, opt):
                    return
                ch = {"kind": "formula_to_constant", "sheet": self.ed_name, "cell": a1(er, c),
                      "ref_cell": a1(fr, rc), "old": "=" + gf, "new": show(ev), "old_value": show(gv)}
                reason = f"constant {show(ev)} typed over ={gf}"
            self._list(ch)
            if marks is not None:
                marks[c] = (ch["kind"], reason)
            return
        if ef is not None:  # formula here, constant or empty in the reference
            if not opt.formulas and values_equal(ev, gv, opt):
                return
            kind = "cell_added" if gv in (None, "") else "constant_to_formula"
            ch = {"kind": kind, "sheet": self.ed_name, "cell": a1(er, c), "ref_cell": a1(fr, rc),
                  "old": show(gv), "new": "=" + ef, "new_value": show(ev)}
            self._list(ch)
            if marks is not None:
                marks[c] = (kind, f"formula ={ef} where the reference has {show(gv)!r}")
            return
        # two constants
        if not opt.values or values_equal(ev, gv, opt):
            return
        if ev in (None, "") or gv in (None, ""):
            kind = "cell_removed" if ev in (None, "") else "cell_added"
        elif _is_num(ev) and _is_num(gv):
            kind = "input_changed"
        else:
            kind = "text_changed"
        ch = {"kind": kind, "sheet": self.ed_name, "cell": a1(er, c), "ref_cell": a1(fr, rc),
              "old": show(gv), "new": show(ev)}
        name = self.names_at.get((fr, rc))
        if name:
            ch["name"] = name
        elif kind == "input_changed":
            h = self.headers_ref.get(rc)
            if h:
                ch["name"] = h  # a data column: x, y
        self._list(ch)
        if marks is not None:
            marks[c] = (kind, f"{ch.get('name', a1(er, c))}: {show(gv)} -> {show(ev)}")

    def _same_formula(self, ef, gf, er, c, fr, rc):
        t = self.tr.translate(ef, self.ed_name)
        if t == gf or canon(t, fr, rc) == canon(gf, fr, rc):
            return True
        # Does the formula point below the current row (an epoch total, a SUM)?
        # The row map there is not known yet: decide at the end of the sheet.
        if len(self.pending) < 100000 and _points_below(ef, er):
            self.pending.append((er, c, fr, rc, ef, gf))
            return None
        return False

    def _recheck_pending(self):
        pend, self.pending = self.pending, []
        for er, c, fr, rc, ef, gf in pend:
            t = self.tr.translate(ef, self.ed_name)
            if canon(t, fr, rc) == canon(gf, fr, rc):
                continue
            self._list({"kind": "formula_changed", "sheet": self.ed_name, "cell": a1(er, c), "ref_cell": a1(fr, rc),
                        "old": "=" + gf, "new": "=" + ef, "differs": what_differs(gf, ef)})
            if self.grid is not None:
                for row in self.grid.rows:
                    if row["row"] == er:
                        row["marks"][c] = ["formula_changed", f"formula ={gf} -> ={ef}"]


def _points_below(f, row):
    try:
        return any(s is None and r > row for s, r, _ in refs.refs(f, row, 0))
    except refs.FormulaSyntaxError:
        return False


def _vkey(v):
    if isinstance(v, float):
        return float(f"{v:.12g}")
    return v


class _Stream:
    """A row iterator with a bounded look-ahead buffer."""

    def __init__(self, head, it):
        self.buf = deque(head)
        self.it = it
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
# Whole workbooks


@dataclass
class DiffResult:
    edited: str
    reference: str
    reference_kind: str
    options: Options
    changes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)   # [{name, ref_name, status}]
    grids: dict = field(default_factory=dict)    # edited sheet -> Grid

    @property
    def same(self):
        return not self.changes

    def counts(self):
        out = {}
        for ch in self.changes:
            k = ch["kind"]
            out[k] = out.get(k, 0) + (ch.get("count", 1) if k in ("values_changed", "more_cells") else 1)
        return out

    def as_dict(self):
        return {
            "edited": self.edited, "reference": self.reference, "reference_kind": self.reference_kind,
            "same": self.same,
            "options": {"rtol": self.options.rtol, "atol": self.options.atol, "formulas": self.options.formulas,
                        "values": self.options.values, "sheet": self.options.sheet},
            "sheets": self.sheets,
            "counts": self.counts(),
            "changes": self.changes,
        }


def _content_hash(source, name, limit_rows=None):
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    n = 0
    for r, cells in sheet_rows(source, name):
        n += 1
        for c in sorted(cells):
            f, v = cells[c]
            h.update(repr((c, canon(f, r, c) if f is not None else None,
                           None if f is not None else _vkey(v))).encode())
        if limit_rows and n >= limit_rows:
            break
    return h.hexdigest()


def match_sheets(ed_names, ref_names, ed_src, ref_src):
    """[(edited name or None, reference name or None, status)] in edited order."""
    ref_set = set(ref_names)
    pairs = {}
    for n in ed_names:
        if n in ref_set:
            pairs[n] = n
    lone_e = [n for n in ed_names if n not in pairs]
    lone_r = [n for n in ref_names if n not in pairs.values()]
    if lone_e and lone_r:
        # Renamed: the same content under another name. Compare the head of
        # each sheet (formulas in relative form) -- cheap and rename-proof.
        hr = {}
        for n in lone_r:
            hr.setdefault(_content_hash(ref_src, n, 200), []).append(n)
        for n in list(lone_e):
            hv = _content_hash(ed_src, n, 200)
            if hr.get(hv):
                m = hr[hv].pop(0)
                pairs[n] = m
                lone_e.remove(n)
                lone_r.remove(m)
    out = []
    for n in ed_names:
        if n in pairs:
            out.append((n, pairs[n], "same" if pairs[n] == n else "renamed"))
        else:
            out.append((n, None, "added"))
    for m in lone_r:
        out.append((None, m, "removed"))
    return out


def diff_books(ed_src, ref_src, opt: Options | None = None, edited_label="", reference_label="",
               reference_kind="file") -> DiffResult:
    """Diff two open workbooks (`Package`s): the edited one against its reference."""
    opt = opt or Options()
    res = DiffResult(edited_label, reference_label, reference_kind, opt)
    ed_names, ref_names = ed_src.worksheet_names, ref_src.worksheet_names
    pairs = match_sheets(ed_names, ref_names, ed_src, ref_src)
    if opt.sheet is not None:
        if opt.sheet not in ed_names and opt.sheet not in ref_names:
            raise XlgdError(f"no sheet named {opt.sheet!r} (sheets: {', '.join(ed_names)})")
        pairs = [p for p in pairs if opt.sheet in (p[0], p[1])]
    tr = Translator()
    for e, r, status in pairs:
        if e and r:
            tr.maps[e] = SheetMap(r, RowMap(), None)
            if e != r:
                tr.renamed = True

    ref_names_map = learner_names(ref_src)
    names_at = {}
    for (scope, name), text in ref_names_map.items():
        from ..charts.model import parse_area

        a = parse_area(text)
        if a and a.r1 == a.r2 and a.c1 == a.c2:
            names_at[(a.sheet, a.r1, a.c1)] = name

    for e, r, status in pairs:
        if META_SHEET in (e, r):
            continue  # xlgd's own record, rewritten on every generate: not the learner's content
        res.sheets.append({"name": e, "ref_name": r, "status": status})
        if status == "added":
            res.changes.append({"kind": "sheet_added", "sheet": e})
            continue
        if status == "removed":
            res.changes.append({"kind": "sheet_removed", "ref_sheet": r})
            continue
        if status == "renamed":
            res.changes.append({"kind": "sheet_renamed", "sheet": e, "old": r, "new": e})
        local = {(row, col): n for (s, row, col), n in names_at.items() if s == r}
        sd = SheetDiff(e, r, opt, tr, local, sheet_rows(ed_src, e), sheet_rows(ref_src, r))
        tr.maps[e] = SheetMap(r, sd.rowmap, None)
        sd.run()
        tr.maps[e].cols = sd.cols if sd.cols is not None else None
        res.changes.extend(sd.changes)
        if sd.grid is not None and sd.grid.rows:
            res.grids[e] = sd.grid

    if opt.sheet is None and opt.formulas:
        res.changes.extend(diff_names(learner_names(ed_src), ref_names_map, tr))
        res.changes.extend(diff_calc(ed_src.calc, ref_src.calc))
        res.changes.extend(diff_charts(book_charts(ed_src), book_charts(ref_src), tr))
    elif opt.formulas:
        res.changes.extend(c for c in diff_charts(book_charts(ed_src), book_charts(ref_src), tr)
                           if c.get("sheet") == opt.sheet)
    return res


def diff_names(ed: dict, ref: dict, tr: Translator):
    out = []
    ren = {e: m.ref_name for e, m in tr.maps.items()}
    ed2 = {}
    for (scope, name), text in ed.items():
        ed2[(ren.get(scope, scope), name)] = (scope, text)
    for key in sorted(set(ed2) | set(ref), key=lambda k: (k[0] or "", k[1])):
        scope, name = key
        if key not in ref:
            out.append({"kind": "defined_name_added", "name": name, "scope": ed2[key][0], "new": ed2[key][1]})
        elif key not in ed2:
            out.append({"kind": "defined_name_removed", "name": name, "scope": scope, "old": ref[key]})
        else:
            escope, text = ed2[key]
            t = tr.translate(text, escope or "")
            if norm_formula(t.lstrip("=")) != norm_formula(ref[key].lstrip("=")):
                out.append({"kind": "defined_name_changed", "name": name, "scope": escope,
                            "old": ref[key], "new": text})
    return out


CALC_DEFAULTS = {"calcMode": "auto", "fullCalcOnLoad": "0", "iterate": "0", "iterateCount": "100",
                 "iterateDelta": "0.001", "calcOnSave": "1", "fullPrecision": "1", "refMode": "A1"}


def diff_calc(ed: dict, ref: dict):
    out = []
    for k in sorted(set(ed) | set(ref) | set(CALC_DEFAULTS)):
        if k == "calcId":
            continue  # the Excel version that last saved: not a setting a learner chose
        a = _bool_norm(ref.get(k, CALC_DEFAULTS.get(k)))
        b = _bool_norm(ed.get(k, CALC_DEFAULTS.get(k)))
        if a != b:
            out.append({"kind": "calc_settings_changed", "setting": k, "old": a, "new": b})
    return out


def _bool_norm(v):
    return {"true": "1", "false": "0"}.get(v, v)


ROLE = {"cat": "x", "xVal": "x", "val": "y", "yVal": "y"}


def diff_charts(ed_charts, ref_charts, tr: Translator):
    out = []
    ren = {e: m.ref_name for e, m in tr.maps.items()}

    def key_list(charts, rename):
        by = {}
        for ch in charts:
            s = rename.get(ch.sheet, ch.sheet) if rename else ch.sheet
            by.setdefault(s, []).append(ch)
        return by

    eb, rb = key_list(ed_charts, ren), key_list(ref_charts, None)
    for sheet in sorted(set(eb) | set(rb), key=lambda s: s or ""):
        el, rl = eb.get(sheet, []), rb.get(sheet, [])
        for k in range(max(len(el), len(rl))):
            ec = el[k] if k < len(el) else None
            rc = rl[k] if k < len(rl) else None
            ed_sheet = ec.sheet if ec else next((e for e, r in ren.items() if r == sheet), sheet)
            if ec is None:
                out.append({"kind": "chart_removed", "sheet": ed_sheet, "chart": rc.title})
                continue
            if rc is None:
                out.append({"kind": "chart_added", "sheet": ed_sheet, "chart": ec.title})
                continue
            for n in range(max(len(ec.series), len(rc.series))):
                es = ec.series[n] if n < len(ec.series) else None
                rs = rc.series[n] if n < len(rc.series) else None
                label = (rs or es).name or f"series {n + 1}"
                if es is None or rs is None:
                    out.append({"kind": "chart_series_changed", "sheet": ed_sheet, "chart": rc.title,
                                "series": label, "role": "series", "old": "present" if rs else None,
                                "new": "present" if es else None})
                    continue
                for a, b in ((es.cats, rs.cats), (es.values, rs.values)):
                    old = b.formula if b.kind else None
                    new = a.formula if a.kind else None
                    new_t = tr.translate(new, ec.sheet or "") if new else new
                    if (old or "") != (new_t or "") or (a.is_literal != b.is_literal):
                        out.append({"kind": "chart_series_changed", "sheet": ed_sheet, "chart": rc.title,
                                    "series": label, "role": ROLE.get(b.role, b.role),
                                    "old": old if old else (b.kind or None), "new": new if new else (a.kind or None)})
    return out


# --------------------------------------------------------------------------
# What the diff reads from a workbook (an open `xlsx.package.Package`)


def sheet_rows(pkg, name):
    """(row, {col: (formula without '=' or None, cached value)}) of one worksheet, streamed."""
    for r, cells in pkg.rows(name):
        d = {}
        for c in cells:
            if c.formula is not None or c.value not in (None, ""):
                d[c.col] = (c.formula, c.value)
        if d:
            yield r, d


def learner_names(pkg) -> dict:
    """{(sheet scope or None, name as written): text}, without print areas and filter databases."""
    return {key: text for key, text in pkg.defined_names.items() if not key[1].startswith("_xlnm.")}


def book_charts(pkg) -> list:
    """The workbook's charts; a chart part the chart reader cannot follow leaves the charts out."""
    from ..charts.model import read_charts

    try:
        return read_charts(pkg)
    except XlgdError:
        return []

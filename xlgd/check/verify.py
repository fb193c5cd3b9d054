"""Prove every computed cell of a workbook, and say what is wrong and why.

`verify_book(path)` returns a `Report`. Three checks per computed cell:

* structure   -- the cell's formula equals its column's formula in R1C1
                 form (`r1c1.canonical`): an edited formula, a constant
                 pasted over a formula, a reference moved to another cell;
* consistency -- the cell's value equals its own formula applied to the
                 values its inputs hold in the file (vectorised over rows
                 with the column's numpy source, `expr.py`); finds stale
                 values even where every formula is right;
* trajectory  -- the values equal the engine's run from the workbook's own
                 inputs (input cells, start values, data as the file holds
                 them now).

Failures are grouped by root cause: a cell whose formula differs, or the
first of a run of stale values, is one cause; trajectory differences after
it are counted as its downstream cells, not listed. Spreadsheet errors are
values: #NUM!/#DIV/0! must sit exactly where the engine puts them, in the
dialect of whoever saved the file (LibreOffice writes #VALUE! for SQRT of
a negative where Excel writes #NUM!).

Speed: an untouched step row's XML is known exactly (formulas from the
layout's per-column templates, style attributes from the file), so rows
equal to it are taken whole -- one string comparison and one numpy parse
of the values per 8 MB piece -- and only rows that differ are read cell by
cell (`_RowMatcher`, `FAST_ROWS`). Checks and reports are the same either
way (tests/test_verify_fastrows.py reads every sheet both ways).

Reusable pieces for `diff`: `load_xlgd(book)` (record -> Recipe),
`read_xlgd_sheet` (a sheet's step table as arrays), `Report`/`Cause`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from . import graddesc as gl
from ..core.engine import run
from ..core.functions import VOLATILE, numpy_namespace
from ..errors import XlgdError
from ..core.expr import CellRef, Col, Data, EpochValue, Name, excel_value, leaves, magnitude, n_ops, py
from ..xlsx.formula import Unsupported, parse
from ..book.layout import (DATA_FIRST_ROW, DATA_SHEET, INPUT_ROW, START_ROW, Layout)
from ..recipe import record
from ..recipe.record import META_SHEET
from ..xlsx.refs import FormulaSyntaxError, a1, canonical, row_template, split_ref, tokens
from ..xlsx.package import Cell, Fallback, Package

ROUNDED_RTOL = 1e-14  # LibreOffice 7.4 writes 15 significant digits
CONSIST_ROUNDED = 4e-14  # per operation, times the formula's magnitude
FAST_ROWS = True  # take untouched step rows whole (`_RowMatcher`); tests turn it off to compare
ENGINE_AHEAD_ROWS = 20000  # from this many step rows on, the engine runs in a forked process meanwhile


@dataclass
class Cause:
    """One root cause: a cell and a plain reason; `downstream` cells follow from it."""

    sheet: str
    cell: str
    kind: str  # formula, constant, missing, stale, value, error, data, trajectory
    message: str
    cells: int = 1
    downstream: int = 0
    step: int = -1

    def lines(self):
        out = [f"{self.sheet}!{self.cell}: {self.message}"]
        if self.downstream:
            out.append(f"  ... and {self.downstream} cell(s) downstream of {self.sheet}!{self.cell} differ from "
                       f"the engine's run because of it")
        return out


@dataclass
class SheetReport:
    name: str
    layout: str  # 'xlgd' or 'graddesc:<kind>'
    checked: int = 0
    failed: int = 0
    causes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    max_ulp: int = 0


@dataclass
class Report:
    path: str
    producer: str
    dialect: str
    values_source: str
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)

    @property
    def ok(self):
        return all(s.failed == 0 for s in self.sheets)

    def as_dict(self):
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def text(self):
        out = [f"{self.path}: values from {self.values_source}; saved by {self.producer}, "
               f"errors compared in the {self.dialect} dialect"]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"note: {n}" for n in self.notes]
        for s in self.sheets:
            status = "ok" if s.failed == 0 else f"{s.failed} failed"
            out.append(f"{s.name} ({s.layout}): {s.checked} cells checked, {status}, max {s.max_ulp} ulp from the engine")
            out += [f"  note: {n}" for n in s.notes]
            for c in s.causes:
                out += ["  " + line for line in c.lines()]
        out.append("OK: every computed cell checks out" if self.ok else
                   f"FAILED: {sum(len(s.causes) for s in self.sheets)} root cause(s)")
        return "\n".join(out)


# ----------------------------------------------------------------- helpers
def _fmt(v):
    if isinstance(v, str):
        return v
    if v is None:
        return "empty"
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def _same(a, b, rtol):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return False
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def _ulp(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ia, ib = a.view(np.int64), b.view(np.int64)
    ia = np.where(ia < 0, np.int64(-0x8000000000000000) - ia, ia)
    ib = np.where(ib < 0, np.int64(-0x8000000000000000) - ib, ib)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return 0
    return int(np.abs(ia[ok] - ib[ok]).max())


def _structure_reason(actual: Cell | None, expected: str, r, c):
    """Why a cell's content is not its column's formula (None if it is)."""
    if actual is None or (actual.formula is None and actual.value is None):
        return "missing", f"the cell is empty; its column has `{expected}`"
    if actual.formula is None:
        return "constant", f"formula replaced by the constant {_fmt(actual.value)} (its column has `{expected}`)"
    text = "=" + actual.formula
    try:
        if canonical(text, r, c) == canonical(expected, r, c):
            return None
    except FormulaSyntaxError:
        return "formula", f"formula `{text}` cannot be read; expected `{expected}`"
    detail = ""
    try:
        ta, te = tokens(text), tokens(expected)
        if any(k == "sheet" for k, _ in ta) and not any(k == "sheet" for k, _ in te):
            detail = " (it refers to another sheet)"
        elif len(ta) == len(te):
            diff = [(x[1], y[1]) for x, y in zip(ta, te) if x != y]
            if len(diff) == 1:
                detail = f" (`{diff[0][0]}` where its column has `{diff[0][1]}`)"
        if any(k == "func" and t.upper() in VOLATILE for k, t in ta):
            detail += " and it uses a volatile function"
    except FormulaSyntaxError:
        pass
    return "formula", f"formula differs from its column: `{text}`, expected `{expected}`{detail}"


# ----------------------------------------------------------------- context
class _Ctx:
    """What every check of one workbook shares: the book, the grids of small sheets, the dialect."""

    def __init__(self, book: Package, rtol, values, dialect, rounded):
        self.book, self.rtol, self.values, self.dialect, self.rounded = book, rtol, values, dialect, rounded
        self.grids = {}
        self.big = {}  # sheet -> (lookup function) for sheets read as arrays

    def cells(self, sheet):
        over = self.values.get(sheet) if self.values else None
        for c in self.book.cells(sheet):
            if over is not None and c.formula is not None:
                v = over(c.row, c.col)
                yield c._replace(value=v, kind="e" if isinstance(v, str) else ("n" if v is not None else ""))
            else:
                yield c

    def grid(self, sheet):
        if sheet not in self.grids:
            self.grids[sheet] = {(c.row, c.col): c for c in self.cells(sheet)}
        return self.grids[sheet]

    def value(self, sheet, r, c):
        """A cell's value as a formula reading it sees: float, error code, or 0.0 when empty."""
        if sheet in self.big:
            v = self.big[sheet](r, c)
            if v is not _MISS:
                return v
        cell = self.grid(sheet).get((r, c)) if sheet in self.book.sheet_names else None
        if cell is None or cell.value is None:
            return 0.0
        if isinstance(cell.value, str):
            return cell.value if cell.kind == "e" else "#VALUE!"
        return float(cell.value)

    def env(self, sheet):
        def env(leaf):
            if isinstance(leaf, CellRef):
                return self.value(leaf.sheet, leaf.row, leaf.col)
            if isinstance(leaf, Name):
                where = self.book.name_ref(sheet, leaf.name)
                if where is None:
                    return "#NAME?"
                return self.value(*where)
            raise TypeError(leaf)

        return env


_MISS = object()


def _eval_text(ctx, sheet, text):
    try:
        return excel_value(parse(text, sheet), ctx.env(sheet), ctx.dialect)
    except Unsupported:
        return None


# ------------------------------------------------------------ generic cells
def check_cells(ctx, sheet, items, rep: SheetReport, engine_values=None):
    """Structure and consistency (and trajectory, given engine values) for listed cells.

    items: [(row, col, expected formula)]; engine_values: {(row, col): value}.
    Returns (structure failures, consistency failures, trajectory failures), dicts keyed by (row, col).
    """
    grid = ctx.grid(sheet)
    S, L, T = {}, {}, {}
    close = ([], [])  # (have, engine) pairs that passed, for the ulp distance in one call
    rtol = max(ctx.rtol, 1e-12 if ctx.rounded else 0.0)
    trtol = max(ctx.rtol, ROUNDED_RTOL if ctx.rounded else 0.0)
    for r, c, expected in items:
        rep.checked += 1
        cell = grid.get((r, c))
        why = _structure_reason(cell, expected, r, c)
        if why:
            S[(r, c)] = why
        if cell is None or cell.formula is None:
            continue
        have = ctx.value(sheet, r, c) if cell.value is not None else None
        if have is not None:
            want = _eval_text(ctx, sheet, "=" + cell.formula)
            if want is not None and not _same(have, want, rtol):
                L[(r, c)] = (have, want)
        if engine_values is not None and (r, c) in engine_values and have is not None:
            ev = engine_values[(r, c)]
            if not _same(have, ev, trtol):
                T[(r, c)] = (have, ev)
            elif not isinstance(ev, str) and not isinstance(have, str):
                close[0].append(have)
                close[1].append(ev)
    if close[0]:
        rep.max_ulp = max(rep.max_ulp, _ulp(close[0], close[1]))
    return S, L, T


def group(sheet, rep: SheetReport, S, L, T, order, stale_reason=""):
    """Turn per-cell failures into root causes. order(key) -> sortable step position."""
    causes = []
    for k, (kind, msg) in sorted(S.items(), key=lambda kv: order(kv[0])):
        if k in L:
            have, want = L[k]
            msg += f"; it holds {_fmt(have)}, its formula gives {_fmt(want)}"
        causes.append(Cause(sheet, _a1k(k), kind, msg, step=order(k)))
    stale = sorted((k for k in L if k not in S), key=order)
    if stale:
        k = stale[0]
        have, want = L[k]
        errs = [kk for kk in stale if isinstance(L[kk][0], str) or isinstance(L[kk][1], str)]
        if errs and len(errs) == len(stale):
            kind, head = "error", "error cells disagree with their formulas"
        else:
            kind, head = "stale", "values are stale"
        msg = (f"{head}: {len(stale)} cell(s) do not equal their own formula applied to the values the sheet holds "
               f"(first {sheet}!{_a1k(k)} holds {_fmt(have)}, its formula gives {_fmt(want)})")
        if stale_reason:
            msg += f"; {stale_reason}"
        causes.append(Cause(sheet, _a1k(k), kind, msg, cells=len(stale), step=order(k)))
    causes.sort(key=lambda c: c.step)
    primary = set(S) | set(L)
    loose = []
    for k in sorted(T, key=order):
        if k in primary:
            continue
        owner = None
        for c in causes:
            if c.step <= order(k):
                owner = c
        if owner is None:
            loose.append(k)
        else:
            owner.downstream += 1
    if loose:
        k = loose[0]
        have, want = T[k]
        causes.append(Cause(sheet, _a1k(k), "trajectory",
                            f"{len(loose)} cell(s) differ from the engine's run from this workbook's own inputs "
                            f"(first holds {_fmt(have)}, the engine computes {_fmt(want)})",
                            cells=len(loose), step=order(k)))
    rep.causes += causes
    rep.failed += len(set(S) | set(L) | set(T))


def _a1k(k):
    return a1(*k)


# ----------------------------------------------------------- xlgd workbooks
def load_xlgd(book: Package):
    """The record and Recipe of an xlgd workbook (None, None if it has no record)."""
    rec = record.read(book)
    if rec is None:
        return None, None
    try:
        return rec, record.rebuild(rec)
    except XlgdError as e:
        raise XlgdError(f"{book.path}: {e}") from None


@dataclass
class StepTable:
    """One xlgd sheet's step table as the file holds it (see `read_xlgd_sheet`)."""

    vals: np.ndarray  # (columns, steps) floats, nan where not a number
    seen: np.ndarray  # cell present
    errs: dict  # (ci, i) -> error code or text
    formula_fail: dict  # (ci, i) -> (kind, message)
    cells: dict  # (ci, i) -> Cell, only for cells failing the structure check
    misc: dict  # (row, col) -> Cell outside the step table
    no_cache: int = 0
    rows_whole: int = 0  # step rows taken whole by the row matcher


def read_xlgd_sheet(ctx, spec, lay: Layout) -> StepTable:
    """Stream one xlgd sheet: structure-check every step cell, keep values as arrays.

    Rows whose XML is exactly what the layout expects (`_RowMatcher`) are taken
    whole: their values parsed per piece in one numpy call. Every other row --
    an edited formula, an error value, a cell without a cached value, a file
    another program re-wrote -- goes cell by cell through the scanner."""
    n, N = spec.n_data, spec.n_steps
    cols = spec.columns
    ncol = len(cols)
    vals = np.full((ncol, N), np.nan)
    seen = np.zeros((ncol, N), bool)
    errs, fails, bad_cells, misc = {}, {}, {}, {}
    kinds = []
    for c in cols:
        refs = [leaf for e in (c.expr, c.first) if e is not None for leaf in leaves(e)]
        kinds.append(("xy" if any(isinstance(r, Data) for r in refs) else "")
                     + ("ep" if any(isinstance(r, EpochValue) for r in refs) else ""))
    templates = {}
    first_row = lay.step_row(0)
    no_cache = 0

    def template(ci, i):
        kind = kinds[ci]
        d = i % n
        key = (ci, d if "xy" in kind else d == 0, i // n if "ep" in kind else None)
        t = templates.get(key)
        if t is None:
            text = lay.formula(cols[ci].name, i)
            t = templates[key] = (row_template(text, lay.step_row(i)), text)
        return t

    def take(cell):
        nonlocal no_cache
        r, c = cell.row, cell.col
        i = r - first_row
        if i < 0 or i >= N or c > ncol:
            misc[(r, c)] = cell
            return
        ci = c - 1
        seen[ci, i] = True
        tmpl, text0 = template(ci, i)
        f = cell.formula
        if f is None or f != tmpl(r):
            expected = "=" + tmpl(r)
            why = _structure_reason(cell, expected, r, c)
            if why:
                fails[(ci, i)] = why
                bad_cells[(ci, i)] = cell
        v = cell.value
        if cell.kind == "n":
            vals[ci, i] = v
        elif v is None:
            if f is not None:
                no_cache += 1
        elif cell.kind == "e":
            errs[(ci, i)] = v
        else:
            errs[(ci, i)] = "#VALUE!" if cell.kind == "s" else v

    fast = FAST_ROWS and (ctx.values is None or ctx.values.get(spec.name) is None)
    rows_whole = 0
    if fast:
        try:
            rows_whole = _read_rows(ctx.book, spec, lay, take, vals, seen, misc)
        except Fallback:
            fast = False
            vals[:] = np.nan
            seen[:] = False
            errs.clear(), fails.clear(), bad_cells.clear(), misc.clear()
            no_cache = rows_whole = 0
    if not fast:
        for cell in ctx.cells(spec.name):
            take(cell)
    missing = np.argwhere(~seen)
    for ci, i in missing[:100000]:
        tmpl, _ = template(ci, i)
        fails[(int(ci), int(i))] = _structure_reason(None, "=" + tmpl(lay.step_row(int(i))), 0, 0)
    return StepTable(vals, seen, errs, fails, bad_cells, misc, no_cache, rows_whole)


class _Layout(Layout):
    """A Layout that renders each epoch-block formula once (the row matcher and the
    epoch check both ask for every one of them)."""

    def __init__(self, spec):
        super().__init__(spec)
        self._epf = {}

    def epoch_formula(self, col, k):
        f = self._epf.get((col, k))
        if f is None:
            f = self._epf[(col, k)] = super().epoch_formula(col, k)
        return f


_V = re.compile(r"<v>([^<]*)</v>")
_ROW_START = re.compile(r'\s*<row r="([0-9]+)"')
_CELL_HEAD = re.compile(r'<c r="([A-Z]{1,3})[0-9]+"([^>]*)>')
_STYLE_ONLY = re.compile(r'(?:\s+s="[0-9]+")?')
_HOLE = "\x00"  # where a <v>..</v> was cut out of a row
# Stand-ins for the epoch rows of a block of rows: ASCII control characters (no XML
# text holds them), so str.replace stays on one-byte strings.
_EPOCH_HOLES = [chr(c) for c in (*range(3, 9), 11, 12, *range(14, 32))]


def _xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _RowMatcher:
    """The exact XML an untouched step row has, values cut out.

    Formula text comes from the layout (per-column templates); only the style
    attributes (s="..") and the row element's attributes are taken from the
    file, from the first step row that has exactly the expected cells, each
    with a formula, a cached value and no type other than number. A row equal
    to this text holds every expected formula verbatim and a number in every
    cell, which is all the per-cell path would conclude; anything else is
    left to that path."""

    def __init__(self, spec, lay):
        self.spec, self.lay = spec, lay
        self.n, self.N = spec.n_data, spec.n_steps
        self.ncol, self.nep = len(spec.columns), len(spec.epoch_columns)
        self.first_row = lay.step_row(0)
        self.tmpl = None  # {first?: text with {r} {p} {d} {e}}
        self.ep_cells = None  # [(letter, attrs)] of the epoch block
        self._blocks = {}
        self._no_blocks = False
        self.tries = 0

    def learn(self, row_text):
        """Take the style attributes from a row of the file; True when the row has the expected shape."""
        self.tries += 1
        m = re.match(r'\s*<row r="([0-9]+)"([^>]*)>', row_text)
        if not m:
            return False
        r = int(m.group(1))
        i = r - self.first_row
        if not 0 <= i < self.N:
            return False
        heads = _CELL_HEAD.findall(row_text)
        lay, spec = self.lay, self.spec
        want = [lay.letter(c.name) for c in spec.columns]
        k = r - START_ROW
        has_ep = 0 <= k < spec.epochs
        if has_ep:
            want += [lay.epoch_letter(c.name) for c in spec.epoch_columns]
        if [h[0] for h in heads] != want or row_text.count("<c ") != len(want):
            return False
        if not all(_STYLE_ONLY.fullmatch(a) for _, a in heads):
            return False
        rowattrs = m.group(2)
        tm = {}
        for first in (True, False):
            parts = [f'<row r="{{r}}"{rowattrs}>']
            for c, (letter, attrs) in zip(spec.columns, heads):
                f = lay.templates[(c.name, first)][1:]  # the column's formula, rows as {r} {p} {d} {e}
                parts.append(f'<c r="{letter}{{r}}"{attrs}><f>{_xml_text(f)}</f>{_HOLE}</c>')
            # %-formatting with a dict of ready strings: twice as fast as str.format here (~80 fields a row)
            tm[first] = re.sub(r"\{([rpde])\}", r"%(\1)s", "".join(parts).replace("%", "%%"))
        self.tmpl = tm
        self.ep_cells = [(lay.epoch_letter(c.name), a) for c, (_, a) in
                         zip(spec.epoch_columns, heads[self.ncol:])] if has_ep else None
        return True

    def epoch_part(self, k):
        """The epoch-block cells of row START_ROW + k (k >= 1)."""
        if self.ep_cells is None:
            return None
        out = []
        row = START_ROW + k
        for ec, (letter, attrs) in zip(self.spec.epoch_columns, self.ep_cells):
            f = self.lay.epoch_formula(ec.name, k)[1:]
            out.append(f'<c r="{letter}{row}"{attrs}><f>{_xml_text(f)}</f>{_HOLE}</c>')
        return "".join(out)

    BLOCK = 100  # rows R..R+99 with R % 100 == 0 share their leading digits

    def rows(self, i0, i1):
        """Expected skeleton of step rows i0..i1-1 (None if one has no expectation).

        Rows are rendered 100 at a time: in rows R..R+99 (R a multiple of 100) every
        row number is str(R // 100) followed by two digits, so one rendered block per
        phase in the epoch serves every such block, its leading digits and epoch rows
        put in with a few str.replace calls -- the same text as `row` gives each row,
        ~10x faster than formatting ~80 fields a row."""
        out = []
        i = i0
        B = self.BLOCK
        while i < i1:
            r = self.first_row + i
            if (r % B or r < 2 * B or i + B > i1 or r - START_ROW < self.spec.epochs or self.tmpl is None
                    or self._no_blocks):
                t = self.row(i)
                if t is None:
                    return None
                out.append(t)
                i += 1
                continue
            phase, k0 = i % self.n, i // self.n
            blk = self._blocks.get(phase)
            if blk is None:
                blk = self._block(phase)
            if blk is None:  # placeholder characters in the text itself: row by row
                self._no_blocks = True
                continue
            text, koffs = blk
            hi = str(r // B)
            text = text.replace("\x01", hi).replace("\x02", str(r // B - 1))
            for ko in koffs:
                text = text.replace(_EPOCH_HOLES[ko], str(START_ROW + k0 + ko))
            out.append(text)
            i += B
        return "".join(out)

    def _block(self, phase):
        B, n = self.BLOCK, self.n
        if (phase + B - 1) // n >= len(_EPOCH_HOLES):  # tiny epochs: too many epoch rows in a block
            return None
        parts, koffs = [], set()
        for j in range(B):
            d, ko = (phase + j) % n, (phase + j) // n
            koffs.add(ko)
            hole = {"r": "\x01%02d" % j, "p": ("\x01%02d" % (j - 1)) if j else "\x0299",
                    "d": str(DATA_FIRST_ROW + d), "e": _EPOCH_HOLES[ko]}
            parts.append(self.tmpl[d == 0] % hole + "</row>")
        if any(ch in t for t in self.tmpl.values() for ch in ["\x01", "\x02"] + [_EPOCH_HOLES[k] for k in koffs]):
            return None
        if len(self._blocks) >= 64:
            self._blocks.clear()
        blk = self._blocks[phase] = ("".join(parts), sorted(koffs))
        return blk

    def row(self, i):
        """Expected skeleton of step i's row, or None."""
        n = self.n
        k, d = divmod(i, n)
        r = self.first_row + i
        s = self.tmpl[d == 0] % {"r": str(r), "p": str(r - 1), "d": str(DATA_FIRST_ROW + d), "e": str(START_ROW + k)}
        ke = r - START_ROW
        if ke < self.spec.epochs:
            ep = self.epoch_part(ke)
            if ep is None:
                return None
            s += ep
        return s + "</row>"


def _read_rows(book, spec, lay, take, vals, seen, misc):
    """Fill vals/seen from rows matching `_RowMatcher`, and hand every other cell to take().
    Returns how many rows were taken whole."""
    name = spec.name
    shared, colmap = {}, {}
    mt = _RowMatcher(spec, lay)
    N, ncol, nep, first_row = mt.N, mt.ncol, mt.nep, mt.first_row
    count = [0]
    ep_first_rows = spec.epochs  # step rows START_ROW+1 .. START_ROW+epochs-1 also hold epoch cells

    def slow(text):
        for cell in book.scan_piece(name, text, shared, colmap):
            take(cell)

    def put(i0, nrows, texts):
        """Values of rows i0.. (all matched) into the arrays; False if one is not a number."""
        try:
            arr = np.array(texts, dtype=np.float64)
        except ValueError:
            return False
        r0 = first_row + i0
        m = max(0, min(nrows, START_ROW + ep_first_rows - r0))  # rows with epoch cells come first
        if m:
            head = arr[:m * (ncol + nep)].reshape(m, ncol + nep)
            vals[:, i0:i0 + m] = head[:, :ncol].T
            for j in range(m):
                r = r0 + j
                for q, ec in enumerate(spec.epoch_columns):
                    c = lay.epoch_index[ec.name] + 1
                    f = lay.epoch_formula(ec.name, r - START_ROW)[1:]
                    misc[(r, c)] = Cell(r, c, f, float(head[j, ncol + q]), "n")
            arr = arr[m * (ncol + nep):]
        if nrows > m:
            vals[:, i0 + m:i0 + nrows] = arr.reshape(nrows - m, ncol).T
        seen[:, i0:i0 + nrows] = True
        count[0] += nrows
        return True

    def one_row(text):
        m = _ROW_START.match(text)
        i = int(m.group(1)) - first_row if m else -1
        if 0 <= i < N:
            if mt.tmpl is None and mt.tries < 1000:
                mt.learn(text)
            if mt.tmpl is not None:
                parts = _V.split(text)
                if _HOLE.join(parts[0::2]) == mt.row(i) and put(i, 1, parts[1::2]):
                    return
        slow(text)

    for body in book.bodies(name):
        if mt.tmpl is not None:
            m = _ROW_START.match(body)
            i0 = int(m.group(1)) - first_row if m else -1
            nrows = body.count("</row>")
            if 0 <= i0 and i0 + nrows <= N:
                parts = _V.split(body)
                want = mt.rows(i0, i0 + nrows)
                if want is not None and _HOLE.join(parts[0::2]) == want and put(i0, nrows, parts[1::2]):
                    continue
        rows = body.split("</row>")
        tail = rows.pop()
        for t in rows:
            one_row(t + "</row>")
        if tail.strip():
            slow(tail)
    return count[0]


def _peek_inputs(ctx, spec, lay):
    """The input row's numbers as `_check_xlgd_sheet` will take them, read ahead of the sheet
    (None when that is not simple): lets the engine run while the sheet is read."""
    if ctx.values is not None and ctx.values.get(spec.name) is not None:
        return None
    try:
        pieces = ctx.book.bodies(spec.name)
        try:
            body = next(pieces, "")
        finally:
            pieces.close()
        cut = body.find(f'<row r="{INPUT_ROW + 1}"')
        if cut < 0:
            return None
        cells = {(c.row, c.col): c for c in ctx.book.scan_piece(spec.name, body[:cut], {}, {})}
    except (Fallback, XlgdError):
        return None
    inputs = {}
    for inp in spec.inputs:
        cell = cells.get((INPUT_ROW, lay.input_index[inp.name] + 1))
        v = cell.value if cell is not None else None
        inputs[inp.name] = v if isinstance(v, float) else inp.value
    return inputs


def _engine_child(conn, out, spec, x, y, inputs, dialect):
    try:
        res = run(spec, x, y, inputs=inputs, dialect=dialect)
        for ci, c in enumerate(spec.columns):  # the step table through shared memory, not the pipe
            out[ci] = res.steps[c.name]
        conn.send(("ok", res.start, res.epochs, res.errors))
    except BaseException as e:  # the parent runs it again and meets the same error itself
        conn.send(("error", repr(e)))
    conn.close()


def _engine_async(spec, x, y, inputs, dialect):
    """Start the engine's run in a forked process (the sheet is read meanwhile, on the other
    core); returns a function giving its Result -- or computing it here if that failed."""
    import multiprocessing as mp

    def here():
        return run(spec, x, y, inputs=inputs, dialect=dialect)

    try:
        import mmap

        mpc = mp.get_context("fork")
        shape = (len(spec.columns), spec.n_steps)
        out = np.frombuffer(mmap.mmap(-1, max(8, 8 * shape[0] * shape[1])), np.float64)[:shape[0] * shape[1]]
        out = out.reshape(shape)
        recv, send = mpc.Pipe(duplex=False)
        proc = mpc.Process(target=_engine_child, args=(send, out, spec, x, y, inputs, dialect), daemon=True)
        proc.start()
        send.close()
    except (ValueError, OSError):
        return here

    def result():
        try:
            msg = recv.recv()
        except (EOFError, OSError):
            msg = ("error",)
        finally:
            recv.close()
            proc.join()
        if msg[0] != "ok":
            return here()
        from ..core.engine import Result

        steps = {c.name: out[ci] for ci, c in enumerate(spec.columns)}
        return Result(spec, msg[1], steps, msg[2], msg[3], None)

    return result


def _check_xlgd_sheet(ctx, rec_sheet, spec, lay, data_info, rep, stale_reason, use_engine_values):
    peeked = None if use_engine_values or spec.n_steps < ENGINE_AHEAD_ROWS else _peek_inputs(ctx, spec, lay)
    engine = None
    if peeked is not None:
        engine = (peeked, _engine_async(spec, data_info["x"], data_info["y"], peeked, ctx.dialect))
    st = read_xlgd_sheet(ctx, spec, lay)
    n, N = spec.n_data, spec.n_steps
    cols = spec.columns
    idx = {c.name: k for k, c in enumerate(cols)}
    first_row = lay.step_row(0)
    rep.checked += N * len(cols)

    def lookup(r, c):
        i = r - first_row
        if 0 <= i < N and 1 <= c <= len(cols):
            if (c - 1, i) in st.errs:
                return st.errs[(c - 1, i)]
            if not st.seen[c - 1, i]:
                return 0.0
            v = st.vals[c - 1, i]
            return 0.0 if np.isnan(v) else float(v)
        cell = st.misc.get((r, c))
        if cell is None or cell.value is None:
            return 0.0
        if isinstance(cell.value, str):
            return cell.value if cell.kind == "e" else "#VALUE!"
        return float(cell.value)

    ctx.big[spec.name] = lookup
    ctx.grids[spec.name] = st.misc

    # Inputs as the file holds them, against the record.
    inputs = {}
    for inp in spec.inputs:
        r, c = INPUT_ROW, lay.input_index[inp.name] + 1
        cell = st.misc.get((r, c))
        v = cell.value if cell is not None else None
        if not isinstance(v, float):
            rep.causes.append(Cause(spec.name, a1(r, c), "input",
                                    f"input {inp.name} in {a1(r, c)} holds {_fmt(v)}, not a number; "
                                    f"the template said {_fmt(inp.value)}"))
            rep.failed += 1
            v = inp.value
        elif v != inp.value:
            rep.notes.append(f"{inp.name} in {a1(r, c)} is {_fmt(v)}, the template said {_fmt(inp.value)} "
                             f"-- checked with {_fmt(v)}")
        inputs[inp.name] = v
    if use_engine_values:
        res = run(spec, data_info["x"], data_info["y"], inputs=inputs, dialect=ctx.dialect)
        for c in cols:
            st.vals[idx[c.name]] = res.steps[c.name]
        st.errs = {(idx[k[0]], k[1]): v for k, v in res.errors.items() if not k[0].startswith("@")}
    vals, errs = st.vals, st.errs

    # ---- local consistency, vectorised per column over all step rows
    L = {}
    rtol = ctx.rtol
    start = {}
    for c in cols:
        if c.init is not None:
            start[c.name] = lookup(lay.step_row(-1), idx[c.name] + 1)
    ep_rows = np.arange(N) // n
    epoch_vals = {}
    for ec in spec.epoch_columns:
        arr = np.array([lookup(lay.epoch_row(k), lay.epoch_index[ec.name] + 1) for k in range(spec.epochs)],
                       dtype=object)
        epoch_vals[ec.name] = arr
    helpers = numpy_namespace(True, ctx.dialect)
    d_idx = np.arange(N) % n
    first_mask = d_idx == 0
    if not use_engine_values:
        with np.errstate(all="ignore"):
            for c in cols:
                ci = idx[c.name]
                comp = np.empty(N)
                tol = np.zeros(N)
                for e, mask in ((c.expr, ~first_mask if c.first is not None else None), (c.first, first_mask)):
                    if e is None:
                        continue
                    comp_e, tol_e = _vector_eval(ctx, e, c, spec, lay, vals, idx, start, inputs, epoch_vals, ep_rows,
                                                 d_idx, data_info, helpers)
                    if mask is None:
                        comp, tol = comp_e, tol_e
                    else:
                        comp[mask], tol[mask] = comp_e[mask], tol_e[mask]
                have = vals[ci]
                bad = ~(have == comp)
                if rtol or ctx.rounded:
                    bad &= ~(np.abs(have - comp) <= np.maximum(rtol * np.abs(have), tol))
                for i in np.nonzero(bad)[0]:
                    i = int(i)
                    if (ci, i) in st.formula_fail and st.cells.get((ci, i)) is not None \
                            and st.cells[(ci, i)].formula is None:
                        continue  # a constant: the structure check says it all
                    if not st.seen[ci, i]:
                        continue
                    r = lay.step_row(i)
                    cell = st.cells.get((ci, i))
                    text = "=" + cell.formula if cell is not None and cell.formula else lay.formula(c.name, i)
                    want = _eval_text(ctx, spec.name, text)
                    have_i = lookup(r, ci + 1)
                    if want is None:
                        continue
                    if not _same(have_i, want, max(rtol, 1e-12 if ctx.rounded else 0.0)):
                        if isinstance(have_i, float) and isinstance(want, float) and tol[i] and \
                                abs(have_i - want) <= tol[i]:
                            continue
                        L[(ci, i)] = (have_i, want)

        # An edited formula: evaluate what the cell actually holds.
        for (ci, i), cell in st.cells.items():
            if cell.formula and (ci, i) not in L and cell.value is not None:
                want = _eval_text(ctx, spec.name, "=" + cell.formula)
                have_i = lookup(lay.step_row(i), ci + 1)
                if want is not None and not _same(have_i, want, max(rtol, 1e-12 if ctx.rounded else 0.0)):
                    L[(ci, i)] = (have_i, want)
                elif want is None:
                    rep.notes.append(f"{spec.name}!{a1(lay.step_row(i), ci + 1)}: its formula uses something "
                                     f"xlgd cannot evaluate; consistency not checked there")

    # ---- trajectory: the engine from the file's own inputs and data
    T = {}
    if engine is not None:
        res = engine[1]()  # collect the child in any case
        if engine[0] != inputs:  # cannot happen (same cells), but then the child ran the wrong inputs
            res = run(spec, data_info["x"], data_info["y"], inputs=inputs, dialect=ctx.dialect)
    else:
        res = run(spec, data_info["x"], data_info["y"], inputs=inputs, dialect=ctx.dialect)
    trtol = max(rtol, ROUNDED_RTOL if ctx.rounded else 0.0)
    eng_err = {(idx[k[0]], k[1]): v for k, v in res.errors.items() if not k[0].startswith("@")}
    for c in cols:
        ci = idx[c.name]
        ev, have = res.steps[c.name], vals[ci]
        ok = have == ev
        if trtol:
            ok |= np.abs(have - ev) <= trtol * np.abs(ev)
        ok |= np.isnan(have) & np.isnan(ev)
        both = np.isfinite(have) & np.isfinite(ev)
        if both.any():
            rep.max_ulp = max(rep.max_ulp, _ulp(have[both & ok], ev[both & ok]) if (both & ok).any() else 0)
        for i in np.nonzero(~ok)[0]:
            T[(ci, int(i))] = (lookup(lay.step_row(int(i)), ci + 1), res.value(c.name, int(i)))
    for k in set(eng_err) | set(errs):
        if eng_err.get(k) != errs.get(k):
            ci, i = k
            T[k] = (lookup(lay.step_row(i), ci + 1), res.value(cols[ci].name, i))
    for k in list(T):
        if not st.seen[k[0], k[1]] and k in st.formula_fail:
            T.pop(k)

    # ---- start row and epoch block: few cells, checked one by one
    items, ev = [], {}
    for c in cols:
        text = lay.start_formula(c.name)
        if text is not None:
            rc = (lay.step_row(-1), idx[c.name] + 1)
            items.append((*rc, text))
            ev[rc] = float(res.start[c.name])
    for k in range(spec.epochs):
        for ec in spec.epoch_columns:
            rc = (lay.epoch_row(k), lay.epoch_index[ec.name] + 1)
            items.append((*rc, lay.epoch_formula(ec.name, k)))
            ev[rc] = res.value("@" + ec.name, k)
    S2, L2, T2 = check_cells(ctx, spec.name, items, rep, None if use_engine_values else ev)

    S = {(lay.step_row(i), ci + 1): v for (ci, i), v in st.formula_fail.items()}
    S.update(S2)
    Lr = {(lay.step_row(i), ci + 1): v for (ci, i), v in L.items()}
    Lr.update(L2)
    Tr = {} if use_engine_values else {(lay.step_row(i), ci + 1): v for (ci, i), v in T.items()}
    Tr.update(T2)
    phase = {lay.epoch_index[ec.name]: ec.phase for ec in spec.epoch_columns}

    def order(k):
        r, c = k
        if c - 1 in phase:  # a 'pre' epoch cell comes before its epoch's first step, a 'post' one after its last
            return (r - START_ROW + (phase[c - 1] == "post")) * n - 0.5
        return r - first_row

    group(spec.name, rep, S, Lr, Tr, order, stale_reason)
    if use_engine_values:
        rep.notes.append("no cached values: checked the formulas, and computed values with xlgd's own column "
                         "definitions (the embedded evaluator)")
    return st


def _vector_eval(ctx, e, c, spec, lay, vals, idx, start, inputs, epoch_vals, ep_rows, d_idx, data_info, helpers):
    """The column expression on whole arrays of the values its references hold in the file."""
    env = dict(helpers)
    names = {}

    def var(leaf):
        if isinstance(leaf, Col):
            k = idx[leaf.name]
            if leaf.lag == 0:
                key = f"c{k}"
                env[key] = vals[k]
            else:
                key = f"p{k}"
                s = start.get(leaf.name, 0.0)
                s = np.nan if isinstance(s, str) else s
                env[key] = np.concatenate(([s], vals[k][:-1]))
            return key
        if isinstance(leaf, Name):
            key = names.setdefault(leaf.name, f"n{len(names)}")
            env[key] = np.float64(inputs[leaf.name])
            return key
        if isinstance(leaf, Data):
            key = f"d_{leaf.name}"
            arr = np.asarray(data_info["file_" + leaf.name], dtype=np.float64)
            env[key] = arr[d_idx]
            return key
        key = f"e_{leaf.col}"
        ev = np.array([np.nan if isinstance(v, str) else v for v in epoch_vals[leaf.col]], dtype=np.float64)
        env[key] = ev[ep_rows]
        return key

    src = py(e, var, ctx.dialect)
    comp = np.asarray(eval(src, env), dtype=np.float64) * np.ones(len(d_idx))  # noqa: S307 -- our own source
    tol = np.zeros(len(d_idx))
    if ctx.rounded:
        m = magnitude(e)
        mag = np.asarray(eval(py(m, var, "excel"), env), dtype=np.float64) * np.ones(len(d_idx))  # noqa: S307
        tol = CONSIST_ROUNDED * max(n_ops(e), 1) * np.abs(mag)
    return comp, tol


def _data_info(ctx, spec0, rec, recipe, rep: SheetReport):
    """x and y as the data sheet holds them; checks the y formulas; notes changes against the record."""
    n = spec0.n_data
    grid = ctx.grid(DATA_SHEET) if DATA_SHEET in ctx.book.sheet_names else {}
    if not grid:
        rep.causes.append(Cause(DATA_SHEET, "A1", "data", "the data sheet is missing or empty"))
        rep.failed += 1
    d = recipe.data
    xs, ys = [], []
    empty = []
    for k in range(n):
        r = DATA_FIRST_ROW + k
        v = ctx.value(DATA_SHEET, r, 2)
        cell = grid.get((r, 2))
        if cell is None or cell.value is None:
            empty.append(r)
        xs.append(v if isinstance(v, float) else 0.0)
        ys.append(ctx.value(DATA_SHEET, r, 3))
    if empty:
        rep.causes.append(Cause(DATA_SHEET, f"B{empty[0]}", "data",
                                f"data!B{empty[0]} is empty: the data sheet holds {n - len(empty)} data rows, the "
                                f"workbook was made with {n} -- a data row was deleted? (its sheets still read "
                                f"data!B{DATA_FIRST_ROW}:B{DATA_FIRST_ROW + n - 1})"))
        rep.failed += len(empty)
    x = np.array(xs, dtype=np.float64)
    changed = [(k, x[k], d.x[k]) for k in range(n) if x[k] != d.x[k] and DATA_FIRST_ROW + k not in empty]
    for k, now, was in changed[:5]:
        rep.notes.append(f"x in data!B{DATA_FIRST_ROW + k} is {_fmt(now)}, the template said {_fmt(was)} "
                         f"-- checked with {_fmt(now)}")
    if len(changed) > 5:
        rep.notes.append(f"... {len(changed) - 5} more x values differ from the template")
    ta, tb = ctx.value(DATA_SHEET, 1, 2), ctx.value(DATA_SHEET, 2, 2)
    ta = ta if isinstance(ta, float) else d.true_a
    tb = tb if isinstance(tb, float) else d.true_b
    for name, now, was in (("true_a", ta, d.true_a), ("true_b", tb, d.true_b)):
        if now != was:
            rep.notes.append(f"{name} in data!B{1 if name == 'true_a' else 2} is {_fmt(now)}, the template said "
                             f"{_fmt(was)} -- checked with {_fmt(now)}")
    if d.y_given is None:
        y = np.float64(ta) * x + np.float64(tb)
        items = [(DATA_FIRST_ROW + k, 3, f"=true_a*B{DATA_FIRST_ROW + k}+true_b") for k in range(n)]
        S, L, T = check_cells(ctx, DATA_SHEET, items, rep, {(DATA_FIRST_ROW + k, 3): float(y[k]) for k in range(n)})
        group(DATA_SHEET, rep, S, L, T, lambda k: k[0])
    else:
        y = np.array([v if isinstance(v, float) else np.nan for v in ys])
    file_y = np.array([v if isinstance(v, float) else np.nan for v in ys])
    return {"x": x, "y": y, "file_x": x, "file_y": file_y}


# ------------------------------------------------------ graddesc workbooks
def _check_graddesc_sheet(ctx, name, g: gl.GSheet, rep):
    val = lambda ref: ctx.value(name, *split_ref(ref)[:2])  # noqa: E731
    knobs = {}
    for k, ref in g.knobs.items():
        v = val(ref)
        if not isinstance(v, float):
            raise XlgdError(f"{ctx.book.path}: {name}!{ref} ({k}) holds {_fmt(v)}, not a number")
        knobs[k] = v
    spec = gl.build_spec(g, knobs)
    start = {col: val(ref) for col, ref in g.start.items()}
    x = np.array([val(f"A{r}") for r in range(gl.FIRST, gl.LAST + 1)], dtype=object)
    y = np.array([val(f"B{r}") for r in range(gl.FIRST, gl.LAST + 1)], dtype=object)
    bad = [v for v in list(x) + list(y) + list(start.values()) if not isinstance(v, float)]
    engine_values = None
    if bad:
        rep.notes.append("the data or start cells hold non-numbers; trajectory not checked")
    else:
        res = run(spec, x.astype(float), y.astype(float), start={k: v for k, v in start.items()},
                  dialect=ctx.dialect)
        engine_values = {}
        for letter, col in g.columns.items():
            c = split_ref(f"{letter}1")[1]
            for i in range(spec.n_steps):
                engine_values[(gl.FIRST + i, c)] = res.value(col, i)
    items = []
    for ref, text in g.expected():
        r, c, _, _ = split_ref(ref)
        items.append((r, c, text))
    S, L, T = check_cells(ctx, name, items, rep, engine_values)
    group(name, rep, S, L, T, lambda k: k[0])


# ---------------------------------------------------------------- the book
def _warnings(ctx, report, checked_sheets, xlgd_data_rows):
    book = ctx.book
    calc = book.calc
    if calc.get("calcMode") == "manual":
        report.warnings.append("calculation is set to manual (calcPr calcMode=\"manual\"): after an edit, values "
                               "go stale until someone presses F9")
    if calc.get("calcCompleted") in ("0", "false"):
        report.warnings.append("the workbook was saved before its calculation completed (calcCompleted=0)")
    if book.has_macros:
        report.warnings.append("the workbook contains macros (vbaProject.bin); xlgd checks formulas, not macros")
    for sheet in book.sheet_names:
        if sheet in checked_sheets or sheet == META_SHEET:
            continue
        grid = ctx.grid(sheet)
        vol = sorted((k for k, c in grid.items() if c.formula and any(
            kind == "func" and t.upper() in VOLATILE for kind, t in _safe_tokens(c.formula))))
        if not vol:
            continue
        fn = next(t.upper() for kind, t in _safe_tokens(grid[vol[0]].formula) if kind == "func" and t.upper() in VOLATILE)
        feeds = sheet == DATA_SHEET and xlgd_data_rows and any(
            DATA_FIRST_ROW <= r < DATA_FIRST_ROW + xlgd_data_rows and c in (2, 3) for r, c in vol)
        where = f"{sheet}!{a1(*vol[0])}" + (f" and {len(vol) - 1} more" if len(vol) > 1 else "")
        if feeds:
            report.warnings.append(f"volatile function {fn} in {where} feeds computed cells: every recalculation "
                                   f"changes the data, so cached values cannot be reproduced")
        else:
            report.notes.append(f"volatile function {fn} in {where}; no checked cell reads it")


def _safe_tokens(text):
    try:
        return tokens(text)
    except FormulaSyntaxError:
        return ()


def verify_book(path, values="cached", rtol=0.0, sheet=None) -> Report:
    """Check a workbook. values: 'cached' (default; falls back when there are none),
    'libreoffice' (a fresh recalculation), 'embedded' (xlgd's own column definitions)."""
    if rtol < 0 or not math.isfinite(rtol):
        raise XlgdError(f"--rtol must be a finite number >= 0, got {rtol}")
    with Package.open(path) as book:
        rec, recipe = load_xlgd(book)
        targets = []
        if recipe is not None:
            for spec in recipe.sheets:
                if spec.name not in book.sheet_names:
                    raise XlgdError(f"{path}: sheet {spec.name!r} of its xlgd record is missing "
                                    f"(sheets: {', '.join(book.sheet_names)})")
                targets.append(("xlgd", spec.name, spec))
        else:
            probe = _Ctx(book, rtol, None, "excel", False)
            for name in book.sheet_names:
                if gl.SHEET_NAMES.get(name.strip().lower()) is None:
                    continue
                row3 = {a1(r, c): cell.value for (r, c), cell in probe.grid(name).items() if r == 3}
                g = gl.recognise(name, row3)
                if g is not None:
                    targets.append(("graddesc", name, g))
        if not targets:
            raise XlgdError(f"{path}: no sheet xlgd knows (not made by xlgd, and no graddesc sheet basic/momentum/"
                            f"rmsprop/adam/adam_ann); sheets: {', '.join(book.sheet_names) or 'none'}")
        if sheet is not None:
            targets = [t for t in targets if t[1] == sheet]
            if not targets:
                raise XlgdError(f"{path}: no checkable sheet named {sheet!r}")

        producer = book.producer
        over, source = None, "cached values"
        if values == "cached" and not _has_cached(book, targets):
            from ..xlsx.libreoffice import soffice, system_python_with_uno

            values = "libreoffice" if (soffice() and system_python_with_uno()) else "embedded"
            source = "no cached values in the file, so "
        else:
            source = ""
        if values == "libreoffice":
            over = _lo_values(path)
            dialect, rounded = "libreoffice", False
            source += "a fresh LibreOffice recalculation (exact doubles over UNO)"
        elif values == "embedded":
            dialect, rounded = producer, False
            source += "the embedded evaluator (xlgd's own column definitions)"
        else:
            dialect, rounded = producer, producer == "libreoffice"
            source = "cached values (as last saved" + (" by LibreOffice, 15 significant digits)" if rounded else ")")
        ctx = _Ctx(book, rtol, over, dialect, rounded)
        report = Report(str(path), book.application or "unknown", dialect, source)
        stale_reason = ""
        if book.calc.get("calcMode") == "manual":
            stale_reason = "the workbook was saved with calculation set to manual"
        elif book.calc.get("calcCompleted") in ("0", "false"):
            stale_reason = "the workbook was saved before its calculation completed"
        data_rows = 0
        data_done = None
        for kind, name, what in targets:
            rep = SheetReport(name, "xlgd" if kind == "xlgd" else f"graddesc:{what.kind}")
            if kind == "xlgd":
                if data_done is None:
                    drep = SheetReport(DATA_SHEET, "xlgd data")
                    data_done = _data_info(ctx, what, rec, recipe, drep)
                    report.sheets.append(drep)
                    data_rows = what.n_data
                reason = stale_reason
                _check_xlgd_sheet(ctx, None, what, _Layout(what), data_done, rep, reason, values == "embedded")
            else:
                _check_graddesc_sheet(ctx, name, what, rep)
            report.sheets.append(rep)
        if producer == "libreoffice" or dialect == "libreoffice":
            report.notes.append("values come from LibreOffice, which writes #VALUE! for SQRT of a negative where "
                                "Excel writes #NUM!: the engine ran in LibreOffice's dialect")
        if rec is not None:
            report.notes.append(f"made by xlgd {rec.get('xlgd')} from template {rec.get('template')!r}")
        _warnings(ctx, report, {t[1] for t in targets}, data_rows)
        return report


def _has_cached(book, targets):
    kind, name, _ = targets[0]
    n = 0
    for c in book.cells(name):
        if c.formula is not None:
            if c.value is not None:
                return True
            n += 1
            if n > 200:
                return False
    return n == 0


def _lo_values(path):
    from ..xlsx.libreoffice import recalc_values

    dump = recalc_values(path)
    out = {}
    for sheet, d in dump.get("sheets", dump).items():
        rows, errors = d.get("values", []), d.get("errors", {})

        def get(r, c, rows=rows, errors=errors):
            code = errors.get(f"{r - 1},{c - 1}")
            if code:
                return code
            try:
                v = rows[r - 1][c - 1]
            except IndexError:
                return None
            return float(v) if isinstance(v, (int, float)) else (v or None)

        out[sheet] = get
    return out

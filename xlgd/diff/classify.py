"""Classifying the differences of two paired cells (each kind a class of changes.py).

    input_changed          a constant (named input, data x/y) old -> new
    formula_changed        both formulas, and the tokens that differ
    formula_to_constant    a value typed over a formula
    constant_to_formula    a formula typed over a value
    cell_added/removed     content where the other side is empty
    text_changed           a label or title
    values_changed         same formula, other value: a consequence of an
                           upstream change, summarised per sheet and column
    volatile_changed       same formula, other value, and the formula calls a
                           volatile function (RANDBETWEEN re-rolled on save):
                           summarised per column, never blamed on an edit

A formula is "the same" when, translated into the reference's coordinates
(`align.Translator`), it equals the reference's in relative (R1C1) form.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..core.functions import FUNCTIONS
from ..xlsx.refs import FormulaSyntaxError, a1, col_letters, r1c1, split_ref, tokens
from .align import Columns, Translator, canon, points_below
from .changes import (
    CellAdded,
    CellRemoved,
    ConstantToFormula,
    FormulaChanged,
    FormulaToConstant,
    InputChanged,
    MoreCells,
    TextChanged,
    ValuesChanged,
    VolatileChanged,
)
from .recompute import NOT_HELD

MAX_LISTED = 2000          # cell-level changes listed per sheet; the rest are counted


@dataclass
class DiffOptions:
    rtol: float = 1e-9
    atol: float = 1e-12
    formulas: bool = True     # compare formula text
    values: bool = True       # compare values
    sheet: str | None = None  # only this sheet (edited name)
    grid: bool = False        # keep context rows for the HTML report


def norm_formula(formula: str) -> str:
    return formula.replace(" ", "").upper()


def formula_tokens(formula: str):
    return re.findall(r'"(?:[^"]|"")*"|\$?[A-Za-z_][A-Za-z0-9_.]*!?\$?\d*(?::\$?[A-Za-z]+\$?\d+)?|\d+\.?\d*(?:[eE][-+]?\d+)?|<>|<=|>=|\S', formula)


def what_differs(old: str, new: str) -> list:
    """The token runs that differ: [[old text, new text], ...]."""
    a, b = formula_tokens(old), formula_tokens(new)
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(["".join(a[i1:i2]), "".join(b[j1:j2])])
    return out


def volatile_function(formula: str) -> str | None:
    """The first volatile function a formula calls (RAND, RANDBETWEEN, NOW ...), or None."""
    if not _MAYBE_VOLATILE.search(formula):
        return None  # the common case, without tokenising (every changed value passes here)
    return _volatile_call(formula)


@lru_cache(maxsize=4096)
def _volatile_call(formula: str) -> str | None:
    try:
        toks = tokens(formula)
    except FormulaSyntaxError:
        return None
    return next((t.upper() for k, t in toks if k == "func" and t.upper() in _VOLATILE), None)


_VOLATILE = {f.name for f in FUNCTIONS.values() if f.volatile}
_MAYBE_VOLATILE = re.compile("|".join(sorted(_VOLATILE)) + r"\s*\(", re.IGNORECASE)


def _is_num(value):
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool))


def values_equal(a, b, opt: DiffOptions) -> bool:
    """Equal within the tolerances. inf, -inf and NaN are values of their own, equal only to
    themselves (a tolerance around inf would swallow every number: 15.0 -> inf is a change).
    A value nobody holds (`NOT_HELD`) is never a difference."""
    if a is b or a == b or a is NOT_HELD or b is NOT_HELD:
        return True
    if _is_num(a) and _is_num(b):
        if not (math.isfinite(a) and math.isfinite(b)):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= opt.atol + opt.rtol * max(abs(a), abs(b))
    if a in (None, "") and b in (None, ""):
        return True
    return False


def show(value):
    """A value as JSON can carry it (errors and text stay strings)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


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
    volatile: str | None = None  # the volatile function the column's formulas call
    first_row: int = 0
    last_row: int = 0

    def add(self, ed_r, ed_c, old, new):
        cell = a1(ed_r, ed_c)
        if not self.count or ed_r < self.first_row:  # cells rechecked at the end arrive late
            self.first, self.first_row = cell, ed_r
            self.example = (cell, show(old), show(new))
        if ed_r >= self.last_row:
            self.last, self.last_row = cell, ed_r
        self.count += 1
        if _is_num(old) and _is_num(new):
            if not (math.isfinite(old) and math.isfinite(new)):
                self.max_abs = self.max_rel = math.inf  # 15.0 -> inf, or to or from NaN: no finite size
                return
            d = abs(new - old)
            if d > self.max_abs:
                self.max_abs = d
            rel = d / max(abs(old), abs(new)) if max(abs(old), abs(new)) else 0.0
            if rel > self.max_rel:
                self.max_rel = rel

    @property
    def kind(self) -> str:
        return VolatileChanged.kind if self.volatile else ValuesChanged.kind

    def as_change(self) -> ValuesChanged:
        fields = dict(sheet=self.sheet, column=col_letters(self.ed_col), ref_column=col_letters(self.col),
                      header=self.header, count=self.count, first=self.first, last=self.last,
                      max_abs=show(self.max_abs), max_rel=show(self.max_rel),
                      example={"cell": self.example[0], "old": self.example[1], "new": self.example[2]})
        if self.volatile:
            return VolatileChanged(**fields, function=self.volatile)
        return ValuesChanged(**fields)


@dataclass
class CellPair:
    """One cell on both sides: edited (row, col, formula, value) and reference (row, col, formula, value)."""

    er: int
    c: int
    ef: str | None
    ev: object
    fr: int
    rc: int
    gf: str | None
    gv: object

    def where(self, sheet) -> dict:
        return {"sheet": sheet, "cell": a1(self.er, self.c), "ref_cell": a1(self.fr, self.rc)}


_R1C1_TOKEN = re.compile(r"""(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?R(?:\[-?\d+\]|\d+)?C(?:\[-?\d+\]|\d+)?(?![A-Za-z0-9_(])
    |"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_.]*|\d+\.?\d*(?:[eE][-+]?\d+)?|<>|<=|>=|\S""", re.VERBOSE)


def formula_change(pair: CellPair, sheet: str, **values) -> FormulaChanged:
    """A FormulaChanged: both texts and what differs, in A1 and in Excel's R1C1 form
    (which shows what an A1 text hides: `=X -> =X` read from a row that moved)."""
    ch = FormulaChanged(**pair.where(sheet), old="=" + pair.gf, new="=" + pair.ef,
                        differs=what_differs(pair.gf, pair.ef), **values)
    try:
        old, new = r1c1(pair.gf, pair.fr, pair.rc), r1c1(pair.ef, pair.er, pair.c)
    except FormulaSyntaxError:
        return ch
    a, b = _R1C1_TOKEN.findall(old[1:]), _R1C1_TOKEN.findall(new[1:])
    what = [["".join(a[i1:i2]), "".join(b[j1:j2])]
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
            if tag != "equal"]
    return dataclasses.replace(ch, old_r1c1=old, new_r1c1=new, differs_r1c1=what)


def fold_formula_runs(changes: list) -> list:
    """Formula changes down one column on consecutive rows, each the same edit in R1C1 form, as one
    change with its range (`data!C6:C34`); every other change as it is, in its place."""
    runs, last, members = {}, {}, set()
    for ch in changes:
        if not (isinstance(ch, FormulaChanged) and ch.old_r1c1):
            continue
        r, c = split_ref(ch.cell)[:2]
        key = (ch.sheet, c, ch.old_r1c1, ch.new_r1c1)
        prev = last.get(key)
        if prev is not None and prev[0] == r - 1:
            prev[1].append(ch)
            members.add(id(ch))
            last[key] = (r, prev[1])
        else:
            runs[id(ch)] = [ch]
            last[key] = (r, runs[id(ch)])
    out = []
    for ch in changes:
        if id(ch) in members:
            continue
        run = runs.get(id(ch))
        if run is not None and len(run) > 1:
            ch = dataclasses.replace(ch, last=run[-1].cell, cells=len(run), old_value=None, new_value=None)
        out.append(ch)
    return out


@dataclass
class Classifier:
    """Turns the paired cells of one sheet into changes (up to MAX_LISTED listed, the rest
    counted) and per-column summaries of values that only followed an upstream change."""

    sheet: str
    opt: DiffOptions
    translator: Translator
    names_at: dict  # (ref row, ref col) -> defined name of the input
    columns: Columns
    changes: list = field(default_factory=list)
    summaries: dict = field(default_factory=dict)  # (ref col, volatile function, label) -> ColumnSummary
    pending: list = field(default_factory=list)  # formulas pointing below their row: rechecked at the end
    listed: int = 0
    unlisted: int = 0
    labels: dict | None = None  # ref col -> header text of the table being walked (`_header_row`)
    unadjusted: int = 0  # formulas whose text stayed while the rows they read moved
    unadjusted_first: str = ""
    fast: bool = False  # same row, same columns, nothing moved: the same text is the same formula

    def list(self, change):
        if self.listed < MAX_LISTED:
            self.changes.append(change)
            self.listed += 1
        else:
            self.unlisted += 1

    def pair(self, edited_row, reference_row, marks):
        """Classify every cell of an edited row against its reference row."""
        (er, ec), (fr, fc) = edited_row, reference_row
        cols = self.columns
        if cols.cols is None:
            self._pair_same_columns(er, ec, fr, fc, marks)
            return
        self._header_row(fc)
        self.fast = False
        seen = set()
        for c, (ef, ev) in ec.items():
            if cols.added(c):
                continue  # an added column: reported once
            rc = cols.ref_col(c)
            seen.add(rc)
            gf, gv = fc.get(rc, (None, None))
            if ef == gf and ef is None and (not self.opt.values or values_equal(ev, gv, self.opt)):
                continue
            self.cell(CellPair(er, c, ef, ev, fr, rc, gf, gv), marks)
        for rc, (gf, gv) in fc.items():
            if rc in seen or rc in cols.removed:
                continue
            c = cols.ed_col_of(rc)
            if c is not None:
                self.cell(CellPair(er, c, None, None, fr, rc, gf, gv), marks)

    def _pair_same_columns(self, edited_row, edited_cells, reference_row, reference_cells, marks):
        """`pair` when no column moved: the loop every row of a big sheet takes, kept lean."""
        self.fast = fast = edited_row == reference_row and self.translator.simple()
        values, opt = self.opt.values, self.opt
        texts = unmatched = 0
        for c, (ef, ev) in edited_cells.items():
            g = reference_cells.get(c)
            if g is None:
                gf = gv = None
                unmatched += 1
            else:
                gf, gv = g
                if gf is None and type(gv) is str:
                    texts += 1
            if ef == gf and (ef is None or fast) and (not values or ev == gv or values_equal(ev, gv, opt)):
                continue  # the same text (or constant) and the same value: the common case, nothing to say
            self.cell(CellPair(edited_row, c, ef, ev, reference_row, c, gf, gv), marks)
        # reference cells not met above, or a header row
        if len(reference_cells) != len(edited_cells) - unmatched or texts > 1:
            self._header_row(reference_cells)
            for c, (gf, gv) in reference_cells.items():
                if c not in edited_cells:
                    self.cell(CellPair(edited_row, c, None, None, reference_row, c, gf, gv), marks)

    def _header_row(self, cells):
        """A row of labels (two or more texts, more texts than anything else) heads the table below it:
        its texts name the cells of their columns from here on."""
        texts = [c for c, (f, v) in cells.items() if f is None and type(v) is str and v.strip()]
        if len(texts) >= 2 and 2 * len(texts) > len(cells):
            self.labels = {c: cells[c][1].strip() for c in texts}

    def label(self, ref_col) -> str:
        """The header of reference column ref_col in the table being walked ('' if it has none)."""
        if self.labels is None:
            return self.columns.headers_ref.get(ref_col, "")
        return self.labels.get(ref_col, "")

    def cell(self, pair: CellPair, marks):
        if pair.ef is not None and pair.gf is not None:
            self._two_formulas(pair, marks)
        elif pair.gf is not None:
            self._formula_gone(pair, marks)
        elif pair.ef is not None:
            self._formula_new(pair, marks)
        else:
            self._two_constants(pair, marks)

    def _two_formulas(self, pair, marks):
        same = True if (pair.ef == pair.gf and self.fast) else self._same_formula(pair)
        if same is None:
            return  # decided at the end of the sheet
        if same or not self.opt.formulas:
            if self.opt.values and not values_equal(pair.ev, pair.gv, self.opt):
                self._summarise(pair, marks)
            return
        if self._unadjusted(pair, marks):
            return
        self.list(formula_change(pair, self.sheet, old_value=show(pair.gv), new_value=show(pair.ev)))
        if marks is not None:
            marks[pair.c] = ("formula_changed", f"formula ={pair.gf} -> ={pair.ef}")

    def _unadjusted(self, pair, marks) -> bool:
        """The same text pointing at other cells: rows moved and this formula's references did not
        (a naive insert: openpyxl's insert_rows, a paste of values). Counted, reported as one cause."""
        if norm_formula(pair.ef) != norm_formula(pair.gf):
            return False
        if not self.unadjusted:
            self.unadjusted_first = a1(pair.er, pair.c)
        self.unadjusted += 1
        if self.opt.values and not values_equal(pair.ev, pair.gv, self.opt):
            self._summarise(pair, marks)
        if marks is not None:
            marks[pair.c] = ("formula_changed",
                             f"formula ={pair.ef} kept its text while rows moved: it now reads other cells")
        return True

    def _summarise(self, pair, marks, label=None):
        vol = volatile_function(pair.ef) if pair.ef else None
        label = self.label(pair.rc) if label is None else label
        key = (pair.rc, vol, label)
        s = self.summaries.get(key)
        if s is None:
            s = self.summaries[key] = ColumnSummary(self.sheet, pair.rc, pair.c, label, volatile=vol)
        s.add(pair.er, pair.c, pair.gv, pair.ev)
        if marks is not None and s.count <= 3:
            why = f"{vol} (volatile) re-rolled" if vol else "upstream change"
            marks[pair.c] = (s.kind, f"value {show(pair.gv)} -> {show(pair.ev)} ({why})")

    def _formula_gone(self, pair, marks):
        """A formula in the reference, a constant or nothing here."""
        if pair.ev in (None, ""):
            if not self.opt.formulas:
                return
            ch = CellRemoved(**pair.where(self.sheet), old="=" + pair.gf, new=None, old_value=show(pair.gv))
            reason = f"formula ={pair.gf} deleted"
        else:
            if not self.opt.formulas and values_equal(pair.ev, pair.gv, self.opt):
                return
            ch = FormulaToConstant(**pair.where(self.sheet), old="=" + pair.gf, new=show(pair.ev),
                                   old_value=show(pair.gv))
            reason = f"constant {show(pair.ev)} typed over ={pair.gf}"
        self.list(ch)
        if marks is not None:
            marks[pair.c] = (ch.kind, reason)

    def _formula_new(self, pair, marks):
        """A formula here, a constant or nothing in the reference."""
        if not self.opt.formulas and values_equal(pair.ev, pair.gv, self.opt):
            return
        cls = CellAdded if pair.gv in (None, "") else ConstantToFormula
        self.list(cls(**pair.where(self.sheet), old=show(pair.gv), new="=" + pair.ef, new_value=show(pair.ev)))
        if marks is not None:
            marks[pair.c] = (cls.kind, f"formula ={pair.ef} where the reference has {show(pair.gv)!r}")

    def _two_constants(self, pair, marks):
        if not self.opt.values or values_equal(pair.ev, pair.gv, self.opt):
            return
        where = pair.where(self.sheet)
        if pair.ev in (None, "") or pair.gv in (None, ""):
            cls = CellRemoved if pair.ev in (None, "") else CellAdded
            ch = cls(**where, old=show(pair.gv), new=show(pair.ev))
        else:
            cls = InputChanged if _is_num(pair.ev) and _is_num(pair.gv) else TextChanged
            name = self.names_at.get((pair.fr, pair.rc))
            if not name and cls is InputChanged:
                name = self.label(pair.rc) or None  # a data column: x, y
            ch = cls(**where, old=show(pair.gv), new=show(pair.ev), name=name)
        self.list(ch)
        if marks is not None:
            cell = getattr(ch, "name", None) or a1(pair.er, pair.c)
            marks[pair.c] = (cls.kind, f"{cell}: {show(pair.gv)} -> {show(pair.ev)}")

    def _same_formula(self, pair):
        t = self.translator.translate(pair.ef, self.sheet)
        if t == pair.gf or canon(t, pair.fr, pair.rc) == canon(pair.gf, pair.fr, pair.rc):
            return True
        # Does the formula point below the current row (an epoch total, a SUM)?
        # The row map there is not known yet: decide at the end of the sheet.
        if len(self.pending) < 100000 and points_below(pair.ef, pair.er):
            self.pending.append((pair, self.label(pair.rc)))
            return None
        return False

    def recheck_pending(self, grid=None):
        """The formulas that pointed below their row, now that the whole row map is known."""
        pend, self.pending = self.pending, []
        for p, label in pend:
            if canon(self.translator.translate(p.ef, self.sheet), p.fr, p.rc) == canon(p.gf, p.fr, p.rc):
                if self.opt.values and not values_equal(p.ev, p.gv, self.opt):
                    self._summarise(p, None, label)  # a cell that moved keeps its own value change
                continue
            if self._unadjusted(p, None):
                continue
            self.list(formula_change(p, self.sheet))
            if grid is not None:
                grid.mark(p.er, p.c, ["formula_changed", f"formula ={p.gf} -> ={p.ef}"])

    def finish(self):
        """The per-column summaries and the count of changes not listed, after the last row."""
        for s in sorted(self.summaries.values(), key=lambda s: (s.ed_col, s.first_row)):
            self.changes.append(s.as_change())
        if self.unlisted:
            self.changes.append(MoreCells(self.sheet, self.unlisted))

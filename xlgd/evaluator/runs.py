"""Reading a workbook's cells into values and runs of formulas.

A run is consecutive cells of one column whose formulas are the same in
Excel's relative R1C1 form (`refs.relative`): `=J4*$J$1+$K$1*F5` in J5 and
`=J5*$J$1+$K$1*F6` in J6 are one formula, `=R[-1]C*R1C10+R1C11*RC[-4]`. A
step table of 100,000 rows is a few dozen runs (a few thousand when a
column reads a data sheet that wraps every epoch), so formulas are parsed
and compiled per run, not per cell. An array formula (`{=MMULT(...)}`) is a
run of one cell that fills its range; the other cells are its members.

Reading a sheet's XML into them is `rowreader.read_sheet` (string comparison
wherever rows repeat); a sheet the scanner cannot read falls back to lxml,
cell by cell (`CellTaker`, here), which gives a `SheetCells`: constants and
cached values in `store.SheetValues`, the runs by column, array members.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from ..core.values import Text
from ..xlsx.refs import FormulaSyntaxError, relative, row_parts, split_ref
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
    form: str | None = None  # the reader's relative form of the cell (equal forms: one formula in R1C1), if known

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

    def add(self, r, c, text, array=None, careful=True, form=None):
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
        self.start(r, c, text, array, form)

    def start(self, r, c, text, array=None, form=None):
        """A new run begins at (r, c); form: its relative form (`CellTemplate.fmt`) when the reader knows it."""
        run = Run(self.sheet.name, c, r, r, text, _array_range(array, r, c) if array else None, form=form)
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

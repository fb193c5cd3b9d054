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
    one_cell_arrays: bool = False  # each cell its own one-cell array formula `{=...}` (`array` stays None)

    @property
    def n(self):
        return self.r1 - self.r0 + 1

    def goes_on(self, row, one_cell: bool) -> bool:
        """Whether a cell on `row` of this column, an ordinary formula or (`one_cell`) a one-cell array formula,
        can continue the run: the run ends on the row above and holds cells of the same kind."""
        return self.r1 == row - 1 and self.array is None and self.one_cell_arrays == one_cell

    @property
    def array_context(self) -> bool:
        """Whether the formula is evaluated as an array formula (its ranges element by element)."""
        return self.array is not None or self.one_cell_arrays

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

    def run_at(self, row, col):
        """The run holding cell (row, col), or None."""
        runs = self.runs.get(col)
        if not runs:
            return self.members.get((row, col))
        i = bisect_right(runs, row, key=lambda x: x.r0) - 1
        if i >= 0 and runs[i].r1 >= row:
            return runs[i]
        return self.members.get((row, col))

    def is_formula(self, row, col) -> bool:
        return self.run_at(row, col) is not None

    def all_runs(self):
        for col in sorted(self.runs):
            yield from self.runs[col]

    @property
    def formula_cells(self) -> int:
        return sum(run.n for run in self.all_runs()) + len(self.members)


def _key(text, row, col):
    try:
        return relative(text, row, col)
    except FormulaSyntaxError:
        return ("unreadable", text)


def _template(text, row):
    """The formula's text on any row, or None (a generic renderer: runs that start every epoch are
    many, and compiling each would cost more than it saves)."""
    try:
        parts = row_parts(text, row, other_sheets=True)
    except FormulaSyntaxError:
        return None

    def t(R):
        return "".join(p if isinstance(p, str) else str(R + p) for p in parts)

    return t if t(row) == text else None


class RunBuilder:
    """Collects one sheet's formula cells into runs, in file order (row by row)."""

    def __init__(self, sheet: SheetCells):
        self.sheet = sheet
        self.cur: dict[int, Run] = {}

    def add(self, row, col, text, array=None, careful=True, form=None):
        """Cell (row, col) holds formula text: it continues its column's run or starts one. careful: compare
        R1C1 forms when the text is not the run's text on this row (spacing, case); a caller that
        knows the cell's XML differs from the row above's can skip it (two runs of one formula are
        harmless)."""
        cur = self.cur.get(col)
        area = _array_range(array, row, col) if array else None
        one_cell = area == (row, col, row, col)
        if (area is None or one_cell) and cur is not None and cur.goes_on(row, one_cell):
            tmpl = cur.template
            if (tmpl is not None and tmpl(row) == text) or (careful and _key(text, row, col) == cur.key):
                cur.r1 = row
                return
        self.start(row, col, text, array, form)

    def start(self, row, col, text, array=None, form=None):
        """A new run begins at (row, col); form: its relative form (`CellTemplate.fmt`) when the reader knows it."""
        area = _array_range(array, row, col) if array else None
        one_cell = area == (row, col, row, col)
        run = Run(self.sheet.name, col, row, row, text, None if one_cell else area, form=form, one_cell_arrays=one_cell)
        self.sheet.runs.setdefault(col, []).append(run)
        self.cur[col] = run
        if run.array:
            ar0, ac0, ar1, ac1 = run.array
            for rr in range(ar0, ar1 + 1):
                for cc in range(ac0, ac1 + 1):
                    if (rr, cc) != (row, col):
                        self.sheet.members[(rr, cc)] = run

    def extend(self, col, row):
        """Column col's run goes on to row `row` (rows taken whole: the same formula, row after row)."""
        self.cur[col].r1 = row


def _array_range(ref, row, col):
    try:
        if ":" in ref:
            a, b = ref.split(":")
            (r0, c0, _, _), (r1, c1, _, _) = split_ref(a), split_ref(b)
            return (min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))
        r0, c0, _, _ = split_ref(ref)
        return (r0, c0, r0, c0)
    except FormulaSyntaxError:
        return (row, col, row, col)


class CellTaker:
    """Takes one cell at a time into a SheetCells."""

    def __init__(self, sheet_cells: SheetCells, package):
        self.sc, self.package = sheet_cells, package
        self.builder = RunBuilder(sheet_cells)

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

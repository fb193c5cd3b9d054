"""Reading a workbook's cells into values and runs of formulas.

A run is consecutive cells of one column whose formulas are the same in
Excel's relative R1C1 form (`refs.relative`): `=J4*$J$1+$K$1*F5` in J5 and
`=J5*$J$1+$K$1*F6` in J6 are one formula, `=R[-1]C*R1C10+R1C11*RC[-4]`. A
step table of 100,000 rows is a few dozen runs (a few thousand when a
column reads a data sheet that wraps every epoch), so formulas are parsed
and compiled per run, not per cell.

Telling whether a cell continues its column's run is a string comparison:
the run's first formula gives its text on any row (`refs.row_template`,
references to other sheets moving too), and only a cell that differs is
tokenized. An array formula (`{=MMULT(...)}`) is a run of one cell that
fills its range; the other cells of the range are its members.

`read_sheet(package, name)` streams one sheet (`Package.cells`) into a
`SheetCells`: constants and cached values in `store.SheetValues`, the runs
by column, array members, and the text of formulas that could not be
tokenized (they become runs of their own, evaluated as unsupported).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ...xlsx.refs import FormulaSyntaxError, relative, row_template, split_ref
from .store import SheetValues


@dataclass
class Run:
    """Cells r0..r1 of column col on sheet: one formula in R1C1 form (`key`), text as on row r0."""

    sheet: str
    col: int
    r0: int
    r1: int
    text: str
    key: tuple
    array: tuple | None = None  # an array formula: (r0, c0, r1, c1) it fills
    id: int = -1  # index in the book's list of runs

    @property
    def n(self):
        return self.r1 - self.r0 + 1

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


class _Column:
    """The run being extended in one column while a sheet streams by."""

    __slots__ = ("run", "tmpl")

    def __init__(self, run, tmpl):
        self.run, self.tmpl = run, tmpl


def _key(text, r, c):
    try:
        return relative(text, r, c)
    except FormulaSyntaxError:
        return ("unreadable", text)


def _template(text, r):
    try:
        t = row_template(text, r, other_sheets=True)
        return t if t(r) == text else None
    except (FormulaSyntaxError, SyntaxError, ValueError):
        return None


class RunBuilder:
    """Collects one sheet's formula cells into runs, in file order (row by row)."""

    def __init__(self, sheet: SheetCells):
        self.sheet = sheet
        self.cur: dict[int, _Column] = {}

    def add(self, r, c, text, array=None):
        cur = self.cur.get(c)
        if array is None and cur is not None and cur.run.r1 == r - 1 and cur.run.array is None:
            if cur.tmpl is not None and cur.tmpl(r) == text:
                cur.run.r1 = r
                return
            key = _key(text, r, c)
            if key == cur.run.key:
                cur.run.r1 = r
                return
        else:
            key = _key(text, r, c)
        run = Run(self.sheet.name, c, r, r, text, key, _array_range(array, r, c) if array else None)
        self.sheet.runs.setdefault(c, []).append(run)
        self.cur[c] = _Column(run, _template(text, r) if array is None else None)
        if run.array:
            ar0, ac0, ar1, ac1 = run.array
            for rr in range(ar0, ar1 + 1):
                for cc in range(ac0, ac1 + 1):
                    if (rr, cc) != (r, c):
                        self.sheet.members[(rr, cc)] = run


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
    """Stream one worksheet into constants, cached values and runs."""
    sc = SheetCells(name, SheetValues(name), SheetValues(name))
    builder = RunBuilder(sc)
    consts, cached = sc.consts, sc.cached
    for cell in package.cells(name):
        v = _value(cell)
        if cell.formula is not None:
            builder.add(cell.row, cell.col, cell.formula, cell.array)
            if cell.value is None:
                sc.no_cache += 1
                continue
        else:
            consts.put(cell.row, cell.col, v)
        cached.put(cell.row, cell.col, v)
    for (r, c) in sc.members:  # an array formula's other cells: their values are the formula's
        v = consts.get(r, c)
        if v is not None:
            consts.put(r, c, None)
    _fix_extent(sc)
    return sc


def _fix_extent(sc):
    sc.consts.max_row = max(sc.consts.max_row, sc.cached.max_row)
    for runs in sc.runs.values():
        for run in runs:
            sc.cached.max_row = max(sc.cached.max_row, run.r1)
            sc.consts.max_row = max(sc.consts.max_row, run.r1)


def _value(cell):
    """A cell's value as a formula reads it (Text for text, bool for booleans)."""
    from ...core.values import Text

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

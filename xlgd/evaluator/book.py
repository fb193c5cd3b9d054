"""A whole workbook read for evaluation, and the result of evaluating it.

`read_book(package)` reads every worksheet (`runs.read_sheet`), numbers the
runs, binds the defined names and indexes the runs by column; `Evaluation`
holds the two passes over it (`evaluate.Evaluator`): from the workbook's
constants, and each cell from its inputs' cached values. See the package
docstring for the public API.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial

from ..xlsx.package import Package
from ..xlsx.tables import date1904, read_tables
from .evaluate import Evaluator, Outcome, cells_of, describe_root
from .graph import RunIndex, edges
from .prepare import Names, Prepared, Preparer
from .rowreader import read_sheet
from .runs import Run, SheetCells
from .store import BLANK, UNKNOWN, UNKNOWN_VALUE, SheetValues


@dataclass
class Book:
    path: str
    producer: str  # 'excel' or 'libreoffice': who saved it last
    sheets: dict  # name -> SheetCells, in workbook order
    runs: list  # every Run, run.id its index
    names: Names
    index: RunIndex

    def sheet(self, name) -> SheetCells:
        return self.sheets[name]


@contextmanager
def without_gc():
    """Python's cycle collector paused while a workbook is read or evaluated: reading makes millions
    of objects and few cycles, and the collector's passes over them cost a share of the CPU
    (benchmarks/RESULTS.md). The cycles made meanwhile are collected by its first pass after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_book(package: Package, sheets=None, fixed=None) -> Book:
    """Every worksheet (or the named ones) of an open package, read for evaluation; `fixed` sheets
    (name -> SheetCells) were read by someone else and are taken as they are."""
    with without_gc():
        return _read_book(package, sheets, fixed)


def _read_book(package, sheets, fixed) -> Book:
    fixed = fixed or {}
    names = [n for n in package.worksheet_names if sheets is None or n in sheets or n in fixed]
    cells = {n: fixed[n] if n in fixed else read_sheet(package, n) for n in names}
    runs = [run for sc in cells.values() for run in sc.all_runs()]
    for i, run in enumerate(runs):
        run.id = i
    for sc in cells.values():  # (when the cached values are first read: see SheetValues.later)
        sc.cached.max_row = max([sc.cached.max_row] + [run.r1 for run in sc.all_runs()])
        sc.cached.later(partial(_unknown_where_blank, sc))
    defined = Names(package.defined_names, package.sheet_names, read_tables(package))
    defined.date1904 = date1904(package)
    return Book(package.path, package.producer, cells, runs, defined, RunIndex(runs))


def _unknown_where_blank(sheet_cells):
    """A formula cell without a cached value holds nothing anyone can read."""
    for run in sheet_cells.all_runs():
        if run.array is None:
            col = sheet_cells.cached.column(run.col)
            col.ensure(run.r1)
            kind = col.kind[run.r0:run.r1 + 1]
            kind[kind == BLANK] = UNKNOWN
            continue
        for r, c in cells_of(run):
            if sheet_cells.cached.get(r, c) is None:
                sheet_cells.cached.put(r, c, UNKNOWN_VALUE)


class Evaluation:
    """A book evaluated in one dialect; see the package docstring."""

    def __init__(self, book: Book, dialect: str, stand_in: bool = True):
        self.book, self.dialect, self.stand_in = book, dialect, stand_in

    @cached_property
    def prepared(self) -> list:
        prep = Preparer(self.book.names, self.dialect)
        return [prep(run) for run in self.book.runs]

    @cached_property
    def computed(self) -> Outcome:
        """Every formula evaluated from the workbook's constants, in dependency order."""
        with without_gc():
            return Evaluator(self.book, self.prepared, self.dialect, "constants", self.stand_in).run(self.deps)

    @cached_property
    def deps(self) -> list:
        """deps[i]: ids of the runs run i reads."""
        return edges(self.book.runs, lambda run: self.prepared[run.id].targets, self.book.index)

    @cached_property
    def ulp_tainted(self) -> set:
        """Ids of the runs whose values depend on a function whose last bits come from a C library."""
        return self.tainted({p.run.id for p in self.prepared if p.ulp})

    def tainted(self, roots) -> set:
        """Ids of the runs in `roots` (run ids) and of every run reading one of them, however indirectly."""
        if not roots:
            return set()
        readers = {}
        for run_id, read in enumerate(self.deps):
            for other in read:
                readers.setdefault(other, set()).add(run_id)
        out, stack = set(roots), list(roots)
        while stack:
            for nxt in readers.get(stack.pop(), ()):
                if nxt not in out:
                    out.add(nxt)
                    stack.append(nxt)
        return out

    @cached_property
    def local(self) -> Outcome:
        """Every formula cell evaluated from the values its inputs hold in the file."""
        with without_gc():
            return Evaluator(self.book, self.prepared, self.dialect, "cached").run()

    # ------------------------------------------------------------------ cells
    def formula_cells(self, sheet):
        """(row, col) of every formula cell of a sheet (array formulas: every cell of the range)."""
        for run in self.book.sheets[sheet].all_runs():
            yield from cells_of(run)

    def value(self, sheet, row, col):
        """The computed value: float, Text, bool, error code, None (blank), or UNKNOWN_VALUE."""
        if (sheet, row, col) in self.computed.unknown:
            return UNKNOWN_VALUE
        return self.computed.values[sheet].get(row, col)

    def cached(self, sheet, row, col):
        """What the file holds (UNKNOWN_VALUE for a formula cell without a cached value)."""
        return self.book.sheets[sheet].cached.get(row, col)

    def unknown(self, sheet, row, col, outcome=None) -> str | None:
        """Why a cell has no computed value ('data!B5 uses RANDBETWEEN (volatile)'), else None."""
        hit = (outcome or self.computed).unknown.get((sheet, row, col))
        if hit is None:
            return None
        root, reason = hit
        if root == (sheet, row, col):
            return reason
        return f"depends on {describe_root(root)}, which {reason}"

    def values(self, sheet) -> SheetValues:
        return self.computed.values[sheet]

    def run_at(self, sheet, row, col) -> Run | None:
        return self.book.sheets[sheet].run_at(row, col)

    def prepared_run(self, run: Run) -> Prepared:
        return self.prepared[run.id]


def open_and_evaluate(path, dialect=None, stand_in=True, sheets=None) -> Evaluation:
    """Read a workbook file and evaluate it (dialect: who saved it, unless given)."""
    with Package.open(path) as package:
        book = read_book(package, sheets)
    ev = Evaluation(book, dialect or book.producer, stand_in)
    return ev


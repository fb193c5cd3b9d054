"""Which runs read which, and the order to evaluate them in.

Edges come from each run's references: a reference moves with the run's rows
unless anchored, so over a run of rows r0..r1 it covers an interval of rows
of one column (a range, a rectangle); every run of the target column that
overlaps that interval is read. The runs then fall into strongly connected
groups (Tarjan's algorithm, iterative): a group of one run that does not
read itself is evaluated over all its rows at once; a bigger group, or a
run that reads itself (a step table: b in row r reads new_b in row r-1,
new_b in row r reads b in row r), is evaluated row by row -- valid when
every reference inside the group points at an earlier row, or at the same
row in a column evaluated before (`row_order`). If that does not hold the
group is taken apart cell by cell (`cell_order`), which finds a real
circular reference (a cell that reaches itself) instead of looping.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import NamedTuple


class ReadRange(NamedTuple):
    """What one reference of a run reads over the run's rows: rows lo..hi of columns c0..c1 of a sheet.

    offset: the row distance from the reading cell to the row read (a single cell moving with the
    run), or None (anchored, or a range): then rows are lo..hi for every reading cell
    (`row_lo`/`row_hi` give the per-row ends of a range that moves: r + offset)."""

    sheet: str
    c0: int
    c1: int
    lo: int
    hi: int
    offset: int | None = None  # single cell moving with the rows
    lo_off: int | None = None  # a range whose first row moves (r + lo_off)
    hi_off: int | None = None  # a range whose last row moves (r + hi_off)


WIDE_ARRAY = 1024  # an array formula over more columns is checked against every query, not indexed


class RunIndex:
    """Find the runs covering cells: per (sheet, column) the runs sorted by first row, plus array ranges."""

    def __init__(self, runs):
        self.by_col = {}
        self.array_cols = {}  # (sheet, column) -> the array formulas whose range spans that column
        self.wide_arrays = {}  # sheet -> array formulas spanning more than WIDE_ARRAY columns
        for run in runs:
            self.by_col.setdefault((run.sheet, run.col), []).append(run)
            if run.array:
                self._add_array(run)
        for lst in self.by_col.values():
            lst.sort(key=lambda run: run.r0)
        for lst in self.array_cols.values():
            lst.sort(key=lambda run: run.array[0])
        self.starts = {k: [x.r0 for x in v] for k, v in self.by_col.items()}
        self.array_starts = {k: [x.array[0] for x in v] for k, v in self.array_cols.items()}

    def _add_array(self, run):
        first_col, last_col = run.array[1], run.array[3]
        if last_col - first_col > WIDE_ARRAY:
            self.wide_arrays.setdefault(run.sheet, []).append(run)
            return
        for col in range(first_col, last_col + 1):
            self.array_cols.setdefault((run.sheet, col), []).append(run)

    def overlapping(self, sheet, first_col, last_col, first_row, last_row):
        """Runs with a cell in rows first_row..last_row of columns first_col..last_col."""
        narrow = last_col - first_col < 64
        for c in range(first_col, last_col + 1) if narrow else self._cols(sheet, first_col, last_col):
            lst = self.by_col.get((sheet, c))
            if not lst:
                continue
            st = self.starts[(sheet, c)]
            i = max(0, bisect_right(st, first_row) - 1)
            j = bisect_left(st, last_row + 1)
            for run in lst[i:j]:
                if run.r1 >= first_row and run.r0 <= last_row:
                    yield run
        for run in self._arrays_over(sheet, first_col, last_col, first_row, last_row):
            own = first_col <= run.col <= last_col and run.r0 <= last_row and run.r1 >= first_row  # yielded above
            if not own:
                yield run

    def _arrays_over(self, sheet, first_col, last_col, first_row, last_row):
        """The array formulas whose range has a cell in rows first_row..last_row of those columns, each once."""
        seen = set()
        narrow = last_col - first_col < 64
        cols = range(first_col, last_col + 1) if narrow else \
            sorted(c for (s, c) in self.array_cols if s == sheet and first_col <= c <= last_col)
        for col in cols:
            lst = self.array_cols.get((sheet, col))
            if not lst:
                continue
            starts = self.array_starts[(sheet, col)]
            i = max(0, bisect_right(starts, first_row) - 1)
            for run in lst[i:bisect_left(starts, last_row + 1)]:
                if run.array[2] >= first_row and id(run) not in seen:
                    seen.add(id(run))
                    yield run
        for run in self.wide_arrays.get(sheet, ()):
            r0, a0, r1, a1 = run.array
            if r0 <= last_row and r1 >= first_row and a0 <= last_col and a1 >= first_col:
                yield run

    def _cols(self, sheet, first_col, last_col):
        return sorted(c for (s, c) in self.by_col if s == sheet and first_col <= c <= last_col)

    def at(self, sheet, row, col):
        lst = self.by_col.get((sheet, col))
        if lst:
            i = bisect_right(self.starts[(sheet, col)], row) - 1
            if i >= 0 and lst[i].r1 >= row:
                return lst[i]
        return next(self._arrays_over(sheet, col, col, row, row), None)


def edges(runs, targets_of, index: RunIndex) -> list[set]:
    """deps[i]: ids of the runs run i reads."""
    deps = [set() for _ in runs]
    for run in runs:
        for t in targets_of(run):
            for other in index.overlapping(t.sheet, t.c0, t.c1, t.lo, t.hi):
                deps[run.id].add(other.id)
    return deps


def strongly_connected(n, deps) -> list[list[int]]:
    """Tarjan's algorithm without recursion; components come out dependencies first."""
    index, low, on, stack, out = [-1] * n, [0] * n, [False] * n, [], []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, iter(deps[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on[w] = True
                    work.append((w, iter(deps[w])))
                    advanced = True
                    break
                if on[w]:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on[w] = False
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def by_level(comps, deps) -> list[int]:
    """Indexes of comps (in dependency order) in an order that still respects it, by level: a component
    comes right after the deepest one it reads. Runs of one level that are evaluated at once wait in
    one batch (an epoch's first sum of a step table, 3,450 of them in a 100,000-row sheet, is one numpy
    evaluation instead of one each between the epochs' recurrent sums)."""
    where, level = {}, []
    for ci, comp in enumerate(comps):
        for i in comp:
            where[i] = ci
        lv = 0
        for i in comp:
            for d in deps[i]:
                cd = where.get(d, ci)
                if cd != ci:
                    lv = max(lv, level[cd] + 1)
        level.append(lv)
    return sorted(range(len(comps)), key=level.__getitem__)


def row_order(group, targets_of):
    """The columns' order within a row when a group can be evaluated row by row, else None.

    Valid when every reference between the group's runs reads an earlier row, or the same row
    of a run placed before it; all runs on one sheet."""
    cols = {}
    for run in group:
        cols.setdefault(run.col, []).append(run)
    if len({run.sheet for run in group}) != 1:
        return None
    sheet = group[0].sheet
    same_row = {c: set() for c in cols}
    for run in group:
        for t in targets_of(run):
            if t.sheet != sheet or not any(c0 in cols for c0 in range(t.c0, t.c1 + 1)):
                continue
            verdict = _reads_earlier(run, t)
            if verdict is None:
                return None
            same_row[run.col] |= verdict
    return _topo(same_row)


def alone_in_order(run, targets) -> bool:
    """`row_order([run]) == [run.col]`, without its dictionaries: every reference of the run to its own
    column reads an earlier row (3,452 runs of xlgd's 100,000-row layout are asked)."""
    return all(_reads_earlier(run, t) is not None for t in targets
               if t.sheet == run.sheet and t.c0 <= run.col <= t.c1)


def _reads_earlier(run, t):
    """The group columns run reads on its own row (a set), or None when it may read a later row."""
    if t.offset is not None:  # one cell, moving with the rows
        if t.offset < 0:
            return set()
        if t.offset == 0 and t.c0 != run.col:
            return {t.c0}
        return None
    if t.hi_off is not None:  # a range whose last row moves
        return set() if t.hi_off < 0 else None
    return set() if t.hi < run.r0 else None  # anchored rows: before every reading row


def _topo(same_row):
    order, state = [], {}

    def visit(col):
        if state.get(col) == 1:
            return False
        if state.get(col) == 2:
            return True
        state[col] = 1
        for d in sorted(same_row[col]):
            if d in same_row and not visit(d):
                return False
        state[col] = 2
        order.append(col)
        return True

    for c in sorted(same_row):
        if not visit(c):
            return None
    return order


def cells_of(run):
    """Every cell a run fills: its column's rows, or an array formula's range."""
    if run.array is None:
        return [(r, run.col) for r in range(run.r0, run.r1 + 1)]
    r0, c0, r1, c1 = run.array
    return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def cells_of_row(run, row):
    """(sheet, row, col) of the cells run's formula on row r fills: one, or its array formula's range."""
    if run.array is None:
        return [(run.sheet, row, run.col)]
    return [(run.sheet, rr, cc) for rr, cc in cells_of(run)]

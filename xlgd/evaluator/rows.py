"""A recurrent group evaluated row by row: one compiled loop per stretch of rows, exact where needed.

A step table is one group: b on row r reads new_b on row r-1, new_b reads b
on its own row. `graph.row_order` has checked that every reference inside
the group reads an earlier row or a column placed before it on the same
row, so evaluating row after row, columns in that order, is the
spreadsheet's own order.

The group's rows split into stretches where each column holds one run (an
epoch's first row may hold another formula than the rows after it). Each
stretch gets a compiled loop (`Stretch.source`, cached by its text):
one statement per column on numpy float64 scalars, what the engine does
(`core/engine.py`). It stops at the first row that raises a floating-point
error; rows whose inputs from outside the group are not plain numbers are
never given to it; rows it computed that are not finite are redone. Such
rows are evaluated exactly (`Evaluator.exact`), and the loop resumes once
the group's values are plain numbers again -- or, when every cell of the
group holds the same error for as many rows as the group reaches back and
nothing in it can catch an error (no IF, no ISERROR), the rest of the
stretch holds that error too (errors do not depend on the numbers they
meet), which keeps an exploded step table from being evaluated exactly
cell by cell.
"""

from __future__ import annotations

from copy import copy

import numpy as np

from ..core.expr import CellRef, py
from .store import ERROR, NUMBER


def by_rows(evaluator, group, order):
    cols = {c: sorted((p for p in group if p.run.col == c), key=lambda p: p.run.r0) for c in order}
    if all(p.vector for p in group):
        Rows(evaluator, group, order, cols).run()
        return
    lo, hi = min(p.run.r0 for p in group), max(p.run.r1 for p in group)
    for r in range(lo, hi + 1):
        for c in order:
            p = _active(cols[c], r)
            if p is not None:
                evaluator.exact(p, r)


def alone(evaluator, prepared_runs):
    """Runs that each form a group of their own, read in row order (`Evaluator.rows_alone`): each one's
    compiled loop over all its rows, under one floating-point context. A run whose inputs are all plain
    numbers and whose rows all come out finite is done, as `Rows.stretch` would have done it; any other
    goes through `by_rows` from its first row (the runs do not read each other).

    Runs of one compiled loop are checked together: their inputs in one numpy pass over the rows
    they span, their results in another (an epoch's running sum is thousands of runs of one formula
    in R1C1 form)."""
    loops = {}
    for p in prepared_runs:
        st = made_stretch(evaluator, p.run.sheet, {p.run.col}, [(p.run.col, p)])
        loops.setdefault(id(st), (st, []))[1].append(p)
    dirty = set()
    for st, members in loops.values():
        dirty.update(id(p) for p, bad in zip(members, st.dirty_runs(members)) if bad)
    failed = set()
    with np.errstate(all="raise", under="raise" if evaluator.dialect == "libreoffice" else "ignore"):
        for st, members in loops.values():
            todo = [p for p in members if id(p) not in dirty]
            failed.update(id(p) for p in st.finish(todo))
    for p in [p for p in prepared_runs if id(p) in dirty] + [p for p in prepared_runs if id(p) in failed]:
        by_rows(evaluator, [p], [p.run.col])


def _active(runs, row):
    for p in runs:
        if p.run.r0 <= row <= p.run.r1:
            return p
    return None


class Stretch:
    """Rows a..b-1 of a group where each column holds one run; its compiled loop and inputs.

    Cells are read into locals where nothing the loop writes can change them: an anchored cell once
    per call (one of the group's own columns is above every row of its runs, `graph.row_order`), a
    cell from outside the group once per row however often the row's formulas read it; the same
    float64 scalars, so the same values (xlgd's own layout reads `beta1`, `beta2` four times a row)."""

    def __init__(self, evaluator, sheet, active, group_cols):
        self.ev, self.sheet, self.active = evaluator, sheet, active
        self.arrays, self.outside = [], []  # num arrays the loop reads; (array index, leaf, offset) from outside
        self.names, self.carried = {}, set()
        self.before, self.each_row = {}, {}  # local -> what it reads: once, and at the start of every row
        self.top = 0  # the last anchored row read
        self.top_inside = 0  # ... of the group's own columns (above every row of its runs: `graph.row_order`)
        lines = []
        for c, p in active:
            lines.append(f"c{c} = {py(p.expr, self._var(p, group_cols), evaluator.dialect)}")
            lines.append(f"N{c}[r] = c{c}")
        lines += [f"p{c} = c{c}" for c in sorted(self.carried)]  # the row above, for the next row
        lines = [f"{k} = {v}" for k, v in self.each_row.items()] + lines
        self.out_cols = [c for c, _ in active]
        params = [f"N{c}" for c in self.out_cols] + [f"A{i}" for i in range(len(self.arrays))]
        body = "\n".join("            " + ln for ln in lines)
        start = "".join(f"    {k} = A{i}[{row}]\n" for k, (i, row) in self.before.items())
        start += "".join(f"    p{c} = N{c}[lo - 1]\n" for c in sorted(self.carried))
        self.source = (f"def loop({', '.join(params + ['lo', 'hi'])}):\n    r = lo\n{start}    try:\n"
                       f"        for r in range(lo, hi):\n{body}\n    except FloatingPointError:\n"
                       f"        return r\n    return hi\n")
        self.fn = evaluator.function_source(self.source, "loop")

    def _var(self, prepared, group_cols):
        active_cols = {c for c, _ in self.active}

        def var(leaf: CellRef):
            inside = leaf.sheet == self.sheet and leaf.col in group_cols
            if leaf.row_abs:
                self.top = max(self.top, leaf.row)
                if inside:
                    self.top_inside = max(self.top_inside, leaf.row)
                i = self._array(leaf, watch=True)
                self.before[f"k{i}_{leaf.row}"] = (i, leaf.row)
                return f"k{i}_{leaf.row}"
            off = leaf.row - prepared.run.r0
            if inside and off == 0 and leaf.col in active_cols:
                return f"c{leaf.col}"
            if inside and off == -1 and leaf.col in active_cols:
                self.carried.add(leaf.col)  # kept in a local from row to row, as the engine does
                return f"p{leaf.col}"
            # a column of the group this stretch does not write holds constants: text there is no number
            i = self._array(leaf, watch=not inside or leaf.col not in active_cols, off=off)
            at = "r" if off == 0 else f"r{off:+d}"
            if not inside:
                name = f"a{i}_{'m' if off < 0 else ''}{abs(off)}"
                self.each_row[name] = f"A{i}[{at}]"
                return name
            return f"A{i}[{at}]"

        return var

    def _array(self, leaf, watch, off=None) -> int:
        """The index of the num array the leaf reads; watch: `dirty` checks that the cells it reads are
        plain numbers (cells the loop itself does not write)."""
        key = (leaf.sheet, leaf.col)
        if key not in self.names:
            self.names[key] = len(self.arrays)
            self.arrays.append(key)
        i = self.names[key]
        if watch:
            self.outside.append((i, leaf, off))
        return i

    def dirty(self, start, end) -> np.ndarray:
        """Rows start..end-1 where an input from outside the group is not a plain number."""
        bad = np.zeros(end - start, dtype=bool)
        for _, leaf, off in self.outside:
            store = self.ev.read.get(leaf.sheet)
            if store is None:
                bad[:] = True
                continue
            if off is None:
                _, kind = store.slice(leaf.col, leaf.row, leaf.row)
                bad |= kind[0] > NUMBER
            else:
                _, kind = store.slice(leaf.col, start + off, end - 1 + off)
                bad |= kind > NUMBER
        return bad

    def dirty_runs(self, members) -> list:
        """For each run of `members` (runs of this loop, not reading each other): whether an input from
        outside is not a plain number on one of its rows."""
        lo, hi = min(p.run.r0 for p in members), max(p.run.r1 for p in members) + 1
        return _any_in(self.dirty(lo, hi), [p.run.r0 - lo for p in members], [p.run.r1 + 1 - lo for p in members])

    def call(self, start, end, hi_row):
        under = "raise" if self.ev.dialect == "libreoffice" else "ignore"
        with np.errstate(all="raise", under=under):
            return self.loop(start, end, hi_row)

    def loop(self, start, end, hi_row):
        """The compiled loop over rows start..end-1 (the caller sets the floating-point context): the row where
        it stopped."""
        return self.loops([start], [end], hi_row)[0]

    def loops(self, starts, ends, hi_row) -> list:
        """The compiled loop over rows starts[k]..ends[k]-1 for each k: where each stopped."""
        ev = self.ev
        for sheet, col in self.arrays:
            ev.read[sheet].column(col).ensure(max(hi_row, self.top) + 1)
        for c in self.out_cols:
            ev.out[self.sheet].column(c).ensure(hi_row + 1)
        args = [ev.out[self.sheet].column(c).num for c in self.out_cols]
        args += [ev.read[s].column(c).num for s, c in self.arrays]
        # an anchored cell the loop may write (`graph.row_order` rules it out): those rows exactly
        return [lo if lo <= self.top_inside else self.fn(*args, lo, hi) for lo, hi in zip(starts, ends)]

    def finish(self, members) -> list:
        """Each run of `members` (runs of this loop, not reading each other, inputs plain numbers) over
        all its rows, under the caller's floating-point context: done where every row came out a finite
        number, else returned (for `by_rows`)."""
        if not members:
            return []
        starts, ends = [p.run.r0 for p in members], [p.run.r1 + 1 for p in members]
        stops = self.loops(starts, ends, max(ends) - 1)
        lo, hi = min(starts), max(ends)
        bad = np.zeros(hi - lo, dtype=bool)
        for c in self.out_cols:
            bad |= ~self.ev.good(self.ev.out[self.sheet].column(c).num[lo:hi])
        worse = _any_in(bad, [a - lo for a in starts], [b - lo for b in ends])
        failed = []
        for p, a, b, stop, w in zip(members, starts, ends, stops, worse):
            if stop < b or w:
                failed.append(p)
            else:
                self.mark_numbers(a, b)
        return failed

    def first_bad(self, start, end) -> int:
        """The first row of start..end-1 the loop filled that is not a finite number (end if none)."""
        first = end
        store = self.ev.out[self.sheet]
        for c in self.out_cols:
            vals = store.column(c).num[start:end]
            bad = np.nonzero(~self.ev.good(vals))[0]
            if len(bad):
                first = min(first, start + int(bad[0]))
        return first

    def mark_numbers(self, start, end):
        store = self.ev.out[self.sheet]
        for c in self.out_cols:
            store.column(c).kind[start:end] = NUMBER


class Rows:
    """The compiled row-by-row evaluation of one group (see the module doc)."""

    def __init__(self, evaluator, group, order, cols):
        self.ev, self.group, self.order, self.cols = evaluator, group, order, cols
        self.sheet = group[0].run.sheet
        self.group_cols = set(order)
        self.back = max([-t.offset for p in group for t in p.targets
                         if t.offset is not None and t.offset < 0 and t.sheet == self.sheet
                         and t.c0 in self.group_cols] or [1])
        self.strict = all(p.strict for p in group)
        self.hi = max(p.run.r1 for p in group)
        self.recent = []  # kinds of the last rows evaluated exactly, for the error fill

    def run(self):
        bounds = sorted({p.run.r0 for p in self.group} | {p.run.r1 + 1 for p in self.group})
        exact_left = 0
        for a, b in zip(bounds, bounds[1:]):
            active = [(c, p) for c in self.order if (p := _active(self.cols[c], a)) is not None]
            if active:
                exact_left = self.stretch(self.stretch_for(active), a, b, exact_left)

    def stretch_for(self, active) -> Stretch:
        st = copy(made_stretch(self.ev, self.sheet, self.group_cols, active))
        st.active = active
        return st

    def stretch(self, stretch: Stretch, start, end, exact_left) -> int:
        dirty = stretch.dirty(start, end)
        r = start
        while r < end:
            if not exact_left:
                stop = start + _next_true(dirty, r - start)
                if stop > r:
                    r_fail = stretch.call(r, stop, self.hi)
                    r_bad = stretch.first_bad(r, r_fail)
                    stretch.mark_numbers(r, r_bad)
                    self.recent = []
                    r = r_bad
                    if r >= end:
                        break
            kinds = self.exact_row(stretch, r)
            exact_left = self.back if any(k != NUMBER for k in kinds) else max(0, exact_left - 1)
            if exact_left and self.fill(stretch, kinds, dirty, r, start, end):
                return exact_left
            r += 1
        return exact_left

    def exact_row(self, stretch, row):
        store = self.ev.out[self.sheet]
        kinds = []
        for c, p in stretch.active:
            self.ev.exact(p, row)
            kinds.append(int(store.column(c).kind[row]))
        return kinds

    def fill(self, stretch, kinds, dirty, row, start, end) -> bool:
        """The rest of the stretch holds the same errors as the last back+1 rows (see the module doc)."""
        self.recent.append(kinds)
        need = self.back + 1
        if (not self.strict or len(self.recent) < need or any(k < ERROR for k in kinds)
                or any(x != kinds for x in self.recent[-need:]) or dirty[row + 1 - start:].any()):
            return False
        store = self.ev.out[self.sheet]
        for (c, _), k in zip(stretch.active, kinds):
            col = store.column(c)
            col.kind[row + 1:end] = k
            col.num[row + 1:end] = np.nan
        return True


def made_stretch(evaluator, sheet, group_cols, active) -> Stretch:
    """The stretch's loop, made once per shape: the runs of a column that restart every epoch
    (an epoch sum `=O36+H37`) are the same formulas in R1C1 form, one compiled loop for all
    (a run sharing its shape's expression unmoved reads the same cells: keyed by its row too)."""
    key = (sheet, frozenset(group_cols),
           tuple((c, id(p.shape), p.run.r0 if p.expr is p.shape.expr else None) for c, p in active))
    made = evaluator.stretches.get(key)
    if made is None:
        made = evaluator.stretches[key] = Stretch(evaluator, sheet, active, group_cols)
    return made


def _any_in(mask, starts, ends) -> list:
    """For each k, whether mask[starts[k]:ends[k]] holds a True (one cumulative sum for all)."""
    total = np.concatenate(([0], np.cumsum(mask)))
    return (total[ends] > total[starts]).tolist()


def _next_true(mask, i) -> int:
    """Index of the first True in mask[i:], or len(mask)."""
    hit = np.nonzero(mask[i:])[0]
    return i + int(hit[0]) if len(hit) else len(mask)

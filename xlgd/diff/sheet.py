"""Diffing one sheet: the lockstep walk over both sides' rows.

Rows are paired while they are alike; at a mismatch a bounded look-ahead
(`align.resync`) decides whether rows were inserted, deleted or edited, the
row map records where each edited row sits in the reference, and every
paired row's cells go to the `cells.Classifier`. Rows around changes are
kept for the HTML report (`Grid`).
"""

from __future__ import annotations

import dataclasses
from collections import deque

from .align import (
    RowKeys,
    RowMap,
    RowPlan,
    Stream,
    Translator,
    align_columns,
    anchored,
    header_block,
    reads_row,
    resync,
)
from .changes import (
    FOLLOWERS,
    ReferencesUnadjusted,
    RowMove,
    RowsDeleted,
    RowsInserted,
    Unadjusted,
)
from .classify import Classifier, DiffOptions, fold_formula_runs, show

GRID_ROWS_PER_SHEET = 120  # rows of context kept per sheet for the HTML grid
GRID_CONTEXT = 2


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

    def mark(self, ed_row, col, mark):
        for row in self.rows:
            if row["row"] == ed_row:
                row["marks"][col] = mark


class SheetDiff:
    """One edited sheet against its reference sheet; `run()` fills `changes`."""

    def __init__(self, ed_name, ref_name, opt: DiffOptions, translator: Translator, names_at: dict, ed_rows, ref_rows,
                 plan: RowPlan | None = None):
        self.ed_name, self.ref_name = ed_name, ref_name
        self.opt, self.translator, self.names_at = opt, translator, names_at
        self.ed_it, self.ref_it = iter(ed_rows), iter(ref_rows)
        self.rowmap = RowMap()
        self.grid = Grid() if opt.grid else None
        self.changes = []
        self.columns = None
        self.ed_last = self.ref_last = 0
        self.ins = self.dels = None  # (first row, count, last row) of the current inserted / deleted run
        self.held = None  # the last pair, classified when the next one comes (an insertion may slide over it)
        self.force_pair = False
        self.plan = plan  # rows inserted and deleted, decided for the whole sheet (`align.row_plan`)

    @property
    def cols(self):
        return self.columns.cols

    def run(self):
        ed_block, ref_block = header_block(self.ed_it), header_block(self.ref_it)
        self.columns = align_columns(self.ed_name, ed_block, ref_block)
        self.changes += self.columns.changes
        m = self.translator.maps.get(self.ed_name)
        if m is not None:
            m.set_columns(self.columns)
        keys = RowKeys(self.ed_name, self.columns, self.translator)
        self.cells = Classifier(self.ed_name, self.opt, self.translator, self.names_at, self.columns, self.changes)
        ed, ref = Stream(ed_block, self.ed_it), Stream(ref_block, self.ref_it)
        while True:
            e, f = ed.peek(0), ref.peek(0)
            if e is None and f is None:
                break
            if e is None or f is None:
                skip_e, skip_f = (0, 1) if e is None else (1, 0)
            elif self.plan is not None:
                skip_e, skip_f = (int(e[0] in self.plan.inserted), int(f[0] in self.plan.deleted and
                                                                        e[0] not in self.plan.inserted))
            elif self.force_pair or keys.similar(e, f):  # lockstep: rows at the current offset that are alike
                skip_e = skip_f = 0
            else:
                skip_e, skip_f = resync(ed, ref, keys.similar, keys.alike)
            if skip_e == 0 and skip_f == 0:
                self._pair_next(ed, ref)
            else:
                self._skip(ed, ref, skip_e, skip_f)
        self._release()
        self._flush()
        self.cells.recheck_pending(self.grid)
        self.cells.finish()
        self.changes[:] = fold_formula_runs(self.changes)
        self._unadjusted()
        return self

    @property
    def causes(self) -> int:
        """How many changes this walk needed to explain the sheet (values that only followed apart)."""
        return sum(c.weight for c in self.changes if c.kind not in FOLLOWERS)

    def _unadjusted(self):
        """Formulas that kept their text while rows moved: one cause, on the row move that explains them."""
        n = self.cells.unadjusted
        if not n:
            return
        extra = Unadjusted(n, self.cells.unadjusted_first)
        at = next((i for i, c in enumerate(self.changes) if isinstance(c, RowMove)), None)
        if at is not None:
            self.changes[at] = dataclasses.replace(self.changes[at], unadjusted=extra)
        else:
            self.changes.append(ReferencesUnadjusted(self.ed_name, extra))

    def _pair_next(self, edited, ref):
        self._flush()
        e, f = edited.pop(), ref.pop()
        # Empty rows are not in the stream: a gap that differs between
        # the sides is blank rows inserted or deleted.
        gap_e, gap_f = e[0] - self.ed_last - 1, f[0] - self.ref_last - 1
        if gap_e > gap_f:
            self.rowmap.set(self.ed_last + 1, None)
            self._inserted(e[0] - (gap_e - gap_f), gap_e - gap_f, e[0] - 1)
            self._offer_blank(range(e[0] - (gap_e - gap_f), e[0]), "inserted")
        elif gap_f > gap_e:
            self._deleted(f[0] - (gap_f - gap_e), gap_f - gap_e, f[0] - 1)
            self._offer_blank(range(f[0] - (gap_f - gap_e), f[0]), "deleted")
        before = (self.ed_last, self.ref_last)
        self.rowmap.set(e[0], f[0] - e[0])
        self.ed_last, self.ref_last = e[0], f[0]
        self.force_pair = False
        self._release()
        self.held = (e, f, before)

    def _offer_blank(self, rows, kind):
        """Blank rows inserted or deleted, shown in the grid (the first few)."""
        if self.grid is not None:
            for r in list(rows)[:GRID_CONTEXT + 1]:
                ed_r, ref_r = (r, None) if kind == "inserted" else (None, r)
                self.grid.offer(ed_r, ref_r, {}, {}, kind)

    def _release(self):
        """Classify the held pair's cells."""
        if self.held is None:
            return
        (e, f, _), self.held = self.held, None
        marks = {} if self.grid else None
        self.cells.pair(e, f, marks)
        if self.grid is not None:
            self.grid.offer(e[0], f[0], e[1], marks)

    def _slide(self, edited, ref, skip_e):
        """A row filled down into an inserted row reads what the row it was copied over reads, so the
        look-ahead finds the insertion one row late. When the last paired row and the last row of the
        insertion are alike (`anchored`) and the row after the insertion reads the latter but not the
        former, the inserted row is the former: hand the pair back and insert from there."""
        e_prev, f_prev, before = self.held
        last, after = edited.peek(skip_e - 1), edited.peek(skip_e)
        if after is None or anchored(e_prev) != anchored(last):
            return
        if not reads_row(after, last[0]) or reads_row(after, e_prev[0]):
            return
        self.held = None
        edited.buf.appendleft(e_prev)
        ref.buf.appendleft(f_prev)
        self.ed_last, self.ref_last = before
        self.force_pair = True  # after the inserted rows, `last` pairs with f_prev

    def _skip(self, edited, ref, skip_e, skip_f):
        """Rows inserted on the edited side and/or deleted from the reference."""
        if skip_e and not skip_f and self.held is not None:
            self._slide(edited, ref, skip_e)
        self._release()
        for _ in range(skip_e):
            e = edited.pop()
            self.ed_last = e[0]
            self.rowmap.set(e[0], None)
            self.ins = (self.ins[0], self.ins[1] + 1, e[0]) if self.ins else (e[0], 1, e[0])
            if self.grid:
                self.grid.offer(e[0], None, e[1], {}, "inserted")
        for _ in range(skip_f):
            f = ref.pop()
            self.ref_last = f[0]
            self.dels = (self.dels[0], self.dels[1] + 1, f[0]) if self.dels else (f[0], 1, f[0])
            if self.grid:
                self.grid.offer(None, f[0], {}, {}, "deleted")

    def _flush(self):
        if self.ins:
            self._inserted(*self.ins)
        if self.dels:
            self._deleted(*self.dels)
        self.ins = self.dels = None

    def _inserted(self, at, count, last):
        self.changes.append(RowsInserted(self.ed_name, count, at, f"{at}:{last}"))

    def _deleted(self, at, count, last):
        self.changes.append(RowsDeleted(self.ed_name, count, at, f"{at}:{last}"))

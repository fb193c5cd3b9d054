"""Evaluating runs: all rows at once with numpy, row by row for recurrent groups, cell by cell exactly.

Three ways to evaluate cells, chosen per run and per group (graph.py):

* a run that does not read itself: its formula compiled once to numpy
  source (`expr.py`, the same association as the formula) and evaluated
  over all its rows at once, under `np.errstate(raise)`; rows whose inputs
  are not plain numbers (text, a boolean, an error, a value not known) and
  rows where something went non-finite are evaluated again exactly;
* a recurrent group (a step table): one compiled loop over its rows, one
  statement per column in the group's row order, on numpy float64 scalars
  -- what the engine does; from the first row where something goes wrong,
  exactly, row by row, until the values are plain numbers again (and when
  every cell of the group holds the same error two rows running and nothing
  in the group can catch an error, the rest of the rows are that error);
* cell by cell with the core's exact evaluator (`expr.excel_value`, error
  semantics, both dialects): ranges, text, lookups, everything else.

`Evaluator` does one pass over a book: `source='constants'` evaluates every
formula from the workbook's constants in dependency order; `source='cached'`
evaluates every formula cell from the values its inputs hold in the file
(each cell on its own: this is what finds stale values).

Cells that cannot be computed carry a reason (volatile or unsupported
function, circular reference, an input that cannot be computed); with
`stand_in`, such a cell's cached value is what cells reading it see, so its
dependants are still checked against the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..core.expr import Address, CellRef, RangeRef, excel_value, py, spread_at
from ..core.functions import TINY, numpy_namespace
from ..core.values import Block, NotEvaluated, SheetError
from ..xlsx.refs import a1, quote_sheet
from . import graph, windows
from .graph import cells_of, cells_of_row
from .prepare import Prepared
from .store import NUMBER, UNKNOWN, UNKNOWN_VALUE, SheetValues, Unknown

# Excel computes an array formula cell by cell over its range: past its arrays' size an argument is #N/A,
# which ISBLANK, ISNA, IFERROR ... turn into a value (`{=ISBLANK(D6:Q6)}` over 15 cells holds FALSE in the
# 15th). xlgd computes the arrays first, so those cells are left unchecked.
BEYOND = ("lies past the size of its array formula's arrays, where Excel applies the formula's error-catching "
          "functions to #N/A; xlgd does not evaluate it")

_UNSEEN = object()  # a range `Evaluator.block` has not read yet
EXACT_CHUNK = 8  # rows below which a failing vectorised stretch is evaluated exactly
WINDOW_ROWS = 2  # runs reading ranges this long or longer are evaluated with numpy first (windows.py)


class NotKnown(Exception):
    """A cell reads a value nobody can compute; `root` (sheet, row, col) and `reason` say why."""

    def __init__(self, root, reason):
        self.root, self.reason = root, reason


@dataclass
class Outcome:
    """What one pass produced: values per sheet, and why some cells have none."""

    values: dict  # sheet -> SheetValues
    unknown: dict = field(default_factory=dict)  # (sheet, row, col) -> (root (sheet, row, col), reason)
    circular: list = field(default_factory=list)  # cells on a circular reference
    _by_col: dict | None = None

    def unknown_in(self, sheet, col, first_row, last_row) -> list:
        """The unknown cells (sheet, row, col) of rows first_row..last_row of one column."""
        if self._by_col is None:
            self._by_col = {}
            for cell in self.unknown:
                self._by_col.setdefault((cell[0], cell[2]), []).append(cell)
        return [x for x in self._by_col.get((sheet, col), ()) if first_row <= x[1] <= last_row]


class Evaluator:
    """One pass over a book (see the module doc)."""

    def __init__(self, book, prepared, dialect, source, stand_in=True):
        self.book, self.prepared, self.dialect = book, prepared, dialect
        self.source, self.stand_in = source, stand_in
        self.cached = {name: sc.cached for name, sc in book.sheets.items()}
        if source == "cached":
            self.read = self.cached
            self.out = {name: SheetValues(name) for name in book.sheets}
        else:
            self.out = {name: sc.consts.copy() for name, sc in book.sheets.items()}
            self.read = self.out
            self._mark_pending()
        self.outcome = Outcome(self.out)
        self.ns = {False: numpy_namespace(False, dialect), True: numpy_namespace(True, dialect)}
        self.compiled = {}
        self.stretches = {}  # rows.made_stretch
        self.batch_keys = {}  # (id of a shape or kin, column) -> Batch group key
        # the blocks read, by (sheet, rows, columns): kept while the values read are never written
        self.blocks = {} if self.read is not self.out else None
        self.fixed_blocks = {}  # the same for a pass writing what it reads: fixed ranges of constants (`block`)

    def _mark_pending(self):
        """Every formula cell reads as not known until it is evaluated (a read before that is a cycle)."""
        for run in self.book.runs:
            store = self.out[run.sheet]
            if run.array is None:
                col = store.column(run.col)
                col.ensure(run.r1)
                col.kind[run.r0:run.r1 + 1] = UNKNOWN
                store.max_row = max(store.max_row, run.r1)
                continue
            for r, c in cells_of(run):
                store.put(r, c, UNKNOWN_VALUE)

    # ------------------------------------------------------------------ the pass
    def run(self, deps=None) -> Outcome:
        """The pass; `deps` (`graph.edges` of the book's runs) when already found."""
        if self.source == "cached":
            for p in self.prepared:
                self.one_run(p)
            return self.outcome
        if deps is None:
            deps = graph.edges(self.book.runs, lambda run: self.prepared[run.id].targets, self.book.index)
        comps = graph.strongly_connected(len(self.book.runs), deps)
        first, later = _defer_dynamic(comps, deps, self.prepared)
        batch, circular = Batch(self), []  # circular: (component's place in dependency order, its cycles)
        for comp in [first[k] for k in graph.by_level(first, deps)] + [later[k] for k in graph.by_level(later, deps)]:
            if batch.ids and not all(batch.ids.isdisjoint(deps[i]) for i in comp):
                batch.flush()
            if len(comp) == 1 and comp[0] not in deps[comp[0]]:
                p = self.prepared[comp[0]]
                if p.vector and p.reason is None:
                    batch.add(p)
                else:
                    self.one_run(p)
            elif len(comp) == 1 and self.rows_alone(self.prepared[comp[0]]):
                batch.add_recurrent(self.prepared[comp[0]])
            else:
                before = len(self.outcome.circular)
                self.group([self.prepared[i] for i in comp])
                circular += [(comp, c) for c in self.outcome.circular[before:]]
        batch.flush()
        if len(circular) == len(self.outcome.circular):  # cycles reported in dependency order
            place = {id(comp): k for k, comp in enumerate(first + later)}
            self.outcome.circular[:] = [c for _, c in sorted(circular, key=lambda x: place[id(x[0])])]
        return self.outcome

    def one_run(self, prepared: Prepared):
        if prepared.reason is not None:
            self.not_evaluated(prepared)
        elif prepared.vector:
            self.vector(prepared)
        elif prepared.windows and prepared.run.n >= WINDOW_ROWS:
            for r in windows.evaluate(self, prepared):
                self.exact(prepared, int(r))
        else:
            for r in range(prepared.run.r0, prepared.run.r1 + 1):
                self.exact(prepared, r)

    # ------------------------------------------------------------------ cells nobody can compute
    def not_evaluated(self, prepared: Prepared):
        run = prepared.run
        for r, c in cells_of(run):
            self.unknown_cell((run.sheet, r, c), (run.sheet, r, c), prepared.reason)

    def unknown_cell(self, cell, root, reason):
        sheet, r, c = cell
        self.outcome.unknown[cell] = (root, reason)
        cached = self.cached[sheet].get(r, c)
        keep = self.stand_in and self.source != "cached" and not isinstance(cached, Unknown)
        self.out[sheet].put(r, c, cached if keep else UNKNOWN_VALUE)

    # ------------------------------------------------------------------ exact, one cell
    def exact(self, prepared: Prepared, row: int):
        """Evaluate the cell of run `prepared` on row `row` exactly and store it (an array formula fills
        its range)."""
        run = prepared.run
        try:
            v = excel_value(prepared.expr, self.env(prepared, row), self.dialect, array=run.array_context,
                            here=(row, run.col))
        except NotKnown as nk:
            for cell in cells_of_row(run, row):
                self.unknown_cell(cell, nk.root, nk.reason)
            return None
        except NotEvaluated as ne:
            for cell in cells_of_row(run, row):
                self.unknown_cell(cell, (run.sheet, row, run.col), ne.reason)
            return None
        if not run.array_context:
            self.out[run.sheet].put(row, run.col, v)
            return v
        ar0, ac0, ar1, ac1 = run.array or (row, run.col, row, run.col)
        grid = v if isinstance(v, Block) else Block(((v,),))
        for rr in range(ar0, ar1 + 1):
            for cc in range(ac0, ac1 + 1):
                try:
                    val = spread_at(grid, rr - ar0, cc - ac0)  # a value, a row or a column fills the range
                except SheetError as err:
                    if prepared.absorbs_errors:
                        self.unknown_cell((run.sheet, rr, cc), (run.sheet, row, run.col), BEYOND)
                        continue
                    val = err.code
                self.out[run.sheet].put(rr, cc, 0.0 if val is None else val)
        return v

    def waits(self, prepared: Prepared, row: int, cells: set) -> bool:
        """True when the cell of `prepared` on `row`, evaluated as Excel evaluates it (the branch an IF takes),
        reads one of `cells`, values not known yet; False when it can be evaluated or fails otherwise."""
        try:
            excel_value(prepared.expr, self.env(prepared, row), self.dialect, array=prepared.run.array_context,
                        here=(row, prepared.run.col))
        except NotKnown as nk:
            return nk.root in cells
        except NotEvaluated:
            return False
        return False

    def env(self, prepared: Prepared, row: int):
        dr, cell, block = row - prepared.run.r0, self.cell, self.block

        def env(leaf):
            kind = type(leaf)
            if kind is CellRef or (kind is not RangeRef and isinstance(leaf, CellRef)):
                return cell(leaf.sheet, leaf.row if leaf.row_abs else leaf.row + dr, leaf.col)
            if kind is RangeRef or isinstance(leaf, RangeRef):
                lo = leaf.row if leaf.row_abs else leaf.row + dr
                hi = leaf.row2 if leaf.row2_abs else leaf.row2 + dr
                return block(leaf.sheet, lo, leaf.col, hi, leaf.col2, leaf.row_abs and leaf.row2_abs)
            if isinstance(leaf, Address):
                return _address(leaf.of, dr)
            raise TypeError(f"cannot read {leaf!r}")

        return env

    def cell(self, sheet, row, col):
        store = self.read.get(sheet)
        if store is None or row < 1:
            return "#REF!"
        v = store.get(row, col)
        if isinstance(v, Unknown):
            raise self.not_known(sheet, row, col)
        return v

    def not_known(self, sheet, row, col) -> NotKnown:
        hit = self.outcome.unknown.get((sheet, row, col))
        if hit is not None:
            return NotKnown(*hit)
        if self.source == "cached":
            return NotKnown((sheet, row, col), "has no cached value")
        return NotKnown((sheet, row, col), "is on a circular reference")

    def block(self, sheet, first_row, first_col, last_row, last_col, fixed=False):
        """The range's values (`read_block`); kept to be read again when nothing can change them: every block
        of a pass reading values it never writes, and, in a pass from the constants, a range read through
        references anchored in their rows (`fixed`: the same range for every row of a run, or an OFFSET from
        an anchored cell) that holds no formula cell -- its constants are never written."""
        key = (sheet, first_row, first_col, last_row, last_col)
        if self.blocks is not None:
            b = self.blocks.get(key)
            if b is None:
                b = self.blocks[key] = self.read_block(sheet, first_row, first_col, last_row, last_col)
            return b
        if not fixed or self.read is not self.out:
            return self.read_block(sheet, first_row, first_col, last_row, last_col)
        b = self.fixed_blocks.get(key, _UNSEEN)
        if b is _UNSEEN:
            b = self.read_block(sheet, first_row, first_col, last_row, last_col)
            constants = isinstance(b, Block) and next(
                self.book.index.overlapping(sheet, first_col, last_col, first_row, last_row), None) is None
            self.fixed_blocks[key] = b if constants else None
            return b
        return self.read_block(sheet, first_row, first_col, last_row, last_col) if b is None else b

    def read_block(self, sheet, first_row, first_col, last_row, last_col):
        store = self.read.get(sheet)
        if store is None or first_row < 1:
            return "#REF!"
        sc = self.book.sheets[sheet]
        formula_cells = sc.is_formula if self.dialect == "libreoffice" else None
        b, unknown = store.read_block(first_row, first_col, last_row, last_col, formula_cells)
        if unknown is not None:
            raise self.not_known(sheet, *unknown)
        if b.shape != (last_row - first_row + 1, last_col - first_col + 1):
            b = replace(b, extent=(last_row - first_row + 1, last_col - first_col + 1))
        return b

    # ------------------------------------------------------------------ a run at once, with numpy
    def function(self, source, nargs):
        """A run's numpy expression as a function of its inputs L0, L1 ... (arrays or numbers)."""
        args = ", ".join(f"L{i}" for i in range(nargs))
        return self.function_source(f"def run_cells({args}):\n    return {source}\n", "run_cells", batch=True)

    def function_source(self, source, name, batch=False):
        """Compiled source (cached by its text) over the numpy helpers, scalar or array forms."""
        fn = self.compiled.get((source, batch))
        if fn is None:
            ns = dict(self.ns[batch])
            exec(compile(source, "<xlgd evaluator>", "exec"), ns)  # noqa: S102 -- our own source
            fn = self.compiled[(source, batch)] = ns[name]
        return fn

    def batch_key(self, prepared: Prepared) -> tuple:
        """What runs evaluated together share (`Batch`): their column, numpy source, and what their leaves
        read but for the rows -- the same for every run of one shape or kin, so found once for them."""
        shape = prepared.shape or prepared
        shape = shape.kin or shape
        key = self.batch_keys.get((id(shape), prepared.run.col))
        if key is None:
            leaves = tuple((leaf.sheet, leaf.col, leaf.row_abs) for leaf in prepared.leaves)
            run = prepared.run
            key = self.batch_keys[(id(shape), run.col)] = (run.sheet, run.col, source_of(prepared, self.dialect), leaves)
        return key

    def vector(self, prepared: Prepared):
        Batch(self).together([prepared])

    def compute(self, function, args, start, end, out) -> np.ndarray:
        """function over rows start..end-1 into out; returns which rows are good (finite, no FP trouble)."""
        sub = [a[start:end] if isinstance(a, np.ndarray) else a for a in args]
        under = "raise" if self.dialect == "libreoffice" else "ignore"
        try:
            with np.errstate(all="raise", under=under):
                res = function(*sub)
        except (FloatingPointError, ZeroDivisionError):
            if end - start <= EXACT_CHUNK:
                return np.zeros(end - start, dtype=bool)
            mid = (start + end) // 2
            return np.concatenate((self.compute(function, args, start, mid, out),
                                   self.compute(function, args, mid, end, out)))
        res = np.broadcast_to(np.asarray(res, dtype=np.float64), (end - start,))
        out[start:end] = res
        return self.good(res)

    def good(self, res) -> np.ndarray:
        ok = np.isfinite(res)
        if self.dialect == "libreoffice":
            a = np.abs(res)
            ok &= ~((a > 0) & (a < TINY))
        return ok

    # ------------------------------------------------------------------ recurrent groups
    def rows_alone(self, prepared: Prepared) -> bool:
        """A run that reads only its own earlier rows within its group (an epoch's running sum `=O36+H37`):
        evaluated row by row on its own, so with others like it (`Batch.add_recurrent`)."""
        return prepared.vector and prepared.reason is None and graph.alone_in_order(prepared.run, prepared.targets)

    def group(self, group):
        runs = [p.run for p in group]
        order = graph.row_order(runs, lambda run: self.prepared[run.id].targets)
        if order is None:
            from .cycles import by_cells

            by_cells(self, group)
            return
        from .rows import by_rows

        by_rows(self, group, order)


class Batch:
    """Vector runs waiting to be evaluated together: runs of one column whose formulas differ only in
    the rows they read (an x column reading another sheet starts a run every epoch; an epoch's cell
    reading `$W$7` where the one before read `$W$6`) are one numpy evaluation, their inputs gathered
    row by row. Runs wait only while nothing needs their values."""

    def __init__(self, evaluator):
        self.ev, self.ids, self.groups, self.recurrent = evaluator, set(), {}, []

    def add(self, prepared):
        self.ids.add(prepared.run.id)
        self.groups.setdefault(self.ev.batch_key(prepared), []).append(prepared)

    def add_recurrent(self, prepared):
        """A run evaluated row by row on its own (`Evaluator.rows_alone`): with the others waiting, under one
        floating-point context (`rows.alone`) -- an epoch's running sum is 3,450 such runs in a 100,000-row sheet."""
        self.ids.add(prepared.run.id)
        self.recurrent.append(prepared)

    def flush(self):
        for group in self.groups.values():
            self.together(group)
        if self.recurrent:
            from .rows import alone

            alone(self.ev, self.recurrent)
        self.ids, self.groups, self.recurrent = set(), {}, []

    def together(self, group):
        ev, p0 = self.ev, group[0]
        starts = np.array([p.run.r0 for p in group])
        lens = np.array([p.run.n for p in group])
        # each cell's distance from its run's first row, and its row: one arange for all the runs
        shift = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        rows = np.repeat(starts, lens) + shift
        args, dirty = [], np.zeros(len(rows), dtype=bool)
        for i, leaf in enumerate(p0.leaves):
            store = ev.read.get(leaf.sheet)
            if store is None:
                dirty[:] = True
                args.append(0.0)
                continue
            at = np.repeat(np.array([p.leaves[i].row for p in group]), lens)  # each run's own row ...
            if not leaf.row_abs:
                at = at + shift  # ... moving with the run's cells
            num, kind = store.slice(leaf.col, int(at.min()), int(at.max()))
            at = at - int(at.min())
            args.append(num[at])
            dirty |= ~(kind[at] == NUMBER if i in p0.numbers_only else kind[at] <= NUMBER)
        fn = ev.function(source_of(p0, ev.dialect), len(args))
        vals = np.empty(len(rows))
        good = ev.compute(fn, args, 0, len(rows), vals) & ~dirty
        col = ev.out[p0.run.sheet].column(p0.run.col)
        col.ensure(int(rows.max()))
        col.num[rows[good]] = vals[good]
        col.kind[rows[good]] = NUMBER
        ev.out[p0.run.sheet].max_row = max(ev.out[p0.run.sheet].max_row, int(rows.max()))
        owner = np.repeat(np.arange(len(group)), lens)  # runs come in dependency order, not by row
        for j in np.nonzero(~good)[0]:
            ev.exact(group[int(owner[j])], int(rows[j]))


def source_of(prepared: Prepared, dialect) -> str:
    """A vector run's numpy expression over its leaves L0, L1 ... (shared by runs of one formula text)."""
    shape = prepared.shape or prepared
    shape = shape.kin or shape
    if not shape.source:
        shape.source = py(prepared.expr, lambda leaf: f"L{prepared.leaves.index(leaf)}", dialect)
    return shape.source


def _address(leaf, row_shift):
    """A reference's place and size, moved with the run's rows as its values would be."""
    r = leaf.row if leaf.row_abs else leaf.row + row_shift
    if isinstance(leaf, RangeRef):
        r2 = leaf.row2 if leaf.row2_abs else leaf.row2 + row_shift
        size = (r2 - r + 1, leaf.col2 - leaf.col + 1)
    else:
        size = (1, 1)
    return Block((), None, (leaf.sheet, r, leaf.col), size)


def _defer_dynamic(comps, deps, prepared):
    """Components in order, those with OFFSET (which may read anything) and their dependants last."""
    if not any(p.dynamic for p in prepared):
        return comps, []
    deferred, first, later = set(), [], []
    for comp in comps:
        if any(prepared[i].dynamic for i in comp) or any(d in deferred for i in comp for d in deps[i]):
            deferred.update(comp)
            later.append(comp)
        else:
            first.append(comp)
    return first, later


def describe_root(root) -> str:
    sheet, r, c = root
    return f"{quote_sheet(sheet)}!{a1(r, c)}"


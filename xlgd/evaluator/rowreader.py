"""A worksheet's XML read into a `SheetCells` fast, by string comparison where rows repeat.

Reading is string comparison wherever rows repeat (`RowReader`): xlsx's
row-template reader (`xlsx.rowtemplate.TemplateRows`) cuts the values out
of a whole 8 MB piece at once and compares the piece's rows in place with
the row above's template moved down (`RowTemplate`: a few str.replace a
row, a hundred rows at a time where a template holds for long), and rows
that match are taken whole:
their runs extended, their values waiting to be handed over in bulk. A row
that is the row above moved down but for a few cells -- an epoch's first
row, a per-epoch cell that differs on every row (`=O905/29`) -- is read
looking only at those cells (`RowReader.patch`); each becomes a template
without the scanner where its XML is plain (`quick`: the column's templates
seen twice tried first, else a new `CellTemplate`). Rows shaped
otherwise go cell by cell (`cells`), and only what is not plain through
`Package.scan_piece`, the one reader's scanner. Row numbers are checked
where the reader does not render them itself (`row`, `slow`;
`Package.bodies(rows_checked=False)`). The constants of number rows are
parsed at once (`xlsx.numbers`: orjson, float()'s doubles); their cached
values are handed to the store unparsed (`defer`, `SheetValues.later`):
`verify` parses them when it reads them, an evaluation from the constants
never does.

`read_sheet(package, name)` gives a `SheetCells` (`runs`); a sheet the scanner cannot read
falls back to lxml, cell by cell (`runs.CellTaker`).
"""

from __future__ import annotations

import re
from html import unescape

import numpy as np

from ..core.values import Text
from ..xlsx.numbers import joined_numbers, numbers
from ..xlsx.package import MAX_ROW, Fallback, xstring
from ..xlsx.refs import FormulaSyntaxError, col_number
from ..xlsx.rowtemplate import (
    HOLE,
    NO_DIGITS,
    CellTemplate,
    RowTemplate,
    TemplateRows,
    with_values,
)
from .runs import CellTaker, SheetCells
from .store import SheetValues


def read_sheet(package, name) -> SheetCells:
    """Stream one worksheet into constants, cached values and runs (whole rows where they repeat)."""
    sc = SheetCells(name, SheetValues(name), SheetValues(name))
    try:
        RowReader(package, sc).run()
    except Fallback:  # a shape the scanner does not read: start again, cell by cell through lxml
        sc = SheetCells(name, SheetValues(name), SheetValues(name))
        taker = CellTaker(sc, package)
        for cell in package.cells(name, force_xml=True):
            taker.take(cell)
    _finish(sc)
    return sc


_ROW = re.compile(r'\s*<row r="([0-9]+)"')
# a formula written out in full: `<f>..</f>`, or a one-cell array formula `<f t="array" ref="AH5">..</f>`
_PLAIN_F = re.compile(r'<f(?: t="array" ref="([A-Z]{1,3}[0-9]{1,7})")?>([^<]*)</f>')


_C = '<c r="'


class RowReader:
    """One sheet's pieces (`Package.bodies`): values cut out of a whole piece at once, then row by
    row -- a hundred rows at a time where they repeat -- rows equal to the row above's template
    (`RowTemplate`) are taken whole; in any other row, each cell equal to the cell above's template
    is taken as it is and only the others are scanned (`Package.scan_piece`)."""

    def __init__(self, package, sheet_cells: SheetCells):
        self.package, self.sc = package, sheet_cells
        self.taker = CellTaker(sheet_cells, package)
        self.shared, self.colmap = {}, {}
        self.tmpl, self.first, self.last = None, 0, 0
        self.buf, self.buf_holes, self.buf_r0, self.buf_n = [], (), 0, 0  # values waiting (`take_values`)
        # col -> (CellTemplates seen again, the last new one) of cells that differed from the row above
        self.recent = {}
        self.rows = None  # TemplateRows (`run`)

    def run(self):
        # rows_checked=False: a row taken whole equals a row rendered here from a row number of Excel's
        # (`match_rows` stops at MAX_ROW); every other row's number is checked where it is read (`row`, `slow`)
        self.rows = rows = TemplateRows(self.package, self.sc.name, rows_checked=False)
        for n, skel, values in rows:
            if n > 0:
                self.take_values(self.last + 1, n, values, self.tmpl.holes)
                self.last += n
            elif n == 0:
                self.extend_runs()
                self.row(skel, values)
            else:
                self.extend_runs()
                self.tmpl = None
                self.slow(with_values(skel, values), rows=True)
            rows.template, rows.at, rows.since = self.tmpl, self.last + 1, self.first
        self.flush()

    def row(self, skel, values):
        m = _ROW.match(skel)
        if m is None:
            self.tmpl = None
            self.slow(with_values(skel, values) + "</row>", rows=True)
            return
        digits = m.group(1)
        if digits[0] == "0" or len(digits) > 7 or int(digits) > MAX_ROW:
            self.package.check_rows(self.sc.name, skel)  # (raises: the error the one reader gives)
        r = int(digits)
        tm, expected = self.tmpl, None
        if tm is not None and r == self.last + 1:
            seen = self.rows.expected  # (r, the template's row r) when `match_rows` stopped there
            expected = seen[1] if seen and seen[0] == r else tm.text(r)
        self.cells(skel, values, r, expected)

    def cells(self, skel, values, row, expected):
        """A row that is not the row above again: cell by cell, reusing the cells that are."""
        got = skel.split(_C)
        old = expected.split(_C) if expected is not None else None
        if old is not None and len(old) == len(got) and got[0] == old[0] and self.patch(got, old, values, row):
            return
        above = self.above(old, len(got))
        cells, vi, waiting, slowed = [], 0, [], False
        for i, chunk in enumerate(got[1:], 1):
            chunk = _C + chunk
            nv = chunk.count(HOLE)
            vals = values[vi:vi + nv]
            vi += nv
            col = None if above is None or above[0] else _column_of(chunk)
            k = None if above is None else (i if above[0] else above[1].get(col))
            if k is not None and got[i] == old[k]:
                ct = self.tmpl.cells[k - 1]
                if ct.formula:
                    self.taker.builder.extend(ct.col, row)
                waiting.append((ct, vals))
                if cells is not None:
                    cells.append(ct)
                continue
            ct, slow = self.differing(chunk, col or _column_of(chunk), row, vals, None if k is None else old[k])
            if slow:
                slowed = True
            else:
                waiting.append((ct, vals))
            if cells is not None:
                if ct is None:
                    cells = None
                else:
                    cells.append(ct)
        self.new_template(got[0], row, cells, vi == len(values))
        self.row_values(row, values, waiting, slowed)

    def above(self, old, n):
        """How a row's cells find the row above's moved down (`old`, split as the row is): (True,) when
        the row has as many cells (the same place), else (False, column -> place) when the template's
        columns are distinct (a row of another shape: every other row of a strided table), else None."""
        if old is None:
            return None
        if len(old) == n:
            return (True,)
        places = {ct.col: k for k, ct in enumerate(self.tmpl.cells, 1)}
        return (False, places) if len(places) == len(self.tmpl.cells) else None

    def patch(self, got, old, values, row) -> bool:
        """What `cells` does, looking only at the cells that differ from the template (an epoch's first
        row, a cell that differs on every row): False, with nothing done, where that could read the row
        otherwise -- a differing cell holding another number of values or in another column, two cells
        of one column (their order matters then)."""
        tm = self.tmpl
        layout = tm.layout
        if layout is None:
            return False
        starts, nvals, formulas = layout
        differ = []
        for i in range(1, len(got)):
            if got[i] != old[i]:
                chunk = _C + got[i]
                col = _column_of(chunk)
                if col != tm.cells[i - 1].col or got[i].count(HOLE) != old[i].count(HOLE):
                    return False
                differ.append((i, chunk, col))
        skip = {i for i, _, _ in differ}
        builder = self.taker.builder
        for i, col in formulas:
            if i not in skip:
                builder.extend(col, row)
        cells, taken, slowed, alike = list(tm.cells), {}, False, True
        for i, chunk, col in differ:
            s = starts[i - 1]
            vals = values[s:s + chunk.count(HOLE)]
            ct, slow = self.differing(chunk, col, row, vals, old[i])
            slowed |= slow
            taken[i] = None if slow else (ct, vals)
            if cells is not None:
                if ct is None:
                    cells = None
                else:
                    was = cells[i - 1]
                    alike = alike and (ct.type, ct.formula, ct.nholes) == (was.type, was.formula, was.nholes)
                    cells[i - 1] = ct
        self.new_template(got[0], row, cells, nvals == len(values), tm if alike else None)
        if not self.bulk_values(row, values, slowed):
            for i, ct in enumerate(tm.cells, 1):
                if i not in taken:
                    s = starts[i - 1]
                    self.same_cell(ct, row, values[s:s + ct.nholes])
                elif taken[i] is not None:
                    self.same_cell(taken[i][0], row, taken[i][1])
        return True

    def differing(self, chunk, col, r, vals, above):
        """A cell that is not the row above's moved down: (its CellTemplate or None, whether the scanner took it)."""
        ct = self.quick(chunk, col, r, vals, above)
        if ct is not None:
            return ct, False
        self.slow(with_values(chunk, vals))
        try:
            return CellTemplate(chunk, col, r, self.package.cell_parts), True
        except (ValueError, FormulaSyntaxError, SyntaxError):
            return None, True

    def new_template(self, head, r, cells, all_values, like=None):
        """The row just read becomes the template for the rows after it (when it can be one)."""
        tag = f'r="{r}"'
        if cells is None or not all_values or "#" in head or tag not in head:
            self.tmpl = None
        else:
            self.tmpl = RowTemplate(head.replace(tag, 'r="#"', 1), cells, like)
        self.first = self.last = r

    def row_values(self, r, values, waiting, slowed):
        """The values of a row read cell by cell: with the rows taken whole when the row became the
        template (`bulk_values`), else cell by cell."""
        if not self.bulk_values(r, values, slowed):
            for ct, vals in waiting:
                self.same_cell(ct, r, vals)

    def bulk_values(self, r, values, slowed) -> bool:
        """A row read cell by cell that became the template: its values wait with the rows taken whole (one
        value per hole, nothing scanned). False when that does not hold."""
        tm = self.tmpl
        if tm is not None and not slowed and len(values) == len(tm.holes):
            self.take_values(r, 1, values, tm.holes)
            self.sc.no_cache += tm.bare
            return True
        return False

    def quick(self, chunk, col, r, vals, above):
        """A cell whose XML is plain (a number, or a formula written out in full): taken without the
        scanner -- the cells that differ from the row above in a periodic table are mostly these.
        above: the row above's cell moved to this row (its formula text, if equal, continues the run)."""
        f = _PLAIN_F.search(chunk)
        if (f is None and "<f" in chunk) or "<is>" in chunk or "<v" in chunk or len(vals) > 1:
            return None  # ('<v' left in a cell whose values were cut: a tag with attributes, `<v/>`)
        array = f and f.group(1)
        if array and chunk[6:chunk.index('"', 6)] != array:
            return None  # an array formula over other cells than its own
        ct = self.recall(chunk, col, r)
        if ct is None:
            return None
        if f is not None:
            text = unescape(f.group(2)) if "&" in f.group(2) else f.group(2)
            fa = _PLAIN_F.search(above) if above is not None else None
            builder = self.taker.builder
            cur = builder.cur.get(col)
            if fa is not None and fa.group(2) == f.group(2) and (fa.group(1) is None) == (array is None) \
                    and cur is not None and cur.goes_on(r, bool(array)):
                builder.extend(col, r)  # only the value's type or the style differs
            elif above is None:  # a row shaped unlike the one above: compare R1C1 forms
                builder.add(r, col, text, array, form=ct.fmt)
            else:  # the formula differs from the one above moved down: a new run
                builder.start(r, col, text, array, form=ct.fmt)
        return ct

    def recall(self, chunk, col, r):
        """The cell's template: one its column has seen again before when it renders the cell (an epoch's
        first cells are the previous epoch's first cells again: `=H36` after `=H7`), or the last new one,
        else a new one. Templates never seen twice (a per-epoch cell, `=$AC$7`, `=O905/29`) are not kept:
        trying them on every later cell cost more than making the cell's own."""
        hot, last = self.recent.get(col, ((), None))
        shape = chunk.translate(NO_DIGITS)
        for ct in hot:
            if ct.renders(chunk, shape, r):
                return ct
        if last is not None and last.renders(chunk, shape, r):
            self.recent[col] = ((last,) + hot)[:4], None
            return last
        try:
            ct = CellTemplate(chunk, col, r, self.package.cell_parts)
        except (ValueError, FormulaSyntaxError, SyntaxError):
            return None
        self.recent[col] = hot, ct
        return ct

    def same_cell(self, ct: CellTemplate, r, vals):
        """A cell's value, put on its own."""
        sc = self.sc
        if ct.formula:
            if not vals:
                sc.no_cache += 1
                return
        if vals and (vals[0] != "" or ct.type in ("str", "inlineStr")):
            v = self._typed(vals[0], ct.type)
            sc.cached.put(r, ct.col, v)
            if not ct.formula:
                sc.consts.put(r, ct.col, v)

    def slow(self, text, rows=False):
        """Cells through the one reader's scanner; rows=True: the text holds row tags, checked first."""
        if rows:
            self.package.check_rows(self.sc.name, text)
        for cell in self.package.scan_piece(self.sc.name, text, self.shared, self.colmap):
            self.taker.take(cell)

    def take_values(self, first_row, n, vals, holes):
        """Rows r0..r0+n-1 hold `vals`, one per hole, row after row: kept to be parsed in bulk with the rows
        before them while the holes stay the same (an epoch's first row changes formulas, not values)."""
        if holes != self.buf_holes or first_row != self.buf_r0 + self.buf_n or len(self.buf) > 200_000:
            self.flush_values()  # (a bound: a million value strings waiting would cost 60 MB)
            self.buf_holes, self.buf_r0 = holes, first_row
        self.buf.extend(vals)
        self.buf_n += n

    def flush(self):
        self.extend_runs()
        self.flush_values()

    def extend_runs(self):
        """The template's runs go on over the rows taken whole since the template's row."""
        tm = self.tmpl
        if tm is None or self.last == self.first:
            return
        for col in tm.formulas:
            self.taker.builder.extend(col, self.last)
        self.sc.no_cache += (self.last - self.first) * tm.bare
        self.first = self.last

    def flush_values(self):
        """The values waiting (`take_values`), parsed in bulk."""
        holes, vals, r0, n = self.buf_holes, self.buf, self.buf_r0, self.buf_n
        self.buf, self.buf_n = [], 0
        if not n:
            return
        sc, k = self.sc, len(holes)
        table = None
        if k and all(t == "n" for _, t, _ in holes):
            if self.defer(holes, vals, r0, n):
                return
            table = numbers(vals)  # None: an empty <v></v> or such: column by column below
            table = table.reshape(n, k) if table is not None else None
        for j, (col, t, formula) in enumerate(holes):
            texts = vals[j::k]
            stores = (sc.cached,) if formula else (sc.cached, sc.consts)
            if t == "n" and (table is not None or "" not in texts):
                nums = table[:, j] if table is not None else numbers(texts)
                if nums is not None:  # else a text that is no number: one by one, the reader names it
                    for st in stores:
                        st.put_numbers(col, r0, nums)
                    continue
            for i, v in enumerate(texts):
                if v == "" and t not in ("str", "inlineStr"):  # <v></v>: no cached value
                    sc.no_cache += formula
                    continue
                val = self._typed(v, t)
                for st in stores:
                    st.put(r0 + i, col, val)

    def defer(self, holes, vals, first_row, n) -> bool:
        """Rows of number cells: the constants parsed now, the cached values handed to the store
        unparsed (`SheetValues.later`: parsed when first read -- verify reads them, an evaluation
        from the constants never does; a word among them is named then, by `_CachedNumbers`). False,
        nothing done, where a value is empty (no cached value: counted now) or a constant is no number
        (named now, by the path below)."""
        joined = ",".join(vals)
        if not joined or joined.count(",") != len(vals) - 1 or ",," in joined or joined[0] == "," or joined[-1] == ",":
            return False
        k, consts = len(holes), []
        for j, (col, _, formula) in enumerate(holes):
            if not formula:
                nums = numbers(vals[j::k])
                if nums is None:
                    return False
                consts.append((col, nums))
        for col, nums in consts:
            self.sc.consts.put_numbers(col, first_row, nums)
        cached = self.sc.cached
        cached.later(_CachedNumbers(cached, [col for col, _, _ in holes], first_row, n, joined, self._typed))
        cached.max_row = max(cached.max_row, first_row + n - 1)
        return True

    def _typed(self, v, t):
        """A cut-out value as the evaluator holds it, read and checked by the one reader."""
        if t in ("str", "inlineStr"):
            return Text(xstring(unescape(v) if "&" in v else v))
        value, kind = self.package.typed_value(v, t, self.sc.name)
        if kind == "s":
            return Text(value)
        return value == 1.0 if kind == "b" else value


class _CachedNumbers:
    """n rows of cached numbers, their texts joined by commas, put into `store` when called (`RowReader.defer`)."""

    __slots__ = ("store", "cols", "r0", "n", "joined", "typed")

    def __init__(self, store, cols, first_row, n, joined, typed):
        self.store, self.cols, self.r0, self.n, self.joined, self.typed = store, cols, first_row, n, joined, typed

    def __call__(self):
        k = len(self.cols)
        table = joined_numbers(self.joined, self.n * k)
        if table is None:  # a text that is no number: the one reader names it (an error)
            table = np.array([self.typed(v, "n") for v in self.joined.split(",")], dtype=np.float64)
        table = table.reshape(self.n, k)
        for j, col in enumerate(self.cols):
            self.store.put_numbers(col, self.r0, table[:, j])


def _column_of(chunk):
    """The column number of a cell's XML ('<c r="AD36" ...')."""
    return col_number(chunk[6:chunk.index('"', 6)].rstrip("0123456789"))


def _finish(sheet_cells):
    _drop_bare_formulas(sheet_cells)
    for (r, c) in sheet_cells.members:  # an array formula's other cells: their values are the formula's
        if sheet_cells.consts.get(r, c) is not None:
            sheet_cells.consts.put(r, c, None)
    _fix_extent(sheet_cells)


def _drop_bare_formulas(sheet_cells):
    """A bare `<f/>` (`<f ca="1"/>`: Excel marks an array formula's other cells so, and some writers mark
    any cell) holds no formula: inside an array formula's range the cell is the array's; elsewhere its
    value is a constant."""
    for col, runs in list(sheet_cells.runs.items()):
        bare = [run for run in runs if not run.text.strip()]
        if not bare:
            continue
        sheet_cells.runs[col] = [run for run in runs if run.text.strip()]
        if not sheet_cells.runs[col]:
            del sheet_cells.runs[col]
        for run in bare:
            for r in range(run.r0, run.r1 + 1):
                if (r, col) not in sheet_cells.members:
                    sheet_cells.consts.put(r, col, sheet_cells.cached.get(r, col))


def _fix_extent(sheet_cells):
    sheet_cells.consts.max_row = max(sheet_cells.consts.max_row, sheet_cells.cached.max_row)
    for runs in sheet_cells.runs.values():
        for run in runs:
            sheet_cells.cached.max_row = max(sheet_cells.cached.max_row, run.r1)
            sheet_cells.consts.max_row = max(sheet_cells.consts.max_row, run.r1)

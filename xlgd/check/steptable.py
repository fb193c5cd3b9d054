"""Reading one xlgd sheet's step table from the file, fast where the rows are untouched.

An untouched step row's XML is known exactly (formulas from the layout's
per-column templates, style attributes from the file), so rows equal to it
are taken whole -- compared a hundred at a time by xlsx's row-template reader
(`xlsx.rowtemplate`), their values parsed in one numpy call -- and only rows
that differ are read cell by cell (`RowMatcher`, `FAST_ROWS`). Checks and reports are the same either way
(tests/test_verify_fastrows.py reads every sheet both ways).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core.expr import Data, EpochValue, leaves
from ..layout import DATA_FIRST_ROW, START_ROW, Layout
from ..xlsx.numbers import numbers
from ..xlsx.package import Cell, Fallback
from ..xlsx.refs import row_template
from ..xlsx.rowtemplate import HOLE, ROW_AT, PeriodicRows, TemplateRows, with_values
from .listed_cells import structure_reason

FAST_ROWS = True  # take untouched step rows whole (`RowMatcher`); tests turn it off to compare


@dataclass
class StepTable:
    """One xlgd sheet's step table as the file holds it (see `read_xlgd_sheet`)."""

    vals: np.ndarray  # (columns, steps) floats, nan where not a number
    seen: np.ndarray  # cell present
    errs: dict  # (ci, i) -> error code or text
    formula_fail: dict  # (ci, i) -> (kind, message)
    cells: dict  # (ci, i) -> Cell, only for cells failing the structure check
    misc: dict  # (row, col) -> Cell outside the step table
    no_cache: int = 0
    rows_whole: int = 0  # step rows taken whole by the row matcher


def read_xlgd_sheet(ctx, spec, lay: Layout) -> StepTable:
    """Stream one xlgd sheet: structure-check every step cell, keep values as arrays.

    Rows whose XML is exactly what the layout expects (`RowMatcher`) are taken
    whole: their values parsed per piece in one numpy call. Every other row --
    an edited formula, an error value, a cell without a cached value, a file
    another program re-wrote -- goes cell by cell through the scanner."""
    reader = StepReader(spec, lay)
    if FAST_ROWS and (ctx.values is None or ctx.values.get(spec.name) is None):
        try:
            reader.table.rows_whole = read_rows(ctx.book, reader)
            return reader.finish()
        except Fallback:
            reader = StepReader(spec, lay)  # the scanner cannot read this sheet: start again, cell by cell
    for cell in ctx.cells(spec.name):
        reader.take(cell)
    return reader.finish()


class StepReader:
    """Takes a sheet's cells one at a time into a `StepTable`, checking each step cell's formula."""

    def __init__(self, spec, lay: Layout):
        self.spec, self.lay = spec, lay
        n, N, ncol = spec.n_data, spec.n_steps, len(spec.columns)
        self.table = StepTable(np.full((ncol, N), np.nan), np.zeros((ncol, N), bool), {}, {}, {}, {})
        self.first_row = lay.step_row(0)
        self.templates = {}
        # Which row-dependent parts a column's formula has: data rows (wrap every epoch), epoch cells.
        self.kinds = []
        for c in spec.columns:
            refs = [leaf for e in (c.expr, c.first) if e is not None for leaf in leaves(e)]
            self.kinds.append((any(isinstance(r, Data) for r in refs), any(isinstance(r, EpochValue) for r in refs)))
        self.n = n

    def template(self, ci, i):
        """(row -> expected formula text, the text on step i) of column ci, shared by rows alike."""
        xy, ep = self.kinds[ci]
        d = i % self.n
        key = (ci, d if xy else d == 0, i // self.n if ep else None)
        t = self.templates.get(key)
        if t is None:
            text = self.lay.formula(self.spec.columns[ci].name, i)
            t = self.templates[key] = (row_template(text, self.lay.step_row(i)), text)
        return t

    def take(self, cell):
        st = self.table
        r, c = cell.row, cell.col
        i = r - self.first_row
        if i < 0 or i >= self.spec.n_steps or c > len(self.spec.columns):
            st.misc[(r, c)] = cell
            return
        ci = c - 1
        st.seen[ci, i] = True
        tmpl, _ = self.template(ci, i)
        f = cell.formula
        if f is None or f != tmpl(r):
            why = structure_reason(cell, "=" + tmpl(r), r, c)
            if why:
                st.formula_fail[(ci, i)] = why
                st.cells[(ci, i)] = cell
        v = cell.value
        if cell.kind == "n":
            st.vals[ci, i] = v
        elif v is None:
            if f is not None:
                st.no_cache += 1
        elif cell.kind == "e":
            st.errs[(ci, i)] = v
        else:
            st.errs[(ci, i)] = "#VALUE!" if cell.kind == "s" else v

    def finish(self) -> StepTable:
        """Step cells the file does not have at all are structure failures too."""
        st = self.table
        for ci, i in np.argwhere(~st.seen)[:100000]:
            tmpl, _ = self.template(ci, i)
            st.formula_fail[(int(ci), int(i))] = structure_reason(None, "=" + tmpl(self.lay.step_row(int(i))), 0, 0)
        return st


class CachedLayout(Layout):
    """A Layout that renders each epoch-block formula once (the row matcher and the
    epoch check both ask for every one of them)."""

    def __init__(self, spec):
        super().__init__(spec)
        self._epf = {}

    def epoch_formula(self, col, k):
        f = self._epf.get((col, k))
        if f is None:
            f = self._epf[(col, k)] = super().epoch_formula(col, k)
        return f


_CELL_HEAD = re.compile(r'<c r="([A-Z]{1,3})[0-9]+"([^>]*)>')
_STYLE_ONLY = re.compile(r'(?:\s+s="[0-9]+")?')


def _xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class RowMatcher:
    """The exact XML an untouched step row has, values cut out, as `PeriodicRows` (`rows`).

    Formula text comes from the layout (per-column templates); only the style
    attributes (s="..") and the row element's attributes are taken from the
    file, from the first step row that has exactly the expected cells, each
    with a formula, a cached value and no type other than number. A row equal
    to this text holds every expected formula verbatim and a number in every
    cell, which is all the per-cell path would conclude; anything else is
    left to that path."""

    def __init__(self, spec, lay):
        self.spec, self.lay = spec, lay
        self.n, self.N = spec.n_data, spec.n_steps
        self.ncol, self.nep = len(spec.columns), len(spec.epoch_columns)
        self.first_row = lay.step_row(0)
        self.rows = None  # PeriodicRows, once a row of the file gave the style attributes
        self.shared = {}  # the runs the learned rows hold (Layout.shared, or none)
        self.tries = 0

    def learn(self, row_text):
        """Take the style attributes from a row of the file; True when the row has the expected shape."""
        self.tries += 1
        m = re.match(r'\s*<row r="([0-9]+)"([^>]*)>', row_text)
        if not m:
            return False
        r = int(m.group(1))
        if not 0 <= r - self.first_row < self.N:
            return False
        heads = _CELL_HEAD.findall(row_text)
        lay, spec = self.lay, self.spec
        want = [lay.letter(c.name) for c in spec.columns]
        has_ep = 0 <= r - START_ROW < spec.epochs
        if has_ep:
            want += [lay.epoch_letter(c.name) for c in spec.epoch_columns]
        if [h[0] for h in heads] != want or row_text.count("<c ") != len(want):
            return False
        if not all(_STYLE_ONLY.fullmatch(a) for _, a in heads):
            return False
        self.shared = lay.shared if 't="shared"' in row_text else {}  # older xlgd files: a formula per cell
        formats = {kind: self._format(kind, m.group(2), heads) for kind in ("top", True, False)}
        ep_cells = [(lay.epoch_letter(c.name), a) for c, (_, a) in
                    zip(spec.epoch_columns, heads[self.ncol:])] if has_ep else None
        extra = [self._epoch_part(self.first_row + i - START_ROW, ep_cells)
                 for i in range(min(self.N, START_ROW + spec.epochs - self.first_row))]
        self.rows = PeriodicRows(self.first_row, self.N, self.n, (DATA_FIRST_ROW, START_ROW), formats, extra)
        return True

    def _format(self, kind, rowattrs, heads):
        """The %-format of a step row: the first step row ('top'), an epoch's first row (True), any other."""
        lay = self.lay
        parts = [f'<row r="{{r}}"{rowattrs}>']
        for c, (letter, attrs) in zip(self.spec.columns, heads):
            f = _xml_text(lay.templates[(c.name, kind is not False)][1:])  # rows as {r} {p} {d} {e}
            si = self.shared.get(c.name)  # a shared formula's run (`Layout.shared`): the first row holds it
            if si is not None:
                f = (f'<f t="shared" ref="{letter}{{r}}:{letter}{lay.last_row}" si="{si}">{f}</f>'
                     if kind == "top" else f'<f t="shared" si="{si}"/>')
            else:
                f = f"<f>{f}</f>"
            parts.append(f'<c r="{letter}{{r}}"{attrs}>{f}{HOLE}</c>')
        # %-formatting with a dict of ready strings: twice as fast as str.format here (~80 fields a row)
        return re.sub(r"\{([rpde])\}", r"%(\1)s", "".join(parts).replace("%", "%%"))

    def _epoch_part(self, k, ep_cells):
        """The epoch-block cells of row START_ROW + k (k >= 1), None without the learned block's styles."""
        if ep_cells is None:
            return None
        out = []
        row = START_ROW + k
        for ec, (letter, attrs) in zip(self.spec.epoch_columns, ep_cells):
            f = self.lay.epoch_formula(ec.name, k)[1:]
            out.append(f'<c r="{letter}{row}"{attrs}><f>{_xml_text(f)}</f>{HOLE}</c>')
        return "".join(out)


def read_rows(book, reader: StepReader) -> int:
    """Take the rows matching `RowMatcher` whole, hand every other cell to reader.take; returns
    how many rows were taken whole."""
    return WholeRows(book, reader).run()


class WholeRows:
    """The fast path over one sheet: rows equal to the expected skeleton (`TemplateRows`, a hundred at
    a time) have their values parsed in one numpy call; anything else is scanned cell by cell."""

    def __init__(self, book, reader: StepReader):
        self.book, self.reader = book, reader
        self.spec, self.lay, self.st = reader.spec, reader.lay, reader.table
        self.mt = RowMatcher(reader.spec, reader.lay)
        self.shared, self.colmap = {}, {}
        self.count = 0
        self._runs_ok = None

    def run(self) -> int:
        rows = TemplateRows(self.book, self.spec.name)
        for n, skel, values in rows:
            if n > 0:
                self.whole(skel, values)
            elif n == 0:
                self.one_row(skel, values)
            else:
                self.slow(with_values(skel, values))
            # rows holding shared formulas are the layout's only while its runs are (`runs_ok`, asked
            # once the rows are learned: `layout_runs` are the learned rows')
            rows.template = self.mt.rows if self.mt.rows is not None and self.runs_ok else None
        return self.count

    def whole(self, skel, values):
        """Rows matched whole: their values in one call, else (a value that is no number) row by row."""
        m = ROW_AT.match(skel)
        i0, nrows = int(m.group(1)) - self.mt.first_row, skel.count("</row>")
        if self.put(i0, nrows, values):
            return
        vi = 0
        for j, row in enumerate(skel.split("</row>")[:-1]):
            nv = row.count(HOLE)
            if not self.put(i0 + j, 1, values[vi:vi + nv]):
                self.slow(with_values(row, values[vi:vi + nv]) + "</row>")
            vi += nv

    def slow(self, text):
        for cell in self.book.scan_piece(self.spec.name, text, self.shared, self.colmap):
            self.reader.take(cell)
        self._runs_ok = None  # the scan may have (re)defined a shared formula

    def one_row(self, skel, values):
        mt = self.mt
        m = ROW_AT.match(skel)
        i = int(m.group(1)) - mt.first_row if m else -1
        if 0 <= i < mt.N:
            if mt.rows is None and mt.tries < 1000:
                mt.learn(skel)
            if (mt.rows is not None and (i == 0 or self.runs_ok) and skel == mt.rows.text(mt.first_row + i)
                    and self.put(i, 1, values)):
                if i == 0:
                    self.shared.update(self.layout_runs)  # as the cell scanner would have noted them
                return
        self.slow(with_values(skel, values) + "</row>")

    @cached_property
    def layout_runs(self):
        """{si: (formula, row, col)} of the shared formulas the first step row holds (`Layout.shared`)."""
        r = self.mt.first_row
        return {str(si): (self.lay.formula(name, 0)[1:], r, self.lay.col_index[name] + 1)
                for name, si in self.mt.shared.items()}

    @property
    def runs_ok(self):
        """Rows holding `<f t="shared" si=../>` are the layout's only where each run started as the
        layout says: the first step row -- taken whole, or scanned -- held exactly those formulas."""
        if self._runs_ok is None:
            self._runs_ok = all(self.shared.get(si) == run for si, run in self.layout_runs.items())
        return self._runs_ok

    def put(self, first_step, nrows, texts) -> bool:
        """Values of rows first_step.. (all matched) into the arrays; False if one is not a number."""
        arr = numbers(texts)
        if arr is None:
            return False
        ncol, nep, st = self.mt.ncol, self.mt.nep, self.st
        r0 = self.mt.first_row + first_step
        # Step rows START_ROW+1 .. START_ROW+epochs-1 also hold the epoch block's cells, and come first.
        m = max(0, min(nrows, START_ROW + self.spec.epochs - r0))
        if m:
            head = arr[:m * (ncol + nep)].reshape(m, ncol + nep)
            st.vals[:, first_step:first_step + m] = head[:, :ncol].T
            self._epoch_cells(r0, m, head)
            arr = arr[m * (ncol + nep):]
        if nrows > m:
            st.vals[:, first_step + m:first_step + nrows] = arr.reshape(nrows - m, ncol).T
        st.seen[:, first_step:first_step + nrows] = True
        self.count += nrows
        return True

    def _epoch_cells(self, first_row, m, head):
        lay, ncol = self.lay, self.mt.ncol
        for j in range(m):
            r = first_row + j
            for q, ec in enumerate(self.spec.epoch_columns):
                c = lay.epoch_index[ec.name] + 1
                f = lay.epoch_formula(ec.name, r - START_ROW)[1:]
                self.st.misc[(r, c)] = Cell(r, c, f, float(head[j, ncol + q]), "n")



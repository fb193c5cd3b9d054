"""A sheet's step table as sheet XML: shared formulas, each double formatted once.

A step table is millions of formula cells that differ only by row. Excel
itself stores a run of them as a shared formula: the first cell holds the
formula and the run's range (`<f t="shared" ref="E7:E151" si="4">`), every
other cell only `<f t="shared" si="4"/>`, and Excel, LibreOffice, openpyxl
and xlgd's own reader shift the first cell's relative references to each
row. `Layout.shared` says which columns run so; the others (data, epoch
and running-sum columns, short formulas) keep a formula per cell. A row is
one string template per kind of row (the first step, an epoch's first row,
any other) with the row numbers and the values put in; each value is
`repr` of the double, the shortest text that reads back as the same bits
(what the LibreOffice 0-ulp and verify tests rely on), formatted once.

Epochs come one at a time (`add`), from `compute` as the engine finishes
them. The epoch block sits beside the first step rows (epoch k on sheet row
START_ROW + k), so those rows wait, as text, for the epoch summaries; the
rows below go to a spool file as they come; `close` writes the start row,
the rows beside the block, then the spool -- memory stays flat in rows.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

import numpy as np

from ..core.functions import error_name
from .layout import START_ROW


def _fields(text: str) -> str:
    """Layout template text ({r} {p} {d} {e}) as %-format text for the row's dict, XML-escaped."""
    return re.sub(r"\{([rpde])\}", r"%(\1)s", escape(text).replace("%", "%%"))


class StepRows:
    """One sheet's start row, step rows and epoch block, written through `out` (an `xlsxwriter_fast.RawRows`)."""

    def __init__(self, lay, f, out):
        spec = lay.spec
        self.lay, self.f, self.out = lay, f, out
        self.n = spec.n_data
        self.names = [c.name for c in spec.columns]
        self.keys = [f"v{j}" for j in range(len(self.names))]
        xfs = [out.xf(f.num(c.fmt)) for c in spec.columns]
        # Per kind of row, per column: the cell as %-format text, holding a number / an error.
        self.cells = {kind: [self._cell(j, kind, xf) for j, xf in enumerate(xfs)] for kind in ("top", "first", "rest")}
        self.rows = {kind: '<row r="%(r)s">' + "".join(c for c, _ in cells) for kind, cells in self.cells.items()}
        self.head = max(0, min(spec.n_steps, spec.epochs - 1))  # steps whose rows hold an epoch-block cell
        self.kept = []  # those rows' step cells, as text
        self.block = []  # per epoch: its epoch-block (cells, codes)
        self.spool = out.spool()

    def _cell(self, j, kind, xf):
        lay, name = self.lay, self.names[j]
        L, si = lay.letter(name), lay.shared.get(name)
        text = _fields(lay.templates[(name, kind != "rest")][1:])
        if si is None:
            f = f"<f>{text}</f>"
        elif kind == "top":
            f = f'<f t="shared" ref="{L}%(r)s:{L}{lay.last_row}" si="{si}">{text}</f>'
        else:
            f = f'<f t="shared" si="{si}"/>'
        return tuple(f'<c r="{L}%(r)s" s="{xf}"{t}>{f}<v>%({self.keys[j]})s</v></c>' for t in ("", ' t="e"'))

    # ------------------------------------------------------------ step rows
    def add(self, ep):
        """Write (or keep) the step rows of one epoch (`core.engine.Epoch`)."""
        n, C = self.n, len(self.names)
        vals = list(map(repr, np.column_stack([ep.steps[nm] for nm in self.names]).ravel().tolist()))
        codes = np.column_stack([ep.codes[nm] for nm in self.names])
        bad = codes.any(axis=1)
        done = []
        for r in range(n):
            i = ep.k * n + r
            kind = "top" if i == 0 else "first" if r == 0 else "rest"
            row = dict(zip(self.keys, vals[r * C:(r + 1) * C]), **self.lay.row_fields(i))
            if bad[r]:
                text = self._error_row(kind, row, codes[r])
            else:
                text = self.rows[kind] % row
            if i < self.head:
                self.kept.append(text)
            else:
                done.append(text + "</row>")
        self.spool.write("".join(done))
        self.block.append((dict(ep.cells), dict(ep.cell_codes)))

    def _error_row(self, kind, row, codes):
        for j in np.nonzero(codes)[0]:
            row[self.keys[j]] = error_name(int(codes[j]))
        return '<row r="%(r)s">' % row + "".join(cell[bool(c)] % row for cell, c in zip(self.cells[kind], codes))

    # ------------------------------------------------------------ the start row, the block, the rest
    def close(self, start):
        """Write the start row, the rows beside the epoch block, then the spooled rows."""
        lay, spec = self.lay, self.lay.spec
        R = START_ROW
        cells = [f'<row r="{R}">']
        for c in spec.columns:
            text, L = lay.start_formula(c.name), lay.letter(c.name)
            if text is not None:
                xf = self.out.xf(self.f.num(c.fmt, "start"))
                cells.append(f'<c r="{L}{R}" s="{xf}"><f>{escape(text[1:])}</f><v>{float(start[c.name])!r}</v></c>')
            elif c.name == "epoch":
                cells.append(f'<c r="{L}{R}" s="{self.out.xf(self.f.hint)}" t="inlineStr"><is><t>start</t></is></c>')
        self.out.write("".join(cells) + self._block(0) + "</row>")
        for i, text in enumerate(self.kept):
            self.out.write(text + self._block(i + 1) + "</row>")
        self.out.append(self.spool)
        last = max(lay.epoch_index.values(), default=len(spec.columns) - 1)
        self.out.span(START_ROW - 1, 0, max(lay.last_row, lay.epoch_row(spec.epochs - 1)) - 1, last)

    def _block(self, k):
        """Epoch k's epoch-block cells (formulas of their own: they read the epoch's edge rows)."""
        if k >= len(self.block):
            return ""
        lay, (vals, codes) = self.lay, self.block[k]
        R = lay.epoch_row(k)
        out = []
        for c in lay.spec.epoch_columns:
            L, xf = lay.epoch_letter(c.name), self.out.xf(self.f.num(c.fmt, "epoch"))
            code = int(codes[c.name])
            t, v = (' t="e"', error_name(code)) if code else ("", repr(float(vals[c.name])))
            out.append(f'<c r="{L}{R}" s="{xf}"{t}><f>{escape(lay.epoch_formula(c.name, k)[1:])}</f><v>{v}</v></c>')
        return "".join(out)

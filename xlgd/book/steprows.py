"""A sheet's step table as sheet XML: shared formulas, each double formatted once.

A column that `Layout.shared` names is stored as Excel stores a run: the first cell holds the
formula and the run's range (`<f t="shared" ref="E7:E151" si="4">`), every other only the `si`;
the other columns keep a formula per cell. A row is one string template per kind of row with row
numbers and values put in, each value the shortest text that reads back as the same bits
(`numbers.py`). Epochs come one at a time (`add`); the rows beside the epoch block wait as text,
the rows below go to a spool file, and `close` writes them in order: memory stays flat in rows.
"""

from __future__ import annotations

import re
from operator import itemgetter
from xml.sax.saxutils import escape

import numpy as np

from ..core.masked import error_name
from ..layout import START_ROW
from .numbers import text as number_text
from .numbers import texts

_POOL = ("r", "p", "d", "e")  # then v0, v1 ...: a row's fields, in the order add() pools them


def _positional(tmpl: str, ncol: int):
    """A %(name)s template as (%s template, getter of its fields from a row's pool): one C call a row."""
    names = re.findall(r"%\((\w+)\)s", tmpl)
    order = {nm: k for k, nm in enumerate(_POOL + tuple(f"v{j}" for j in range(ncol)))}
    return re.sub(r"%\(\w+\)s", "%s", tmpl), itemgetter(*(order[nm] for nm in names))


def _fields(text: str) -> str:
    """Layout template text ({r} {p} {d} {e}) as %-format text for the row's dict, XML-escaped."""
    return re.sub(r"\{([rpde])\}", r"%(\1)s", escape(text).replace("%", "%%"))


class StepRows:
    """One sheet's start row, step rows and epoch block, written through `out` (an `xlsxwriter_fast.RawRows`)."""

    def __init__(self, layout, formats, out):
        spec = layout.spec
        self.lay, self.f, self.out = layout, formats, out
        self.n = spec.n_data
        self.names = [c.name for c in spec.columns]
        xfs = [out.xf(formats.num(c.fmt)) for c in spec.columns]
        # Per kind of row, per column: the cell as %-format text, holding a number / an error.
        self.cells = {kind: [self._cell(j, kind, xf) for j, xf in enumerate(xfs)] for kind in ("top", "first", "rest")}
        self.rows = {kind: _positional('<row r="%(r)s">' + "".join(c for c, _ in cells), len(self.names))
                     for kind, cells in self.cells.items()}
        self.head = max(0, min(spec.n_steps, spec.epochs - 1))  # steps whose rows hold an epoch-block cell
        self.kept = []  # those rows' step cells, as text
        self.block = []  # per epoch: its epoch-block (cells, codes)
        self.spool = out.spool()
        self._blocks = {}

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
        return tuple(f'<c r="{L}%(r)s" s="{xf}"{t}>{f}<v>%(v{j})s</v></c>' for t in ("", ' t="e"'))

    # ------------------------------------------------------------ step rows
    def add(self, epoch):
        """Write (or keep) the step rows of one epoch (`core.engine.Epoch`)."""
        n, C = self.n, len(self.names)
        vals = texts(np.column_stack([epoch.steps[nm] for nm in self.names]))
        codes = np.column_stack([epoch.codes[nm] for nm in self.names])
        bad = codes.any(axis=1)
        top = self.lay.row_fields(epoch.k * n)  # rows of an epoch: r, p and d count up, e stays
        done, r = [], 0
        while r < n:
            i = epoch.k * n + r
            m = self._plain_run(r, i, bad)
            if m:  # rows r..r+m-1: any other row, numbers only, below the epoch block: one template
                R = top["r"] + r
                pool = [f for q in range(m) for f in (R + q, R + q - 1, top["d"] + r + q, top["e"])]
                tmpl, pick = self._rest(m)
                done.append(tmpl % pick(pool + vals[r * C:(r + m) * C]))
                r += m
                continue
            kind = "top" if i == 0 else "first" if r == 0 else "rest"
            R = top["r"] + r
            pool = [R, R - 1, top["d"] + r, top["e"]] + vals[r * C:(r + 1) * C]
            if bad[r]:
                text = self._error_row(kind, pool, codes[r])
            else:
                tmpl, pick = self.rows[kind]
                text = tmpl % pick(pool)
            if i < self.head:
                self.kept.append(text)
            else:
                done.append(text + "</row>")
            r += 1
        self.spool.write("".join(done).encode())
        self.block.append((dict(epoch.cells), dict(epoch.cell_codes)))

    BLOCK = 32  # rows formatted by one template

    def _plain_run(self, r, i, bad):
        """How many rows from row r (step i) on can go through one `_rest` template (0: none)."""
        if r == 0 or i < self.head:
            return 0
        m = 0
        while m < self.BLOCK and r + m < self.n and not bad[r + m]:
            m += 1
        return m

    def _rest(self, m):
        """m rows of the 'rest' kind, closed, as one positional template (cached per m)."""
        if m not in self._blocks:
            one = '<row r="%(r)s">' + "".join(c for c, _ in self.cells["rest"]) + "</row>"
            C = len(self.names)
            text = "".join(re.sub(r"%\((\w+)\)s", lambda g, q=q: f"%({g.group(1)}@{q})s", one) for q in range(m))
            order = {f"{f}@{q}": 4 * q + k for q in range(m) for k, f in enumerate(_POOL)}
            order.update({f"v{j}@{q}": 4 * m + q * C + j for q in range(m) for j in range(C)})
            names = re.findall(r"%\(([\w@]+)\)s", text)
            self._blocks[m] = (re.sub(r"%\([\w@]+\)s", "%s", text), itemgetter(*(order[nm] for nm in names)))
        return self._blocks[m]

    def _error_row(self, kind, pool, codes):
        row = dict(zip(_POOL + tuple(f"v{j}" for j in range(len(self.names))), pool))
        for j in np.nonzero(codes)[0]:
            row[f"v{j}"] = error_name(int(codes[j]))
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
                cells.append(f'<c r="{L}{R}" s="{xf}"><f>{escape(text[1:])}</f><v>{number_text(start[c.name])}</v></c>')
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
            t, v = (' t="e"', error_name(code)) if code else ("", number_text(vals[c.name]))
            out.append(f'<c r="{L}{R}" s="{xf}"{t}><f>{escape(lay.epoch_formula(c.name, k)[1:])}</f><v>{v}</v></c>')
        return "".join(out)

"""Where every cell of a sheet lives, and the formula text each one holds.

One `Layout` per sheet turns a `SheetSpec` into cell addresses: the writer
asks it what to write, `verify` and `diff` ask it what should be there.

    row 1   title
    row 2   input labels         (lr, beta1, h, a_init, ...)
    row 3   input values         each a defined name local to the sheet
    row 5   headers              step table  |  epoch summary block
    row 6   start row            weights and optimiser state ahead of step 1
    row 7+  one row per step     epochs unrolled downward

The data sheet holds x (numbers) and y (=true_a*x+true_b) from row 5 on.
"""

from __future__ import annotations

from functools import cached_property

from .core.expr import Col, Data, EpochValue, Name, StepEdge, excel
from .core.table import SheetSpec
from .xlsx.refs import col_letter, quote_sheet

TITLE_ROW, LABEL_ROW, INPUT_ROW, HINT_ROW, HEADER_ROW, START_ROW = 1, 2, 3, 4, 5, 6
DATA_SHEET = "data"
DATA_FIRST_ROW = 5
DATA_X, DATA_Y = "B", "C"


class Layout:
    def __init__(self, spec: SheetSpec, data_sheet: str = DATA_SHEET):
        self.spec = spec
        self.data_sheet = data_sheet
        self.col_index = {c.name: i for i, c in enumerate(spec.columns)}
        self.epoch_index = {c.name: len(spec.columns) + 1 + i for i, c in enumerate(spec.epoch_columns)}
        self.input_index = {inp.name: i for i, inp in enumerate(spec.inputs)}

    # ---------------------------------------------------------------- cells
    def step_row(self, step: int) -> int:
        """Excel row (1-based) of step i (0-based); i = -1 is the start row."""
        return START_ROW + 1 + step

    def epoch_row(self, epoch: int) -> int:
        return START_ROW + epoch

    @property
    def last_row(self) -> int:
        return self.step_row(self.spec.n_steps - 1)

    def letter(self, col: str) -> str:
        return col_letter(self.col_index[col])

    def epoch_letter(self, col: str) -> str:
        return col_letter(self.epoch_index[col])

    def input_cell(self, name: str) -> str:
        return f"{col_letter(self.input_index[name])}{INPUT_ROW}"

    def input_abs(self, name: str) -> str:
        return f"${col_letter(self.input_index[name])}${INPUT_ROW}"

    def cell(self, col: str, step: int) -> str:
        return f"{self.letter(col)}{self.step_row(step)}"

    def column_range(self, col: str, absolute=True, sheet=True, epoch=None) -> str:
        """The step-table cells of a column (all steps, or one epoch)."""
        n = self.spec.n_data
        first, last = (0, self.spec.n_steps - 1) if epoch is None else (epoch * n, epoch * n + n - 1)
        return self._range(self.letter(col), self.step_row(first), self.step_row(last), absolute, sheet)

    def epoch_range(self, col: str, absolute=True, sheet=True) -> str:
        return self._range(self.epoch_letter(col), self.epoch_row(0), self.epoch_row(self.spec.epochs - 1),
                           absolute, sheet)

    def _range(self, letter, first_row, last_row, absolute, sheet):
        d = "$" if absolute else ""
        prefix = f"{quote_sheet(self.spec.name)}!" if sheet else ""
        return f"{prefix}{d}{letter}{d}{first_row}:{d}{letter}{d}{last_row}"

    # ------------------------------------------------------------- formulas
    def formula(self, col: str, step: int) -> str:
        """The formula of column `col` on step i (0-based), with '='."""
        return self.templates[(col, step % self.spec.n_data == 0)].format(**self.row_fields(step))

    def row_fields(self, step: int) -> dict:
        """What `templates` leave out on step i's row: {r} the row, {p} the row above, {d} its data row, {e} its epoch's row."""
        k, d = divmod(step, self.spec.n_data)
        row = self.step_row(step)
        return {"r": row, "p": row - 1, "d": DATA_FIRST_ROW + d, "e": self.epoch_row(k)}

    @cached_property
    def templates(self) -> dict:
        """{(column, first row of an epoch?): formula} with its row numbers left as {r}, {p}, {d}, {e}.

        A sheet of 100,000 rows has millions of formula cells; rendering the
        tree once per column and formatting numbers in is what keeps
        generation as fast as writing the file."""

        def ref(leaf):
            if isinstance(leaf, Col):
                return f"{self.letter(leaf.name)}{{{'p' if leaf.lag else 'r'}}}"
            if isinstance(leaf, Name):
                return leaf.name
            if isinstance(leaf, Data):
                letter = DATA_X if leaf.name == "x" else DATA_Y
                return f"{quote_sheet(self.data_sheet)}!{letter}{{d}}"
            if isinstance(leaf, EpochValue):
                return f"${self.epoch_letter(leaf.col)}${{e}}"
            raise TypeError(f"a step column cannot refer to {leaf!r}")

        out = {}
        for c in self.spec.columns:
            for first in (True, False):
                e = c.first if (first and c.first is not None) else c.expr
                # Formula text never holds braces of its own: only ours.
                out[(c.name, first)] = "=" + excel(e, ref)
        return out

    @cached_property
    def shared(self) -> dict:
        """{column: si} of the step columns stored as one shared formula down the whole table.

        Such a column's formula differs from row to row only by its relative
        references, so the first step row holds it with the run's range
        (`<f t="shared" ref="E7:E151" si="4">`) and every other row only
        `<f t="shared" si="4"/>`, as Excel stores runs. A column that reads the
        data row or its epoch's cell (both restart every epoch), or has a
        formula of its own on an epoch's first row, keeps a formula per cell:
        short ones (data!B5, $S$6, O7+H8)."""
        out = {}
        for c in self.spec.columns:
            first, rest = self.templates[(c.name, True)], self.templates[(c.name, False)]
            if first == rest and "{d}" not in rest and "{e}" not in rest and self.spec.n_steps > 1:
                out[c.name] = len(out)
        return out

    def start_formula(self, col: str) -> str | None:
        c = self.spec.columns[self.col_index[col]]
        if c.init is None:
            return None
        return "=" + excel(c.init, lambda leaf: leaf.name)

    def epoch_formula(self, col: str, epoch: int) -> str:
        c = self.spec.epoch_columns[[e.name for e in self.spec.epoch_columns].index(col)]
        e = c.first if (epoch == 0 and c.first is not None) else c.expr
        n = self.spec.n_data

        def ref(leaf):
            if isinstance(leaf, Col):
                return f"{self.epoch_letter(leaf.name)}{self.epoch_row(epoch - leaf.lag)}"
            if isinstance(leaf, Name):
                return leaf.name
            if isinstance(leaf, StepEdge):
                return self.cell(leaf.col, epoch * n - 1 if leaf.edge == "above" else epoch * n + n - 1)
            raise TypeError(f"an epoch-block cell cannot refer to {leaf!r}")

        return "=" + excel(e, ref)


def formula_cells(layout: Layout, result=None):
    """Every formula cell of a sheet: (row, col, formula, value), 0-based row and col.

    value is the engine's float or error code (None without a result)."""
    spec = layout.spec

    def val(key, arr, idx):
        if result is None:
            return None
        if key in result.errors:
            return result.errors[key]
        return float(arr[idx])

    for c in spec.columns:
        text = layout.start_formula(c.name)
        if text is not None:
            v = None if result is None else float(result.start[c.name])
            yield START_ROW - 1, layout.col_index[c.name], text, v
    for k in range(spec.epochs):
        for c in spec.epoch_columns:
            yield (layout.epoch_row(k) - 1, layout.epoch_index[c.name], layout.epoch_formula(c.name, k),
                   val(("@" + c.name, k), result.epochs[c.name] if result else None, k))
    for c in spec.columns:
        ci = layout.col_index[c.name]
        arr = result.steps[c.name] if result is not None else None
        for i in range(spec.n_steps):
            yield layout.step_row(i) - 1, ci, layout.formula(c.name, i), val((c.name, i), arr, i)

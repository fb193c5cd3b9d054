"""Runs that read ranges moving with their rows, evaluated over all their rows at once with numpy.

A run such as `{=SUM(A4:C6*$AD$11:$AF$13)}` down a column (a convolution),
or `=MAX(BM5:BN6)`, reads on each row a window of the sheet: the window's
values over all rows are one (rows, height, width) array, gathered from
the store's columns; `OFFSET(cell, rows, cols)` reads on each row the one
cell its arguments point at. The tree is evaluated on those arrays in the
exact evaluator's order -- `+ - * /` element by element, SUM adding its
numbers one by one left to right, row by row (as `ranges.excel_sum`),
SUMPRODUCT multiplying left to right and adding so, MAX and MIN -- so a
row computed here is bit for bit the exact evaluator's value.

Only rows where every value read is a number and nothing goes non-finite
or divides by zero are computed here; the caller evaluates every other row
exactly (blanks, text, errors, values not known). Excel's dialect only:
LibreOffice's additions snap near-cancellations and its SUM is Kahan's.
"""

from __future__ import annotations

import numpy as np

from ..core.expr import Bin, CellRef, Fn, Neg, Num, RangeRef
from ..xlsx.sheetdata import MAX_COL, MAX_ROW
from .store import NUMBER

REDUCTIONS = ("SUM", "MAX", "MIN")
SCALAR = (1, 1)
FAR = 1e7  # OFFSET moving a reference this far or further is left to the exact evaluator
WINDOW_CELLS = 256  # a range of more cells (a whole column) is left to the exact evaluator: one numpy step per cell
WINDOW_VALUES = 1 << 22  # values a run's windows may gather at once (rows x cells of its largest range)


def windowed(expr, array_context: bool) -> bool:
    """Whether a run's tree is evaluated here (in Excel's dialect): numbers, cell and range references of at
    most WINDOW_CELLS cells, + - * /, SUM, MAX, MIN, SUMPRODUCT and OFFSET of a cell; ranges element by
    element only in an array formula or SUMPRODUCT's arguments, else as SUM/MAX/MIN's own arguments."""
    return _shape(expr, array_context) == SCALAR and _reads_window(expr)


def _reads_window(expr) -> bool:
    """A range or an OFFSET somewhere in the tree (else it is the compiled numpy path's)."""
    if isinstance(expr, RangeRef):
        return True
    if isinstance(expr, Bin):
        return _reads_window(expr.left) or _reads_window(expr.right)
    if isinstance(expr, Neg):
        return _reads_window(expr.arg)
    return isinstance(expr, Fn) and (expr.name == "OFFSET" or any(_reads_window(a) for a in expr.args))


def _shape(node, array: bool) -> tuple | None:
    """(height, width) of the node's value on one row; None where this module does not evaluate it."""
    if isinstance(node, (Num, CellRef)):
        return SCALAR if not isinstance(node, Num) or isinstance(node.value, float) else None
    if isinstance(node, RangeRef):
        shape = (node.row2 - node.row + 1, node.col2 - node.col + 1)
        if node.row_abs != node.row2_abs or min(shape) < 1 or shape[0] * shape[1] > WINDOW_CELLS:
            return None
        return shape
    if isinstance(node, Neg):
        return _shape(node.arg, array)
    if isinstance(node, Bin):
        return _bin_shape(node, array)
    if isinstance(node, Fn) and node.name in REDUCTIONS and node.args:
        shapes = [_shape(a, array) for a in node.args]
        return SCALAR if all(s is not None for s in shapes) else None
    if isinstance(node, Fn) and node.name == "SUMPRODUCT" and node.args:
        shapes = {_shape(a, True) for a in node.args}  # its arguments are arrays in any formula
        return SCALAR if len(shapes) == 1 and None not in shapes else None
    if isinstance(node, Fn) and node.name == "OFFSET" and len(node.args) == 3 and isinstance(node.args[0], CellRef):
        return SCALAR if _shape(node.args[1], array) == SCALAR == _shape(node.args[2], array) else None
    return None


def _bin_shape(node, array):
    if node.op not in "+-*/" or len(node.op) != 1:
        return None
    left, right = _shape(node.left, array), _shape(node.right, array)
    if left is None or right is None:
        return None
    if left != right and SCALAR not in (left, right):
        return None
    out = right if left == SCALAR else left
    return out if out == SCALAR or array else None


def evaluate(evaluator, prepared) -> np.ndarray:
    """Compute the run's rows that can be computed here into the evaluator's output (a block of rows at a
    time); returns the rows (sheet row numbers) left for the exact evaluator."""
    run, block = prepared.run, WINDOW_VALUES // WINDOW_CELLS
    return np.concatenate([_rows(evaluator, prepared, start, min(block, run.r1 + 1 - start))
                           for start in range(run.r0, run.r1 + 1, block)])


def _rows(evaluator, prepared, start, n) -> np.ndarray:
    run = prepared.run
    rows = np.arange(start, start + n)
    window = RowWindows(evaluator, start - run.r0, n)
    try:
        with np.errstate(all="ignore"):
            value = np.broadcast_to(window.go(prepared.expr), (n, 1, 1)).reshape(n)
    except Unreadable:
        return rows
    good = ~window.bad & np.isfinite(value)
    out = evaluator.out[run.sheet]
    column = out.column(run.col)
    column.ensure(start + n - 1)
    column.num[rows[good]] = value[good]
    column.kind[rows[good]] = NUMBER
    out.max_row = max(out.max_row, start + n - 1)
    return rows[~good]


class Unreadable(Exception):
    """A reference this module does not read (another sheet missing, a row before the first)."""


class RowWindows:
    """The values a run's leaves read on each of its rows, and which rows went wrong (`bad`)."""

    def __init__(self, evaluator, shift: int, n: int):
        self.read, self.shift, self.n = evaluator.read, shift, n  # shift: rows below the run's first
        self.bad = np.zeros(n, dtype=bool)

    def go(self, node):
        """The node's value on every row: an array (rows or 1, height, width), or a float."""
        if isinstance(node, Num):
            return node.value
        if isinstance(node, CellRef):
            return self.values(node.sheet, node.row, node.col, node.row, node.col, node.row_abs)
        if isinstance(node, RangeRef):
            return self.values(node.sheet, node.row, node.col, node.row2, node.col2, node.row_abs)
        if isinstance(node, Neg):
            return -self.go(node.arg)
        if isinstance(node, Bin):
            return self.arith(node.op, self.go(node.left), self.go(node.right))
        if node.name == "OFFSET":
            return self.offset(*node.args)
        return self.reduce(node.name, [self.go(a) for a in node.args])

    def offset(self, base, down, across):
        """The value of the cell `base` moved down and across (truncated toward 0, as `int`) on each row."""
        store = self.read.get(base.sheet)
        if store is None:
            raise Unreadable
        down = np.broadcast_to(self.go(down), (self.n, 1, 1)).reshape(self.n)
        across = np.broadcast_to(self.go(across), (self.n, 1, 1)).reshape(self.n)
        wrong = ~(np.abs(down) < FAR) | ~(np.abs(across) < FAR)
        first = base.row if base.row_abs else base.row + self.shift + np.arange(self.n)
        rows = first + np.trunc(np.where(wrong, 0.0, down)).astype(np.int64)
        cols = base.col + np.trunc(np.where(wrong, 0.0, across)).astype(np.int64)
        wrong |= (rows < 1) | (rows > MAX_ROW) | (cols < 1) | (cols > MAX_COL)
        out = np.zeros(self.n)
        for col in np.unique(cols[~wrong]):
            at = (cols == col) & ~wrong
            lo, hi = int(rows[at].min()), int(rows[at].max())
            num, kind = store.slice(int(col), lo, hi)
            out[at] = num[rows[at] - lo]
            wrong[at] |= kind[rows[at] - lo] != NUMBER
        self.mark(wrong)
        return out.reshape(self.n, 1, 1)

    def values(self, sheet, first_row, first_col, last_row, last_col, anchored):
        """(rows or 1, height, width) of a reference; rows reading anything but a number are bad."""
        store = self.read.get(sheet)
        height, moves = last_row - first_row + 1, not anchored
        first_row += self.shift if moves else 0
        if store is None or first_row < 1:
            raise Unreadable
        span = self.n if moves else 1
        at = np.arange(span)[:, None] + np.arange(height)[None, :]  # (rows, height): offsets from first_row
        nums, wrong = [], np.zeros(span, dtype=bool)
        for col in range(first_col, last_col + 1):
            num, kind = store.slice(col, first_row, first_row + height + span - 2)
            nums.append(num[at])
            wrong |= (kind[at] != NUMBER).any(axis=1)
        self.mark(wrong)
        return np.stack(nums, axis=2)

    def mark(self, wrong):
        if wrong.any():
            self.bad |= wrong if len(wrong) == self.n else wrong.any()

    def arith(self, op, left, right):
        if op == "+":
            out = np.add(left, right)
        elif op == "-":
            out = np.subtract(left, right)
        elif op == "*":
            out = np.multiply(left, right)
        else:
            self.mark(_per_row(np.asarray(right) == 0.0))
            out = np.divide(left, right)
        self.mark(_per_row(~np.isfinite(out)))
        return out

    def reduce(self, name, args):
        """SUM adds left to right, each range row by row, from 0.0 (`ranges.excel_sum`); MAX and MIN of
        a row whose result is 0 are left to the exact evaluator (which of 0.0 and -0.0 it is)."""
        flat = [np.asarray(a, dtype=np.float64).reshape(np.shape(a)[0] if np.ndim(a) == 3 else 1, -1)
                for a in args]
        if name == "SUMPRODUCT":
            product = flat[0]
            for terms in flat[1:]:
                product = product * terms
            self.mark(_per_row(~np.isfinite(product)))
            flat = [product]
        if name in ("SUM", "SUMPRODUCT"):
            total = 0.0
            for terms in flat:
                for k in range(terms.shape[1]):
                    total = total + terms[:, k]
            self.mark(_per_row(~np.isfinite(total)))
            return np.reshape(total, (-1, 1, 1))
        width = max(len(x) for x in flat)
        both = np.concatenate([np.broadcast_to(x, (width, x.shape[1])) for x in flat], axis=1)
        out = both.max(axis=1) if name == "MAX" else both.min(axis=1)
        self.mark(out == 0.0)
        return out.reshape(-1, 1, 1)


def _per_row(flags) -> np.ndarray:
    """Whether each row (first axis) has a flag set anywhere; a scalar flag for every row."""
    flags = np.asarray(flags)
    if flags.ndim == 0:
        return flags.reshape(1)
    return flags.reshape(len(flags), -1).any(axis=1)

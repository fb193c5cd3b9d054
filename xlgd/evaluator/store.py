"""A sheet's values as arrays: one float64 array and one kind array per column.

A million cells must stay small and be read by compiled code in slices, so
a value is two entries, not a Python object: `num[col][row]` (the number;
TRUE is 1, blank 0, so arithmetic on a slice is right for numbers and
blanks) and `kind[col][row]`, one byte: BLANK, NUMBER, BOOL, TEXT (the text
in a small dict beside), an error (ERROR + its index in `values.ERRORS`),
or UNKNOWN (a value nobody can compute: a volatile or unsupported function,
a circular reference; the reason is kept by whoever decided it).

Columns grow by doubling as rows arrive; rows and columns are 1-based.
"""

from __future__ import annotations

import numpy as np

from ..core.values import ERRORS, Block, Text, is_error

BLANK, NUMBER, BOOL, TEXT, UNKNOWN, ERROR = 0, 1, 2, 3, 4, 8
_SHORT = 32  # a column slice this long or shorter is scanned in Python
_ERR_KIND = {code: ERROR + i for i, code in enumerate(ERRORS)}


class Unknown:
    """The value of a cell that cannot be computed (see the module doc)."""

    __slots__ = ()

    def __repr__(self):
        return "UNKNOWN"


UNKNOWN_VALUE = Unknown()


def kind_of(value) -> int:
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, Text):
        return TEXT
    if isinstance(value, str):
        return _ERR_KIND.get(value, ERROR + ERRORS.index("#VALUE!"))
    if isinstance(value, Unknown):
        return UNKNOWN
    return NUMBER


def error_code(kind: int) -> str:
    return ERRORS[kind - ERROR]


class Column:
    __slots__ = ("num", "kind", "text")

    def __init__(self, size=64):
        self.num = np.zeros(size)
        self.kind = np.zeros(size, dtype=np.int8)
        self.text = {}

    def ensure(self, row):
        n = len(self.num)
        if row < n:
            return
        size = max(row + 1, 2 * n)
        num, kind = np.zeros(size), np.zeros(size, dtype=np.int8)
        num[:n], kind[:n] = self.num, self.kind
        self.num, self.kind = num, kind


class SheetValues:
    """Values of one sheet (constants, cached values or computed values: whoever fills it).

    A filler may hand values over unparsed (`later`): they are put before the store is next read or
    written, in the order handed over. The workbook evaluator's reader does so with the cached values
    of formula cells, which an evaluation from the constants never reads and `verify` reads soon."""

    def __init__(self, name):
        self.name = name
        self._cols: dict[int, Column] = {}
        self._later = []
        self.max_row = 0  # kept by whoever hands values over `later` too
        self._last_col = (0, None)  # (number of columns, the highest) when last asked

    def last_col(self, default) -> int:
        """The highest column holding a value, `default` when there is none (columns are never removed, so
        the answer holds while their number stays)."""
        cols = self.cols
        if not cols:
            return default
        count, last = self._last_col
        if count != len(cols):
            last = max(cols)
            self._last_col = (len(cols), last)
        return last

    def later(self, fill):
        """fill() puts values; called before anyone reads or writes this store again."""
        self._later.append(fill)

    @property
    def cols(self) -> dict:
        if self._later:
            later, self._later = self._later, []
            for fill in later:
                fill()
        return self._cols

    def column(self, col) -> Column:
        column = self.cols.get(col)
        if column is None:
            column = self.cols[col] = Column(max(64, self.max_row + 1))
        return column

    def put(self, row, col, value):
        column = self.column(col)
        column.ensure(row)
        k = kind_of(value)
        column.kind[row] = k
        if k == NUMBER:
            column.num[row] = value
        elif k == BOOL:
            column.num[row] = 1.0 if value else 0.0
        else:
            column.num[row] = 0.0 if k in (BLANK, TEXT) else np.nan
            if k == TEXT:
                column.text[row] = str(value)
        if row > self.max_row:
            self.max_row = row

    def put_numbers(self, col, first_row, nums):
        """Rows first_row.. of column col are the numbers `nums` (an array)."""
        column = self.column(col)
        end = first_row + len(nums)
        column.ensure(end - 1)
        column.num[first_row:end] = nums
        column.kind[first_row:end] = NUMBER
        self.max_row = max(self.max_row, end - 1)

    def get(self, row, col):
        """The value as a formula reads it: float, Text, bool, error code, None (blank) or UNKNOWN_VALUE."""
        column = self.cols.get(col)
        if column is None or row >= len(column.num):
            return None
        return self._value(column, row)

    @staticmethod
    def _value(column, row):
        k = int(column.kind[row])
        if k == NUMBER:
            return float(column.num[row])
        if k == BLANK:
            return None
        if k == BOOL:
            return bool(column.num[row])
        if k == TEXT:
            return Text(column.text[row])
        if k == UNKNOWN:
            return UNKNOWN_VALUE
        return error_code(k)

    def slice(self, col, first_row, last_row):
        """(numbers, kinds) of rows first_row..last_row (inclusive) of column col, zero/blank beyond what
        exists."""
        n = last_row - first_row + 1
        column = self.cols.get(col)
        if column is None:
            return np.zeros(n), np.zeros(n, dtype=np.int8)
        if last_row >= len(column.num):
            column.ensure(last_row)
        return column.num[first_row:last_row + 1], column.kind[first_row:last_row + 1]

    def block(self, first_row, first_col, last_row, last_col, formula_cells=None) -> Block:
        """The cells first_row..last_row x first_col..last_col as a Block (clipped to what the sheet holds);
        formula_cells(row, col) says which are formula cells (LibreOffice's SUM needs it)."""
        return self.read_block(first_row, first_col, last_row, last_col, formula_cells)[0]

    def read_block(self, first_row, first_col, last_row, last_col, formula_cells=None) -> tuple:
        """(`block` of those cells, (row, col) of the first cell holding UNKNOWN_VALUE row by row, else None)."""
        last_row = min(last_row, max(self.max_row, first_row))
        last_col = min(last_col, self.last_col(first_col))
        # zip of no column would be no row: a block right of every column keeps its rows, each empty
        n, cols = last_row - first_row + 1, range(first_col, last_col + 1)
        unknown = None
        if n == 1 and cols:  # one row: each value read where it is
            rows, unknown = self._row(first_row, cols)
        elif cols:
            columns, held = [], self.cols
            for col in cols:
                values, at = self._values(held.get(col), first_row, n)
                columns.append(values)
                if at is not None and (unknown is None or at < unknown[0]):
                    unknown = (at, col)
            rows = tuple(zip(*columns))
        else:
            rows = ((),) * max(n, 0)
        forms = None
        if formula_cells is not None:
            forms = tuple(tuple(formula_cells(row, col) for col in cols) for row in range(first_row, last_row + 1))
        return Block(rows, forms, (self.name, first_row, first_col)), unknown

    def _row(self, row, cols) -> tuple:
        """((the values of row `row` in columns `cols`,), (row, col) of the first UNKNOWN_VALUE or None)."""
        held, out, unknown = self.cols, [], None
        for col in cols:
            column = held.get(col)
            v = None if column is None or row >= len(column.num) else self._value(column, row)
            if v is UNKNOWN_VALUE and unknown is None:
                unknown = (row, col)
            out.append(v)
        return (tuple(out),), unknown

    def values(self, col, first_row, last_row) -> list:
        """`get` over rows first_row..last_row of column col, numbers converted in one numpy call (a block of
        a whole step column is read by every cell of its group)."""
        return self._values(self.cols.get(col), first_row, last_row - first_row + 1)[0]

    def _values(self, column, first_row, n) -> tuple:
        """(`values` of n rows from first_row of a column (None: no column), the first of those rows holding
        UNKNOWN_VALUE or None): the kinds looked at once, each value that is not a number converted as `get` does."""
        if column is None:
            return [None] * n, None
        have = max(0, min(first_row + n, len(column.num)) - first_row)
        out = column.num[first_row:first_row + have].tolist()
        if have < n:
            out += [None] * (n - have)
        kinds = column.kind[first_row:first_row + have]
        if have <= _SHORT:  # a few cells: a Python loop is cheaper than numpy's call
            kinds = kinds.tolist()
            if kinds.count(NUMBER) == have:
                return out, None
            others = [i for i, k in enumerate(kinds) if k != NUMBER]
        else:
            others = np.flatnonzero(kinds != NUMBER).tolist()
        unknown = None
        for i in others:
            v = out[i] = self._value(column, first_row + i)
            if unknown is None and v is UNKNOWN_VALUE:
                unknown = first_row + i
        return out, unknown

    def copy(self) -> "SheetValues":
        out = SheetValues(self.name)
        out.max_row = self.max_row
        for c, col in self.cols.items():
            n = Column(1)
            n.num, n.kind, n.text = col.num.copy(), col.kind.copy(), dict(col.text)
            out.cols[c] = n
        return out


def describe(value) -> str:
    """A value as a report shows it."""
    if isinstance(value, Unknown):
        return "unknown"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Text):
        return repr(str(value))
    if is_error(value):
        return value
    value = float(value)
    return repr(value) if value != int(value) or abs(value) >= 1e15 else str(int(value))

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
_ERR_KIND = {code: ERROR + i for i, code in enumerate(ERRORS)}
CLEAN_MAX = NUMBER  # kinds a number array can stand for in arithmetic: BLANK (0) and NUMBER


class Unknown:
    """The value of a cell that cannot be computed (see the module doc)."""

    __slots__ = ()

    def __repr__(self):
        return "UNKNOWN"


UNKNOWN_VALUE = Unknown()


def kind_of(v) -> int:
    if v is None:
        return BLANK
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, Text):
        return TEXT
    if isinstance(v, str):
        return _ERR_KIND.get(v, ERROR + ERRORS.index("#VALUE!"))
    if isinstance(v, Unknown):
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

    def column(self, c) -> Column:
        col = self.cols.get(c)
        if col is None:
            col = self.cols[c] = Column(max(64, self.max_row + 1))
        return col

    def put(self, r, c, v):
        col = self.column(c)
        col.ensure(r)
        k = kind_of(v)
        col.kind[r] = k
        if k == NUMBER:
            col.num[r] = v
        elif k == BOOL:
            col.num[r] = 1.0 if v else 0.0
        else:
            col.num[r] = 0.0 if k in (BLANK, TEXT) else np.nan
            if k == TEXT:
                col.text[r] = str(v)
        if r > self.max_row:
            self.max_row = r

    def put_numbers(self, c, r0, nums):
        """Rows r0.. of column c are the numbers `nums` (an array)."""
        col = self.column(c)
        r1 = r0 + len(nums)
        col.ensure(r1 - 1)
        col.num[r0:r1] = nums
        col.kind[r0:r1] = NUMBER
        self.max_row = max(self.max_row, r1 - 1)

    def get(self, r, c):
        """The value as a formula reads it: float, Text, bool, error code, None (blank) or UNKNOWN_VALUE."""
        col = self.cols.get(c)
        if col is None or r >= len(col.num):
            return None
        k = int(col.kind[r])
        if k == NUMBER:
            return float(col.num[r])
        if k == BLANK:
            return None
        if k == BOOL:
            return bool(col.num[r])
        if k == TEXT:
            return Text(col.text[r])
        if k == UNKNOWN:
            return UNKNOWN_VALUE
        return error_code(k)

    def slice(self, c, r0, r1):
        """(numbers, kinds) of rows r0..r1 (inclusive) of column c, zero/blank beyond what exists."""
        n = r1 - r0 + 1
        col = self.cols.get(c)
        if col is None:
            return np.zeros(n), np.zeros(n, dtype=np.int8)
        if r1 >= len(col.num):
            col.ensure(r1)
        return col.num[r0:r1 + 1], col.kind[r0:r1 + 1]

    def block(self, r0, c0, r1, c1, formula_cells=None) -> Block:
        """The cells r0..r1 x c0..c1 as a Block (clipped to what the sheet holds); formula_cells(r, c)
        says which are formula cells (LibreOffice's SUM needs it)."""
        r1 = min(r1, max(self.max_row, r0))
        c1 = min(c1, max(list(self.cols) or [c0]))
        # zip of no column would be no row: a block right of every column keeps its rows, each empty
        rows = tuple(zip(*(self.values(c, r0, r1) for c in range(c0, c1 + 1)))) if c1 >= c0 else ((),) * (r1 - r0 + 1)
        forms = None
        if formula_cells is not None:
            forms = tuple(tuple(formula_cells(r, c) for c in range(c0, c1 + 1)) for r in range(r0, r1 + 1))
        return Block(rows, forms, (self.name, r0, c0))

    def values(self, c, r0, r1) -> list:
        """`get` over rows r0..r1 of column c, numbers converted in one numpy call (a block of a whole
        step column is read by every cell of its group)."""
        n = r1 - r0 + 1
        col = self.cols.get(c)
        if col is None:
            return [None] * n
        have = max(0, min(r1 + 1, len(col.num)) - r0)
        out = col.num[r0:r0 + have].tolist() + [None] * (n - have)
        for i in np.flatnonzero(col.kind[r0:r0 + have] != NUMBER).tolist():
            out[i] = self.get(r0 + i, c)
        return out

    def copy(self) -> "SheetValues":
        out = SheetValues(self.name)
        out.max_row = self.max_row
        for c, col in self.cols.items():
            n = Column(1)
            n.num, n.kind, n.text = col.num.copy(), col.kind.copy(), dict(col.text)
            out.cols[c] = n
        return out


def is_clean(kinds) -> np.ndarray:
    """Which entries a number array stands for exactly in arithmetic (numbers and blanks)."""
    return kinds <= CLEAN_MAX


def describe(v) -> str:
    """A value as a report shows it."""
    if isinstance(v, Unknown):
        return "unknown"
    if v is None:
        return "empty"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Text):
        return repr(str(v))
    if is_error(v):
        return v
    v = float(v)
    return repr(v) if v != int(v) or abs(v) >= 1e15 else str(int(v))

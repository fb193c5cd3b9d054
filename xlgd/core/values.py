"""Spreadsheet values, and how a formula sees each kind.

A cell holds a number (float), text (`Text`, a str that is not an error), a boolean, an error (its
code, a plain str such as '#NUM!') or nothing (None); several cells or an array are a `Block`.
`number`, `text`, `truth` and `compare` read a value as arithmetic, the & operator, a condition and
a comparison do, by Excel's rules (numbers < text < booleans; text without regard to case).
Functions taking ranges skip text, booleans and blanks inside them (`Block.numbers`); LibreOffice
counts booleans there (`dialect`).
"""

from __future__ import annotations

import contextvars
import math
import re
from dataclasses import dataclass
from itertools import chain

_FLOAT = {float}
ERRORS = ("#NUM!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NULL!")


class SheetError(Exception):
    """A spreadsheet error value (#NUM!, #DIV/0! ...) raised while evaluating one cell."""

    def __init__(self, code):
        self.code = code


class Text(str):
    """A text value (a plain str in a value position is an error code)."""

    __slots__ = ()

    def __repr__(self):
        return f"Text({str.__repr__(self)})"


def is_error(value) -> bool:
    return isinstance(value, str) and not isinstance(value, Text)


@dataclass(frozen=True)
class Block:
    """A rectangle of values: a range a formula refers to, or an array a function returns.

    values: rows of cell values (float, Text, bool, error code, None);
    formula: for a reference, which cells hold formulas (LibreOffice's SUM adds
    constants and formula results differently, see functions.lo_sum); None for an array;
    ref: (sheet, first row, first col) of a reference, None for an array."""

    values: tuple
    formula: tuple | None = None
    ref: tuple | None = None
    size: tuple | None = None  # (rows, cols) of an address without its values (ROW, ROWS, COLUMNS)
    extent: tuple | None = None  # (rows, cols) a reference names, when its values are clipped to the sheet

    @property
    def shape(self):
        if self.size is not None:
            return self.size
        return len(self.values), (len(self.values[0]) if self.values else 0)

    def cells(self):
        """Every value, row by row."""
        for row in self.values:
            yield from row

    def by_columns(self):
        """(value, is a formula cell) column by column, as LibreOffice walks a range."""
        rows, cols = self.shape
        for c in range(cols):
            yield [(self.values[r][c], bool(self.formula and self.formula[r][c])) for r in range(rows)]

    def numbers(self, dialect="excel"):
        """The numbers of a range (booleans too in LibreOffice), in the order the dialect walks it:
        row by row in Excel, column by column in LibreOffice; the first error raises."""
        if dialect != "libreoffice":
            flat = list(chain.from_iterable(self.values))
            if set(map(type, flat)) <= _FLOAT:  # nothing to skip
                return flat
        out = []
        cells = self.cells() if dialect != "libreoffice" else (v for col in self.by_columns() for v, _ in col)
        for v in cells:
            if isinstance(v, float):
                out.append(v)
            elif isinstance(v, bool):
                if dialect == "libreoffice":
                    out.append(1.0 if v else 0.0)
            elif is_error(v):
                raise SheetError(v)
        return out

    def single(self):
        """The one value of a 1x1 block; #VALUE! for a bigger one (no implicit intersection)."""
        if self.shape == (1, 1):
            return self.values[0][0]
        raise SheetError("#VALUE!")


def array(rows) -> Block:
    """A Block from rows of values (an array result)."""
    return Block(tuple(tuple(r) for r in rows))


HERE = contextvars.ContextVar("xlgd_formula_cell", default=None)  # (row, col) of a cell's plain formula


def each_value(value) -> list:
    """The values of a range or array row by row, or the one value given."""
    return list(value.cells()) if isinstance(value, Block) else [value]


def intersect(value):
    """A reference to a range where one value is expected in a cell's (plain, not array) formula, as Excel
    reads it: the range's cell on the formula's row (a column range) or column (a row range), #VALUE! when
    there is none (implicit intersection). Anything else is returned as it is."""
    here = HERE.get()
    if here is None or not isinstance(value, Block) or value.ref is None or value.size is not None:
        return value
    rows, cols = value.extent or value.shape
    if (rows, cols) == (1, 1):
        return value
    (row, col), (_, r0, c0) = here, value.ref
    if cols == 1 and r0 <= row < r0 + rows:
        i, j = row - r0, 0
    elif rows == 1 and c0 <= col < c0 + cols:
        i, j = 0, col - c0
    else:
        raise SheetError("#VALUE!")
    return value.values[i][j] if i < len(value.values) and j < len(value.values[i]) else None


def spread_at(value, i, j):
    """Row i, column j of an array spread to a larger shape (a value everywhere, a single row down, a
    single column across); #N/A beyond it; blank past a whole row or column's last cell."""
    if not isinstance(value, Block):
        return value
    h, w = value.extent or value.shape
    if (i >= h and h != 1) or (j >= w and w != 1):
        raise SheetError("#N/A")
    i, j = 0 if h == 1 else i, 0 if w == 1 else j
    if i >= len(value.values) or j >= len(value.values[i]):
        return None  # a reference's cell past what the sheet holds: blank
    return value.values[i][j]


def scalar(value):
    """A value where one value is expected: a 1x1 block becomes its value."""
    return value.single() if isinstance(value, Block) else value


def number(value) -> float:
    """value in arithmetic: a float, or SheetError."""
    if isinstance(value, float):
        return value
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, Text):
        return _text_number(value)
    if isinstance(value, str):
        raise SheetError(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Block):
        return number(value.single())
    raise SheetError("#VALUE!")


class NotEvaluated(Exception):
    """A value whose Excel semantics xlgd does not reproduce (a date typed as text); `reason` says what.
    The evaluator leaves the cell unchecked with that reason, never a guessed value."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Text Excel may read as a date or a time in arithmetic ("29/02/1900", "1-Jan", "12:30"): its serial
# depends on the machine's locale, which the file does not record.
_DATE_LIKE = re.compile(r"\d\s*[/:\-.]\s*\d|\d\s*[/\-\s]\s*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
                        re.IGNORECASE)


def _text_number(t: str) -> float:
    s = t.strip()
    try:
        if s and s[0] not in "nNiI" and "_" not in s:  # no 'nan'/'inf', no 1_000
            return float(s)
    except ValueError:
        pass
    if _DATE_LIKE.search(s):
        raise NotEvaluated(f'reads the text "{s}" as a number, which Excel takes as a date or time '
                           "by the locale; xlgd does not parse dates")
    raise SheetError("#VALUE!")


def text(value) -> str:
    """value where text is expected (the & operator): a str, or SheetError."""
    value = scalar(value)
    if isinstance(value, Text):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        raise SheetError(value)
    return general(float(value))


def general(value: float) -> str:
    """A number as Excel's General format writes it in text: 15 significant digits, no trailing zeros."""
    if value == 0:
        return "0"
    if 1e-5 <= abs(value) < 1e15:
        s = f"{value:.15g}"
        if "e" not in s:
            return s
    s = f"{value:.14E}"
    mant, exp = s.split("E")
    mant = mant.rstrip("0").rstrip(".")
    e = int(exp)
    return f"{mant}E{'+' if e >= 0 else '-'}{abs(e):02d}"


def truth(value) -> bool:
    """value as a condition (IF, AND, NOT): a bool, or SheetError."""
    value = scalar(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0.0
    if value is None:
        return False
    if isinstance(value, Text):
        u = value.strip().upper()
        if u in ("TRUE", "FALSE"):
            return u == "TRUE"
        raise SheetError("#VALUE!")
    if isinstance(value, str):
        raise SheetError(value)
    return bool(value)


_RANK = {float: 0, Text: 1, bool: 2}


def compare(op: str, a, b) -> bool:
    """a op b for the six comparisons (= <> < > <= >=), Excel's ordering of kinds."""
    a, b = scalar(a), scalar(b)
    for v in (a, b):
        if is_error(v):
            raise SheetError(v)
    a, b = _blank_as(a, b), _blank_as(b, a)
    ka, kb = _RANK[type(a)], _RANK[type(b)]
    if ka != kb:
        c = -1 if ka < kb else 1
    elif ka == 1:
        x, y = a.upper(), b.upper()
        c = (x > y) - (x < y)
    else:
        x, y = float(a), float(b)
        c = (x > y) - (x < y)
    return _ORDER[op](c)


_ORDER = {"=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0, ">": lambda c: c > 0,
          "<=": lambda c: c <= 0, ">=": lambda c: c >= 0}  # an operator's test of compare's -1, 0 or 1


def _blank_as(value, other):
    if value is not None:
        return value if not isinstance(value, int) or isinstance(value, bool) else float(value)
    if isinstance(other, Text):
        return Text("")
    if isinstance(other, bool):
        return False
    return 0.0


def same(a, b) -> bool:
    """Two cell values are the same value: numbers bit-equal in value (inf, -inf and NaN only equal
    to themselves), texts and error codes equal, the same kind."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    return a == b

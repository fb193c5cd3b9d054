"""Excel's IS functions (ISBLANK, ISERROR, ISNUMBER, ISTEXT ...), registered in the one function table.

Each tests one value and never raises: an error argument is a value it tests. Given a range or an
array in an array formula, it tests cell by cell and gives an array of the same shape; in a plain
formula a range is read on the formula's row or column first (`values.intersect`), as Excel does.
Microsoft's page for all of them: https://support.microsoft.com/office/is-functions-0f2d7971-6019-40a0-a171-f2d869135665
"""

from __future__ import annotations

from dataclasses import replace

from .functions import FUNCTIONS, MS, Function, register
from .values import (
    Block,
    NotEvaluated,
    SheetError,
    Text,
    intersect,
    is_error,
    spread_at,
)

PAGE = MS + "is-functions-0f2d7971-6019-40a0-a171-f2d869135665"


def tested(expr, evaluate_arg):
    """The value an IS function tests: errors caught as their codes, a plain formula's range intersected."""
    try:
        return intersect(evaluate_arg(expr))
    except SheetError as e:
        return e.code


def cell_by_cell(v, one):
    """one(value) of a single value, or of each cell of a Block (an array of the same shape)."""
    if not isinstance(v, Block):
        return one(v)
    rows, cols = v.extent or v.shape
    if (rows, cols) == (1, 1):
        return one(spread_at(v, 0, 0))
    return Block(tuple(tuple(one(spread_at(v, i, j)) for j in range(cols)) for i in range(rows)))


def _is(name, test):
    def lazy(args, evaluate_arg, dialect):
        v = tested(args[0], evaluate_arg)
        if name == "ISLOGICAL" and dialect == "libreoffice" and isinstance(v, Block):
            raise NotEvaluated("uses ISLOGICAL over an array, where LibreOffice holds TRUE and FALSE as numbers "
                               "whose reading xlgd does not reproduce")
        return cell_by_cell(v, test)

    return lazy


TESTS = {
    "ISBLANK": lambda v: v is None,
    "ISERR": lambda v: is_error(v) and v != "#N/A",
    "ISERROR": is_error,
    "ISLOGICAL": lambda v: isinstance(v, bool),
    "ISNA": lambda v: v == "#N/A" and is_error(v),
    "ISNONTEXT": lambda v: not isinstance(v, Text),
    "ISNUMBER": lambda v: isinstance(v, float),
    "ISTEXT": lambda v: isinstance(v, Text),
}

for _name, _test in TESTS.items():
    if _name in FUNCTIONS:  # ISERROR: its numpy forms are in functions.py
        register(replace(FUNCTIONS[_name], lazy=_is(_name, _test), page=PAGE))
    else:
        register(Function(_name, 1, 1, lazy=_is(_name, _test), magnitude="exact", page=PAGE))

"""Excel's lookup, reference, choice and text functions, registered in the one function table (`functions.FUNCTIONS`).

Each entry names Microsoft's reference page beside it. Approximate lookups
(MATCH, VLOOKUP, HLOOKUP, LOOKUP without an exact match type) search as
Excel does, by bisection, so on data that is not sorted they give Excel's
answer, not the first or last value that fits (`approximate`).
"""

from __future__ import annotations

from dataclasses import replace

from .functions import FUNCTIONS, MS, Function, register
from .ranges import approximate, exact_position
from .values import (
    Block,
    SheetError,
    Text,
    compare,
    each_value,
    intersect,
    is_error,
    number,
    scalar,
    spread_at,
    text,
    truth,
)


def _table(value) -> list:
    if isinstance(value, Block):
        return [list(r) for r in value.values]
    return [[value]]


def _lookup_in(rows, x, col, approx, across=False):
    """VLOOKUP (across=False: search the first column, return column `col`) and HLOOKUP (across=True)."""
    if is_error(x):
        raise SheetError(x)
    grid = [list(c) for c in zip(*rows)] if across else rows
    col = int(col)
    if col < 1:
        raise SheetError("#VALUE!")
    if not grid or col > len(grid[0]):
        raise SheetError("#REF!")
    keys = [r[0] for r in grid]
    i = approximate(keys, x) if approx else exact_position(keys, x)
    v = grid[i][col - 1]
    return 0.0 if v is None else v


def _first(v):
    """A column or row index given as an array: its first value (Excel's `{=HLOOKUP(C44:Q44,T,{2,1},0)}` reads
    row 2 for every cell); a plain formula's range: its cell on the formula's row or column."""
    v = intersect(v)
    return v.values[0][0] if isinstance(v, Block) and v.values and v.values[0] else v


def _vlookup(args, dialect):
    approx = truth(args[3]) if len(args) > 3 and args[3] is not None else True
    return _lookup_in(_table(args[1]), scalar(args[0]), number(_first(args[2])), approx)


def _hlookup(args, dialect):
    approx = truth(args[3]) if len(args) > 3 and args[3] is not None else True
    return _lookup_in(_table(args[1]), scalar(args[0]), number(_first(args[2])), approx, across=True)


def _lookup(args, dialect):
    """LOOKUP(x, vector, [result]); LOOKUP(x, array): the first row (wider than tall) or column, the last
    row or column's value."""
    x, rows = scalar(args[0]), _table(args[1])
    if is_error(x):
        raise SheetError(x)
    wide = len(rows[0]) > len(rows)
    keys = rows[0] if wide else [r[0] for r in rows]
    i = approximate(keys, x)
    if len(args) > 2:
        table = _table(args[2])
        if len(table) > 1 and len(table[0]) > 1:
            raise SheetError("#N/A")  # a result that is no single row or column
        res = [v for r in table for v in r]
        if i >= len(res):
            raise SheetError("#N/A")
        v = res[i]
    else:
        v = rows[-1][i] if wide else rows[i][-1]
    return 0.0 if v is None else v


def _choice(k, count) -> int:
    k = int(number(scalar(k)))
    if k < 1 or k >= count:
        raise SheetError("#VALUE!")
    return k


def _choose_lazy(args, evaluate_arg, dialect):
    """CHOOSE: the k-th value, only it evaluated; over an array of k (an array formula's `CHOOSE({1,2},A1:A3,
    B1:B3)`), cell by cell from the values chosen, spread to the largest of their shapes."""
    k = intersect(evaluate_arg(args[0]))
    if not isinstance(k, Block):
        return evaluate_arg(args[_choice(k, len(args))])
    picks = {}
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            n = caught_code(lambda i=i, j=j: _choice(spread_at(k, i, j), len(args)))
            if not is_error(n) and n not in picks:
                picks[n] = caught_code(lambda n=n: evaluate_arg(args[n]))
    shapes = [b.extent or b.shape for b in (k, *picks.values()) if isinstance(b, Block)]
    rows, cols = max(s[0] for s in shapes), max(s[1] for s in shapes)

    def one(i, j):
        return spread_at(picks[_choice(spread_at(k, i, j), len(args))], i, j)

    return Block(tuple(tuple(caught_code(lambda i=i, j=j: one(i, j)) for j in range(cols)) for i in range(rows)))


def _switch_lazy(args, evaluate_arg, dialect):
    """SWITCH: the value after the first case equal to x, else the default, else #N/A; over an array x
    (an array formula's `SWITCH(A45:C45, ...)`), cell by cell."""
    x = intersect(evaluate_arg(args[0]))
    if isinstance(x, Block):
        return _grid_of(x, lambda i, j: caught_code(lambda: _switch_one(spread_at(x, i, j), args[1:], evaluate_arg)))
    return _switch_one(scalar(x), args[1:], evaluate_arg)


def _switch_one(x, pairs, evaluate_arg):
    if is_error(x):
        raise SheetError(x)
    for i in range(0, len(pairs) - 1, 2):
        v = scalar(evaluate_arg(pairs[i]))
        if is_error(v):
            raise SheetError(v)
        if _switch_equal(v, x):
            return scalar(evaluate_arg(pairs[i + 1]))
    if len(pairs) % 2 == 1:
        return scalar(evaluate_arg(pairs[-1]))
    raise SheetError("#N/A")


def caught_code(function):
    """The value `function()` gives, or the code of the sheet error it raises."""
    try:
        return function()
    except SheetError as e:
        return e.code


def _switch_equal(value, x) -> bool:
    """SWITCH's test (pycel's logical.xlsx as Excel saved it): same kind and equal (texts without case); a
    blank equals a blank and 0, not "" nor FALSE."""
    if value is None or x is None:
        other = x if value is None else value
        return other is None or (type(other) is float and other == 0.0)
    return type(value) is type(x) and compare("=", value, x)


def _concatenate(args, dialect):
    return Text("".join(text(a) for a in args))


def _concat(args, dialect):
    out = []
    for a in args:
        out += [text(v) for v in each_value(a)]
    return Text("".join(out))


def _row(args, dialect):
    """ROW(ref): its first row; over several rows, the column of their numbers (an array)."""
    b = args[0]
    if not isinstance(b, Block) or b.ref is None:
        raise SheetError("#VALUE!")
    n = b.shape[0]
    return float(b.ref[1]) if n == 1 else Block(tuple((float(b.ref[1] + i),) for i in range(n)))


def _column(args, dialect):
    """COLUMN(ref): its first column; over several columns, the row of their numbers (an array)."""
    b = args[0]
    if not isinstance(b, Block) or b.ref is None:
        raise SheetError("#VALUE!")
    n = b.shape[1]
    return float(b.ref[2]) if n == 1 else Block((tuple(float(b.ref[2] + j) for j in range(n)),))


def _single_lazy(args, evaluate_arg, dialect):
    """`@x` (written `_xlfn.SINGLE(x)`): one value, a range read on the formula's row or column."""
    return scalar(intersect(evaluate_arg(args[0])))


def _text_fn(function):
    """A text function of a text and whole numbers: function(str, *ints) -> str or number."""
    def f(args, dialect):
        out = function(text(args[0]), *[number(a) for a in args[1:] if a is not None])
        return Text(out) if isinstance(out, str) else float(out)

    return f


def _count_arg(n) -> int:
    if n < 0:
        raise SheetError("#VALUE!")
    return int(n)


def _mid(t, start, n):
    if start < 1:
        raise SheetError("#VALUE!")
    return t[int(start) - 1:int(start) - 1 + _count_arg(n)]


def _exact(args, dialect):
    return text(args[0]) == text(args[1])


def _shape(i):
    def f(args, dialect):
        b = args[0]
        return float(b.shape[i]) if isinstance(b, Block) else 1.0

    return f


def _reg(name, lo, hi, page, **kw):
    """One function, with its Microsoft reference page (`url`)."""
    register(Function(name, lo, hi, page=MS + page, magnitude="exact", **kw))


_reg("ROW", 1, 1, "row-function-3a63b74a-c4d0-4093-b49a-e76eb49a6d8d", exact=_row, args=("ref",),
     array_result=True)
_reg("COLUMN", 1, 1, "column-function-44e8c754-711c-4df3-9da4-47a55042554b", exact=_column, args=("ref",),
     array_result=True)
_reg("ROWS", 1, 1, "rows-function-b592593e-3fc2-47f2-bec1-bda493811597", exact=_shape(0), args=("ref",))
_reg("COLUMNS", 1, 1, "columns-function-4e8e7b4e-e603-43e8-b177-956088fa48ca", exact=_shape(1), args=("ref",))
_reg("VLOOKUP", 3, 4, "vlookup-function-0bbc8083-26fe-4963-8ab8-93a18ad188a1",
     exact=_vlookup, args=("value", "range", "range", "value"))
_reg("HLOOKUP", 3, 4, "hlookup-function-a3034eec-b719-4ba3-bb65-e1ad662ed95f",
     exact=_hlookup, args=("value", "range", "range", "value"))
_reg("LOOKUP", 2, 3, "lookup-function-446d94af-663b-451d-8251-369d5e3864cb",
     exact=_lookup, args=("value", "range", "range"))
_reg("CHOOSE", 2, 255, "choose-function-fc5c184f-cb62-4ec7-a46e-38653b98f5bc", lazy=_choose_lazy)
_reg("SWITCH", 3, 254, "switch-function-47ab33c0-28ce-4530-8a45-d532ec4aa25e", lazy=_switch_lazy)
_reg("CONCATENATE", 1, 255, "concatenate-function-8f8ae884-2ca8-4f7a-b093-75d702bea31d",
     exact=_concatenate, args=("value",))
_reg("CONCAT", 1, 254, "concat-function-9b1a9a3f-94ff-41af-9736-694cbd6b4ca2",
     exact=_concat, args=("range",))


def _if_lazy(args, evaluate_arg, dialect):
    """IF: only the branch taken is evaluated; a condition that is an array (an array formula's `IF(A1:A3>0,
    ...)`) picks cell by cell from both branches."""
    c = intersect(evaluate_arg(args[0]))
    if not isinstance(c, Block):
        if truth(c):
            return evaluate_arg(args[1])
        return evaluate_arg(args[2]) if len(args) > 2 else False
    yes, no = evaluate_arg(args[1]), (evaluate_arg(args[2]) if len(args) > 2 else False)

    def one(i, j):
        try:
            return spread_at(yes if truth(spread_at(c, i, j)) else no, i, j)
        except SheetError as e:
            return e.code

    return _grid_of(c, one)


def _if_caught(caught):
    """IFERROR (caught: any error) and IFNA (#N/A only): the value, or the fallback where it is an error
    caught; cell by cell over an array."""
    def lazy(args, evaluate_arg, dialect):
        try:
            v = intersect(evaluate_arg(args[0]))
        except SheetError as e:
            v = e.code
        if not isinstance(v, Block):
            v = scalar(v) if not is_error(v) else v
            return evaluate_arg(args[1]) if caught(v) else v
        fallback = evaluate_arg(args[1])

        def one(i, j):
            x = spread_at(v, i, j)
            try:
                return spread_at(fallback, i, j) if caught(x) else x
            except SheetError as e:
                return e.code

        return _grid_of(v, one)

    return lazy


def _grid_of(b: Block, one) -> Block:
    rows, cols = b.extent or b.shape
    return Block(tuple(tuple(one(i, j) for j in range(cols)) for i in range(rows)))


register(replace(FUNCTIONS["IF"], lazy=_if_lazy))
register(replace(FUNCTIONS["IFERROR"], lazy=_if_caught(is_error)))
_reg("IFNA", 2, 2, "ifna-function-6626c961-a569-42fc-a49d-79b4951fd461",
     lazy=_if_caught(lambda v: is_error(v) and v == "#N/A"))

_reg("SINGLE", 1, 1, "implicit-intersection-operator-ce3be07b-0101-4450-a24e-c1c999be2b34", lazy=_single_lazy)
_reg("LEN", 1, 1, "len-lenb-functions-29236f94-cedc-429d-affd-b5e33d2c67cb", exact=_text_fn(len), args=("value",))
_reg("LEFT", 1, 2, "left-leftb-functions-9203d2d2-7960-479b-84c6-1ea52b99640c",
     exact=_text_fn(lambda t, n=1: t[:_count_arg(n)]), args=("value", "number"))
_reg("RIGHT", 1, 2, "right-rightb-functions-240267ee-9afa-4639-a02b-f19e1786cf2f",
     exact=_text_fn(lambda t, n=1: t[max(0, len(t) - _count_arg(n)):] if n else ""), args=("value", "number"))
_reg("MID", 3, 3, "mid-midb-functions-d5f9e25c-d7d6-472e-b568-4ecb12433028", exact=_text_fn(_mid),
     args=("value", "number"))
_reg("UPPER", 1, 1, "upper-function-c11f29b3-d1a3-4537-8df6-04d0049963d6", exact=_text_fn(str.upper), args=("value",))
_reg("LOWER", 1, 1, "lower-function-3f21df02-a80c-44b2-afaf-81358f9fdeb4", exact=_text_fn(str.lower), args=("value",))
_reg("TRIM", 1, 1, "trim-function-410388fa-c5df-49c6-b16c-9e5630b479f9",
     exact=_text_fn(lambda t: " ".join(w for w in t.split(" ") if w)),
     args=("value",))
_reg("EXACT", 2, 2, "exact-function-d3087698-fc15-4a15-9631-12575cf29926", exact=_exact, args=("value",))

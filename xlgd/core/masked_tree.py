"""A column expression evaluated for many configurations at once: (values, error codes) per node.

`masked_value(expr, env)` is `expr.excel_value` over arrays of configurations, through the source
`masked_py` writes (the engine's batch rows are the same source); the operators over arrays are in
`masked.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from . import functions, masked
from .expr import LEAVES, Bin, Cmp, Const, Expr, Fn, Neg, Num, squares_as_product
from .values import Text


def masked_py(expr: Expr, var: Callable[[Expr], tuple], emit: Callable[[str], None], dialect: str = "excel",
              prefix: str = "t") -> tuple:
    """`masked_value` as Python source: statements go to emit(line); returns (values, codes) source.

    var(leaf) gives the leaf's (values, codes) source, codes 'None' where it
    is never an error; leaves are numbers (or errors held as values: see
    `masked.operand_error`). The statements call
    masked.masked_arith / masked_compare, functions.masked_call as `_arith`, `_cmp`,
    `_call` (the engine's batch namespace), name their results prefix_1,
    prefix_2 ..., and run under np.errstate(all="ignore"). Inside, each node
    also knows where its value is a boolean (`masked.masked_compare`).
    """
    count = [0]

    def tmp(call, kinds=None):
        count[0] += 1
        t = f"{prefix}_{count[0]}"
        if kinds is None:
            emit(f"{t}, {t}e, {t}k = {call}")
            return t, f"{t}e", f"{t}k"
        emit(f"{t}, {t}e = {call}")
        return t, f"{t}e", kinds

    def go(n):
        if isinstance(n, Num):
            return f"_f64({n.value!r})", "None", "None"
        if isinstance(n, Const):
            return _masked_const(n.value)
        if isinstance(n, LEAVES):
            v, c = var(n)
            return v, (c if c == "None" else f"_held({c})"), "None"
        if isinstance(n, Neg):
            v, c, _ = go(n.arg)
            return f"(-{v})", (c if c == "None" else f"_raised({c})"), "None"
        if isinstance(n, Cmp):
            (a, ea, ka), (b, eb, kb) = go(n.left), go(n.right)
            return tmp(f"_cmp({n.op!r}, {a}, {ea}, {ka}, {b}, {eb}, {kb})", "True")
        if isinstance(n, Bin):
            if n.op == "&":
                raise TypeError("no value over arrays for &")
            (a, ea, _), (b, eb, _) = go(n.left), go(n.right)
            return tmp(f"_arith({n.op!r}, {a}, {ea}, {b}, {eb}, {dialect!r}, {squares_as_product(n, dialect)})",
                       "None")
        if isinstance(n, Fn):
            args = ", ".join(f"({v}, {c}, {k})" for v, c, k in map(go, n.args))
            return tmp(f"_call({n.name!r}, [{args}], {dialect!r})")
        raise TypeError(n)

    v, c, _ = go(expr)
    return v, (c if c == "None" else f"_raised({c})")


def _masked_const(value) -> tuple:
    if isinstance(value, bool):
        return f"_f64({float(value)!r})", "None", "True"
    if isinstance(value, str) and not isinstance(value, Text):  # an error literal: a value, as a cell's error
        return "_f64(np.nan)", f"np.int8({-masked.CODE[value]})", "None"
    raise TypeError(f"no value over arrays for the literal {value!r}")


def masked_value(expr: Expr, env: Callable[[Expr], tuple], dialect: str = "excel") -> tuple:
    """`excel_value` for many configurations at once: (values, codes).

    env(leaf) gives (values, codes) -- codes an int8 array of `masked.CODE`
    values (0: a number) or None where the leaf is never an error. Values
    where codes are non-zero are meaningless; a boolean is 1.0 or 0.0; both
    branches of an IF are evaluated and one is taken per configuration, as
    IF takes one. The tree is compiled once (`masked_py`), the engine's rows
    are the same source.
    """
    fn, slots = _masked_function(expr, dialect)
    with np.errstate(all="ignore"):
        return fn([env(leaf) for leaf in slots])


@lru_cache(maxsize=4096)
def _masked_function(expr, dialect):
    slots, lines = [], ["def f(L):"]

    def var(leaf):
        slots.append(leaf)
        return f"L[{len(slots) - 1}][0]", f"L[{len(slots) - 1}][1]"

    v, c = masked_py(expr, var, lambda line: lines.append("    " + line), dialect)
    lines.append(f"    return {v}, {c}")
    return functions.compiled("\n".join(lines), "f", True, dialect, "<xlgd masked_value>"), tuple(slots)

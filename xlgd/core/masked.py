"""Spreadsheet values over arrays of configurations: values beside int8 error codes.

`masked_tree.masked_value` evaluates a tree for many configurations at once, each node a triple (values,
codes, kinds): codes an int8 array of `CODE` values (0: a number) or None where no configuration
can hold an error, kinds True where the value is a boolean (None where it never is). These are
`functions.arith`, `values.compare` and the functions' `exact` over arrays: the same doubles, and
errors in `excel_value`'s order. An error raised while an operand is computed (1/0: a positive
code) stops there; an error *value* (a cell holding #N/A: a negative code) is raised only where an
operator or function converts it, so in A1/SIN(B1) with both cells errors, SIN raises B1's
first (`operand_error`). Values under an error code are meaningless.
"""

from __future__ import annotations

import math

import numpy as np

from .ranges import E48, approx_equal
from .values import ERRORS

# Error values as small integers, for arrays of cells (0: not an error): CODE["#NUM!"] == 1.
CODE = {e: i + 1 for i, e in enumerate(ERRORS)}
NUM, DIV0, VALUE, NA = CODE["#NUM!"], CODE["#DIV/0!"], CODE["#VALUE!"], CODE["#N/A"]


def error_name(code: int) -> str:
    """The error value an integer code stands for (CODE's inverse)."""
    return ERRORS[code - 1]


TINY = 2.2250738585072014e-308  # the smallest normal double; LibreOffice calls anything below it #NUM!


def _snap(r, a, b, same_sign):
    d = np.abs(r)
    hit = same_sign & (d < np.abs(a) * E48) & (d < np.abs(b) * E48)
    return np.where(hit, 0.0, r)


def snapped_sub(a, b):
    return _snap(a - b, a, b, ((a < 0) & (b < 0)) | ((a > 0) & (b > 0)))


def snapped_add(a, b):
    return _snap(a + b, a, -b, ((a < 0) & (b > 0)) | ((a > 0) & (b < 0)))


def first_error(*codes):
    """The first error of the operands, per configuration (left to right); None if none can be one."""
    out = None
    for c in reversed(codes):
        if c is not None:
            out = c if out is None else np.where(c, c, out)
    return out


def operand_error(*codes):
    """The raised error (a positive code) of operands evaluated in turn, then converted in turn:
    the first raised error of any, else the first error value."""
    codes = [c for c in codes if c is not None]
    if len(codes) < 2:
        return raised(codes[0]) if codes else None
    up = first_error(*(np.maximum(c, 0) for c in codes))
    held = first_error(*(np.maximum(np.negative(c), 0) for c in codes))
    return np.where(up != 0, up, held)


def raised(codes):
    """Error values raised (converted): positive codes."""
    return None if codes is None else np.abs(codes)


def held(codes):
    """Errors as values (a leaf, a cell): negative codes, raised only where converted (`operand_error`)."""
    return None if codes is None else np.negative(codes)


def masked_arith(op: str, a, a_codes, b, b_codes, dialect: str = "excel", square: bool = False):
    """`arith` over arrays: (values, codes). Call it under np.errstate(all="ignore")."""
    lo = dialect == "libreoffice"
    if op == "+":
        r = snapped_add(a, b) if lo else a + b
    elif op == "-":
        r = snapped_sub(a, b) if lo else a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        r = a / b
    elif square:
        r = a * a
    else:
        r = _pow_exactly(a, b, lo)  # math.pow, as `arith`: np.power takes shortcuts (x^0.5 is sqrt: -0.0)
    fresh = ~np.isfinite(r)
    if lo:
        fresh |= (r != 0.0) & (np.abs(r) < TINY)
    fresh = fresh.view(np.int8) if isinstance(fresh, np.ndarray) else np.int8(fresh)  # NUM == 1
    if op == "/":
        fresh = np.where(b == 0.0, DIV0, fresh)
    elif op == "^" and not square:
        fresh = np.where((a == 0.0) & (b < 0), NUM if lo else DIV0, fresh)
        if not lo:
            fresh = np.where((a == 0.0) & (b == 0.0), NUM, fresh)  # Excel's 0^0
    return r, first_error(operand_error(a_codes, b_codes), fresh)


_ORDERED = {"=": np.equal, "<>": np.not_equal, "<": np.less, ">": np.greater, "<=": np.less_equal,
            ">=": np.greater_equal}


def masked_compare(op: str, a, a_codes, a_kinds, b, b_codes, b_kinds):
    """`values.compare` over arrays: (values 0/1, codes); a boolean ranks above every number."""
    c = np.greater(a, b).astype(np.int8) - np.less(a, b).astype(np.int8)
    if a_kinds is not None or b_kinds is not None:
        ra, rb = _flag(a_kinds), _flag(b_kinds)
        c = np.where(np.not_equal(ra, rb), np.where(rb, -1, 1), c)
    return _ORDERED[op](c, 0).astype(np.float64), operand_error(a_codes, b_codes)


def _flag(kinds):
    return False if kinds is None else kinds


def masked_iserror(codes):
    """ISERROR over arrays: 1.0 where an error."""
    return 0.0 if codes is None else np.not_equal(codes, 0).astype(np.float64)


def masked_sqrt(arg, dialect):
    v, e, _ = arg
    neg = np.less(v, 0.0)
    code = np.where(neg, VALUE if dialect == "libreoffice" else NUM, 0).astype(np.int8)
    return np.sqrt(v), first_error(raised(e), code), None


def masked_pick(args, better):
    """MAX/MIN of values (`ranges.extreme` of scalars: Python's max/min, the first of equal values wins)."""
    r = args[0][0]
    for v, _, _ in args[1:]:
        r = np.where(better(v, r), v, r)
    return r, operand_error(*(e for _, e, _ in args)), None  # arguments of kind 'range': all evaluated first


def masked_if(cond, yes, no=(0.0, None, True)):
    """IF: one branch per configuration, handed on as it is (an error value stays one); without
    a third argument FALSE (a boolean, 0)."""
    take = np.not_equal(cond[0], 0.0)
    codes = kinds = None
    if yes[1] is not None or no[1] is not None:
        codes = np.where(take, 0 if yes[1] is None else yes[1], 0 if no[1] is None else no[1])
    if yes[2] is not None or no[2] is not None:
        kinds = np.where(take, _flag(yes[2]), _flag(no[2]))
    return np.where(take, yes[0], no[0]), first_error(raised(cond[1]), codes), kinds


def lo_power(a: float, b: float) -> float:
    """a ^ b as LibreOffice computes it (sc::power): a negative base with 1/b an odd whole number is an odd
    root, -((-a) ^ b) (`=(-8)^(1/3)` is -2, where Excel gives #NUM!); anything else C's pow."""
    if a < 0 and b != 0.0:
        f = 1.0 / b + (-0.5 if b < 0 else 0.5)
        if abs(f) < 2.0**63:
            i = int(f)
            if i % 2 != 0 and approx_equal(1.0 / i, b):
                return -math.pow(-a, b)
    return math.pow(a, b)


def _pow_exactly(a, b, lo=False):
    power = lo_power if lo else math.pow

    def one(x, y):
        try:
            return power(x, y)
        except (OverflowError, ValueError):
            return math.nan

    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.array([one(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist())]).reshape(a.shape)

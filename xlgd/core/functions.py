"""Spreadsheet functions and operators, each defined once.

A function used in a formula needs five things, and they used to live in
four modules: its Excel name and arity (for the formula parser), its exact
value with spreadsheet error semantics (for `expr.excel_value`), a numpy
version for the engine's compiled step (scalars, and arrays for a batch of
configurations), and how far rounding of its inputs can move its result
(for `verify`'s consistency check on 15-digit files). Here each is one
`Function` in `FUNCTIONS`; the parser, the exact evaluator, the engine and
the checker all read this table.

Error semantics follow the spreadsheet, not Python: an error argument
propagates (left to right), SQRT of a negative is #NUM! in Excel and
#VALUE! in LibreOffice (the `dialect`), and lazy functions (IF, ISERROR)
evaluate their arguments themselves, so IF only evaluates the branch it
takes and ISERROR turns an error into TRUE.

Argument kinds: every function here takes scalars. The next functions (SUM,
SUMPRODUCT, INDEX, MATCH, MMULT ...) take ranges or arrays; `Function.args`
names the kind per position ("scalar" now; "range" / "array" then), so an
evaluator can decide whether to hand a function a value or a block of cells
before calling `exact`.

Operators sit beside the functions: `arith(op, a, b, dialect)` is the exact
meaning of + - * / ^ (LibreOffice's near-cancellation snap and underflow
#NUM! included) and `numpy_namespace` the engine's helpers for the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

ERRORS = ("#NUM!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NULL!")
DIALECTS = ("excel", "libreoffice")
# Error values as small integers, for arrays of cells (0: not an error): CODE["#NUM!"] == 1.
CODE = {e: i + 1 for i, e in enumerate(ERRORS)}
NUM, DIV0, VALUE, NA = CODE["#NUM!"], CODE["#DIV/0!"], CODE["#VALUE!"], CODE["#N/A"]


def error_name(code: int) -> str:
    """The error value an integer code stands for (CODE's inverse)."""
    return ERRORS[code - 1]

_E48 = 2.0**-48
TINY = 2.2250738585072014e-308  # the smallest normal double; LibreOffice calls anything below it #NUM!


class SheetError(Exception):
    """A spreadsheet error value (#NUM!, #DIV/0! ...) raised while evaluating one cell."""

    def __init__(self, code):
        self.code = code


def approx_equal(a: float, b: float) -> bool:
    """rtl::math::approxEqual as LibreOffice 7.x uses it in + and -."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    return d < abs(a) * _E48 and d < abs(b) * _E48


def finite(v, code="#NUM!"):
    if math.isnan(v) or math.isinf(v):
        raise SheetError(code)
    return v


# ------------------------------------------------------------------ operators
def arith(op: str, a: float, b: float, dialect: str = "excel", square: bool = False) -> float:
    """a op b as the spreadsheet computes it; `square`: a ^ 2 written as a literal 2 (computed a*a)."""
    if op == "+":
        if dialect == "libreoffice" and ((a < 0 < b) or (b < 0 < a)) and approx_equal(a, -b):
            return 0.0
        r = a + b
    elif op == "-":
        if dialect == "libreoffice" and ((a < 0 and b < 0) or (a > 0 and b > 0)) and approx_equal(a, b):
            return 0.0
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if b == 0.0:
            raise SheetError("#DIV/0!")
        r = a / b
    else:  # ^
        r = _power(a, b, square)
    r = finite(r)
    if dialect == "libreoffice" and r != 0.0 and abs(r) < TINY:
        raise SheetError("#NUM!")  # LibreOffice reports underflow, Excel gives 0
    return r


def _power(a, b, square):
    if a == 0.0 and b < 0:
        raise SheetError("#DIV/0!")
    if square:
        return a * a
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        raise SheetError("#NUM!") from None


def compare(op: str, a: float, b: float) -> float:
    return 1.0 if (a > b if op == ">" else a < b) else 0.0


# ------------------------------------------------------------------ functions
@dataclass(frozen=True)
class Function:
    """One spreadsheet function: everything the parser, evaluators and checker need."""

    name: str
    min_args: int
    max_args: int | None  # None: any number
    exact: Callable | None = None  # (float args, dialect) -> float; raises SheetError
    scalar: Callable | None = None  # numpy on float64 scalars (the engine)
    batch: Callable | None = None  # numpy on arrays: one value per configuration
    lazy: Callable | None = None  # (arg exprs, evaluate) -> float: evaluates its own arguments
    volatile: bool = False  # a new value on every recalculation (RAND, NOW, OFFSET ...)
    # How rounding of the inputs moves the result (verify on 15-digit files):
    # 'max' -- at most as much as the largest argument's magnitude; 'same' --
    # the function applied to the argument's magnitude (monotone: SQRT);
    # 'branches' -- IF: the larger branch; 'exact' -- 0 (a flag or an error).
    magnitude: str = "max"
    args: tuple = ("scalar",)  # argument kind per position (the last one repeats)
    # The exact value over arrays (a batch of configurations): ([(values, codes)], dialect) ->
    # (values, codes), codes None where no argument can be an error (`masked_call`).
    masked: Callable | None = None
    # May turn a non-finite argument into a finite result (MAX(-inf, 1), IF, ISERROR): the
    # engine's batch fast path watches such arguments (`engine.Program`).
    absorbs: bool = False

    @property
    def evaluable(self) -> bool:
        return self.exact is not None or self.lazy is not None

    def arity_ok(self, n: int) -> bool:
        return n >= self.min_args and (self.max_args is None or n <= self.max_args)

    def arg_kind(self, i: int) -> str:
        return self.args[min(i, len(self.args) - 1)] if self.args else "scalar"


FUNCTIONS: dict[str, Function] = {}


def register(f: Function) -> Function:
    FUNCTIONS[f.name] = f
    return f


def get(name: str) -> Function | None:
    return FUNCTIONS.get(name.upper())


def _sqrt(args, dialect):
    if args[0] < 0:
        raise SheetError("#VALUE!" if dialect == "libreoffice" else "#NUM!")
    return math.sqrt(args[0])


def _if_lazy(args, ev):
    return ev(args[1] if ev(args[0]) != 0.0 else args[2])


def _iserror_lazy(args, ev):
    try:
        ev(args[0])
    except SheetError:
        return 1.0
    return 0.0


def _na(args, dialect):
    raise SheetError("#N/A")


def _scalar_if(c, a, b):
    return a if c else b


def _na_numpy():
    # Non-finite engine values are recomputed exactly (engine._exact_rows), which says #N/A.
    return np.nan


register(Function("SQRT", 1, 1, exact=_sqrt, scalar=np.sqrt, batch=np.sqrt, magnitude="same",
                  masked=lambda a, d: _masked_sqrt(*a[0], d)))
register(Function("MAX", 1, None, exact=lambda a, d: max(a), scalar=np.maximum, batch=np.maximum,
                  masked=lambda a, d: _masked_pick(a, np.greater), absorbs=True))
register(Function("MIN", 1, None, exact=lambda a, d: min(a), scalar=np.minimum, batch=np.minimum,
                  masked=lambda a, d: _masked_pick(a, np.less), absorbs=True))
register(Function("ABS", 1, 1, exact=lambda a, d: abs(a[0]), scalar=np.abs, batch=np.abs, magnitude="same",
                  masked=lambda a, d: (np.abs(a[0][0]), a[0][1])))
register(Function("SIN", 1, 1, exact=lambda a, d: math.sin(a[0]), scalar=np.sin, batch=np.sin,
                  masked=lambda a, d: (_exactly(math.sin, a[0][0]), a[0][1])))
register(Function("IF", 3, 3, lazy=_if_lazy, scalar=_scalar_if, batch=np.where, magnitude="branches",
                  masked=lambda a, d: _masked_if(*a), absorbs=True))
# The fast path only needs ISERROR right for finite inputs: non-finite values are recomputed exactly.
register(Function("ISERROR", 1, 1, lazy=_iserror_lazy, scalar=lambda a: not np.isfinite(a),
                  batch=lambda a: ~np.isfinite(a), magnitude="exact",
                  masked=lambda a, d: (0.0 if a[0][1] is None else np.not_equal(a[0][1], 0).astype(np.float64), None),
                  absorbs=True))
register(Function("NA", 0, 0, exact=_na, scalar=_na_numpy, batch=_na_numpy, magnitude="exact",
                  masked=lambda a, d: (np.nan, NA)))
# Known but not evaluated: a new value on every recalculation, so no cached value can be reproduced.
for _name, _lo, _hi in (("RAND", 0, 0), ("RANDBETWEEN", 2, 2), ("NOW", 0, 0), ("TODAY", 0, 0),
                        ("OFFSET", 3, 5), ("INDIRECT", 1, 2)):
    register(Function(_name, _lo, _hi, volatile=True, magnitude="exact",
                      args=("range",) if _name == "OFFSET" else ("scalar",)))

VOLATILE = tuple(f.name for f in FUNCTIONS.values() if f.volatile)


def evaluate(name: str, args: tuple, ev: Callable, dialect: str = "excel") -> float:
    """The exact value of name(args); ev(expr) evaluates one argument (raising SheetError)."""
    f = FUNCTIONS[name]
    if f.lazy is not None:
        return f.lazy(args, ev)
    return f.exact([ev(a) for a in args], dialect)


# ------------------------------------------------------------------ the engine's numpy helpers
@lru_cache(maxsize=1024)
def compiled(source: str, name: str, batch: bool, dialect: str, label: str = "<xlgd>"):
    """The function `name` that Python source defines, run in `numpy_namespace`; cached by its text,
    so a sheet built again (a loop of xlgd.run over 1,000 learning rates) compiles nothing again:
    compiling was most of a short run's time."""
    ns = numpy_namespace(batch, dialect)
    exec(compile(source, label, "exec"), ns)
    return ns[name]


def numpy_namespace(batch: bool, dialect: str) -> dict:
    """The names the engine's compiled source (`expr.py`) calls: `_sqrt`, `_if`, `_add` ..."""
    ns = {f"_{f.name.lower()}": (f.batch if batch else f.scalar) for f in FUNCTIONS.values()
          if f.scalar is not None}
    ns.update({"_sq": _sq, "_pow": np.power, "np": np, "_w": _watch, "_f64": np.float64,
               "_arith": masked_arith, "_cmp": masked_compare, "_call": masked_call,
               "_add": _add_array if batch else _add_scalar, "_sub": _sub_array if batch else _sub_scalar})
    return ns


def _sq(a):
    return a * a


def _sub_scalar(a, b):
    if ((a < 0 and b < 0) or (a > 0 and b > 0)) and approx_equal(float(a), float(b)):
        return np.float64(0.0)
    return a - b


def _add_scalar(a, b):
    if ((a < 0 < b) or (b < 0 < a)) and approx_equal(float(a), float(-b)):
        return np.float64(0.0)
    return a + b


def _snap(r, a, b, same_sign):
    d = np.abs(r)
    hit = same_sign & (d < np.abs(a) * _E48) & (d < np.abs(b) * _E48)
    return np.where(hit, 0.0, r)


def _sub_array(a, b):
    return _snap(a - b, a, b, ((a < 0) & (b < 0)) | ((a > 0) & (b > 0)))


def _add_array(a, b):
    return _snap(a + b, a, -b, ((a < 0) & (b > 0)) | ((a > 0) & (b < 0)))


def _watch(k, r, v):
    """The batch fast path's record of an argument a function or operator may absorb (see Function.absorbs)."""
    k[r] = v
    return v


# ------------------------------------------------------------------ the exact value over arrays
# `expr.masked_value` evaluates a tree for many configurations at once: each node is a pair
# (values, codes), codes an int8 array of CODE values (0: a number) or None where no
# configuration can hold an error. These are `arith`, `compare` and the functions' `exact`
# over arrays, value for value the same doubles (the same operations, in the same order),
# errors taken left to right like `excel_value`. Values under an error code are meaningless.
def first_error(*codes):
    """The first error of the operands, per configuration (left to right); None if none can be one."""
    out = None
    for c in reversed(codes):
        if c is not None:
            out = c if out is None else np.where(c, c, out)
    return out


def masked_arith(op: str, a, ea, b, eb, dialect: str = "excel", square: bool = False):
    """`arith` over arrays: (values, codes). Call it under np.errstate(all="ignore")."""
    lo = dialect == "libreoffice"
    if op == "+":
        r = _add_array(a, b) if lo else a + b
    elif op == "-":
        r = _sub_array(a, b) if lo else a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        r = a / b
    elif square:
        r = a * a
    else:
        r = _pow_exactly(a, b)  # math.pow, as `arith`: np.power takes shortcuts (x^0.5 is sqrt: -0.0)
    fresh = ~np.isfinite(r)
    if lo:
        fresh |= (r != 0.0) & (np.abs(r) < TINY)
    fresh = fresh.view(np.int8) if isinstance(fresh, np.ndarray) else np.int8(fresh)  # NUM == 1
    if op == "/":
        fresh = np.where(b == 0.0, DIV0, fresh)
    elif op == "^" and not square:
        fresh = np.where((a == 0.0) & (b < 0), DIV0, fresh)
    return r, first_error(ea, eb, fresh)


def masked_compare(op: str, a, ea, b, eb):
    r = (np.greater(a, b) if op == ">" else np.less(a, b)).astype(np.float64)
    return r, first_error(ea, eb)


def _masked_sqrt(v, e, dialect):
    neg = np.less(v, 0.0)
    return np.sqrt(v), first_error(e, np.where(neg, VALUE if dialect == "libreoffice" else NUM, 0).astype(np.int8))


def _masked_pick(args, better):
    """MAX/MIN as Python's max/min: the first of equal values wins."""
    r = args[0][0]
    for v, _ in args[1:]:
        r = np.where(better(v, r), v, r)
    return r, first_error(*(e for _, e in args))


def _masked_if(cond, yes, no):
    take = np.not_equal(cond[0], 0.0)
    codes = None
    if yes[1] is not None or no[1] is not None:
        codes = np.where(take, 0 if yes[1] is None else yes[1], 0 if no[1] is None else no[1])
    return np.where(take, yes[0], no[0]), first_error(cond[1], codes)


def _pow_exactly(a, b):
    def one(x, y):
        try:
            return math.pow(x, y)
        except (OverflowError, ValueError):
            return math.nan

    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.array([one(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist())]).reshape(a.shape)


def _exactly(fn, v):
    """fn (a math function) applied value by value: the exact evaluator's own rounding."""
    v = np.asarray(v, dtype=np.float64)
    return np.array([fn(t) if math.isfinite(t) else math.nan for t in v.ravel()]).reshape(v.shape)


def masked_call(name: str, args: list, dialect: str = "excel"):
    """FUNCTIONS[name] over arrays; args: [(values, codes)], evaluated (IF's branches both).
    Call it under np.errstate(all="ignore")."""
    return FUNCTIONS[name].masked(args, dialect)

"""Spreadsheet functions and operators, each defined once.

A function used in a formula needs five things: its Excel name and arity
(for the formula parser), its exact value with spreadsheet error semantics
(for `expr.excel_value`), a numpy version for compiled code (the engine's
step, the workbook evaluator's runs: scalars, and arrays for a batch of
rows or configurations), and how far rounding of its inputs can move its
result (for `verify`'s consistency check on 15-digit files). Here each is
one `Function` in `FUNCTIONS`; the parser, the exact evaluator, the engine,
the workbook evaluator and the checker all read this table.

Error semantics follow the spreadsheet, not Python: an error argument
propagates (left to right), SQRT of a negative is #NUM! in Excel and
#VALUE! in LibreOffice (the `dialect`), and lazy functions (IF, IFERROR,
ISERROR, ISNUMBER, ISBLANK) evaluate their arguments themselves, so IF only
evaluates the branch it takes and ISERROR turns an error into TRUE.

Argument kinds (`Function.args`, the last one repeats): 'number' (the
argument as a number: blank 0, TRUE 1, an error raised), 'value' (as it
is), 'bool' (as a condition), 'range' (a `values.Block` or a value: SUM's
arguments, which skip text inside ranges), 'ref' (only the address is used:
ROW, ROWS, COLUMNS -- no dependency on the cells' values). Ranges are only
allowed where a function takes them, and in array context (`array_args`:
SUMPRODUCT's arguments; array formulas), where + - * / work cell by cell.

A function without `exact` or `lazy` is known but never evaluated: the
volatile ones (RAND, RANDBETWEEN, NOW, TODAY, INDIRECT) have a new value
on every recalculation, so no cached value can be reproduced. OFFSET is
volatile in Excel too, but its value is determined by its arguments, so
it is evaluated (`dynamic`: which cells it reads is only known once its
arguments are).

Where the C library decides the last bits (EXP, LN, LOG, SIN, POWER with
an exponent other than 2 ...), `ulp` says so: the workbook evaluator
reports the largest distance from the file instead of failing.

Operators sit beside the functions: `arith(op, a, b, dialect)` is the exact
meaning of + - * / ^ (LibreOffice's near-cancellation snap and underflow
#NUM! included) and `numpy_namespace` the compiled code's helpers for the
same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Callable

import numpy as np

from . import ranges
from .ranges import E48, approx_equal
from .values import ERRORS, HERE, Block, SheetError, Text, intersect, is_error, number, scalar, truth

# Names other modules take from here: the error codes, the error type, LibreOffice's approxEqual.
REEXPORTED = (ERRORS, SheetError, approx_equal)

DIALECTS = ("excel", "libreoffice")
# Error values as small integers, for arrays of cells (0: not an error): CODE["#NUM!"] == 1.
CODE = {e: i + 1 for i, e in enumerate(ERRORS)}
NUM, DIV0, VALUE, NA = CODE["#NUM!"], CODE["#DIV/0!"], CODE["#VALUE!"], CODE["#N/A"]


def error_name(code: int) -> str:
    """The error value an integer code stands for (CODE's inverse)."""
    return ERRORS[code - 1]


TINY = 2.2250738585072014e-308  # the smallest normal double; LibreOffice calls anything below it #NUM!


def finite(v, code="#NUM!"):
    if math.isnan(v) or math.isinf(v):
        raise SheetError(code)
    return v


# ------------------------------------------------------------------ operators
def arith(op: str, a: float, b: float, dialect: str = "excel", square: bool = False) -> float:
    """a op b as the spreadsheet computes it; `square`: a ^ 2 computed as a*a (see expr.Bin)."""
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


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Function:
    """One spreadsheet function: everything the parser, evaluators and checker need."""

    name: str
    min_args: int
    max_args: int | None  # None: any number
    exact: Callable | None = None  # (converted args, dialect) -> value; raises SheetError
    scalar: Callable | None = None  # numpy on float64 scalars (compiled code)
    batch: Callable | None = None  # numpy on arrays, element by element
    lazy: Callable | None = None  # (arg exprs, evaluate, dialect) -> value: evaluates its own arguments
    volatile: bool = False  # a new value on every recalculation (RAND, NOW ...): never evaluated
    # How rounding of the inputs moves the result (verify on 15-digit files):
    # 'max' -- at most as much as the largest argument's magnitude; 'same' --
    # the function applied to the argument's magnitude (monotone: SQRT);
    # 'branches' -- IF: the larger branch; 'exact' -- 0 (a flag or an error).
    magnitude: str = "max"
    args: tuple = ("number",)  # argument kind per position (the last one repeats)
    array_args: bool = False  # its arguments are in array context (SUMPRODUCT)
    array_result: bool = False  # may return a Block (MMULT: an array formula)
    ulp: bool = False  # the last bits come from a C library: compared by ulp distance
    dynamic: bool = False  # which cells it reads depends on its arguments' values (OFFSET)
    # The exact value over arrays (a batch of configurations), vectorised: ([(values, codes, kinds)],
    # dialect) -> (values, codes, kinds) (`masked_call`); None: `exact`/`lazy` element by element.
    masked: Callable | None = None
    # May turn a non-finite argument into a finite result in compiled code (MAX(-inf, 1), IF,
    # ISERROR, SIGN(inf), EXP(-inf)): the engine's batch fast path watches such arguments (`engine.Program`).
    absorbs: bool = False

    @property
    def evaluable(self) -> bool:
        return self.exact is not None or self.lazy is not None

    def arity_ok(self, n: int) -> bool:
        return n >= self.min_args and (self.max_args is None or n <= self.max_args)

    def arg_kind(self, i: int) -> str:
        return self.args[min(i, len(self.args) - 1)] if self.args else "number"


FUNCTIONS: dict[str, Function] = {}


def register(f: Function) -> Function:
    FUNCTIONS[f.name] = f
    return f


def get(name: str) -> Function | None:
    return FUNCTIONS.get(name.upper())


def convert(kind, v):
    if kind == "number":
        return number(v)
    if kind == "bool":
        return truth(v)
    if kind == "value":
        return scalar(v)
    return v  # range, ref


def evaluate(name: str, args: tuple, ev: Callable, dialect: str = "excel", is_ref: Callable | None = None,
             address: Callable | None = None):
    """The exact value of name(args); ev(expr) evaluates one argument (raw: errors as codes).

    is_ref(expr): whether an argument is a reference to one cell, which functions taking
    ranges read as a range of one cell (MAX(A1, 5) skips A1 when it is blank or text).
    address(expr): a reference as an address only, a Block without values (ROW, ROWS, COLUMNS
    read no values: ROW() in a cell must not read the cell itself)."""
    f = FUNCTIONS[name]
    if f.lazy is not None:
        return f.lazy(args, ev, dialect)
    token = HERE.set(None) if f.array_args else None  # SUMPRODUCT's arguments are arrays in any formula
    try:
        vals = []
        for i, a in enumerate(args):
            kind = f.arg_kind(i)
            v = address(a) if kind == "ref" and address is not None else ev(a)
            if kind == "range" and is_ref is not None and not isinstance(v, Block) and is_ref(a):
                v = Block(((v,),))
            vals.append(v if kind in ("range", "ref") else intersect(v))
    finally:
        if token is not None:
            HERE.reset(token)
    arrays = [i for i, v in enumerate(vals) if isinstance(v, Block) and f.arg_kind(i) not in ("range", "ref")]
    if arrays and not f.array_args and not f.array_result:
        return elementwise_call(f, vals, arrays, dialect)
    return f.exact([convert(f.arg_kind(i), v) for i, v in enumerate(vals)], dialect)


# ------------------------------------------------------------------ exact implementations
def _sqrt(args, dialect):
    if args[0] < 0:
        raise SheetError("#VALUE!" if dialect == "libreoffice" else "#NUM!")
    return math.sqrt(args[0])


def _math1(fn, domain=None, code="#NUM!"):
    def f(args, dialect):
        x = args[0]
        if domain is not None and not domain(x):
            raise SheetError(code)
        try:
            return finite(fn(x))
        except (OverflowError, ValueError):
            raise SheetError("#NUM!") from None

    return f


def _log(args, dialect):
    x, base = args[0], (args[1] if len(args) > 1 else 10.0)
    if x <= 0 or base <= 0:
        raise SheetError("#NUM!")
    if base == 1.0:
        raise SheetError("#DIV/0!")
    return math.log10(x) if base == 10.0 else math.log(x) / math.log(base)


def _power_fn(args, dialect):
    if args[0] == 0.0 and args[1] == 0.0 and dialect != "libreoffice":
        raise SheetError("#NUM!")  # Excel's POWER(0, 0); LibreOffice's is 1
    return arith("^", args[0], args[1], dialect)


def _mod(args, dialect):
    a, b = args
    if b == 0.0:
        raise SheetError("#DIV/0!")
    try:
        return finite(a - b * math.floor(a / b))
    except OverflowError:  # a quotient past the doubles (MOD(1E160, 1E-308)): no remainder to give
        raise SheetError("#NUM!") from None


def _if_lazy(args, ev, dialect):
    if truth(ev(args[0])):
        return ev(args[1])
    return ev(args[2]) if len(args) > 2 else False


def _caught(expr, ev):
    """(value, error code or None) of one argument, errors caught."""
    try:
        v = scalar(ev(expr))
    except SheetError as e:
        return None, e.code
    return v, (v if is_error(v) else None)


def _iserror_lazy(args, ev, dialect):
    return _caught(args[0], ev)[1] is not None


def _iferror_lazy(args, ev, dialect):
    v, err = _caught(args[0], ev)
    if err is not None:
        return ev(args[1])
    return v


def _isnumber_lazy(args, ev, dialect):
    v, err = _caught(args[0], ev)
    return err is None and isinstance(v, float)


def _isblank_lazy(args, ev, dialect):
    v, err = _caught(args[0], ev)
    return err is None and v is None


def _na(args, dialect):
    raise SheetError("#N/A")


def _logical(args, dialect, combine):
    """AND/OR: booleans and numbers of the arguments (text and blanks in ranges skipped)."""
    found = []
    for a in args:
        cells = a.cells() if isinstance(a, Block) else [a]
        for v in cells:
            if is_error(v):
                raise SheetError(v)
            if isinstance(v, (float, bool)):
                found.append(v != 0)
            elif isinstance(v, Text) and not isinstance(a, Block):
                found.append(truth(v))
    if not found:
        raise SheetError("#VALUE!")
    return combine(found)


def _sign(args, dialect):
    x = args[0]
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _round(args, dialect):
    return ranges.round_half_away(args[0], args[1])


def _ceiling_math(args, dialect):
    return ranges.ceiling_math(*args)


def _norm_inv(args, dialect):
    p, mu, sigma = args
    if not 0.0 < p < 1.0 or sigma <= 0.0:
        raise SheetError("#NUM!")
    return NormalDist(mu, sigma).inv_cdf(p)


def _match(args, dialect):
    kind = number(args[2]) if len(args) > 2 else 1.0
    return ranges.match(scalar(args[0]), args[1], kind)


def _index(args, dialect):
    return ranges.index(args[0], *[number(a) for a in args[1:]])


def _offset_lazy(args, ev, dialect):
    """OFFSET(reference, rows, cols, [height], [width]): the reference moved, read like a range."""
    from .expr import CellRef, RangeRef  # the tree's leaves (expr imports this module)

    base = args[0]
    if not isinstance(base, (CellRef, RangeRef)):
        raise SheetError("#VALUE!")
    r2, c2 = (base.row2, base.col2) if isinstance(base, RangeRef) else (base.row, base.col)
    dr, dc = (int(number(scalar(ev(a)))) for a in args[1:3])
    h = int(number(scalar(ev(args[3])))) if len(args) > 3 and args[3] is not None else r2 - base.row + 1
    w = int(number(scalar(ev(args[4])))) if len(args) > 4 and args[4] is not None else c2 - base.col + 1
    top, left = base.row + dr, base.col + dc
    if top < 1 or left < 1 or h < 1 or w < 1:
        raise SheetError("#REF!")
    # the moved range keeps the base's anchoring: in a run of cells it moves with the rows as the base does
    return ev(RangeRef(base.sheet, top, left, top + h - 1, left + w - 1, base.row_abs, base.row_abs))


def _countif(args, dialect):
    return ranges.countif(args[0], scalar(args[1]))


def _mmult(args, dialect):
    return ranges.mmult(args[0], args[1], dialect)


def _na_numpy():
    # Non-finite values are recomputed exactly, which says #N/A.
    return np.nan


def _scalar_if(c, a, b=False):
    return a if c else b


def _np_if(c, a, b=0.0):
    return np.where(c, a, b)


def _elementwise(fn):
    """A numpy form from the exact C-library function: the same last bits on both paths."""
    vec = np.frompyfunc(fn, 1, 1)

    def f(x):
        with np.errstate(all="ignore"):
            try:
                out = vec(x)
            except (ValueError, OverflowError):
                raise FloatingPointError from None
        return np.asarray(out, dtype=np.float64) if isinstance(out, np.ndarray) else np.float64(out)

    return f


def _np_sign(x):
    return np.sign(x)


def _np_min(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.minimum(out, x)
    return out


def _np_max(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.maximum(out, x)
    return out


def _reg(name, lo, hi, **kw):
    register(Function(name, lo, hi, **kw))


_RANGE = ("range",)
_reg("SQRT", 1, 1, exact=_sqrt, scalar=np.sqrt, batch=np.sqrt, magnitude="same",
     masked=lambda a, d: _masked_sqrt(a[0], d))
_reg("MAX", 1, None, exact=lambda a, d: ranges.extreme(a, d, max), scalar=_np_max, batch=_np_max, args=_RANGE,
     masked=lambda a, d: _masked_pick(a, np.greater), absorbs=True)
_reg("MIN", 1, None, exact=lambda a, d: ranges.extreme(a, d, min), scalar=_np_min, batch=_np_min, args=_RANGE,
     masked=lambda a, d: _masked_pick(a, np.less), absorbs=True)
_reg("SIN", 1, 1, exact=_math1(math.sin), scalar=np.sin, batch=np.sin, ulp=True)
for _name, _fn, _dom in (("COS", math.cos, None), ("TAN", math.tan, None), ("TANH", math.tanh, None),
                         ("EXP", math.exp, None), ("LN", math.log, lambda x: x > 0),
                         ("LOG10", math.log10, lambda x: x > 0)):
    _reg(_name, 1, 1, exact=_math1(_fn, _dom), scalar=_elementwise(_fn), batch=_elementwise(_fn), ulp=True,
         absorbs=_name in ("TANH", "EXP"))  # tanh(inf) is 1, exp(-inf) 0
_reg("LOG", 1, 2, exact=_log, ulp=True)
_reg("POWER", 2, 2, exact=_power_fn, ulp=True)
_reg("ABS", 1, 1, exact=lambda a, d: abs(a[0]), scalar=np.abs, batch=np.abs, magnitude="same",
     masked=lambda a, d: (np.abs(a[0][0]), raised(a[0][1]), None))
_reg("SIGN", 1, 1, exact=_sign, scalar=_np_sign, batch=_np_sign, magnitude="exact", absorbs=True)
_reg("INT", 1, 1, exact=lambda a, d: float(math.floor(a[0])), scalar=np.floor, batch=np.floor, magnitude="same")
_reg("MOD", 2, 2, exact=_mod, ulp=True)
_reg("ROUND", 2, 2, exact=_round, ulp=True)
_reg("CEILING.MATH", 1, 3, exact=_ceiling_math, ulp=True)
_reg("PI", 0, 0, exact=lambda a, d: math.pi, magnitude="exact")
_reg("NORM.INV", 3, 3, exact=_norm_inv, ulp=True)
_reg("IF", 2, 3, lazy=_if_lazy, scalar=_scalar_if, batch=_np_if, magnitude="branches",
     masked=lambda a, d: _masked_if(*a), absorbs=True)
# The fast paths only need ISERROR right for finite inputs: non-finite values are recomputed exactly.
_reg("ISERROR", 1, 1, lazy=_iserror_lazy, scalar=lambda a: not np.isfinite(a),
     batch=lambda a: ~np.isfinite(a), magnitude="exact",
     masked=lambda a, d: (_f01(a[0][1]), None, True), absorbs=True)
_reg("IFERROR", 2, 2, lazy=_iferror_lazy)
_reg("ISNUMBER", 1, 1, lazy=_isnumber_lazy, magnitude="exact")
_reg("ISBLANK", 1, 1, lazy=_isblank_lazy, magnitude="exact")
_reg("NA", 0, 0, exact=_na, scalar=_na_numpy, batch=_na_numpy, magnitude="exact",
     masked=lambda a, d: (np.nan, np.int8(NA), None))
_reg("AND", 1, None, exact=lambda a, d: _logical(a, d, all), args=_RANGE, magnitude="exact")
_reg("OR", 1, None, exact=lambda a, d: _logical(a, d, any), args=_RANGE, magnitude="exact")
_reg("NOT", 1, 1, exact=lambda a, d: not a[0], args=("bool",), magnitude="exact")
_reg("TRUE", 0, 0, exact=lambda a, d: True, magnitude="exact")
_reg("FALSE", 0, 0, exact=lambda a, d: False, magnitude="exact")
_reg("SUM", 1, None, exact=lambda a, d: ranges.sum_args(a, d), args=_RANGE)
_reg("SUMSQ", 1, None, exact=lambda a, d: ranges.sum_args(a, d, square=True), args=_RANGE)
_reg("AVERAGE", 1, None, exact=lambda a, d: ranges.average(a, d), args=_RANGE)
_reg("COUNT", 1, None, exact=lambda a, d: ranges.count(a, d), args=_RANGE, magnitude="exact")
_reg("COUNTIF", 2, 2, exact=_countif, args=("range", "value"), magnitude="exact")
_reg("SUMPRODUCT", 1, None, exact=lambda a, d: ranges.sumproduct(a, d), args=_RANGE, array_args=True)
_reg("SUMXMY2", 2, 2, exact=lambda a, d: ranges.sumxmy2(a[0], a[1], d), args=_RANGE)
_reg("MMULT", 2, 2, exact=_mmult, args=_RANGE, array_result=True)
_reg("VAR.P", 1, None, exact=lambda a, d: ranges.variance_p(a, d), args=_RANGE)
_reg("STDEV.P", 1, None, exact=lambda a, d: math.sqrt(ranges.variance_p(a, d)), args=_RANGE)
_reg("MATCH", 2, 3, exact=_match, args=("value", "range", "number"), magnitude="exact")
_reg("INDEX", 2, 3, exact=_index, args=("range", "number"))
_reg("OFFSET", 3, 5, lazy=_offset_lazy, args=("ref", "number"), dynamic=True)
# Known but not evaluated: a new value on every recalculation, so no cached value can be reproduced.
for _name, _lo, _hi in (("RAND", 0, 0), ("RANDBETWEEN", 2, 2), ("NOW", 0, 0), ("TODAY", 0, 0),
                        ("INDIRECT", 1, 2)):
    _reg(_name, _lo, _hi, volatile=True, magnitude="exact", args=("value",))

VOLATILE = tuple(f.name for f in FUNCTIONS.values() if f.volatile) + ("OFFSET",)


# ------------------------------------------------------------------ compiled code's numpy helpers
@lru_cache(maxsize=1024)
def compiled(source: str, name: str, batch: bool, dialect: str, label: str = "<xlgd>"):
    """The function `name` that Python source defines, run in `numpy_namespace`; cached by its text,
    so a sheet built again (a loop of xlgd.run over 1,000 learning rates) compiles nothing again:
    compiling was most of a short run's time."""
    ns = numpy_namespace(batch, dialect)
    exec(compile(source, label, "exec"), ns)
    return ns[name]


def numpy_namespace(batch: bool, dialect: str) -> dict:
    """The names compiled source (`expr.py`) calls: `_sqrt`, `_if`, `_add` ..."""
    ns = {f"_{f.name.lower().replace('.', '_')}": (f.batch if batch else f.scalar) for f in FUNCTIONS.values()
          if f.scalar is not None}
    ns.update({"_sq": _sq, "_pow": np.power, "np": np, "_w": _watch, "_f64": np.float64,
               "_arith": masked_arith, "_cmp": masked_compare, "_call": masked_call,
               "_raised": raised, "_held": held,
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
    hit = same_sign & (d < np.abs(a) * E48) & (d < np.abs(b) * E48)
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
# `expr.masked_value` evaluates a tree for many configurations at once: each node is a triple
# (values, codes, kinds) -- codes an int8 array of CODE values (0: a number) or None where no
# configuration can hold an error; kinds True where the value is a boolean (a comparison,
# ISERROR, IF's missing third argument: TRUE/FALSE, which `values.compare` ranks above every
# number), None where it never is. These are `arith`, `values.compare` and the functions'
# `exact` over arrays, value for value the same doubles (the same operations, in the same
# order), errors met in `excel_value`'s order. That order has two kinds of error: one raised
# while an operand is computed (1/0, SQRT(-1): a positive code) stops the evaluation there,
# while an error *value* (a cell holding #N/A, an IF branch handing one on, an error literal:
# a negative code) is only raised where an operator or function converts it. So A1/SIN(B1)
# with both cells errors is B1's error: SIN raised it before / looked at A1 (`operand_error`).
# Values under an error code are meaningless.
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
    return r, first_error(operand_error(ea, eb), fresh)


_ORDERED = {"=": np.equal, "<>": np.not_equal, "<": np.less, ">": np.greater, "<=": np.less_equal,
            ">=": np.greater_equal}


def masked_compare(op: str, a, ea, ka, b, eb, kb):
    """`values.compare` over arrays: (values 0/1, codes); a boolean ranks above every number."""
    c = np.greater(a, b).astype(np.int8) - np.less(a, b).astype(np.int8)
    if ka is not None or kb is not None:
        ra, rb = _flag(ka), _flag(kb)
        c = np.where(np.not_equal(ra, rb), np.where(rb, -1, 1), c)
    return _ORDERED[op](c, 0).astype(np.float64), operand_error(ea, eb)


def _flag(kinds):
    return False if kinds is None else kinds


def _f01(codes):
    """ISERROR over arrays: 1.0 where an error."""
    return 0.0 if codes is None else np.not_equal(codes, 0).astype(np.float64)


def _masked_sqrt(arg, dialect):
    v, e, _ = arg
    neg = np.less(v, 0.0)
    code = np.where(neg, VALUE if dialect == "libreoffice" else NUM, 0).astype(np.int8)
    return np.sqrt(v), first_error(raised(e), code), None


def _masked_pick(args, better):
    """MAX/MIN of values (`ranges.extreme` of scalars: Python's max/min, the first of equal values wins)."""
    r = args[0][0]
    for v, _, _ in args[1:]:
        r = np.where(better(v, r), v, r)
    return r, operand_error(*(e for _, e, _ in args)), None  # arguments of kind 'range': all evaluated first


def _masked_if(cond, yes, no=(0.0, None, True)):
    """IF: one branch per configuration, handed on as it is (an error value stays one); without
    a third argument FALSE (a boolean, 0)."""
    take = np.not_equal(cond[0], 0.0)
    codes = kinds = None
    if yes[1] is not None or no[1] is not None:
        codes = np.where(take, 0 if yes[1] is None else yes[1], 0 if no[1] is None else no[1])
    if yes[2] is not None or no[2] is not None:
        kinds = np.where(take, _flag(yes[2]), _flag(no[2]))
    return np.where(take, yes[0], no[0]), first_error(raised(cond[1]), codes), kinds


def _pow_exactly(a, b):
    def one(x, y):
        try:
            return math.pow(x, y)
        except (OverflowError, ValueError):
            return math.nan

    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.array([one(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist())]).reshape(a.shape)


def masked_call(name: str, args: list, dialect: str = "excel"):
    """FUNCTIONS[name] over arrays; args: [(values, codes, kinds)], evaluated (IF's branches both).
    Call it under np.errstate(all="ignore")."""
    f = FUNCTIONS[name]
    return f.masked(args, dialect) if f.masked is not None else _one_by_one(name, args, dialect)


def _one_by_one(name, args, dialect):
    """A function without a vectorised form, configuration by configuration through `evaluate`:
    its own exact (or lazy) code, so the same value, error or boolean by construction (an
    argument's raised error raised where `evaluate` asks for it, an error value handed over)."""
    parts = [(np.asarray(v, np.float64), np.int8(0) if c is None else np.asarray(c),
              False if k is None else np.asarray(k, bool)) for v, c, k in args]
    flat = [x.ravel() for x in np.broadcast_arrays(*(x for p in parts for x in p))] if parts else []
    shape = np.broadcast_shapes(*(np.shape(x) for p in parts for x in p)) if parts else ()
    n = math.prod(shape)
    vals, codes, kinds = np.empty(n), np.zeros(n, np.int8), np.zeros(n, bool)
    for j in range(n):
        cells = [_cell(flat[3 * i][j], flat[3 * i + 1][j], flat[3 * i + 2][j]) for i in range(len(args))]
        try:
            r = scalar(evaluate(name, tuple(range(len(cells))), lambda i: _arg(cells[i]), dialect))
        except SheetError as err:
            vals[j], codes[j] = math.nan, CODE[err.code]
            continue
        if is_error(r):
            vals[j], codes[j] = math.nan, -CODE[r]
        elif isinstance(r, (bool, float, int)):
            vals[j], kinds[j] = float(r), isinstance(r, bool)
        else:
            raise TypeError(f"{name} gives {r!r}: no value over arrays")
    return vals.reshape(shape), codes.reshape(shape), kinds.reshape(shape)


def _cell(value, code, kind):
    """One configuration's argument: a SheetError (raised), an error value, a boolean or a number."""
    if code:
        return SheetError(error_name(abs(int(code)))) if code > 0 else error_name(int(-code))
    return bool(value) if kind else float(value)


def _arg(cell):
    if isinstance(cell, SheetError):
        raise cell
    return cell


from .lookups import elementwise_call  # noqa: E402 -- registers VLOOKUP, ROW ... (it imports this module)

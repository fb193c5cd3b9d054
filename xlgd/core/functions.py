"""Spreadsheet functions and operators, each defined once.

Each function is one `Function` in `FUNCTIONS`: its name and arity (the formula parser), its exact
value with spreadsheet error semantics (`expr.excel_value`), its numpy forms for compiled code
(scalars, and arrays for a batch of rows or configurations) and how far rounding of its inputs can
move its result (`verify` on 15-digit files). `arith` is the exact meaning of + - * / ^ in either
`dialect` (LibreOffice snaps near-cancellations to 0 and calls underflow #NUM!), and
`numpy_namespace` holds the helpers compiled code calls for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from . import ranges
from .masked import (
    CODE,
    NA,
    TINY,
    error_name,
    held,
    lo_power,
    masked_arith,
    masked_compare,
    masked_if,
    masked_iserror,
    masked_pick,
    masked_sqrt,
    raised,
    snapped_add,
    snapped_sub,
)
from .ranges import approx_equal
from .values import (
    HERE,
    Block,
    NotEvaluated,
    SheetError,
    Text,
    each_value,
    intersect,
    is_error,
    number,
    scalar,
    spread_at,
    truth,
)


def finite(value, code="#NUM!"):
    if math.isnan(value) or math.isinf(value):
        raise SheetError(code)
    return value


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
        if a == 0.0 and b == 0.0 and dialect != "libreoffice":
            raise SheetError("#NUM!")  # Excel's 0^0, as its POWER(0, 0); LibreOffice's is 1
        r = _power(a, b, square, dialect)
    r = finite(r)
    if dialect == "libreoffice" and r != 0.0 and abs(r) < TINY:
        raise SheetError("#NUM!")  # LibreOffice reports underflow, Excel gives 0
    return r


def _power(a, b, square, dialect):
    if a == 0.0 and b < 0:
        raise SheetError("#NUM!" if dialect == "libreoffice" else "#DIV/0!")
    if square:
        return a * a
    try:
        return lo_power(a, b) if dialect == "libreoffice" else math.pow(a, b)
    except (OverflowError, ValueError):
        raise SheetError("#NUM!") from None


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Function:
    """One spreadsheet function: everything the parser, evaluators and checker need.

    An error argument propagates, left to right; a lazy function (IF, IFERROR, ISERROR ...)
    evaluates its own arguments, so IF evaluates only the branch it takes. Argument kinds (`args`):
    'number' (blank 0, TRUE 1, an error raised), 'value' (as it is), 'bool' (a condition), 'range'
    (a `values.Block` or a value), 'ref' (only the address: ROW, ROWS, COLUMNS). A function with
    neither `exact` nor `lazy` is known but never evaluated (RAND, NOW, INDIRECT: volatile)."""

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
    # ISERROR, SIGN(inf), EXP(-inf)): the engine's batch fast path watches such arguments (`program.Program`).
    absorbs: bool = False
    page: str = ""  # Microsoft's reference page for the function (MS + its slug), where xlgd links it

    @property
    def evaluable(self) -> bool:
        return self.exact is not None or self.lazy is not None

    def arity_ok(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arg_kind(self, position: int) -> str:
        return self.args[min(position, len(self.args) - 1)] if self.args else "number"


MS = "https://support.microsoft.com/office/"  # Microsoft's pages: `page` is this and the function's slug
FUNCTIONS: dict[str, Function] = {}
# The Analysis ToolPak's functions (DEC2BIN, EDATE, YEARFRAC, ISEVEN ...): given an array where they take one
# value, #VALUE! rather than cell by cell (the modules defining them add their names).
TOOLPAK: set = set()


def register(function: Function) -> Function:
    FUNCTIONS[function.name] = function
    return function


def get(name: str) -> Function | None:
    return FUNCTIONS.get(name.upper())


def convert(kind, value):
    if kind == "number":
        return number(value)
    if kind == "bool":
        return truth(value)
    if kind == "value":
        return scalar(value)
    return value  # range, ref


def evaluate(name: str, args: tuple, evaluate_arg: Callable, dialect: str = "excel", is_ref: Callable | None = None,
             address: Callable | None = None):
    """The exact value of name(args); evaluate_arg(expr) evaluates one argument (raw: errors as codes).

    is_ref(expr): whether an argument is a reference to one cell, which functions taking
    ranges read as a range of one cell (MAX(A1, 5) skips A1 when it is blank or text).
    address(expr): a reference as an address only, a Block without values (ROW, ROWS, COLUMNS
    read no values: ROW() in a cell must not read the cell itself)."""
    f = FUNCTIONS[name]
    if f.lazy is not None:
        return f.lazy(args, evaluate_arg, dialect)
    kinds = _arg_kinds(f, len(args))
    token = HERE.set(None) if f.array_args else None  # SUMPRODUCT's arguments are arrays in any formula
    try:
        vals = []
        for a, kind in zip(args, kinds):
            v = address(a) if kind == "ref" and address is not None else evaluate_arg(a)
            if kind == "range" and is_ref is not None and not isinstance(v, Block) and is_ref(a):
                v = Block(((v,),))
            vals.append(v if kind in ("range", "ref") else intersect(v))
    finally:
        if token is not None:
            HERE.reset(token)
    arrays = [i for i, v in enumerate(vals) if isinstance(v, Block) and kinds[i] not in ("range", "ref")]
    if arrays and f.name in TOOLPAK:
        raise SheetError("#VALUE!")  # Excel's `{=HEX2BIN(C26:J26)}`: #VALUE! in every cell
    if arrays and not f.array_args and not f.array_result:
        return elementwise_call(f, vals, arrays, dialect)
    return f.exact([convert(kind, v) for kind, v in zip(kinds, vals)], dialect)


_KINDS: dict = {}  # (Function.args, number of arguments) -> each argument's kind


def _arg_kinds(f: Function, count: int) -> tuple:
    kinds = _KINDS.get((f.args, count))
    if kinds is None:
        kinds = _KINDS[(f.args, count)] = tuple(f.arg_kind(i) for i in range(count))
    return kinds


def elementwise_call(f, vals, arrays, dialect) -> Block:
    """A function of single values given arrays (an array formula's `EXP(B28:C28)`, `VLOOKUP(A1:A3,T,2)`):
    applied cell by cell over the arguments at positions `arrays` (ranges it takes whole stay whole), a 1x1
    array spread like a value; arrays of other shapes are #N/A where they do not overlap."""
    shapes = [vals[i].shape for i in arrays]
    rows, cols = max(s[0] for s in shapes), max(s[1] for s in shapes)

    def one(r, c):
        try:
            out = f.exact([convert(f.arg_kind(i), spread_at(v, r, c) if i in arrays else v)
                           for i, v in enumerate(vals)], dialect)
        except SheetError as e:
            return e.code
        if isinstance(out, Block):  # INDEX({2,3;4,5},E52:E54): a whole row in each cell
            if (out.extent or out.shape) != (1, 1):
                raise NotEvaluated(f"uses {f.name} giving an array for each value of an array argument, "
                                   "which xlgd does not evaluate")
            out = spread_at(out, 0, 0)
        return out

    return Block(tuple(tuple(one(r, c) for c in range(cols)) for r in range(rows)))



# ------------------------------------------------------------------ exact implementations
def _sqrt(args, dialect):
    if args[0] < 0:
        raise SheetError("#VALUE!" if dialect == "libreoffice" else "#NUM!")
    return math.sqrt(args[0])


def _math1(function, domain=None, code="#NUM!"):
    def f(args, dialect):
        x = args[0]
        if domain is not None and not domain(x):
            raise SheetError(code)
        try:
            return finite(function(x))
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
    return arith("^", args[0], args[1], dialect)


def _mod(args, dialect):
    a, b = args
    if b == 0.0:
        raise SheetError("#DIV/0!")
    try:
        return finite(a - b * math.floor(a / b))
    except OverflowError:  # a quotient past the doubles (MOD(1E160, 1E-308)): no remainder to give
        raise SheetError("#NUM!") from None


def _if_lazy(args, evaluate_arg, dialect):
    if truth(evaluate_arg(args[0])):
        return evaluate_arg(args[1])
    return evaluate_arg(args[2]) if len(args) > 2 else False


def _caught(expr, evaluate_arg):
    """(value, error code or None) of one argument, errors caught."""
    try:
        v = scalar(evaluate_arg(expr))
    except SheetError as e:
        return None, e.code
    return v, (v if is_error(v) else None)


def _iserror_lazy(args, evaluate_arg, dialect):
    return _caught(args[0], evaluate_arg)[1] is not None


def _iferror_lazy(args, evaluate_arg, dialect):
    v, err = _caught(args[0], evaluate_arg)
    if err is not None:
        return evaluate_arg(args[1])
    return v


def _na(args, dialect):
    raise SheetError("#N/A")


def logical_values(args, dialect, combine):
    """AND/OR: booleans and numbers of the arguments (text and blanks in ranges skipped). In Excel an
    error among the arguments wins over text before it (`AND(TRUE,"ciao",#REF!)` is #REF!) and a text
    argument that is a number is skipped (`AND(TRUE,"0")` is TRUE); other text is left unevaluated."""
    cells = [(v, isinstance(a, Block)) for a in args for v in each_value(a)]
    first_error = next((v for v, _ in cells if is_error(v)), None)
    if first_error is not None and dialect != "libreoffice":
        raise SheetError(first_error)
    found = []
    for v, in_range in cells:
        if is_error(v):
            raise SheetError(v)
        if isinstance(v, (float, bool)):
            found.append(v != 0)
        elif isinstance(v, Text) and not in_range:
            found += _logical_text(v, dialect)
    if not found:
        raise SheetError("#VALUE!")
    return combine(found)


def _logical_text(value, dialect) -> list:
    """A text argument of AND/OR: TRUE/FALSE read; in Excel a number skipped, other text not known."""
    if value.strip().upper() in ("TRUE", "FALSE") or dialect == "libreoffice":
        return [truth(value)]
    try:
        float(value)
        return []
    except ValueError:
        raise NotEvaluated(f'gives AND/OR the text "{value}", whose reading in Excel xlgd does not know') from None


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
    from statistics import NormalDist  # here: few workbooks use NORM.INV

    return NormalDist(mu, sigma).inv_cdf(p)


def _match(args, dialect):
    kind = number(args[2]) if len(args) > 2 else 1.0
    return ranges.match(scalar(args[0]), args[1], kind)


def _index(args, dialect):
    return ranges.index(args[0], *[number(a) for a in args[1:]])


def _offset_lazy(args, evaluate_arg, dialect):
    """OFFSET(reference, rows, cols, [height], [width]): the reference moved, read like a range."""
    base = args[0]
    if not callable(getattr(base, "moved", None)):  # only a cell or range reference (expr.Movable) moves
        raise SheetError("#VALUE!")
    base = _on_this_row(base, evaluate_arg)
    rows, cols = int(number(scalar(evaluate_arg(args[1])))), int(number(scalar(evaluate_arg(args[2]))))
    height = width = None
    if len(args) > 3:
        height, width = (int(number(scalar(evaluate_arg(args[k])))) if len(args) > k and args[k] is not None
                         else None for k in (3, 4))
    return evaluate_arg(base.moved(rows, cols, height, width))


def _on_this_row(reference, evaluate_arg):
    """A relative reference where the formula's own row puts it, anchored there (a run's tree is written
    for its first row: `OFFSET(B57,-40,-1)` is A17, though `OFFSET(B5,-40,-1)` would be off the sheet);
    as written where whoever evaluates the tree gives no place (`expr.Address`)."""
    if reference.row_abs:
        return reference
    try:
        place = evaluate_arg(reference.address())
    except (TypeError, ValueError, LookupError):
        return reference
    ref = getattr(place, "ref", None)
    return reference.anchored_at(ref[1]) if ref is not None else reference


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


def _elementwise(function):
    """A numpy form from the exact C-library function: the same last bits on both paths."""
    vec = np.frompyfunc(function, 1, 1)

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
     masked=lambda a, d: masked_sqrt(a[0], d))
_reg("MAX", 1, None, exact=lambda a, d: ranges.extreme(a, d, max), scalar=_np_max, batch=_np_max, args=_RANGE,
     masked=lambda a, d: masked_pick(a, np.greater), absorbs=True)
_reg("MIN", 1, None, exact=lambda a, d: ranges.extreme(a, d, min), scalar=_np_min, batch=_np_min, args=_RANGE,
     masked=lambda a, d: masked_pick(a, np.less), absorbs=True)
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
     masked=lambda a, d: masked_if(*a), absorbs=True)
# The fast paths only need ISERROR right for finite inputs (its exact form over arrays: core/info.py): non-finite values are recomputed exactly.
_reg("ISERROR", 1, 1, lazy=_iserror_lazy, scalar=lambda a: not np.isfinite(a),
     batch=lambda a: ~np.isfinite(a), magnitude="exact",
     masked=lambda a, d: (masked_iserror(a[0][1]), None, True), absorbs=True)
_reg("IFERROR", 2, 2, lazy=_iferror_lazy)
_reg("NA", 0, 0, exact=_na, scalar=_na_numpy, batch=_na_numpy, magnitude="exact",
     masked=lambda a, d: (np.nan, np.int8(NA), None))
_reg("AND", 1, None, exact=lambda a, d: logical_values(a, d, all), args=_RANGE, magnitude="exact")
_reg("OR", 1, None, exact=lambda a, d: logical_values(a, d, any), args=_RANGE, magnitude="exact")
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
_reg("STDEV.P", 1, None, exact=lambda a, d: math.sqrt(ranges.squared_deviations(a, d)), args=_RANGE)
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
    so a sheet built again (a loop of xlgd.run over many learning rates) compiles nothing again."""
    ns = numpy_namespace(batch, dialect)
    exec(compile(source, label, "exec"), ns)
    return ns[name]


def numpy_namespace(batch: bool, dialect: str) -> dict:
    """The names compiled source (`expr.py`) calls: `_sqrt`, `_if`, `_add` ..."""
    ns = {f"_{f.name.lower().replace('.', '_')}": (f.batch if batch else f.scalar) for f in FUNCTIONS.values()
          if f.scalar is not None}
    ns.update({"_sq": _sq, "_pow": np.power if dialect == "libreoffice" else _pow_excel, "np": np, "_w": _watch, "_f64": np.float64,
               "_arith": masked_arith, "_cmp": masked_compare, "_call": masked_call,
               "_raised": raised, "_held": held,
               "_add": snapped_add if batch else _add_scalar, "_sub": snapped_sub if batch else _sub_scalar})
    return ns


def _sq(a):
    return a * a


def _pow_excel(a, b):
    """np.power where Excel's 0^0 (#NUM!) raises a floating-point error: compiled code stops there and
    the cells are evaluated exactly (`arith`)."""
    if np.any((a == 0.0) & (b == 0.0)):
        raise FloatingPointError("0^0 is #NUM! in Excel")
    return np.power(a, b)


def _sub_scalar(a, b):
    if ((a < 0 and b < 0) or (a > 0 and b > 0)) and approx_equal(float(a), float(b)):
        return np.float64(0.0)
    return a - b


def _add_scalar(a, b):
    if ((a < 0 < b) or (b < 0 < a)) and approx_equal(float(a), float(-b)):
        return np.float64(0.0)
    return a + b


def _watch(k, row, value):
    """The batch fast path's record of an argument a function or operator may absorb (see Function.absorbs)."""
    k[row] = value
    return value


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


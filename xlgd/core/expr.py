"""Column expressions: one tree gives both the Excel formula and the numpy step.

A sheet column is defined once, as a tiny expression over named quantities
(`Col("m_b", lag=1) * Name("beta1") + (1 - Name("beta1")) * Col("g_b")`).
From that tree come

* `excel(e, refs)` -- the formula text for one row; `refs` turns each leaf
  into an A1 reference or a defined name;
* `py(e)` -- Python source evaluated on numpy float64 scalars or arrays by
  the engine, fully parenthesised so it associates exactly like the
  formula. Excel evaluates IEEE doubles without fused multiply-add, so the
  engine and the sheet agree to the last bit;
* `excel_value(e, env)` -- a slow, exact evaluator with spreadsheet error
  semantics (#NUM!, #DIV/0!, #VALUE!), used only for cells where the fast
  path produced a non-finite number.

Leaves are `Col` (a step-table column, this row or the row above), `Name`
(a named input cell) and the typed references below (`Data`, `EpochValue`,
`StepEdge`, ... `CellRef`): whoever renders or evaluates a tree says what
each kind of leaf means there (an address for the layout, a value for the
engine). Functions and operators mean what `functions.py` says.

Keep the node set small: every node must be renderable, evaluable and
checkable, and every function used here must be in `functions.FUNCTIONS`
(so it exists in Excel and LibreOffice with the same meaning).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from . import functions
from .functions import SheetError

# Excel operator precedence (higher binds tighter). Unary minus binds tighter
# than ^ in Excel (-2^2 = 4), which is why Neg sits above Pow.
_PREC = {"cmp": 1, "+": 2, "-": 2, "*": 3, "/": 3, "^": 4, "neg": 5, "atom": 6}


class Expr:
    prec = _PREC["atom"]

    def __add__(self, o):
        return Bin("+", self, lift(o))

    def __radd__(self, o):
        return Bin("+", lift(o), self)

    def __sub__(self, o):
        return Bin("-", self, lift(o))

    def __rsub__(self, o):
        return Bin("-", lift(o), self)

    def __mul__(self, o):
        return Bin("*", self, lift(o))

    def __rmul__(self, o):
        return Bin("*", lift(o), self)

    def __truediv__(self, o):
        return Bin("/", self, lift(o))

    def __rtruediv__(self, o):
        return Bin("/", lift(o), self)

    def __pow__(self, o):
        return Bin("^", self, lift(o))

    def __neg__(self):
        return Neg(self)

    def __gt__(self, o):
        return Cmp(">", self, lift(o))

    def __lt__(self, o):
        return Cmp("<", self, lift(o))

    # Trees are compared structurally by dataclass __eq__, so keep hashing
    # by identity-free structure.
    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Num(Expr):
    value: float


@dataclass(frozen=True, eq=False)
class Col(Expr):
    """A column of the step table: this row (lag 0) or the row above (lag 1)."""

    name: str
    lag: int = 0

    @property
    def prev(self):
        return Col(self.name, 1)


@dataclass(frozen=True, eq=False)
class Name(Expr):
    """A named input cell (a defined name on the sheet: lr, beta1, h, a_init...)."""

    name: str


class Ref(Expr):
    """A leaf that names a cell by what it is; the renderer or evaluator of a tree resolves it."""


@dataclass(frozen=True)
class Data(Ref):
    """This step's data row: name 'x' or 'y' (on the data sheet, wrapping every epoch)."""

    name: str


@dataclass(frozen=True)
class EpochValue(Ref):
    """This step's epoch's cell of an epoch-block column (its epoch number, its lr)."""

    col: str


@dataclass(frozen=True)
class StepEdge(Ref):
    """A step column at an epoch's edge: 'before' its first row (the row above) or at its 'end'."""

    col: str
    edge: str

    def __post_init__(self):
        if self.edge not in ("before", "end"):
            raise ValueError(f"StepEdge edge must be 'before' or 'end', not {self.edge!r}")


@dataclass(frozen=True)
class StepCell(Ref):
    """Another sheet's step-table cell: column col on step (0-based; -1 the start row)."""

    sheet: str
    col: str
    step: int


@dataclass(frozen=True)
class EpochCell(Ref):
    """Another sheet's epoch-block cell: column col of epoch (0-based)."""

    sheet: str
    col: str
    epoch: int


@dataclass(frozen=True)
class SheetInput(Ref):
    """Another sheet's named input cell."""

    sheet: str
    name: str


@dataclass(frozen=True)
class GridCell(Ref):
    """A cell of the grid being defined (an experiment sheet), 0-based row and column."""

    row: int
    col: int


@dataclass(frozen=True)
class CellRef(Ref):
    """A cell a formula's text refers to: sheet name, 1-based row and column."""

    sheet: str
    row: int
    col: int


LEAVES = (Col, Name, Ref)


@dataclass(frozen=True, eq=False)
class Bin(Expr):
    op: str
    left: Expr
    right: Expr

    @property
    def prec(self):
        return _PREC[self.op]


@dataclass(frozen=True, eq=False)
class Neg(Expr):
    arg: Expr
    prec = _PREC["neg"]


@dataclass(frozen=True, eq=False)
class Cmp(Expr):
    op: str
    left: Expr
    right: Expr
    prec = _PREC["cmp"]


@dataclass(frozen=True, eq=False)
class Fn(Expr):
    name: str
    args: tuple


def lift(v) -> Expr:
    if isinstance(v, Expr):
        return v
    if isinstance(v, (int, float)):
        return Num(float(v))
    raise TypeError(f"cannot use {v!r} in a column expression")


def sqrt(x):
    return Fn("SQRT", (lift(x),))


def maximum(a, b):
    return Fn("MAX", (lift(a), lift(b)))


def minimum(a, b):
    return Fn("MIN", (lift(a), lift(b)))


def if_(cond, a, b):
    return Fn("IF", (cond, lift(a), lift(b)))


def iserror(x):
    return Fn("ISERROR", (lift(x),))


def na():
    """#N/A: the one error value charts skip instead of plotting it as 0."""
    return Fn("NA", ())


def fn(name: str, *args) -> Fn:
    """A call of a function of `functions.FUNCTIONS` (checked here, not when the sheet opens)."""
    f = functions.get(name)
    if f is None or not f.arity_ok(len(args)):
        raise ValueError(f"{name} with {len(args)} argument(s) is not a function xlgd knows")
    return Fn(f.name, tuple(lift(a) if not isinstance(a, Expr) else a for a in args))


def leaves(e: Expr):
    """Every leaf (Col, Name, Ref) of a tree, in evaluation order."""
    if isinstance(e, LEAVES):
        yield e
    elif isinstance(e, (Bin, Cmp)):
        yield from leaves(e.left)
        yield from leaves(e.right)
    elif isinstance(e, Neg):
        yield from leaves(e.arg)
    elif isinstance(e, Fn):
        for a in e.args:
            yield from leaves(a)


# ---------------------------------------------------------------- Excel text


def _num_text(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v).upper().replace("E+", "E")


def _is_square(e):
    return isinstance(e, Bin) and e.op == "^" and isinstance(e.right, Num) and e.right.value == 2.0


def _eprec(e):
    # A square prints as a product, so it binds like *.
    return _PREC["*"] if _is_square(e) else e.prec


def excel(e: Expr, ref: Callable[[Expr], str]) -> str:
    """Formula text (without '='); `ref` renders a leaf (Col, Name, Ref)."""
    if isinstance(e, Num):
        return _num_text(e.value)
    if isinstance(e, LEAVES):
        return ref(e)
    if isinstance(e, Neg):
        inner = excel(e.arg, ref)
        return f"-{inner}" if _eprec(e.arg) >= Neg.prec else f"-({inner})"
    if _is_square(e):
        # A square is written as a product: x*x is one correctly rounded
        # multiply in every spreadsheet, while x^2 goes through the C
        # library's pow(), which glibc (LibreOffice) rounds differently
        # from x*x in about one case in a thousand.
        base = excel(e.left, ref)
        if _eprec(e.left) <= _PREC["*"]:
            base = f"({base})"
        return f"{base}*{base}"
    if isinstance(e, (Bin, Cmp)):
        left = excel(e.left, ref)
        right = excel(e.right, ref)
        # Left-associative everywhere (Excel's ^ too): the right operand needs
        # brackets at equal precedence, or a-(b-c) would print as a-b-c.
        if _eprec(e.left) < e.prec:
            left = f"({left})"
        if _eprec(e.right) <= e.prec:
            right = f"({right})"
        return f"{left}{e.op}{right}"
    if isinstance(e, Fn):
        return f"{e.name}({','.join(excel(a, ref) for a in e.args)})"
    raise TypeError(e)


# ------------------------------------------------------------- Python source


def py(e: Expr, var: Callable[[Expr], str], dialect: str = "excel", watch: Callable[[str], str] | None = None) -> str:
    """Python source for the numpy engine, bracketed to keep Excel's association.

    dialect 'libreoffice' routes + and - through LibreOffice's
    approxAdd/approxSub, which snap near-cancellations to exactly 0.
    watch(source) -> source wraps each operand that an operator or function
    may absorb (x/inf is 0, MAX(-inf, 1) is 1: see `absorbed`), so the
    engine's batch path can tell which configurations met a non-finite
    number on the way to a finite cell.
    """

    def go(n, watched=False):
        src = _py_node(n, go, var, dialect)
        return watch(src) if watched and watch is not None and _may_hide(n) else src

    return go(e)


def _py_node(n, go, var, dialect):
    if isinstance(n, Num):
        return repr(n.value)
    if isinstance(n, LEAVES):
        return var(n)
    hide = absorbed(n)
    if isinstance(n, Neg):
        return f"(-{go(n.arg)})"
    if isinstance(n, Bin):
        a, b = go(n.left, hide[0]), go(n.right, hide[1])
        if n.op == "^":
            if _is_square(n):
                return f"_sq({a})"
            return f"_pow({a}, {b})"
        if dialect == "libreoffice" and n.op in "+-":
            return f"_{'add' if n.op == '+' else 'sub'}({a}, {b})"
        return f"({a} {n.op} {b})"
    if isinstance(n, Cmp):
        return f"({go(n.left, True)} {n.op} {go(n.right, True)})"
    if isinstance(n, Fn):
        return f"_{n.name.lower()}({', '.join(go(a, h) for a, h in zip(n.args, hide))})"
    raise TypeError(n)


def absorbed(n: Expr) -> tuple:
    """Per operand of n: can a non-finite operand give a finite result (x/inf, inf^0, IF, MAX...)?"""
    if isinstance(n, Bin):
        if n.op == "/":
            return (False, True)
        return (True, True) if n.op == "^" and not _is_square(n) else (False, False)
    if isinstance(n, Cmp):
        return (True, True)
    if isinstance(n, Fn):
        return (functions.FUNCTIONS[n.name].absorbs,) * len(n.args)
    return (False,) * len(_children(n))


def _may_hide(n: Expr) -> bool:
    """Can n be non-finite where no cell shows it? Leaves are cells (checked) or inputs; 0/1 results are finite."""
    if isinstance(n, (Num, Cmp) + LEAVES):
        return False
    return not (isinstance(n, Fn) and n.name == "ISERROR")


# ----------------------------------------------- exact evaluation with errors


def excel_value(e: Expr, env: Callable[[Expr], object], dialect: str = "excel"):
    """Evaluate one cell as the spreadsheet would: a float, or an error code.

    `env(leaf)` returns a float or an error string. Errors propagate left to
    right like Excel; IF only evaluates the branch it takes.
    """
    try:
        return _ev(e, env, dialect)
    except SheetError as err:
        return err.code


def _ev(n, env, dialect):
    if isinstance(n, Num):
        return n.value
    if isinstance(n, LEAVES):
        v = env(n)
        if isinstance(v, str):
            raise SheetError(v)
        return float(v)
    if isinstance(n, Neg):
        return -_ev(n.arg, env, dialect)
    if isinstance(n, Bin):
        a = _ev(n.left, env, dialect)
        b = _ev(n.right, env, dialect)
        return functions.arith(n.op, a, b, dialect, square=_is_square(n))
    if isinstance(n, Cmp):
        return functions.compare(n.op, _ev(n.left, env, dialect), _ev(n.right, env, dialect))
    if isinstance(n, Fn):
        return functions.evaluate(n.name, n.args, lambda a: _ev(a, env, dialect), dialect)
    raise TypeError(n)


def masked_py(e: Expr, var: Callable[[Expr], tuple], emit: Callable[[str], None], dialect: str = "excel",
              prefix: str = "t") -> tuple:
    """`masked_value` as Python source: statements go to emit(line); returns (values, codes) source.

    var(leaf) gives the leaf's (values, codes) source, codes 'None' where it
    is never an error. The statements call functions.masked_arith /
    masked_compare / masked_call as `_arith`, `_cmp`, `_call` (the engine's
    batch namespace), name their results prefix_1, prefix_2 ..., and run
    under np.errstate(all="ignore").
    """
    count = [0]

    def tmp(call):
        count[0] += 1
        t = f"{prefix}_{count[0]}"
        emit(f"{t}, {t}e = {call}")
        return t, f"{t}e"

    def go(n):
        if isinstance(n, Num):
            return f"_f64({n.value!r})", "None"
        if isinstance(n, LEAVES):
            return var(n)
        if isinstance(n, Neg):
            v, c = go(n.arg)
            return f"(-{v})", c
        if isinstance(n, (Bin, Cmp)):
            (a, ea), (b, eb) = go(n.left), go(n.right)
            if isinstance(n, Cmp):
                return tmp(f"_cmp({n.op!r}, {a}, {ea}, {b}, {eb})")
            return tmp(f"_arith({n.op!r}, {a}, {ea}, {b}, {eb}, {dialect!r}, {_is_square(n)})")
        if isinstance(n, Fn):
            args = ", ".join(f"({v}, {c})" for v, c in map(go, n.args))
            return tmp(f"_call({n.name!r}, [{args}], {dialect!r})")
        raise TypeError(n)

    return go(e)


def masked_value(e: Expr, env: Callable[[Expr], tuple], dialect: str = "excel") -> tuple:
    """`excel_value` for many configurations at once: (values, codes).

    env(leaf) gives (values, codes) -- codes an int8 array of `functions.CODE`
    values (0: a number) or None where the leaf is never an error. Values
    where codes are non-zero are meaningless; both branches of an IF are
    evaluated and one is taken per configuration, as IF takes one. The tree
    is compiled once (`masked_py`), the engine's rows are the same source.
    """
    fn, slots = _masked_function(e, dialect)
    with np.errstate(all="ignore"):
        return fn([env(leaf) for leaf in slots])


@lru_cache(maxsize=4096)
def _masked_function(e, dialect):
    slots, lines = [], ["def f(L):"]

    def var(leaf):
        slots.append(leaf)
        return f"L[{len(slots) - 1}][0]", f"L[{len(slots) - 1}][1]"

    v, c = masked_py(e, var, lambda line: lines.append("    " + line), dialect)
    lines.append(f"    return {v}, {c}")
    return functions.compiled("\n".join(lines), "f", True, dialect, "<xlgd masked_value>"), tuple(slots)


# ----------------------------------------------- how far rounding can move a value


def magnitude(e: Expr) -> Expr:
    """An expression bounding how far rounding of the inputs can move e (all terms added in absolute value).

    Each function's rule is its `functions.Function.magnitude`."""
    if isinstance(e, Num):
        return Num(abs(e.value))
    if isinstance(e, LEAVES):
        return Fn("MAX", (e, Neg(e)))
    if isinstance(e, Neg):
        return magnitude(e.arg)
    if isinstance(e, Bin):
        a, b = magnitude(e.left), magnitude(e.right)
        if e.op in "+-":
            return Bin("+", a, b)
        if e.op == "^":
            return Bin("*", a, a) if _is_square(e) else Bin("^", a, b)
        return Bin(e.op, a, b)
    if isinstance(e, Fn):
        return _fn_magnitude(e)
    return Num(0.0)  # comparisons: exactly 0 or 1


def _fn_magnitude(e: Fn) -> Expr:
    rule = functions.FUNCTIONS[e.name].magnitude
    args = [magnitude(x) for x in e.args]
    if rule == "exact" or not args:
        return Num(0.0)
    if rule == "same":
        return Fn(e.name, tuple(args))
    if rule == "branches":
        return Fn("MAX", (args[1], args[2]))
    return Fn("MAX", tuple(args)) if len(args) > 1 else args[0]


def nodes(e: Expr):
    """Every node of a tree, the root first."""
    yield e
    for ch in _children(e):
        yield from nodes(ch)


def n_ops(e: Expr) -> int:
    """Operations in a tree (each rounds once)."""
    n = 1 if isinstance(e, (Bin, Fn, Neg)) else 0
    for ch in _children(e):
        n += n_ops(ch)
    return n


def _children(e):
    if isinstance(e, (Bin, Cmp)):
        return (e.left, e.right)
    if isinstance(e, Neg):
        return (e.arg,)
    if isinstance(e, Fn):
        return e.args
    return ()

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

Keep the node set small: every node must be renderable, evaluable and
checkable, and every function used here must exist in Excel and
LibreOffice with the same meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

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


@dataclass(frozen=True, eq=False)
class At(Expr):
    """A reference the layout resolves per row (data cells, the epoch's lr)."""

    key: str


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


FUNCTIONS = ("SQRT", "MAX", "MIN", "IF", "SIN", "ISERROR", "NA")


def leaves(e: Expr):
    """Every Col / Name / At leaf of a tree, in evaluation order."""
    if isinstance(e, (Col, Name, At)):
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
    """Formula text (without '='); `ref` renders a Col/Name/At leaf."""
    if isinstance(e, Num):
        return _num_text(e.value)
    if isinstance(e, (Col, Name, At)):
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


def py(e: Expr, var: Callable[[Expr], str], dialect: str = "excel") -> str:
    """Python source for the numpy engine, bracketed to keep Excel's association.

    dialect 'libreoffice' routes + and - through LibreOffice's
    approxAdd/approxSub, which snap near-cancellations to exactly 0.
    """

    def go(n):
        if isinstance(n, Num):
            return repr(n.value)
        if isinstance(n, (Col, Name, At)):
            return var(n)
        if isinstance(n, Neg):
            return f"(-{go(n.arg)})"
        if isinstance(n, Bin):
            a, b = go(n.left), go(n.right)
            if n.op == "^":
                if isinstance(n.right, Num) and n.right.value == 2.0:
                    return f"_sq({a})"
                return f"_pow({a}, {b})"
            if dialect == "libreoffice" and n.op in "+-":
                return f"_{'add' if n.op == '+' else 'sub'}({a}, {b})"
            return f"({a} {n.op} {b})"
        if isinstance(n, Cmp):
            return f"({go(n.left)} {n.op} {go(n.right)})"
        if isinstance(n, Fn):
            return f"_{n.name.lower()}({', '.join(go(a) for a in n.args)})"
        raise TypeError(n)

    return go(e)


# ----------------------------------------------- exact evaluation with errors

ERRORS = ("#NUM!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NULL!")


class SheetError(Exception):
    def __init__(self, code):
        self.code = code


_E48 = 2.0**-48


def approx_equal(a: float, b: float) -> bool:
    # rtl::math::approxEqual as LibreOffice 7.x uses it in + and -.
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    return d < abs(a) * _E48 and d < abs(b) * _E48


def _finite(v, code="#NUM!"):
    if math.isnan(v) or math.isinf(v):
        raise SheetError(code)
    return v


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
    if isinstance(n, (Col, Name, At)):
        v = env(n)
        if isinstance(v, str):
            raise SheetError(v)
        return float(v)
    if isinstance(n, Neg):
        return -_ev(n.arg, env, dialect)
    if isinstance(n, Bin):
        a = _ev(n.left, env, dialect)
        b = _ev(n.right, env, dialect)
        op = n.op
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
            if a == 0.0 and b < 0:
                raise SheetError("#DIV/0!")
            if isinstance(n.right, Num) and b == 2.0:
                r = a * a
            else:
                try:
                    r = math.pow(a, b)
                except (OverflowError, ValueError):
                    raise SheetError("#NUM!")
        r = _finite(r)
        if dialect == "libreoffice" and r != 0.0 and abs(r) < 2.2250738585072014e-308:
            raise SheetError("#NUM!")  # LibreOffice reports underflow, Excel gives 0
        return r
    if isinstance(n, Cmp):
        a = _ev(n.left, env, dialect)
        b = _ev(n.right, env, dialect)
        return 1.0 if (a > b if n.op == ">" else a < b) else 0.0
    if isinstance(n, Fn):
        if n.name == "IF":
            c = _ev(n.args[0], env, dialect)
            return _ev(n.args[1] if c != 0.0 else n.args[2], env, dialect)
        if n.name == "ISERROR":
            try:
                _ev(n.args[0], env, dialect)
            except SheetError:
                return 1.0
            return 0.0
        if n.name == "NA":
            raise SheetError("#N/A")
        args = [_ev(a, env, dialect) for a in n.args]
        if n.name == "SQRT":
            if args[0] < 0:
                raise SheetError("#VALUE!" if dialect == "libreoffice" else "#NUM!")
            return math.sqrt(args[0])
        if n.name == "MAX":
            return max(args)
        if n.name == "MIN":
            return min(args)
        if n.name == "SIN":
            return math.sin(args[0])
    raise TypeError(n)

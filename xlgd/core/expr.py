"""Column expressions: one tree gives the Excel formula, the numpy step and the exact value.

A column is defined once, as a small tree (`Col("m_b", lag=1) * Name("beta1") + ...`). `excel(expr, ref)`
renders its formula text; `py(expr)` its Python source for numpy float64 scalars or arrays, fully
parenthesised so it associates exactly like the formula (no fused multiply-add: the engine and the
sheet agree to the last bit); `excel_value(expr, env)` evaluates it exactly, with spreadsheet errors.
Leaves (`Col`, `Name`, the `RefLeaf` kinds) mean what whoever renders or evaluates the tree says;
every function used must be in `functions.FUNCTIONS`.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Callable

from . import functions
from .values import (
    HERE,
    Block,
    SheetError,
    Text,
    compare,
    intersect,
    number,
    scalar,
    spread_at,
    text,
)

# Excel operator precedence (higher binds tighter). Unary minus binds tighter
# than ^ in Excel (-2^2 = 4), which is why Neg sits above Pow.
_PREC = {"cmp": 1, "&": 1.5, "+": 2, "-": 2, "*": 3, "/": 3, "^": 4, "neg": 5, "atom": 6}


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
class Const(Expr):
    """A literal that is not a number, as a formula's text holds it: text ("abc", a `values.Text`),
    TRUE/FALSE, or an error literal (#N/A, a plain str)."""

    value: object


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
    """A named input cell (a defined name on the sheet: lr, beta1, h, a_init...); `sheet` when a
    formula's text names the sheet (`adam!lr`: that sheet's name, whichever sheet the formula is on)."""

    name: str
    sheet: str | None = None


class RefLeaf(Expr):
    """A leaf that names a cell by what it is; the renderer or evaluator of a tree resolves it."""


@dataclass(frozen=True)
class Data(RefLeaf):
    """This step's data row: name 'x' or 'y' (on the data sheet, wrapping every epoch)."""

    name: str


@dataclass(frozen=True)
class EpochValue(RefLeaf):
    """This step's epoch's cell of an epoch-block column (its epoch number, its lr)."""

    col: str


@dataclass(frozen=True)
class StepEdge(RefLeaf):
    """A step column at an epoch's edge: 'above' its first row or at its 'end' (its last row)."""

    col: str
    edge: str

    def __post_init__(self):
        if self.edge not in ("above", "end"):
            raise ValueError(f"StepEdge edge must be 'above' or 'end', not {self.edge!r}")


@dataclass(frozen=True)
class StepCell(RefLeaf):
    """Another sheet's step-table cell: column col on step (0-based; -1 the start row)."""

    sheet: str
    col: str
    step: int


@dataclass(frozen=True)
class EpochCell(RefLeaf):
    """Another sheet's epoch-block cell: column col of epoch (0-based)."""

    sheet: str
    col: str
    epoch: int


@dataclass(frozen=True)
class SheetInput(RefLeaf):
    """Another sheet's named input cell."""

    sheet: str
    name: str


@dataclass(frozen=True)
class GridCell(RefLeaf):
    """A cell of the grid being defined (an experiment sheet), 0-based row and column."""

    row: int
    col: int


class Movable:
    """A reference OFFSET can move: a cell (`CellRef`) or a rectangle (`RangeRef`)."""

    def moved(self, rows: int, cols: int, height: int | None = None, width: int | None = None) -> "RangeRef":
        """The rectangle `rows` down and `cols` right, `height` x `width` (its own size by default);
        it keeps this reference's row anchoring, so in a run of cells it moves with the rows as this one does."""
        last_row, last_col = getattr(self, "row2", self.row), getattr(self, "col2", self.col)
        height = last_row - self.row + 1 if height is None else height
        width = last_col - self.col + 1 if width is None else width
        top, left = self.row + rows, self.col + cols
        if top < 1 or left < 1 or height < 1 or width < 1:
            raise SheetError("#REF!")
        return RangeRef(self.sheet, top, left, top + height - 1, left + width - 1, self.row_abs, self.row_abs)

    def address(self) -> "Address":
        """This reference asked for its place only (`Address`)."""
        return Address(self)

    def anchored_at(self, row: int) -> "RangeRef":
        """The same rectangle with its first row `row`, anchored there."""
        last_row, last_col = getattr(self, "row2", self.row), getattr(self, "col2", self.col)
        return RangeRef(self.sheet, row, self.col, row + last_row - self.row, last_col, True, True)


@dataclass(frozen=True)
class CellRef(RefLeaf, Movable):
    """A cell a formula's text refers to: sheet name, 1-based row and column; `row_abs` when the
    text anchors the row ($A$1, A$1): filled down, the reference stays on that row."""

    sheet: str
    row: int
    col: int
    row_abs: bool = False


@dataclass(frozen=True)
class RangeRef(RefLeaf, Movable):
    """A rectangle of cells a formula's text refers to (A1:B5; whole columns and rows too)."""

    sheet: str
    row: int
    col: int
    row2: int
    col2: int
    row_abs: bool = False
    row2_abs: bool = False


@dataclass(frozen=True)
class Address(RefLeaf):
    """A reference asked for its place only (ROW, ROWS, COLUMNS): whoever evaluates a tree answers
    env(Address(leaf)) with a values.Block of the right size and position and no values."""

    of: RefLeaf


LEAVES = (Col, Name, RefLeaf)


@dataclass(frozen=True, eq=False)
class Bin(Expr):
    """left op right; op one of + - * / ^ &.

    `parsed`: read from a formula's text rather than built by xlgd. xlgd writes a
    square as x*x (see `excel`), so its own x^2 means one multiply everywhere; a
    person's x^2 is what the spreadsheet makes of ^: one multiply in Excel (Excel's
    cached values of graddesc-2018.xlsm's F5^2 cells agree), C's pow() in LibreOffice."""

    op: str
    left: Expr
    right: Expr
    parsed: bool = False

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


def lift(value) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, (int, float)):
        return Num(float(value))
    raise TypeError(f"cannot use {value!r} in a column expression")


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


def leaves(expr: Expr, skip=None):
    """Every leaf (Col, Name, RefLeaf) of a tree, in evaluation order; skip(fn, i): leave out argument i
    of function node fn (an argument read for its address only)."""
    if isinstance(expr, LEAVES):
        yield expr
    elif isinstance(expr, (Bin, Cmp)):
        yield from leaves(expr.left, skip)
        yield from leaves(expr.right, skip)
    elif isinstance(expr, Neg):
        yield from leaves(expr.arg, skip)
    elif isinstance(expr, Fn):
        for i, a in enumerate(expr.args):
            if skip is None or not skip(expr, i):
                yield from leaves(a, skip)


# ---------------------------------------------------------------- Excel text


def _num_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value).upper().replace("E+", "E")


def _is_square(expr):
    return isinstance(expr, Bin) and expr.op == "^" and isinstance(expr.right, Num) and expr.right.value == 2.0


def _eprec(expr):
    # A square prints as a product, so it binds like *.
    return _PREC["*"] if _is_square(expr) else expr.prec


def excel(expr: Expr, ref: Callable[[Expr], str]) -> str:
    """Formula text (without '='); `ref` renders a leaf (Col, Name, RefLeaf)."""
    if isinstance(expr, Num):
        return _num_text(expr.value)
    if isinstance(expr, Const):
        return _const_text(expr.value)
    if isinstance(expr, LEAVES):
        return ref(expr)
    if isinstance(expr, Neg):
        inner = excel(expr.arg, ref)
        return f"-{inner}" if _eprec(expr.arg) >= Neg.prec else f"-({inner})"
    if _is_square(expr) and not expr.parsed:
        # A square is written as a product: x*x is one correctly rounded
        # multiply in every spreadsheet, while x^2 goes through the C
        # library's pow(), which glibc (LibreOffice) rounds differently
        # from x*x in about one case in a thousand.
        base = excel(expr.left, ref)
        if _eprec(expr.left) <= _PREC["*"]:
            base = f"({base})"
        return f"{base}*{base}"
    if isinstance(expr, (Bin, Cmp)):
        left = excel(expr.left, ref)
        right = excel(expr.right, ref)
        # Left-associative everywhere (Excel's ^ too): the right operand needs
        # brackets at equal precedence, or a-(b-c) would print as a-b-c.
        if _eprec(expr.left) < expr.prec:
            left = f"({left})"
        if _eprec(expr.right) <= expr.prec:
            right = f"({right})"
        return f"{left}{expr.op}{right}"
    if isinstance(expr, Fn):
        return f"{expr.name}({','.join(excel(a, ref) for a in expr.args)})"
    raise TypeError(expr)


def _const_text(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Text):
        return '"' + value.replace('"', '""') + '"'
    return str(value)  # an error literal


# ------------------------------------------------------------- Python source

_PY_CMP = {"=": "==", "<>": "!="}
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[A-Za-z0-9_ +-]*\])?")  # a name or an element: squared inline


def squares_as_product(node: Bin, dialect: str) -> bool:
    """Whether n is x^2 computed as x*x: xlgd's own squares always (it writes them as products),
    a formula's x^2 in Excel; LibreOffice computes a written ^ with pow() (see Bin)."""
    return _is_square(node) and not (node.parsed and dialect == "libreoffice")


def py(expr: Expr, var: Callable[[Expr], str], dialect: str = "excel", watch: Callable[[str], str] | None = None) -> str:
    """Python source for compiled numpy code, bracketed to keep Excel's association.

    dialect 'libreoffice' routes + and - through LibreOffice's
    approxAdd/approxSub, which snap near-cancellations to exactly 0.
    Numbers and booleans only: a tree with text (&, "abc") has no numpy form.
    watch(source) -> source wraps each operand that an operator or function
    may absorb (x/inf is 0, MAX(-inf, 1) is 1: see `absorbed`), so the
    engine's batch path can tell which configurations met a non-finite
    number on the way to a finite cell.
    """

    def go(n, watched=False):
        src = _py_node(n, go, var, dialect)
        return watch(src) if watched and watch is not None and _may_hide(n) else src

    return go(expr)


def _py_node(n, go, var, dialect):
    if isinstance(n, Num):
        return repr(n.value)
    if isinstance(n, Const):
        if isinstance(n.value, bool):
            return repr(n.value)
        raise TypeError(f"no numpy form for the literal {n.value!r}")
    if isinstance(n, LEAVES):
        return var(n)
    hide = absorbed(n)
    if isinstance(n, Neg):
        return f"(-{go(n.arg)})"
    if isinstance(n, Bin):
        a, b = go(n.left, hide[0]), go(n.right, hide[1])
        if n.op == "^":
            if squares_as_product(n, dialect):
                return f"({a} * {a})" if _SIMPLE.fullmatch(a) else f"_sq({a})"
            return f"_pow({a}, {b})"
        if n.op == "&":
            raise TypeError("no numpy form for &")
        if dialect == "libreoffice" and n.op in "+-":
            return f"_{'add' if n.op == '+' else 'sub'}({a}, {b})"
        return f"({a} {n.op} {b})"
    if isinstance(n, Cmp):
        return f"({go(n.left, True)} {_PY_CMP.get(n.op, n.op)} {go(n.right, True)})"
    if isinstance(n, Fn):
        return f"_{n.name.lower().replace('.', '_')}({', '.join(go(a, h) for a, h in zip(n.args, hide))})"
    raise TypeError(n)


def absorbed(node: Expr) -> tuple:
    """Per operand of n: can a non-finite operand give a finite result (x/inf, inf^0, IF, MAX...)?"""
    if isinstance(node, Bin):
        if node.op == "/":
            return (False, True)
        return (True, True) if node.op == "^" and not _is_square(node) else (False, False)
    if isinstance(node, Cmp):
        return (True, True)
    if isinstance(node, Fn):
        return (functions.FUNCTIONS[node.name].absorbs,) * len(node.args)
    return (False,) * len(_children(node))


def _may_hide(n: Expr) -> bool:
    """Can n be non-finite where no cell shows it? Leaves are cells (checked) or inputs; 0/1 results are finite."""
    if isinstance(n, (Num, Const, Cmp) + LEAVES):
        return False
    return not (isinstance(n, Fn) and n.name == "ISERROR")


# ----------------------------------------------- exact evaluation with errors


def excel_value(expr: Expr, env: Callable[[Expr], object], dialect: str = "excel", array: bool = False, here=None):
    """Evaluate one cell as the spreadsheet would: a float, an error code, text (`values.Text`)
    or a boolean.

    `env(leaf)` returns the leaf's value: a float, an error code, Text, a bool, None for
    a blank cell, or a `values.Block` for a range. Errors propagate left to right like
    Excel; IF only evaluates the branch it takes. A formula showing a blank cell shows 0;
    in a plain formula at `here` (row, col), a range where one value is expected is its cell
    on that row or column (`values.intersect`), else #VALUE!; in an array formula (`array`)
    ranges are arrays, operators and functions of one value apply cell by cell, and the
    Block result fills the formula's cells."""
    token = HERE.set(None if array else here)
    try:
        v = _ev(expr, env, dialect)
        if isinstance(v, Block) and not array:  # a reference: implicit intersection; an array: its first value
            v = scalar(intersect(v)) if v.ref is not None else v.values[0][0] if v.values and v.values[0] else None
    except SheetError as err:
        return err.code
    finally:
        HERE.reset(token)
    return 0.0 if v is None else v


def _ev(n, env, dialect):
    kind = _NODE.get(type(n)) or _node_kind(n)
    if kind == "leaf":
        return env(n)
    if kind == "fn":
        return functions.evaluate(n.name, n.args, lambda a: _ev(a, env, dialect), dialect, _is_cell,
                                  lambda a: env(Address(a)) if isinstance(a, (CellRef, RangeRef)) else _ev(a, env, dialect))
    if kind == "value":
        return n.value
    if kind == "bin":
        a = intersect(_ev(n.left, env, dialect))
        b = intersect(_ev(n.right, env, dialect))
        if isinstance(a, Block) or isinstance(b, Block):
            plain = _plain_arith(n.op, a, b, dialect)
            return plain if plain is not None else _cellwise2(_bin_of(n, dialect), a, b)
        return _bin(n, a, b, dialect)
    if kind == "neg":
        a = intersect(_ev(n.arg, env, dialect))
        if isinstance(a, Block):
            return _cellwise(lambda x: -number(x), a)
        return -number(a)
    a, b = intersect(_ev(n.left, env, dialect)), intersect(_ev(n.right, env, dialect))  # "cmp"
    if isinstance(a, Block) or isinstance(b, Block):
        return _cellwise2(lambda x, y: compare(n.op, x, y), a, b)
    return compare(n.op, a, b)


_NODE: dict = {}  # a node's type -> what _ev does with it, found once per type


def _node_kind(n) -> str:
    for types, kind in (((Num, Const), "value"), (LEAVES, "leaf"), (Neg, "neg"), (Bin, "bin"), (Cmp, "cmp"),
                        (Fn, "fn")):
        if isinstance(n, types):
            _NODE[type(n)] = kind
            return kind
    raise TypeError(n)


def _is_cell(expr) -> bool:
    return isinstance(expr, CellRef)


def _bin_of(n, dialect):
    """_bin of node n as a function of its two operands' values, what n is decided once."""
    if n.op == "&":
        return lambda a, b: Text(text(a) + text(b))
    op, square = n.op, squares_as_product(n, dialect)
    arith = functions.arith
    return lambda a, b: arith(op, number(a), number(b), dialect, square=square)


def _bin(n, a, b, dialect):
    if n.op == "&":
        return Text(text(a) + text(b))
    return functions.arith(n.op, number(a), number(b), dialect, square=squares_as_product(n, dialect))


def _cellwise(function, a: Block) -> Block:
    return Block(tuple(tuple(_caught(function, x) for x in row) for row in a.values))


def _cellwise2(function, a, b) -> Block:
    """function cell by cell over two arrays, as Excel pairs them: a value, a 1x1 array, a single row or a single
    column is spread over the other's shape; beyond either array's size the cell is #N/A."""
    if _whole(a) and _whole(b) and a.shape == b.shape:  # the same shape, every cell there: pair them as they are
        return Block(tuple(tuple(_caught(function, x, y) for x, y in zip(row_a, row_b))
                           for row_a, row_b in zip(a.values, b.values)))
    shapes = [x.shape for x in (a, b) if isinstance(x, Block)]
    rows, cols = max(s[0] for s in shapes), max(s[1] for s in shapes)
    return Block(tuple(tuple(_caught(lambda i, j: function(spread_at(a, i, j), spread_at(b, i, j)), i, j)
                             for j in range(cols)) for i in range(rows)))


_PLAIN_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _plain_arith(op, a, b, dialect) -> Block | None:
    """`_cellwise2` of Excel's + - * / over two arrays of one shape where no cell can be an error: every
    value a float, no division by zero, every result finite (then `functions.arith` is Python's operator);
    None otherwise."""
    function = _PLAIN_OPS.get(op)
    if function is None or dialect == "libreoffice" or type(a) is not Block or type(b) is not Block:
        return None
    rows_a, rows_b = a.values, b.values
    if a.size or a.extent or b.size or b.extent or not rows_a or len(rows_a) != len(rows_b):
        return None
    if set(map(len, rows_a)) | set(map(len, rows_b)) != {len(rows_a[0])}:
        return None  # not two whole arrays of one shape
    if set(map(type, chain(chain.from_iterable(rows_a), chain.from_iterable(rows_b)))) != {float}:
        return None
    if op == "/" and 0.0 in chain.from_iterable(rows_b):
        return None
    out = tuple(map(tuple, map(map, repeat(function), rows_a, rows_b)))
    if not math.isfinite(sum(map(sum, out))):  # an infinite or NaN result makes the sum so
        return None
    return Block(out)


def _whole(value) -> bool:
    """value is a Block whose values fill its shape: no address without values, no cell clipped off."""
    return (isinstance(value, Block) and value.size is None and value.extent is None and bool(value.values)
            and all(len(row) == len(value.values[0]) for row in value.values))


def _caught(function, *args):
    try:
        return function(*args)
    except SheetError as e:
        return e.code


# ----------------------------------------------- how far rounding can move a value


def magnitude(expr: Expr) -> Expr:
    """An expression bounding how far rounding of the inputs can move expr (all terms added in absolute value).

    Each function's rule is its `functions.Function.magnitude`."""
    if isinstance(expr, Num):
        return Num(abs(expr.value))
    if isinstance(expr, LEAVES):
        return Fn("MAX", (expr, Neg(expr)))
    if isinstance(expr, Neg):
        return magnitude(expr.arg)
    if isinstance(expr, Bin):
        a, b = magnitude(expr.left), magnitude(expr.right)
        if expr.op in "+-":
            return Bin("+", a, b)
        if expr.op == "^":
            return Bin("*", a, a) if _is_square(expr) else Bin("^", a, b)
        return Bin(expr.op, a, b)
    if isinstance(expr, Fn):
        return _fn_magnitude(expr)
    return Num(0.0)  # comparisons: exactly 0 or 1


def _fn_magnitude(expr: Fn) -> Expr:
    rule = functions.FUNCTIONS[expr.name].magnitude
    args = [magnitude(x) for x in expr.args]
    if rule == "exact" or not args:
        return Num(0.0)
    if rule == "same":
        return Fn(expr.name, tuple(args))
    if rule == "branches":
        return Fn("MAX", (args[1], args[2]))
    return Fn("MAX", tuple(args)) if len(args) > 1 else args[0]


def nodes(expr: Expr):
    """Every node of a tree, the root first."""
    yield expr
    for ch in _children(expr):
        yield from nodes(ch)


def n_ops(expr: Expr) -> int:
    """Operations in a tree (each rounds once)."""
    n = 1 if isinstance(expr, (Bin, Fn, Neg)) else 0
    for ch in _children(expr):
        n += n_ops(ch)
    return n


def _children(expr):
    if isinstance(expr, (Bin, Cmp)):
        return (expr.left, expr.right)
    if isinstance(expr, Neg):
        return (expr.arg,)
    if isinstance(expr, Fn):
        return expr.args
    return ()

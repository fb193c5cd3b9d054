"""Formula text -> the core's expression tree, for everything the core's function table evaluates.

`parse(text, sheet, row, col)` gives `CellRef` and `RangeRef` leaves for references
(on any sheet), `Name` leaves for defined names, `Const` for text, booleans, errors and array
constants, the operators and every evaluable function of `core/functions.py` (`_xlfn.` dropped).
A structured reference (`Table1[Age]`) is a `Name` leaf holding its text, resolved from the workbook's
tables as names are; a union of ranges `(A1:A3,C1:C3)` is read as a whole argument of SUM, COUNT, MAX ...
(`UNION_FUNCTIONS`), its ranges as separate arguments.
Anything else raises `Unsupported` with a reason a person can read (an unknown or volatile function,
a union of ranges elsewhere, ROW() without its cell), and callers call the cell unchecked. A
range is parsed wherever it stands; where one value is expected, evaluation reads it by implicit
intersection (`values.intersect`).
"""

from __future__ import annotations

from ..core import functions
from ..core.expr import Bin, CellRef, Cmp, Const, Fn, Name, Neg, Num, RangeRef
from ..core.values import ERRORS, Text, array
from .refs import FormulaSyntaxError, col_number, split_ref, tokens, unquote_sheet

MAX_ROW, MAX_COL = 1048576, 16384
_BIN = {"&": 1.5, "+": 2, "-": 2, "*": 3, "/": 3, "^": 4}
_CMP = {"=", "<>", "<", ">", "<=", ">="}
_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.")
# Functions whose value over a union of ranges is their value over the ranges as separate arguments.
_UNION = (("op", ","), ("op", "~"))
UNION_FUNCTIONS = {"SUM", "COUNT", "COUNTA", "MAX", "MIN", "AVERAGE", "SUMSQ", "AND", "OR", "XOR", "VAR.P",
                   "STDEV.P", "CONCAT"}


class Unsupported(ValueError):
    """A formula xlgd does not evaluate; `function` names the function when one is the reason,
    `volatile` says it is RAND, NOW and the like."""

    def __init__(self, reason, function=None, volatile=False):
        super().__init__(reason)
        self.function = function
        self.volatile = volatile


# Excel's own limits: 8,192 characters of formula text and 64 levels of nested functions. Deeper
# trees than MAX_DEPTH (long chains of + count too: 1+1+...+1 is a tree as deep as it is long)
# would exhaust Python's recursion in the evaluator; no formula xlgd or graddesc writes comes near
# (the deepest is 7 levels).
MAX_CHARS = 8192
MAX_DEPTH = 200


def parse(text: str, sheet: str, row: int | None = None, col: int | None = None):
    """Formula text (with or without '=') -> expression tree, for the cell at (row, col) of sheet."""
    if len(text) > MAX_CHARS:
        raise Unsupported(f"a formula of {len(text):,} characters (Excel's limit is {MAX_CHARS:,})")
    try:
        toks = list(tokens(text))
    except FormulaSyntaxError as e:
        raise Unsupported(str(e)) from None
    if not toks:
        raise Unsupported("an empty formula")
    p = _FormulaParser(toks, sheet, row, col)
    e = p.expr(0)
    if p.i != len(toks):
        raise Unsupported(f"unexpected {toks[p.i][1]!r}")
    if _depth(e) > MAX_DEPTH:
        raise Unsupported(f"a formula nested more than {MAX_DEPTH} levels deep")
    return e


def _depth(e) -> int:
    """How deep a tree is, found without recursion (the tree may be as deep as the formula is long)."""
    deepest, stack = 0, [(e, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, (Bin, Cmp)):
            stack += [(node.left, d + 1), (node.right, d + 1)]
        elif isinstance(node, Neg):
            stack.append((node.arg, d + 1))
        elif isinstance(node, Fn):
            stack += [(a, d + 1) for a in node.args]
    return deepest


def function_name(token: str) -> str:
    """A function's name as the table has it: upper case, Excel's _xlfn. prefix dropped."""
    name = token.upper()
    for pre in _PREFIXES:
        if name.startswith(pre):
            return name[len(pre):]
    return name


class _FormulaParser:
    def __init__(self, toks, sheet, row, col):
        self.t, self.i, self.sheet = toks, 0, sheet
        self.row, self.col = row, col
        self.level = 0  # how deep the parser itself is: brackets, signs and arguments recurse

    def _enter(self):
        self.level += 1
        if self.level > MAX_DEPTH:
            raise Unsupported(f"a formula nested more than {MAX_DEPTH} levels deep")

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expr(self, min_prec):
        self._enter()
        try:
            return self._expr(min_prec)
        finally:
            self.level -= 1

    def _expr(self, min_prec):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                return left
            if op in _CMP:
                prec = 1
            elif op in _BIN:
                prec = _BIN[op]
            elif op == "%":
                self.take()
                left = Bin("/", left, Num(100.0), parsed=True)
                continue
            elif op in (":",):
                raise Unsupported("a range built from a function's result")
            else:
                return left
            if prec < min_prec:
                return left
            self.take()
            right = self.expr(prec + 0.25)  # left-associative, ^ included (as in Excel)
            left = Cmp(op, left, right) if op in _CMP else Bin(op, left, right, parsed=True)

    def unary(self):
        self._enter()
        try:
            return self._unary()
        finally:
            self.level -= 1

    def _unary(self):
        kind, t = self.peek()
        if kind == "op" and t in ("+", "-"):
            self.take()
            arg = self.unary()
            return Neg(arg) if t == "-" else arg
        return self.atom()

    def atom(self):
        kind, t = self.take()
        if kind == "num":
            return Num(float(t))
        if kind == "str":
            return Const(Text(t[1:-1].replace('""', '"')))
        if kind == "err":
            if t not in ERRORS:
                raise Unsupported(f"error literal {t}")
            return Const(t)
        if kind == "op" and t == "(":
            e = self.expr(0)
            if self.take() != ("op", ")"):
                raise Unsupported("a union of ranges or unbalanced brackets")
            return e
        if kind == "op" and t == "{":
            return self.array_constant()
        if kind == "func":
            return self.call(t)
        if kind == "table":  # a structured reference: resolved from the workbook's tables, like a name
            return Name(t)
        sheet, explicit = self.sheet, False
        if kind == "sheet":
            sheet, explicit = unquote_sheet(t), True
            kind, t = self.take()
        return self.reference(kind, t, sheet, explicit)

    def reference(self, kind, token, sheet, explicit):
        if explicit and sheet.startswith("["):
            raise Unsupported("reads another workbook")
        if kind == "ref":
            r, c, ra, _ = split_ref(token)
            if self.peek() == ("op", ":"):
                self.take()
                k2, t2 = self.take()
                if k2 == "sheet":  # Sheet1!A1:Sheet1!B2
                    other = unquote_sheet(t2)
                    if other.startswith("["):
                        raise Unsupported("reads another workbook")
                    if other != sheet:
                        raise Unsupported(f"a range from sheet {sheet} to sheet {other}")
                    k2, t2 = self.take()
                if k2 != "ref":
                    raise Unsupported("a range whose end is not a cell")
                r2, c2, ra2, _ = split_ref(t2)
                if r2 < r:
                    r, r2, ra, ra2 = r2, r, ra2, ra
                return RangeRef(sheet, r, min(c, c2), r2, max(c, c2), ra, ra2)
            return CellRef(sheet, r, c, ra)
        if kind in ("rows", "cols"):
            ends = [(x.startswith("$"), int(x.strip("$")) if kind == "rows" else col_number(x.strip("$")))
                    for x in token.split(":")]
            (a1, lo), (a2, hi) = sorted(ends, key=lambda e: e[1])
            if kind == "rows":
                return RangeRef(sheet, lo, 1, hi, MAX_COL, a1, a2)
            return RangeRef(sheet, 1, lo, MAX_ROW, hi, True, True)
        if kind == "name":
            u = token.upper()
            if u in ("TRUE", "FALSE") and not explicit:
                return Const(u == "TRUE")
            return Name(token, sheet) if explicit else Name(token)
        raise Unsupported(f"unexpected {token!r}")

    def union(self, f) -> list | None:
        """The references of a union `(A1:A3,C1:C3)` (LibreOffice writes `(A1:A3~C1:C3)`) given as a whole
        argument of a function that reads every value of its arguments alike (SUM, COUNT, MAX ...), or None (the parser back where it was) when the
        argument is no union; a union elsewhere is Unsupported."""
        start = self.i
        self.take()  # (
        items = [self.expr(0)]
        if self.peek() not in _UNION:
            self.i = start
            return None
        while self.peek() in _UNION:
            self.take()
            items.append(self.expr(0))
        if self.take() != ("op", ")") or self.peek() not in (("op", ","), ("op", ")")):
            raise Unsupported("a union of ranges or unbalanced brackets")
        if f.name not in UNION_FUNCTIONS or not all(isinstance(x, (CellRef, RangeRef, Name)) for x in items):
            raise Unsupported(f"a union of ranges as an argument of {f.name}, which xlgd does not evaluate")
        return items

    def array_constant(self):
        rows, row = [], []
        while True:
            neg = False
            if self.peek() == ("op", "-"):
                self.take()
                neg = True
            kind, t = self.take()
            if kind == "num":
                row.append(-float(t) if neg else float(t))
            elif kind == "str" and not neg:
                row.append(Text(t[1:-1].replace('""', '"')))
            elif kind == "name" and t.upper() in ("TRUE", "FALSE") and not neg:
                row.append(t.upper() == "TRUE")
            elif kind == "err" and not neg:
                row.append(t)
            else:
                raise Unsupported("an array constant holding something other than values")
            sep = self.take()
            if sep == ("op", ","):
                continue
            rows.append(row)
            row = []
            if sep == ("op", ";"):
                continue
            if sep == ("op", "}") and len({len(r) for r in rows}) == 1:
                return Const(array(rows))
            raise Unsupported("a malformed array constant")

    def call(self, token):
        name = function_name(token)
        f = functions.get(name)
        if f is None:
            raise Unsupported(f"function {name} is not one xlgd evaluates", function=name)
        if f.volatile:
            raise Unsupported(f"{name} is volatile (a new value on every recalculation)", function=name,
                              volatile=True)
        if not f.evaluable:
            raise Unsupported(f"function {name} is not one xlgd evaluates", function=name)
        self.take()  # (
        args = self.arguments(f)
        if name in ("ROW", "COLUMN") and not args:
            if self.row is None:
                raise Unsupported(f"{name}() without the cell it is in")
            args = [CellRef(self.sheet, self.row, self.col)]
        if not f.arity_ok(len(args)):
            raise Unsupported(f"{name} with {len(args)} argument(s)", function=name)
        return Fn(name, tuple(args))

    def arguments(self, function):
        args = []
        if self.peek() != ("op", ")"):
            while True:
                union = self.union(function) if self.peek() == ("op", "(") else None
                if union:
                    args += union
                else:
                    args.append(self.expr(0) if self.peek() not in (("op", ","), ("op", ")")) else Const(None))
                if self.peek() == ("op", ","):
                    self.take()
                    continue
                break
        if self.take() != ("op", ")"):
            raise Unsupported("unbalanced brackets")
        return args

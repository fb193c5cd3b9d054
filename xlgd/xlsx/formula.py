"""Evaluate the formula a cell actually holds, for the subset xlgd and graddesc use.

`parse(text, row, col, sheet)` turns formula text into the core's
expression tree (`core/expr.py`), with every cell reference a
`CellRef(sheet, row, col)` leaf and every defined name a `Name`; then
`expr.excel_value` evaluates it with spreadsheet error semantics in the
Excel or LibreOffice dialect. Supported: numbers, + - * / ^, unary minus,
< and >, cell references, defined names, and every function of the core's
table that can be evaluated (`core/functions.py`: SQRT, MAX, MIN, IF,
ISERROR, NA, SIN ...). Anything else raises `Unsupported`, and `verify`
says it could not evaluate the cell rather than guessing.
"""

from __future__ import annotations

from ..core import functions
from ..core.expr import Bin, CellRef, Cmp, Fn, Name, Neg, Num
from .refs import FormulaSyntaxError, split_ref, tokens

_BIN = {"+": 2, "-": 2, "*": 3, "/": 3, "^": 4}
_CMP = {"<", ">"}


class Unsupported(ValueError):
    pass


# Excel's own limits: 8,192 characters of formula text and 64 levels of nested functions. Deeper
# trees than MAX_DEPTH (long chains of + count too: 1+1+...+1 is a tree as deep as it is long)
# would exhaust Python's recursion in the evaluator; no formula xlgd or graddesc writes comes near
# (the deepest is 7 levels).
MAX_CHARS = 8192
MAX_DEPTH = 200


def parse(text: str, sheet: str):
    """Formula text (with or without '=') -> expression tree."""
    if len(text) > MAX_CHARS:
        raise Unsupported(f"a formula of {len(text):,} characters (Excel's limit is {MAX_CHARS:,})")
    try:
        toks = list(tokens(text))
    except FormulaSyntaxError as e:
        raise Unsupported(str(e)) from None
    p = _Parser(toks, sheet)
    e, _ = p.expr(0)
    if p.i != len(toks):
        raise Unsupported(f"unexpected {toks[p.i][1]!r}")
    return e


class _Parser:
    """Precedence climbing; every method returns (tree, its depth) so depth is bounded while parsing."""

    def __init__(self, toks, sheet):
        self.t, self.i, self.sheet = toks, 0, sheet
        self.level = 0  # how deep the parser itself is (brackets, unary signs, function arguments)

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def _deeper(self, depth):
        if depth > MAX_DEPTH or self.level > MAX_DEPTH:
            raise Unsupported(f"a formula nested more than {MAX_DEPTH} levels deep")
        return depth

    def expr(self, min_prec):
        left, dl = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                return left, dl
            if op in _CMP:
                prec = 1
            elif op in _BIN:
                prec = _BIN[op]
            elif op in ("=", "<>", "<=", ">=", "&", "%", ":"):
                raise Unsupported(f"operator {op}")
            else:
                return left, dl
            if prec < min_prec:
                return left, dl
            self.take()
            right, dr = self.expr(prec + 1)  # left-associative, ^ included (as in Excel)
            left = Cmp(op, left, right) if op in _CMP else Bin(op, left, right)
            dl = self._deeper(max(dl, dr) + 1)

    def unary(self):
        kind, t = self.peek()
        if kind == "op" and t in "+-":
            self.take()
            self.level += 1
            self._deeper(0)
            arg, d = self.unary()
            self.level -= 1
            return (Neg(arg), self._deeper(d + 1)) if t == "-" else (arg, d)
        return self.atom()

    def atom(self):
        kind, t = self.take()
        if kind == "num":
            return Num(float(t)), 1
        if kind == "op" and t == "(":
            self.level += 1
            self._deeper(0)
            e, d = self.expr(0)
            self.level -= 1
            if self.take() != ("op", ")"):
                raise Unsupported("unbalanced brackets")
            return e, d
        sheet = self.sheet
        if kind == "sheet":
            sheet = t[:-1].strip("'").replace("''", "'")
            kind, t = self.take()
        if kind == "ref":
            if self.peek() == ("op", ":"):
                raise Unsupported("ranges")
            try:
                r, c, _, _ = split_ref(t)
            except FormulaSyntaxError:
                raise Unsupported(f"reference {t[:20]!r}") from None
            return CellRef(sheet, r, c), 1
        if kind == "name":
            if sheet is not self.sheet:
                raise Unsupported("names on other sheets")
            return Name(t), 1
        if kind == "func":
            return self.call(t.upper())
        if kind == "err":
            raise Unsupported(f"error literal {t}")
        raise Unsupported(f"unexpected {t!r}")

    def call(self, name):
        f = functions.get(name)
        if f is None or not f.evaluable:
            raise Unsupported(f"function {name}")
        self.take()  # (
        self.level += 1
        self._deeper(0)
        args, depth = [], 0
        if self.peek() != ("op", ")"):
            while True:
                a, d = self.expr(0)
                args.append(a)
                depth = max(depth, d)
                if self.peek() == ("op", ","):
                    self.take()
                    continue
                break
        self.level -= 1
        if self.take() != ("op", ")"):
            raise Unsupported("unbalanced brackets")
        if not f.arity_ok(len(args)):
            raise Unsupported(f"{name} with {len(args)} arguments")
        return Fn(name, tuple(args)), self._deeper(depth + 1)

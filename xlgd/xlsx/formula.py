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


def parse(text: str, sheet: str):
    """Formula text (with or without '=') -> expression tree."""
    try:
        toks = list(tokens(text))
    except FormulaSyntaxError as e:
        raise Unsupported(str(e)) from None
    p = _Parser(toks, sheet)
    e = p.expr(0)
    if p.i != len(toks):
        raise Unsupported(f"unexpected {toks[p.i][1]!r}")
    return e


class _Parser:
    def __init__(self, toks, sheet):
        self.t, self.i, self.sheet = toks, 0, sheet

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expr(self, min_prec):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                return left
            if op in _CMP:
                prec = 1
            elif op in _BIN:
                prec = _BIN[op]
            elif op in ("=", "<>", "<=", ">=", "&", "%", ":"):
                raise Unsupported(f"operator {op}")
            else:
                return left
            if prec < min_prec or (prec == min_prec and min_prec > 0 and False):
                return left
            if prec < min_prec:
                return left
            self.take()
            right = self.expr(prec + 1)  # left-associative, ^ included (as in Excel)
            left = Cmp(op, left, right) if op in _CMP else Bin(op, left, right)

    def unary(self):
        kind, t = self.peek()
        if kind == "op" and t in "+-":
            self.take()
            arg = self.unary()
            return Neg(arg) if t == "-" else arg
        return self.atom()

    def atom(self):
        kind, t = self.take()
        if kind == "num":
            return Num(float(t))
        if kind == "op" and t == "(":
            e = self.expr(0)
            if self.take() != ("op", ")"):
                raise Unsupported("unbalanced brackets")
            return e
        sheet = self.sheet
        if kind == "sheet":
            sheet = t[:-1].strip("'").replace("''", "'")
            kind, t = self.take()
        if kind == "ref":
            if self.peek() == ("op", ":"):
                raise Unsupported("ranges")
            r, c, _, _ = split_ref(t)
            return CellRef(sheet, r, c)
        if kind == "name":
            if sheet is not self.sheet:
                raise Unsupported("names on other sheets")
            return Name(t)
        if kind == "func":
            name = t.upper()
            f = functions.get(name)
            if f is None or not f.evaluable:
                raise Unsupported(f"function {name}")
            self.take()  # (
            args = []
            if self.peek() != ("op", ")"):
                while True:
                    args.append(self.expr(0))
                    if self.peek() == ("op", ","):
                        self.take()
                        continue
                    break
            if self.take() != ("op", ")"):
                raise Unsupported("unbalanced brackets")
            if not f.arity_ok(len(args)):
                raise Unsupported(f"{name} with {len(args)} arguments")
            return Fn(name, tuple(args))
        if kind == "err":
            raise Unsupported(f"error literal {t}")
        raise Unsupported(f"unexpected {t!r}")

"""Counting, rounding and trigonometric functions (COUNTA, COUNTBLANK, TRUNC, ROUNDUP, ROUNDDOWN, CEILING, FLOOR,
ACOS, ASIN, ATAN, ATAN2, COSH, SINH, DEGREES, RADIANS), registered in the one function table (`functions.FUNCTIONS`); each
entry names Microsoft's reference page beside it. TRUNC, ROUNDUP and ROUNDDOWN act on the number as its
15 significant digits read (Excel's TRUNC(-0.8999999999999999,1) is -0.9); the trigonometric ones take their last bits
from the C library (compared by ulp distance in files Excel saved)."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from .functions import MS, Function, finite, register
from .values import SheetError, Text, each_value


def _counta(args, dialect):
    """COUNTA: the cells of ranges that are not empty (an error, "" from a formula and FALSE count), and
    every value given directly."""
    n = 0
    for a in args:
        n += sum(1 for v in each_value(a) if v is not None)
    return float(n)


def _countblank(args, dialect):
    """COUNTBLANK(range): empty cells and cells holding the text ""."""
    return float(sum(1 for v in each_value(args[0]) if v is None or (isinstance(v, Text) and v == "")))


def _rounded(mode):
    def f(args, dialect):
        value = args[0]
        digits = math.trunc(args[1]) if len(args) > 1 and args[1] is not None else 0
        if not math.isfinite(value):
            raise SheetError("#NUM!")
        if abs(digits) >= 300:
            return value
        return float(Decimal(f"{value:.15g}").quantize(Decimal(1).scaleb(-digits), rounding=mode))

    return f


def _math(function, domain=None):
    def f(args, dialect):
        if domain is not None and not domain(*args):
            raise SheetError("#NUM!")
        try:
            return finite(function(*args))
        except (OverflowError, ValueError):
            raise SheetError("#NUM!") from None

    return f


def _multiple(up: bool):
    """CEILING (up) and FLOOR: to a multiple of significance, away from zero (CEILING) or toward it (FLOOR) when
    both are negative; a positive number with a negative significance is #NUM!, FLOOR's significance 0 #DIV/0!."""
    step = math.ceil if up else math.floor

    def f(args, dialect):
        value, sig = args
        if sig == 0.0 and not up:
            raise SheetError("#DIV/0!")
        if sig == 0.0 or value == 0.0:
            return 0.0
        if value > 0 > sig:
            raise SheetError("#NUM!")
        if value < 0 and sig < 0:
            return -step(-value / -sig) * -sig
        return step(value / sig) * sig

    return f


def _atan2(args, dialect):
    """ATAN2(x_num, y_num): the angle of the point (x, y); #DIV/0! at the origin."""
    x, y = args
    if x == 0.0 and y == 0.0:
        raise SheetError("#DIV/0!")
    return math.atan2(y, x)


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, **kw))


_reg("COUNTA", 1, 255, "counta-function-7dc98875-d5c1-46f1-9a82-53f3219e2509", exact=_counta, args=("range",),
     magnitude="exact")
_reg("COUNTBLANK", 1, 1, "countblank-function-6a92d772-675c-4bee-b346-24af6bd3ac22", exact=_countblank,
     args=("range",), magnitude="exact")
_reg("TRUNC", 1, 2, "trunc-function-8b86a64c-3127-43db-ba14-aad5013ca2d5", exact=_rounded(ROUND_DOWN), ulp=True)
_reg("ROUNDDOWN", 2, 2, "rounddown-function-2ec94c73-241f-4b01-8c6f-17e6d7968f53", exact=_rounded(ROUND_DOWN),
     ulp=True)
_reg("ROUNDUP", 2, 2, "roundup-function-f8bc9b23-e795-47db-8703-db171d0c42a7", exact=_rounded(ROUND_UP), ulp=True)
for _name, _fn, _domain, _page in (
        ("ACOS", math.acos, lambda x: -1 <= x <= 1, "acos-function-cb73173f-d089-4582-afa1-76e5524b5d5b"),
        ("ASIN", math.asin, lambda x: -1 <= x <= 1, "asin-function-81fb95e5-6d6f-48c4-bc45-58f955c6d347"),
        ("ATAN", math.atan, None, "atan-function-50746fa8-630a-406b-81d0-4a2aed395543"),
        ("COSH", math.cosh, None, "cosh-function-e460d426-c471-43e8-9540-a57ff3b70555"),
        ("SINH", math.sinh, None, "sinh-function-1e4e8b9f-2b65-43fc-ab8a-0a37f4081fa7"),
        ("DEGREES", math.degrees, None, "degrees-function-4d6ec4db-e694-4b94-ace0-1cc3f61f9ba1"),
        ("RADIANS", math.radians, None, "radians-function-ac409508-3d48-45f5-ac02-1497c92de5bf")):
    _reg(_name, 1, 1, _page, exact=_math(_fn, _domain), ulp=True)
_reg("ATAN2", 2, 2, "atan2-function-c04592ab-b9e3-4908-b428-c96b3a565033", exact=_atan2, ulp=True)
_reg("CEILING", 2, 2, "ceiling-function-0a5cd7c8-0720-4f0a-bd2c-c943e510899f", exact=_multiple(True), ulp=True)
_reg("FLOOR", 2, 2, "floor-function-14bb497c-24f2-4e04-b327-b0b4de5a8886", exact=_multiple(False), ulp=True)

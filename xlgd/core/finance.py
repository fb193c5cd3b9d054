"""Excel's simplest financial functions (PV, PMT, SLN), registered in the one function table; each entry names
Microsoft's reference page beside it. Their last bits come from C's pow, so files Excel saved are compared by
ulp distance (`ulp=True`), as EXP and POWER are. NPV is not here: no order of its sum reproduces Excel's last
bits on pycel's npv.xlsx, and a difference of two NPVs there would be a false cause."""

from __future__ import annotations

import math

from .functions import Function, finite, register
from .values import SheetError

MS = "https://support.microsoft.com/office/"


def _pv(args, dialect):
    """PV(rate, nper, pmt, [fv], [type]): the present value of a series of equal payments."""
    rate, nper, pmt = args[0], args[1], args[2]
    fv = args[3] if len(args) > 3 and args[3] is not None else 0.0
    kind = 1.0 if len(args) > 4 and args[4] not in (None, 0.0) else 0.0
    if rate == 0.0:
        return finite(-(fv + pmt * nper))
    try:
        grown = math.pow(1.0 + rate, nper)
    except (OverflowError, ValueError):
        raise SheetError("#NUM!") from None
    return finite(-(fv + pmt * (1.0 + rate * kind) * (grown - 1.0) / rate) / grown)


def _pmt(args, dialect):
    """PMT(rate, nper, pv, [fv], [type]): the payment of a loan of equal payments."""
    rate, nper, pv = args[0], args[1], args[2]
    fv = args[3] if len(args) > 3 and args[3] is not None else 0.0
    kind = 1.0 if len(args) > 4 and args[4] not in (None, 0.0) else 0.0
    if nper == 0.0:
        raise SheetError("#NUM!")
    if rate == 0.0:
        return finite(-(pv + fv) / nper)
    try:
        grown = math.pow(1.0 + rate, nper)
    except (OverflowError, ValueError):
        raise SheetError("#NUM!") from None
    return finite(-rate * (fv + pv * grown) / ((1.0 + rate * kind) * (grown - 1.0)))


def _sln(args, dialect):
    cost, salvage, life = args
    if life == 0.0:
        raise SheetError("#DIV/0!")
    return (cost - salvage) / life


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, ulp=True, **kw))
    PAGES[name] = MS + page


PAGES: dict = {}
_reg("PV", 3, 5, "pv-function-23879d31-0e02-4321-be01-da16e8168cbd", exact=_pv)
_reg("PMT", 3, 5, "pmt-function-0214da64-9a63-4996-bc20-214433fa6441", exact=_pmt)
_reg("SLN", 3, 3, "sln-function-cdb666e5-c1c6-40a7-806a-e695edc2f1c8", exact=_sln)

"""Excel's simplest financial functions (PV, PMT, SLN, NPV, XNPV), registered in the one function table; each
entry names Microsoft's reference page beside it. Their last bits come from C's pow, so files Excel saved are
compared within a relative tolerance (`ulp=True`), as EXP and POWER are; a cell reading them through a
cancellation (a difference of two NPVs) agrees within that rounding carried through its terms
(check/other_cells.py). Where Excel's rule for a value is not known (text given to NPV itself), the cell is
left unchecked, never guessed. IRR is not evaluated: Excel's iteration is not documented -- its cached values
for one cash flow from two guesses differ by 3e-12 relative, and it converges from guesses where Newton's
steps do not (formulas' test.xlsx)."""

from __future__ import annotations

import math

from .functions import MS, TOOLPAK, Function, finite, register
from .values import Block, NotEvaluated, SheetError, each_value, is_error


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


def _npv(args, dialect):
    """NPV(rate, value1, ...): the values discounted one period each, the first by one period."""
    rate, flows = args[0], _flows(args[1:])
    total = 0.0
    for i, value in enumerate(flows, 1):
        total += value / _grown(rate, i)
    return finite(total)


def _flows(args) -> list:
    """NPV's values: a range's (or array's) numbers, blanks, text and booleans skipped; a value given
    itself as a number (TRUE as 1). An error anywhere is NPV's value, the first one: what Excel cached in
    pycel's npv.xlsx (Microsoft's page says errors in a range are skipped). Text given itself is left
    unchecked."""
    out = []
    for arg in args:
        for v in each_value(arg):
            if is_error(v):
                raise SheetError(v)
            if not isinstance(arg, Block) and v is not None and not isinstance(v, (float, bool)):
                raise NotEvaluated(f"NPV given the text {v!r} itself: xlgd does not know Excel's rule for it")
            if isinstance(v, float) or (not isinstance(arg, Block) and isinstance(v, bool)):
                out.append(float(v))
    return out


def _grown(rate, periods):
    """(1 + rate) ^ periods, #DIV/0! where it is 0 and #NUM! where it cannot be computed."""
    try:
        grown = math.pow(1.0 + rate, periods)
    except (OverflowError, ValueError, ZeroDivisionError):
        raise SheetError("#NUM!") from None
    if grown == 0.0:
        raise SheetError("#DIV/0!")
    return grown


def _xnpv(args, dialect):
    """XNPV(rate, values, dates): each value discounted by its days after the first date over 365."""
    rate, values, dates = _xnpv_rate(args[0]), _numbers_all(args[1]), _numbers_all(args[2])
    if len(values) != len(dates) or not values:
        raise SheetError("#NUM!")
    days = [math.floor(d) for d in dates]
    if any(d < days[0] for d in days):
        raise SheetError("#NUM!")
    total = 0.0
    for value, day in zip(values, days):
        total += value / _grown(rate, (day - days[0]) / 365.0)
    return finite(total)


def _xnpv_rate(rate) -> float:
    """XNPV's rate as Excel cached it in formulas' test.xlsx: a rate of 0 or below (a blank too) #NUM!, TRUE
    or text #VALUE!; text that reads as a number is left unchecked."""
    if is_error(rate):
        raise SheetError(rate)
    if isinstance(rate, bool):
        raise SheetError("#VALUE!")
    if isinstance(rate, str):
        try:
            float(rate)
        except ValueError:
            raise SheetError("#VALUE!") from None
        raise NotEvaluated(f"XNPV given the rate as the text {rate!r}, which xlgd does not evaluate")
    rate = 0.0 if rate is None else rate
    if rate <= 0.0:
        raise SheetError("#NUM!")
    return rate


def _numbers_all(arg) -> list:
    """Every cell of a range as a number: the first error raised, a blank or text left unchecked."""
    cells = each_value(arg)
    for v in cells:
        if is_error(v):
            raise SheetError(v)
        if not isinstance(v, float):
            raise NotEvaluated(f"XNPV given {v!r} among its values or dates, which xlgd does not evaluate")
    return cells


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, ulp=True, **kw))


_reg("PV", 3, 5, "pv-function-23879d31-0e02-4321-be01-da16e8168cbd", exact=_pv)
_reg("PMT", 3, 5, "pmt-function-0214da64-9a63-4996-bc20-214433fa6441", exact=_pmt)
_reg("SLN", 3, 3, "sln-function-cdb666e5-c1c6-40a7-806a-e695edc2f1c8", exact=_sln)
_reg("NPV", 2, None, "npv-function-8672cb67-2576-4d07-b67b-ac28acf2a568", exact=_npv, args=("number", "range"))
_reg("XNPV", 3, 3, "xnpv-function-1b42bbf6-370f-4532-a0eb-d67c16b664b7", exact=_xnpv,
     args=("value", "range", "range"))
TOOLPAK.add("XNPV")  # an Analysis ToolPak function: an array where it takes one value is #VALUE!

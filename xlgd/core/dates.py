"""Excel's date functions over serial numbers, registered in the one function table (`functions.FUNCTIONS`).

A date is a serial number of days: in Excel's 1900 date system 1 is 1 January 1900 and 60 is 29 February
1900, a day that never was (Excel keeps Lotus 1-2-3's leap-year bug), so from 61 (1 March 1900) on a
serial counts days since 30 December 1899. LibreOffice counts days since 30 December 1899 throughout, so
before March 1900 the two differ: there, in LibreOffice's dialect, a date function is left unchecked
(`NotEvaluated`). A serial below 0 or past 31 December 9999 (2958465) is #NUM!. TODAY and NOW are
volatile and never evaluated (functions.py). Each entry names Microsoft's reference page beside it.
"""

from __future__ import annotations

import calendar
import datetime
import math

from .functions import MS, TOOLPAK, Function, register
from .values import NotEvaluated, SheetError, number, text

LAST = 2958465  # 31 December 9999
_EPOCH = datetime.date(1899, 12, 30).toordinal()
_MARCH_1900 = 61


def _before_march_1900(dialect):
    if dialect == "libreoffice":
        raise NotEvaluated("uses a date before 1 March 1900, where LibreOffice's calendar and Excel's differ")


def ymd(serial: float, dialect: str = "excel") -> tuple:
    """(year, month, day) of a serial number (its whole days), Excel's 29 February 1900 and day 0 included."""
    s = math.floor(serial)
    if s < 0 or s > LAST:
        raise SheetError("#NUM!")
    if s < _MARCH_1900:
        _before_march_1900(dialect)
        if s == 60:
            return 1900, 2, 29
        if s == 0:
            return 1900, 1, 0
        s += 1  # before the day that never was, one day later than days since 30 December 1899
    d = datetime.date.fromordinal(_EPOCH + s)
    return d.year, d.month, d.day


def serial(year: int, month: int, day: int, dialect: str = "excel") -> float:
    """The serial number of year-month-day, month and day past their ends carried over (month 13, day 0),
    counted in Excel's calendar (its 29 February 1900 included)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    if not 1 <= year <= 9999:
        raise SheetError("#NUM!")
    first = datetime.date(year, month, 1).toordinal() - _EPOCH
    if first < _MARCH_1900:
        first -= 1  # January and February 1900: Excel's serials are one lower (its 29 February comes after)
    s = first + day - 1
    if s < _MARCH_1900:
        _before_march_1900(dialect)
    if s < 0 or s > LAST:
        raise SheetError("#NUM!")
    return float(s)


def month_days(year: int, month: int) -> int:
    """Days in a month of Excel's calendar (February 1900 has 29)."""
    return 29 if (year, month) == (1900, 2) else calendar.monthrange(year, month)[1]


def _whole(x: float) -> int:
    return math.trunc(x)


def _date(args, dialect):
    """DATE(year, month, day): a year 0-1899 is 1900 years later, below 0 or from 10000 #NUM!."""
    year, month, day = (_whole(a) for a in args)
    if year < 0 or year >= 10000:
        raise SheetError("#NUM!")
    if year < 1900:
        if dialect == "libreoffice":
            raise NotEvaluated("uses DATE with a year below 1900, which LibreOffice reads by its own settings")
        year += 1900
    return serial(year, month, day, dialect)


def _part(i):
    def f(args, dialect):
        return float(ymd(args[0], dialect)[i])

    return f


def _weekday(args, dialect):
    """WEEKDAY(serial, [type]): type 1 or 17 Sunday 1 .. Saturday 7; 2 or 11 Monday 1; 3 Monday 0; 12-16 Tuesday
    .. Saturday 1. Serial 1 (1 January 1900) is a Sunday in Excel."""
    s = math.floor(args[0])
    if s < 0 or s > LAST:
        raise SheetError("#NUM!")
    if s < _MARCH_1900:
        _before_march_1900(dialect)
    kind = _whole(args[1]) if len(args) > 1 and args[1] is not None else 1
    sunday0 = (s - 1) % 7  # 0 Sunday .. 6 Saturday
    if kind == 3:
        return float((sunday0 + 6) % 7)
    start = {1: 0, 17: 0, 2: 1, 11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 16: 6}.get(kind)
    if start is None:
        raise SheetError("#NUM!")
    return float((sunday0 - start) % 7 + 1)


def toolpak_number(value) -> float:
    """An argument of an Analysis ToolPak function (EDATE, EOMONTH): a boolean is #VALUE! there."""
    if isinstance(value, bool):
        raise SheetError("#VALUE!")
    return number(value)


def _months_later(args, dialect, end_of_month):
    start, months = (toolpak_number(a) for a in args)
    year, month, day = ymd(start, dialect)
    moved = year * 12 + month - 1 + _whole(months)
    year, month = divmod(moved, 12)
    if not 1900 <= year <= 9999:
        raise SheetError("#NUM!")
    last = month_days(year, month + 1)
    return serial(year, month + 1, last if end_of_month else min(day, last), dialect)


def _datedif(args, dialect):
    """DATEDIF(start, end, unit): whole years, months or days between two dates; "MD" across a month end is
    left unchecked (Microsoft documents its result there as inaccurate)."""
    start, end, unit = math.floor(args[0]), math.floor(args[1]), text(args[2]).upper()
    if start > end:
        raise SheetError("#NUM!")
    (y1, m1, d1), (y2, m2, d2) = ymd(start, dialect), ymd(end, dialect)
    months = (y2 - y1) * 12 + m2 - m1 - (1 if d2 < d1 else 0)
    if unit == "D":
        return float(end - start)
    if unit == "M":
        return float(months)
    if unit == "Y":
        return float(months // 12)
    if unit == "YM":
        return float(months % 12)
    if unit == "MD":
        if d2 < d1:
            raise NotEvaluated('uses DATEDIF with "MD" across a month end, whose result Microsoft documents '
                               "as inaccurate")
        return float(d2 - d1)
    if unit == "YD":
        return _year_days(start, end, (y1, m1, d1), (y2, m2, d2), dialect)
    raise SheetError("#NUM!")


def _clock(i):
    """HOUR (i=0), MINUTE (1), SECOND (2) of a serial's fraction of a day, rounded to the nearest second."""
    def f(args, dialect):
        x = args[0]
        if x < 0 or x > LAST + 1:
            raise SheetError("#NUM!")
        seconds = math.floor((x - math.floor(x)) * 86400.0 + 0.5) % 86400
        return float((seconds // 3600, seconds // 60 % 60, seconds % 60)[i])

    return f


def _yearfrac(args, dialect):
    """YEARFRAC(start, end, [basis]): the fraction of a year between two dates, by Excel's day-count bases 0
    (US 30/360), 1 (actual/actual), 2 (actual/360), 3 (actual/365), 4 (European 30/360). An error in the basis,
    or a basis out of range, wins over an error in the dates (Excel's values in pycel's yearfrac.xlsx)."""
    basis = _whole(toolpak_number(args[2])) if len(args) > 2 and args[2] is not None else 0  # its error first
    if basis not in (0, 1, 2, 3, 4):
        raise SheetError("#NUM!")
    start, end = sorted(math.floor(toolpak_number(a)) for a in args[:2])
    if start < _MARCH_1900:
        raise NotEvaluated("uses YEARFRAC from a date before 1 March 1900, which xlgd does not evaluate")
    (y1, m1, d1), (y2, m2, d2) = ymd(start, dialect), ymd(end, dialect)
    if basis == 2:
        return (end - start) / 360.0
    if basis == 3:
        return (end - start) / 365.0
    if basis == 1:
        return _actual_actual(start, end, (y1, m1, d1), (y2, m2, d2), dialect)
    if basis == 4:
        d1, d2 = min(d1, 30), min(d2, 30)
    else:
        d1, d2 = _us_30_360(y1, m1, d1, y2, m2, d2)
    return ((d2 + m2 * 30 + y2 * 360) - (d1 + m1 * 30 + y1 * 360)) / 360.0


def _last_of_february(y, m, d) -> bool:
    return m == 2 and d == month_days(y, 2)


def _us_30_360(y1, m1, d1, y2, m2, d2):
    if d1 == 31 and d2 == 31:
        return 30, 30
    if d1 == 31:
        return 30, d2
    if d1 == 30 and d2 == 31:
        return d1, 30
    if _last_of_february(y1, m1, d1) and _last_of_february(y2, m2, d2):
        return 30, 30
    if _last_of_february(y1, m1, d1):
        return 30, d2
    return d1, d2


def _actual_actual(start, end, first, last, dialect) -> float:
    """Basis 1: within a year, the days over 365 or 366 (a 29 February in between or at the end); across years,
    over the average length of the years the dates touch."""
    (y1, m1, d1), (y2, m2, d2) = first, last
    if y1 == y2 or (y2 == y1 + 1 and (m1, d1) >= (m2, d2)):
        leap = calendar.isleap(y1) if y1 == y2 else any(
            calendar.isleap(y) and start <= serial(y, 2, 29, dialect) <= end for y in (y1, y2))
        return (end - start) / (366.0 if leap or (m2, d2) == (2, 29) else 365.0)
    years = y2 - y1 + 1
    days = datetime.date(y2 + 1, 1, 1).toordinal() - datetime.date(y1, 1, 1).toordinal()  # 1900 not leap here
    return (end - start) / (days / years)


def _year_days(start, end, first, last, dialect) -> float:
    """DATEDIF's "YD": the days from the start's month and day to the end's, counted in the end's year and in the
    start's; where a 29 February makes the two differ, Excel's choice is not known: unchecked."""
    (y1, m1, d1), (y2, m2, d2) = first, last
    counts = set()
    for year in (y2, y1):
        across = (m1, d1) > (m2, d2)
        base = year - 1 if across and year == y2 else year
        begin = serial(base, m1, min(d1, month_days(base, m1)), dialect)
        finish = serial(base + 1 if across else base, m2, min(d2, month_days(base + 1 if across else base, m2)),
                        dialect)
        counts.add(finish - begin)
    if len(counts) > 1:
        raise NotEvaluated('uses DATEDIF with "YD" where a 29 February makes the count depend on the year, '
                           "which xlgd does not know for Excel")
    return float(counts.pop())


def _days(args, dialect):
    return float(math.floor(args[0]) - math.floor(args[1]))


NAMES: set = set()  # the functions of this module: they count days from 1900 (`prepare` leaves 1904 books alone)


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, magnitude="exact", **kw))
    NAMES.add(name)


_reg("DATE", 3, 3, "date-function-e36c0c8c-4104-49da-ab83-82328b832349", exact=_date)
_reg("YEAR", 1, 1, "year-function-c64f017a-1354-490d-981f-578e8ec8d3b9", exact=_part(0))
_reg("MONTH", 1, 1, "month-function-579a2881-199b-48b2-ab90-ddba0eba86e8", exact=_part(1))
_reg("DAY", 1, 1, "day-function-8a7d1cbb-6c7d-4ba1-8aea-25c134d03101", exact=_part(2))
_reg("WEEKDAY", 1, 2, "weekday-function-60e44483-2ed1-439f-8bd0-e404c190949a", exact=_weekday)
_reg("EDATE", 2, 2, "edate-function-3c920eb2-6e66-44e7-a1f5-753ae47ee4f5",
     exact=lambda a, d: _months_later(a, d, False), args=("value",))
_reg("EOMONTH", 2, 2, "eomonth-function-7314ffa1-2bc9-4005-9d66-f49db127d628",
     exact=lambda a, d: _months_later(a, d, True), args=("value",))
_reg("HOUR", 1, 1, "hour-function-a3afa879-86cb-4339-b1b5-2dd2d7310ac7", exact=_clock(0))
_reg("MINUTE", 1, 1, "minute-function-af728df0-05c4-4b07-9eed-a84801a60589", exact=_clock(1))
_reg("SECOND", 1, 1, "second-function-740d1cfc-553c-4099-b668-80eaa24e8af1", exact=_clock(2))
_reg("DATEDIF", 3, 3, "datedif-function-25dba1a4-2812-480b-84dd-8b32a451b35c", exact=_datedif,
     args=("number", "number", "value"))
_reg("YEARFRAC", 2, 3, "yearfrac-function-3844141e-c76d-4143-82b6-208454ddc6a8", exact=_yearfrac,
     args=("value",))
TOOLPAK.update(("EDATE", "EOMONTH", "YEARFRAC"))
_reg("DAYS", 2, 2, "days-function-57740535-d549-4395-8728-0f07bff0b9df", exact=_days)

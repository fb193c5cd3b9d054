"""Excel's least-squares line through points (SLOPE, INTERCEPT, FORECAST, FORECAST.LINEAR), registered in the
one function table; each entry names Microsoft's reference page beside it. A learner fitting `y = a*x + b` by
gradient descent can set them beside the fit. Excel does not document its summation (its SLOPE and LINEST of
the same points differ in the last bits), so files Excel saved are compared within a relative tolerance
(`ulp=True`), as EXP is."""

from __future__ import annotations

from .functions import MS, Function, finite, register
from .ranges import excel_sum
from .values import NotEvaluated, SheetError, each_value, is_error, number, scalar


def _points(known_y, known_x) -> tuple:
    """(ys, xs) of the pairs where both are numbers (text, booleans and blanks skip their pair); #N/A when the
    two hold different counts of cells; an error is the function's value (errors in both: unchecked)."""
    ys, xs = each_value(known_y), each_value(known_x)
    if len(ys) != len(xs):
        raise SheetError("#N/A")
    errors = [v for v in ys if is_error(v)], [v for v in xs if is_error(v)]
    if errors[0] and errors[1]:
        raise NotEvaluated("a line through points with errors among both the y's and the x's: which Excel gives "
                           "is not known to xlgd")
    if errors[0] or errors[1]:
        raise SheetError((errors[0] or errors[1])[0])
    pairs = [(y, x) for y, x in zip(ys, xs) if isinstance(y, float) and isinstance(x, float)]
    if not pairs:
        raise SheetError("#DIV/0!")
    return [y for y, _ in pairs], [x for _, x in pairs]


def _line(known_y, known_x) -> tuple:
    """(slope, intercept) of the least-squares line: sums of deviations from the means, left to right."""
    ys, xs = _points(known_y, known_x)
    mean_y, mean_x = excel_sum(ys) / len(ys), excel_sum(xs) / len(xs)
    across = excel_sum([(x - mean_x) * (y - mean_y) for y, x in zip(ys, xs)])
    spread = excel_sum([(x - mean_x) * (x - mean_x) for x in xs])
    if spread == 0.0:
        raise SheetError("#DIV/0!")
    slope = across / spread
    return slope, mean_y - slope * mean_x


def _slope(args, dialect):
    return finite(_line(args[0], args[1])[0])


def _intercept(args, dialect):
    return finite(_line(args[0], args[1])[1])


def _forecast(args, dialect):
    x = args[0]
    if is_error(x):
        raise SheetError(x)
    x = number(scalar(x))
    slope, intercept = _line(args[1], args[2])
    return finite(intercept + slope * x)


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, ulp=True, **kw))


_reg("SLOPE", 2, 2, "slope-function-11fb8f97-3117-4813-98aa-61d7e01276b9", exact=_slope, args=("range",))
_reg("INTERCEPT", 2, 2, "intercept-function-2a9b74e2-9d47-4772-b663-3bca70bf63ef", exact=_intercept,
     args=("range",))
for _name in ("FORECAST", "FORECAST.LINEAR"):
    _reg(_name, 3, 3, "forecast-and-forecast-linear-functions-50ca49c9-7b40-4892-94e4-7ad38bbeda99",
         exact=_forecast, args=("value", "range", "range"))

"""What the charts draw: a chart-safe copy of every charted column that can explode.

A chart draws cells, and cannot transform them. Two things make a chart lie
when training explodes, and each charted quantity gets a column of its own
(at the right end of the step table, header "... (chart)") that avoids both:

* an error cell (#NUM!: a number past 1.8e308) is drawn as 0 by Excel and
  LibreOffice, so an exploded run seems to land softly on zero. #N/A is the
  one error value charts skip, so the chart columns hold NA() there: a gap.
* one huge point flattens every other point of its chart. err^2 and the
  epoch's mean err^2 are never negative, so their charts use a log axis
  (err^2 from 10 to 10^230 stays readable). Weights, predictions and derivatives can be negative, where a
  log axis cannot go, so their columns clip instead: a value beyond
  +-chart_max (a named input, 1000 by default: xlgd's templates fit data
  below 250, and a weight past 1000 has left any fit behind) is #N/A and not
  drawn, so the axis keeps the scale of the points that are. Saturating
  at the band's edge would draw a point that is not there and stretch the
  axis to +-chart_max; a symmetric-log transform would keep every point but
  turn a slope of 2.0 into 0.48 on every healthy sheet.

The derivative chart follows one weight, the last (the output bias b or d):
its derivative is 2*(pred - y), on the scale of the data, where every other
weight's derivative carries a factor x or a weight and would be clipped on a
healthy sheet. Beside it, the optimiser's momentum of that weight (m_b, m_d)
when it keeps one: the forum's "derivative with and without momentum".

Cost. The columns add about a quarter to a sheet's cells (graddesc 14,157
-> 18,242 formula cells). In the engine they cost little: nothing reads
them, so they are computed after each epoch's rows, a column at a time over
the epoch's arrays (`engine.Program.derived`), not row by row -- where a
clipped #N/A used to look like trouble and send the rest of its epoch to the
exact evaluator. `python benchmarks/chart_columns.py` (graddesc, 300 epochs,
2 cores under load 5): computing every sheet took 18.29 s with the columns
in the row path and 1.78 s after the rows at true_b = 3000 (98,349 #N/A
cells), 2.55 s and 1.83 s at graddesc's own scale, bit for bit the same
cells and error codes (tests/test_engine_derived.py).
"""

from __future__ import annotations

from .expr import Col, Expr, Fn, Name, if_, iserror, na
from .table import Column, EpochColumn, grad_column

CHART_MAX = 1000.0
SUFFIX = "_chart"


def chart_name(col: str) -> str:
    """The chart column of a step (or epoch-block) column: a -> a_chart."""
    return col + SUFFIX


def gap_errors(e: Expr) -> Expr:
    """e, with #N/A where e is an error (charts skip #N/A and draw other errors as 0)."""
    return if_(iserror(e), na(), e)


def clipped(e: Expr) -> Expr:
    """e, with #N/A where e is an error or |e| > chart_max."""
    return if_(iserror(e), na(), if_(Fn("ABS", (e,)) > Name("chart_max"), na(), e))


def positive(e: Expr) -> Expr:
    """e for a log axis: #N/A where e is an error, not above 0, or beyond chart_max."""
    return if_(iserror(e), na(), if_(e > Name("chart_max"), na(), if_(e > 0.0, e, na())))


def derivative_columns(params, grad: str, columns) -> list[str]:
    """The columns the derivative chart follows: the last weight's gradient, and its momentum if kept."""
    last = params[-1]
    names = {c.name for c in columns}
    return [grad_column(last, grad)] + ([f"m_{last}"] if f"m_{last}" in names else [])


def step_columns(params, grad: str, columns) -> list[Column]:
    """err^2 (for a log axis), the prediction, each weight and the derivative chart's columns, chart-safe."""
    by = {c.name: c for c in columns}
    out = [Column(chart_name("err"), "err^2 (chart)", gap_errors(Col("err")), fmt="#,##0.00",
                  note="err^2, #N/A where it overflowed: the error charts (log axis) skip it")]
    for name in ["pred", *params, *derivative_columns(params, grad, columns)]:
        src = by[name]
        out.append(Column(chart_name(name), f"{src.header} (chart)", clipped(Col(name)), fmt=src.fmt,
                          note=f"{src.header} as the charts draw it: #N/A where it is an error or beyond "
                               f"+-chart_max"))
    return out


def epoch_column() -> EpochColumn:
    """The epoch's mean err^2 for the error-per-epoch chart (log axis): #N/A where it overflowed."""
    return EpochColumn(chart_name("mse"), "mean err^2 (chart)", gap_errors(Col("mse")), fmt="#,##0.0000",
                       note="mean err^2, #N/A where it overflowed: the chart skips it")

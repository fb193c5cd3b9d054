"""What the charts draw: a chart-safe copy of every charted column that can explode.

A chart draws cells and cannot transform them, so each charted quantity gets a column of its own
(at the right end of the step table, header "... (chart)"): an error cell (drawn as 0) becomes
NA(), a gap; err^2 and the epoch's mean err^2 use a log axis; weights, predictions and derivatives,
which can be negative, are #N/A beyond +-chart_max (a named input), so one huge point does not
flatten the chart. The derivative chart follows the last weight (the output bias, on the data's
scale), beside its momentum when the optimiser keeps one. Nothing reads these columns, so the
engine computes them after each epoch's rows (`program.Program.derived`).
"""

from __future__ import annotations

from .expr import Col, Expr, Fn, Name, if_, iserror, na
from .table import EpochColumn, StepColumn, grad_column

CHART_MAX = 1000.0
SUFFIX = "_chart"


def chart_name(col: str) -> str:
    """The chart column of a step (or epoch-block) column: a -> a_chart."""
    return col + SUFFIX


def gap_errors(expr: Expr) -> Expr:
    """e, with #N/A where e is an error (charts skip #N/A and draw other errors as 0)."""
    return if_(iserror(expr), na(), expr)


def clipped(expr: Expr) -> Expr:
    """e, with #N/A where e is an error or |e| > chart_max."""
    return if_(iserror(expr), na(), if_(Fn("ABS", (expr,)) > Name("chart_max"), na(), expr))


def positive(expr: Expr) -> Expr:
    """expr for a log axis: #N/A where expr is an error, not above 0, or beyond chart_max."""
    return if_(iserror(expr), na(), if_(expr > Name("chart_max"), na(), if_(expr > 0.0, expr, na())))


def derivative_columns(params, grad: str, columns) -> list[str]:
    """The columns the derivative chart follows: the last weight's gradient, and its momentum if kept."""
    last = params[-1]
    names = {c.name for c in columns}
    return [grad_column(last, grad)] + ([f"m_{last}"] if f"m_{last}" in names else [])


def step_columns(params, grad: str, columns) -> list[StepColumn]:
    """err^2 (for a log axis), the prediction, each weight and the derivative chart's columns, chart-safe."""
    by = {c.name: c for c in columns}
    out = [StepColumn(chart_name("err"), "err^2 (chart)", gap_errors(Col("err")), fmt="#,##0.00",
                  note="err^2, #N/A where it overflowed: the error charts (log axis) skip it")]
    for name in ["pred", *params, *derivative_columns(params, grad, columns)]:
        src = by[name]
        out.append(StepColumn(chart_name(name), f"{src.header} (chart)", clipped(Col(name)), fmt=src.fmt,
                          note=f"{src.header} as the charts draw it: #N/A where it is an error or beyond "
                               f"+-chart_max"))
    return out


def epoch_column() -> EpochColumn:
    """The epoch's mean err^2 for the error-per-epoch chart (log axis): #N/A where it overflowed."""
    return EpochColumn(chart_name("mse"), "mean err^2 (chart)", gap_errors(Col("mse")), fmt="#,##0.0000",
                       note="mean err^2, #N/A where it overflowed: the chart skips it")

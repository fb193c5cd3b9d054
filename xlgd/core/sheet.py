"""Assemble one sheet: a model's columns, then an optimiser's, then the epoch block.

The step table reads, left to right, the way a learner follows one SGD step:
step and epoch, the data row (x, y), the weights this row uses, the forward
pass, the gradients, the optimiser state, and the new weights that the next
row picks up. Epochs are unrolled downward: epoch k+1's first row reads
epoch k's last row exactly like any other row reads the one above it.
"""

from __future__ import annotations

from ..errors import XlgdError
from . import chart_columns
from .chart_columns import CHART_MAX
from .expr import Col, Data, EpochValue, Name, Num, StepEdge, leaves
from .models import get_model
from .optimizers import CONVENTIONS, Param, get_optimizer
from .table import EpochColumn, Input, SheetSpec, StepColumn, grad_column

GRADS = ("analytic", "fd")


def resolve_knobs(model: str, optimizer: str, convention: str, given: dict, *, stability: bool = False) -> dict:
    """Every knob (named input cell) of such a sheet: its default, or the value `given` sets.

    The one answer to "does this knob apply to this sheet?": a given knob the sheet
    does not have, or an unknown model, optimiser or convention, is one XlgdError."""
    if convention not in CONVENTIONS:
        raise XlgdError(f"unknown convention {convention!r}; choose one of: {', '.join(CONVENTIONS)}")
    m, o = get_model(model), get_optimizer(optimizer)
    knobs = dict(o.hypers[convention])
    knobs.update(o.start_values(convention))
    knobs["h"] = 0.01
    for p in m.params:
        knobs[f"{p}_init"] = (m.inits or {}).get(p, 1.0)
    if stability:
        from .stability import EXPLODE_AT

        knobs["explode_at"] = EXPLODE_AT
    knobs["chart_max"] = CHART_MAX  # last: every other input keeps its cell
    for k, v in given.items():
        if k not in knobs:
            raise XlgdError(f"knob {k!r} does not apply to {model}/{optimizer} ({convention}); "
                            f"its knobs are: {', '.join(knobs)}")
        knobs[k] = v
    return knobs


def build_sheet(model: str, optimizer: str, convention: str = "graddesc", *, n_data: int,
                epochs: int = 1, knobs: dict | None = None, grad: str = "analytic", fd: bool = True,
                name: str | None = None, stability: bool = False) -> SheetSpec:
    """The SheetSpec of one (model, optimiser, convention): its inputs, step columns and epoch block."""
    values = resolve_knobs(model, optimizer, convention, knobs or {}, stability=stability)
    _check_choices(grad, fd, epochs, n_data)
    m, opt = get_model(model), get_optimizer(optimizer)
    lr = EpochValue("lr") if opt.epoch_rule else Name("lr")  # an epoch rule sets each epoch's lr
    columns = _model_columns(m, fd) + _optimizer_columns(m, opt, convention, grad, lr)
    if stability:
        from . import stability as _stab

        columns += _stab.columns(model, opt, convention, lr)
    columns += chart_columns.step_columns(m.params, grad, columns)
    epoch_cols = [EpochColumn("epoch", "epoch", Col("epoch", 1) + 1, first=Num(1), phase="pre", fmt="0")]
    if opt.epoch_rule:
        epoch_cols += opt.epoch_rule(m.params, convention)
    epoch_cols.append(EpochColumn("mse", "mean err^2", StepEdge("sum_err", "end") / Num(n_data), fmt="#,##0.0000",
                                  note="mean squared error over the epoch's rows"))
    epoch_cols.append(chart_columns.epoch_column())
    spec = SheetSpec(
        name=name or f"{model}_{optimizer}",
        title=f"{m.formula}  --  {optimizer} ({convention} convention)",
        model=model, optimizer=optimizer, convention=convention, grad=grad,
        inputs=[Input(k, float(v)) for k, v in values.items()], columns=columns, epoch_columns=epoch_cols,
        n_data=n_data, epochs=epochs, params=m.params, stability=stability,
    )
    _check_names(spec)
    return spec


def _check_choices(grad, fd, epochs, n_data):
    if grad not in GRADS:
        raise XlgdError(f"unknown gradient {grad!r}; choose one of: {', '.join(GRADS)}")
    if grad == "fd" and not fd:
        raise XlgdError("grad = 'fd' needs the forward-difference columns (fd = true)")
    if epochs < 1 or n_data < 1:
        raise XlgdError("a sheet needs at least one epoch and one data row")


def _model_columns(m, fd) -> list:
    """step, epoch, the data row, the weights this row uses, the model's columns, the running error."""
    columns = [
        StepColumn("step", "step", Col("step", 1) + 1, init=Num(0), fmt="0", width=6, note="SGD step number"),
        StepColumn("epoch", "epoch", EpochValue("epoch"), fmt="0", width=6, note="which pass over the data"),
        StepColumn("x", "x", Data("x"), fmt="0.####", width=7, note="x of this data row (from the data sheet)"),
        StepColumn("y", "y", Data("y"), fmt="0.####", width=7, note="y of this data row (from the data sheet)"),
    ]
    for p in m.params:
        columns.append(StepColumn(p, p, Col(f"new_{p}", 1), fmt="0.0000", note=f"weight {p} used in this row"))
    columns += m.columns(fd=fd)
    columns.append(StepColumn("sum_err", "epoch sum err", Col("sum_err", 1) + Col("err"), first=Col("err"),
                          fmt="#,##0.00", note="running sum of err^2 within the epoch"))
    return columns


def _optimizer_columns(m, opt, convention, grad, lr) -> list:
    """The optimiser's shared state, its stats per weight, and the new weights."""
    state, shared, steps = [], {}, []
    for p in m.params:
        param = Param(p, grad_column(p, grad), lr, state, shared)
        steps.append(StepColumn(f"new_{p}", f"new {p}", opt.step(param, convention), init=Name(f"{p}_init"),
                            note=f"updated {p}: {opt.doc}"))
    # Stats of one kind side by side (m_a, m_b, v_a, v_b), as in graddesc.
    state.sort(key=lambda c: c.name.split("_")[0], reverse=False)
    order = {"m": 0, "v": 1, "s": 2}
    state.sort(key=lambda c: order.get(c.name.split("_")[0], 9))
    return list(shared.values()) + state + steps


def _check_names(spec: SheetSpec):
    # A Col leaf with no column, or a lag-1 read of a column with no start
    # value, would render as a broken reference; fail while building.
    names = {c.name for c in spec.columns}
    inputs = {i.name for i in spec.inputs}
    for c in spec.columns:
        for d in c.deps(0) | c.deps(1):
            if d not in names:
                raise AssertionError(f"column {c.name} reads unknown column {d}")
        first_row = c.first if c.first is not None else c.expr
        for d in {n.name for n in leaves(first_row) if isinstance(n, Col) and n.lag == 1}:
            if spec.column(d).init is None:
                raise AssertionError(f"column {c.name} reads {d} of the row above, which has no start value")
    for c in spec.columns:
        for e in (c.expr, c.init, c.first):
            for leaf in leaves(e) if e is not None else ():
                if isinstance(leaf, Name) and leaf.name not in inputs:
                    raise AssertionError(f"column {c.name} reads unknown input {leaf.name}")

"""What a sheet is made of: input cells, step columns and epoch-summary columns.

These plain records are the common language of the engine (which evaluates
them), the layout (which places them), the writer and the checkers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .expr import Col, Expr, leaves


def grad_column(param: str, grad: str) -> str:
    """The gradient column an optimiser reads for a weight: analytic (g_a) or the forward-difference estimate (est_a)."""
    return f"g_{param}" if grad == "analytic" else f"est_{param}"


@dataclass
class Input:
    """A named input cell a learner may change (lr, beta1, h, a_init, ...)."""

    name: str
    value: float
    note: str = ""


@dataclass
class StepColumn:
    """One column of the step table: one formula per SGD step.

    `expr` is the formula of every step row; `first` (optional) replaces it
    on the first row of each epoch (running sums restart there); `init` is
    the value in the start row above the first step, for columns that later
    rows read with lag 1 (weights, optimiser state).
    """

    name: str
    header: str
    expr: Expr
    init: Expr | None = None
    first: Expr | None = None
    fmt: str = "0.0000"
    note: str = ""
    width: float = 11

    def deps(self, lag=0):
        exprs = [self.expr] + ([self.first] if self.first is not None else [])
        return {n.name for e in exprs for n in leaves(e) if isinstance(n, Col) and n.lag == lag}


@dataclass
class EpochColumn:
    """One column of the epoch summary block (one row per epoch).

    Leaves: Col(name, 1) is the previous epoch's value of a summary column;
    StepEdge(c, 'end') / StepEdge(c, 'above') the step column c on the epoch's last row /
    on the row above its first; Name the sheet's inputs.
    `phase` 'pre' cells are known as the epoch starts (its lr); 'post'
    cells summarise it.
    """

    name: str
    header: str
    expr: Expr
    first: Expr | None = None
    phase: str = "post"
    fmt: str = "0.0000"
    note: str = ""


@dataclass
class SheetSpec:
    name: str
    title: str
    model: str
    optimizer: str
    convention: str
    grad: str
    inputs: list[Input]
    columns: list[StepColumn]
    epoch_columns: list[EpochColumn]
    n_data: int
    epochs: int
    params: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    stability: bool = False  # stability columns + conditional formats (stability.py)

    @property
    def n_steps(self):
        return self.n_data * self.epochs

    def column(self, name) -> StepColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def input_values(self):
        return {i.name: i.value for i in self.inputs}

"""compute(recipe) -> Results: every value a workbook will show, computed ahead of writing.

template -> `Recipe` -> `compute` -> `Results` -> `book.write.write(recipe, results, path)`: writing
never runs the engine, so every caller gets the same numbers from the same call. `stream(recipe)`
runs a sheet no experiment grid reads epoch by epoch as the writer takes it (flat memory). The
sheets of an lr sweep are one vectorised run of the base sheet (`Result.take` splits it); the
experiment grids are evaluated from the sheets' results with spreadsheet error semantics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable

import numpy as np

from ..core.engine import Result, epochs, run
from ..core.expr import EpochCell, StepCell, leaves
from ..core.masked import NA
from ..core.stability import EXPLODE_AT
from ..core.table import SheetSpec
from . import experiments
from .facts import SheetFacts, sheet_facts

# A sheet up to this many steps is computed before writing (not streamed), so what happened on it
# (`facts.py`) can be written above its step table, beside the inputs.
FACT_STEPS = 32_000


@dataclass
class SheetSummary:
    """What `xlgd generate` reports per sheet (1-based steps, None when it never happened)."""

    sheet: str
    model: str
    optimizer: str
    convention: str
    epochs: int
    steps: int
    final_mse: float | None
    first_error_step: int | None
    first_explosion_step: int | None
    explode_at: float

    def as_dict(self):
        return asdict(self)


@dataclass
class SheetRun:
    """One sheet's values as the writer takes them: its start row, then epoch by epoch (once)."""

    spec: SheetSpec
    start: dict
    epochs: Iterable  # of core.engine.Epoch
    facts: SheetFacts | None = None  # None: a streamed sheet, its facts known only after writing


@dataclass
class Results:
    """Every computed value of a recipe: one engine Result per sheet, values per experiment grid.

    From `stream`, `sheets` holds only the sheets a grid reads (and sweeps);
    the others run when `runs` is iterated, and leave their `summaries`."""

    sheets: dict[str, Result]
    grids: dict[str, dict] = field(default_factory=dict)  # grid name -> {(row, col): value or error code}
    dialect: str = "excel"
    summaries: dict = field(default_factory=dict)  # sheet -> SheetSummary of a streamed sheet
    data: object = None  # the recipe's data, for the sheets still to run
    _facts: dict = field(default_factory=dict, repr=False)

    def __getitem__(self, sheet: str) -> Result:
        return self.sheets[sheet]

    def runs(self, recipe):
        """Each sheet in recipe order, as a SheetRun (a streamed sheet's engine runs as it is consumed)."""
        for spec in recipe.sheets:
            if spec.name in self.sheets:
                res = self.sheets[spec.name]
                yield SheetRun(spec, res.start, res.chunks(), self.facts(spec))
            else:
                start, eps = epochs(spec, self.data.x, self.data.y, dialect=self.dialect)
                yield SheetRun(spec, start, self._tally(spec, eps))

    def facts(self, spec) -> SheetFacts | None:
        """What happened on a computed sheet (`facts.py`); None for a sheet streamed while written."""
        if spec.name not in self.sheets:
            return None
        if spec.name not in self._facts:
            self._facts[spec.name] = sheet_facts(spec, self.sheets[spec.name].chunks())
        return self._facts[spec.name]

    def _tally(self, spec, eps):
        """Pass the epochs on, noting what the sheet's summary needs."""
        t = Tally(spec)
        for ep in eps:
            t.add(ep)
            yield ep
        self.summaries[spec.name] = t.summary()

    def summary(self, recipe) -> list[SheetSummary]:
        out = []
        for spec in recipe.sheets:
            if spec.name in self.summaries:
                out.append(self.summaries[spec.name])
                continue
            res = self.sheets[spec.name]
            out.append(_summary(spec, res.first_error_step(), res.first_explosion_step(),
                                res.value("@mse", spec.epochs - 1)))
        return out


def _summary(spec, bad, boom, final) -> SheetSummary:
    return SheetSummary(spec.name, spec.model, spec.optimizer, spec.convention, spec.epochs, spec.n_steps,
                        None if isinstance(final, str) else float(final), None if bad is None else bad + 1,
                        None if boom is None else boom + 1, _explode_at(spec))


def _explode_at(spec):
    return spec.input_values().get("explode_at", EXPLODE_AT)


class Tally:
    """A streamed sheet's summary, epoch by epoch: first error, first explosion, final mean err^2."""

    def __init__(self, spec):
        self.spec, self.bad, self.boom, self.final = spec, None, None, None

    def add(self, epoch):
        r0 = epoch.k * self.spec.n_data
        if self.bad is None and epoch.may_hold_errors and any(c.any() for c in epoch.codes.values()):
            rows = np.nonzero(np.any([(c != 0) & (c != NA) for c in epoch.codes.values()], axis=0))[0]
            self.bad = r0 + int(rows[0]) if len(rows) else None  # #N/A is not one (Result.first_error_step)
        if self.boom is None and "err" in epoch.steps:
            err = epoch.steps["err"]
            with np.errstate(invalid="ignore"):
                rows = np.nonzero(~np.isfinite(err) | (err > _explode_at(self.spec)))[0]
            self.boom = r0 + int(rows[0]) if len(rows) else None
        self.final = epoch.cell("mse")

    def summary(self) -> SheetSummary:
        return _summary(self.spec, self.bad, self.boom, self.final)


def compute(recipe, dialect: str = "excel") -> Results:
    """Run every sheet (sweeps batched) and evaluate every experiment grid."""
    return _results(recipe, dialect, keep=lambda spec: True)


def stream(recipe, dialect: str = "excel") -> Results:
    """compute, but a sheet that no experiment grid reads and longer than FACT_STEPS runs only when
    `Results.runs` is iterated."""
    read = {leaf.sheet for g in experiments.grids(recipe) for kind, e, _ in g.cells.values()
            if kind == "formula" for leaf in leaves(e) if isinstance(leaf, (StepCell, EpochCell))}
    return _results(recipe, dialect, keep=lambda spec: spec.name in read or spec.n_steps <= FACT_STEPS)


def _results(recipe, dialect, keep) -> Results:
    sheets = {}
    for e, specs in experiments.sweep_groups(recipe):
        lrs = np.array([s.input_values()["lr"] for s in specs])
        batch = run(specs[0], recipe.data.x, recipe.data.y, inputs={"lr": lrs}, dialect=dialect)
        for b, s in enumerate(specs):
            sheets[s.name] = batch.take(b, s)
    for spec in recipe.sheets:
        if spec.name not in sheets and keep(spec):
            sheets[spec.name] = run(spec, recipe.data.x, recipe.data.y, dialect=dialect)
    grids = {g.name: experiments.evaluate(g, recipe, sheets, dialect) for g in experiments.grids(recipe)}
    return Results(sheets, grids, dialect, data=recipe.data)

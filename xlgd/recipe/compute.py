"""compute(recipe) -> Results: every value a workbook will show, before anything is written.

The pipeline is straight: template -> `Recipe` -> `compute` -> `Results` ->
`book.write.write(recipe, results, path)`. Writing never runs the engine, so
the command line, the notebook API, `charts regenerate` and `diff`'s "what
xlgd would generate" all get the same numbers from the same call, and a
caller that only wants the numbers (`xlgd.run`) never writes a file.

Each sheet is one engine run; the sheets of an lr sweep are one vectorised
run of the base sheet over the grid of learning rates (`Result.take` splits
it), which is bit-for-bit what separate runs give. Then each experiment grid
is evaluated from the sheets' results with spreadsheet error semantics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..core.engine import Result, run
from ..core.stability import EXPLODE_AT
from . import experiments


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
class Results:
    """Every computed value of a recipe: one engine Result per sheet, values per experiment grid."""

    sheets: dict[str, Result]
    grids: dict[str, dict] = field(default_factory=dict)  # grid name -> {(row, col): value or error code}
    dialect: str = "excel"

    def __getitem__(self, sheet: str) -> Result:
        return self.sheets[sheet]

    def summary(self, recipe) -> list[SheetSummary]:
        out = []
        for spec in recipe.sheets:
            res = self.sheets[spec.name]
            bad, boom = res.first_error_step(), res.first_explosion_step()
            out.append(SheetSummary(
                spec.name, spec.model, spec.optimizer, spec.convention, spec.epochs, spec.n_steps,
                None if ("@mse", spec.epochs - 1) in res.errors else float(res.epochs["mse"][-1]),
                None if bad is None else bad + 1, None if boom is None else boom + 1,
                spec.input_values().get("explode_at", EXPLODE_AT)))
        return out


def compute(recipe, dialect: str = "excel") -> Results:
    """Run every sheet (sweeps batched) and evaluate every experiment grid."""
    sheets = {}
    for e, specs in experiments.sweep_groups(recipe):
        lrs = np.array([s.input_values()["lr"] for s in specs])
        batch = run(specs[0], recipe.data.x, recipe.data.y, inputs={"lr": lrs}, dialect=dialect)
        for b, s in enumerate(specs):
            sheets[s.name] = batch.take(b, s)
    for spec in recipe.sheets:
        if spec.name not in sheets:
            sheets[spec.name] = run(spec, recipe.data.x, recipe.data.y, dialect=dialect)
    grids = {g.name: experiments.evaluate(g, recipe, sheets, dialect) for g in experiments.grids(recipe)}
    return Results(sheets, grids, dialect)

"""What happened on a sheet, read from its computed values: the facts the workbook tells the learner.

* **exploded**: the first step whose err^2 overflowed or passed explode_at
  (the stability column's "exploded at", for every sheet).
* **dead**: a ReLU unit (relu2's hidden input z = a*x + b) that is <= 0 on
  every row from this step to the last, for at least one whole epoch: it
  passes nothing forward and a, b get no gradient, so the fit is flat.
* **lost_h**: per weight, the first step whose forward-difference estimate
  is exactly 0 while the derivative is not, because w + h rounds to w: the
  weight is so large that h is lost and the weight stops moving.

`Facts.add` reads one epoch at a time, so a streamed sheet is told the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.stability import EXPLODE_AT


@dataclass
class SheetFacts:
    """The facts of one sheet (1-based steps; None or empty when it did not happen)."""

    exploded: int | None = None
    dead: int | None = None
    lost_h: dict = field(default_factory=dict)   # weight -> first step


class Facts:
    """Gathers a sheet's facts epoch by epoch (`core.engine.Epoch`s, in order)."""

    def __init__(self, spec):
        self.spec = spec
        knobs = spec.input_values()
        self.explode_at = knobs.get("explode_at", EXPLODE_AT)
        self.h = knobs.get("h")
        self.out = SheetFacts()
        self.off_since = None     # first row of the current run of rows with z <= 0
        self.rows = 0

    def add(self, epoch) -> None:
        first_row, steps, codes = self.rows, epoch.steps, epoch.codes
        n = len(steps["err"])
        self.rows += n
        if self.out.exploded is None:
            with np.errstate(invalid="ignore"):
                hit = np.nonzero((codes["err"] != 0) | (steps["err"] > self.explode_at))[0]
            if len(hit):
                self.out.exploded = first_row + int(hit[0]) + 1
        if self.spec.model.startswith("relu") and "z" in steps:
            self._unit(first_row, steps["z"], codes["z"])
        if self.spec.grad == "fd" and self.h:
            self._lost_h(first_row, steps, codes)

    def _unit(self, first_row, z, code):
        with np.errstate(invalid="ignore"):
            off = (code == 0) & (z <= 0)
        on = np.nonzero(~off)[0]
        if len(on):
            self.off_since = first_row + int(on[-1]) + 1 if on[-1] + 1 < len(off) else None
        elif self.off_since is None:
            self.off_since = first_row

    def _lost_h(self, first_row, steps, codes):
        for w in self.spec.params:
            if w in self.out.lost_h or f"est_{w}" not in steps:
                continue
            est, grad, val = steps[f"est_{w}"], steps[f"g_{w}"], steps[w]
            ok = (codes[f"est_{w}"] == 0) & (codes[f"g_{w}"] == 0) & (codes[w] == 0)
            with np.errstate(invalid="ignore"):
                lost = ok & (est == 0) & (grad != 0) & (val + self.h == val)
            hit = np.nonzero(lost)[0]
            if len(hit):
                self.out.lost_h[w] = first_row + int(hit[0]) + 1

    def result(self) -> SheetFacts:
        if self.off_since is not None and self.rows - self.off_since >= self.spec.n_data:
            self.out.dead = self.off_since + 1
        return self.out


def sheet_facts(spec, epochs) -> SheetFacts:
    """The facts of a sheet from its epochs (`Result.chunks()`)."""
    f = Facts(spec)
    for ep in epochs:
        f.add(ep)
    return f.result()

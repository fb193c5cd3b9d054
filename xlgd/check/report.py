"""What `xlgd verify` says: root causes per sheet, and the report as text or JSON.

A `Cause` is one thing a person did or that went wrong (an edited formula,
a run of stale values), with the number of cells downstream of it that
differ from the engine's run because of it -- not a line per cell.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class Cause:
    """One root cause: a cell and a plain reason; `downstream` cells follow from it."""

    sheet: str
    cell: str
    kind: str  # formula, constant, missing, stale, value, error, data, trajectory
    message: str
    cells: int = 1
    downstream: int = 0
    step: int = -1

    def lines(self):
        out = [f"{self.sheet}!{self.cell}: {self.message}"]
        if self.downstream:
            out.append(f"  ... and {self.downstream} cell(s) downstream of {self.sheet}!{self.cell} differ from "
                       f"the engine's run because of it")
        return out


@dataclass
class SheetReport:
    name: str
    layout: str  # 'xlgd' or 'graddesc:<kind>'
    checked: int = 0
    failed: int = 0
    causes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    max_ulp: int = 0


@dataclass
class Report:
    path: str
    producer: str
    dialect: str
    values_source: str
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)

    @property
    def ok(self):
        return all(s.failed == 0 for s in self.sheets)

    def as_dict(self):
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def text(self):
        out = [f"{self.path}: values from {self.values_source}; saved by {self.producer}, "
               f"errors compared in the {self.dialect} dialect"]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"note: {n}" for n in self.notes]
        for s in self.sheets:
            status = "ok" if s.failed == 0 else f"{s.failed} failed"
            out.append(f"{s.name} ({s.layout}): {s.checked} cells checked, {status}, max {s.max_ulp} ulp from the engine")
            out += [f"  note: {n}" for n in s.notes]
            for c in s.causes:
                out += ["  " + line for line in c.lines()]
        out.append("OK: every computed cell checks out" if self.ok else
                   f"FAILED: {sum(len(s.causes) for s in self.sheets)} root cause(s)")
        return "\n".join(out)


def fmt_value(v):
    if isinstance(v, str):
        return v
    if v is None:
        return "empty"
    if not math.isfinite(v):  # a cached 1e400 reads as inf; int() of it would raise
        return repr(float(v))
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def same_value(a, b, rtol):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return False
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def ulp_distance(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ia, ib = a.view(np.int64), b.view(np.int64)
    ia = np.where(ia < 0, np.int64(-0x8000000000000000) - ia, ia)
    ib = np.where(ib < 0, np.int64(-0x8000000000000000) - ib, ib)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return 0
    return int(np.abs(ia[ok] - ib[ok]).max())



"""What `xlgd verify` says: root causes per sheet, coverage, and the report as text or JSON.

A `Cause` is one thing a person did or that went wrong (an edited formula,
a run of stale values), with the number of cells downstream of it that
differ because of it -- not a line per cell.

Coverage: every formula cell of every sheet is counted once, as checked (by
the engine's run for xlgd's and graddesc's sheets, by the workbook
evaluator for everything else) or unchecked with a reason (`Unchecked`: a
range of cells, the reason, and how many cells depend on them). The last
line says it: `OK: 18,276 of 18,276 formula cells check out`, `OK with 30
unchecked: ...; data!B5:B33 and 1 dependant use RANDBETWEEN (volatile)`,
`FAILED: ...`, or `UNCHECKED: 0 of 37 formula cells could be checked (...)` when
not one formula cell could be (never OK). "Every" is never said when a cell was
not checked.

Numbers compare as values: inf, -inf and NaN equal only themselves (a
cached inf where 15.0 belongs is a difference, whatever the tolerance).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class Cause:
    """One root cause: a cell and a plain reason; `downstream` cells follow from it."""

    sheet: str
    cell: str
    kind: str  # formula, constant, missing, stale, value, error, data, trajectory, name, structure, circular
    message: str
    cells: int = 1
    downstream: int = 0
    step: int = -1
    source: str = "the engine's run"  # what the downstream cells differ from

    def lines(self):
        out = [f"{self.sheet}!{self.cell}: {self.message}"]
        if self.downstream:
            out.append(f"  ... and {self.downstream} cell(s) downstream of {self.sheet}!{self.cell} differ from "
                       f"{self.source} because of it")
        return out


@dataclass
class Unchecked:
    """Formula cells no one could check: `where` (a range), why, and how many cells depend on them."""

    sheet: str
    where: str  # 'data!B5:B33'
    reason: str  # 'use RANDBETWEEN (volatile)'
    cells: int
    dependants: int = 0

    def text(self):
        dep = f" and {self.dependants:,} dependant{'s' if self.dependants != 1 else ''}" if self.dependants else ""
        return f"{self.where}{dep} {self.reason}"


@dataclass
class SheetReport:
    name: str
    layout: str  # 'xlgd', 'graddesc:<kind>', 'unknown' (checked by the workbook evaluator) ...
    checked: int = 0  # formula cells checked (passing or failing)
    failed: int = 0  # formula cells among `checked` that fail; a cause at a constant or an empty row is no formula cell
    causes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    max_ulp: int = 0
    formula_cells: int = 0
    unchecked: list = field(default_factory=list)  # [Unchecked]
    descent: str | None = None  # what its gradient descent is and whether it checks out (gradient_check.py)

    @property
    def unchecked_cells(self) -> int:
        return sum(u.cells + u.dependants for u in self.unchecked)


@dataclass
class Report:
    path: str
    producer: str
    dialect: str
    values_source: str
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)
    causes: list = field(default_factory=list)  # workbook-level causes (defined names ...)
    gradient_descent: list = field(default_factory=list)  # one entry per sheet doing gradient descent

    @property
    def has_causes(self):
        return bool(self.causes) or any(s.failed or s.causes for s in self.sheets)

    @property
    def none_checked(self):
        """The book has formula cells and not one of them could be checked."""
        return self.formula_cells > 0 and not any(s.checked for s in self.sheets)

    @property
    def ok(self):
        """No cause, and something was checked: a book none of whose formula cells could be checked
        is not OK."""
        return not self.has_causes and not self.none_checked

    @property
    def formula_cells(self):
        return sum(s.formula_cells for s in self.sheets)

    @property
    def checked_ok(self):
        return sum(max(0, s.checked - s.failed) for s in self.sheets)

    @property
    def unchecked(self):
        return [u for s in self.sheets for u in s.unchecked]

    def as_dict(self):
        d = asdict(self)
        d["ok"] = self.ok
        d["formula_cells"] = self.formula_cells
        d["checked"] = sum(s.checked for s in self.sheets)  # checked, passing or failing (as per sheet)
        d["checked_ok"] = self.checked_ok  # of those, the ones that check out
        d["unchecked"] = [asdict(u) | {"text": u.text()} for u in self.unchecked]
        d["unchecked_cells"] = sum(s.unchecked_cells for s in self.sheets)
        for s, sd in zip(self.sheets, d["sheets"]):
            sd["checked_ok"] = max(0, s.checked - s.failed)
        d["verdict"] = self.verdict()
        return d

    def verdict(self) -> str:
        n, good = self.formula_cells, self.checked_ok
        un = sum(s.unchecked_cells for s in self.sheets)
        why = "; ".join(u.text() for u in self.unchecked[:3])
        if len(self.unchecked) > 3:
            why += f"; and {len(self.unchecked) - 3} more"
        tally = f"{good:,} of {n:,} formula cells check out"
        if self.has_causes:
            causes = len(self.causes) + sum(len(s.causes) for s in self.sheets)
            return f"FAILED: {causes} root cause(s); {tally}" + (f"; {un:,} unchecked: {why}" if un else "")
        if self.none_checked:
            return f"UNCHECKED: 0 of {n:,} formula cells could be checked ({why or 'no reason recorded'})"
        if un:
            return f"OK with {un:,} unchecked: {tally}; {why}"
        return f"OK: {tally}"

    def head(self) -> list:
        """The report's first lines: the file, where its values come from, the workbook's warnings and notes."""
        out = [(f"{self.path}: values from {self.values_source}; saved by {self.producer}, "
                f"errors compared in the {self.dialect} dialect")]
        out += [f"warning: {w}" for w in self.warnings]
        return out + [f"note: {n}" for n in self.notes]

    def text(self):
        """The whole report, every sheet, unchecked range and cause (`report_text.screen_text` groups it)."""
        out = self.head()
        for c in self.causes:
            out += c.lines()
        for s in self.sheets:
            out.append(sheet_line(s))
            if s.descent:
                out.append(f"  {s.descent}")
            out += [f"  note: {n}" for n in s.notes]
            out += [f"  unchecked: {u.text()}" for u in s.unchecked]
            for c in s.causes:
                out += ["  " + line for line in c.lines()]
        out.append(self.verdict())
        return "\n".join(out)


def sheet_line(sheet: SheetReport) -> str:
    """A sheet's first line: how many formula cells were checked, how many not, and the outcome."""
    if sheet.formula_cells and not sheet.checked and not sheet.causes:
        why = "; ".join(u.text() for u in sheet.unchecked[:2]) or "no reason recorded"
        more = f"; and {len(sheet.unchecked) - 2} more" if len(sheet.unchecked) > 2 else ""
        return f"{sheet.name} ({sheet.layout}): {sheet.formula_cells:,} formula cells, none checked: {why}{more}"
    status = f"{sheet.failed:,} failed" if sheet.failed else f"{len(sheet.causes)} problem(s)" if sheet.causes \
        else "ok"
    un = f", {sheet.unchecked_cells:,} unchecked" if sheet.unchecked_cells else ""
    ulp = f", max {sheet.max_ulp} ulp" if sheet.checked else ""
    return (f"{sheet.name} ({sheet.layout}): {sheet.checked:,} of {sheet.formula_cells:,} formula cells checked, "
            f"{status}{un}{ulp}")


def fmt_value(value):
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    if value is None:
        return "empty"
    value = float(value)
    if not np.isfinite(value):
        return repr(value)
    return repr(value) if value != int(value) or abs(value) >= 1e15 else str(int(value))


def same_value(a, b, rtol):
    """Two cell values agree: the same text or error, or numbers within rtol -- where inf, -inf
    and NaN are values of their own, equal only to themselves."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return False
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b)):
        return a == b or (np.isnan(a) and np.isnan(b))
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def agree(have, want, rtol, tol=None) -> np.ndarray:
    """same_value over arrays: equal, or finite and within rtol (or tol); inf, -inf and NaN only
    equal themselves."""
    have, want = np.asarray(have, dtype=np.float64), np.asarray(want, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (have == want) | (np.isnan(have) & np.isnan(want))
        both = np.isfinite(have) & np.isfinite(want)
        if rtol:
            ok |= both & (np.abs(have - want) <= rtol * np.maximum(np.abs(have), np.abs(want)))
        if tol is not None:
            ok |= both & (np.abs(have - want) <= tol)
    return ok


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

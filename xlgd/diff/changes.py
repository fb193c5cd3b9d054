"""What a diff finds, one small frozen class per kind of change.

Each class knows its `kind` (the JSON name), its `rank` (causes first: what
a person typed, then what they moved, then what only followed), the colour
the terminal shows it in, one line of text (`describe`) and its JSON
(`as_dict`). A new kind of change is one class here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


def show_value(value) -> str:
    """A value in a report line: numbers to 10 significant digits, text quoted."""
    if isinstance(value, float):
        return f"{value:.10g}"
    return repr(value) if isinstance(value, str) else str(value)


def _what(differs) -> str:
    what = ", ".join(f"{a or '(nothing)'} -> {b or '(nothing)'}" for a, b in differs or [])
    return f"  [{what}]" if what else ""


@dataclass(frozen=True)
class Change:
    """One difference. Subclasses set `kind`, `rank` and `color`; fields named in `OPTIONAL`
    are left out of the JSON while None."""

    kind: ClassVar[str] = "change"
    rank: ClassVar[int] = 99
    color: ClassVar[str | None] = None
    OPTIONAL: ClassVar[tuple] = ()

    @property
    def sheet_name(self) -> str:
        return getattr(self, "sheet", None) or getattr(self, "ref_sheet", None) or ""

    @property
    def weight(self) -> int:
        """How many differences this change counts for in the summary line."""
        return 1

    def where(self) -> str:
        cell = getattr(self, "cell", None)
        if cell:
            return f"{self.sheet_name}!{cell}"
        return self.sheet_name or "workbook"

    def describe(self) -> str:
        raise NotImplementedError

    def as_dict(self) -> dict:
        out = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None and f.name in self.OPTIONAL:
                continue
            out[f.name] = v
        return out


# --------------------------------------------------------------------------
# Cells a person edited


@dataclass(frozen=True)
class CellChange(Change):
    """A cell edited: where it is on both sides, and what it held."""

    sheet: str
    cell: str
    ref_cell: str
    old: object
    new: object


@dataclass(frozen=True)
class InputChanged(CellChange):
    kind: ClassVar[str] = "input_changed"
    rank: ClassVar[int] = 0
    color: ClassVar[str] = "yellow"
    OPTIONAL: ClassVar[tuple] = ("name",)
    name: str | None = None

    def describe(self):
        who = f"{self.name} " if self.name else ""
        return f"input {who}changed: {show_value(self.old)} -> {show_value(self.new)}"


@dataclass(frozen=True)
class FormulaChanged(CellChange):
    """Both formulas, what differs in A1 and in R1C1 form (which shows what A1 hides: `=X -> =X`
    read from a row that moved). `cells`/`last` when one edit was made to a run of cells."""

    kind: ClassVar[str] = "formula_changed"
    rank: ClassVar[int] = 1
    color: ClassVar[str] = "magenta"
    OPTIONAL: ClassVar[tuple] = ("old_r1c1", "new_r1c1", "differs_r1c1", "old_value", "new_value", "last", "cells")
    differs: list = dataclasses.field(default_factory=list)
    old_r1c1: str | None = None
    new_r1c1: str | None = None
    differs_r1c1: list | None = None
    old_value: object = None
    new_value: object = None
    last: str | None = None
    cells: int | None = None

    def where(self):
        return super().where() + (f":{self.last}" if self.last else "")

    def describe(self):
        out = f"formula changed: {self.old} -> {self.new}" + _what(self.differs)
        if self.differs_r1c1 is not None and self.differs_r1c1 != self.differs:
            out += f"; R1C1 {self.old_r1c1} -> {self.new_r1c1}" + _what(self.differs_r1c1)
        if self.cells:
            out += f" ({self.cells} cells, the same edit in R1C1)"
        return out


@dataclass(frozen=True)
class FormulaToConstant(CellChange):
    kind: ClassVar[str] = "formula_to_constant"
    rank: ClassVar[int] = 2
    color: ClassVar[str] = "red"
    old_value: object = None

    def describe(self):
        return f"constant {show_value(self.new)} typed over {self.old} (was {show_value(self.old_value)})"


@dataclass(frozen=True)
class ConstantToFormula(CellChange):
    kind: ClassVar[str] = "constant_to_formula"
    rank: ClassVar[int] = 3
    color: ClassVar[str] = "magenta"
    new_value: object = None

    def describe(self):
        return f"formula {self.new} typed over constant {show_value(self.old)}"


@dataclass(frozen=True)
class CellAdded(CellChange):
    kind: ClassVar[str] = "cell_added"
    rank: ClassVar[int] = 4
    color: ClassVar[str] = "green"
    OPTIONAL: ClassVar[tuple] = ("new_value",)
    new_value: object = None

    def describe(self):
        return f"cell filled: {show_value(self.new)}"


@dataclass(frozen=True)
class CellRemoved(CellChange):
    kind: ClassVar[str] = "cell_removed"
    rank: ClassVar[int] = 5
    color: ClassVar[str] = "red"
    OPTIONAL: ClassVar[tuple] = ("new", "old_value")
    old_value: object = None

    def describe(self):
        return f"cell emptied (was {show_value(self.old)})"


@dataclass(frozen=True)
class TextChanged(CellChange):
    kind: ClassVar[str] = "text_changed"
    rank: ClassVar[int] = 6
    OPTIONAL: ClassVar[tuple] = ("name",)
    name: str | None = None

    def describe(self):
        return f"text changed: {show_value(self.old)} -> {show_value(self.new)}"


@dataclass(frozen=True)
class MoreCells(Change):
    kind: ClassVar[str] = "more_cells"
    rank: ClassVar[int] = 7
    sheet: str
    count: int

    @property
    def weight(self):
        return self.count

    def describe(self):
        return f"... and {self.count} more cell-level changes not listed"


# --------------------------------------------------------------------------
# The workbook: defined names, charts, calculation settings


@dataclass(frozen=True)
class NameAdded(Change):
    kind: ClassVar[str] = "defined_name_added"
    rank: ClassVar[int] = 8
    name: str
    scope: str | None
    new: str

    def describe(self):
        return f"defined name {self.name} added: {self.new}"


@dataclass(frozen=True)
class NameRemoved(Change):
    kind: ClassVar[str] = "defined_name_removed"
    rank: ClassVar[int] = 9
    name: str
    scope: str | None
    old: str

    def describe(self):
        return f"defined name {self.name} removed (was {self.old})"


@dataclass(frozen=True)
class NameChanged(Change):
    kind: ClassVar[str] = "defined_name_changed"
    rank: ClassVar[int] = 10
    name: str
    scope: str | None
    old: str
    new: str

    def describe(self):
        if self.old == self.new:
            return f"defined name {self.name} kept its text {self.old} while rows or columns moved: it now names other cells"
        return f"defined name {self.name}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class ChartSeriesChanged(Change):
    kind: ClassVar[str] = "chart_series_changed"
    rank: ClassVar[int] = 11
    color: ClassVar[str] = "blue"
    sheet: str
    chart: str
    series: str
    role: str
    old: str | None
    new: str | None

    def describe(self):
        head = f"chart {self.chart!r}, series {self.series!r}: {self.role} reference"
        if self.old == self.new:
            return f"{head} {self.old} kept its text while rows or columns moved: it now names other cells"
        return f"{head} {self.old} -> {self.new}"


@dataclass(frozen=True)
class CalcSettingChanged(Change):
    kind: ClassVar[str] = "calc_settings_changed"
    rank: ClassVar[int] = 12
    color: ClassVar[str] = "red"
    setting: str
    old: str | None
    new: str | None

    def describe(self):
        return f"calculation setting {self.setting}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class ChartAdded(Change):
    kind: ClassVar[str] = "chart_added"
    rank: ClassVar[int] = 23
    sheet: str
    chart: str

    def describe(self):
        return f"chart {self.chart!r} added"


@dataclass(frozen=True)
class ChartRemoved(ChartAdded):
    kind: ClassVar[str] = "chart_removed"
    rank: ClassVar[int] = 24

    def describe(self):
        return f"chart {self.chart!r} removed"


# --------------------------------------------------------------------------
# Structure: sheets, rows, columns


@dataclass(frozen=True)
class SheetRenamed(Change):
    kind: ClassVar[str] = "sheet_renamed"
    rank: ClassVar[int] = 13
    color: ClassVar[str] = "cyan"
    sheet: str
    old: str
    new: str

    def describe(self):
        return f"sheet renamed {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class SheetAdded(Change):
    kind: ClassVar[str] = "sheet_added"
    rank: ClassVar[int] = 14
    color: ClassVar[str] = "green"
    sheet: str

    def describe(self):
        return "sheet added"


@dataclass(frozen=True)
class SheetRemoved(Change):
    kind: ClassVar[str] = "sheet_removed"
    rank: ClassVar[int] = 15
    color: ClassVar[str] = "red"
    ref_sheet: str

    def describe(self):
        return f"sheet {self.ref_sheet!r} removed"


@dataclass(frozen=True)
class Unadjusted:
    """Formulas that kept their text while the rows they read moved: how many, the first, and
    how many chart series references did the same."""

    formulas: int
    first: str
    charts: int = 0

    def text(self) -> str:
        return f"{self.formulas} formula(s) kept their text and now read other cells (first {self.first})"

    def charts_text(self) -> str:
        return f", and {self.charts} chart series reference(s)" if self.charts else ""

    def as_dict(self) -> dict:
        return {"formulas": self.formulas, "first": self.first, **({"charts": self.charts} if self.charts else {})}


@dataclass(frozen=True)
class RowMove(Change):
    """Rows inserted or deleted; `unadjusted` when references below kept their text (a naive insert)."""

    sheet: str
    count: int

    @property
    def kind(self):
        return self.base_kind + ("_unadjusted" if self.unadjusted else "")

    @property
    def rank(self):
        return self.base_rank + (1 if self.unadjusted else 0)

    def as_dict(self):
        out = super().as_dict()
        del out["unadjusted"]
        return {**out, **(self.unadjusted.as_dict() if self.unadjusted else {})}


@dataclass(frozen=True)
class RowsInserted(RowMove):
    base_kind: ClassVar[str] = "rows_inserted"
    base_rank: ClassVar[int] = 16
    color: ClassVar[str] = "green"
    at: int
    rows: str
    unadjusted: Unadjusted | None = None

    def describe(self):
        u = self.unadjusted
        if u is None:
            return f"{self.count} row(s) inserted at row {self.at} (rows {self.rows})"
        return (f"row {self.at} inserted but references below were not adjusted"
                + (f" ({self.count} rows {self.rows})" if self.count > 1 else "") + f": {u.text()}" + u.charts_text())


@dataclass(frozen=True)
class RowsDeleted(RowMove):
    base_kind: ClassVar[str] = "rows_deleted"
    base_rank: ClassVar[int] = 18
    color: ClassVar[str] = "red"
    ref_at: int
    ref_rows: str
    unadjusted: Unadjusted | None = None

    def describe(self):
        u = self.unadjusted
        if u is None:
            return f"{self.count} row(s) deleted (reference rows {self.ref_rows})"
        return (f"{self.count} row(s) deleted (reference rows {self.ref_rows}) but references below were not "
                f"adjusted: {u.text()}" + u.charts_text())


@dataclass(frozen=True)
class ReferencesUnadjusted(Change):
    kind: ClassVar[str] = "references_unadjusted"
    rank: ClassVar[int] = 20
    sheet: str
    unadjusted: Unadjusted

    def describe(self):
        u = self.unadjusted
        return f"{u.formulas} formula(s) kept their text but now read other cells (first {u.first})" + u.charts_text()

    def as_dict(self):
        return {"kind": self.kind, "sheet": self.sheet, **self.unadjusted.as_dict()}


@dataclass(frozen=True)
class ColumnAdded(Change):
    kind: ClassVar[str] = "column_added"
    rank: ClassVar[int] = 21
    color: ClassVar[str] = "green"
    sheet: str
    column: str
    header: str

    def describe(self):
        return f"column {self.column} added ({self.header!r})"


@dataclass(frozen=True)
class ColumnRemoved(Change):
    kind: ClassVar[str] = "column_removed"
    rank: ClassVar[int] = 22
    color: ClassVar[str] = "red"
    sheet: str
    ref_column: str
    header: str

    def describe(self):
        return f"column {self.ref_column} removed ({self.header!r})"


# --------------------------------------------------------------------------
# Values that only followed


@dataclass(frozen=True)
class ValuesChanged(Change):
    """A column's values that differ under the same formulas: a consequence, summarised."""

    kind: ClassVar[str] = "values_changed"
    rank: ClassVar[int] = 26
    color: ClassVar[str] = "dim"
    sheet: str
    column: str
    ref_column: str
    header: str
    count: int
    first: str
    last: str
    max_abs: object
    max_rel: object
    example: dict

    @property
    def weight(self):
        return self.count

    def _head(self):
        return (f"column {self.column} ({self.header or 'no header'}): {self.count} value(s) differ "
                f"{self.first}..{self.last}")

    def describe(self):
        return (f"{self._head()} (max abs {show_value(self.max_abs)}, max rel {show_value(self.max_rel)}) "
                f"-- follows from the changes above")


@dataclass(frozen=True)
class VolatileChanged(ValuesChanged):
    kind: ClassVar[str] = "volatile_changed"
    rank: ClassVar[int] = 25
    function: str = ""

    def describe(self):
        return (f"{self._head()} -- {self.function} is volatile: a new value on every recalculation, "
                f"not an edit")


KINDS = [InputChanged, FormulaChanged, FormulaToConstant, ConstantToFormula, CellAdded, CellRemoved, TextChanged,
         MoreCells, NameAdded, NameRemoved, NameChanged, ChartSeriesChanged, CalcSettingChanged, SheetRenamed,
         SheetAdded, SheetRemoved, RowsInserted, RowsDeleted, ReferencesUnadjusted, ColumnAdded, ColumnRemoved,
         ChartAdded, ChartRemoved, VolatileChanged, ValuesChanged]


def _order() -> list:
    out = []
    for cls in KINDS:
        base = getattr(cls, "base_kind", None)
        if base:
            out += [(cls.base_rank, base), (cls.base_rank + 1, base + "_unadjusted")]
        else:
            out.append((cls.rank, cls.kind))
    return [k for _, k in sorted(out)]


ORDER = _order()  # every kind, causes first: the order of the summary line
FOLLOWERS = ("volatile_changed", "values_changed")  # kinds that only followed the causes

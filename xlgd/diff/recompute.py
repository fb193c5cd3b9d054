"""Values a workbook does not hold, recomputed by the workbook evaluator.

A file written by openpyxl or pandas keeps every formula but no cached
value (openpyxl cannot calculate), so a diff that compared cached values
would call every formula cell of a re-saved, unedited workbook "changed".
Here the first formula cell without a cached value makes the side read and
evaluate its whole workbook once (`evaluator`, in the dialect of
whoever saved it); every absent value is then the evaluator's. Files that
hold their values never pay for it.

What the evaluator cannot compute (volatile functions, functions outside
its table, circular references) stays `NOT_HELD`: never compared, counted,
and named in the report's note -- an absent value is never a changed one.
"""

from __future__ import annotations

from collections import Counter

from ..core.values import Text
from ..evaluator import Evaluation, Unknown, read_book


class NotHeld:
    """A formula cell's value that neither the file holds nor the evaluator can compute."""

    __slots__ = ()

    def __repr__(self):
        return "NOT_HELD"


NOT_HELD = NotHeld()


class Recompute:
    """One side of a diff: fills in absent formula values on first need (see the module doc)."""

    def __init__(self, pkg, side: str):
        self.pkg, self.side = pkg, side
        self._ev = None
        self.failed = None
        self.filled = 0
        self.not_computed = 0
        self.reasons = Counter()   # why cells could not be computed -> how many
        self.sheets = Counter()    # sheet -> cells recomputed

    def evaluation(self) -> Evaluation | None:
        """The side's workbook evaluated, or None when the evaluator could not read it (the reason
        is kept: every absent value is then NOT_HELD, and the note says why)."""
        if self._ev is None and self.failed is None:
            try:
                self._ev = Evaluation(read_book(self.pkg), self.pkg.producer)
                self._ev.computed  # noqa: B018 -- evaluate now, inside the guard
            except Exception as e:  # noqa: BLE001 -- a file the evaluator cannot take is still diffed
                self.failed = f"the workbook evaluator could not evaluate this file ({type(e).__name__}: {e})"
        return self._ev

    def value(self, sheet: str, row: int, col: int, tally: bool = True):
        """The value of a formula cell whose file holds none; counted for the note unless `tally` is
        False (a second read of a sheet already compared)."""
        ev = self.evaluation()
        if ev is None:
            if tally:
                self.not_computed += 1
                self.reasons[self.failed] += 1
            return NOT_HELD
        v = ev.value(sheet, row, col)
        if isinstance(v, Unknown):
            if tally:
                self.not_computed += 1
                self.reasons[_root_reason(ev.unknown(sheet, row, col) or "not computed")] += 1
            return NOT_HELD
        if tally:
            self.filled += 1
            self.sheets[sheet] += 1
        return as_cached(v)

    def summary(self) -> dict | None:
        """What the report says about this side, or None when the file held every value."""
        if not self.filled and not self.not_computed:
            return None
        return {"side": self.side, "recomputed": self.filled, "sheets": dict(self.sheets),
                "not_computed": self.not_computed, "reasons": dict(self.reasons.most_common(5))}


def as_cached(value):
    """An evaluator value as the reader gives a cached one: booleans 1/0, a blank result 0, text a str."""
    if value is None:
        return 0.0  # a formula reading a blank shows 0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, Text):
        return str(value)
    return value


def _root_reason(text: str) -> str:
    """'depends on data!B5, which uses RANDBETWEEN (volatile)' -> 'uses RANDBETWEEN (volatile)'."""
    return text.split(", which ", 1)[-1]

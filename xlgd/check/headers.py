"""The text heading a column of formulas, as a person reading the sheet sees it."""

from __future__ import annotations

from ..core.values import Text


def header(evaluation, sheet, row, col) -> str | None:
    """The text heading a cell's column: above the column's block of formulas, past at most two
    numbers (a start row), within ten rows."""
    sc = evaluation.book.sheets[sheet]
    top = row
    while top > 1:
        run = sc.run_at(top - 1, col)
        if run is None:
            break
        top = run.r0
    numbers = 0
    for rr in range(top - 1, max(0, top - 11), -1):
        v = sc.consts.get(rr, col)
        if isinstance(v, Text) and v.strip():
            return v.strip()
        if v is not None:
            numbers += 1
            if numbers > 2 or isinstance(v, str):
                return None
    return None

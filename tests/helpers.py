"""Comparisons shared by tests: engine values against a spreadsheet's."""

import numpy as np

from xlgd.core.engine import run
from xlgd.layout import Layout, formula_cells


def ulps(a: float, b: float) -> int:
    ia, ib = np.float64(a).view(np.int64), np.float64(b).view(np.int64)
    # Map negative floats onto a monotonic integer line so -0.0 and 0.0 are adjacent.
    ia = ia if ia >= 0 else np.int64(-(2**63)) - ia
    ib = ib if ib >= 0 else np.int64(-(2**63)) - ib
    return int(abs(int(ia) - int(ib)))


def compare_with_sheet_values(recipe, lookup, dialect="libreoffice"):
    """Compare every formula cell of every sheet with lookup(sheet, row, col).

    Returns (cells compared, list of differences, max ulp among numbers).
    """
    compared, diffs, max_ulp = 0, [], 0
    for spec in recipe.sheets:
        res = run(spec, recipe.data.x, recipe.data.y, dialect=dialect)
        for r, c, f, want in formula_cells(Layout(spec), res):
            got = lookup(spec.name, r, c)
            compared += 1
            if got == want:
                continue
            if isinstance(got, float) and isinstance(want, float):
                max_ulp = max(max_ulp, ulps(got, want))
            diffs.append((spec.name, r, c, f, want, got))
    return compared, diffs, max_ulp


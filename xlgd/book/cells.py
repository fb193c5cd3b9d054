"""Every formula cell of a generated sheet: where it is, its text, its value.

The single listing that tests, `verify` and `diff` walk, so none of them
re-derives the layout on its own.
"""

from __future__ import annotations

from ..layout import START_ROW, Layout


def formula_cells(lay: Layout, result=None):
    """Yield (row, col, formula, value) with 0-based row/col.

    value is the engine's float or error code (None without a result).
    """
    spec = lay.spec

    def val(key, arr, idx):
        if result is None:
            return None
        if key in result.errors:
            return result.errors[key]
        return float(arr[idx])

    for c in spec.columns:
        text = lay.start_formula(c.name)
        if text is not None:
            v = None if result is None else float(result.start[c.name])
            yield START_ROW - 1, lay.col_index[c.name], text, v
    for k in range(spec.epochs):
        for c in spec.epoch_columns:
            yield (lay.epoch_row(k) - 1, lay.epoch_index[c.name], lay.epoch_formula(c.name, k),
                   val(("@" + c.name, k), result.epochs[c.name] if result else None, k))
    for c in spec.columns:
        ci = lay.col_index[c.name]
        arr = result.steps[c.name] if result is not None else None
        for i in range(spec.n_steps):
            yield lay.step_row(i) - 1, ci, lay.formula(c.name, i), val((c.name, i), arr, i)

"""What a workbook was made from, recorded inside it so edits don't lose it.

A hidden sheet `_xlgd` holds the xlgd version and the resolved template
(data included) as JSON; custom document properties repeat the essentials.
A person may edit every visible cell and the record survives, so verify,
diff and `charts regenerate` can rebuild what xlgd would have written.
"""

from __future__ import annotations

import json

from .. import __version__

META_SHEET = "_xlgd"
FORMAT = 1
# Sheet names a template may not use: the intro, the data and the record.
RESERVED = ("data", "intro", META_SHEET)
RECORD_KEY = "record"  # column A of the record's row; column B holds the JSON
NOTE = "Written by xlgd: what this workbook was made from. Keep it so `xlgd verify` can check it."


def record(recipe) -> dict:
    tpl = json.loads(json.dumps(recipe.resolved, default=float))
    d = recipe.data
    # Embed the data so the record is self-contained (a CSV may move).
    tpl["data"] = {"source": "list", "x": [float(v) for v in d.x], "true_a": d.true_a, "true_b": d.true_b}
    if d.y_given is not None:
        tpl["data"]["y"] = [float(v) for v in d.y_given]
    return {
        "xlgd": __version__,
        "format": FORMAT,
        "template": recipe.name,
        "data_source": d.source,
        "resolved": tpl,
        "sheets": [
            {"name": s.name, "model": s.model, "optimizer": s.optimizer, "convention": s.convention,
             "grad": s.grad, "epochs": s.epochs, "n_data": s.n_data}
            for s in recipe.sheets
        ],
    }


def read(path) -> dict | None:
    """The record of an xlgd workbook, or None if it has none."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if META_SHEET not in wb.sheetnames:
            return None
        for row in wb[META_SHEET].iter_rows(min_row=1, max_row=5, max_col=2, values_only=True):
            if row and row[0] == "record" and isinstance(row[1], str):
                return json.loads(row[1])
        return None
    finally:
        wb.close()


def rebuild_recipe(rec: dict):
    """The Recipe a record describes (to regenerate or compare)."""
    from .template import build_recipe

    tpl = dict(rec["resolved"])
    recipe = build_recipe(tpl)
    data_y = tpl["data"].get("y")
    if data_y is not None:
        import numpy as np

        recipe.data.y_given = np.array(data_y, dtype=np.float64)
    return recipe

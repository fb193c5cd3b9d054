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


def write(wb, recipe):
    rec = record(recipe)
    ws = wb.add_worksheet(META_SHEET)
    ws.write_string(0, 0, "xlgd")
    ws.write_string(0, 1, rec["xlgd"])
    ws.write_string(1, 0, "record")
    ws.write_string(1, 1, json.dumps(rec, sort_keys=True))
    ws.write_string(2, 0, "note")
    ws.write_string(2, 1, "Written by xlgd: what this workbook was made from. Keep it so `xlgd verify` can check it.")
    ws.hide()
    wb.set_custom_property("xlgd_version", rec["xlgd"])
    wb.set_custom_property("xlgd_template", rec["template"])


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

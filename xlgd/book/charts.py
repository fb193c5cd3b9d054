"""The four charts of every sheet, each series a link to cells.

The forum learner's chart went wrong because its x axis was typed values;
here every series names its category / x cells (the step, epoch or x
column), both axes stay visible, and the cached points are the engine's
values so a viewer that does not recalculate still draws the right curve.

Caches stop at CACHE_POINTS steps: a sheet with more step rows gets charts
without cached points (no <c:numCache>), which Excel and LibreOffice draw
from the cells they link to (LibreOffice checked: tests/test_charts_render.py
renders one). 32,000 is Excel 2007's own limit of points per series; past
it a cache costs about 60 bytes of XML per point and series and keeps every
value in memory until the file is closed, for previewers that would have
to draw 100,000-point lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..xlsx.refs import col_letter
from .xlsxwriter_fast import fast_caches

CHART_W, CHART_H = 520, 300
PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B")
CACHE_POINTS = 32_000


@dataclass
class SheetValues:
    """A sheet's values as its charts cache them (an engine Result has the same four fields)."""

    steps: dict
    codes: dict
    epochs: dict
    epoch_codes: dict

    @classmethod
    def gather(cls, epochs):
        """From the epochs (`core.engine.Epoch`) as the writer took them."""
        def cat(d):
            return {nm: np.concatenate([getattr(ep, d)[nm] for ep in epochs]) for nm in getattr(epochs[0], d)}

        def stack(d):
            return {nm: np.array([getattr(ep, d)[nm] for ep in epochs]) for nm in getattr(epochs[0], d)}

        return cls(cat("steps"), cat("codes"), stack("cells"), stack("cell_codes"))


def _points(result, col, rows):
    arr, codes = result.steps[col], result.codes[col]
    return [None if codes[i] else float(arr[i]) for i in rows]


def _epoch_points(result, col):
    arr, codes = result.epochs[col], result.epoch_codes[col]
    return [None if codes[k] else float(arr[k]) for k in range(len(arr))]


def chart_specs(lay, result=None):
    """The charts as plain dicts: title, type, series (name, categories/x, values/y, n points).

    `charts regenerate` and the tests use the same description the writer uses.
    result: the values to cache (an engine Result or SheetValues), None for none.
    """
    spec = lay.spec
    steps = range(spec.n_steps)
    last = spec.epochs - 1
    last_rows = range(last * spec.n_data, spec.n_steps)

    def pts(col, rows):
        return _points(result, col, rows) if result is not None else None

    # Sheets with stability columns chart err^2 through err_chart, which holds
    # #N/A where err overflowed: charts skip #N/A but plot #NUM! as 0. Their
    # errors span hundreds of decades, hence the log scale.
    err = "err_chart" if "err_chart" in lay.col_index else "err"
    charts = [
        {"title": "Error per step" + (" (log scale)" if err == "err_chart" else ""), "type": "line",
         "x_title": "step", "y_title": "err^2", "log_y": err == "err_chart",
         "series": [{"name": "err^2", "cat": lay.column_range("step"), "val": lay.column_range(err),
                     "cat_data": pts("step", steps), "val_data": pts(err, steps)}]},
        {"title": "Weights per step", "type": "line", "x_title": "step", "y_title": "weight",
         "series": [{"name": p, "cat": lay.column_range("step"), "val": lay.column_range(p),
                     "cat_data": pts("step", steps), "val_data": pts(p, steps)} for p in spec.params]},
        {"title": "Error per epoch", "type": "line", "x_title": "epoch", "y_title": "mean err^2",
         "series": [{"name": "mean err^2", "cat": lay.epoch_range("epoch"), "val": lay.epoch_range("mse"),
                     "cat_data": _epoch_points(result, "epoch") if result is not None else None,
                     "val_data": _epoch_points(result, "mse") if result is not None else None}]},
        {"title": f"Fit in epoch {spec.epochs}: data and prediction against x", "type": "scatter",
         "x_title": "x", "y_title": "y",
         "series": [
             {"name": "data y", "cat": lay.column_range("x", epoch=last), "val": lay.column_range("y", epoch=last),
              "cat_data": pts("x", last_rows), "val_data": pts("y", last_rows), "markers_only": True},
             {"name": "prediction", "cat": lay.column_range("x", epoch=last),
              "val": lay.column_range("pred", epoch=last), "cat_data": pts("x", last_rows),
              "val_data": pts("pred", last_rows), "markers_only": True},
         ]},
    ]
    return charts


def add_sheet_charts(wb, ws, lay, result):
    anchor_col = col_letter(max(lay.epoch_index.values()) + 2)
    for k, c in enumerate(chart_specs(lay, result)):
        if c["type"] == "scatter":
            chart = wb.add_chart({"type": "scatter"})
        else:
            chart = wb.add_chart({"type": "line"})
        for j, s in enumerate(c["series"]):
            color = PALETTE[j % len(PALETTE)]
            opts = {"name": s["name"], "categories": "=" + s["cat"], "values": "=" + s["val"],
                    "categories_data": s["cat_data"], "values_data": s["val_data"]}
            if s.get("markers_only"):
                opts["marker"] = {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}}
                opts["line"] = {"none": True}
            else:
                opts["line"] = {"color": color, "width": 1.5}
            chart.add_series(opts)
        chart.set_title({"name": c["title"], "name_font": {"size": 11}})
        x_axis = {"name": c["x_title"], "visible": True}
        n_cat = _length(c["series"][0]["cat"]) if c["type"] == "line" else 0
        if n_cat > 12:
            # Label every k-th category so a few hundred steps stay readable.
            k = _nice_step(n_cat / 8)
            x_axis.update({"interval_unit": k, "interval_tick": k})
        chart.set_x_axis(x_axis)
        fast_caches(chart)
        y_axis = {"name": c["y_title"], "visible": True, "major_gridlines": {"visible": True}}
        if c.get("log_y"):
            y_axis["log_base"] = 10
        chart.set_y_axis(y_axis)
        chart.set_legend({"position": "bottom"} if len(c["series"]) > 1 else {"none": True})
        chart.show_blanks_as("gap")
        chart.set_size({"width": CHART_W, "height": CHART_H})
        ws.insert_chart(f"{anchor_col}{5 + k * 16}", chart)


def _length(area):
    """Cells in a one-column range text such as 'basic'!$A$7:$A$151."""
    first, last = (int("".join(ch for ch in part if ch.isdigit())) for part in area.rsplit("!", 1)[-1].split(":"))
    return last - first + 1


def _nice_step(raw):
    for unit in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if unit >= raw:
            return unit
    return int(raw)

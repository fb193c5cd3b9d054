"""The four charts of every sheet, each series a link to cells.

The forum learner's chart went wrong because its x axis was typed values;
here every series names its category / x cells (the step, epoch or x
column), both axes stay visible, and the cached points are the engine's
values so a viewer that does not recalculate still draws the right curve.
"""

from __future__ import annotations

import math

from ..xlsx.refs import col_letter
from .layout import HEADER_ROW

CHART_W, CHART_H = 520, 300
ROW_PX = 20  # XlsxWriter's default row height (15 pt), in pixels
PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B")


def _points(result, col, rows):
    out = []
    arr = result.steps[col]
    for i in rows:
        out.append(None if (col, i) in result.errors else float(arr[i]))
    return out


def _epoch_points(result, col):
    arr = result.epochs[col]
    return [None if ("@" + col, k) in result.errors else float(arr[k]) for k in range(len(arr))]


def chart_specs(lay, result=None):
    """The charts as plain dicts: title, type, series (name, categories/x, values/y).

    `charts regenerate` and the tests use the same description the writer uses.
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


def chart_rows(height_px: int) -> int:
    """Rows a chart of this height covers on default-height rows, plus one row of gap."""
    return math.ceil(height_px / ROW_PX) + 1


def add_sheet_charts(wb, ws, lay, result):
    # Beside the top of the step table (its header row), right of the epoch
    # block, one under the other: a chart's anchor depends on its place in
    # the list only, so no two charts share rows (tests/test_chart_anchors.py).
    anchor_col = col_letter(max(lay.epoch_index.values()) + 2)
    for place, c in enumerate(chart_specs(lay, result)):
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
        n_cat = len(c["series"][0]["cat_data"] or ()) if c["type"] == "line" else 0
        if n_cat > 12:
            # Label every k-th category so a few hundred steps stay readable.
            k = _nice_step(n_cat / 8)
            x_axis.update({"interval_unit": k, "interval_tick": k})
        chart.set_x_axis(x_axis)
        y_axis = {"name": c["y_title"], "visible": True, "major_gridlines": {"visible": True}}
        if c.get("log_y"):
            y_axis["log_base"] = 10
        chart.set_y_axis(y_axis)
        chart.set_legend({"position": "bottom"} if len(c["series"]) > 1 else {"none": True})
        chart.show_blanks_as("gap")
        chart.set_size({"width": CHART_W, "height": CHART_H})
        ws.insert_chart(f"{anchor_col}{HEADER_ROW + place * chart_rows(CHART_H)}", chart)


def _nice_step(raw):
    for unit in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if unit >= raw:
            return unit
    return int(raw)

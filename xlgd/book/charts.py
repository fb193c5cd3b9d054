"""The five charts of every sheet, each series a link to cells.

Every series names its category / x cells (the step, epoch or x column), both axes stay visible,
and the cached points are the engine's values, so a viewer that does not recalculate draws the
right curve. The series draw the chart-safe columns (`core/chart_columns.py`) in distinct colours
(`palette`). A sheet of more than CACHE_POINTS steps (Excel 2007's limit of points per series) gets
charts without cached points, which Excel and LibreOffice draw from the linked cells.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

from ..core.chart_columns import chart_name, derivative_columns
from ..layout import HEADER_ROW
from ..xlsx.refs import col_letter
from .xlsxwriter_fast import fast_caches

CHART_W, CHART_H = 520, 300
ROW_PX = 20  # XlsxWriter's default row height (15 pt), in pixels
# matplotlib's tab10: ten colours told apart by most readers, colour-blind ones included.
TAB10 = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
         "#17BECF")


def palette(count: int) -> list[str]:
    """n distinct colours: tab10, then hues a golden angle apart (an mlp's dozens of weights)."""
    out = list(TAB10[:count])
    k = 0
    while len(out) < count:
        r, g, b = colorsys.hls_to_rgb((k * 0.618033988749895) % 1.0, 0.35 + 0.2 * (k % 3) / 2, 0.75)
        c = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
        if c not in out:
            out.append(c)
        k += 1
    return out


CACHE_POINTS = 32_000


@dataclass
class ChartValues:
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
    """The charts as plain dicts: title, type, series (name, categories/x, values/y).

    `charts regenerate` and the tests use the same description the writer uses.
    result: the values to cache (an engine Result or ChartValues), None for none.
    """
    spec = lay.spec
    steps = range(spec.n_steps)
    last = spec.epochs - 1
    last_rows = range(last * spec.n_data, spec.n_steps)

    def pts(col, rows):
        return _points(result, col, rows) if result is not None else None

    deriv = derivative_columns(spec.params, spec.grad, spec.columns)
    headers = {c.name: c.header for c in spec.columns}

    def series(col, name=None):
        cc = chart_name(col)
        return {"name": name or headers[col], "cat": lay.column_range("step"), "val": lay.column_range(cc),
                "cat_data": pts("step", steps), "val_data": pts(cc, steps)}

    charts = [
        {"title": "Error per step (log scale)", "type": "scatter", "x_title": "step", "y_title": "err^2",
         "log_y": True, "series": [series("err", "err^2")]},
        {"title": "Weights per step (beyond ±chart_max: not drawn)", "type": "scatter", "x_title": "step",
         "y_title": "weight", "series": [series(p, p) for p in spec.params]},
        {"title": f"Derivative per step: {headers[deriv[0]]}" + (" and its momentum" if len(deriv) > 1 else ""),
         "type": "scatter", "x_title": "step", "y_title": headers[deriv[0]], "series": [series(c) for c in deriv]},
        {"title": "Error per epoch (log scale)", "type": "scatter", "x_title": "epoch", "y_title": "mean err^2",
         "log_y": True, "markers": True, "x_unit": _nice_step(spec.epochs / 8),
         "series": [{"name": "mean err^2", "cat": lay.epoch_range("epoch"), "val": lay.epoch_range(chart_name("mse")),
                     "cat_data": _epoch_points(result, "epoch") if result is not None else None,
                     "val_data": _epoch_points(result, chart_name("mse")) if result is not None else None}]},
        {"title": f"Fit in epoch {spec.epochs}: data and prediction against x", "type": "scatter",
         "x_title": "x", "y_title": "y",
         "series": [
             {"name": "data y", "cat": lay.column_range("x", epoch=last), "val": lay.column_range("y", epoch=last),
              "cat_data": pts("x", last_rows), "val_data": pts("y", last_rows), "markers_only": True},
             {"name": "prediction", "cat": lay.column_range("x", epoch=last),
              "val": lay.column_range(chart_name("pred"), epoch=last), "cat_data": pts("x", last_rows),
              "val_data": pts(chart_name("pred"), last_rows), "markers_only": True},
         ]},
    ]
    return charts


def chart_rows(height_px: int) -> int:
    """Rows a chart of this height covers on default-height rows, plus one row of gap."""
    return math.ceil(height_px / ROW_PX) + 1


def add_sheet_charts(workbook, sheet, layout, result):
    # Beside the top of the step table (its header row), right of the epoch
    # block, one under the other: a chart's anchor depends on its place in
    # the list only, so no two charts share rows (tests/test_chart_anchors.py).
    anchor_col = col_letter(max(layout.epoch_index.values()) + 2)
    for place, c in enumerate(chart_specs(layout, result)):
        chart = make_chart(workbook, c)
        chart.set_size({"width": CHART_W, "height": CHART_H})
        sheet.insert_chart(f"{anchor_col}{HEADER_ROW + place * chart_rows(CHART_H)}", chart)


# Tick marks said explicitly: left out, LibreOffice takes ECMA-376's default and draws minor ticks.
TICKS = {"major_tick_mark": "outside", "minor_tick_mark": "none"}


def make_chart(workbook, description: dict):
    """An XlsxWriter chart from a chart description (`chart_specs`, the experiment grids).

    Always a scatter chart (straight lines, or markers): every x here is a
    number (step, epoch, x), and LibreOffice 7.4 leaves a gap for a #N/A
    point only in a scatter chart; in a line chart it draws #N/A as 0.
    Excel leaves the gap in both (show #N/A as an empty cell)."""
    chart = fast_caches(workbook.add_chart({"type": "scatter", "subtype": "straight"}))
    for s, color in zip(description["series"], palette(len(description["series"]))):
        opts = {"name": s["name"], "categories": "=" + s["cat"], "values": "=" + s["val"],
                "categories_data": s["cat_data"], "values_data": s["val_data"],
                "line": {"none": True} if s.get("markers_only") else {"color": color, "width": 1.5}}
        if s.get("markers_only") or description.get("markers"):
            opts["marker"] = {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}}
        chart.add_series(opts)
    chart.set_title({"name": description["title"], "name_font": {"size": 11}})
    # Tick labels at the bottom edge even when y goes negative (a derivative, a weight).
    x_axis = {"name": description["x_title"], "visible": True, "label_position": "low", **TICKS}
    if description.get("x_unit"):
        x_axis["major_unit"] = description["x_unit"]
    chart.set_x_axis(x_axis)
    y_axis = {"name": description["y_title"], "visible": True, "major_gridlines": {"visible": True}, **TICKS}
    if description.get("log_y"):
        y_axis.update(log_axis([v for s in description["series"] for v in (s["val_data"] or ())]))
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"} if len(description["series"]) > 1 else {"none": True})
    chart.show_blanks_as("gap")
    chart.show_na_as_empty_cell()
    return chart


LOG_FORMAT = "0E+00"   # one label format for every decade: General mixes 1E+108 with 1000000000000
LOG_LABELS = 8         # at most this many labelled decades on an axis the cached values span
DECADE_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)


def log_axis(values) -> dict:
    """A base-10 axis labelled in one scientific format; over a range wider than LOG_LABELS decades
    (a run that exploded) a label every few decades (`major_unit` 10^k: Excel and LibreOffice read a
    log axis's unit as a factor), else the spreadsheet's own choice of a label per decade."""
    out = {"log_base": 10, "num_format": LOG_FORMAT}
    pos = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if pos:
        span = math.ceil(math.log10(max(pos))) - math.floor(math.log10(min(pos)))
        if span > LOG_LABELS:
            k = next((d for d in DECADE_STEPS if span / d <= LOG_LABELS), DECADE_STEPS[-1])
            out["major_unit"] = 10.0 ** k
    return out


def _nice_step(raw):
    """The smallest of 1, 2, 5, 10, 20, 25, 50 ... at least raw: a tick every so many epochs."""
    for unit in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if unit >= raw:
            return unit
    return int(raw)

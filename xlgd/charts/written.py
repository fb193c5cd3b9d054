"""What xlgd wrote: the x each of its own chart series links, from the workbook's `_xlgd` record.

A workbook xlgd generated records the template it was made from; the chart
links follow from it without computing a value (`pipeline.chart_links`).
A series counts as xlgd's when its chart has a title xlgd writes on that
sheet and its values are the cells xlgd linked as that series' values: a
learner who moved the values (or added a chart) gets no record's word.
"""

from __future__ import annotations

import weakref

from ..errors import XlgdError
from ..recipe import record
from ..recipe.template import rebuild
from ..xlsx.package import Package
from .model import Area, Chart, Series, parse_area

_LINKS: "weakref.WeakKeyDictionary[Package, dict]" = weakref.WeakKeyDictionary()


def links(book: Package) -> dict:
    """{sheet: {title: [(x Area, values Area)]}} xlgd wrote, or {} for a workbook without a usable record."""
    if book not in _LINKS:
        _LINKS[book] = _read_links(book)
    return _LINKS[book]


def _read_links(book: Package) -> dict:
    from ..pipeline import chart_links

    try:
        rec = record.read(book)
        if rec is None:
            return {}
        found = chart_links(rebuild(rec))
    except XlgdError:
        return {}
    return {sheet: {title: [(parse_area(x), parse_area(v)) for x, v in pairs] for title, pairs in charts.items()}
            for sheet, charts in found.items()}


def written_x(book: Package, chart: Chart, series: Series) -> Area | None:
    """The x xlgd linked for this series, or None when the series is not one xlgd wrote."""
    pairs = links(book).get(chart.sheet, {}).get(chart.title)
    if not pairs or series.number > len(pairs):
        return None
    x, values = pairs[series.number - 1]
    return x if values is not None and values == series.values.area else None

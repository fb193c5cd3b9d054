"""SLOPE, INTERCEPT and FORECAST on a learner's sheet: the least-squares line a gradient-descent fit of
`y = a*x + b` is set beside, computed as numpy's polyfit computes it (within its rounding, measured: Excel
does not document its order of summation), and the points Excel skips (text, a blank) skipped."""

import numpy as np
import openpyxl
import pytest

from xlgd.evaluator import open_and_evaluate

N = 40


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    rng = np.random.default_rng(7)
    x = rng.uniform(-5, 5, N)
    y = 2.5 * x + 1.0 + rng.normal(0, 0.3, N)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "fit"
    for i, (xi, yi) in enumerate(zip(x, y), start=2):
        ws[f"A{i}"], ws[f"B{i}"] = float(xi), float(yi)
    last = N + 1
    ws[f"A{last + 1}"], ws[f"B{last + 1}"] = "note", 99.0  # a label among the x's: its point is skipped
    ws["D1"] = f"=SLOPE(B2:B{last + 2},A2:A{last + 2})"  # and a blank row at the end
    ws["D2"] = f"=INTERCEPT(B2:B{last + 2},A2:A{last + 2})"
    ws["D3"] = f"=FORECAST(1.5,B2:B{last + 2},A2:A{last + 2})"
    path = tmp_path_factory.mktemp("fit") / "fit.xlsx"
    wb.save(path)
    return open_and_evaluate(path, dialect="excel"), np.polyfit(x, y, 1)


def test_the_line_is_numpys_least_squares_line(fitted):
    ev, (slope, intercept) = fitted
    got = [ev.value("fit", r, 4) for r in (1, 2, 3)]
    assert got == pytest.approx([slope, intercept, intercept + 1.5 * slope], rel=1e-12)

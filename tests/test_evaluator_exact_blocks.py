"""The exact (cell by cell) path over ranges: one-cell array formulas multiplying two ranges element-wise,
as a convolution sheet has them (`{=SUM(A1:C3*$E$1:$G$3)}` down a column), give Excel's values; and the
pass from the cached values, which reads each range once, gives what reading every range afresh gives."""

from pathlib import Path

import pytest

from xlgd.core.expr import _cellwise2
from xlgd.core.functions import arith
from xlgd.core.values import Block, SheetError, Text, number
from xlgd.evaluator import open_and_evaluate
from xlgd.evaluator.evaluate import Evaluator

WILD = Path(__file__).parent / "data" / "wild"
KERNEL = [[0.1, -0.2, 0.3], [0.7, 0.5, -1.1], [1e-3, 3.0, 0.25]]
INPUT = [[1.5, 2.0, None, 4.0], [0.3, True, 7.0, 8.5], [9.0, 1 / 3, 11.0, 12.0], [2.0, "x", 5.0, 6.0],
         [1.0, 2.0, 3.0, 4.0]]


def _conv_book(path):
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "conv"
    for r, row in enumerate(INPUT, 1):
        for c, v in enumerate(row, 1):
            if v is not None:
                ws.cell(r, c, v)
    for r, row in enumerate(KERNEL, 1):
        for c, v in enumerate(row, 6):
            ws.cell(r, c, v)
    for r in range(1, 4):  # windows sliding down and across, each a one-cell array formula
        for c, left in ((10, "A"), (11, "B")):
            right = chr(ord(left) + 2)
            ref = f"{chr(ord('A') + c - 1)}{r}"
            ws[ref] = ArrayFormula(ref, f"=SUM({left}{r}:{right}{r + 2}*$F$1:$H$3)")
    wb.save(path)
    return path


def _excel_sum(r0, c0):
    """SUM of a window times the kernel as Excel computes it: the products row by row, added in that order;
    text in the window makes its product and the SUM #VALUE!."""
    total = 0.0
    for i in range(3):
        for j in range(3):
            v = INPUT[r0 + i][c0 + j]
            if isinstance(v, str):
                return "#VALUE!"
            total += (0.0 if v is None else float(v)) * KERNEL[i][j]
    return total


def test_one_cell_array_products_give_excels_sums(tmp_path):
    ev = open_and_evaluate(_conv_book(tmp_path / "conv.xlsx"), dialect="excel")
    got = [[ev.value("conv", r, c) for c in (10, 11)] for r in range(1, 4)]
    want = [[_excel_sum(r - 1, c0) for c0 in (0, 1)] for r in range(1, 4)]
    assert got == want
    assert "#VALUE!" in got[1] + got[2] and all(isinstance(v, float) for v in got[0])


@pytest.mark.parametrize("clipped", [False, True])
def test_arrays_of_one_shape_pair_cell_by_cell(clipped):
    """Two arrays of one shape pair their cells; an array clipped to the sheet reads blank past its values."""
    a = Block(((1.0, Text("2"), None), (True, "#N/A", 4.0)), extent=(3, 3) if clipped else None)
    b = Block(((0.5, 3.0, 2.0), (7.0, 1.0, Text("z"))) + (((1.0, 2.0, 3.0),) if clipped else ()))

    def times(x, y):
        return arith("*", number(x), number(y))

    got = _cellwise2(times, a, b).values
    want = [[1.0 * 0.5, 2.0 * 3.0, 0.0], [1.0 * 7.0, "#N/A", "#VALUE!"]] + ([[0.0, 0.0, 0.0]] if clipped else [])
    assert [list(row) for row in got] == want
    with pytest.raises(SheetError):
        times("#N/A", 1.0)


@pytest.mark.parametrize("name", ["conv-example.xlsx", "collab_filter.xlsx"])
def test_cached_pass_reads_each_range_once_with_the_same_values(name):
    """The pass from the cached values keeps the blocks it read; without them every value is the same."""
    ev = open_and_evaluate(WILD / name)
    kept = ev.local
    fresh = Evaluator(ev.book, ev.prepared, ev.dialect, "cached")
    assert fresh.blocks == {}
    fresh.blocks = None  # every range read afresh
    again = fresh.run()
    assert again.unknown == kept.unknown
    for sheet, store in kept.values.items():
        other = again.values[sheet]
        assert set(store.cols) == set(other.cols)
        for col, column in store.cols.items():
            assert column.kind.tolist() == other.cols[col].kind.tolist()
            assert column.num.tobytes() == other.cols[col].num.tobytes()
            assert column.text == other.cols[col].text

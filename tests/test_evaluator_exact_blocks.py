"""The exact (cell by cell) path over ranges: one-cell array formulas multiplying two ranges element-wise,
as a convolution sheet has them (`{=SUM(A1:C3*$E$1:$G$3)}` down a column), give Excel's values; arithmetic
on arrays of numbers is the cell-by-cell value; a range read from a store says its first value not known;
the pass from the cached values, which reads each range once, and the pass from the constants, which reads
a fixed range of constants once, give what reading every range afresh gives."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlgd.core.expr import Bin, Const, _cellwise2, excel_value
from xlgd.core.functions import arith
from xlgd.core.values import Block, SheetError, Text, number
from xlgd.evaluator import open_and_evaluate
from xlgd.evaluator.evaluate import Evaluator
from xlgd.evaluator.store import UNKNOWN_VALUE, SheetValues

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


MIXED = st.one_of(st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1e308, -1e308, 1e-320]),
                  st.sampled_from([None, True, False, Text("2"), Text("z"), "#N/A", "#DIV/0!"]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_array_arithmetic_is_the_cell_by_cell_value(rows, cols, data):
    """+ - * / of two arrays of one shape, in an array formula: each cell is the operator on its two cells (an
    error, overflow to #NUM!, #DIV/0!), whether the arrays hold numbers only or not."""
    numbers = data.draw(st.booleans())
    value = st.floats(-1e300, 1e300) | st.just(1e308) if numbers else MIXED
    grid = st.lists(st.lists(value, min_size=cols, max_size=cols), min_size=rows, max_size=rows)
    a, b = Block(tuple(map(tuple, data.draw(grid)))), Block(tuple(map(tuple, data.draw(grid))))
    for op in "+-*/":
        def pair(x, y, op=op):
            return arith(op, number(x), number(y))

        got = excel_value(Bin(op, Const(a), Const(b)), lambda leaf: None, "excel", array=True)
        assert repr(got.values) == repr(_cellwise2(pair, a, b).values)


class _Forgetful(dict):
    """A cache that keeps nothing: every range read afresh."""

    def __setitem__(self, key, value):
        pass


def _fixed_range_book(path):
    """`=SUM($A$1:$A$3)*B1` down a column, A2 a formula; `=SUM($D$1:$D$3)*B1` over constants only."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["A2"], ws["A3"] = 2.0, "=A1*3+B1", 0.5
    ws["D1"], ws["D2"], ws["D3"] = 1.25, "x", 4.0
    for r in range(1, 9):
        ws.cell(r, 2, r / 7)
        ws.cell(r, 5, f"=SUM($A$1:$A$3)*B{r}")
        ws.cell(r, 6, f"=SUM($D$1:$D$3)*B{r}")
    wb.save(path)
    return path


@pytest.mark.parametrize("name", ["conv-example.xlsx", "collab_filter.xlsx", None])
def test_pass_from_constants_keeps_fixed_ranges_with_the_same_values(name, tmp_path):
    """A fixed range of constants read once by the pass from the constants gives what reading it afresh gives;
    one holding a formula cell gives the formula's value."""
    ev = open_and_evaluate(WILD / name if name else _fixed_range_book(tmp_path / "fixed.xlsx"))
    kept = ev.computed
    fresh = Evaluator(ev.book, ev.prepared, ev.dialect, "constants", ev.stand_in)
    fresh.fixed_blocks = _Forgetful()
    again = fresh.run(ev.deps)
    assert again.unknown == kept.unknown
    for sheet, store in kept.values.items():
        for col, column in store.cols.items():
            assert column.kind.tolist() == again.values[sheet].cols[col].kind.tolist()
            assert column.num.tobytes() == again.values[sheet].cols[col].num.tobytes()
    if name is None:
        b = {r: ev.cached("s", r, 2) for r in (1, 3, 8)}  # r/7 as the file holds it
        a2 = 2.0 * 3 + b[1]
        assert [ev.value("s", r, 5) for r in (1, 8)] == [(2.0 + a2 + 0.5) * b[1], (2.0 + a2 + 0.5) * b[8]]
        assert ev.value("s", 3, 6) == (1.25 + 4.0) * b[3]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(1, 45), st.integers(1, 4),
                          st.sampled_from([1.5, None, True, Text("t"), "#N/A", UNKNOWN_VALUE])), max_size=40),
       st.integers(1, 45), st.integers(1, 5), st.integers(0, 40), st.integers(0, 3))
def test_block_read_says_its_first_value_not_known(puts, first_row, first_col, rows, cols):
    """A range read from a store: the values `get` gives, and the first cell not known, row by row."""
    store = SheetValues("s")
    for r, c, v in puts:
        store.put(r, c, v)
    last_row, last_col = first_row + rows, first_col + cols
    block, unknown = store.read_block(first_row, first_col, last_row, last_col)
    for i, row in enumerate(block.values):
        assert [repr(v) for v in row] == [repr(store.get(first_row + i, first_col + j)) for j in range(len(row))]
    cells = [(first_row + i, first_col + j) for i, row in enumerate(block.values) for j, v in enumerate(row)
             if v is UNKNOWN_VALUE]
    assert unknown == (cells[0] if cells else None)

"""Runs reading ranges that move with their rows, computed over all rows at once (`evaluator/windows.py`),
give bit for bit what the exact evaluator gives cell by cell.

The books: a learner's convolution built with openpyxl -- one-cell array formulas
`{=SUM(A5:C7*$F$1:$H$3)}` down a column, a max-pool `=MAX(...)`, sums divided by a cell, SUMPRODUCT, OFFSET
(also into its own column) -- over random numbers with blanks, text, zeros, -0.0 and numbers near overflow
among them; and fast.ai's conv-example.xlsx and collab_filter.xlsx as Excel saved them (both passes: from
the constants and from the cached values).
"""

import random
import struct
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from xlgd.evaluator import evaluate, open_and_evaluate, windows

WILD = Path(__file__).parent / "data" / "wild"
ROWS = 60


def _learner_book(path, seed):
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "conv"
    for r in range(1, 4):
        for c in "FGH":
            ws[f"{c}{r}"] = rng.uniform(-1, 1)
    for r in range(1, ROWS + 8):
        for c in "ABCD":
            ws[f"{c}{r}"] = _odd_value(rng)
    for r, row in ((20, (-0.0, -0.0, 0.0, 0.0)), (21, (-0.0, 0.0, 0.0, 0.0))):  # MAX and MIN of signed zeros
        for c, v in zip("ABCD", row):
            ws[f"{c}{r}"] = v
    for r in range(1, ROWS + 8):  # OFFSET's moves: in the sheet, past its top, fractions, text
        ws[f"E{r}"] = rng.choice([0, 1, 2, 3.7, -1, -1.5, -40, 1e9, "x", None])
    for r in range(5, 5 + ROWS):
        ws[f"Q{r}"] = f"=OFFSET($A$5,E{r},1)"
        ws[f"R{r}"] = f"=OFFSET(R{r},E{r},0)+1"  # its own column: the rows above, itself, the rows below
        ws[f"S{r}"] = f"=SUMPRODUCT(A{r}:C{r},$F$1:$H$1)-SUMPRODUCT(A{r}:B{r + 1}*2,C{r}:D{r + 1},A{r}:B{r + 1})"
        ws[f"T{r}"] = f"=OFFSET(B{r},E{r},E{r + 1})*2"
        ws[f"J{r}"] = ArrayFormula(f"J{r}", f"=SUM(A{r}:C{r + 2}*$F$1:$H$3)")
        ws[f"K{r}"] = ArrayFormula(f"K{r}", f"=SUM((A{r}:C{r}-$F$1:$H$1)*(A{r}:C{r}-$F$1:$H$1))+D{r}")
        ws[f"L{r}"] = f"=MAX(A{r}:B{r + 1})-MIN(C{r}:D{r + 1})"
        ws[f"M{r}"] = f"=SUM(A{r}:C{r + 3})/D{r}"
        ws[f"N{r}"] = ArrayFormula(f"N{r}", f"=SUM(A{r}:C{r}/D{r})*-2.5")
        ws[f"O{r}"] = f"=MAX(J{r}:K{r + 1})"
    wb.save(path)


def _odd_value(rng):
    pick = rng.random()
    if pick < 0.04:
        return None
    if pick < 0.06:
        return "text"
    if pick < 0.09:
        return rng.choice([0.0, -0.0])
    if pick < 0.11:
        return rng.choice([1e308, -1e308])
    return rng.uniform(-10, 10)


def _seen(value):
    """A value as bits: 0.0 and -0.0 differ, so do floats one ulp apart."""
    if isinstance(value, float) and not isinstance(value, bool):
        return ("float", struct.pack("<d", value))
    return (type(value).__name__, repr(value))


def _every_value(path, monkeypatch, with_windows):
    used = []
    real = windows.evaluate

    def counting(evaluator, prepared):
        left = real(evaluator, prepared)
        used.append(prepared.run.n - len(left))
        return left

    with monkeypatch.context() as m:
        m.setattr(windows, "evaluate", counting)
        if not with_windows:
            m.setattr(evaluate, "WINDOW_ROWS", 10 ** 9)
        ev = open_and_evaluate(path)
        out = {}
        for sheet in ev.book.sheets:
            for r, c in ev.formula_cells(sheet):
                local = ev.local.values[sheet].get(r, c)
                out[(sheet, r, c)] = (_seen(ev.value(sheet, r, c)), _seen(local), ev.unknown(sheet, r, c))
    return out, sum(used)


@pytest.mark.parametrize("seed, block", [(1, None), (2, None), (3, None), (1, 7)])
def test_a_learner_convolution_is_computed_as_cell_by_cell(tmp_path, monkeypatch, seed, block):
    path = tmp_path / "conv.xlsx"
    _learner_book(path, seed)
    if block is not None:  # long runs go a block of rows at a time
        monkeypatch.setattr(windows, "WINDOW_VALUES", windows.WINDOW_CELLS * block)
    fast, computed_here = _every_value(path, monkeypatch, True)
    slow, none = _every_value(path, monkeypatch, False)
    assert none == 0 and computed_here > ROWS * 3  # most rows are plain numbers, computed with numpy
    assert fast == slow
    kinds = {v[0][0] for v in fast.values()}
    assert "float" in kinds and "str" in kinds  # errors (#DIV/0!, #VALUE!, #NUM!) among the numbers


@pytest.mark.parametrize("name, rows", [("conv-example.xlsx", 2000), ("collab_filter.xlsx", 1500)])
def test_an_excel_saved_book_is_computed_as_cell_by_cell(monkeypatch, name, rows):
    fast, computed_here = _every_value(WILD / name, monkeypatch, True)
    slow, _ = _every_value(WILD / name, monkeypatch, False)
    assert computed_here > rows
    assert fast == slow


def test_what_is_left_to_the_exact_evaluator():
    from xlgd.xlsx.formula import parse

    def ok(text, array=False):
        return windows.windowed(parse(text, "s", 5, 3), array)

    assert ok("SUM(A4:C6*$AD$11:$AF$13)", array=True)
    assert not ok("SUM(A4:C6*$AD$11:$AF$13)")  # outside an array formula: implicit intersection
    assert ok("MAX(A4:B5)") and ok("SUM(A4:C6)/D4+1")
    assert not ok("A4+B4")  # no range: the compiled numpy path's
    assert not ok("SUM(A4:C6*A1:B2)", array=True)  # shapes that do not pair
    assert not ok("SUM($A$4:A6)")  # a window that grows row by row
    assert not ok("SUM(A4:C6^2)", array=True) and not ok('SUM(A4:C6&"x")', array=True)
    assert not ok("AVERAGE(A4:C6)") and not ok("SUM(A:A)") and not ok("SUM($A$1:$Z$100)")  # a cell at a time
    assert ok("OFFSET($B$3,$L3,M$2)") and ok("SUMPRODUCT(M3:Q3,S3:W3)") and ok("SUMPRODUCT(A4:C6*2,D4:F6)")
    assert not ok("OFFSET($B$3,$L3,M$2,2,1)") and not ok("OFFSET(B3:C4,1,1)") and not ok("SUMPRODUCT(A4:C6,D4:D6)")


def test_one_cell_array_formulas_down_a_column_are_one_run(tmp_path):
    path = tmp_path / "conv.xlsx"
    _learner_book(path, 1)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["P5"] = ArrayFormula("P5:P6", "=A5:A6*2")  # an array formula over two cells: a run of its own
    ws["J70"] = "=SUM(A5:C7)"  # a plain formula below the array formulas: another run
    wb.save(path)
    ev = open_and_evaluate(path)
    runs = ev.book.sheets["conv"].runs
    assert [(r.r0, r.r1, r.one_cell_arrays) for r in runs[10]] == [(5, 5 + ROWS - 1, True), (70, 70, False)]
    assert [(r.r0, r.r1, r.array, r.one_cell_arrays) for r in runs[16]] == [(5, 5, (5, 16, 6, 16), False)]
    assert all(r.array_context for r in runs[11]) and not any(r.array_context for r in runs[12])


def test_an_excel_saved_book_reads_its_array_formulas_as_runs():
    ev = open_and_evaluate(WILD / "conv-example.xlsx")
    runs = ev.book.runs
    assert sum(r.n for r in runs) == 2865
    assert max(r.n for r in runs if r.one_cell_arrays) >= 24  # a convolution's column: one run

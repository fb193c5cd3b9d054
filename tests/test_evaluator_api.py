"""The evaluator's public API, as its package docstring promises it (`xlgd diff` builds on it).

One small workbook built here with openpyxl -- constants, a chain of
formulas, a volatile cell and its dependant, text, a formula without a
cached value -- and every entry of the docstring used once, so a change of
the API breaks this test before it breaks diff.
"""

import pytest

import xlgd.evaluator as evaluator
from xlgd.core.values import Text
from xlgd.evaluator import (
    UNKNOWN_VALUE,
    Evaluation,
    Outcome,
    Run,
    SheetCells,
    SheetValues,
    open_and_evaluate,
    read_book,
)
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["B1"] = "x", "double"
    for r in range(2, 12):
        ws[f"A{r}"] = r
        ws[f"B{r}"] = f"=A{r}*2"
        ws[f"C{r}"] = f"=C{r - 1}+B{r}" if r > 2 else "=B2"
    ws["D2"], ws["E2"], ws["F2"] = "=RAND()", "=D2+1", "=EXP(1)"
    other = wb.create_sheet("t")
    other["A1"] = "=s!C11/2"
    p = tmp_path_factory.mktemp("api") / "api.xlsx"
    wb.save(p)
    return p


def test_every_documented_name_is_exported():
    for name in ("Evaluation", "open_and_evaluate", "read_book", "UNKNOWN_VALUE", "SheetValues", "Run",
                 "SheetCells", "Outcome"):
        assert name in evaluator.__all__ and name in evaluator.__doc__


def test_the_documented_calls(book):
    ev = open_and_evaluate(book)
    assert isinstance(ev, Evaluation) and ev.dialect == "excel"
    assert ev.value("s", 11, 3) == sum(2 * r for r in range(2, 12)) and ev.value("t", 1, 1) == 65.0
    assert ev.cached("s", 11, 3) is UNKNOWN_VALUE  # openpyxl keeps no cached values
    assert ev.cached("s", 1, 1) == Text("x") and ev.value("s", 5, 1) == 5.0  # a constant is its own value
    assert ev.value("s", 40, 1) is None  # blank
    assert ev.unknown("s", 2, 4) == "uses RAND (volatile)" and ev.value("s", 2, 4) is UNKNOWN_VALUE
    assert ev.unknown("s", 2, 5).startswith("depends on s!D2") and ev.unknown("s", 11, 3) is None
    cells = set(ev.formula_cells("s"))
    assert len(cells) == 23 and (2, 2) in cells and (1, 1) not in cells
    vals = ev.values("s")
    assert isinstance(vals, SheetValues) and vals.get(6, 2) == 12.0
    assert isinstance(ev.computed, Outcome) and isinstance(ev.local, Outcome)
    runs = ev.book.sheets["s"].runs
    assert isinstance(ev.book.sheets["s"], SheetCells)
    assert all(isinstance(r, Run) for col in runs.values() for r in col)
    assert sum(r.n for r in ev.book.sheets["s"].all_runs()) == 23
    assert ev.run_at("s", 5, 2).r0 == 2 and ev.run_at("s", 5, 2).r1 == 11  # one run: B2:B11
    f2 = ev.run_at("s", 2, 6).id
    assert f2 in ev.ulp_tainted and ev.run_at("s", 2, 2).id not in ev.ulp_tainted
    with Package.open(book) as pkg:
        again = Evaluation(read_book(pkg), "libreoffice")
    assert again.value("t", 1, 1) == 65.0 and again.dialect == "libreoffice"

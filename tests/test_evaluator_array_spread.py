"""Functions of one value given arrays, applied cell by cell as the spreadsheet does, on books LibreOffice
recalculated and saved (openpyxl-built, as a learner writes them): IS functions, CHOOSE, VLOOKUP, HLOOKUP,
LOOKUP, MATCH and INDEX in array formulas; the same in plain formulas read on the formula's row. And
LibreOffice's odd roots of negatives (`=(-8)^(1/3)` is -2 there, #NUM! in Excel)."""

import math

from tests.excel_books import cause_cells, verify_json, write
from tests.verify_helpers import with_libreoffice
from xlgd.evaluator import open_and_evaluate

ARRAY_CELLS = 53  # the cells the array formulas of ARRAYS fill (LibreOffice also writes C4 as =TRUE())

ARRAYS = {"E1": ("ISNUMBER(A1:A4)", "E1:E4"), "F1": ("ISTEXT(C1:C4)", "F1:F4"), "G1": ("ISBLANK(C1:C4)", "G1:G4"),
          "H1": ("ISERROR(1/(A1:A4-2))", "H1:H4"), "I1": ("CHOOSE({1,2},A1:A4,B1:B4)", "I1:J4"),
          "K1": ("VLOOKUP(B1:B2-3,A1:B4,2,0)", "K1:K2"), "L1": ("MATCH({4,2},A1:A4,0)", "L1:M1"),
          "N1": ("INDEX(A1:B4,{1;2;4},2)", "N1:N3"), "O1": ("ISNA(MATCH(B1:B4,A1:A4,0))", "O1:O4"),
          "Q1": ("ISNONTEXT(C1:C4)", "Q1:Q4"), "R1": ("ISERR(MATCH(B1:B4,A1:A4,0))", "R1:R4"),
          "S1": ("HLOOKUP({1,2},{1,2;10,20},2,0)", "S1:T1"), "U1": ("LOOKUP(B1:B4,{0,5,7},{10,20,30})", "U1:U4"),
          "V1": ("CHOOSE(A1:A2,B1:B4,10)", "V1:V4")}
PLAIN = {"W2": "ISNUMBER(A1:A4)", "W3": "ISTEXT(A1:A4)", "W4": "ISBLANK(C1:C4)", "X2": "CHOOSE(A1:A4,10,20,30)",
         "Y1": "VLOOKUP(A1:A4,A1:B4,2,0)", "W7": "ISNUMBER(A1:A4)"}


def _learner_book(path, arrays, plain):
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for r, row in enumerate([[1, 4, "x"], [2, 5, None], ["t", 6, "y"], [4, 7, True]], 1):
        for c, v in enumerate(row, 1):
            if v is not None:
                ws.cell(r, c, v)
    for cell, (formula, ref) in arrays.items():
        ws[cell] = ArrayFormula(ref, "=" + formula)
    for cell, formula in plain.items():
        ws[cell] = "=" + formula
    wb.save(path)
    return path


@with_libreoffice
def test_one_value_functions_over_arrays_equal_libreoffice(tmp_path):
    """Every cell of the array formulas and of the plain formulas is checked and agrees with LibreOffice."""
    from xlgd.xlsx.libreoffice import recalc_xlsx

    book = recalc_xlsx(_learner_book(tmp_path / "a.xlsx", ARRAYS, PLAIN), tmp_path / "out")
    rc, rep = verify_json(book)
    assert rc == 0 and cause_cells(rep) == [] and rep["unchecked_cells"] == 0, rep
    assert rep["checked"] == rep["formula_cells"] == len(PLAIN) + ARRAY_CELLS + 1, rep
    ev = open_and_evaluate(book)
    assert [ev.value("s", r, 5) for r in range(1, 5)] == [True, True, False, True]  # ISNUMBER(A1:A4)
    assert [[ev.value("s", r, c) for c in (9, 10)] for r in (1, 4)] == [[1.0, 4.0], [4.0, 7.0]]  # CHOOSE({1,2},..)
    assert (ev.value("s", 2, 23), ev.value("s", 3, 23), ev.value("s", 7, 23)) == (True, True, False)


@with_libreoffice
def test_odd_roots_of_negatives_as_libreoffice_computes_them(tmp_path, lo_exact):
    """`(-8)^(1/3)`, `POWER(-32,0.2)`, `(-2)^(1/5)` and `(-8)^(-1/3)` are odd roots in LibreOffice (its exact
    doubles over UNO), `(-8)^(1/2)` and `(-8)^(2/3)` #NUM!; in Excel's dialect every one is #NUM!."""
    import openpyxl

    formulas = ["(-8)^(1/3)", "(-8)^(1/2)", "POWER(-32,0.2)", "(-8)^(2/3)", "(-27)^(1/3)", "POWER(-8,1/3)",
                "(-2)^(1/5)", "(-1)^(1/3)", "(-8)^(-1/3)", "A1^(1/3)", "A1^B1"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["B1"] = -125.0, 1 / 3
    for r, f in enumerate(formulas, 2):
        ws.cell(r, 1, "=" + f)
    book = tmp_path / "p.xlsx"
    wb.save(book)
    lo = lo_exact(book)["sheets"]["s"]
    want = [lo["errors"].get(f"{r - 1},0") or lo["values"][r - 1][0] for r in range(2, len(formulas) + 2)]
    assert want[0] == -2.0 and want[1] == "#NUM!", want  # what LibreOffice does, measured
    ev = open_and_evaluate(book, dialect="libreoffice")
    assert [ev.value("s", r, 1) for r in range(2, len(formulas) + 2)] == want
    excel = open_and_evaluate(book, dialect="excel")
    assert {excel.value("s", r, 1) for r in range(2, len(formulas) + 2)} == {"#NUM!"}


def test_odd_roots_saved_by_libreoffice_are_checked_and_excels_are_num(tmp_path):
    """A column of `=A1^B1` with negative bases and odd-root exponents, as LibreOffice saves it (values LibreOffice
    computed: -x^(1/n)), verifies OK in its dialect; the same values in a file Excel saved are a cause (Excel's
    #NUM!)."""
    rows = {f"A{r}": -float(r + 1) for r in range(1, 7)}
    rows.update({f"B{r}": 1 / (2 * r + 1) for r in range(1, 7)})
    lo_values = {f"C{r}": (f"A{r}^B{r}", -math.pow(r + 1, 1 / (2 * r + 1))) for r in range(1, 7)}
    for application, rc_want in (("LibreOffice/7.4.7.2$Linux_X86_64", 0), ("Microsoft Excel", 1)):
        p = write(tmp_path / f"{rc_want}.xlsx", {"s": {**rows, **lo_values}}, application=application)
        rc, rep = verify_json(p)
        assert rc == rc_want and rep["checked"] == 6, rep
    assert open_and_evaluate(p).value("s", 1, 3) == "#NUM!"

"""verify on books written as Excel writes them (tests/excel_books.py): formulas with Excel's cached values.

Each test is a phenomenon of real Excel-saved workbooks: what xlgd evaluates
is checked and its count is true, what it cannot evaluate is unchecked with
the reason, and a wrong value is still found.
"""

from tests.excel_books import cause_cells, verify_json, write

OFFSETS = {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": ("OFFSET(A1,2,0)", 3.0), "B2": ("SUM(OFFSET(A1,0,0,2,1))", 3.0),
           "B3": ("INDEX(A1:A3,2)", 2.0), "B4": ("B1*2", 6.0), "B5": ("RAND()", 0.5)}


def test_offset_and_index_cells_are_checked_and_counted(tmp_path):
    rc, rep = verify_json(write(tmp_path / "o.xlsx", {"Sheet1": OFFSETS}))
    assert rc == 0 and rep["formula_cells"] == 5
    assert rep["checked"] == 4 and [u["where"] for u in rep["unchecked"]] == ["Sheet1!B5"]
    assert not any("OFFSET" in n for n in rep["notes"] + rep["warnings"])


def test_a_wrong_offset_value_is_found(tmp_path):
    cells = dict(OFFSETS, B1=("OFFSET(A1,2,0)", 4.0), B4=("B1*2", 8.0))
    rc, rep = verify_json(write(tmp_path / "o.xlsx", {"Sheet1": cells}))
    assert rc == 1 and cause_cells(rep) == ["Sheet1!B1"]


def _var_book(path, inputs, excel_ulps, application="Microsoft Excel", cached_from=None):
    """A1:A4 inputs; B1 =VAR.P(A1:A4) whose cached value is Excel's one-pass variance of `cached_from` (the
    inputs unless given), (n*SUMSQ - SUM^2)/n^2 summed left to right, moved by `excel_ulps`; B2 =B1^2 and
    B3 =B2*10 cached from it."""
    import numpy as np

    xs = cached_from or inputs
    total, squares = 0.0, 0.0
    for x in xs:
        total, squares = total + x, squares + x * x
    var = (len(xs) * squares - total * total) / (len(xs) * len(xs))
    for _ in range(excel_ulps):
        var = float(np.nextafter(var, np.inf))
    cells = {f"A{i + 1}": x for i, x in enumerate(inputs)}
    cells.update({"B1": ("_xlfn.VAR.P(A1:A4)", var), "B2": ("B1^2", var * var), "B3": ("B2*10", var * var * 10)})
    return write(path, {"Sheet1": cells}, application=application)


INPUTS = [0.31, 0.47, 0.1234567, 0.9]


def test_var_p_exactly_as_excel_computes_it_is_bit_for_bit(tmp_path):
    rc, rep = verify_json(_var_book(tmp_path / "v.xlsx", INPUTS, 0))
    notes = [n for s in rep["sheets"] for n in s["notes"]]
    assert rc == 0 and cause_cells(rep) == [] and not any("VAR.P" in n for n in notes), rep


def test_var_p_a_few_ulp_from_excels_agrees_with_a_note(tmp_path):
    rc, rep = verify_json(_var_book(tmp_path / "v.xlsx", INPUTS, 3))
    notes = [n for s in rep["sheets"] for n in s["notes"]]
    assert rc == 0 and cause_cells(rep) == [], rep
    assert any("agree to ≤ 3 ulp" in n and "VAR.P" in n for n in notes), notes


def test_a_stale_value_after_an_input_changed_by_a_billionth_is_still_found(tmp_path):
    """A2 changed by 1e-9 relative, B1:B3 left as Excel computed them from the old A2 (manual calculation)."""
    changed = INPUTS[:1] + [INPUTS[1] * (1 + 1e-9)] + INPUTS[2:]
    rc, rep = verify_json(_var_book(tmp_path / "stale.xlsx", changed, 3, cached_from=INPUTS))
    assert rc == 1 and cause_cells(rep) == ["Sheet1!B1"], rep


def test_values_not_saved_by_excel_compare_bit_for_bit(tmp_path):
    rc, rep = verify_json(_var_book(tmp_path / "v.xlsx", INPUTS, 3, application="Microsoft Excel Compatible / Openpyxl"))
    assert rc == 1 and cause_cells(rep) == ["Sheet1!B1"], rep


def test_an_inconsistent_formula_in_a_layout_xlgd_does_not_know_is_a_warning(tmp_path):
    """A column of `=A1*2` with a gap (a pooling layer written every other row) and one deliberate change
    (`=A5*2+$E$1`, a finite-difference probe) whose cached value is right: exit 0, one warning line."""
    cells = {f"A{r}": float(r) for r in range(1, 13)}
    cells["E1"] = 0.5
    cells.update({f"C{r}": (f"A{r}*2", 2.0 * r) for r in range(1, 13) if r != 8})
    cells["C4"] = ("A4*2+$E$1", 8.5)
    rc, rep = verify_json(write(tmp_path / "p.xlsx", {"Sheet1": cells}))
    notes = [n for s in rep["sheets"] for n in s["notes"]]
    assert rc == 0 and cause_cells(rep) == [], rep
    assert rep["formula_cells"] == 11 and rep["checked"] == 11, rep
    assert [n for n in notes if n.startswith("warning:") and "2 cell(s) do not follow their column" in n], notes


def test_an_inconsistent_formula_with_a_wrong_value_is_still_a_cause(tmp_path):
    cells = {f"A{r}": float(r) for r in range(1, 13)}
    cells.update({f"C{r}": (f"A{r}*2", 2.0 * r) for r in range(1, 13)})
    cells["C5"] = ("A4*2", 10.0)  # the row above's input, a value left from the column's formula
    rc, rep = verify_json(write(tmp_path / "p.xlsx", {"Sheet1": cells}))
    assert rc == 1 and cause_cells(rep) == ["Sheet1!C5"], rep

"""Excel's own rules where they differ from the obvious, each on a book written as Excel writes it with the
values Excel saved for the same formulas in pycel's test workbooks (lookup.xlsx, npv.xlsx, information.xlsx):
verify finds no cause, the cells checked; a value off by more is still a cause."""

import math

from tests.excel_books import cause_cells, verify_json, write
from xlgd.evaluator import open_and_evaluate

ASCENDING = {f"B{5 + i}": float(i) for i in range(5)}  # 0 1 2 3 4


def test_match_descending_on_ascending_data(tmp_path):
    cells = dict(ASCENDING, C3=0.5, D3=2.0, F3=4.5)
    cells.update({f"{c}32": (f"MATCH({c}$3,$B$5:$B$9,-1)", want) for c, want in
                  (("C", "#N/A"), ("D", "#N/A"), ("F", "#N/A"), ("G", 1.0))})
    rc, rep = verify_json(write(tmp_path / "m.xlsx", {"Lookup": cells}))
    assert rc == 0 and rep["checked"] == 4, rep


def test_index_negative_whole_row_and_lookup_of_a_table(tmp_path):
    cells = dict(ASCENDING, E5=1.0, E6=2.0, F5=3.0, F6=4.0, B41=1.0,
                 C41=("INDEX({1,2;3,4},$B41)", 1.0, "C41:D41"), D41=(None, 2.0),
                 C42=("INDEX($B$5:$B$9,-1)", "#VALUE!"), J30=("LOOKUP(2,$B$5:$B$9,$E$5:$F$6)", "#N/A"),
                 C50=("POWER(0,0)", "#NUM!"))
    p = write(tmp_path / "i.xlsx", {"Index": cells})
    ev = open_and_evaluate(p)
    assert [ev.value("Index", 41, c) for c in (3, 4)] == [1.0, 2.0]
    rc, rep = verify_json(p)
    assert rc == 0 and rep["checked"] == rep["formula_cells"] == 5, rep


def test_a_final_subtraction_near_zero_is_excels_zero(tmp_path):
    """npv.xlsx: `=C3-A3`, C3 typed as 1188.443, A3 a value a few ulp from it: Excel saved 0."""
    a = 1188.4430000000002
    cells = {"A3": ("A4*1", a), "A4": a, "C3": 1188.443, "D3": ("C3-A3", 0.0)}
    rc, rep = verify_json(write(tmp_path / "n.xlsx", {"NPV": cells}))
    assert rc == 0 and rep["checked"] == 2 and rep["sheets"][0]["max_ulp"] == 0, rep
    cells["D3"] = ("C3-A3", 1e-9)  # not Excel's zero, not the formula's value: a cause
    rc, rep = verify_json(write(tmp_path / "m.xlsx", {"NPV": cells}))
    assert rc == 1 and cause_cells(rep) == ["NPV!D3"], rep


def test_a_name_nobody_defined_is_a_warning_in_a_layout_xlgd_does_not_know(tmp_path):
    cells = {"A1": 1.0, "B1": ("ISERROR(na)", True), "C1": ("A1+1", 2.0)}
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"Information": cells}))
    assert rc == 0 and any("the name na" in w and "not defined" in w for w in rep["warnings"]), rep


def test_iferror_if_and_switch_over_arrays_and_switch_blanks(tmp_path):
    """logical.xlsx: `{=IFERROR(A3:B3,"ERROR")}` over K3:L3 with A3 #DIV/0!; `{=SWITCH(A45:C45,FALSE,0,TRUE,1)}`
    over A44:C44; SWITCH of a blank matches 0, not "" nor FALSE."""
    cells = {"A3": ("1/0", "#DIV/0!"), "B3": ("ROW()", 3.0), "K3": ('IFERROR(A3:B3,"ERROR")', "ERROR", "K3:L3"),
             "L3": (None, 3.0), "K4": ('IF(A5:B5>1,"big","small")', "small", "K4:L4"), "L4": (None, "big"),
             "A5": 1.0, "B5": 2.0, "A45": ("FALSE", False), "B45": ("FALSE", False), "C45": ("TRUE", True),
             "A44": ("SWITCH(A45:C45,FALSE,0,TRUE,1)", 0.0, "A44:C44"), "B44": (None, 0.0), "C44": (None, 1.0),
             "A32": False, "C32": ('SWITCH(A32,B32,"match")', "#N/A"), "A36": 0.0, "C36": ('SWITCH(A36,B36,"match")', "match"),
             "B38": "", "C38": ('SWITCH(A38,B38,"match")', "#N/A")}
    rc, rep = verify_json(write(tmp_path / "l.xlsx", {"Switch": cells}))
    assert rc == 0 and rep["checked"] == rep["formula_cells"] == 15, rep


def test_a_loop_only_through_a_branch_not_taken_is_no_circular_reference(tmp_path):
    """formulas' circular.xlsx (vinci1it2000/formulas, test/test_files, Excel 16 for Mac): rows whose
    cells name one another only in an IF branch Excel does not take hold the values Excel computed (B6:D6
    all 1, E6 2; C14:D14 #REF! from A14's error); `=B2` in B2 is the one real circular reference."""
    cells = {"A2": True, "B2": ("B2", 0.0),
             "A6": False, "B6": ("C6", 1.0), "C6": ("D6", 1.0), "D6": ("IF(IF(A6,B6,TRUE),1,B6)", 1.0),
             "E6": ("B6+1", 2.0),
             "A14": "#REF!", "B14": 1.0, "C14": ("D14", "#REF!"),
             "D14": ('IF(A14="",0,3000-SUM(B14:C14)+(-SUM($A14:A14)-3000))', "#REF!")}
    rc, rep = verify_json(write(tmp_path / "c.xlsx", {"DATA": cells}))
    circular = [c["cell"] for s in rep["sheets"] for c in s["causes"] if c["kind"] == "circular"]
    assert rc == 1 and circular == ["B2"] and cause_cells(rep) == ["DATA!B2"], rep
    assert rep["checked_ok"] == 6, rep
    cells["E6"] = ("B6+1", 1.0)  # a value its formula does not give: a cause
    rc, rep = verify_json(write(tmp_path / "d.xlsx", {"DATA": cells}))
    assert "DATA!E6" in cause_cells(rep), rep


def test_a_loop_through_an_array_formulas_member_cell_is_named(tmp_path):
    """formulas' circular.xlsx rows 10-12: `{=IF(A10:A12,B10:B12,1)}` over D10:D12, B11 `=IF(A11,C11,1)` with
    A11 TRUE and C11 `=D11`: B11 -> C11 -> D11 (a cell of the array) -> B11 is the loop, named once at the
    array's first cell; rows 10 and 12 take the IF branch that leaves it (Excel saved 1 there, 0 in the loop)."""
    cells = {"A10": False, "A11": True, "A12": False,
             "B10": ("IF(A10,C10,1)", 1.0), "C10": ("D10", 1.0), "D10": ("IF(A10:A12,B10:B12,1)", 1.0, "D10:D12"),
             "B11": ("IF(A11,C11,1)", 0.0), "C11": ("D11", 0.0), "D11": ("", 0.0),
             "B12": ("IF(A12,C12,1)", 1.0), "C12": ("D12", 1.0), "D12": ("", 1.0)}
    rc, rep = verify_json(write(tmp_path / "a.xlsx", {"DATA": cells}))
    loops = [c for s in rep["sheets"] for c in s["causes"] if c["kind"] == "circular"]
    assert rc == 1 and [c["cell"] for c in loops] == ["D10"], rep
    assert "DATA!B11" in loops[0]["message"] and "DATA!C11" in loops[0]["message"], loops
    assert "DATA!C10" not in loops[0]["message"] and "DATA!B10" not in loops[0]["message"], loops


def test_a_cell_of_an_array_formula_read_before_its_first_cell_is_computed_in_order(tmp_path):
    """B1 reads D11, a cell of `{=A10:A12*H1*2/3}` over D10:D12 whose inputs come later in the book's order:
    the evaluator computes the array first (the cell belongs to its first cell's formula)."""
    cells = {"E1": 1.0, "A10": ("E1*1", 1.0), "A11": ("E1*2", 2.0), "A12": ("E1*3", 3.0), "F1": ("A10+A11", 3.0),
             "G1": ("F1*1", 3.0), "H1": ("G1*1", 3.0), "D10": ("A10:A12*H1*2/3", 2.0, "D10:D12"),
             "D11": ("", 4.0), "D12": ("", 6.0), "B1": ("D11+1", 5.0)}
    ev = open_and_evaluate(write(tmp_path / "o.xlsx", {"S": cells}))
    assert ev.computed.unknown == {} and ev.value("S", 1, 2) == 5.0, ev.computed.unknown


def test_a_tolerance_from_a_c_library_function_is_said_in_a_note(tmp_path):
    # B1's LN holds the neighbour of the double numpy gives (another C library's last bit); C1 cancels
    # most of it, so the value recomputed from A1 differs from the cached C1 in far more than the last bits
    # of C1, yet within the last bits of the terms it cancels: no cause, a note. A C1 left over from an
    # input 1e-9 larger is still a cause.
    b1 = math.nextafter(math.log(0.3), 1.0)
    cells = {"A1": 0.3, "B1": ("LN(A1)", b1), "C1": ("B1+1.2039728043259", b1 + 1.2039728043259)}
    code, rep = verify_json(write(tmp_path / "ln.xlsx", {"Sheet1": cells}))
    (sheet,) = rep["sheets"]
    assert code == 0 and rep["ok"] and rep["checked_ok"] == 2, rep
    assert any("not bit for bit: they depend on LN, whose last bits xlgd cannot reproduce" in note
               for note in sheet["notes"]), sheet["notes"]
    stale = dict(cells, C1=("B1+1.2039728043259", math.log(0.3 * (1 + 1e-9)) + 1.2039728043259))
    code, rep = verify_json(write(tmp_path / "stale.xlsx", {"Sheet1": stale}))
    assert code == 1 and cause_cells(rep) == ["Sheet1!C1"], rep["causes"]
    exact = {"A1": 0.3, "B1": ("A1*2", 0.6), "C1": ("B1+1.2039728043259", 0.6 + 1.2039728043259)}
    (sheet,) = verify_json(write(tmp_path / "exact.xlsx", {"Sheet1": exact}))[1]["sheets"]
    assert sheet["max_ulp"] == 0 and not any("cannot reproduce" in note for note in sheet["notes"]), sheet

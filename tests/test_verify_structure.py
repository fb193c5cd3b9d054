"""Structural edits are one cause each; a known layout lacking an optional column is no error; cycles are found.

Built in the tests the way people make them: a row inserted into a generated
workbook's step table with openpyxl, a sheet added, graddesc's momentum sheet
as it was before 2018 (no err^2 column), a formula that reads itself.
"""

import re
import shutil

import pytest

from tests import learner
from tests.verify_helpers import edit_zip, sheet_part
from xlgd.check.verify import verify_book


@pytest.fixture(scope="module")
def small(graddesc_book):
    return graddesc_book[0]


@pytest.mark.slow
def test_blank_row_inserted_in_a_step_table(small, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(small)
    wb["momentum"].insert_rows(20)
    q = tmp_path / "inserted.xlsx"
    wb.save(q)
    rep = verify_book(q)
    mom = next(s for s in rep.sheets if s.name == "momentum")
    assert mom.layout == "unknown" and any("no longer follows the layout xlgd wrote" in n for n in mom.notes)
    assert len(mom.causes) == 1 and mom.causes[0].kind == "structure", rep.text()
    assert "row 20 is empty" in mom.causes[0].message
    assert all(not s.causes for s in rep.sheets if s.name != "momentum"), rep.text()


def test_sheet_added_to_a_generated_workbook_is_checked(small, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(small)
    ws = wb.create_sheet("notes")
    ws["A1"], ws["B1"], ws["C1"] = 2, 3, "=A1*B1+momentum!A3"
    q = tmp_path / "added.xlsx"
    wb.save(q)
    rep = verify_book(q)
    notes = next(s for s in rep.sheets if s.name == "notes")
    assert rep.ok and notes.checked == notes.formula_cells == 1, rep.text()


@pytest.mark.graddesc
def test_momentum_without_err2_is_the_older_layout_not_an_error(reference_xlsm, tmp_path):
    src = tmp_path / "g.xlsm"
    shutil.copy(reference_xlsm, src)

    def drop_l(t):  # the 2016 momentum sheet: no err^2 column L, no L33 total
        return re.sub(r'<c r="L(?:[3-9]|[12][0-9]|3[0-3])"[^>]*?(?:/>|>.*?</c>)', "", t, flags=re.DOTALL)

    q = edit_zip(src, tmp_path / "old.xlsm", sheet_part(src, "momentum"), drop_l)
    rep = verify_book(q)
    mom = next(s for s in rep.sheets if s.name == "momentum")
    assert rep.ok and mom.layout == "graddesc:momentum" and not mom.causes, rep.text()
    assert any("older layout" in n for n in mom.notes)


def test_a_circular_reference_is_found_not_looped(tmp_path):
    wb, n = learner.workbook()
    ws = wb["two neurons"]
    ws["R4"], ws["R5"] = "=R5+1", "=R4*2"
    ws["S4"] = "=R4+1"
    q = tmp_path / "circular.xlsx"
    wb.save(q)
    rep = verify_book(q)
    s = next(s for s in rep.sheets if s.name == "two neurons")
    circ = [c for c in s.causes if c.kind == "circular"]
    assert not rep.ok and len(circ) == 1 and circ[0].cell.startswith("R4"), rep.text()
    assert "R5" in circ[0].message
    assert any(u.reason.startswith("depend on") or "circular" in u.reason for u in s.unchecked), rep.text()


def _whole_column_chain(path, rows):
    """A chain whose every row also sums whole columns of the chain: B2 reads itself through A:C."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 1
    for r in range(2, rows + 1):
        ws[f"A{r}"], ws[f"B{r}"] = f"=A{r - 1}+B{r - 1}", "=SUM(A$1:C$1048576)/1000"
    wb.save(path)
    return path


def test_a_cycle_through_whole_columns_is_found_from_the_cells_it_covers(tmp_path):
    """Ordering cell by cell finds the cells a range covers among the group's own cells, without walking
    every row of A$1:C$1048576 for each cell."""
    rep = verify_book(_whole_column_chain(tmp_path / "whole.xlsx", 300))
    s = rep.sheets[0]
    circ = [c for c in s.causes if c.kind == "circular"]
    assert not rep.ok and len(circ) == 1 and circ[0].cell == "B2" and "A3" in circ[0].message, rep.text()
    assert s.formula_cells == 2 * 299


@pytest.mark.slow
def test_a_group_too_wide_to_order_is_unchecked_with_its_reason(tmp_path):
    """3,000 rows each reading whole columns of each other: more cell-to-cell dependencies than are
    ordered one by one -- every cell unchecked, the reason named, never OK."""
    rep = verify_book(_whole_column_chain(tmp_path / "wide.xlsx", 3000))
    s = rep.sheets[0]
    assert s.checked == 0 and s.unchecked_cells == s.formula_cells == 2 * 2999, rep.text()
    assert "too widely to be ordered cell by cell" in s.unchecked[0].reason
    assert not rep.ok and rep.verdict().startswith(f"UNCHECKED: 0 of {2 * 2999:,} formula cells could be checked ("), \
        rep.verdict()


@pytest.mark.slow
def test_rows_filled_down_below_a_step_table_are_one_note(small, tmp_path):
    """The last step row dragged down three rows (the fill handle: references move with the row, the
    data cells read are past the data, so empty). Consistent formulas: no cause, every cell counted
    and checked, and one line saying the table is longer than the layout xlgd wrote."""
    import openpyxl
    from openpyxl.formula.translate import Translator

    wb = openpyxl.load_workbook(small)
    ws = wb["momentum"]
    last = max(r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 3).value, str)
               and ws.cell(r, 3).value.startswith("=data!"))
    added = 0
    for r in range(last + 1, last + 4):
        for c in range(1, ws.max_column + 1):
            v = ws.cell(last, c).value
            if isinstance(v, str) and v.startswith("="):
                ws.cell(r, c).value = Translator(v, ws.cell(last, c).coordinate).translate_formula(
                    ws.cell(r, c).coordinate)
                added += 1
    q = tmp_path / "filled.xlsx"
    wb.save(q)
    before = next(s for s in verify_book(small).sheets if s.name == "momentum").formula_cells
    rep = verify_book(q)
    mom = next(s for s in rep.sheets if s.name == "momentum")
    assert rep.ok and not mom.causes and mom.formula_cells == mom.checked == before + added, rep.text()
    said = [n for n in mom.notes if "filled down" in n]
    assert len(said) == 1 and f"rows {last + 1}..{last + 3} below the step table" in said[0]
    assert not any("filled down" in n for s in verify_book(small).sheets for n in s.notes)

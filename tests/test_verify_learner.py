"""verify on a learner's own workbook: every formula cell checked, and each edit one cause at its cell.

The book is built here with openpyxl, formulas typed as a person types them
(tests/learner.py); edits are made the way people make them -- a formula
retyped, a number typed over a formula, a row inserted (openpyxl's own
insert_rows, which leaves references alone, and the way Excel inserts one,
moving the references below), a cached value left stale. Cached values come
from LibreOffice opening and saving the book, as a learner's would.
"""

import json
import re

import pytest

from tests import learner
from tests.verify_helpers import edit_zip, set_value, sheet_part, soffice, verify
from xlgd.check.verify import verify_book

SHEET = "two neurons"


def _save(wb, path):
    wb.save(path)
    return path


def _sheet(rep, name=SHEET):
    return next(s for s in rep.sheets if s.name == name)


@pytest.fixture
def book():
    return learner.workbook()


@pytest.mark.slow
def test_clean_book_every_formula_cell_checks_out(book, tmp_path):
    wb, n = book
    p = _save(wb, tmp_path / "learner.xlsx")
    r = verify(p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"OK: {n} of {n} formula cells check out"
    rep = verify_book(p)
    s = _sheet(rep)
    assert rep.ok and s.layout == "unknown" and s.formula_cells == s.checked == n and not s.unchecked
    assert "no cached values" in rep.values_source
    # what the sheet is: its weights, their update and the learning rate every update reads
    assert s.descent == ("gradient descent (SGD, forward difference, lr in F1 (lr)) — 4 weights, derivatives and "
                         "updates check out"), s.descent
    d = json.loads(verify(p, "--json").stdout)
    assert (d["formula_cells"], d["checked"], d["unchecked"]) == (n, n, [])
    assert d["sheets"][0]["formula_cells"] == n and d["sheets"][0]["checked"] == n
    r = verify(p, "--recalc")  # no LibreOffice needed: the workbook evaluator recalculates
    assert r.returncode == 0 and "recalculation by the workbook evaluator" in r.stdout, r.stdout + r.stderr


def test_inconsistent_formula_is_one_cause_at_its_cell(book, tmp_path):
    wb, _ = book
    wb[SHEET]["G17"] = "=C17*(A17*B16+D17)+E17"  # the row above's a
    rep = verify_book(_save(wb, tmp_path / "e.xlsx"))
    causes = _sheet(rep).causes
    assert not rep.ok and len(causes) == 1, rep.text()
    c = causes[0]
    assert c.cell == "G17 (pred)" and c.kind == "formula"
    assert "`B16` where its column has `B17`" in c.message


def test_constant_typed_over_a_formula_is_one_cause(book, tmp_path):
    wb, _ = book
    wb[SHEET]["H20"] = 1234.5
    rep = verify_book(_save(wb, tmp_path / "c.xlsx"))
    causes = _sheet(rep).causes
    assert len(causes) == 1 and causes[0].cell == "H20 (err^2)" and causes[0].kind == "constant", rep.text()
    assert "replaced by the constant 1234.5" in causes[0].message


def _excel_insert(ws, at):
    """Insert an empty row at `at` the way Excel does: cells move down, references to moved cells follow."""
    def move(m):
        col, dollar, row = m.group(1), m.group(2), int(m.group(3))
        return f"{col}{dollar}{row + 1 if row >= at else row}"

    cells = [(c.row, c.column, c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    for r, c, _ in cells:
        ws.cell(r, c).value = None
    for r, c, v in cells:
        if isinstance(v, str) and v.startswith("="):
            v = re.sub(r"(\$?[A-Z]{1,3})(\$?)([0-9]+)", move, v)
        ws.cell(r + 1 if r >= at else r, c).value = v


@pytest.mark.parametrize("how", ["openpyxl", "excel"])
def test_inserted_blank_row_is_one_cause(book, tmp_path, how):
    wb, _ = book
    ws = wb[SHEET]
    if how == "openpyxl":
        ws.insert_rows(15)  # references left as they were
    else:
        _excel_insert(ws, 15)
    rep = verify_book(_save(wb, tmp_path / "i.xlsx"))
    causes = _sheet(rep).causes
    assert len(causes) == 1 and causes[0].kind == "structure", rep.text()
    assert causes[0].cell.startswith("B15") and "row 15 is empty inside a table of formulas" in causes[0].message
    # the empty row is no formula cell: it fails the verdict without counting against the formula cells
    n = _sheet(rep).formula_cells
    assert rep.verdict() == f"FAILED: 1 root cause(s); {n:,} of {n:,} formula cells check out", rep.verdict()


def test_deleted_row_is_one_cause(book, tmp_path):
    """Row 15 deleted the way Excel deletes it: references to it become #REF!, those below move up."""
    wb, _ = book
    ws = wb[SHEET]

    def move(m):
        col, dollar, row = m.group(1), m.group(2), int(m.group(3))
        return "#REF!" if row == 15 else f"{col}{dollar}{row - 1 if row > 15 else row}"

    cells = [(c.row, c.column, c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    for r, c, _ in cells:
        ws.cell(r, c).value = None
    for r, c, v in cells:
        if r == 15:
            continue
        if isinstance(v, str) and v.startswith("="):
            v = re.sub(r"(\$?[A-Z]{1,3})(\$?)([0-9]+)", move, v)
        ws.cell(r - 1 if r > 15 else r, c).value = v
    rep = verify_book(_save(wb, tmp_path / "d.xlsx"))
    causes = _sheet(rep).causes
    assert len(causes) == 1 and causes[0].cell.startswith("B15") and "#REF!" in causes[0].message, rep.text()
    assert "and 3 more formula(s) on row 15" in causes[0].message


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not soffice(), reason="LibreOffice not installed")
def test_stale_values_in_a_book_libreoffice_saved(book, tmp_path):
    from xlgd.xlsx.libreoffice import recalc_xlsx

    wb, n = book
    saved = recalc_xlsx(_save(wb, tmp_path / "l.xlsx"), tmp_path / "lo")
    rep = verify_book(saved)
    assert rep.ok and rep.checked_ok == n and "15 significant digits" in rep.values_source, rep.text()
    part = sheet_part(saved, SHEET)
    # one cached value edited: the cell and the cells reading it disagree with their formulas -- one cause
    q = edit_zip(saved, tmp_path / "s.xlsx", part, lambda t: set_value(t, "H10", "999"))
    causes = _sheet(verify_book(q)).causes
    assert len(causes) == 1 and causes[0].kind == "stale" and causes[0].cell.startswith("H10"), causes
    # the forum learner's puzzle: lr typed in, nothing recalculated
    q = edit_zip(saved, tmp_path / "lr.xlsx", part, lambda t: set_value(t, "F1", "0.001"))
    rep = verify_book(q)
    causes = _sheet(rep).causes
    assert len(causes) == 1 and causes[0].kind == "stale" and causes[0].cell.startswith("M4"), rep.text()
    assert causes[0].downstream > 100


@pytest.mark.slow
def test_learner_sheet_added_to_a_generated_workbook_is_checked(tmp_path):
    import openpyxl

    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    p = tmp_path / "g.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=1)), p)
    wb = openpyxl.load_workbook(p)
    n = learner.build(wb.create_sheet("mine"))
    rep = verify_book(_save(wb, tmp_path / "with_mine.xlsx"))
    mine = _sheet(rep, "mine")
    assert rep.ok and mine.layout == "unknown" and mine.checked == mine.formula_cells == n, rep.text()
    assert {s.name for s in rep.sheets} >= {"basic", "momentum", "rmsprop", "adam", "adam_ann", "mine"}
    wb["mine"]["N9"] = "=C9-$F$1*J8"
    rep = verify_book(_save(wb, tmp_path / "with_mine_edited.xlsx"))
    assert [c.cell for c in _sheet(rep, "mine").causes] == ["N9 (new c)"], rep.text()


def test_unsupported_and_volatile_functions_are_unchecked_never_ok_every(book, tmp_path):
    wb, n = book
    ws = wb[SHEET]
    ws["J35"] = "=TREND(F4:F32,A4:A32,5)"
    ws["R4"], ws["S4"] = "=RAND()", "=R4*2"
    p = _save(wb, tmp_path / "u.xlsx")
    r = verify(p)
    assert r.returncode == 0, r.stdout + r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith(f"OK with 3 unchecked: {n} of {n + 3} formula cells check out"), last
    assert "every" not in r.stdout
    d = json.loads(verify(p, "--json").stdout)
    texts = " | ".join(u["text"] for u in d["unchecked"])
    assert "'two neurons'!J35 uses TREND, which xlgd does not evaluate" in texts
    assert "'two neurons'!R4 and 1 dependant use RAND (volatile)" in texts
    assert d["formula_cells"] == n + 3 and d["checked"] == n and d["unchecked_cells"] == 3


def test_sheet_only_named_like_graddesc_basic_is_checked_as_unknown(tmp_path):
    """The forum layout (x, y, then four weights; lr moved to H1, F1 holding the label 'c') in a sheet
    named basic: one line says graddesc's layout does not match, then every cell is checked."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "basic"
    ws["E1"], ws["F1"], ws["G1"], ws["H1"] = "weights:", "c", "lr", 1e-4
    for i, h in enumerate(["x", "y", "a", "b", "pred", "err^2", "de/da", "de/db", "new a", "new b"]):
        ws.cell(3, i + 1, h)
    for k, x in enumerate(learner.X):
        r = 4 + k
        ws[f"A{r}"], ws[f"B{r}"] = x, 2 * x + 30
        if k == 0:
            ws["C4"], ws["D4"] = 1, 1
        else:
            ws[f"C{r}"], ws[f"D{r}"] = f"=I{r - 1}", f"=J{r - 1}"
        ws[f"E{r}"] = f"=C{r}*A{r}+D{r}"
        ws[f"F{r}"] = f"=(E{r}-B{r})^2"
        ws[f"G{r}"] = f"=(((C{r}+0.01)*A{r}+D{r}-B{r})^2-F{r})/0.01"
        ws[f"H{r}"] = f"=((C{r}*A{r}+D{r}+0.01-B{r})^2-F{r})/0.01"
        ws[f"I{r}"] = f"=C{r}-$H$1*G{r}"
        ws[f"J{r}"] = f"=D{r}-$H$1*H{r}"
    rep = verify_book(_save(wb, tmp_path / "basic.xlsx"))
    s = _sheet(rep, "basic")
    assert rep.ok and s.layout == "unknown" and s.checked == s.formula_cells == 29 * 6 + 28 * 2, rep.text()
    assert len(s.notes) >= 1 and "layout does not match" in s.notes[0] and "F1" in s.notes[0]


def test_forum_two_neuron_book_named_basic_with_lr_moved(tmp_path):
    """The forum learner's 2-neuron sheet named `basic`, its lr moved from F1 to K1 and
    F1 holding the text 'c' (where graddesc's basic keeps lr). Not 'basic!F1 (lr) holds #VALUE!': one
    line says the layout does not match, then all 403 cells are checked, and an edit is still found."""
    wb, n = learner.workbook(title="basic")
    ws = wb["basic"]
    ws["E1"], ws["F1"], ws["J1"], ws["K1"] = "weights: a b", "c", "lr", 1e-4
    for row in ws.iter_rows(min_row=learner.FIRST):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.value = c.value.replace("$F$1", "$K$1")
    rep = verify_book(_save(wb, tmp_path / "basic.xlsx"))
    s = _sheet(rep, "basic")
    assert rep.ok and s.layout == "unknown" and s.checked == s.formula_cells == n, rep.text()
    said = [n for n in rep.notes + s.notes if "checked as an unknown sheet" in n]
    assert len(said) == 1 and said[0].startswith("basic: named like graddesc's basic sheet"), rep.text()
    assert "#VALUE!" not in rep.text()
    assert s.descent.startswith("gradient descent (SGD, forward difference, lr in K1 (lr))"), s.descent
    ws["M12"] = "=B12-$K$1*I11"
    rep = verify_book(_save(wb, tmp_path / "basic_edited.xlsx"))
    assert [c.cell for c in _sheet(rep, "basic").causes] == ["M12 (new a)"], rep.text()


def _text_weight_book(path):
    """A learner's step table with the word "one" typed as the first weight a, saved by openpyxl."""
    from tests.learner_descent import FIRST, workbook

    wb, letter = workbook(model="linear", derivative="analytic")
    wb.active[f"{letter['a']}{FIRST}"] = "one"
    wb.save(path)
    return path, f"{letter['a']}{FIRST}"


def _assert_text_weight_blamed(rep, cell):
    causes = [c for s in rep.sheets for c in s.causes]
    assert not rep.ok and rep.verdict().startswith("FAILED"), rep.text()
    assert [(c.cell, c.kind) for c in causes] == [(cell, "constant")], rep.text()
    assert "'one'" in causes[0].message and "#VALUE!" in causes[0].message


def test_text_typed_as_a_weight_is_a_cause_at_the_cell(tmp_path):
    path, cell = _text_weight_book(tmp_path / "text.xlsx")
    _assert_text_weight_blamed(verify_book(path), cell)
    r = verify(path)
    assert r.returncode == 1 and f"mine!{cell}:" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not soffice(), reason="LibreOffice not installed")
def test_text_typed_as_a_weight_libreoffice_saved_same_verdict(tmp_path):
    from xlgd.xlsx.libreoffice import recalc_xlsx

    path, cell = _text_weight_book(tmp_path / "text.xlsx")
    saved = recalc_xlsx(path, tmp_path / "lo")
    rep = verify_book(saved)
    assert "LibreOffice" in rep.producer
    _assert_text_weight_blamed(rep, cell)
    assert rep.checked_ok == rep.formula_cells, rep.text()  # LibreOffice's #VALUE!s are what the evaluator computes


def _forecast_sheet(ws, rows=10):
    """x, y and a column of =TREND (a function xlgd does not evaluate) on every row."""
    for r in range(1, rows + 1):
        ws.cell(r, 1, r)
        ws.cell(r, 2, 2 * r + 1)
        ws.cell(r, 3, f"=TREND(B$1:B${rows},A$1:A${rows},A{r})")


def test_a_book_no_formula_cell_of_which_can_be_checked_is_unchecked_not_ok(tmp_path):
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "fc"
    _forecast_sheet(ws)
    people = wb.create_sheet("people")
    people.append(["Name", "Age"])
    for i in range(5):
        people.append([f"p{i}", 20 + i])
    people.add_table(Table(displayName="Table1", ref="A1:B6"))
    people["D1"], people["D2"] = "=IRR(Table1[Age])", "=IRR(Table1[Age],0.2)"
    path = _save(wb, tmp_path / "none.xlsx")
    rep = verify_book(path)
    assert not rep.ok and rep.verdict().startswith("UNCHECKED: 0 of 12 formula cells could be checked ("), rep.text()
    lines = rep.text().splitlines()
    assert "fc (unknown): 10 formula cells, none checked: fc!C1:C10 use TREND" in rep.text(), rep.text()
    assert any(ln.startswith("people (unknown): 2 formula cells, none checked: people!D1:D2") for ln in lines), lines
    r = verify(path)
    assert r.returncode == 1 and r.stdout.strip().splitlines()[-1].startswith("UNCHECKED: "), r.stdout + r.stderr
    r = verify(path, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["ok"] is False


def test_a_sheet_none_of_whose_cells_is_checked_says_so_beside_a_checked_one(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    _forecast_sheet(wb.active)
    wb.active.title = "fc"
    ok = wb.create_sheet("ok")
    ok["A1"], ok["A2"] = 1, "=A1+1"
    path = _save(wb, tmp_path / "some.xlsx")
    r = verify(path)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and lines[-1].startswith("OK with 10 unchecked: 1 of 11 formula cells check out"), lines
    assert [ln for ln in lines if ln.startswith("fc ")] == [
        "fc (unknown): 10 formula cells, none checked: fc!C1:C10 use TREND, which xlgd does not evaluate"]
    assert "ok (unknown): 1 of 1 formula cells checked, ok, max 0 ulp" in lines


@pytest.mark.parametrize("first_formula_row", [5, 150])
def test_where_values_come_from_is_said_truly_however_far_down_the_formulas_start(tmp_path, first_formula_row):
    """A sheet openpyxl saved holds no cached values: verify recomputes them and says so, also when its
    formulas start below the rows it reads first (a long data table above them)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, first_formula_row + 50):
        ws.cell(r, 1, float(r))
    for r in range(first_formula_row, first_formula_row + 50):
        ws.cell(r, 2, f"=A{r}*2")
    rep = verify_book(_save(wb, tmp_path / "deep.xlsx"))
    assert "(the file holds no cached values)" in rep.text() and rep.ok, rep.text()

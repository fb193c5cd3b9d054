"""Structured references to Excel tables (xl/tables/tableN.xml) and unions of ranges, on books holding real
cached values: the values Excel saved for pycel's tests/fixtures/excelcompiler.xlsx (sheet `sref`), a
course-style column of `Table1[[#This Row],[Age]]` formulas, and a learner's table LibreOffice recalculated."""

from tests.excel_books import cause_cells, verify_json, write
from tests.verify_helpers import with_libreoffice
from xlgd.evaluator import open_and_evaluate

# pycel's sref sheet: Table1 over D1:F4, a header row, a totals row (F4 held =SUBTOTAL(109,[col3]), 9).
SREF = {"D1": "col1", "E1": "col2", "F1": "col3", "D2": 1.0, "E2": 2.0, "F2": 3.0, "D3": 4.0, "E3": 5.0, "F3": 6.0,
        "D4": "Total", "F4": 9.0,
        "B1": ("SUM(Table1[])", 21.0), "B2": ("SUM(Table1[col2])", 7.0), "B3": ("SUM(Table1[#This Row])", 15.0),
        "B4": ("SUM(Table1[#All])", 30.0), "B5": ("SUM(Table1[#Data])", 21.0),
        "B6": ("_xlfn.CONCAT(Table1[#Headers])", "col1col2col3"), "B7": ("SUM(Table1[#Totals])", 9.0),
        "B8": ("SUM(Table1)", 21.0), "B9": ("SUM(Table1[[#Headers],[#Data],[col1]:[col2]])", 12.0),
        "B10": ("SUM((D2:D3,F2:F3),1)", 15.0), "B11": ("MAX((D2,E3:F3))", 6.0), "B12": ("COUNT((D1:D4,E1:E4))", 4.0)}
SREF_TABLES = {"sref": [("Table1", "D1:F4", ["col1", "col2", "col3"], 1)]}


def test_structured_references_and_unions_as_excel_saved_them(tmp_path):
    rc, rep = verify_json(write(tmp_path / "s.xlsx", {"sref": SREF}, tables=SREF_TABLES))
    assert rc == 0 and cause_cells(rep) == [] and rep["unchecked_cells"] == 0, rep
    assert rep["checked"] == 12, rep
    wrong = dict(SREF, B4=("SUM(Table1[#All])", 21.0))  # #All without the totals row: not Excel's value
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"sref": wrong}, tables=SREF_TABLES))
    assert rc == 1 and cause_cells(rep) == ["sref!B4"], rep


def test_this_row_column_of_a_course_sheet(tmp_path):
    """`=Table1342[[#This Row],[Age]]/$E$1` down a table's rows (fast.ai's titanic.xlsx): each row reads its own
    Age; `=MAX(Table1342[Age])` the column's data rows."""
    ages = [22.0, 38.0, 26.0, 35.0, 54.0]
    cells = {"A3": "Age", "B3": "Age_N", "E1": ("MAX(Table1342[Age])", 54.0)}
    for r, age in enumerate(ages, 4):
        cells[f"A{r}"] = age
        cells[f"B{r}"] = ("Table1342[[#This Row],[Age]]/$E$1", age / 54.0)
    tables = {"mmult": [("Table1342", "A3:B8", ["Age", "Age_N"])]}
    rc, rep = verify_json(write(tmp_path / "t.xlsx", {"mmult": cells}, tables=tables))
    assert rc == 0 and rep["checked"] == 6 and rep["unchecked_cells"] == 0, rep
    cells["B6"] = ("Table1342[[#This Row],[Age]]/$E$1", 22.0 / 54.0)  # a row reading the first row's Age
    rc, rep = verify_json(write(tmp_path / "u.xlsx", {"mmult": cells}, tables=tables))
    assert rc == 1 and [c.split()[0] for c in cause_cells(rep)] == ["mmult!B6"], rep


def test_what_is_not_read_is_unchecked_with_the_reason(tmp_path):
    """A column the table lacks, a table the workbook lacks and a union given to INDEX: unchecked, named."""
    cells = {**SREF, "C1": ("SUM(Table1[nope])", 0.0), "C2": ("SUM(Table9[col1])", 0.0),
             "C3": ("INDEX((D2:D3,F2:F3),1,1,2)", 3.0)}
    rc, rep = verify_json(write(tmp_path / "n.xlsx", {"sref": cells}, tables=SREF_TABLES))
    reasons = " ".join(u["reason"] for u in rep["unchecked"])
    assert rc == 0 and rep["unchecked_cells"] == 3, rep
    assert "no column nope" in reasons and "Table9" in reasons and "union of ranges as an argument of INDEX" in reasons


@with_libreoffice
def test_a_learners_table_equals_libreoffice(tmp_path):
    """openpyxl table, LibreOffice recalculated and saved (it writes unions as `(B2:B3~C4:C5)`): each formula
    checked and agreeing, except the forms LibreOffice reads otherwise than Excel, unchecked with that reason."""
    import openpyxl
    from openpyxl.worksheet.table import Table

    from xlgd.xlsx.libreoffice import recalc_xlsx

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "people"
    ws.append(["Name", "Age", "Fare", "Double"])
    for n, a, f in [("ann", 22, 7.25), ("bob", 38, 71.3), ("cy", 26, 7.9), ("di", 35, 53.1)]:
        ws.append([n, a, f, "=Table1[[#This Row],[Age]]*2+Table1[[#This Row],[Fare]]"])
    ws.add_table(Table(displayName="Table1", ref="A1:D5"))
    formulas = ["SUM(Table1[Age])", "MAX(Table1[Fare])", "SUM(Table1[[Age]:[Fare]])", "SUM(Table1[Double])",
                "SUM((B2:B3,C4:C5))", "MAX((B2:B3,C2:C5),1)", "COUNT((A1:A5,B1:B5))", "MIN((B2,C3:C4))",
                "AVERAGE(Table1[Age])", "COUNTA(Table1[[#All],[Name]])", "SUM(Table1)", "COUNTA(Table1[#All])"]
    for r, f in enumerate(formulas, 1):
        ws.cell(r, 6, "=" + f)
    wb.save(tmp_path / "t.xlsx")
    book = recalc_xlsx(tmp_path / "t.xlsx", tmp_path / "out")
    rc, rep = verify_json(book)
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 4 + len(formulas) - 2, rep
    assert rep["unchecked_cells"] == 2 and "LibreOffice reads otherwise" in rep["unchecked"][0]["reason"], rep
    assert open_and_evaluate(book).value("people", 3, 4) == 38 * 2 + 71.3

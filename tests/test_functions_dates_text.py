"""Date, text, logical and counting functions on workbooks holding real cached values: the examples of
Microsoft's reference pages written as Excel saves them (the page beside each), and a learner's sheet
(openpyxl) that LibreOffice recalculated and saved. Every cell is checked and agrees; a value the function
would not give is a cause."""

import pytest

from tests.excel_books import cause_cells, verify_json, write
from tests.verify_helpers import with_libreoffice
from xlgd.evaluator import open_and_evaluate

# Each (formula, the value Microsoft's page gives), with the page.
MICROSOFT = {
    # https://support.microsoft.com/office/date-function-e36c0c8c-4104-49da-ab83-82328b832349
    "B1": ("DATE(2011,1,1)", 40544.0),
    # https://learn.microsoft.com/office/troubleshoot/excel/wrongly-assumes-1900-is-leap-year : 29 February
    # 1900 is serial 60, 1 March 1900 is 61
    "B2": ("DATE(1900,2,29)", 60.0), "B3": ("DATE(1900,3,1)", 61.0), "B4": ("DAY(60)", 29.0), "B5": ("MONTH(60)", 2.0),
    # https://support.microsoft.com/office/year-function-c64f017a-1354-490d-981f-578e8ec8d3b9 (7/5/2008)
    "B6": ("YEAR(39634)", 2008.0),
    # https://support.microsoft.com/office/weekday-function-60e44483-2ed1-439f-8bd0-e404c190949a (2/14/2008)
    "B7": ("WEEKDAY(A1)", 5.0), "B8": ("WEEKDAY(A1,2)", 4.0), "B9": ("WEEKDAY(A1,3)", 3.0),
    # https://support.microsoft.com/office/edate-function-3c920eb2-6e66-44e7-a1f5-753ae47ee4f5 (15-Jan-11)
    "C1": ("EDATE(A2,1)", 40589.0), "C2": ("EDATE(A2,-1)", 40527.0), "C3": ("EDATE(A2,2)", 40617.0),
    # https://support.microsoft.com/office/eomonth-function-7314ffa1-2bc9-4005-9d66-f49db127d628 (1-Jan-11)
    "C4": ("EOMONTH(A3,1)", 40602.0), "C5": ("EOMONTH(A3,-3)", 40482.0),
    # https://support.microsoft.com/office/datedif-function-25dba1a4-2812-480b-84dd-8b32a451b35c
    "C6": ('DATEDIF(DATE(2001,1,1),DATE(2003,1,1),"Y")', 2.0), "C7": ('DATEDIF(DATE(2001,6,1),DATE(2002,8,15),"D")', 440.0),
    "C8": ('DATEDIF(DATE(2001,6,1),DATE(2002,8,15),"YD")', 75.0),
    # https://support.microsoft.com/office/find-findb-functions-c7912941-af2a-4bdf-a553-d0d89b0a0628
    "D1": ('FIND("M",A4)', 1.0), "D2": ('FIND("m",A4)', 6.0), "D3": ('FIND("M",A4,3)', 8.0),
    # https://support.microsoft.com/office/search-searchb-functions-9ab04538-0e55-4719-a72e-b6f54513b495
    "D4": ('SEARCH("e",A5,6)', 7.0), "D5": ("SEARCH(A7,A6)", 8.0),
    "D6": ('REPLACE(A6,SEARCH(A7,A6),6,"Amount")', "Profit Amount"),
    # https://support.microsoft.com/office/substitute-function-6434944e-a904-4336-a9b0-1e58df3bc332
    "E1": ('SUBSTITUTE(A8,"Sales","Cost")', "Cost Data"), "E2": ('SUBSTITUTE(A9,"1","2",1)', "Quarter 2, 2008"),
    "E3": ('SUBSTITUTE(A10,"1","2",3)', "Quarter 1, 2012"),
    # https://support.microsoft.com/office/xor-function-1548d4c2-5e47-4f77-9a92-0533bba14f37
    "F1": ("XOR(3>0,2<9)", False), "F2": ("XOR(3>12,4>6)", False),
    # https://support.microsoft.com/office/counta-function-7dc98875-d5c1-46f1-9a82-53f3219e2509
    "F3": ("COUNTA(G2:G8)", 6.0),
}
INPUTS = {"A1": 39492.0, "A2": 40558.0, "A3": 40544.0, "A4": "Miriam McGovern", "A5": "Statements",
          "A6": "Profit Margin", "A7": "margin", "A8": "Sales Data", "A9": "Quarter 1, 2008", "A10": "Quarter 1, 2011",
          "G2": "Sales", "G3": 39790.0, "G5": 19.0, "G6": 22.24, "G7": True, "G8": ("1/0", "#DIV/0!")}


def test_microsofts_examples_are_checked_and_agree(tmp_path):
    rc, rep = verify_json(write(tmp_path / "m.xlsx", {"S": {**INPUTS, **MICROSOFT}}))
    assert rc == 0 and cause_cells(rep) == [] and rep["unchecked_cells"] == 0, rep
    assert rep["checked"] == len(MICROSOFT) + 1, rep


@pytest.mark.parametrize("cell, wrong", [("B2", 61.0), ("C3", 40620.0), ("D2", 1.0), ("E3", "Quarter 2, 2012"),
                                         ("F1", True), ("F3", 7.0), ("B9", 4.0)])
def test_a_value_the_function_does_not_give_is_a_cause(tmp_path, cell, wrong):
    cells = {**INPUTS, **MICROSOFT, cell: (MICROSOFT[cell][0], wrong)}
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": cells}))
    assert rc == 1 and f"S!{cell}" in cause_cells(rep), rep


def test_date_text_and_1900_days_in_libreoffices_dialect_are_unchecked(tmp_path):
    """LibreOffice's calendar has no 29 February 1900: a date before March 1900 is unchecked in its files."""
    cells = {"A1": ("DAY(60)", 28.0), "A2": ("YEAR(45000)", 2023.0), "A3": ('DATEDIF(A4,A5,"MD")', 1.0),
             "A4": 40574.0, "A5": 40603.0}
    rc, rep = verify_json(write(tmp_path / "l.xlsx", {"S": cells}, application="LibreOffice/7.4.7.2$Linux_X86_64"))
    reasons = " ".join(u["reason"] for u in rep["unchecked"])
    assert rc == 0 and rep["checked"] == 1 and "before 1 March 1900" in reasons and '"MD"' in reasons, rep


DATES = [f"DATE(2020,{m},{d})" for m, d in ((1, 31), (2, 29), (3, 0), (13, 1), (-47, 20), (12, 31), (2, 30))]


def _learner_book(path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for r, date in enumerate(DATES, 1):
        ws.cell(r, 1, "=" + date)
        for c, f in enumerate(("YEAR(A{r})", "MONTH(A{r})", "DAY(A{r})", "WEEKDAY(A{r})", "WEEKDAY(A{r},2)",
                               "WEEKDAY(A{r},3)", "WEEKDAY(A{r},13)", "EDATE(A{r},{r})", "EOMONTH(A{r},-{r})",
                               'DATEDIF(DATE(2001,2,28),A{r},"M")', 'DATEDIF(DATE(2001,2,28),A{r},"YM")',
                               'DATEDIF(DATE(2004,1,15),A{r},"YD")', "_xlfn.DAYS(A{r},DATE(2001,2,28))",
                               "HOUR(A{r}/7)", "MINUTE(A{r}/7)", "SECOND(A{r}/7)"), 2):
            ws.cell(r, c, "=" + f.format(r=r))
    texts = ["abcABCabc", "a*c", "~", "Quarter 1, 2011"]
    for r, t in enumerate(texts, 10):
        ws.cell(r, 1, t)
        for c, f in enumerate(('FIND("b",A{r})', 'FIND("B",A{r},3)', 'SEARCH("B",A{r},3)', 'SEARCH("?c",A{r})',
                               'SEARCH("~*",A{r})', 'SUBSTITUTE(A{r},"a","-")', 'SUBSTITUTE(A{r},"1","x",2)',
                               'REPLACE(A{r},2,3,"++")', "REPT(A{r},2)", "LEN(SUBSTITUTE(A{r},\"c\",\"\"))",
                               "COUNTA(A10:A{r})", "COUNTBLANK(A10:B{r})", "_xlfn.XOR(A{r}=\"~\",TRUE)",
                               "_xlfn.IFNA(MATCH(A{r},A10:A11,0),-1)", "TRUNC(-{r}.567,1)", "ROUNDUP({r}.0001,2)",
                               "ROUNDDOWN(-{r}.999,0)", "ISEVEN({r})", "ISODD({r})", '_xlfn.IFS(A{r}="~",1,A{r}="a*c",2)'), 2):
            ws.cell(r, c, "=" + f.format(r=r))
    wb.save(path)
    return path


@with_libreoffice
def test_dates_and_text_functions_equal_libreoffice(tmp_path):
    """A learner's sheet of date and text formulas LibreOffice recalculated: every cell checked and agreeing."""
    from xlgd.xlsx.libreoffice import recalc_xlsx

    book = recalc_xlsx(_learner_book(tmp_path / "d.xlsx"), tmp_path / "out")
    rc, rep = verify_json(book)
    assert rc == 0 and cause_cells(rep) == [] and rep["unchecked_cells"] == 0, rep
    assert rep["checked"] == rep["formula_cells"] == len(DATES) * 17 + 4 * 20, rep
    ev = open_and_evaluate(book)
    assert ev.value("s", 2, 1) == 43890.0 and ev.value("s", 2, 4) == 29.0  # 29 February 2020


def test_yearfrac_as_microsoft_documents_it(tmp_path):
    """https://support.microsoft.com/office/yearfrac-function-3844141e-c76d-4143-82b6-208454ddc6a8: from 1/1/2012
    to 7/30/2012, 0.58055556 (basis 0), 0.57650273 (basis 1), 0.57808219 (basis 3), as the page rounds them; a
    basis out of range is #NUM! even beside an error date, an error basis wins over an error date (Excel's
    values in pycel's tests/fixtures/yearfrac.xlsx)."""
    shown = {"B1": ("YEARFRAC(A1,A2)", 0.58055556), "B2": ("YEARFRAC(A1,A2,1)", 0.57650273),
             "B3": ("YEARFRAC(A1,A2,3)", 0.57808219)}
    errors = {"C1": ("YEARFRAC(D1,200,5)", "#NUM!"), "C2": ("YEARFRAC(D1,200,D2)", "#N/A"),
              "C3": ("YEARFRAC(A2,A1,2)", (41120 - 40909) / 360)}
    inputs = {"A1": 40909.0, "A2": 41120.0, "D1": ("1/0", "#DIV/0!"), "D2": ("NA()", "#N/A")}
    p = write(tmp_path / "y.xlsx", {"S": {**inputs, **shown, **errors}})
    ev = open_and_evaluate(p)
    assert [round(ev.value("S", r, 2), 8) for r in (1, 2, 3)] == [v for _, v in shown.values()]
    assert [ev.value("S", r, 3) for r in (1, 2, 3)] == [v for _, v in errors.values()]


def test_dates_in_a_1904_workbook_are_unchecked(tmp_path):
    """In the 1904 date system serial 0 is 1 January 1904 (Excel saved 1904 for `=YEAR(0)`): xlgd counts from
    1900, so its date functions there are unchecked with the reason, never a cause; other cells are checked."""
    cells = {"A1": ("YEAR(0)", 1904.0), "A2": ("DATE(2011,1,1)", 39082.0), "A3": ("2*3", 6.0)}
    rc, rep = verify_json(write(tmp_path / "m.xlsx", {"S": cells}, date1904=True))
    assert rc == 0 and rep["checked"] == 1 and rep["unchecked_cells"] == 2, rep
    assert "1904 date system" in rep["unchecked"][0]["reason"], rep
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": cells}))
    assert rc == 1, rep


# The examples of Microsoft's pages (DEC2BIN, DEC2HEX, BIN2DEC, HEX2DEC, OCT2BIN, HEX2BIN: .../office/dec2bin-
# function-0f63dd0e-5d1a-42d8-b511-5bf5c6d43838 and the pages beside them in xlgd/core/bases.py), and Excel's values
# in xlcalculator's tests/resources/BASES.xlsx for `places` out of 1-10 (checked before the number) and "".
BASES = {"A1": ("DEC2BIN(9,4)", "1001"), "A2": ("DEC2BIN(-100)", "1110011100"), "A3": ("DEC2HEX(100,4)", "0064"),
         "A4": ("DEC2HEX(-54)", "FFFFFFFFCA"), "A5": ("DEC2HEX(28)", "1C"), "A6": ("DEC2HEX(64,1)", "#NUM!"),
         "A7": ("BIN2DEC(1100100)", 100.0), "A8": ("BIN2DEC(1111111111)", -1.0), "A9": ('HEX2DEC("A5")', 165.0),
         "A10": ('HEX2DEC("FFFFFFFF5B")', -165.0), "A11": ('HEX2DEC("3DA408B9")', 1034160313.0),
         "A12": ("OCT2BIN(3,3)", "011"), "A13": ("OCT2BIN(7777777000)", "1000000000"),
         "A14": ('HEX2BIN("F",8)', "00001111"), "A15": ('HEX2BIN("B7")', "10110111"),
         "A16": ('HEX2BIN("FFFFFFFFFF")', "1111111111"), "A17": ('DEC2BIN("E",0)', "#NUM!"),
         "A18": ("DEC2BIN(-25,11)", "#NUM!"), "A19": ('BIN2DEC("")', 0.0), "A20": ("DEC2OCT(-25,1)", "7777777747")}


def test_base_conversions_as_excel_gives_them(tmp_path):
    rc, rep = verify_json(write(tmp_path / "b.xlsx", {"S": BASES}))
    assert rc == 0 and rep["checked"] == len(BASES) and rep["unchecked_cells"] == 0, rep
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": {**BASES, "A4": ("DEC2HEX(-54)", "-36")}}))
    assert rc == 1 and cause_cells(rep) == ["S!A4"], rep


def test_pv_pmt_and_sln_as_microsoft_documents_them(tmp_path):
    """https://support.microsoft.com/office/pv-function-23879d31-0e02-4321-be01-da16e8168cbd: an annuity of 500 a
    month for 20 years at 8% is worth ($59,777.15); https://support.microsoft.com/office/sln-function-cdb666e5-
    c1c6-40a7-806a-e695edc2f1c8: a 30,000 asset worth 7,500 after 10 years depreciates 2,250 a year."""
    cells = {"A1": ("PV(0.08/12,12*20,500,,0)", -59777.15), "A2": ("SLN(30000,7500,10)", 2250.0),
             "A3": ("PV(0,10,100)", -1000.0), "A4": ("SLN(1,0,0)", "#DIV/0!")}
    cells.update({"B1": ("PMT(0.08/12,10,10000)", -1037.03), "B2": ("PMT(0.08/12,10,10000,0,1)", -1030.16),
                  "B3": ("PMT(0,10,1000)", -100.0)})  # https://support.microsoft.com/office/pmt-function-0214da64-9a63-4996-bc20-214433fa6441
    ev = open_and_evaluate(write(tmp_path / "f.xlsx", {"S": cells}))
    assert round(ev.value("S", 1, 1), 2) == -59777.15
    assert [round(ev.value("S", r, 2), 2) for r in (1, 2, 3)] == [-1037.03, -1030.16, -100.0]
    assert [ev.value("S", r, 1) for r in (2, 3, 4)] == [2250.0, -1000.0, "#DIV/0!"]


def test_trigonometry_as_microsoft_documents_it(tmp_path):
    """The examples of Microsoft's ACOS, ASIN, ATAN2, COSH, SINH, DEGREES and RADIANS pages (their links beside the
    entries in xlgd/core/numbers.py), to the digits the pages show; out of the domain #NUM!, ATAN2(0,0) #DIV/0!."""
    shown = {"A1": ("ACOS(-0.5)", 2.094395102), "A2": ("DEGREES(ACOS(-0.5))", 120.0), "A3": ("ASIN(-0.5)", -0.523598776),
             "A4": ("ATAN2(1,1)", 0.785398163), "A5": ("ATAN2(-1,-1)", -2.35619449), "A6": ("COSH(4)", 27.308233),
             "A7": ("SINH(1)", 1.175201194), "A8": ("RADIANS(270)", 4.712389), "A9": ("DEGREES(PI())", 180.0)}
    errors = {"B1": ("ACOS(2)", "#NUM!"), "B2": ("ATAN2(0,0)", "#DIV/0!"), "B3": ("COSH(1000)", "#NUM!")}
    ev = open_and_evaluate(write(tmp_path / "t.xlsx", {"S": {**shown, **errors}}))
    for r, (_, v) in enumerate(shown.values(), 1):
        assert round(ev.value("S", r, 1), len(repr(v).split(".")[1])) == v, (r, ev.value("S", r, 1))
    assert [ev.value("S", r, 2) for r in (1, 2, 3)] == ["#NUM!", "#DIV/0!", "#NUM!"]


def test_ceiling_and_floor_as_microsoft_documents_them(tmp_path):
    """https://support.microsoft.com/office/ceiling-function-0a5cd7c8-0720-4f0a-bd2c-c943e510899f and
    https://support.microsoft.com/office/floor-function-14bb497c-24f2-4e04-b327-b0b4de5a8886: their examples."""
    cells = {"A1": ("CEILING(2.5,1)", 3.0), "A2": ("CEILING(-2.5,-2)", -4.0), "A3": ("CEILING(-2.5,2)", -2.0),
             "A4": ("CEILING(1.5,0.1)", 1.5), "A5": ("CEILING(0.234,0.01)", 0.24), "A6": ("FLOOR(3.7,2)", 2.0),
             "A7": ("FLOOR(-2.5,-2)", -2.0), "A8": ("FLOOR(2.5,-2)", "#NUM!"), "A9": ("FLOOR(1.58,0.1)", 1.5),
             "A10": ("FLOOR(0.234,0.01)", 0.23)}
    rc, rep = verify_json(write(tmp_path / "c.xlsx", {"S": cells}))
    assert rc == 0 and rep["checked"] == len(cells) and rep["unchecked_cells"] == 0, rep
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": {**cells, "A2": ("CEILING(-2.5,-2)", -2.0)}}))
    assert rc == 1 and cause_cells(rep) == ["S!A2"], rep


def test_conditional_sums_as_microsoft_documents_them(tmp_path):
    """The property values and commissions of https://support.microsoft.com/office/sumif-function-169b8c99-c05c-
    4483-a712-1697a653039b and https://support.microsoft.com/office/averageif-function-faec8e2e-0dec-4308-af69-
    f5576d8ac642, with COUNTIFS, SUMIFS and AVERAGEIFS over the same cells; an array of criteria in COUNTIFS is
    unchecked with the reason."""
    data = {"A2": 100000.0, "A3": 200000.0, "A4": 300000.0, "A5": 400000.0, "B2": 7000.0, "B3": 14000.0,
            "B4": 21000.0, "B5": 28000.0, "C2": 250000.0}
    cells = {"D1": ('SUMIF(A2:A5,">160000",B2:B5)', 63000.0), "D2": ('SUMIF(A2:A5,">160000")', 900000.0),
             "D3": ("SUMIF(A2:A5,300000,B2:B5)", 21000.0), "D4": ('SUMIF(A2:A5,">"&C2,B2:B5)', 49000.0),
             "D5": ('AVERAGEIF(B2:B5,"<23000")', 14000.0), "D6": ('AVERAGEIF(A2:A5,"<250000")', 150000.0),
             "D7": ('AVERAGEIF(A2:A5,"<95000")', "#DIV/0!"), "D8": ('AVERAGEIF(A2:A5,">250000",B2:B5)', 24500.0),
             "D9": ('COUNTIFS(A2:A5,">150000",B2:B5,"<25000")', 2.0),
             "D10": ('SUMIFS(B2:B5,A2:A5,">150000",B2:B5,"<25000")', 35000.0),
             "D11": ('AVERAGEIFS(B2:B5,A2:A5,">150000",B2:B5,"<25000")', 17500.0),
             "D12": ("COUNTIFS(A2:A5,A2:A3)", 1.0)}
    rc, rep = verify_json(write(tmp_path / "s.xlsx", {"S": {**data, **cells}}))
    assert rc == 0 and rep["checked"] == len(cells) - 1 and rep["unchecked_cells"] == 1, rep
    assert "array of criteria" in rep["unchecked"][0]["reason"], rep
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": {**data, **cells, "D4": ('SUMIF(A2:A5,">"&C2,B2:B5)', 63000.0)}}))
    assert rc == 1 and cause_cells(rep) == ["S!D4"], rep

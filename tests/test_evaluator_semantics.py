"""The workbook evaluator's spreadsheet semantics, cell by cell, on workbooks built here.

Each case is a formula typed into a sheet with openpyxl next to the value a
spreadsheet gives it (Excel's documented behaviour; where LibreOffice differs
the dialect is said). The book is evaluated from its constants, so runs,
ranges, names, other sheets and the dependency order are exercised as well.
"""

import math

import openpyxl
import pytest

from xlgd.core.values import Text
from xlgd.evaluator import UNKNOWN_VALUE, open_and_evaluate

CASES = [  # (formula, excel value) -- A1:A5 hold 3, 4, "x", TRUE, (blank); B1:B3 hold 1, 2, 3
    ("=A1+A2", 7.0), ("=A1-A2*2^2", -13.0), ("=-2^2", 4.0), ("=2^3^2", 64.0), ("=5%", 0.05),
    ("=A1&\"a\"", Text("3a")), ("=A3+1", "#VALUE!"), ("=A4+1", 2.0), ("=A5+1", 1.0), ("=A5", 0.0),
    ("=A1=3", True), ("=A1<>3", False), ("=\"a\"<\"B\"", True), ("=A4>100", True), ("=1/0", "#DIV/0!"),
    ("=SQRT(-1)", "#NUM!"), ("=IF(A1>2,\"big\",\"small\")", Text("big")), ("=IF(A1>5,1)", False),
    ("=IFERROR(1/0,7)", 7.0), ("=ISERROR(A3+1)", True), ("=ISNUMBER(A3)", False), ("=ISBLANK(A5)", True),
    ("=NA()", "#N/A"), ("=AND(A1>1,A2>1)", True), ("=OR(A1>5,A2>5)", False), ("=NOT(A4)", False),
    ("=SUM(A1:A5)", 7.0), ("=SUM(A1,A2,\"2\")", 9.0), ("=SUMSQ(B1:B3)", 14.0), ("=AVERAGE(A1:A5)", 3.5),
    ("=COUNT(A1:A5)", 2.0), ("=COUNTIF(B1:B3,\">1\")", 2.0), ("=MIN(B1:B3)", 1.0), ("=MAX(A5,-2)", -2.0),
    ("=SUMPRODUCT(B1:B3,B1:B3)", 14.0), ("=SUMPRODUCT((B1:B3>1)*B1:B3)", 5.0), ("=SUMXMY2(B1:B3,A1:A3)", 8.0),
    ("=ABS(-2.5)", 2.5), ("=SIGN(-3)", -1.0), ("=POWER(2,10)", 1024.0), ("=EXP(0)", 1.0), ("=LN(1)", 0.0),
    ("=LOG(100)", 2.0), ("=LOG(8,2)", 3.0), ("=LOG10(1000)", 3.0), ("=LN(0)", "#NUM!"), ("=ROUND(2.675,2)", 2.68),
    ("=ROUND(-2.5,0)", -3.0), ("=INT(-2.5)", -3.0), ("=MOD(-7,3)", 2.0), ("=MOD(1,0)", "#DIV/0!"),
    ("=PI()", math.pi), ("=ROW()", None), ("=ROWS(B1:B3)", 3.0), ("=COLUMNS(A1:B3)", 2.0),
    ("=MATCH(2,B1:B3,0)", 2.0), ("=MATCH(2.5,B1:B3,1)", 2.0), ("=MATCH(9,B1:B3,0)", "#N/A"),
    ("=INDEX(B1:B3,3)", 3.0), ("=INDEX(A1:B3,2,2)", 2.0), ("=OFFSET(B1,2,0)", 3.0),
    ("=SUM(OFFSET(B1,0,0,2,1))", 3.0), ("=VAR.P(B1:B3)", 2 / 3), ("=STDEV.P(B1:B3)", math.sqrt(2 / 3)),
    ("=CEILING.MATH(2.1)", 3.0), ("=_xlfn.NORM.INV(0.5,10,2)", 10.0), ("=SUM(B:B)", 6.0),
    ("=TRUE+1", 2.0), ("=COUNTIF(A1:A5,\"x\")", 1.0), ("=\"abc\"=\"ABC\"", True),
    ("=NPV(0.1,B1:B3)", 1 / 1.1 + 2 / 1.1 ** 2 + 3 / 1.1 ** 3), ("=NPV(0.1,A1:A4)", 3 / 1.1 + 4 / 1.1 ** 2),
    ("=NPV(0.1,TRUE,2)", 1 / 1.1 + 2 / 1.1 ** 2), ("=NPV(-1,B1)", "#DIV/0!"), ("=NPV(0.1,B1,1/0)", "#DIV/0!"),
    ("=XNPV(0.1,B1:B3,B1:B2)", "#NUM!"),
    ("=XNPV(0.1,B1:B2,A1:A2)", 1 + 2 / 1.1 ** (1 / 365)), ("=XNPV(0,B1:B2,A1:A2)", "#NUM!"),
    ("=XNPV(-0.1,B1:B2,A1:A2)", "#NUM!"),
    ("=SLOPE(B1:B3,B1:B3)", 1.0), ("=INTERCEPT(B1:B3,B1:B3)", 0.0), ("=FORECAST(10,B1:B3,B1:B3)", 10.0),
    ("=SLOPE(A1:A3,B1:B3)", 1.0), ("=INTERCEPT(A1:A3,B1:B3)", 2.0), ("=SLOPE(B1:B3,A1:A2)", "#N/A"),
    ("=SLOPE(B1:B2,A4:A5)", "#DIV/0!"), ("=SLOPE(B1:B3,{1,1,1})", "#DIV/0!"), ("=_xlfn.FORECAST.LINEAR(4,B1:B3,B1:B3)", 4.0),
    ("=SLOPE(B1:B3,{1,#N/A,2})", "#N/A"), ("=XNPV(TRUE,B1:B2,A1:A2)", "#VALUE!"), ("=XNPV(0.1,B1:B2,A2:B2)", "#NUM!"),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["A2"], ws["A3"], ws["A4"] = 3, 4, "x", True
    ws["B1"], ws["B2"], ws["B3"] = 1, 2, 3
    for i, (f, _) in enumerate(CASES):
        ws.cell(i + 1, 4, f)
    p = tmp_path_factory.mktemp("sem") / "s.xlsx"
    wb.save(p)
    return open_and_evaluate(p, dialect="excel")


@pytest.mark.parametrize("i,formula,want", [(i, f, w) for i, (f, w) in enumerate(CASES)],
                         ids=[f for f, _ in CASES])
def test_formula_value(book, i, formula, want):
    got = book.value("s", i + 1, 4)
    if formula == "=ROW()":
        want = float(i + 1)
    if isinstance(want, float) and isinstance(got, float) and not math.isnan(want):
        assert got == pytest.approx(want, rel=1e-15, abs=0), formula
    else:
        assert got == want and type(got) is type(want), (formula, got)


def _book(tmp_path, fill):
    wb = openpyxl.Workbook()
    fill(wb)
    p = tmp_path / "b.xlsx"
    wb.save(p)
    return p


def test_libreoffice_dialect_differences(tmp_path):
    p = _book(tmp_path, lambda wb: [wb.active.__setitem__(k, v) for k, v in
                                    (("A1", "=SQRT(-1)"), ("A2", "=0.1+0.2-0.3"), ("A3", "=1E-300*1E-10"))])
    ex, lo = open_and_evaluate(p, dialect="excel"), open_and_evaluate(p, dialect="libreoffice")
    s = ex.book.sheets and next(iter(ex.book.sheets))
    assert [ex.value(s, r, 1) for r in (1, 2, 3)] == ["#NUM!", 0.1 + 0.2 - 0.3, 1e-310]
    assert [lo.value(s, r, 1) for r in (1, 2, 3)] == ["#VALUE!", 0.0, "#NUM!"]


def test_names_other_sheets_and_a_step_table(tmp_path):
    from openpyxl.workbook.defined_name import DefinedName

    def fill(wb):
        p, ws = wb.active, wb.create_sheet("steps")
        p.title = "params"
        p["A1"], p["B1"] = 0.5, 2.0
        wb.defined_names["rate"] = DefinedName("rate", attr_text="params!$A$1")
        ws["A1"] = 10
        for r in range(2, 200):
            ws[f"A{r}"] = f"=A{r - 1}-rate*(A{r - 1}-params!$B$1)"  # a recurrence: one group, row by row
            ws[f"B{r}"] = f"=A{r}*2"
        ws["C1"] = "=SUM(B2:B199)"

    ev = open_and_evaluate(_book(tmp_path, fill))
    x = 10.0
    for r in range(2, 200):
        x = x - 0.5 * (x - 2.0)
        assert ev.value("steps", r, 1) == x and ev.value("steps", r, 2) == x * 2
    assert ev.value("steps", 1, 3) == math.fsum(0.0 for _ in ()) + sum(ev.value("steps", r, 2) for r in range(2, 200))


def test_volatile_cells_stand_in_with_their_cached_values_and_say_why(tmp_path):
    def fill(wb):
        ws = wb.active
        ws["A1"], ws["A2"], ws["A3"] = "=RAND()", "=A1*2", "=FOO(1)"

    ev = open_and_evaluate(_book(tmp_path, fill))
    s = next(iter(ev.book.sheets))
    assert ev.value(s, 1, 1) is UNKNOWN_VALUE and ev.unknown(s, 1, 1) == "uses RAND (volatile)"
    # openpyxl keeps no cached values: nothing stands in, so the dependant cannot be computed either
    assert ev.unknown(s, 2, 1) == f"depends on {s}!A1, which uses RAND (volatile)"
    assert ev.unknown(s, 3, 1) == "uses FOO, which xlgd does not evaluate"


def test_errors_fill_an_exploding_step_table_without_looping(tmp_path):
    def fill(wb):
        ws = wb.active
        ws["A1"] = 10
        for r in range(2, 3000):
            ws[f"A{r}"] = f"=A{r - 1}*A{r - 1}"  # overflows to #NUM! after ~9 rows, then stays #NUM!
            ws[f"B{r}"] = f"=SQRT(A{r})+1"

    ev = open_and_evaluate(_book(tmp_path, fill))
    s = next(iter(ev.book.sheets))
    x = 10.0
    for r in range(2, 10):
        x = x * x
        assert ev.value(s, r, 1) == x  # the same squarings, in the same order
    assert x > 1e255
    assert ev.value(s, 10, 1) == "#NUM!" and ev.value(s, 2999, 1) == "#NUM!" and ev.value(s, 2999, 2) == "#NUM!"


def test_text_typed_into_a_step_tables_first_weight_is_value_error_down_the_table(tmp_path):
    """A learner's step table (openpyxl, no cached values) with the word "one" typed as the first
    weight: Excel and LibreOffice give #VALUE! in the prediction and in everything after it."""
    from tests.learner_descent import FIRST, workbook

    wb, letter = workbook(model="linear", derivative="analytic")
    wb.active[f"{letter['a']}{FIRST}"] = "one"
    wb.save(tmp_path / "text.xlsx")
    ev = open_and_evaluate(tmp_path / "text.xlsx")
    col = {h: openpyxl.utils.column_index_from_string(L) for h, L in letter.items()}
    assert ev.value("mine", FIRST, col["pred"]) == "#VALUE!"
    last = FIRST + 9
    assert {ev.value("mine", last, col[h]) for h in ("a", "b", "pred", "new a", "new b")} == {"#VALUE!"}


@pytest.mark.parametrize("dialect,zero_zero", [("excel", "#NUM!"), ("libreoffice", 1.0)])
def test_zero_to_the_zero_written_as_an_operator(tmp_path, dialect, zero_zero):
    """0^0 is #NUM! in Excel, as POWER(0,0) is; LibreOffice gives 1 for both. A single cell (exact), a
    column of =A^B (numpy over the run) and a step table carrying w^w (a row-by-row loop)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "p"
    ws["D1"], ws["D2"], ws["D3"] = "=0^0", "=POWER(0,0)", "=2^0"
    for r in range(1, 41):
        ws.cell(r, 1, r % 4)  # a 0 on every fourth row
        ws.cell(r, 2, 0 if r % 8 == 0 else 1)
        ws.cell(r, 3, f"=A{r}^B{r}")
    ws["F1"] = 0
    for r in range(2, 41):  # a chain: F_r = F_{r-1}^0 * 0 ... the weight stays 0, its power is 0^0
        ws.cell(r, 6, f"=F{r - 1}^0*0")
    wb.save(tmp_path / "pow.xlsx")
    ev = open_and_evaluate(tmp_path / "pow.xlsx", dialect=dialect)
    assert [ev.value("p", r, 4) for r in (1, 2, 3)] == [zero_zero, zero_zero, 1.0]
    assert ev.value("p", 8, 3) == zero_zero and ev.value("p", 16, 3) == zero_zero
    assert ev.value("p", 4, 3) == 0.0 and ev.value("p", 7, 3) == 3.0
    want = "#NUM!" if dialect == "excel" else 0.0
    assert {ev.value("p", r, 6) for r in range(2, 41)} == {want}


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
def test_zero_to_the_zero_over_arrays_agrees_with_one_cell(dialect):
    """The batch form of ^ (configurations side by side) gives what one cell gives, error or value."""
    import numpy as np

    from xlgd.core.functions import arith
    from xlgd.core.masked import masked_arith
    from xlgd.core.values import ERRORS, SheetError

    a, b = np.array([0.0, 0.0, 2.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0, -1.0, -0.5])
    with np.errstate(all="ignore"):
        v, codes = masked_arith("^", a, None, b, None, dialect)
    got, want = [], []
    for i in range(len(a)):
        try:
            want.append(arith("^", float(a[i]), float(b[i]), dialect))
        except SheetError as e:
            want.append(e.args[0])
        got.append(ERRORS[abs(int(codes[i])) - 1] if codes is not None and codes[i] else float(v[i]))
    assert got == want and got[0] == ("#NUM!" if dialect == "excel" else 1.0), (got, want)
    assert got[3:] == ["#DIV/0!" if dialect == "excel" else "#NUM!"] * 2, got


@pytest.mark.parametrize("dialect,zero_negative", [("excel", "#DIV/0!"), ("libreoffice", "#NUM!")])
def test_zero_to_a_negative_power(tmp_path, dialect, zero_negative):
    """0 to a negative power: #DIV/0! in Excel, #NUM! in LibreOffice (its saved xlsx holds #NUM!), written
    as an operator, as POWER, over cells and down a column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "p"
    ws["D1"], ws["D2"], ws["E1"], ws["E2"] = "=0^-1", "=POWER(0,-1)", 0, -1
    ws["D3"] = "=E1^E2"
    for r in range(1, 41):
        ws.cell(r, 1, r % 4)
        ws.cell(r, 2, f"=A{r}^-0.5")
    wb.save(tmp_path / "neg.xlsx")
    ev = open_and_evaluate(tmp_path / "neg.xlsx", dialect=dialect)
    assert [ev.value("p", r, 4) for r in (1, 2, 3)] == [zero_negative] * 3
    assert ev.value("p", 4, 2) == zero_negative and ev.value("p", 1, 2) == 1.0


def test_offset_moves_a_relative_reference_from_its_own_row(tmp_path):
    """`=OFFSET(B57,-40,-1)` filled down from row 5 is A17 on row 57, however far above row 5 that moves
    the run's first cell: a column of such formulas is one run, written for its first row."""
    def fill(wb):
        ws = wb.active
        for r in range(1, 61):
            ws[f"A{r}"], ws[f"E{r}"] = r * 10.0, -40 if r >= 45 else 0
        for r in range(5, 61):
            ws[f"C{r}"] = f"=OFFSET(B{r},E{r},-1)"  # all rows at once (evaluator/windows.py)
            ws[f"D{r}"] = f"=IF(TRUE,OFFSET(B{r},E{r},-1))"  # cell by cell
    ev = open_and_evaluate(_book(tmp_path, fill), dialect="excel")
    s = next(iter(ev.book.sheets))
    assert [run.n for run in ev.book.sheets[s].runs[3]] == [56]
    for col in (3, 4):
        assert [ev.value(s, r, col) for r in (5, 44, 45, 57, 60)] == [50.0, 440.0, 50.0, 170.0, 200.0]

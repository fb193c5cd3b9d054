"""Excel's array semantics on books written as Excel writes them (tests/excel_books.py), cached values as
Excel computes them: array formulas and their member cells however written, element-wise range arithmetic,
a value or a row spread over an array formula's range, implicit intersection (also through a defined name)."""

import math

from tests.excel_books import write
from tests.verify_helpers import verify
from xlgd.evaluator import open_and_evaluate

INPUTS = {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": 4.0, "B2": 5.0, "B3": 6.0, "C1": 0.5, "D1": -0.25}


def _book(tmp_path, cells, names=None):
    p = write(tmp_path / "a.xlsx", {"s": dict(INPUTS, **cells)}, names=names)
    return p, open_and_evaluate(p)


def test_sum_of_exp_over_a_range_in_an_array_formula(tmp_path):
    want = math.exp(0.5) + math.exp(-0.25)
    p, ev = _book(tmp_path, {"E1": ("SUM(EXP(C1:D1))", want, "E1")})
    assert ev.value("s", 1, 5) == want
    assert verify(p).returncode == 0


def test_member_cells_written_with_a_bare_f_are_the_arrays(tmp_path):
    """`{=A1:A3*B1:B3}` over E1:E3, E2 and E3 written `<f ca="1"/>`: three products, no phantom formulas."""
    p, ev = _book(tmp_path, {"E1": ("A1:A3*B1:B3", 4.0, "E1:E3"), "E2": ("", 10.0), "E3": ("", 18.0)})
    assert [ev.value("s", r, 5) for r in (1, 2, 3)] == [4.0, 10.0, 18.0]
    assert all(ev.unknown("s", r, 5) is None for r in (1, 2, 3))
    r = verify(p)
    assert r.returncode == 0 and "OK: 3 of 3 formula cells" in r.stdout, r.stdout


def test_a_value_and_a_column_spread_over_the_array_range(tmp_path):
    """`{=SUM(A1:A3*B1:B3)}` over E1:E3 is 32 in every cell; `{=A1:A3+B1:B3}` over F1:G3 repeats its column;
    a row times a column is their outer product."""
    cells = {"E1": ("SUM(A1:A3*B1:B3)", 32.0, "E1:E3"), "E2": (None, 32.0), "E3": (None, 32.0),
             "F1": ("A1:A3+B1:B3", 5.0, "F1:G3"), "H1": ("A1:A2*B1:B1", 4.0, "H1:I2")}
    p, ev = _book(tmp_path, cells)
    assert [ev.value("s", r, 5) for r in (1, 2, 3)] == [32.0] * 3
    assert [[ev.value("s", r, c) for c in (6, 7)] for r in (1, 2, 3)] == [[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]]
    assert [[ev.value("s", r, c) for c in (8, 9)] for r in (1, 2)] == [[4.0, 4.0], [8.0, 8.0]]


def test_row_of_a_range_is_an_array(tmp_path):
    cells = {"E1": ("ROW(A1:A3)", 1.0, "E1:E3"), "F2": ("INDEX(ROW(A1:A3),2)", 2.0), "G1": ("ROW(A1:A3)", 1.0),
             "H1": ("COLUMN(A1:B1)", 1.0, "H1:I1")}
    p, ev = _book(tmp_path, cells)
    assert [ev.value("s", r, 5) for r in (1, 2, 3)] == [1.0, 2.0, 3.0]
    assert (ev.value("s", 2, 6), ev.value("s", 1, 7), ev.value("s", 1, 8), ev.value("s", 1, 9)) == (2.0, 1.0, 1.0, 2.0)


def test_implicit_intersection_in_a_plain_formula(tmp_path):
    """`=A1:A3+B1:B3` in E2 reads row 2; `=D1+SINUS` with SINUS = s!$B$1:$B$3 in F3 reads B3; out of the
    range's rows it is #VALUE!."""
    cells = {"E2": ("A1:A3+B1:B3", 7.0), "F3": ("D1+SINUS", 5.75), "G5": ("A1:A3*2", "#VALUE!")}
    p, ev = _book(tmp_path, cells, names={"SINUS": "s!$B$1:$B$3"})
    assert (ev.value("s", 2, 5), ev.value("s", 3, 6), ev.value("s", 5, 7)) == (7.0, 5.75, "#VALUE!")
    assert verify(p).returncode == 0


def test_a_whole_row_reference_spread_over_its_array_range(tmp_path):
    """`{=First!1:1}` over A7:F7 (xlcalculator's reader.xlsm spreads one over A1:XFD1): past the row's last
    value the cells are blank, which an array formula's cell shows as 0."""
    first = {"A1": 1.0, "B1": 4.0, "C1": 0.5, "D1": -0.25}
    cells = {"A7": ("First!1:1", 1.0, "A7:F7"), **{f"{c}7": (None, v) for c, v in zip("BCDEF", (4.0, 0.5, -0.25, 0, 0))}}
    p = write(tmp_path / "w.xlsx", {"First": first, "s": cells})
    ev = open_and_evaluate(p)
    assert [ev.value("s", 7, c) for c in range(1, 7)] == [1.0, 4.0, 0.5, -0.25, 0.0, 0.0]
    assert verify(p).returncode == 0

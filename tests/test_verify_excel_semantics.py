"""Excel's semantics xlgd either reproduces or leaves unchecked with the reason, on books written as Excel
writes them with the values Excel saved for the same formulas in the `formulas` project's test workbook:
no cause where only xlgd's reading differs; a value off by more than the semantics allow is still a cause."""

from tests.excel_books import cause_cells, verify_json, write


def test_text_read_as_a_date_is_unchecked_with_the_reason(tmp_path):
    """`AVERAGE(..,"29/02/1900")` and `NORM.INV(0.3,I25,2)` with I25 the text 29/02/1900: Excel reads the
    text as a date (serial 60) by its locale; xlgd does not parse dates."""
    cells = {"E4": 2.3, "F4": 10.0, "I25": "29/02/1900",
             "T4": ('AVERAGE(E4:F4,"29/02/1900")', 24.1),
             "X25": ("_xlfn.NORM.INV(0.3,I25,2)", 58.95119897458392),
             "B1": ("E4*2", 4.6)}
    rc, rep = verify_json(write(tmp_path / "d.xlsx", {"S": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 1, rep
    reasons = " ".join(str(u) for s in rep["sheets"] for u in s.get("unchecked", []))
    assert "29/02/1900" in reasons and "date" in reasons, rep


def test_countif_with_an_error_criterion_counts_that_error(tmp_path):
    """`COUNTIF(K24:L24,K24)` with K24 #VALUE! and L24 #N/A: Excel saved 1."""
    cells = {"K24": ("#VALUE!+1", "#VALUE!"), "L24": ("NA()", "#N/A"),
             "AB24": ("COUNTIF(K24:L24,K24)", 1.0)}
    rc, rep = verify_json(write(tmp_path / "c.xlsx", {"S": cells}))
    assert rc == 0 and rep["checked"] == 3, rep
    cells["AB24"] = ("COUNTIF(K24:L24,K24)", 2.0)
    rc, rep = verify_json(write(tmp_path / "c2.xlsx", {"S": cells}))
    assert rc == 1 and cause_cells(rep) == ["S!AB24"], rep

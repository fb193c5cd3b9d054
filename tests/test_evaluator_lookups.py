"""Lookup, choice and text functions as Excel documents them (Microsoft's reference pages, linked beside
each entry in xlgd/core/lookups.py), typed into a sheet with openpyxl and evaluated from its constants."""

from bisect import bisect_right

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlgd.core.ranges import approximate
from xlgd.core.values import SheetError, Text
from xlgd.evaluator import open_and_evaluate

CASES = [  # A1:A5 = 1..5 (A6:A30 = 5..29: SINGLE, on row 27, reads A27), B1:B5 = "a".."e", D1:F2 = x y z / 10 20 30
    ("=VLOOKUP(3,A1:B5,2,FALSE)", Text("c")), ("=VLOOKUP(3.7,A1:B5,2)", Text("c")),
    ("=VLOOKUP(0.5,A1:B5,2)", "#N/A"), ("=VLOOKUP(3,A1:B5,3,FALSE)", "#REF!"),
    ("=HLOOKUP(\"y\",D1:F2,2,FALSE)", 20.0), ("=LOOKUP(4.5,A1:A5,B1:B5)", Text("d")),
    ("=LOOKUP(\"y\",D1:F2)", 20.0), ("=CHOOSE(2,\"one\",\"two\",\"three\")", Text("two")),
    ("=CHOOSE(4,1,2,3)", "#VALUE!"), ("=SWITCH(2,1,\"one\",2,\"two\",\"other\")", Text("two")),
    ("=SWITCH(9,1,\"one\",2,\"two\",\"other\")", Text("other")), ("=SWITCH(9,1,\"one\")", "#N/A"),
    ("=CONCATENATE(\"n=\",A2,B2)", Text("n=2b")), ("=SUM(CHOOSE(2,A1:A2,A3:A5))", 12.0),
    ("=MATCH(4,A1:A5)", 4.0), ("=INDEX(A1:A5,MATCH(\"d\",B1:B5,0))", 4.0),
    ("=LEN(\"abc\")", 3.0), ("=LEFT(\"Sale Price\",4)", Text("Sale")), ("=RIGHT(\"Sale Price\",5)", Text("Price")),
    ("=MID(\"Fluid Flow\",7,20)", Text("Flow")), ("=UPPER(\"total\")", Text("TOTAL")),
    ("=LOWER(\"E. E. Cummings\")", Text("e. e. cummings")),
    ("=TRIM(\" First Quarter   Earnings \")", Text("First Quarter Earnings")), ("=EXACT(\"word\",\"Word\")", False),
    ("=RIGHT(\"ab\",5)", Text("ab")), ("=LEFT(\"ab\",-1)", "#VALUE!"), ("=_xlfn.SINGLE(A1:A30)", 26.0),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for i in range(30):
        ws.cell(i + 1, 1, float(i + 1) if i < 5 else float(i))
        if i < 5:
            ws.cell(i + 1, 2, "abcde"[i])
    for j, (name, v) in enumerate(zip("xyz", (10, 20, 30))):
        ws.cell(1, 4 + j, name)
        ws.cell(2, 4 + j, v)
    for i, (f, _) in enumerate(CASES):
        ws.cell(i + 1, 8, f)
    p = tmp_path_factory.mktemp("lookups") / "l.xlsx"
    wb.save(p)
    return open_and_evaluate(p, dialect="excel")


@pytest.mark.parametrize("i,formula,want", [(i, f, w) for i, (f, w) in enumerate(CASES)], ids=[f for f, _ in CASES])
def test_formula_value(book, i, formula, want):
    got = book.value("s", i + 1, 8)
    assert got == want and type(got) is type(want), (formula, got)


@pytest.mark.parametrize("xs,x,want", [
    ([1.0, 0.0], 1.0, 0),  # Excel's MATCH(1, {1, 0}) is 1: bisection meets the 1 first
    ([0.0, 1.0], 1.0, 1),
    ([1.0, 1.0, 1.0], 1.0, 2),  # equal values: the last of them
    ([1.0, 2.0, 3.0, 4.0], 2.5, 1),
])
def test_approximate_match_is_a_bisection(xs, x, want):
    assert approximate(xs, x) == want


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from([-2.0, -0.0, 0.0, 0.5, 1.0, 1.0, 3.0, 1e300]), max_size=12),
       st.sampled_from([-3.0, -0.0, 0.0, 0.25, 1.0, 2.0, 3.0, 1e308]))
def test_approximate_match_in_sorted_numbers_is_the_last_not_greater(xs, x):
    """MATCH(x, sorted numbers): the last position whose number is <= x, #N/A when every number is greater."""
    xs = sorted(xs)
    want = bisect_right(xs, x) - 1
    if want < 0:
        with pytest.raises(SheetError, match="#N/A"):
            approximate(xs, x)
    else:
        assert approximate(xs, x) == want

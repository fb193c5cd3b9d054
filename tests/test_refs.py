"""One refs module: sheet quoting, A1 addresses, R1C1 form."""

import pytest

from xlgd.xlsx.refs import (
    a1,
    canonical,
    col_letter,
    col_letters,
    col_number,
    parse_cell,
    quote_sheet,
    unquote_sheet,
)


@pytest.mark.parametrize("name,want", [
    ("data", "data"), ("adam_ann", "adam_ann"), ("linear2", "linear2"), ("a.b", "a.b"), ("lr", "lr"),
    ("sgd1", "'sgd1'"),            # reads as the cell SGD1
    ("XFD1048576", "'XFD1048576'"),  # the last cell of a sheet
    ("A1", "'A1'"), ("R1C1", "'R1C1'"), ("RC", "'RC'"), ("R", "'R'"), ("c3", "'c3'"), ("R2", "'R2'"),
    ("TRUE", "'TRUE'"), ("false", "'false'"),
    ("1st", "'1st'"), ("my sheet", "'my sheet'"), ("it's", "'it''s'"), ("a-b", "'a-b'"),
])
def test_quote_sheet_quotes_whenever_excel_would_need_it(name, want):
    assert quote_sheet(name) == want
    assert unquote_sheet(quote_sheet(name) + "!") == name


def test_quoted_names_keep_a_formula_on_the_sheet_it_names():
    # The same reference written with the quoted name is one absolute reference to that sheet, not a cell.
    canon = canonical(f"={quote_sheet('sgd1')}!B3*2", 5, 5)
    assert canon[0] == ("ref", "SGD1", ("a", 3), ("a", 2))


def test_addresses_one_way_each():
    assert a1(3, 2) == "B3" and col_letter(0) == "A" and col_letters(28) == "AB" and col_number("XFD") == 16384
    assert parse_cell("$AB$12") == (12, 28) and parse_cell("Sheet1!A1") is None

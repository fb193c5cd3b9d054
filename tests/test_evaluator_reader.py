"""The evaluator's fast row reader (`evaluator.rowreader.RowReader`) against the plain one.

The fast reader compares rows as text with the row above moved down, looks only at the cells of a
row that differ (`patch`), and reads a new cell from the recipe of a cell of the same shape (the
same XML but for its digits) instead of parsing it. Here a periodic step table made with
XlsxWriter holds the cells that could fool those shortcuts -- per-epoch anchored rows, a cell that
differs on every row, sheet names and function names with digits, numbers with exponents,
digits in strings, a column changing between formula and constant, text and number results --
and every cell read by the fast reader must say what lxml's cell-by-cell reading says: the same
formula in R1C1 form, the same cached value and constant.
"""

import pytest
import xlsxwriter

from xlgd.evaluator.rowreader import read_sheet
from xlgd.evaluator.runs import CellTaker, SheetCells
from xlgd.evaluator.store import SheetValues
from xlgd.xlsx.package import Package

EPOCHS, STEPS, FIRST = 9, 7, 5


def _formulas(r, k, i):
    """Row r, epoch k, step i: column letter -> (formula, cached value)."""
    start = i == 0
    row = {
        "A": (f"=A{r - 1}+1", float(r)),
        "B": (f"=$N${3 + k}", float(k)),  # the epoch, anchored: another row every epoch
        "C": (f"=data!B{2 + i}", float(i)),  # wraps every epoch
        "D": (f"='Sheet 2'!A{3 + i}", 1.0),
        "E": (f"=Sheet2!A{3 + i}", 2.0),  # digits after letters: never read from a recipe
        "F": (f"=LOG10(C{r}+1)", 0.5),
        "G": (f"=F{r}" if start else f"=G{r - 1}+F{r}", 1.5),  # an epoch's running sum
        "I": (f"=1.5E3*A{r}", 3.0),
        "J": (f'=A{r}&"x1"', "x1"),
        "L": (f'=IF(A{r}>3,"big",A{r})', "big" if r > 3 else float(r)),
    }
    if r < FIRST + 12:
        row["H"] = (f"=G{r + 7 * (r - FIRST) + 6}/7", 0.25)  # another relative row on every row
    if r % 5 == 0:
        row["K"] = (None, float(r))  # a constant where the rows around hold a formula
    else:
        row["K"] = (f"=K{r - 1}*2", 4.0)
    if r % 11 == 0:
        row["M"] = (f"=A0+A{r}", 1.0)  # a row that is not one of Excel's
    return row


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("reader") / "periodic.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("steps")
    for name in ("data", "Sheet 2", "Sheet2"):
        other = wb.add_worksheet(name)
        for r in range(1, 20):
            other.write_number(r - 1, 0, r * 0.5)
            other.write_number(r - 1, 1, r * 2.0)
    ws.write_row(0, 0, ["step", "epoch", "x"])
    for k in range(EPOCHS):
        ws.write_number(2 + k, 13, float(k + 1))
    for k in range(EPOCHS):
        for i in range(STEPS):
            r = FIRST + k * STEPS + i
            for col, (formula, value) in _formulas(r, k, i).items():
                c = ord(col) - 65
                if formula is None:
                    ws.write_number(r - 1, c, value)
                else:
                    ws.write_formula(r - 1, c, formula, None, value)
    wb.close()
    return path


def _plain(pkg, name):
    sc = SheetCells(name, SheetValues(name), SheetValues(name))
    taker = CellTaker(sc, pkg)
    for cell in pkg.cells(name, force_xml=True):
        taker.take(cell)
    return sc


def _values(sv, rows):
    """Every cell's value as a formula reads it (`SheetValues.get`), NaN compared as NaN."""
    return {(r, c): repr(sv.get(r, c)) for c in sv.cols for r in range(1, rows + 1)}


def _read_both(path):
    with Package.open(path) as pkg:
        return read_sheet(pkg, "steps"), _plain(pkg, "steps")


def _assert_same(fast, plain):
    """Every cell read by the fast reader as lxml's cell-by-cell reading reads it: the same runs (R1C1
    form), templates where both have one, cached values, constants and cells without a cached value."""
    assert fast.formula_cells == plain.formula_cells
    for c in set(fast.runs) | set(plain.runs):
        for r in range(1, fast.cached.max_row + 1):
            a, b = fast.run_at(r, c), plain.run_at(r, c)
            assert (a is None) == (b is None), (r, c)
            if a is not None:
                assert a.key == b.key, (r, c, a, b)
                assert a.template is None or b.template is None or a.template(r) == b.template(r), (r, c)
    assert fast.cached.max_row == plain.cached.max_row
    rows = fast.cached.max_row
    assert _values(fast.cached, rows) == _values(plain.cached, rows)
    assert _values(fast.consts, rows) == _values(plain.consts, rows)
    assert fast.no_cache == plain.no_cache


@pytest.mark.parametrize("tag, cells", [('<v xml:space="preserve">', ("I20",)), ("<v >", ("I20",)),
                                        ("<v >", ("I20", "I27"))])
def test_a_value_tag_with_attributes_does_not_shift_the_values(book, tmp_path, tag, cells):
    """The fast cut splits at '<v>' and '</v>' alone: one other opening tag would hand every later value to
    the cell before it, unless the reader notices (a '<' where a value goes, or an even count of parts:
    two such tags keep the count odd) and cuts by pattern."""
    import zipfile

    out = tmp_path / "odd-v.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for cell in cells:
                    at = text.index("<v>", text.index(f'<c r="{cell}"'))
                    text = text[:at] + tag + text[at + 3:]
                data = text.encode()
            zout.writestr(item, data)
    fast, plain = _read_both(out)
    _assert_same(fast, plain)
    assert fast.cached.get(20, 9) == plain.cached.get(20, 9) and fast.cached.get(21, 9) == 3.0


def test_the_fast_reader_reads_every_cell_as_lxml_does(book):
    fast, plain = _read_both(book)
    assert fast.formula_cells > EPOCHS * STEPS * 10
    _assert_same(fast, plain)
    # the shortcuts were taken: a run per epoch where the formula changes every epoch, not one per cell
    assert len(fast.runs[3]) == EPOCHS  # C reads the data sheet from its first row every epoch
    assert len(fast.runs[2]) == EPOCHS  # B: another anchored row every epoch
    assert len(fast.runs[8]) == 12  # H: a run per row, as many as its cells


def test_cached_values_read_later_are_the_values_and_a_word_among_them_is_named(tmp_path):
    """Rows of numbers hand their cached values to the store unparsed (`SheetValues.later`): read, they
    are what lxml reads; a word among them is an error naming it and the sheet when they are read --
    the constants (column A) are parsed at once."""
    import re
    import zipfile

    from xlgd.errors import XlgdError

    path = tmp_path / "numbers.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("steps")
    for r in range(1, 301):
        ws.write_number(r - 1, 0, r * 0.1)
        ws.write_formula(r - 1, 1, f"=A{r}*2", None, r * 0.2)
    wb.close()
    fast, plain = _read_both(path)
    assert fast.cached._later  # handed over unparsed ...
    _assert_same(fast, plain)  # ... and, read, what lxml reads
    assert fast.consts.get(250, 1) == 25.0

    bad = tmp_path / "word.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"(<f>A250\*2</f><v>)[^<]*", rb"\1twelve", data)
                assert b"twelve" in data
            zout.writestr(item, data)
    with Package.open(bad) as pkg:
        sc = read_sheet(pkg, "steps")
    assert sc.consts.get(250, 1) == 25.0
    with pytest.raises(XlgdError, match="'twelve'.*steps"):
        sc.cached.get(250, 2)

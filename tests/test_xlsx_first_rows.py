"""`Package.first_rows`: a sheet's first rows, read once from its start, as `cells` reads them."""

import openpyxl
import pytest

from tests.verify_helpers import edit_zip
from xlgd.xlsx import package
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """A learner's sheet as openpyxl saves it: inputs, a header, then formula rows."""
    path = tmp_path_factory.mktemp("first") / "learner.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "my sheet"
    ws.append(["lr", 0.01])
    ws.append(["x", "y", "pred"])
    for r in range(3, 400):
        ws.append([r * 0.5, r * 2.0, f"=A{r}*B{r}+$B$1"])
    wb.save(path)
    return path


def _expected(path, sheet, until):
    with Package.open(path) as book:
        return [c for c in book.cells(sheet, force_xml=True) if c.row <= until]


@pytest.mark.parametrize("until", [1, 2, 50, 399, 1000])
def test_first_rows_are_the_cells_of_those_rows(learner, monkeypatch, until):
    monkeypatch.setattr(package, "CHUNK", 2_000)  # pieces of a few rows: the rows asked for span several
    want = _expected(learner, "my sheet", until)
    with Package.open(learner) as book:
        assert book.first_rows("my sheet", until) == want
    assert want and max(c.row for c in want) == min(until, 399)


def test_the_first_rows_are_read_once(learner, monkeypatch):
    with Package.open(learner) as book:
        calls = []
        bodies = book.bodies
        monkeypatch.setattr(book, "bodies", lambda *a, **k: calls.append(a) or bodies(*a, **k))
        many = book.first_rows("my sheet", 100)
        few = book.first_rows("my sheet", 1)
        assert len(calls) == 1
        assert few == [c for c in many if c.row == 1] and few
        assert len(book.first_rows("my sheet", 200)) > len(many)  # more rows than were read: read again
        assert len(calls) == 2
    with Package.open(learner) as other:  # kept by the Package, not beyond it
        calls.clear()
        fresh = other.bodies
        monkeypatch.setattr(other, "bodies", lambda *a, **k: calls.append(a) or fresh(*a, **k))
        other.first_rows("my sheet", 1)
        assert len(calls) == 1


def test_a_sheet_the_scanner_cannot_read_gives_the_same_rows(learner, tmp_path):
    """A cell without its `r` attribute (allowed: it follows the cell before) sends the sheet to lxml."""
    q = edit_zip(learner, tmp_path / "no_r.xlsx", "xl/worksheets/sheet1.xml",
                 lambda text: text.replace('<c r="B2"', "<c", 1))
    with Package.open(q) as book:
        with pytest.raises(package.Fallback):
            [list(book.scan_piece("my sheet", body, {}, {})) for body in book.bodies("my sheet")]
        assert book.first_rows("my sheet", 5) == _expected(learner, "my sheet", 5)

"""xlsx's row-template reader (`xlsx.rowtemplate`): rows matched whole with a template's rows, the others scanned.

`_read` below is a reader as its callers write one: pieces of `Package.bodies`, values cut out
(`split_values`), rows compared in place with a template (`match_rows`), rows taken whole giving
their values by the template's holes, every other row put back together (`with_values`) and
scanned (`Package.scan_piece`). Whatever rows the template takes, the values read must be the
ones lxml's cell-by-cell reading gives.
"""

import pytest
import xlsxwriter

from xlgd.xlsx.package import Package
from xlgd.xlsx.refs import col_number
from xlgd.xlsx.rowtemplate import (
    HOLE,
    CellParts,
    CellTemplate,
    PeriodicRows,
    RowTemplate,
    match_rows,
    split_values,
    with_values,
)

ROWS = 450  # past 4 blocks of 100 rows
PERIOD, DATA0, EPOCH0 = 7, 2, 3  # a data row wraps every 7 rows; the period's row is EPOCH0 + i // 7


def _cells(r):
    """Row r's cells: column letter -> (formula or None, value)."""
    i = r - 2
    return {"A": (None, float(r)),
            "B": (f"=A{r}*2", 2.0 * r),
            "C": (f"=data!A{DATA0 + i % PERIOD}+$E${EPOCH0 + i // PERIOD}", 0.5 * (i % PERIOD))}


def _write(path, odd=None):
    """A sheet of ROWS formula rows from row 2; odd(r, cells) may change a row's cells."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("steps")
    wb.add_worksheet("data").write_column(0, 0, [float(k) for k in range(20)])
    ws.write_row(0, 0, ["a", "b"])  # (xlsxwriter gives rows 1..16 one `spans`: the widest row's)
    for r in range(2, ROWS + 2):
        cells = _cells(r)
        if odd is not None:
            odd(r, cells)
        for letter, (formula, value) in cells.items():
            c = col_number(letter) - 1
            if formula is None:
                ws.write(r - 1, c, value)
            else:
                ws.write_formula(r - 1, c, formula, None, value)
    wb.close()
    return path


def _row_above(skel, r):
    """A `RowTemplate` seeded from row r's skeleton (the row above the rows it should match)."""
    head, *chunks = skel.split('<c r="')
    parts = CellParts()
    cells = [CellTemplate('<c r="' + c, col_number(c[:c.index('"')].rstrip("0123456789")), r, parts) for c in chunks]
    return RowTemplate(head.replace(f'r="{r}"', 'r="#"', 1), cells)


def _read(path, seed):
    """({(row, col): value} of every cell, rows taken whole): seed(skel, r) gives the template for the
    rows after row r (None to scan on) and is asked again at each row the template does not match."""
    values, whole = {}, set()
    with Package.open(path) as book:
        shared, cols = {}, {}
        for body in book.bodies("steps"):
            parts = split_values(body)
            vals, skel = parts[1::2], HOLE.join(parts[0::2])
            pos = vi = 0
            tmpl = since = None
            while pos < len(skel) and "</row>" in skel[pos:]:
                r = int(skel[skel.index('r="', pos) + 3:skel.index('"', skel.index('r="', pos) + 3)])
                n = 0
                if tmpl is not None:
                    n, at, _ = match_rows(skel, pos, tmpl, r, since)
                if n:
                    holes = [c.col for c in tmpl.cells if c.hole] if isinstance(tmpl, RowTemplate) else [1, 2, 3]
                    for j in range(n):
                        for q, col in enumerate(holes):
                            values[(r + j, col)] = float(vals[vi + j * len(holes) + q])
                        whole.add(r + j)
                    pos, vi = at, vi + n * len(holes)
                    continue
                stop = skel.index("</row>", pos)
                row, nv = skel[pos:stop], skel.count(HOLE, pos, stop)
                for cell in book.scan_piece("steps", with_values(row, vals[vi:vi + nv]) + "</row>", shared, cols):
                    values[(cell.row, cell.col)] = cell.value
                tmpl, since = seed(row, r), r
                pos, vi = stop + 6, vi + nv
        plain = {(c.row, c.col): c.value for c in book.cells("steps", force_xml=True)}
    return values, whole, plain


def test_rows_like_the_row_above_are_taken_whole(tmp_path):
    """A row with a hole per value, seeded from the row above: the rows below it that differ from it
    only by their row numbers (the same formulas in R1C1 form) are matched, the others scanned."""
    path = _write(tmp_path / "a.xlsx", odd=lambda r, cells: cells.pop("C"))  # C wraps: left out here
    values, whole, plain = _read(path, lambda skel, r: _row_above(skel, r) if r >= 2 else None)
    assert values == plain
    assert len(whole) == ROWS - 1  # every row but the first formula row, which seeded the template


def test_a_row_that_departs_from_the_template_is_scanned_and_read_right(tmp_path):
    def odd(r, cells):
        cells.pop("C")
        if r == 250:
            cells["B"] = ("=A250*3", 750.0)  # another formula
        if r == 320:
            cells["A"] = (None, "text")  # a text where a number was
    path = _write(tmp_path / "b.xlsx", odd)
    values, whole, plain = _read(path, lambda skel, r: _row_above(skel, r) if r >= 2 else None)
    assert values == plain and values[(250, 2)] == 750.0 and values[(320, 1)] == "text"
    assert 250 not in whole and 320 not in whole
    assert {252, 322, 400} <= whole and 251 not in whole  # a departing row seeds a template that the next row departs from again


def _periodic(skel, r):
    """A `PeriodicRows` rendered from a layout of the sheet (`_cells`), its style attributes none."""
    cells = "".join(f'<c r="{letter}%(r)s"><f>{f}</f>{HOLE}</c>' for letter, f in
                    (("B", "A%(r)s*2"), ("C", "data!A%(d)s+$E$%(e)s")))
    fmt = f'<row r="%(r)s" spans="1:3"><c r="A%(r)s">{HOLE}</c>' + cells
    return PeriodicRows(2, ROWS, PERIOD, (DATA0, EPOCH0), {"top": fmt, True: fmt, False: fmt})


def test_a_sheet_whose_rows_are_strided_is_matched_from_its_layout(tmp_path):
    """Every row's data reference wraps every PERIOD rows and its period's cell moves on: no row is
    the row above moved down, yet every row is the layout's, a hundred at a time."""
    path = _write(tmp_path / "c.xlsx")
    with Package.open(path) as book:
        body = next(book.bodies("steps"))
    first = body[body.index('<row r="2"'):body.index("</row>", body.index('<row r="2"'))]
    seed = _periodic(None, 2)
    assert split_values(first)[0::2] == seed.text(2).split(HOLE)  # (the formats are xlsxwriter's rows)
    values, whole, plain = _read(path, lambda skel, r: seed)
    assert values == plain
    assert whole == set(range(2, ROWS + 2))
    edited = _write(tmp_path / "d.xlsx", odd=lambda r, cells: r == 250 and cells.update(B=("=A250+1", 251.0)))
    values, whole, plain_edited = _read(edited, lambda skel, r: seed)
    assert values == plain_edited and values[(250, 2)] == 251.0
    assert whole == set(range(2, ROWS + 2)) - {250}  # the layout's rows go on after it
    blocks = [R for R in range(200, ROWS, 100) if seed.block(R, 100) is not None]
    assert blocks == [200, 300]  # (rows 400..499 run past the table)
    for R in blocks:
        assert seed.block(R, 100) == "</row>".join(seed.text(r) for r in range(R, R + 100))
    row_above, _, _ = _read(path, lambda skel, r: _row_above(skel, r) if r >= 2 else None)
    assert row_above == plain


@pytest.mark.parametrize("body", ['<row r="1"><c r="A1"><v>1.5</v></c><c r="B1" t="s"><v>0</v></c></row>',
                                  '<row r="1"><c r="A1"><v xml:space="preserve">1</v></c><c r="B1"><v>2</v></c></row>'])
def test_values_cut_out_and_put_back_give_the_text(body):
    parts = split_values(body)
    assert with_values(HOLE.join(parts[0::2]), parts[1::2]) == body


def _joined(parts):
    """Parts with adjacent literal strings joined: two readings of one cell compare equal."""
    out = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        elif part != "":
            out.append(part)
    return out


def test_a_cells_parts_are_kept_per_workbook_and_read_alike_on_any_row():
    parts = CellParts()
    first = parts('<c r="C5"><f>data!B5*2</f></c>')
    again = parts('<c r="C34"><f>data!B5*2</f></c>')  # the same cell on another row: parsed once
    assert first == again and len(parts.by_cell) == 1
    from_shape = parts('<c r="C6"><f>data!B6*2</f></c>')  # a new cell of a known shape
    assert _joined(from_shape) == _joined(CellParts()('<c r="C6"><f>data!B6*2</f></c>')) != _joined(first)
    assert len(parts.by_shape) == 1 and CellParts().by_cell == {}

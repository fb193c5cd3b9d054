"""What a learner sees in a generated workbook: formats, colours, the intro, printing, the file's properties."""

import pytest

from xlgd import __version__
from xlgd.book.write import app_version
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def books(shipped_books):
    """Every shipped template: {template: path} (tests/conftest.py)."""
    return shipped_books


@pytest.mark.slow
def test_app_properties_name_xlgd_and_its_version(books):
    for path in books.values():
        with Package.open(path) as book:
            assert book.application == f"xlgd {__version__}"
            app = book.part("docProps/app.xml").decode()
        assert "Microsoft Excel" not in app
        assert f"<AppVersion>{app_version(__version__)}</AppVersion>" in app


def test_app_version_has_the_xx_yyyy_form():
    assert app_version("0.1.0") == "00.0100"
    assert app_version("1.12.3") == "01.1203"


def cf_rules(path, sheet):
    """[(sqref, [(formula, fill or None, number format or None, stopIfTrue)] by priority)] of a sheet."""
    import re
    import zipfile

    from lxml import etree

    S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with Package.open(path) as book:
        part = book.sheet_part(sheet)
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(part))
        styles = etree.fromstring(z.read("xl/styles.xml"))
    dxfs = []
    for d in styles.iter(f"{S}dxf"):
        fill = d.find(f".//{S}fill//{S}bgColor")
        fmt = d.find(f"{S}numFmt")
        dxfs.append((fill.get("rgb")[-6:] if fill is not None else None,
                     fmt.get("formatCode") if fmt is not None else None))
    out = []
    for cf in root.iter(f"{S}conditionalFormatting"):
        rules = sorted(cf.iter(f"{S}cfRule"), key=lambda r: int(r.get("priority")))
        out.append((cf.get("sqref"), [(r.find(f"{S}formula").text, *dxfs[int(r.get("dxfId"))],
                                       r.get("stopIfTrue") == "1") for r in rules]))
    assert all(re.fullmatch(r"[A-Z]+\d+:[A-Z]+\d+", sq) for sq, _ in out)
    return out


def test_step_table_rules_red_before_orange_before_big_numbers(books):
    """One range's rules by priority, each stopping the rest (LibreOffice applies only the first true rule of
    a range, and only one range where ranges overlap: so they must not)."""
    from xlgd.book.formats import ORANGE, RED, SCIENTIFIC

    rules = cf_rules(books["two-neuron"], "linear2")
    weights = next(r for sq, r in rules if sq.startswith("E"))
    fills = [(fill, fmt) for _, fill, fmt, _ in weights]
    assert fills == [(RED[1:], SCIENTIFIC), (RED[1:], None), (ORANGE[1:], SCIENTIFIC), (ORANGE[1:], None),
                     (None, SCIENTIFIC)]
    assert all(stop for *_, stop in weights)
    data_cols = next(r for sq, r in rules if sq.startswith("A"))
    assert [(fill, fmt) for _, fill, fmt, _ in data_cols] == [(RED[1:], None), (ORANGE[1:], None)]
    # No sheet has overlapping ranges; graddesc's sheets colour nothing, but switch big numbers.
    for sq, r in cf_rules(books["graddesc"], "basic"):
        assert all(fill is None and fmt == SCIENTIFIC for _, fill, fmt, _ in r), sq


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_colours_the_runaway_red_and_no_stable_row(books, tmp_path, lo_exact):
    """Each rule's formula, evaluated by LibreOffice on every step row of linear2: the first true rule
    of each row is red exactly on the rows that overflowed and on the runaway (steps 26-30: err^2 grew
    37x to 1e9x on rows past the bound), orange on the other rows past the bound, and nothing elsewhere:
    step 24, whose error grew tenfold on a stable row, stays white."""
    import openpyxl

    from xlgd.book.formats import ORANGE, RED
    from xlgd.layout import Layout
    from xlgd.recipe.compute import compute
    from xlgd.xlsx.refs import shift

    recipe = load_recipe("two-neuron")
    spec = next(s for s in recipe.sheets if s.name == "linear2")
    lay, res = Layout(spec), compute(recipe)["linear2"]
    rules = next(r for sq, r in cf_rules(books["two-neuron"], "linear2") if sq.startswith("A"))
    wb = openpyxl.load_workbook(books["two-neuron"])
    ws = wb["linear2"]
    first = lay.step_row(0)
    for j, (formula, *_rest) in enumerate(rules):
        for i in range(spec.n_steps):
            ws.cell(first + i, 300 + j).value = f"=IF({shift(formula, i, 0)},1,0)"
    book = tmp_path / "rules.xlsx"
    wb.save(book)
    got = lo_exact(book)["sheets"]["linear2"]["values"]
    colour = {}
    for i in range(spec.n_steps):
        hit = [j for j in range(len(rules)) if got[first - 1 + i][299 + j] == 1.0]
        colour[i + 1] = rules[hit[0]][1] if hit else None
    errors = {i + 1 for (c, i) in res.errors if c == "err"}
    past = {i + 1 for i, v in enumerate(res.steps["stab"]) if v > 1}
    red = {k for k, v in colour.items() if v == RED[1:]}
    assert red == errors | {26, 27, 28, 29, 30}
    assert {k for k, v in colour.items() if v == ORANGE[1:]} == past - red
    assert colour[24] is None and 24 not in past


def intro_rows(path):
    """[(label, text, row height or None)] of the intro sheet, read back from the file."""
    import openpyxl

    ws = openpyxl.load_workbook(path)["intro"]
    return [(ws.cell(r, 1).value or "", ws.cell(r, 2).value or "",
             ws.row_dimensions[r].height if ws.row_dimensions[r].customHeight else None)
            for r in range(1, ws.max_row + 1)]


@pytest.mark.slow
def test_intro_lists_every_sheet_in_tab_order(books):
    for name, path in books.items():
        rows = intro_rows(path)
        labels = [a for a, _, _ in rows]
        listed = labels[labels.index("Sheets, in tab order") + 1:labels.index("", labels.index("Sheets, in tab order"))]
        with Package.open(path) as book:
            assert listed == book.sheet_names, name
        assert book.sheet_names[:2] == ["intro", "data"] and book.sheet_names[-1] == "_xlgd"


def test_experiment_sheets_come_right_after_data(books):
    from xlgd.recipe.experiments import grids

    for name, path in books.items():
        extra = [g.name for g in grids(load_recipe(name))]
        with Package.open(path) as book:
            assert book.sheet_names[2:2 + len(extra)] == extra, name
    assert not grids(load_recipe("graddesc"))


@pytest.mark.slow
def test_intro_says_what_each_sheet_is(books):
    text = {name: "\n".join(f"{a}: {b}" for a, b, _ in intro_rows(p)) for name, p in books.items()}
    # each sweep sheet with its own lr, a link to the sheet's lr cell; no "sweep of sweep"
    import openpyxl

    formulas = openpyxl.load_workbook(books["lr-sweep"])["intro"]
    values = openpyxl.load_workbook(books["lr-sweep"], data_only=True)["intro"]
    rows = {formulas.cell(r, 1).value: r for r in range(1, formulas.max_row + 1)}
    for j, lr in enumerate((1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)):
        r = rows[f"sweep_{j + 1}"]
        assert formulas.cell(r, 3).value == f"=sweep_{j + 1}!$A$3" and values.cell(r, 3).value == lr
    assert formulas.cell(rows["Sheets, in tab order"], 3).value == "lr"
    assert "sweep of sweep" not in text["lr-sweep"].lower()
    assert "summary: Learning-rate sweep: linear2 / sgd at lr 1e-05 ... 0.01" in text["lr-sweep"]
    # plural that agrees with the number
    assert "1 epoch." in text["momentum-sine"] and "epoch(s)" not in "".join(text.values())
    assert "3 epochs." in text["two-neuron"]
    # forward differences promised only where a sheet has them
    assert "forward-difference" not in text["lr-sweep"].split("Sheets, in tab order")[0]
    assert "forward-difference estimates" in text["graddesc"]
    # the stability column and both colours, where a sheet has them
    for name in ("two-neuron", "lr-sweep", "momentum-sine"):
        assert "Stability column: lr*|dpred/dw|^2" in text[name] and "Orange row: " in text[name] \
            and "Red row: " in text[name]
    assert "Stability column" not in text["graddesc"]


@pytest.mark.slow
def test_intro_rows_are_tall_enough_for_their_wrapped_text(books):
    """LibreOffice does not grow rows when it opens a file: every wrapped row has its height, at least one
    15-point line per 100 characters (LibreOffice fits 98-100 on a line of the intro, measured)."""
    import math

    for name, path in books.items():
        for label, text, height in intro_rows(path):
            if text:
                assert height is not None and height >= 15 * math.ceil(len(text) / 100), (name, label, height)


def test_every_sheet_prints_its_table_one_page_wide_with_its_headers(books):
    import re

    from xlgd.layout import HEADER_ROW, Layout

    for name, path in books.items():
        recipe = load_recipe(name)
        with Package.open(path) as book:
            for sheet in book.sheet_names:
                if sheet == "_xlgd":
                    continue
                area = book.defined_names.get((sheet, "_xlnm.Print_Area"))
                assert area and area.startswith(f"{sheet}!$A$1:"), (name, sheet, area)
                xml = book.part(book.sheet_part(sheet)).decode()
                setup = re.search(r"<pageSetup [^>]*>", xml).group(0)
                # fitToWidth's default is 1 (ECMA-376), so XlsxWriter leaves it out
                assert 'fitToPage="1"' in xml and 'fitToHeight="0"' in setup and \
                    re.search(r'fitToWidth="(?!1")', setup) is None, (sheet, setup)
            for spec in recipe.sheets:
                lay = Layout(spec)
                last_col = max(lay.epoch_index.values())
                area = book.defined_names[(spec.name, "_xlnm.Print_Area")]
                assert re.fullmatch(rf"{spec.name}!\$A\$1:\$[A-Z]+\${lay.last_row}", area)
                assert book.defined_names[(spec.name, "_xlnm.Print_Titles")] == \
                    f"{spec.name}!${HEADER_ROW}:${HEADER_ROW}"
                assert area.endswith(f"${lay.epoch_letter(spec.epoch_columns[-1].name)}${lay.last_row}")
                assert lay.epoch_index[spec.epoch_columns[-1].name] == last_col

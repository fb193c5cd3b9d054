"""What a learner sees in a generated workbook: formats, colours, the intro, printing, the file's properties."""

import pytest

from xlgd import __version__
from xlgd.book.write import app_version
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Every shipped template, generated once: {template: path}."""
    d = tmp_path_factory.mktemp("learner")
    out = {}
    for name in ("graddesc", "two-neuron", "lr-sweep", "momentum-sine"):
        out[name] = d / f"{name}.xlsx"
        build(load_recipe(name), out[name])
    return out


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


@pytest.mark.libreoffice
def test_libreoffice_colours_the_runaway_red_and_no_stable_row(books, tmp_path, lo_exact):
    """Each rule's formula, evaluated by LibreOffice on every step row of linear2: the first true rule
    of each row is red exactly on the rows that overflowed and on the runaway (steps 26-30: err^2 grew
    37x to 1e9x on rows past the bound), orange on the other rows past the bound, and nothing elsewhere:
    step 24, whose error grew tenfold on a stable row, stays white."""
    import openpyxl

    from xlgd.book.formats import ORANGE, RED
    from xlgd.book.layout import Layout
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

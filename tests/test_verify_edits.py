"""Each edit a learner can make to a generated workbook is caught at the right cell, with the reason."""

import json
import re

import pytest

from tests.verify_helpers import (
    edit_zip,
    set_constant,
    set_formula,
    set_value,
    sheet_part,
    verify,
)
from xlgd.check.verify import verify_book
from xlgd.layout import Layout


@pytest.fixture(scope="module")
def book(graddesc_book):
    return graddesc_book


def _lay(recipe, name):
    return Layout(next(s for s in recipe.sheets if s.name == name))


def _causes(rep, sheet):
    return next(s for s in rep.sheets if s.name == sheet).causes


def test_fresh_workbook_verifies_clean(book):
    p, _ = book
    r = verify(p, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["ok"] and all(s["failed"] == 0 for s in d["sheets"])
    assert sum(s["checked"] for s in d["sheets"]) > 5000


def test_one_formula_changed(book, tmp_path):
    p, recipe = book
    lay = _lay(recipe, "momentum")
    ref = lay.cell("m_b", 17)
    right = lay.formula("m_b", 17)[1:]
    wrong = right.replace(lay.cell("g_b", 17), lay.cell("g_b", 16))  # the previous row's gradient
    assert wrong != right
    q = edit_zip(p, tmp_path / "e.xlsx", sheet_part(p, "momentum"), lambda t: set_formula(t, ref, wrong))
    rep = verify_book(q)
    assert not rep.ok
    causes = _causes(rep, "momentum")
    assert causes[0].cell == ref and causes[0].kind == "formula"
    assert f"`={wrong}`" in causes[0].message and f"`={right}`" in causes[0].message
    # The cached value is the old one: the formula now gives something else.
    assert "its formula gives" in causes[0].message


def test_constant_pasted_over_formula(book, tmp_path):
    p, recipe = book
    lay = _lay(recipe, "adam")
    ref = lay.cell("new_a", 30)
    q = edit_zip(p, tmp_path / "c.xlsx", sheet_part(p, "adam"), lambda t: set_constant(t, ref, "1.25"))
    rep = verify_book(q)
    c = _causes(rep, "adam")[0]
    assert c.cell == ref and c.kind == "constant"
    assert "replaced by the constant 1.25" in c.message
    # Nothing recalculated: the next row still holds the value the formula had; it reads 1.25 now.
    nxt = [k for k in _causes(rep, "adam") if k.kind == "stale"]
    assert nxt and nxt[0].cell == lay.cell("a", 31)


def test_lr_reference_points_at_wrong_cell(book, tmp_path):
    p, recipe = book
    lay = _lay(recipe, "basic")
    ref = lay.cell("new_b", 40)
    right = lay.formula("new_b", 40)[1:]
    assert "lr" in right
    wrong = right.replace("lr", lay.input_abs("h"))
    q = edit_zip(p, tmp_path / "lr.xlsx", sheet_part(p, "basic"), lambda t: set_formula(t, ref, wrong))
    rep = verify_book(q)
    c = _causes(rep, "basic")[0]
    assert c.cell == ref and c.kind == "formula"
    assert f"`{lay.input_abs('h')}` where its column has `lr`" in c.message


def test_stale_values_after_input_change(book, tmp_path):
    """lr changed in its input cell, nothing recalculated: the forum learner's puzzle."""
    p, recipe = book
    lay = _lay(recipe, "momentum")
    ref = lay.input_cell("lr")
    q = edit_zip(p, tmp_path / "s.xlsx", sheet_part(p, "momentum"), lambda t: set_value(t, ref, "0.001"))
    rep = verify_book(q)
    s = next(s for s in rep.sheets if s.name == "momentum")
    assert any(f"lr in {ref} is 0.001, the template said 0.0001 -- checked with 0.001" in n for n in s.notes)
    stale = [c for c in s.causes if c.kind == "stale"]
    assert len(stale) == 1
    # The first cell reading lr is the first new-weight cell of step 0.
    assert stale[0].cell in (lay.cell("new_a", 0), lay.cell("new_b", 0))
    assert stale[0].downstream > 0
    assert len(s.causes) == 1  # one root cause, not hundreds of lines


def test_text_typed_into_an_input_cell_is_one_cause(book, tmp_path):
    """A learner types a word into lr: one cause at the input cell; it fails the verdict but is no
    formula cell, so the tally of formula cells that check out is not lowered by it."""
    p, recipe = book
    ref = _lay(recipe, "momentum").input_cell("lr")

    def typed(t):
        m = re.search(r'<c r="%s"([^>]*?)(?:/>|>.*?</c>)' % ref, t, re.DOTALL)
        attrs = re.sub(r'\st="[^"]*"', "", m.group(1))
        return t[:m.start()] + f'<c r="{ref}"{attrs} t="inlineStr"><is><t>fast</t></is></c>' + t[m.end():]

    rep = verify_book(edit_zip(p, tmp_path / "t.xlsx", sheet_part(p, "momentum"), typed))
    causes = _causes(rep, "momentum")
    assert [c.kind for c in causes] == ["input"] and causes[0].cell == ref, rep.text()
    assert "holds fast, not a number" in causes[0].message
    # the intro's link to lr holds the old lr: stale (a recalculation shows the word), not an error value
    intro = _causes(rep, "intro")
    assert [c.kind for c in intro] == ["stale"] and "its formula gives fast" in intro[0].message, rep.text()
    assert rep.verdict() == (f"FAILED: 2 root cause(s); {rep.formula_cells - 1:,} of {rep.formula_cells:,} "
                             f"formula cells check out"), rep.text()
    s = next(s for s in rep.sheets if s.name == "momentum")
    assert s.failed == 0 and s.checked == s.formula_cells, rep.text()


def test_calc_mode_manual(book, tmp_path):
    p, recipe = book
    lay = _lay(recipe, "momentum")
    q = edit_zip(p, tmp_path / "m1.xlsx", "xl/workbook.xml",
                 lambda t: re.sub(r"<calcPr[^>]*/>", '<calcPr calcId="124519" calcMode="manual"/>', t))
    q = edit_zip(q, tmp_path / "m2.xlsx", sheet_part(p, "momentum"),
                 lambda t: set_value(t, lay.input_cell("beta1"), "0.5"))
    rep = verify_book(q)
    assert any("calculation is set to manual" in w for w in rep.warnings)
    stale = [c for c in _causes(rep, "momentum") if c.kind == "stale"]
    assert stale and "saved with calculation set to manual" in stale[0].message
    assert stale[0].cell == lay.cell("m_a", 0) or stale[0].cell == lay.cell("m_b", 0)


def test_data_row_deleted(book, tmp_path):
    """Row 10 of the data sheet deleted, later rows moved up, formulas not adjusted (as openpyxl does)."""
    p, recipe = book

    def delete_row(t):
        t = re.sub(r'<row r="10"[^>]*>.*?</row>', "", t, flags=re.DOTALL)

        def up(m):
            r = int(m.group(2))
            return f'{m.group(1)}{r - 1 if r > 10 else r}{m.group(3)}'

        t = re.sub(r'(<row r=")(\d+)(")', up, t)
        t = re.sub(r'(<c r="[A-Z]+)(\d+)(")', up, t)
        return re.sub(r"(<f>true_a\*B)(\d+)(\+true_b</f>)", up, t)

    q = edit_zip(p, tmp_path / "d.xlsx", sheet_part(p, "data"), delete_row)
    rep = verify_book(q)
    assert not rep.ok
    data = _causes(rep, "data")
    last = 5 + len(recipe.data) - 1
    assert data[0].cell == f"B{last}" and "a data row was deleted" in data[0].message
    # The sheets' x cells from row 10 on now read the next row's x: their cached values are stale.
    mom = _causes(rep, "momentum")
    lay = _lay(recipe, "momentum")
    assert any(c.cell == lay.cell("x", 5) for c in mom)


def test_openpyxl_copy_has_no_cached_values(book, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    p, _ = book
    wb = openpyxl.load_workbook(p)
    q = tmp_path / "o.xlsx"
    wb.save(q)
    rep = verify_book(q, values="embedded")
    assert "embedded evaluator" in rep.values_source
    assert rep.ok, rep.text()

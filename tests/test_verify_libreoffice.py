"""LibreOffice as the peer: its recalculation of our workbooks verifies clean; edits recalculated by it are grouped."""

import pytest

from tests.verify_helpers import edit_zip, set_formula, sheet_part, soffice
from xlgd.check.verify import verify_book
from xlgd.layout import Layout
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(not soffice(), reason="LibreOffice not installed")]


@pytest.fixture(scope="module")
def book(graddesc_book):
    return graddesc_book


@pytest.mark.slow
def test_after_libreoffice_recalculation_verifies_clean(book, tmp_path):
    from xlgd.xlsx.libreoffice import recalc_xlsx

    p, _ = book
    out = recalc_xlsx(p, tmp_path / "out")
    rep = verify_book(out)
    assert rep.producer.startswith("LibreOffice") and rep.dialect == "libreoffice"
    assert rep.ok, rep.text()


@pytest.mark.slow
def test_matrix_with_errors_after_recalculation(tmp_path):
    """#NUM! / #DIV/0! / LibreOffice's #VALUE! cells sit where the engine (LibreOffice dialect) puts them."""
    from xlgd.xlsx.libreoffice import recalc_xlsx

    recipe = load_recipe("tests/data/matrix.toml")
    p = tmp_path / "m.xlsx"
    build(recipe, p)
    rep = verify_book(recalc_xlsx(p, tmp_path / "out"))
    assert rep.ok, rep.text()


@pytest.mark.slow
def test_changed_formula_recalculated_groups_downstream(book, tmp_path):
    from xlgd.xlsx.libreoffice import recalc_xlsx

    p, recipe = book
    lay = Layout(next(s for s in recipe.sheets if s.name == "momentum"))
    ref = lay.cell("m_b", 17)
    right = lay.formula("m_b", 17)[1:]
    wrong = right.replace(lay.cell("g_b", 17), lay.cell("g_b", 16))
    q = edit_zip(p, tmp_path / "e.xlsx", sheet_part(p, "momentum"), lambda t: set_formula(t, ref, wrong))
    rep = verify_book(recalc_xlsx(q, tmp_path / "out"))
    s = next(s for s in rep.sheets if s.name == "momentum")
    assert len(s.causes) == 1, rep.text()
    c = s.causes[0]
    assert c.cell == ref and c.kind == "formula" and c.downstream > 100
    assert "downstream of momentum!" + ref in "\n".join(c.lines())


@pytest.mark.slow
def test_recalc_option_uses_libreoffice_values(book):
    from xlgd.xlsx.libreoffice import system_python_with_uno

    if not system_python_with_uno():
        pytest.skip("python3-uno not installed")
    p, _ = book
    rep = verify_book(p, values="libreoffice")
    assert "LibreOffice recalculation" in rep.values_source
    assert rep.ok, rep.text()

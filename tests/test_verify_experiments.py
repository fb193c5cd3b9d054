"""xlgd's experiment sheets (compare, summary, sine, derivatives) are checked by verify, every formula cell.

They have no step-table layout: the workbook evaluator checks them, so an edit in one is found like an edit
in a learner's sheet -- one cause at its cell.
"""

import pytest

from tests.verify_helpers import edit_zip, set_formula, set_value, sheet_part
from xlgd.check.verify import verify_book
from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe

EXPERIMENTS = {"two-neuron": ["compare"], "lr-sweep": ["summary"], "momentum-sine": ["sine", "derivatives"]}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = {}
    for template in EXPERIMENTS:
        p = tmp_path_factory.mktemp("exp") / f"{template}.xlsx"
        build(load_recipe(template, Overrides(epochs=1)), p)
        out[template] = p
    return out


@pytest.mark.parametrize("template", list(EXPERIMENTS))
def test_every_experiment_cell_is_checked(books, template):
    rep = verify_book(books[template])
    sheets = {s.name: s for s in rep.sheets}
    assert rep.ok, rep.text()
    for name in EXPERIMENTS[template]:
        s = sheets[name]
        assert s.layout == "unknown" and s.formula_cells > 20 and s.checked == s.formula_cells, rep.text()
    assert rep.checked_ok == rep.formula_cells and rep.verdict().startswith("OK: ")


def test_stale_value_in_compare_is_one_cause(books, tmp_path):
    src = books["two-neuron"]
    q = edit_zip(src, tmp_path / "stale.xlsx", sheet_part(src, "compare"), lambda t: set_value(t, "C20", "12345"))
    rep = verify_book(q)
    causes = [c for s in rep.sheets for c in s.causes]
    assert len(causes) == 1 and causes[0].sheet == "compare" and causes[0].kind == "stale", rep.text()
    assert causes[0].cell.startswith("C20")


def test_formula_edited_in_the_sine_recurrence_is_one_cause(books, tmp_path):
    src = books["momentum-sine"]
    # the momentum column reads the row above; one cell made to read two rows up
    q = edit_zip(src, tmp_path / "f.xlsx", sheet_part(src, "sine"), lambda t: set_formula(t, "D30", "D28*beta+(1-beta)*C30"))
    rep = verify_book(q)
    causes = [c for s in rep.sheets for c in s.causes]
    assert not rep.ok and len(causes) == 1 and causes[0].sheet == "sine", rep.text()
    assert causes[0].cell.startswith("D30") and causes[0].kind == "formula" and "D28" in causes[0].message

"""The workbook says what happened, beside each sheet's inputs and on intro (book/happened.py).

Each fact is checked against the cached cells of the workbook itself, so a
wrong step number fails here; and a sheet where nothing went wrong says nothing.
"""

import math

import openpyxl
import pytest

from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe

INPUT_ROW, LABEL_ROW, HEADER_ROW, FIRST_STEP_ROW = 3, 2, 5, 7


@pytest.fixture(scope="module")
def two_neuron(tmp_path_factory):
    path = tmp_path_factory.mktemp("tn") / "two-neuron.xlsx"
    build(load_recipe("two-neuron", Overrides()), path)
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def column(ws, header):
    """The cached step values of the column with this header (rows from the first step down)."""
    col = next(c.column for c in ws[HEADER_ROW] if c.value == header)
    return [ws.cell(r, col).value for r in range(FIRST_STEP_ROW, ws.max_row + 1)
            if ws.cell(r, 1).value is not None]


def said(ws):
    """{label: (formula or text, cached)} of the cells right of the inputs in rows 2-3."""
    out = {}
    for c in ws[LABEL_ROW]:
        if c.value in ("exploded at step", "what happened"):
            out[c.value] = c.column
    return out


def test_relu2_says_its_unit_died_and_when(two_neuron):
    wb, values = two_neuron
    ws = values["relu2"]
    z = column(ws, "z=a*x+b")
    dead_from = len(z)
    while dead_from > 0 and isinstance(z[dead_from - 1], (int, float)) and z[dead_from - 1] <= 0:
        dead_from -= 1
    assert len(z) - dead_from >= 29          # the premise: the unit is off for the last epoch and more
    text = ws.cell(INPUT_ROW, said(ws)["what happened"]).value
    assert f"ReLU unit died at step {dead_from + 1}" in text, text
    assert "explod" not in text              # it did not explode: it died
    assert "died" not in (values["linear2"].cell(INPUT_ROW, said(values["linear2"])["what happened"]).value)


def test_exploded_at_is_a_live_link_with_the_step_the_cells_show(two_neuron):
    wb, values = two_neuron
    for name in ("linear2", "linear2_fd"):
        ws, wv = wb[name], values[name]
        col = said(ws)["exploded at step"]
        boom = column(wv, "exploded at")
        err = column(wv, "err^2")
        first = next(i + 1 for i, e in enumerate(err) if not isinstance(e, (int, float)) or e > 1e10)
        assert boom[-1] == first and wv.cell(INPUT_ROW, col).value == first
        assert ws.cell(INPUT_ROW, col).value.startswith("=")          # follows an edit of lr
        text = wv.cell(INPUT_ROW, said(wv)["what happened"]).value
        assert f"exploded at step {first}" in text and "lr=0.00003" in text, text   # the template's hint
    ws = values["linear"]
    assert ws.cell(INPUT_ROW, said(ws)["exploded at step"]).value == 0     # shown as "never"
    assert "what happened" not in said(ws)


def test_forward_differences_lost_to_rounding_are_named(two_neuron):
    wb, values = two_neuron
    ws = values["linear2_fd"]
    est, a = column(ws, "est de/da"), column(ws, "a")
    first = next(i + 1 for i, (e, w) in enumerate(zip(est, a))
                 if e == 0 and isinstance(w, float) and math.isfinite(w) and w + 0.01 == w)
    text = ws.cell(INPUT_ROW, said(ws)["what happened"]).value
    assert f"From step {first} the forward-difference estimates de/da" in text, text


def test_intro_lists_what_happened_with_live_links(two_neuron):
    wb, values = two_neuron
    rows = [[c.value for c in r[:3]] for r in wb["intro"].iter_rows()]
    at = next(i for i, r in enumerate(rows) if r[0] == "What happened")
    block = {}
    for r in rows[at + 1:]:
        if not r[0]:
            break
        block[r[0]] = r
    assert set(block) == {"linear2", "linear2_fd", "relu2", "relu2_fd", "relu2_mom"}
    assert block["linear2"][2] == "=linear2!$J$3" or block["linear2"][2].startswith("=linear2!")
    assert "died" in block["relu2"][1]


def test_a_sheet_that_trained_says_nothing(tmp_path):
    path = tmp_path / "gd.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=1)), path)
    wb = openpyxl.load_workbook(path)
    assert all(not said(wb[s]) for s in ("basic", "adam"))
    assert "What happened" not in [r[0].value for r in wb["intro"].iter_rows()]


def test_the_hint_is_template_data_not_a_comment():
    from xlgd.recipe.template import template_dirs

    for d in template_dirs():
        p = d / "two-neuron.toml"
        if p.exists():
            text = p.read_text()
            assert "\nhint = " in text and "# Try" not in text
            break
    assert "lr=0.00003" in load_recipe("two-neuron", Overrides()).hint

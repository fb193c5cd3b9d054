"""verify on workbooks Excel saved (tests/data/excel, sources in tests/data/SOURCES.md): each checks out with
every formula cell that does not use a volatile function checked, and what Excel rounds its own way noted."""

import json
from pathlib import Path

import pytest

from tests.verify_helpers import verify
from xlgd.evaluator import open_and_evaluate

DATA = Path(__file__).parent / "data" / "excel"


def _report(name):
    r = verify(DATA / name, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("name", ["xlcalculator-VLOOKUP.xlsx", "xlcalculator-choose.xlsx",
                                  "xlcalculator-CONCATENATE.xlsx", "xlcalculator-POWER.xlsx",
                                  "fastai-entropy_example.xlsx", "efc-functions.xlsx"])
def test_every_formula_cell_checked_and_ok(name):
    rep = _report(name)
    assert rep["ok"] and rep["unchecked"] == [] and rep["checked"] == rep["formula_cells"] > 0, rep


def test_match_on_unsorted_cells_is_excels_bisection():
    ev = open_and_evaluate(DATA / "fastai-entropy_example.xlsx")
    sheet = "log_entropy"
    rows = [r for r in range(2, 8) if ev.cached(sheet, r, 2) == 1.0 and ev.cached(sheet, r, 3) == 0.0]
    assert rows and all(ev.value(sheet, r, 8) == 1.0 for r in rows)  # MATCH(1, {1, 0}) is 1 in Excel


def test_var_p_is_excels_one_pass_bit_for_bit_powers_within_rounding_and_rand_is_unchecked():
    rep = _report("fastai-mom_bias.xlsx")
    notes = [n for s in rep["sheets"] for n in s["notes"]]
    assert rep["ok"] and not any("VAR.P" in n for n in notes), notes
    assert any("^" in n and "not bit for bit" in n for n in notes), notes
    assert {u["reason"] for u in rep["unchecked"]} == {"use RAND (volatile)"}, rep["unchecked"]
    assert rep["checked"] + sum(u["cells"] + u["dependants"] for u in rep["unchecked"]) == rep["formula_cells"]


def test_countif_and_match_on_texts_that_look_like_numbers_and_blanks():
    ev = open_and_evaluate(DATA / "efc-functions.xlsx")
    for sheet, cells in (("countif", [(7, 12), (11, 11), (11, 12), (11, 6)]), ("match", [(7, 7), (26, 7), (27, 7)])):
        for r, c in cells:
            assert ev.value(sheet, r, c) == ev.cached(sheet, r, c), (sheet, r, c)

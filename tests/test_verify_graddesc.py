"""Jeremy Howard's graddesc-2018.xlsm verifies clean against Excel's own cached values; a broken formula is caught."""

import shutil

import pytest

from tests import learner
from tests.verify_helpers import (
    add_sheet,
    edit_zip,
    set_formula,
    set_value,
    sheet_part,
    verify,
)
from xlgd.check.verify import verify_book

pytestmark = pytest.mark.graddesc


def test_graddesc_2018_verifies_clean(reference_xlsm):
    REF = reference_xlsm
    r = verify(REF)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = verify_book(REF)
    graddesc = [s for s in rep.sheets if s.layout.startswith("graddesc:")]
    assert {s.name for s in graddesc} == {"basic", "momentum", "rmsprop", "adam", "adam_ann"}
    assert all(s.checked >= 29 * 9 for s in graddesc)
    assert any("macros" in w for w in rep.warnings)
    # The data sheet's RANDBETWEEN cells are unchecked (a new value every recalculation); the y cells
    # reading them are checked (against the values the file holds), so the note says only those are unchecked.
    assert any("RANDBETWEEN" in n and "those cells are unchecked" in n for n in rep.notes)
    data = next(s for s in rep.sheets if s.name == "data")
    assert [u.where for u in data.unchecked] == ["data!B5:B33"] and data.checked == 29 and data.failed == 0
    assert all(s.max_ulp == 0 for s in rep.sheets)  # Excel's values, bit for bit
    # Every formula cell is checked, data!C, the rmse cells of row 33 and adam_ann's annealing cells in
    # rows 33-34 included; the verdict says which are not.
    assert all(s.checked == s.formula_cells for s in graddesc), [(s.name, s.checked, s.formula_cells) for s in graddesc]
    assert (rep.formula_cells, rep.checked_ok) == (1623, 1594)
    assert r.stdout.strip().splitlines()[-1] == \
        "OK with 29 unchecked: 1,594 of 1,623 formula cells check out; data!B5:B33 use RANDBETWEEN (volatile)"
    assert "every" not in r.stdout


def test_a_learners_sheet_added_to_graddesc_2018_is_checked(tmp_path, reference_xlsm):
    """The learner's 2-neuron sheet added to Jeremy's workbook, as Excel saves it: the new sheet's cached
    values are the ones Excel computes (tests/learner.py works them out in plain Python), Excel's own
    values everywhere else. Its 403 formula cells are counted and checked; an edit in it is one cause."""
    n = len(learner.values())
    q = add_sheet(reference_xlsm, tmp_path / "mine.xlsm", "mine", learner.sheet_xml())
    r = verify(q)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"OK with 29 unchecked: {1594 + n:,} of {1623 + n:,} formula " \
                                                "cells check out; data!B5:B33 use RANDBETWEEN (volatile)"
    rep = verify_book(q)
    mine = next(s for s in rep.sheets if s.name == "mine")
    assert mine.layout == "unknown" and mine.checked == mine.formula_cells == n == 403 and not mine.unchecked
    assert {s.name for s in rep.sheets if s.layout.startswith("graddesc:")} == \
        {"basic", "momentum", "rmsprop", "adam", "adam_ann"}
    # a cached value left stale in the learner's sheet: one cause at its cell
    stale = edit_zip(q, tmp_path / "stale.xlsm", "xl/worksheets/sheet_added.xml", lambda t: set_value(t, "H10", "999"))
    rep = verify_book(stale)
    causes = [c for s in rep.sheets for c in s.causes]
    assert not rep.ok and len(causes) == 1 and (causes[0].sheet, causes[0].kind) == ("mine", "stale"), rep.text()
    assert causes[0].cell.startswith("H10")
    # the same sheet added with openpyxl (which keeps no cached values anywhere): still every cell counted
    import openpyxl

    wb = openpyxl.load_workbook(reference_xlsm, keep_vba=True)
    learner.build(wb.create_sheet("mine"))
    wb.save(tmp_path / "openpyxl.xlsm")
    r = verify(tmp_path / "openpyxl.xlsm")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "mine (unknown): 403 of 403 formula cells checked, ok" in r.stdout
    # no value to stand in for the RANDBETWEEN cells, so the y cells reading them are unchecked too
    assert r.stdout.strip().splitlines()[-1].startswith("OK with 58 unchecked: ")
    assert "data!B5:B33 and 29 dependants use RANDBETWEEN (volatile)" in r.stdout


def test_broken_formula_in_a_copy_is_caught(tmp_path, reference_xlsm):
    REF = reference_xlsm
    src = tmp_path / "g.xlsm"
    shutil.copy(REF, src)
    part = sheet_part(src, "rmsprop")
    # rmsprop!H17 divides by the *current* row's mean square instead of the previous one.
    q = edit_zip(src, tmp_path / "broken.xlsm", part, lambda t: set_formula(t, "H17", "C17-F17*$D$2/SQRT(J17)"))
    r = verify(q)
    assert r.returncode == 1
    assert "rmsprop!H17: formula differs from its column: `=C17-F17*$D$2/SQRT(J17)`, expected " \
           "`=C17-F17*$D$2/SQRT(J16)`" in r.stdout
    rep = verify_book(q)
    bad = [s for s in rep.sheets if s.failed]
    assert [s.name for s in bad] == ["rmsprop"] and bad[0].causes[0].cell == "H17"
    assert REF.stat().st_size > 0

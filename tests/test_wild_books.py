"""`xlgd verify` on workbooks saved by Excel and LibreOffice that nobody here wrote (tests/data/wild/).

Each workbook is a public repository's file, byte for byte (tests/data/wild/SOURCES.md): its cached
values are the saving application's own arithmetic. What holds for every one: verify reads it and
ends with a verdict (exit 0 or 1, never an internal error), and its coverage adds up. Each check
below names a phenomenon of Excel's on which a right file must not fail (Excel's rounding, array
formulas, lookups, layouts by design). A stale value after a changed input is found on these real
books as on xlgd's own.
"""

import contextlib
import functools
import io
import json
from pathlib import Path

import pytest

from tests.verify_helpers import edit_zip, set_value, sheet_part
from xlgd.cli import main

WILD = Path(__file__).resolve().parent / "data" / "wild"
SLOW = {"conv-example.xlsx"}


def verify_json(path):
    """Run `xlgd verify --json` in-process: (exit code, the JSON report or {})."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["verify", "--json", str(path)])
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else {})


@functools.lru_cache(maxsize=None)
def verified(name):
    """The verify result of one workbook of tests/data/wild, computed once per test session."""
    return verify_json(WILD / name)


def causes(report):
    out = list(report.get("causes", []))
    for sheet in report.get("sheets", []):
        out += sheet.get("causes", [])
    return out


def book_params():
    for path in sorted(WILD.glob("*.xls[xm]")):
        marks = [pytest.mark.slow] if path.name in SLOW else []
        yield pytest.param(path.name, marks=marks, id=path.stem)


def test_the_corpus_is_in_the_repository():
    names = {p.name for p in WILD.glob("*.xls[xm]")}
    listed = (WILD / "SOURCES.md").read_text()
    assert len(names) >= 10
    assert all(f"| {n} |" in listed for n in names), "every workbook has its source and licence in SOURCES.md"


@pytest.mark.parametrize("name", list(book_params()))
def test_verify_ends_with_a_verdict_and_coverage_adds_up(name):
    code, report = verified(name)
    assert code in (0, 1), f"exit {code}"
    n = report["formula_cells"]
    assert n > 0
    assert 0 <= report["checked_ok"] <= report["checked"] <= n
    assert f"of {n:,} formula cells check out" in report["verdict"]
    assert report["ok"] == (code == 0)


@pytest.mark.parametrize("name", ["style_loss.xlsx", "xlcalculator-COUNTIF.xlsx"])
def test_a_right_book_is_ok_and_every_formula_cell_checked(name):
    code, report = verified(name)
    assert code == 0, report["verdict"]
    assert report["checked_ok"] == report["formula_cells"]


def stale_copy(tmp_path, name, sheet, ref, value):
    """A copy of a wild workbook with one input changed and every cached value left as it was."""
    src = WILD / name
    return edit_zip(src, tmp_path / name, sheet_part(src, sheet), lambda xml: set_value(xml, ref, value))


def test_an_input_changed_by_1e9_relative_with_dependants_stale_fails(tmp_path):
    book = stale_copy(tmp_path, "style_loss.xlsx", "Sheet1", "D3", repr(1.0 + 1e-9))
    code, report = verify_json(book)
    assert code == 1
    assert any(c["sheet"] == "Sheet1" and c["kind"] in ("stale", "value", "trajectory") for c in causes(report))


def value_cells(report, sheet):
    """Cells a value cause (stale, different value, different trajectory) on a sheet counts."""
    kinds = ("stale", "value", "trajectory")
    return sum(c["cells"] for c in causes(report) if c["sheet"] == sheet and c["kind"] in kinds)


def test_a_stale_value_is_found_beside_excels_var_p(tmp_path):
    changed = repr(0.8602731067225086 * (1 + 1e-9))
    book = stale_copy(tmp_path, "mom_bias.xlsx", "Sheet1 (2)", "B6", changed)
    code, report = verify_json(book)
    assert code == 1
    _, original = verified("mom_bias.xlsx")
    assert value_cells(report, "Sheet1 (2)") > value_cells(original, "Sheet1 (2)"), report["verdict"]


@pytest.mark.parametrize("name, ref", [("xlcalculator-NPV.xlsx", "A2"), ("xlcalculator-XNPV.xlsx", "A4")])
def test_a_stale_value_is_found_beside_npv_and_xnpv(tmp_path, name, ref):
    """NPV and XNPV agree within their last bits' tolerance, and a cash flow changed by 1e-9 relative with
    the cached result left as it was is still a cause."""
    assert verified(name)[0] == 0
    src = WILD / name
    old = _constant(src, ref)
    code, report = verify_json(stale_copy(tmp_path, name, "Sheet1", ref, repr(old * (1 + 1e-9))))
    assert code == 1 and causes(report), report.get("verdict")


def _constant(path, ref):
    from xlgd.xlsx.package import Package
    from xlgd.xlsx.refs import split_ref

    row, col, _, _ = split_ref(ref)
    with Package.open(path) as package:
        return next(float(c.value) for c in package.cells("Sheet1") if (c.row, c.col) == (row, col))


def test_var_p_last_bits_are_not_stale():
    code, report = verified("mom_bias.xlsx")
    assert not [c for c in causes(report) if c["kind"] == "stale"], report["verdict"]
    assert code == 0


def test_mmult_last_bits_are_not_stale():
    code, report = verified("collab_filter.xlsx")
    assert not [c for c in causes(report) if c["kind"] == "stale"], report["verdict"]
    assert code == 0


def test_offset_cells_are_checked_not_only_counted():
    _, report = verified("collab_filter.xlsx")
    notes = report["notes"] + [n for s in report["sheets"] for n in s["notes"]]
    assert not [n for n in notes if "OFFSET" in n and "unchecked" in n]


def test_match_on_unsorted_data_is_excels():
    code, report = verified("entropy_example.xlsx")
    assert code == 0, report["verdict"]


@pytest.mark.slow
def test_strided_max_pool_gaps_are_not_missing_cells():
    _, report = verified("conv-example.xlsx")
    assert not [c for c in causes(report) if c["kind"] == "missing"]


def test_array_formula_sum_of_exp_agrees():
    _, report = verified("layers_example.xlsx")
    assert not [c for c in causes(report) if c["kind"] == "error"], report["verdict"]


def test_a_deliberate_one_cell_change_is_not_a_failure():
    _, report = verified("layers_example.xlsx")
    assert not [c for c in causes(report) if c["sheet"] == "fixed" and c["cell"].startswith("C36")]


def test_countif_criteria_are_excels():
    _, report = verified("efc-functions.xlsx")
    assert not [c for c in causes(report) if c["sheet"] == "countif"]


def test_a_text_result_in_a_column_of_references_agrees():
    _, report = verified("efc-arith.xlsx")
    assert not [c for c in causes(report) if c["sheet"] == "compare"]


def test_array_formula_member_cells_agree():
    code, report = verified("openpyxl-formulae.xlsx")
    assert code == 0, report["verdict"]

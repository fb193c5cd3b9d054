"""verify on books written as Excel writes them (tests/excel_books.py): formulas with Excel's cached values.

Each test is a phenomenon of real Excel-saved workbooks: what xlgd evaluates
is checked and its count is true, what it cannot evaluate is unchecked with
the reason, and a wrong value is still found.
"""

import json

from tests.excel_books import write
from tests.verify_helpers import verify


def _json(path):
    r = verify(path, "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def _causes(rep):
    return [f"{c['sheet']}!{c['cell']}" for s in rep["sheets"] for c in s["causes"]] + [c["cell"] for c in rep["causes"]]


OFFSETS = {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": ("OFFSET(A1,2,0)", 3.0), "B2": ("SUM(OFFSET(A1,0,0,2,1))", 3.0),
           "B3": ("INDEX(A1:A3,2)", 2.0), "B4": ("B1*2", 6.0), "B5": ("RAND()", 0.5)}


def test_offset_and_index_cells_are_checked_and_counted(tmp_path):
    rc, rep = _json(write(tmp_path / "o.xlsx", {"Sheet1": OFFSETS}))
    assert rc == 0 and rep["formula_cells"] == 5
    assert rep["checked"] == 4 and [u["where"] for u in rep["unchecked"]] == ["Sheet1!B5"]
    assert not any("OFFSET" in n for n in rep["notes"] + rep["warnings"])


def test_a_wrong_offset_value_is_found(tmp_path):
    cells = dict(OFFSETS, B1=("OFFSET(A1,2,0)", 4.0), B4=("B1*2", 8.0))
    rc, rep = _json(write(tmp_path / "o.xlsx", {"Sheet1": cells}))
    assert rc == 1 and _causes(rep) == ["Sheet1!B1"]

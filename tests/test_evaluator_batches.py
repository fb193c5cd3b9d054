"""Cells evaluated in batches keep their own formulas, and defined names of every kind are bound.

Books are typed with openpyxl the way a learner types them: a column of one
formula reading a text cell among runs of the same formula reading numbers,
names defined as other names, as formulas, as an intersection of ranges.
"""

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from tests.verify_helpers import verify
from xlgd.core.values import Text
from xlgd.evaluator import open_and_evaluate


def _save(wb, path):
    wb.save(path)
    return path


def test_batched_runs_keep_their_own_formula(tmp_path):
    """Runs `=$M$4`, `=$M$3`, `=$M$5` of one column are one numpy batch; the `=$M$3` cells read text and are
    evaluated one by one, each with its own run's formula, whatever order the runs were batched in."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["M3"], ws["M4"], ws["M5"] = '=""', 5, 7
    for r in range(1, 31):
        ws[f"A{r}"] = "=$M$4" if r <= 10 else "=$M$3" if r <= 20 else "=$M$5"
    ev = open_and_evaluate(_save(wb, tmp_path / "b.xlsx"), dialect="excel")
    got = [ev.value("s", r, 1) for r in range(1, 31)]
    assert got == [5.0] * 10 + [Text("")] * 10 + [7.0] * 10


def _named(tmp_path, names, formulas):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["A2"], ws["B1"], ws["B2"] = 2, 3, 4, 5
    for n, text in names.items():
        wb.defined_names[n] = DefinedName(n, attr_text=text)
    for i, f in enumerate(formulas):
        ws.cell(i + 1, 4, f)
    return _save(wb, tmp_path / "n.xlsx")


def test_names_defined_as_names_and_formulas_are_evaluated(tmp_path):
    p = _named(tmp_path, {"base": "s!$A$1", "alias": "base", "twice": "s!$A$1*2", "col": "s!$A$1:$A$2"},
               ["=alias+1", "=twice+1", "=SUM(col)", "=alias*twice"])
    ev = open_and_evaluate(p, dialect="excel")
    assert [ev.value("s", r, 4) for r in range(1, 5)] == [3.0, 5.0, 5.0, 8.0]


def test_names_xlgd_cannot_evaluate_leave_their_cells_unchecked(tmp_path):
    """A name defined through itself is unchecked with the reason, and the book is still verified (exit 0)."""
    p = _named(tmp_path, {"loop1": "loop2", "loop2": "loop1", "base": "s!$A$1", "cross": "s!$A$1:$B$1 s!$B$1:$B$2"},
               ["=loop1+1", "=base+1", "=cross+1"])
    ev = open_and_evaluate(p, dialect="excel")
    assert "loop1" in ev.unknown("s", 1, 4) and "cross" in ev.unknown("s", 3, 4) and ev.value("s", 2, 4) == 3.0
    r = verify(p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "unchecked" in r.stdout and "loop1" in r.stdout and "does not exist" not in r.stdout

"""No false all-clear: defined names that point wrong, and inf/NaN values.

Names are edited in workbook.xml the way a damaged or hand-edited file has
them: pointing at #REF! (its cell deleted), at another cell, at a sheet that
does not exist, at nothing at all, or defined twice. Each must be one cause
naming the name and where it points, while the cached values still look fine.
"""

import json
import math
import re

import numpy as np
import pytest

from tests import learner
from tests.verify_helpers import edit_zip, set_value, sheet_part, verify
from xlgd.check.report import agree, same_value
from xlgd.check.verify import verify_book


@pytest.fixture(scope="module")
def small(graddesc_book):
    return graddesc_book[0]


def _set_name(text, name, sheet_index, new):
    pat = re.compile(r'(<definedName name="%s" localSheetId="%d"[^>]*>)([^<]*)(</definedName>)' % (name, sheet_index))
    assert pat.search(text), text[:400]
    if new is None:
        return pat.sub("", text)
    return pat.sub(lambda m: m.group(1) + new + m.group(3), text)


def _momentum_index(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    return names.index("momentum")


@pytest.mark.parametrize("new,says", [
    ("momentum!#REF!", "points at #REF!"),
    ("momentum!$B$3", "points at momentum!$B$3; the layout keeps it in momentum!A3"),
    ("nosuch!$A$3", "on a sheet that does not exist"),
    (None, "is not defined"),
])
def test_lr_pointing_wrong_is_one_cause(small, tmp_path, new, says):
    i = _momentum_index(small)
    q = edit_zip(small, tmp_path / "n.xlsx", "xl/workbook.xml", lambda t: _set_name(t, "lr", i, new))
    r = verify(q)
    assert r.returncode == 1, r.stdout + r.stderr
    rep = verify_book(q)
    causes = [c for s in rep.sheets for c in s.causes] + rep.causes
    assert len(causes) == 1, rep.text()
    assert causes[0].kind == "name" and "the name lr" in causes[0].message and says in causes[0].message


def test_name_defined_twice_in_one_scope(small, tmp_path):
    i = _momentum_index(small)

    def twice(t):
        m = re.search(r'<definedName name="lr" localSheetId="%d"[^>]*>[^<]*</definedName>' % i, t)
        return t[:m.end()] + m.group(0) + t[m.end():]

    rep = verify_book(edit_zip(small, tmp_path / "twice.xlsx", "xl/workbook.xml", twice))
    causes = [c for s in rep.sheets for c in s.causes]
    assert len(causes) == 1 and "defined 2 times" in causes[0].message, rep.text()


def test_unknown_layout_name_must_hold_a_number(tmp_path):
    from openpyxl.workbook.defined_name import DefinedName

    wb, _ = learner.workbook()
    ws = wb[learner_sheet()]
    for r in range(learner.FIRST, learner.LAST + 1):
        ws[f"M{r}"] = f"=B{r}-rate*I{r}"
    dn = DefinedName("rate", attr_text=f"'{learner_sheet()}'!$F$1")
    wb.defined_names["rate"] = dn
    p = tmp_path / "ok.xlsx"
    wb.save(p)
    assert verify_book(p).ok
    wb.defined_names["rate"] = DefinedName("rate", attr_text=f"'{learner_sheet()}'!$E$1")  # the label 'lr'
    wb.save(tmp_path / "bad.xlsx")
    rep = verify_book(tmp_path / "bad.xlsx")
    causes = [c for s in rep.sheets for c in s.causes] + rep.causes
    assert [c.kind for c in causes] == ["name"] and "holds lr, not a number" in causes[0].message, rep.text()


def learner_sheet():
    return "two neurons"


def test_inf_and_nan_compare_as_values_of_their_own():
    assert not same_value(float("inf"), 15.0, 1e-9) and not same_value(15.0, float("inf"), 0.5)
    assert same_value(float("inf"), float("inf"), 0.0) and not same_value(float("inf"), float("-inf"), 1.0)
    assert same_value(math.nan, math.nan, 0.0) and not same_value(math.nan, 1.0, 1.0)
    got = agree([np.inf, -np.inf, np.nan, 15.0, np.inf], [np.inf, -np.inf, np.nan, np.inf, 15.0], 1e-6)
    assert got.tolist() == [True, True, True, False, False]


@pytest.mark.parametrize("cached", ["inf", "-inf", "nan"])
def test_a_cached_inf_or_nan_is_a_difference_whatever_the_tolerance(small, tmp_path, cached):
    from xlgd.layout import Layout
    from xlgd.recipe.template import Overrides, load_recipe

    spec = next(s for s in load_recipe("graddesc", Overrides(epochs=2)).sheets if s.name == "momentum")
    ref = Layout(spec).cell("m_b", 10)
    q = edit_zip(small, tmp_path / "inf.xlsx", sheet_part(small, "momentum"), lambda t: set_value(t, ref, cached))
    r = verify(q, "--rtol", "0.5", "--json")
    assert r.returncode == 1, r.stdout
    d = json.loads(r.stdout)
    mom = next(s for s in d["sheets"] if s["name"] == "momentum")
    assert mom["causes"] and mom["causes"][0]["cell"] == ref


@pytest.mark.graddesc
@pytest.mark.parametrize("name,new,says", [
    ("lr", "momentum!$E$2", "points at momentum!$E$2; the layout keeps it in momentum!D2"),
    ("lastconst", "momentum!#REF!", "points at #REF!"),
    ("const", None, "is not defined"),
])
def test_graddesc_2018_names_its_macros_use(reference_xlsm, tmp_path, name, new, says):
    """graddesc's formulas read no names, but its Run macro copies lastconst onto const and each sheet's
    rate is named lr: a name pointing elsewhere is one cause -- while its own leftover names at #REF!
    (gradtarget, ms_last on momentum) are not (the clean file verifies OK, test_verify_graddesc)."""
    i = _momentum_index(reference_xlsm)
    q = edit_zip(reference_xlsm, tmp_path / "n.xlsm", "xl/workbook.xml", lambda t: _set_name(t, name, i, new))
    rep = verify_book(q)
    causes = [c for s in rep.sheets for c in s.causes] + rep.causes
    assert not rep.ok and len(causes) == 1, rep.text()
    assert causes[0].sheet == "momentum" and f"the name {name}" in causes[0].message and says in causes[0].message
    assert rep.checked_ok == 1594  # a name is not a formula cell: the tally stays true

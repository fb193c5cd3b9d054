"""verify checks the gradient descent a sheet does: its derivatives against its own loss, its updates
against the recognised optimiser, and why its error explodes.

Sheets are typed as learners type them (tests/learner_descent.py, openpyxl; one LibreOffice re-save);
each mistake is one formula template changed on every step row, as a learner fills a column down.
"""

import itertools
import json

import pytest

from tests import learner, learner_descent as L
from tests.verify_helpers import soffice, verify
from xlgd.check.verify import verify_book

GRADDESC = "/work/shared/reference/graddesc-2018.xlsm"


def _check(tmp_path, name="b.xlsx", **kw):
    wb, letters = L.workbook(**kw)
    p = tmp_path / name
    wb.save(p)
    rep = verify_book(p)
    return rep, next(s for s in rep.sheets if s.name == "mine"), letters


SHAPES = list(itertools.product(["linear", "linear2", "relu2"], ["fd", "analytic"], ["^2", "*"], ["sgd", "momentum"]))


@pytest.mark.parametrize("model,derivative,square,optimizer", SHAPES)
def test_clean_sheet_checks_out(tmp_path, model, derivative, square, optimizer):
    rep, s, _ = _check(tmp_path, model=model, derivative=derivative, square=square, optimizer=optimizer, lr=1e-5)
    kind = "forward difference" if derivative == "fd" else "analytic"
    opt = "SGD" if optimizer == "sgd" else "momentum"
    n = len(L.PARAMS[model])
    assert rep.ok and not s.causes, rep.text()
    assert s.descent == (f"gradient descent ({opt}, {kind}, lr in B1) — {n} weights, derivatives and updates "
                         f"check out"), s.descent
    entry, = rep.gradient_descent
    assert entry["optimizer"] == opt and entry["derivative_kind"] == kind and entry["rows"] == [5, 33]
    assert [w["status"] for w in entry["weights"]] == ["ok"] * n


MISTAKES = [
    # (sheet shape, the edited column's template, the column the one cause names, words it says)
    (dict(model="linear2", derivative="fd"), {"de/db": "(({c}*(({a}+$D$1)*{x}+{b})+{d}-{y})^2-{err^2})/$D$1"},
     "de/db", "de/db (J) is the derivative with respect to a (C): its e(w+h) moves C by h, not D"),
    (dict(model="linear2", derivative="analytic", square="*"), {"de/da": "2*({pred}-{y})*{x}"},
     "de/da", "misses the chain rule's factor c (E)"),
    (dict(model="relu2", derivative="analytic"), {"de/db": "IF({a}*{x}+{b}>0,2*({pred}-{y}),0)"},
     "de/db", "misses the chain rule's factor c (E)"),
    (dict(model="linear", derivative="analytic"), {"de/db": "2*({y}-{pred})"},
     "de/db", "has the wrong sign"),
    (dict(model="linear2", derivative="fd"), {"new b": "{b}+$B$1*{de/db}"},
     "new b", "new b (N) adds the step to b"),
    (dict(model="linear", derivative="analytic"), {"new b": "{b}-$B$1*{de/da}"},
     "new b", "new b (J) updates b with de/da (G), the derivative with respect to a (C); b's is de/db (H)"),
    (dict(model="linear", derivative="fd", optimizer="momentum"), {"mb": "{mb@-1}*$D$1+$H$1*{de/db}"},
     "mb", "reads its decay rate from D1 (0.01), where the other momentum column(s) read it from F1"),
    (dict(model="linear2", derivative="analytic", optimizer="momentum"), {"mc": "{mc@-1}*$H$1+$H$1*{de/dc}"},
     "mc", "reads its decay rate from H1 (0.1)"),
]


@pytest.mark.parametrize("shape,edit,column,words", MISTAKES)
def test_each_mistake_is_one_cause_naming_its_column(tmp_path, shape, edit, column, words):
    rep, s, letters = _check(tmp_path, edit=edit, lr=1e-5, **shape)
    assert not rep.ok and len(s.causes) == 1, rep.text()
    c = s.causes[0]
    assert c.kind == "gradient" and c.cell == f"{letters[column]}5:{letters[column]}33", c
    assert words in c.message, c.message
    # every cell still equals its own formula: the mathematics is what fails
    assert s.failed == 0 and rep.verdict().startswith("FAILED: 1 root cause(s)")
    entry, = rep.gradient_descent
    assert [w["status"] for w in entry["weights"]].count("wrong") == 1


def test_json_entry_and_exit_code(tmp_path):
    wb, _ = L.workbook(edit={"de/db": "2*({y}-{pred})"}, model="linear", derivative="analytic", lr=1e-5)
    wb.save(tmp_path / "j.xlsx")
    r = verify(tmp_path / "j.xlsx", "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    d = json.loads(r.stdout)
    e, = d["gradient_descent"]
    assert e["sheet"] == "mine" and e["lr"] == {"cell": "B1", "value": 1e-5} and e["loss"]["column"] == "F"
    assert {w["name"]: (w["column"], w["update_column"], w["gradient_column"], w["status"]) for w in e["weights"]} \
        == {"a": ("C", "I", "G", "ok"), "b": ("D", "J", "H", "wrong")}
    assert set(e) >= {"sheet", "rows", "optimizer", "lr", "loss", "derivative_kind", "weights", "diagnosis"}


def test_sheet_without_gradient_descent_is_not_listed(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 20):
        ws[f"A{r}"], ws[f"B{r}"] = r, f"=A{r}*2"
    wb.save(tmp_path / "n.xlsx")
    rep = verify_book(tmp_path / "n.xlsx")
    assert rep.ok and rep.gradient_descent == [] and all(s.descent is None for s in rep.sheets)


@pytest.mark.slow
def test_graddesc_every_optimiser_sheet_recognised():
    rep = verify_book(GRADDESC)
    got = {e["sheet"]: e["optimizer"] for e in rep.gradient_descent}
    assert got == {"basic": "SGD", "momentum": "momentum", "rmsprop": "RMSProp",
                   "adam": "Adam without bias correction", "adam_ann": "Adam without bias correction"}, got
    assert rep.ok, rep.text()
    for e in rep.gradient_descent:
        assert [w["status"] for w in e["weights"]] == ["ok", "ok"], e


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(not soffice(), reason="LibreOffice not installed")
def test_libreoffice_saved_sheets(tmp_path):
    from xlgd.xlsx.libreoffice import recalc_xlsx

    wb, _ = L.workbook(model="relu2", derivative="fd", optimizer="momentum", lr=1e-5)
    wb.save(tmp_path / "c.xlsx")
    rep = verify_book(recalc_xlsx(tmp_path / "c.xlsx", tmp_path / "lo"))
    s = next(s for s in rep.sheets if s.name == "mine")
    assert rep.ok and "15 significant digits" in rep.values_source, rep.text()
    assert s.descent.endswith("derivatives and updates check out"), s.descent
    wb, _ = L.workbook(model="linear2", derivative="analytic", edit={"de/da": "2*({pred}-{y})*{x}"}, lr=1e-5)
    wb.save(tmp_path / "w.xlsx")
    rep = verify_book(recalc_xlsx(tmp_path / "w.xlsx", tmp_path / "lo2"))
    s = next(s for s in rep.sheets if s.name == "mine")
    assert len(s.causes) == 1 and "misses the chain rule's factor c (E)" in s.causes[0].message, rep.text()


def test_forum_learner_sheet_checks_out(tmp_path):
    wb, n = learner.workbook()
    wb.save(tmp_path / "f.xlsx")
    rep = verify_book(tmp_path / "f.xlsx")
    e, = rep.gradient_descent
    assert rep.ok and e["derivative_kind"] == "forward difference" and e["lr"]["cell"] == "F1", rep.text()

"""verify checks the gradient descent a sheet does: its derivatives against its own loss, its updates
against the recognised optimiser, and why its error explodes.

Sheets are typed as learners type them (tests/learner_descent.py, openpyxl; one LibreOffice re-save);
each mistake is one formula template changed on every step row, as a learner fills a column down.
"""

import itertools
import json

import pytest

from tests import learner
from tests import learner_descent as L
from tests.verify_helpers import soffice, verify
from xlgd.check.verify import verify_book


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
    assert s.descent == (f"gradient descent ({opt}, {kind}, lr in B1 (lr)) — {n} weights, derivatives and updates "
                         f"check out"), s.descent
    entry, = rep.gradient_descent
    assert entry["optimizer"] == opt and entry["derivative_kind"] == kind and entry["rows"] == [5, 33]
    assert [w["status"] for w in entry["weights"]] == ["ok"] * n


MISTAKES = [
    # (sheet shape, the edited column's template, the column the one cause names, words it says)
    (dict(model="linear2", derivative="fd"), {"de/db": "(({c}*(({a}+$D$1)*{x}+{b})+{d}-{y})^2-{err^2})/$D$1"},
     "de/db", "de/db (J) is the derivative with respect to a (C): its e(b+h) moves C by h, not D"),
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
    assert e["sheet"] == "mine" and e["loss"]["column"] == "F"
    assert e["lr"] == {"cell": "B1", "value": 1e-5, "label": "B1 (lr)"}
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
def test_graddesc_every_optimiser_sheet_recognised(reference_xlsm):
    rep = verify_book(reference_xlsm)
    got = {e["sheet"]: e["optimizer"] for e in rep.gradient_descent}
    assert got == {"basic": "SGD", "momentum": "momentum",
                   "rmsprop": "RMSProp (dividing by the row above's mean square)",
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


def _forum_sheet(tmp_path, lr=1e-4):
    """The forum's 2-neuron sheet: y = 2x+30 on graddesc's x, every weight 1, forward differences, h = 0.01."""
    wb, _ = learner.workbook(lr=lr)
    for letter in "BCDE":
        wb.active[f"{letter}{learner.FIRST}"] = 1.0
    wb.save(tmp_path / "forum.xlsx")
    return tmp_path / "forum.xlsx"


def test_exploding_forum_sheet_is_right_and_says_why(tmp_path):
    rep = verify_book(_forum_sheet(tmp_path))
    assert rep.ok, rep.text()
    d = rep.gradient_descent[0]["diagnosis"]
    step, lr_safe = d["diverges_at_step"], d["stable_lr_below"]
    assert 1 < step <= learner.N and d["lambda_lr"] > 2 and 0 < lr_safe < 1e-4, d
    s = rep.sheets[0]
    assert f"the sheet is right: at lr = 0.0001 this 4-weight model diverges from step {step} (lr·λ = " in s.descent
    assert f"it stays stable below lr ≈ {lr_safe:.2g}" in s.descent, s.descent
    # the same sheet at the lr it reports: nothing to explain
    rep = verify_book(_forum_sheet(tmp_path, lr=lr_safe))
    assert rep.ok and rep.gradient_descent[0]["diagnosis"] is None, rep.text()


@pytest.mark.slow
def test_stable_lr_trains_xlgd_two_neuron_and_three_times_it_explodes(tmp_path):
    import subprocess
    import sys

    import xlgd

    lr_safe = verify_book(_forum_sheet(tmp_path)).gradient_descent[0]["diagnosis"]["stable_lr_below"]
    exploded = {}
    for k, lr in enumerate((lr_safe, 3 * lr_safe)):
        out = tmp_path / f"two{k}.xlsx"
        r = subprocess.run([sys.executable, "-m", "xlgd", "generate", "two-neuron", "--set", f"lr={lr!r}",
                            "--epochs", "1", "-q", "-o", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        for sheet in ("linear2", "linear2_fd"):
            err = xlgd.read(out, sheet)["err"]
            exploded[(k, sheet)] = bool(err.isna().any() or (err > 1e10).any())
    assert exploded == {(0, "linear2"): False, (0, "linear2_fd"): False,
                        (1, "linear2"): True, (1, "linear2_fd"): True}, (lr_safe, exploded)


def test_dead_relu_unit_is_named(tmp_path):
    rep, s, _ = _check(tmp_path, model="relu2", derivative="fd", lr=1e-4)
    d = rep.gradient_descent[0]["diagnosis"]
    assert rep.ok and d["diverges_at_step"] is None and d["dead_units"], rep.text()
    u, = d["dead_units"]
    assert u["weights"] == ["a", "b"] and 1 < u["dead_from_step"] < 29
    assert f"the ReLU unit of a, b is dead from step {u['dead_from_step']}" in s.descent


def test_stable_sheet_has_no_diagnosis(tmp_path):
    rep, s, _ = _check(tmp_path, model="linear", derivative="fd", lr=1e-4)
    assert rep.ok and rep.gradient_descent[0]["diagnosis"] is None and "diverges" not in s.descent


def test_xlgd_layouts_get_the_same_entry(tmp_path):
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    p = tmp_path / "g.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=1)), p)
    rep = verify_book(p)
    got = {e["sheet"]: (e["optimizer"], e["derivative_kind"], e["lr"]["label"]) for e in rep.gradient_descent}
    assert got == {"basic": ("SGD", "analytic", "A3 (lr)"), "momentum": ("momentum", "analytic", "A3 (lr)"),
                   "rmsprop": ("RMSProp (dividing by the row above's mean square)", "analytic", "A3 (lr)"),
                   "adam": ("Adam without bias correction", "analytic", "A3 (lr)")}, got
    assert rep.ok and all(w["status"] == "ok" for e in rep.gradient_descent for w in e["weights"]), rep.text()


def test_xlgd_layout_resaved_by_openpyxl_is_checked_and_an_edited_update_is_not_claimed(tmp_path):
    """openpyxl drops the layout's cached values; x wraps every epoch (`=data!B5` again on epoch 2's first
    row), so x is data to the derivatives. A retyped update cell leaves that weight unchecked, never ok."""
    import openpyxl

    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    p = tmp_path / "g.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=2)), p)
    book = openpyxl.load_workbook(p)
    book.save(tmp_path / "resaved.xlsx")
    rep = verify_book(tmp_path / "resaved.xlsx")
    assert rep.ok and len(rep.gradient_descent) == 4, rep.text()
    assert all(w["status"] == "ok" for e in rep.gradient_descent for w in e["weights"]), rep.text()
    book["basic"]["Q17"] = "=F17-M17*lr"
    book.save(tmp_path / "mine.xlsx")
    rep = verify_book(tmp_path / "mine.xlsx")
    basic = next(e for e in rep.gradient_descent if e["sheet"] == "basic")
    assert [(w["name"], w["status"]) for w in basic["weights"]] == [("a", "ok"), ("b", "unchecked")], basic
    assert not rep.ok and "check out" not in next(s for s in rep.sheets if s.name == "basic").descent


def _per_epoch(tmp_path, **kw):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "mine"
    refs = L.build_per_epoch(wb.active, **kw)
    wb.save(tmp_path / "e.xlsx")
    rep = verify_book(tmp_path / "e.xlsx")
    return rep, rep.sheets[0], refs


@pytest.mark.parametrize("model,derivative,square,mean", [("linear", "analytic", "^2", False),
                                                          ("linear2", "fd", "*", False),
                                                          ("relu2", "analytic", "^2", True),
                                                          ("relu2", "fd", "^2", False)])
def test_one_update_per_epoch_checks_out(tmp_path, model, derivative, square, mean):
    rep, s, _ = _per_epoch(tmp_path, model=model, derivative=derivative, square=square, mean=mean,
                           weights=[1.0, 1.0, 1.5, 0.5][:len(L.PARAMS[model])])
    kind = "forward difference" if derivative == "fd" else "analytic"
    assert rep.ok and s.descent.startswith(f"gradient descent (SGD, one update per epoch, {kind}, lr in "), rep.text()
    assert s.descent.endswith("derivatives and updates check out"), s.descent
    e, = rep.gradient_descent
    assert e["update_every"] == "epoch" and [w["column"] for w in e["weights"]] == ["B1", "D1", "F1", "H1"][
        :len(L.PARAMS[model])]


PER_EPOCH_MISTAKES = [
    (dict(model="linear2", derivative="fd"), {"de/db": "(({c}*(({a}+$D$1)*{x}+{b})+{d}-{y})^2-{err^2})/$D$1"},
     "de/db", "de/db (F) is the derivative with respect to a (B1): its e(b+h) moves B1 by h, not D1"),
    (dict(model="linear2", derivative="analytic"), {"de/da": "2*({pred}-{y})*{x}"}, "de/da",
     "misses the chain rule's factor"),
    (dict(model="linear", derivative="analytic"), {"new b": "{b}+$F$1*SUM(F5:F33)"}, "new b", "a sign error"),
    (dict(model="linear", derivative="analytic"), {"new b": "{b}-$F$1*SUM(E5:E33)"}, "new b",
     "new b (D36) updates b with de/da (E), the derivative with respect to a (B1); b's is de/db (F)"),
]


@pytest.mark.parametrize("shape,edit,column,words", PER_EPOCH_MISTAKES)
def test_one_update_per_epoch_mistake_is_one_cause(tmp_path, shape, edit, column, words):
    rep, s, refs = _per_epoch(tmp_path, edit=edit, weights=[1.0, 1.0, 1.5, 0.5][:len(L.PARAMS[shape["model"]])],
                              **shape)
    assert not rep.ok and len(s.causes) == 1, rep.text()
    where = refs[column]
    assert s.causes[0].cell == (where if where[-1].isdigit() else f"{where}5:{where}33"), s.causes[0]
    assert words in s.causes[0].message, s.causes[0].message


def test_rows_without_numbers_are_unchecked_never_wrong(tmp_path):
    """y typed as =NA() on every row: no loss has a value, so no derivative can be proven or blamed."""
    wb, letters = L.workbook(model="linear", derivative="analytic", lr=1e-5)
    for r in range(5, 34):
        wb.active[f"{letters['y']}{r}"] = "=NA()"
    wb.save(tmp_path / "na.xlsx")
    rep = verify_book(tmp_path / "na.xlsx")
    s = rep.sheets[0]
    e, = rep.gradient_descent
    assert not s.causes and {w["status"] for w in e["weights"]} == {"unchecked"}, rep.text()
    assert "check out" not in s.descent and e["diagnosis"] is None


@pytest.mark.parametrize("optimizer,name", [("torch_momentum", "momentum (m = b*m + g)"), ("rmsprop", "RMSProp"),
                                            ("adam", "Adam without bias correction"),
                                            ("adam_bc", "Adam with bias correction")])
def test_optimiser_named_by_the_form_of_its_update(tmp_path, optimizer, name):
    rep, s, _ = _check(tmp_path, model="linear2", derivative="analytic", optimizer=optimizer, lr=1e-5)
    assert rep.ok and s.descent.startswith(f"gradient descent ({name}, analytic, lr in B1 (lr)) — 4 weights, "
                                           f"derivatives and updates check out"), s.descent


def test_update_dividing_by_another_weights_mean_square_is_one_cause(tmp_path):
    rep, s, letters = _check(tmp_path, model="linear", derivative="analytic", optimizer="rmsprop", lr=1e-3,
                             edit={"new b": "{b}-$B$1*{de/db}/(SQRT({va})+1E-8)"})
    assert len(s.causes) == 1 and s.causes[0].cell.startswith(letters["va"]), rep.text()
    assert "va (I) averages the square of de/da (G), not of de/db (H)" in s.causes[0].message


def test_derivative_no_update_uses_is_proven_too(tmp_path):
    """An `est de/db` beside the analytic derivatives the updates use (graddesc's basic has two)."""
    good = ("est de/db", "((({a}*{x}+{b}+$D$1)-{y})^2-{err^2})/$D$1")
    rep, s, _ = _check(tmp_path, model="linear", derivative="analytic", lr=1e-5, extra=[good])
    assert rep.ok and s.descent.endswith("check out"), rep.text()
    bad = ("est de/db", "(((({a}+$D$1)*{x}+{b})-{y})^2-{err^2})/$D$1")
    rep, s, letters = _check(tmp_path, "bad.xlsx", model="linear", derivative="analytic", lr=1e-5, extra=[bad])
    assert len(s.causes) == 1 and s.causes[0].cell == f"{letters['est de/db']}5:{letters['est de/db']}33"
    assert "est de/db (K) is the derivative with respect to a (C): its e(b+h) moves C by h, not D" in \
        s.causes[0].message, s.causes[0].message


def test_half_squared_error_and_its_derivative_check_out(tmp_path):
    edit = {"err^2": "({pred}-{y})^2/2", "de/da": "({pred}-{y})*{x}", "de/db": "{pred}-{y}"}
    rep, s, _ = _check(tmp_path, model="linear", derivative="analytic", lr=1e-5, edit=edit)
    assert rep.ok and s.descent.endswith("derivatives and updates check out"), rep.text()


def test_central_difference_is_unchecked_never_wrong(tmp_path):
    """(e(w+h) - e(w-h))/(2h): exact for these models, but no forward difference; not blamed."""
    edit = {f"de/d{p}": f"((({moved.format(s='+')})-{{y}})^2-(({moved.format(s='-')})-{{y}})^2)/(2*$D$1)"
            for p, moved in (("a", "({{a}}{s}$D$1)*{{x}}+{{b}}"), ("b", "{{a}}*{{x}}+({{b}}{s}$D$1)"))}
    rep, s, _ = _check(tmp_path, model="linear", derivative="fd", lr=1e-5, edit=edit)
    e, = rep.gradient_descent
    assert rep.ok and not s.causes and {w["status"] for w in e["weights"]} == {"unchecked"}, rep.text()


def test_a_balance_paid_down_row_by_row_is_not_gradient_descent(tmp_path):
    """new balance = balance - rate*payment, chained like weights: no loss, nothing differentiated."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "rate", 0.5
    ws["A3"], ws["B3"], ws["C3"] = "balance", "payment", "new balance"
    for r in range(4, 20):
        ws[f"A{r}"] = 1000 if r == 4 else f"=C{r - 1}"
        ws[f"B{r}"] = 10 * r
        ws[f"C{r}"] = f"=A{r}-$B$1*B{r}"
    wb.save(tmp_path / "loan.xlsx")
    rep = verify_book(tmp_path / "loan.xlsx")
    assert rep.ok and rep.gradient_descent == [] and rep.sheets[0].descent is None, rep.text()


def test_one_cell_of_a_state_column_reading_another_sheet_is_its_one_cause(tmp_path):
    """graddesc 2016's adam_ann!J5 typed into a learner's Adam sheet: one momentum cell reads de/db from
    another sheet. That cell is the cause; the weight whose update reads the column is unchecked, and no
    second cause is made of the column it breaks (`vb averages the square of de/db, not of mb`)."""
    wb, letters = L.workbook(model="linear", derivative="analytic", optimizer="adam", lr=1e-3)
    ws, intro = wb["mine"], wb.create_sheet("Intro")
    m, g = letters["mb"], letters["de/db"]
    for r in range(1, 40):
        intro[f"{g}{r}"] = 1.0
    ws[f"{m}6"] = ws[f"{m}6"].value.replace(f"{g}6", f"Intro!{g}6")
    wb.save(tmp_path / "adam.xlsx")
    rep = verify_book(tmp_path / "adam.xlsx")
    s = next(s for s in rep.sheets if s.name == "mine")
    assert [(c.kind, c.cell.split()[0]) for c in s.causes] == [("formula", f"{m}6")], rep.text()
    entry, = rep.gradient_descent
    status = {w["name"]: w["status"] for w in entry["weights"]}
    assert status == {"a": "ok", "b": "unchecked"}, entry

"""`xlgd diff` says what an edit did to each training sheet: mean err^2, the step it explodes at,
the final weights, before -> after -- for xlgd's sheets, Jeremy's graddesc and a learner's own table."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import openpyxl
import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe


def xdiff(*args, json_out=True):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["diff", *map(str, args), *(["--json"] if json_out else [])])
    return rc, (json.loads(out.getvalue()) if json_out else out.getvalue())


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    p = tmp_path_factory.mktemp("effects") / "graddesc.xlsx"
    results = build(load_recipe("graddesc"), p)
    return p, {s.sheet: s for s in results.summary(load_recipe("graddesc"))}


def own_formula(ref, text):
    def fn(root):
        f = E.cell(root, ref).find(E.S + "f")
        f.attrib.clear()
        f.text = text
    return E.xml_edit(fn)


def momentum_summary(tmp_path, lr):
    """xlgd's own summary of momentum at another lr: the engine's numbers, not the diff's."""
    recipe = load_recipe("graddesc", Overrides(sheet_knobs={("momentum", "lr"): lr}))
    results = build(recipe, tmp_path / "twin.xlsx")
    return next(s for s in results.summary(recipe) if s.sheet == "momentum")


def test_lr_raised_on_momentum_says_it_explodes(base, tmp_path):
    path, summaries = base
    mine = tmp_path / "lr.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["momentum"]["A3"] = 0.001
    wb.save(mine)  # openpyxl keeps no value: the diff recomputes them
    rc, rep = xdiff(mine, path)
    assert rc == 1
    (eff,) = rep["effects"]
    twin = momentum_summary(tmp_path, 0.001)
    was = summaries["momentum"]
    assert twin.first_explosion_step is not None and was.first_explosion_step is None
    assert eff["sheet"] == "momentum"
    assert eff["explodes_at"] == [None, twin.first_explosion_step]
    assert eff["final_mse"][0] == pytest.approx(was.final_mse, rel=1e-9)
    assert eff["final_mse"][1] == pytest.approx(twin.final_mse, rel=1e-6)
    assert set(eff["final_weights"]) == {"a", "b"}
    # Reading momentum again for its effect recomputes no cell twice in the note's count.
    n = sum(isinstance(c.value, str) and c.value.startswith("=") for ws in wb.worksheets
            if ws.title != "_xlgd" for row in ws.iter_rows() for c in row)
    assert [r["recomputed"] for r in rep["recomputed"]] == [n]
    rc, text = xdiff(mine, path, json_out=False)
    lines = text.splitlines()
    line = next(x for x in lines if x.startswith("momentum: explodes at step"))
    assert f"explodes at step {twin.first_explosion_step} (did not); final mean err^2 " in line
    assert lines.index(line) <= 5 and len(lines) <= 12


def test_unchanged_training_has_no_effect(base, tmp_path):
    path, _ = base
    mine = E.rewrite(path, tmp_path / "title.xlsx", {E.sheet_part(path, "momentum"): E.put_text("A1", "my copy")})
    rc, rep = xdiff(mine, path)
    assert rc == 1 and rep["effects"] == []


def _learner_sheet(path, lr, steps=12):
    """A learner's own SGD table for y = w*x + c, built with openpyxl: w and c carried from the
    row above's new w and new c, the lr in F1 -- formulas only, no cached values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "mine"
    ws["E1"], ws["F1"] = "lr", lr
    for col, h in zip("ABCDEFGHI", ["x", "y", "w", "c", "guess", "loss", "grad", "new w", "new c"]):
        ws[f"{col}3"] = h
    for i in range(steps):
        r = 4 + i
        ws[f"A{r}"], ws[f"B{r}"] = 1 + i % 4, 3 * (1 + i % 4) + 1
        ws[f"C{r}"] = "=0.5" if i == 0 else f"=H{r - 1}"
        ws[f"D{r}"] = "=0" if i == 0 else f"=I{r - 1}"
        ws[f"E{r}"] = f"=C{r}*A{r}+D{r}"
        ws[f"F{r}"] = f"=(E{r}-B{r})^2"
        ws[f"G{r}"] = f"=2*(E{r}-B{r})"
        ws[f"H{r}"] = f"=C{r}-$F$1*G{r}*A{r}"
        ws[f"I{r}"] = f"=D{r}-$F$1*G{r}"
    wb.save(path)
    return path


def _learner_truth(lr, steps=12):
    w, c, errs = 0.5, 0.0, []
    for i in range(steps):
        x = 1 + i % 4
        y = 3 * x + 1
        g = 2 * (w * x + c - y)
        errs.append((w * x + c - y) ** 2)
        w, c = w - lr * g * x, c - lr * g
    return sum(errs) / len(errs), {"w": w, "c": c}


def test_a_learners_own_table(tmp_path):
    ref = _learner_sheet(tmp_path / "slow.xlsx", 0.01)
    mine = _learner_sheet(tmp_path / "fast.xlsx", 0.05)
    rc, rep = xdiff(mine, ref)
    assert rc == 1
    (eff,) = rep["effects"]
    (mse0, w0), (mse1, w1) = _learner_truth(0.01), _learner_truth(0.05)
    assert eff["sheet"] == "mine" and eff["explodes_at"] == [None, None]
    assert eff["final_mse"] == pytest.approx([mse0, mse1], rel=1e-9)
    assert eff["final_weights"] == {k: pytest.approx([w0[k], w1[k]], rel=1e-9) for k in ("w", "c")}


@pytest.mark.graddesc
def test_jeremys_sheets_effects(reference_xlsm, tmp_path):
    # basic's learning rate (F1) raised tenfold: its own err^2 column gives the effect; the other
    # sheets are untouched.
    wb = openpyxl.load_workbook(reference_xlsm, keep_vba=True)
    wb["basic"]["F1"] = 0.001
    mine = tmp_path / "lr.xlsm"
    wb.save(mine)
    rc, rep = xdiff(mine, reference_xlsm)
    assert rc == 1
    (eff,) = rep["effects"]
    cached = openpyxl.load_workbook(reference_xlsm, data_only=True)["basic"]
    before = sum(cached[f"F{r}"].value for r in range(4, 33)) / 29
    assert eff["sheet"] == "basic" and eff["final_mse"][0] == pytest.approx(before, rel=1e-12)
    assert set(eff["final_weights"]) == {"intercept", "slope"}
    assert eff["final_weights"]["slope"][0] == pytest.approx(cached["M32"].value, rel=1e-12)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_learners_libreoffice_edit_reads_in_a_dozen_lines(base, tmp_path):
    from xlgd.xlsx import libreoffice

    if not libreoffice.soffice():
        pytest.skip("LibreOffice is not installed")
    path, _ = base
    edited = E.rewrite(path, tmp_path / "edit.xlsx", {E.sheet_part(path, "momentum"): E.chain(
        E.set_value("A3", 0.001), own_formula("G50", "E50*C50-F50"))})
    mine = libreoffice.recalc_xlsx(edited, tmp_path / "lo")
    rc, text = xdiff(mine, path, json_out=False)
    lines = text.splitlines()
    assert rc == 1 and len(lines) <= 12, text
    assert lines[3:5] == ["  momentum!A3: input lr changed: 0.0001 -> 0.001",
                          "  momentum!G50: formula changed: =E50*C50+F50 -> =E50*C50-F50  [+ -> -]"]
    assert any(x.startswith("momentum: explodes at step ") for x in lines[:6]), text
    assert "momentum: " in text and "values in" in text and "follow from these causes" in text


def _relu_alive(path, sheet):
    """Whether relu2's z column is positive on some step of the last epoch, from xlgd's cached values."""
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    head = {}
    for c in ws[5]:
        head.setdefault(c.value, c.column_letter)  # the step table's epoch column, not the summary's
    last = ws.max_row
    epoch = ws[f"{head['epoch']}{last}"].value
    return any(ws[f"{head['z=a*x+b']}{r}"].value > 0 for r in range(7, last + 1)
               if ws[f"{head['epoch']}{r}"].value == epoch)


def test_a_relu_that_comes_back(tmp_path):
    ref, slow = tmp_path / "two.xlsx", tmp_path / "slow.xlsx"
    build(load_recipe("two-neuron"), ref)
    build(load_recipe("two-neuron", Overrides(sheet_knobs={("relu2", "lr"): 1e-6})), slow)
    before, after = _relu_alive(ref, "relu2"), _relu_alive(slow, "relu2")
    assert (before, after) == (False, True)  # the engine's values: at lr 1e-6 the unit stays alive
    rc, rep = xdiff(slow, ref)
    eff = next(e for e in rep["effects"] if e["sheet"] == "relu2")
    assert eff["relu_alive"] == {"z=a*x+b": [before, after]}
    rc, text = xdiff(slow, ref, json_out=False)
    assert "the ReLU of z=a*x+b came back" in text
    rc, text = xdiff(ref, slow, json_out=False)
    assert "the ReLU of z=a*x+b died" in text

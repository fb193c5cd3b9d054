"""templates/lr-sweep.toml: one model at several learning rates, computed in one batch run."""

import numpy as np
import openpyxl
import pytest

from xlgd.core.engine import run
from xlgd.errors import XlgdError
from xlgd.pipeline import build
from xlgd.recipe import experiments
from xlgd.recipe.compute import compute
from xlgd.recipe.template import (
    Overrides,
    build_recipe,
    find_template,
    load_recipe,
    read_template,
)


@pytest.fixture(scope="module")
def sweep():
    recipe = load_recipe("lr-sweep", Overrides(epochs=5))
    results = compute(recipe)
    return recipe, results


def test_sweep_sheets_follow_the_grid(sweep):
    recipe, results = sweep
    (cfg, specs), = experiments.sweep_groups(recipe)
    lrs = [s.input_values()["lr"] for s in specs]
    assert lrs == sorted(lrs) and lrs[0] == 1e-5 and lrs[-1] == 1e-2
    assert np.allclose(np.diff(np.log10(lrs)), np.diff(np.log10(lrs)).mean(), atol=0.03), "a log grid"
    assert all(s.stability for s in specs)


def test_batch_run_equals_one_run_per_sheet(sweep):
    recipe, results = sweep
    for spec in recipe.sheets:
        alone = run(spec, recipe.data.x, recipe.data.y)
        got = results[spec.name]
        assert got.errors == alone.errors, spec.name
        for c in spec.columns:
            assert np.array_equal(got.steps[c.name], alone.steps[c.name], equal_nan=True), (spec.name, c.name)
        for c in spec.epoch_columns:
            assert np.array_equal(got.epochs[c.name], alone.epochs[c.name], equal_nan=True)


def test_first_exploding_step_never_gets_later_as_lr_grows(sweep):
    recipe, results = sweep
    (_, specs), = experiments.sweep_groups(recipe)
    steps = [results[s.name].first_explosion_step() for s in specs]
    n = recipe.sheets[0].n_steps
    as_num = [n if k is None else k for k in steps]  # never = after the last step
    assert all(b <= a for a, b in zip(as_num, as_num[1:])), steps
    assert steps[0] is None and steps[-1] is not None, "the grid spans stable and exploding"
    # The stability column passes its bound before each explosion.
    for s, k in zip(specs, steps):
        if k is not None:
            assert np.nanmax(results[s.name].steps["stab"][:k]) > 1, s.name


@pytest.mark.slow
def test_summary_sheet_matches_the_engine(sweep, tmp_path):
    recipe, results = sweep
    out = tmp_path / "sweep.xlsx"
    build(recipe, out)
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["summary"]
    (_, specs), = experiments.sweep_groups(recipe)
    top = experiments.HEAD_ROW + 1
    for j, s in enumerate(specs):
        row = [c.value for c in ws[top + j + 1]][:4]
        assert row[0] == s.name
        assert row[1] == s.input_values()["lr"]
        k = results[s.name].first_explosion_step()
        assert row[3] == (0 if k is None else k + 1)
        final = results[s.name].value("@mse", s.epochs - 1)
        assert row[2] == final
    # Every chart series of the summary is a link to cells.
    f = openpyxl.load_workbook(out)
    ch = f["summary"]._charts
    assert ch
    wbx = __import__("zipfile").ZipFile(out)
    xml = "".join(wbx.read(n).decode() for n in wbx.namelist() if n.startswith("xl/charts/chart"))
    assert "<c:numLit>" not in xml and "<c:strLit>" not in xml


def test_bad_sweeps_are_one_line_errors():
    tpl = read_template(find_template("lr-sweep"))
    for bad, msg in (({"lr": []}, "non-empty"), ({"lr": [0.1, -1]}, "positive"), ({"sheet": "nope"}, "no .*sheets.* named")):
        t = dict(tpl, extras=[dict(tpl["extras"][0], **bad)])
        with pytest.raises(XlgdError, match=msg):
            build_recipe(t)
    with pytest.raises(XlgdError, match="unknown extra sheet kind"):
        build_recipe(dict(tpl, extras=[{"kind": "nope"}]))

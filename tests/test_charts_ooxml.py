"""`charts fix` outputs pass Microsoft's Open XML validator (would Excel open them without a repair?).

The validator is the shelf tool `../shared/tools/ooxml-validate/ooxml_validate.sh` beside the
repository (or XLGD_OOXML_VALIDATE): the Open XML SDK's schema and semantic rules plus a lint of
what the SDK treats as plain strings (chart references, axis ids). It builds its own venv on first
use (~20 s) and then takes ~12 s a run, so all the files go through one run. Without the tool, or
when its set-up fails, the test is skipped with one line.
"""


import pytest

from tests.ooxml_helpers import validate
from tests.test_charts_helpers import build_book, cli_main, learner_sgd
from tests.test_charts_xaxis import unlink_all
from xlgd.charts.model import read_charts
from xlgd.xlsx.package import Package

pytestmark = [pytest.mark.ooxml, pytest.mark.slow]


def test_fixed_workbooks_pass_the_validator(tmp_path):
    fix = lambda src, dst: cli_main(["charts", "fix", str(src), "-o", str(dst)])  # noqa: E731
    # Every fault at once, a line chart over unsorted x turned into a scatter chart among them.
    faults = build_book(tmp_path / "faults.xlsm")
    fixed_faults = tmp_path / "faults-fixed.xlsm"
    assert fix(faults, fixed_faults) == 0
    with Package.open(fixed_faults) as b:
        assert "scatter" in {ch.title: ch.types[0] for ch in read_charts(b)}["pred over x"]
    # xlgd's own workbook with every category / x link removed, linked again.
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe
    gen = tmp_path / "gd.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=1)), gen)
    fixed_gen = tmp_path / "gd-fixed.xlsx"
    assert fix(unlink_all(gen, tmp_path / "gd-unlinked.xlsx"), fixed_gen) == 0
    # A learner's openpyxl workbook: openpyxl's own styles part draws a finding the fix must not add to.
    # Besides err² per step, a line chart of the prediction over the unsorted data x (a scatter after
    # the fix, points only: openpyxl's series already has a:ln and a marker symbol "none" to rewrite).
    learner = learner_sgd(tmp_path / "learner.xlsx", fit_chart=True)
    fixed_learner = tmp_path / "learner-fixed.xlsx"
    assert fix(learner, fixed_learner) == 0
    with Package.open(fixed_learner) as b:
        assert {ch.title: ch.types[0] for ch in read_charts(b)}["prediction over x"] == "scatter"

    got = validate([fixed_faults, fixed_gen, learner, fixed_learner])
    assert got[str(fixed_faults)] == [] and got[str(fixed_gen)] == [], got
    assert got[str(fixed_learner)] == got[str(learner)], got
    assert not any("/xl/charts/" in line or "chart" in line.lower() for line in got[str(fixed_learner)]), got

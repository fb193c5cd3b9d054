"""Which knobs a sheet has, answered by one function; a template's shared knobs reach only the sheets that have them,
and a workbook's record rebuilds the same sheets."""

import pytest

from xlgd.core.sheet import resolve_knobs
from xlgd.errors import XlgdError
from xlgd.recipe.record import record
from xlgd.recipe.template import build_recipe, rebuild


def test_defaults_and_given_values():
    sgd = resolve_knobs("linear", "sgd", "graddesc", {})
    momentum = resolve_knobs("linear", "momentum", "graddesc", {"beta1": 0.5})
    assert {"lr", "h", "a_init", "b_init", "chart_max"} <= set(sgd) and "beta1" not in sgd
    assert momentum["beta1"] == 0.5 and list(momentum)[-1] == "chart_max"
    assert "explode_at" in resolve_knobs("linear", "sgd", "graddesc", {}, stability=True)


@pytest.mark.parametrize("args,words", [
    (("linear", "sgd", "graddesc", {"beta1": 0.9}), ["'beta1' does not apply to linear/sgd", "lr"]),
    (("linear", "sgd", "keras", {}), ["unknown convention 'keras'"]),
    (("cubic", "sgd", "graddesc", {}), ["cubic"]),
    (("linear", "adamm", "graddesc", {}), ["unknown optimiser 'adamm'"]),
])
def test_one_error_names_what_is_wrong(args, words):
    with pytest.raises(XlgdError) as err:
        resolve_knobs(*args)
    assert "\n" not in str(err.value) and all(w in str(err.value) for w in words), str(err.value)


def _template():
    return {"name": "t", "epochs": 2, "data": {"source": "list", "x": [1.0, 2.0, 3.0]},
            "knobs": {"beta1": 0.8, "lr": 0.001},
            "sheets": [{"name": "plain", "optimizer": "sgd"},
                       {"name": "mom", "optimizer": "momentum", "knobs": {"lr": 0.002}}]}


def test_shared_knobs_reach_only_the_sheets_that_have_them():
    recipe = build_recipe(_template())
    plain, mom = (s.input_values() for s in recipe.sheets)
    assert "beta1" not in plain and plain["lr"] == 0.001
    assert mom["beta1"] == 0.8 and mom["lr"] == 0.002  # the sheet's own setting wins


def test_a_record_rebuilds_the_same_sheets():
    recipe = build_recipe(_template())
    again = rebuild(record(recipe))
    assert [s.input_values() for s in again.sheets] == [s.input_values() for s in recipe.sheets]
    assert [s.name for s in again.sheets] == ["plain", "mom"]


def test_a_reserved_or_repeated_sheet_name_is_refused():
    for names, words in ((["data"], "xlgd writes"), (["a", "A"], "two sheets are named")):
        tpl = _template()
        tpl["sheets"] = [{"name": n} for n in names]
        with pytest.raises(XlgdError, match=words):
            build_recipe(tpl)

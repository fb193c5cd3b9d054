"""The engine against Excel's own arithmetic: graddesc-2018.xlsm's cached values.

Excel saved every optimiser sheet with its cached values; give the engine
each sheet's inputs and saved start state and it must reproduce every
computed cell bit for bit.
"""

import openpyxl
import pytest

from xlgd.core.engine import run
from xlgd.core.sheet import build_sheet

pytestmark = pytest.mark.graddesc

# Jeremy Howard's columns -> ours; rows 4..32 are steps 0..28.
SHEETS = {
    "basic": ("sgd", "F1", dict(C="b", D="a", E="pred", F="err", G="eh_b", H="est_b", I="eh_a", J="est_a",
                                K="g_b", L="g_a", M="new_a", N="new_b"), {}, {}),
    "momentum": ("momentum", "D2", dict(C="b", D="a", E="pred", F="g_b", G="g_a", H="new_b", I="new_a",
                                        J="m_b", K="m_a", L="err"), {"J": "m_b", "K": "m_a"}, {"beta1": "J1"}),
    "rmsprop": ("rmsprop", "D2", dict(C="b", D="a", E="pred", F="g_b", G="g_a", H="new_b", I="new_a",
                                      J="v_b", K="v_a"), {"J": "v_b", "K": "v_a"}, {"beta2": "J1"}),
    "adam": ("adam", "D2", dict(C="b", D="a", E="pred", F="g_b", G="g_a", H="new_b", I="new_a", J="m_b",
                                K="m_a", L="v_b", M="v_a"), {"J": "m_b", "K": "m_a", "L": "v_b", "M": "v_a"},
             {"beta1": "J1", "beta2": "L1"}),
    "adam_ann": ("adam_ann", "D2", dict(C="b", D="a", E="pred", F="g_b", G="g_a", H="new_b", I="new_a",
                                        J="m_b", K="m_a", L="v_b", M="v_a"),
                 {"J": "m_b", "K": "m_a", "L": "v_b", "M": "v_a"}, {"beta1": "J1", "beta2": "L1"}),
}


@pytest.fixture(scope="module")
def book(reference_xlsm):
    return openpyxl.load_workbook(reference_xlsm, data_only=True)


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_engine_reproduces_excel_cached_values_bit_for_bit(book, sheet):
    opt, lr_cell, cols, state, betas = SHEETS[sheet]
    ws = book[sheet]
    x = [ws[f"A{r}"].value for r in range(4, 33)]
    y = [ws[f"B{r}"].value for r in range(4, 33)]
    knobs = {"lr": ws[lr_cell].value, **{k: ws[c].value for k, c in betas.items()}}
    spec = build_sheet("linear", opt, "graddesc", n_data=29, epochs=1, knobs=knobs)
    start = {"new_b": ws["C1"].value, "new_a": ws["C2"].value}
    start.update({name: ws[f"{c}3"].value for c, name in state.items()})
    res = run(spec, x, y, start=start)
    mismatches = []
    for letter, name in cols.items():
        for i, r in enumerate(range(4, 33)):
            excel_value = ws[f"{letter}{r}"].value
            assert isinstance(excel_value, float | int), f"{sheet}!{letter}{r} has no cached number"
            if res.value(name, i) != excel_value:
                mismatches.append(f"{letter}{r}: excel {excel_value!r} engine {res.value(name, i)!r}")
    assert not mismatches, f"{len(mismatches)} cells differ, first: {mismatches[:3]}"


def test_the_oracle_tells_conventions_apart(book):
    """RMSProp dividing by this row's mean square (torch's rule, eps 0) must
    NOT reproduce Jeremy's sheet, which divides by the previous row's: the
    comparison above can fail."""
    ws = book["rmsprop"]
    x = [ws[f"A{r}"].value for r in range(4, 33)]
    y = [ws[f"B{r}"].value for r in range(4, 33)]
    spec = build_sheet("linear", "rmsprop", "torch", n_data=29, epochs=1,
                       knobs={"lr": ws["D2"].value, "beta2": ws["J1"].value, "eps": 0.0})
    res = run(spec, x, y, start={"new_b": ws["C1"].value, "new_a": ws["C2"].value,
                                 "v_b": ws["J3"].value, "v_a": ws["K3"].value})
    same = sum(res.value("new_b", i) == ws[f"H{r}"].value for i, r in enumerate(range(4, 33)))
    assert same < 29

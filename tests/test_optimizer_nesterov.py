"""The "Adding an optimiser" example of docs/architecture.md, run as written: one function, stability on.

The optimiser declares no state start values and nothing for the stability
column, so it gets the defaults (m_init = 0, eta = lr, bound 1); the engine's
run is checked against a plain float64 loop written out in the same
association as the formulas (torch.optim.SGD cannot be the peer: its
nesterov=True requires zero dampening, and this EMA dampens by 1-beta1).
"""

import numpy as np
import pytest

from xlgd.core.engine import run
from xlgd.core.expr import Name
from xlgd.core.optimizers import OPTIMIZERS, average_grad, optimizer
from xlgd.core.sheet import build_sheet
from xlgd.recipe.data import GRADDESC_X


@pytest.fixture
def nesterov():
    # --- as in docs/architecture.md
    @optimizer("nesterov", "m = beta1*m + (1-beta1)*g;  w <- w - (g + beta1*m)*lr",
               graddesc={"lr": 1e-4, "beta1": 0.9}, torch={"lr": 1e-4, "beta1": 0.9})
    def nesterov(p, conv):
        m = average_grad(p)          # a stat: one state column per weight
        return p.w - (p.g + Name("beta1") * m) * p.lr   # the stepper: the "new w" column
    # ---
    yield OPTIMIZERS["nesterov"]
    del OPTIMIZERS["nesterov"]


def hand_loop(x, y, lr, beta1, epochs):
    a = b = 1.0
    ma = mb = 0.0
    rows = []
    for _ in range(epochs):
        for xi, yi in zip(x, y):
            pred = a * xi + b
            g_b = 2 * (pred - yi)
            g_a = g_b * xi
            mb = mb * beta1 + (1 - beta1) * g_b
            ma = ma * beta1 + (1 - beta1) * g_a
            new_a = a - (g_a + beta1 * ma) * lr
            new_b = b - (g_b + beta1 * mb) * lr
            rows.append((pred, ma, mb, new_a, new_b, lr * (xi * xi + 1)))
            a, b = new_a, new_b
    return np.array(rows)


def test_readme_nesterov_runs_with_stability_and_matches_a_hand_loop(nesterov):
    assert nesterov.start_values("graddesc") == {"m_init": 0.0}
    x = np.array(GRADDESC_X, dtype=np.float64)
    y = 2.0 * x + 30.0
    spec = build_sheet("linear", "nesterov", "graddesc", n_data=len(x), epochs=3, stability=True)
    assert {"stab", "err_chart", "boom"} <= {c.name for c in spec.columns}
    assert spec.input_values()["m_init"] == 0.0 and spec.input_values()["explode_at"] == 1e10
    res = run(spec, x, y)
    want = hand_loop(x, y, 1e-4, 0.9, 3)
    for k, col in enumerate(("pred", "m_a", "m_b", "new_a", "new_b")):
        np.testing.assert_array_equal(res.steps[col], want[:, k], err_msg=col)
    # stab = lr*|dpred/dw|^2 = lr*(x^2 + 1) for a line, with the default eta = lr
    np.testing.assert_allclose(res.steps["stab"], want[:, 5], rtol=1e-15)
    assert res.first_explosion_step() is None


def test_an_optimizer_without_stability_metadata_gets_sgd_bound(nesterov, tmp_path):
    import re
    import zipfile

    from xlgd.pipeline import build
    from xlgd.recipe.template import build_recipe

    recipe = build_recipe({"name": "n", "sheets": [{"name": "nest", "optimizer": "nesterov", "stability": True}]})
    build(recipe, tmp_path / "n.xlsx")
    with zipfile.ZipFile(tmp_path / "n.xlsx") as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")).decode()
    # rows past the stability bound turn orange: the bound is SGD's 1
    assert re.search(r"<formula>AND\(ISNUMBER\((\$[A-Z]+7)\),\1&gt;1\)</formula>", xml), xml[-2000:]

"""The chart columns' cost in the engine: computed after each epoch over arrays, against in the row path.

    python benchmarks/chart_columns.py                   # graddesc, 300 epochs, true_b = 30 and 3000
    python benchmarks/chart_columns.py --epochs 100 --true-b 3000

The chart columns (core/chart_columns.py: err^2 with #N/A gaps, prediction,
weights and derivative clipped to +-chart_max) are output-only: no other cell
reads them. The engine computes them after each epoch's rows, over the epoch's
arrays with masks (`program.Program.derived`); `derive=False` puts them back in
the per-row fast path, where each #N/A they hold (the clipping at
true_b = 3000: b passes chart_max on almost every row) sends the rest of the
epoch to the exact evaluator. For each data scale, in one run, it times
computing every sheet of the template both ways (best of --repeat, alternating)
and checks the two bit for bit: every cell's value bits and error code, the
epoch block too.
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def same(a, b):
    """Every cell of two engine Results: value bits (nan where an error) and error codes."""
    def eq(x, y):
        return np.array_equal(np.isnan(x), np.isnan(y)) and np.array_equal(
            np.where(np.isnan(x), 0, x).view(np.int64), np.where(np.isnan(y), 0, y).view(np.int64))

    return (all(eq(a.steps[c], b.steps[c]) and np.array_equal(a.codes[c], b.codes[c]) for c in a.steps)
            and all(eq(a.epochs[c], b.epochs[c]) and np.array_equal(a.epoch_codes[c], b.epoch_codes[c])
                    for c in a.epochs))


def compute_all(recipe, derive):
    from xlgd.core.engine import run

    return [run(s, recipe.data.x, recipe.data.y, derive=derive) for s in recipe.sheets]


def graddesc(true_b, epochs):
    """The graddesc template with its data at another scale (y = 2x + true_b)."""
    from xlgd.recipe.template import (
        Overrides,
        apply_overrides,
        build_recipe,
        find_template,
        read_template,
    )

    path = find_template("graddesc")
    tpl = read_template(path)
    tpl["data"]["true_b"] = true_b
    tpl.setdefault("name", path.stem)
    return build_recipe(apply_overrides(tpl, Overrides(epochs=epochs)), path.parent)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--true-b", type=float, nargs="+", default=[30.0, 3000.0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    from xlgd.core.chart_columns import SUFFIX

    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); template graddesc, {a.epochs} epochs")
    print(f"{'true_b':>7} {'step rows':>9} {'#N/A cells':>10} {'in the rows s':>13} {'after s':>7} {'faster':>6}  "
          "bit-identical")
    for tb in a.true_b:
        recipe = graddesc(tb, a.epochs)
        compute_all(recipe, True)  # compile once
        t_rows = t_after = float("inf")
        for _ in range(a.repeat):
            t = time.perf_counter()
            before = compute_all(recipe, False)
            t_rows = min(t_rows, time.perf_counter() - t)
            t = time.perf_counter()
            after = compute_all(recipe, True)
            t_after = min(t_after, time.perf_counter() - t)
        ok = all(same(x, y) for x, y in zip(before, after))
        na = sum(int((r.codes[c] != 0).sum()) for r in after for c in r.codes if c.endswith(SUFFIX))
        rows = sum(s.n_steps for s in recipe.sheets)
        print(f"{tb:>7g} {rows:>9,} {na:>10,} {t_rows:>13.2f} {t_after:>7.2f} {t_rows / t_after:>5.1f}x  "
              f"{'yes: every cell, code and epoch cell' if ok else 'NO'}", flush=True)
    print("in the rows: chart columns in the per-row fast path (derive=False); after: computed over "
          "each epoch's arrays after its rows (the default). Best of --repeat, engine only (no writing).")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()

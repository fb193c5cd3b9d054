"""An lr sweep across the explosion: one batched run against a loop of single runs, in one run.

    python benchmarks/sweep.py              # linear2 + sgd, 5 epochs, lr = logspace(-6, -2, 1000)
    python benchmarks/sweep.py --n 200

Times `xlgd.sweep(model="linear2", optimizer="sgd", lr=lrs, epochs=5)` (one
vectorised engine run) against a loop of `xlgd.run(..., lr=lr)` over the same
learning rates -- the issue's baseline -- and against a loop of the bare engine
(`core.engine.run`, no recipe or DataFrame per call: the harder baseline). About
half of the grid explodes, so most of the work is error cells. Then it checks
the batch bit for bit: every cell of every configuration (values as bits, error
codes) against both loops. Best of --repeat for the batch; the loops run once.
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def same_bits(a, b):
    nan = np.isnan(b)
    return np.array_equal(np.isnan(a), nan) and np.array_equal(a[~nan].view(np.int64), b[~nan].view(np.int64))


def check_frames(res, frames):
    """Configurations whose xlgd.run frame differs from the batch in a value or an error code."""
    from xlgd.core.masked import error_name

    bad = []
    for j, h in enumerate(frames):
        codes = {(c, int(i) + 1): error_name(int(res.codes[c][i, j])) for c in h.columns
                 for i in np.nonzero(res.codes[c][:, j])[0]}
        if codes != h.attrs["errors"] or not all(same_bits(res.steps[c][:, j], h[c].to_numpy()) for c in h.columns):
            bad.append(j)
    return bad


def check_engine(res, singles):
    """Configurations whose engine run differs from the batch anywhere (steps, epoch block, codes)."""
    bad = []
    for j, one in enumerate(singles):
        ok = all(same_bits(res.steps[c][:, j], one.steps[c]) and np.array_equal(res.codes[c][:, j], one.codes[c])
                 for c in one.steps)
        ok = ok and all(same_bits(res.epochs[c][:, j], one.epochs[c]) and
                        np.array_equal(res.epoch_codes[c][:, j], one.epoch_codes[c]) for c in one.epochs)
        if not ok:
            bad.append(j)
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import xlgd
    from xlgd.core.engine import run as run_engine

    lrs = np.logspace(-6, -2, a.n)
    kw = dict(model="linear2", optimizer="sgd", epochs=a.epochs)
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); linear2 + sgd, {a.epochs} epochs, "
          f"lr = logspace(-6, -2, {a.n})", flush=True)
    xlgd.sweep(lr=lrs[:4], **kw)  # imports, first compile
    best = None
    for _ in range(a.repeat):
        t = time.perf_counter()
        s = xlgd.sweep(lr=lrs, **kw)
        best = min(best or 1e9, time.perf_counter() - t)
    print(f"xlgd.sweep, one batch: {best:.3f} s (best of {a.repeat}); "
          f"{int(s['explosion_step'].notna().sum())} of {a.n} configurations explode", flush=True)

    t = time.perf_counter()
    frames = [xlgd.run(lr=float(lr), **kw) for lr in lrs]
    t_run = time.perf_counter() - t
    bad = check_frames(s.result, frames)
    print(f"loop of {a.n} xlgd.run: {t_run:.2f} s; the batch is {t_run / best:.1f}x faster; "
          f"{a.n - len(bad)} of {a.n} configurations bit-identical (every cell, every error code)"
          + (f"; differ: {bad[:10]}" if bad else ""), flush=True)
    del frames

    spec = s.result.spec
    from xlgd.api import recipe

    data = recipe(lr=float(lrs[0]), **kw).data
    t = time.perf_counter()
    singles = [run_engine(spec, data.x, data.y, inputs={"lr": lr}) for lr in lrs]
    t_eng = time.perf_counter() - t
    bad = check_engine(s.result, singles)
    print(f"loop of {a.n} engine runs (core.engine.run): {t_eng:.2f} s; the batch is {t_eng / best:.1f}x faster; "
          f"{a.n - len(bad)} of {a.n} configurations bit-identical (steps, epoch block, codes)"
          + (f"; differ: {bad[:10]}" if bad else ""), flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)


if __name__ == "__main__":
    main()

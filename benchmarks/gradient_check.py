"""What the gradient-descent check adds to `verify` of a big learner sheet, in one run.

    python benchmarks/gradient_check.py                 # 10,000 rows, 2-neuron, forward differences
    python benchmarks/gradient_check.py --rows 10000 --model relu2 --derivative analytic --repeat 3

The sheet is a learner's (tests/learner_descent.py) filled down to --rows step rows and saved by
openpyxl (no cached values: verify recalculates it with the workbook evaluator). verify_book runs
--repeat times with the check and as many without it (the check's hook replaced by one that finds
nothing), alternating; the best of each is compared. Wall-clock and CPU seconds are printed, and
the check's own time measured alone on the evaluated book.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--model", default="linear2", choices=("linear", "linear2", "relu2"))
    ap.add_argument("--derivative", default="fd", choices=("fd", "analytic"))
    ap.add_argument("--optimizer", default="sgd", choices=("sgd", "momentum"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    from tests import learner_descent
    from xlgd.check import verify as verify_module
    from xlgd.check.gradient_check import check_descent
    from xlgd.evaluator import open_and_evaluate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.xlsx"
        wb, _ = learner_descent.workbook(model=a.model, derivative=a.derivative, optimizer=a.optimizer,
                                         lr=1e-6, rows=a.rows)
        wb.save(path)
        real = verify_module.add_descent
        runs = {"with": [], "without": []}
        for _ in range(a.repeat):
            for kind in ("without", "with"):
                verify_module.add_descent = real if kind == "with" else (lambda *args: False)
                wall, cpu, rep = timed(lambda: verify_module.verify_book(path))
                runs[kind].append((wall, cpu))
                if kind == "with":
                    line = next(s.descent for s in rep.sheets if s.name == "mine")
        verify_module.add_descent = real
        ev = open_and_evaluate(path)
        ev.computed  # noqa: B018 (evaluated before the check is timed)
        alone = min(timed(lambda: check_descent(ev, "mine"))[:2] for _ in range(a.repeat))
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
    print(f"{a.rows:,} rows ({a.model}, {a.derivative}, {a.optimizer}); best of {a.repeat}")
    print(f"  verify without the check: {best['without'][0]:.2f} s wall, {best['without'][1]:.2f} s CPU")
    print(f"  verify with the check:    {best['with'][0]:.2f} s wall, {best['with'][1]:.2f} s CPU")
    print(f"  the check alone:          {alone[0]:.3f} s wall, {alone[1]:.3f} s CPU")
    print(f"  ratio with/without: {best['with'][0] / best['without'][0]:.3f} wall, "
          f"{best['with'][1] / best['without'][1]:.3f} CPU")
    print(f"  {line}")


if __name__ == "__main__":
    main()

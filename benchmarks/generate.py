"""Time xlgd writing an N-row Adam sheet against bare XlsxWriter writing the same cells.

In one run, for each N: the baseline is XlsxWriter in constant_memory mode
writing exactly the formula cells and cached values xlgd writes (formulas
and values precomputed, so only the writing is timed) with the public
write_formula; xlgd's time includes running the engine and rendering the
formulas. Each measurement runs in a fresh subprocess so its peak RSS is
its own.

    python benchmarks/generate.py            # N = 1,000, 10,000, 100,000
    python benchmarks/generate.py 1000 5000
"""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def recipe_for(n):
    from xlgd.recipe.template import build_recipe

    return build_recipe({"name": "bench", "epochs": 1,
                         "data": {"source": "random", "n": n, "seed": 1, "low": 1, "high": 100},
                         "sheets": [{"name": "adam", "model": "linear", "optimizer": "adam",
                                     "knobs": {"lr": 0.1, "beta1": 0.9, "beta2": 0.9, "v_init": 10000}}]})


def run_xlgd(n, out):
    from xlgd.pipeline import build

    t = time.perf_counter()
    build(recipe_for(n), out)
    return time.perf_counter() - t


def run_baseline(n, out):
    """Bare XlsxWriter: the same sheet's formula cells and values, nothing else."""
    import xlsxwriter

    from xlgd.book.cells import formula_cells
    from xlgd.core.engine import run
    from xlgd.book.layout import Layout

    recipe = recipe_for(n)
    spec = recipe.sheets[0]
    res = run(spec, recipe.data.x, recipe.data.y)
    cells = sorted(formula_cells(Layout(spec), res))  # constant_memory wants row order
    t = time.perf_counter()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    ws = wb.add_worksheet("adam")
    for r, c, f, v in cells:
        ws.write_formula(r, c, f, None, v)
    wb.close()
    return time.perf_counter() - t


def child(kind, n):
    import resource

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "b.xlsx")
        secs = run_xlgd(n, out) if kind == "xlgd" else run_baseline(n, out)
        size = os.path.getsize(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": secs, "peak_mb": peak, "bytes": size}))


def measure(kind, n):
    r = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(ns):
    print(f"{'rows':>8} {'xlgd s':>8} {'XlsxWriter s':>12} {'ratio':>6} {'xlgd MB':>8} {'baseline MB':>11}")
    for n in ns:
        a, b = measure("xlgd", n), measure("baseline", n)
        print(f"{n:>8,} {a['seconds']:>8.2f} {b['seconds']:>12.2f} {a['seconds'] / b['seconds']:>6.2f} "
              f"{a['peak_mb']:>8.0f} {b['peak_mb']:>11.0f}")
    print("ratio = xlgd (engine + formulas + workbook with data sheet and charts) / bare XlsxWriter "
          "(same sheet cells, precomputed); goal <= 1.3")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])

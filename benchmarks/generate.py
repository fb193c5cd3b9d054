"""Time `xlgd generate` against a raw sheet-XML writer of the same formula cells, in one run.

    python benchmarks/generate.py                    # graddesc, --epochs 350 (989,156 formula cells)
    python benchmarks/generate.py --epochs 350 2000 4000 --no-baseline

For each --epochs, in fresh subprocesses (so each peak RSS is its own):

* xlgd: `pipeline.build` of the graddesc template -- engine, formulas, values,
  styles, charts, the whole .xlsx -- timed from recipe to closed file;
* raw: the same formula cells with the same cached values (formulas and the
  values' repr precomputed, untimed) assembled as sheet XML `<c r=.. s=..><f>..
  </f><v>..</v></c>` row by row and deflated (level 1) into a zip: the limit
  for writing those cells without shared formulas. Only the sheet parts are
  written: no styles, no charts, no data sheet.

It prints both times and their ratio (wall-clock and CPU, the best of --repeat
runs of each, alternating: other jobs share the machine), the file's bytes per
step row (and the step sheets' share of them), and the peak RSS of each child.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def recipe_for(epochs):
    from xlgd.recipe.template import Overrides, load_recipe

    return load_recipe("graddesc", Overrides(epochs=epochs))


def run_xlgd(epochs, out):
    from xlgd.pipeline import build

    recipe = recipe_for(epochs)
    t, c = time.perf_counter(), time.process_time()
    build(recipe, out)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    with zipfile.ZipFile(out) as z:
        sheets = sum(i.compress_size for i in z.infolist() if i.filename.startswith("xl/worksheets/sheet"))
    return {"seconds": secs, "cpu": cpu, "rows": sum(s.n_steps for s in recipe.sheets), "sheet_bytes": sheets,
            "cells": sum(len(s.columns) * s.n_steps for s in recipe.sheets)}


def run_raw(epochs, out):
    """The recipe's formula cells and values as plain sheet XML: only the writing is timed."""
    from xlgd.layout import Layout, formula_cells
    from xlgd.recipe.compute import compute
    from xlgd.xlsx.refs import col_letter

    recipe = recipe_for(epochs)
    results = compute(recipe)
    sheets = []
    for spec in recipe.sheets:
        rows = {}
        for r, c, f, v in formula_cells(Layout(spec), results[spec.name]):
            rows.setdefault(r, []).append((c, f[1:], v if isinstance(v, str) else repr(v), isinstance(v, str)))
        sheets.append([(r, sorted(cells)) for r, cells in sorted(rows.items())])
    del results
    letters = [col_letter(i) for i in range(64)]
    ERR = {False: "", True: ' t="e"'}  # noqa: N806
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
            '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    t, cpu = time.perf_counter(), time.process_time()
    n = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for k, rows in enumerate(sheets):
            with z.open(f"xl/worksheets/sheet{k + 1}.xml", "w") as fh:
                fh.write(head.encode())
                for r, cells in rows:
                    R = r + 1
                    xml = "".join(f'<c r="{letters[c]}{R}" s="1"{ERR[err]}><f>{f}</f><v>{v}</v></c>'
                                  for c, f, v, err in cells)
                    fh.write(f'<row r="{R}">{xml}</row>'.encode())
                    n += len(cells)
                fh.write(b"</sheetData></worksheet>")
    return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "cells": n}


def child(kind, epochs):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "b.xlsx")
        info = run_xlgd(epochs, out) if kind == "xlgd" else run_raw(epochs, out)
        info["bytes"] = os.path.getsize(out)
    info["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(info))


def measure(kind, epochs):
    r = subprocess.run([sys.executable, __file__, "--child", kind, str(epochs)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, nargs="+", default=[350])
    ap.add_argument("--no-baseline", action="store_true", help="only xlgd (time, bytes, peak memory)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, alternating; the best time of each counts")
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); template graddesc (5 sheets)")
    print(f"{'epochs':>6} {'step rows':>9} {'cells':>9} {'xlgd s':>7} {'raw s':>6} {'ratio':>5} {'CPU ratio':>9} "
          f"{'bytes/row':>9} {'sheets':>7} {'xlgd MB':>7} {'raw MB':>6}")
    for e in a.epochs:
        runs = [(measure("xlgd", e), None if a.no_baseline else measure("raw", e)) for _ in range(a.repeat)]
        x = min((r[0] for r in runs), key=lambda m: m["seconds"])
        x["cpu"] = min(r[0]["cpu"] for r in runs)
        b = None
        if not a.no_baseline:
            b = min((r[1] for r in runs), key=lambda m: m["seconds"])
            b["cpu"] = min(r[1]["cpu"] for r in runs)
        raw_s, ratio, cpu_ratio, raw_mb = (
            f"{b['seconds']:.2f}", f"{x['seconds'] / b['seconds']:.2f}",
            f"{x['cpu'] / b['cpu']:.2f} ({x['cpu']:.1f}/{b['cpu']:.1f} s)", f"{b['peak_mb']:.0f}") if b else ("-",) * 4
        print(f"{e:>6} {x['rows']:>9,} {x['cells']:>9,} {x['seconds']:>7.2f} {raw_s:>6} {ratio:>5} {cpu_ratio:>9} "
              f"{x['bytes'] / x['rows']:>9.1f} {x['sheet_bytes'] / x['bytes']:>6.0%} {x['peak_mb']:>7.0f} {raw_mb:>6}",
              flush=True)
    print("ratio = xlgd (engine + formulas + values + the whole workbook) / raw sheet XML of the same formula "
          "cells and values (precomputed; only assembling and deflating timed), wall-clock and CPU time (each "
          "child's own: other jobs share the machine); goal <= 2. bytes/row: the file over the step rows; "
          "sheets: the step sheets' share of the file")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

"""The workbook evaluator vs LibreOffice recalculating the same file, side by side in one run.

    python benchmarks/evaluate.py                   # 100,000 rows, both sheets
    python benchmarks/evaluate.py --rows 10000 --only graddesc

Two 100,000-row step sheets, each evaluated from its constants:

* graddesc -- Jeremy Howard's adam sheet laid out as in graddesc.xlsm, rows
  extended: x and y typed on the sheet, weights and optimiser state chained
  row to row (13 columns, 1,100,002 formula cells in 15 runs), written with
  XlsxWriter;
* xlgd -- xlgd's own adam sheet (benchmarks/verify_adam.toml, `xlgd generate
  --epochs`, written fresh whenever the writer's code changes: `writer_stamp`):
  the data on another sheet read at a row that wraps every 29 steps, epochs
  unrolled, chart and per-epoch columns (2,710,951 formula cells in 20,729
  runs, 190 MB of sheet XML with shared formulas).

The evaluator side is `evaluator`: read the file, parse and compile
each run, evaluate every formula from the workbook's constants, `--repeat`
times (the median is compared). LibreOffice loads the file with a profile
that recalculates every formula on load and saves it (`--convert-to xlsx`,
the documented peer route). Both are warmed once first, untimed (`warm`).
Each side runs in its own subprocess; wall-clock and CPU time (user + sys of
the subprocess and its children: the evaluator's inflating thread and
LibreOffice's threads count) and peak memory (ru_maxrss) are printed, with
the ratios of both.

The aim is 10x LibreOffice's time; the measurements are in benchmarks/RESULTS.md.
"""

import argparse
import hashlib
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EVALUATE = """
import json, resource, sys, time
from xlgd.evaluator import Evaluation, read_book
from xlgd.xlsx.package import Package
t0 = time.perf_counter()
with Package.open(sys.argv[1]) as pkg:
    book = read_book(pkg)
t1 = time.perf_counter()
ev = Evaluation(book, "excel")
out = ev.computed
t2 = time.perf_counter()
cells = sum(run.n for run in book.runs)
print(json.dumps({"read": t1 - t0, "evaluate": t2 - t1, "cells": cells, "runs": len(book.runs),
                  "unknown": len(out.unknown), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def timed(cmd, timeout=None, env=None):
    """(wall seconds, CPU seconds of the child and its children, completed process) or Nones on timeout."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return None, None, None
    wall = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime), r


def graddesc_sheet(rows, path):
    """Jeremy's adam layout (graddesc.xlsm), `rows` steps; cached values 0 (the evaluator computes them)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("adam")
    ws.write_row(0, 0, ["", "intercept", 1, "learn"])  # constant_memory: rows top to bottom
    ws.write(0, 8, "beta")
    ws.write_row(0, 9, [0.9])
    ws.write_formula(0, 10, "=1-J1", None, 0.1)
    ws.write(0, 11, 0.9)
    ws.write_formula(0, 12, "=1-L1", None, 0.1)
    ws.write(1, 2, 1)
    ws.write(1, 3, 0.1)
    ws.write_row(2, 0, ["x", "y", "b", "a", "pred", "de/db", "de/da", "new b", "new a", 0, 0, 10000, 10000])
    rng = random.Random(1)
    for i in range(rows):
        r = i + 4
        x = rng.randint(1, 100)
        ws.write(r - 1, 0, x)
        ws.write(r - 1, 1, 2 * x + 30)
        f = {"C": f"=H{r - 1}" if i else "=C1", "D": f"=I{r - 1}" if i else "=C2", "E": f"=C{r}+D{r}*A{r}",
             "F": f"=2*(D{r}*A{r}+C{r}-B{r})", "G": f"=F{r}*A{r}", "H": f"=C{r}-J{r}*$D$2/SQRT(L{r})",
             "I": f"=D{r}-K{r}*$D$2/SQRT(M{r})", "J": f"=J{r - 1}*$J$1+$K$1*F{r}",
             "K": f"=K{r - 1}*$J$1+$K$1*G{r}", "L": f"=L{r - 1}*$L$1+$M$1*F{r}^2", "M": f"=M{r - 1}*$L$1+$M$1*G{r}^2"}
        for col, text in f.items():
            ws.write_formula(r - 1, ord(col) - 65, text, None, 0)
    wb.close()


def xlgd_sheet(rows, path):
    epochs = math.ceil(rows / 29)
    subprocess.run([sys.executable, "-m", "xlgd", "generate", "benchmarks/verify_adam.toml", "--epochs",
                    str(epochs), "-o", str(path), "-q"], check=True, cwd=ROOT)


def writer_stamp() -> str:
    """A digest of the code that writes xlgd's workbooks: a kept book from another writer (one without
    shared formulas, say) is not the file `xlgd generate` writes."""
    h = hashlib.sha1()
    for f in sorted([*(ROOT / "xlgd" / "book").glob("*.py"), *(ROOT / "xlgd" / "xlsx").glob("*.py"),
                     ROOT / "benchmarks" / "verify_adam.toml"]):
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def warm(tmp, prof):
    """Both sides warmed once, untimed: Python's bytecode cached (this machine sets PYTHONDONTWRITEBYTECODE,
    and compiling xlgd's modules from source at every start cost ~75 ms, which an installed package never
    pays: pip compiles them), LibreOffice's profile filled in by a first start on a one-cell book."""
    import xlsxwriter

    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", "import xlgd.evaluator, xlgd.xlsx.package"], env=env, check=True,
                   cwd=ROOT)
    tiny = tmp / "warm.xlsx"
    wb = xlsxwriter.Workbook(str(tiny))
    wb.add_worksheet().write_formula(0, 0, "=1+1", None, 2)
    wb.close()
    from xlgd.xlsx.libreoffice import soffice

    subprocess.run(lo_command(soffice() or "soffice", prof, tmp / "lo_warm", tiny), capture_output=True, timeout=300)
    return env


def lo_command(exe, prof, outdir, book):
    return [exe, f"-env:UserInstallation=file://{prof}", "--headless", "--calc", "--convert-to", "xlsx",
            "--outdir", str(outdir), str(book)]


def run_one(kind, a, tmp, env, prof):
    rows = a.rows
    book = tmp / (f"graddesc_{rows}.xlsx" if kind == "graddesc" else f"xlgd_{rows}_{writer_stamp()}.xlsx")
    if not book.exists():
        (graddesc_sheet if kind == "graddesc" else xlgd_sheet)(rows, book)
    runs = []
    for _ in range(a.repeat):
        tv, cv, r = timed([sys.executable, "-c", EVALUATE, str(book)], env=env)
        if r.returncode != 0:
            print(f"{kind} {rows} rows: evaluator failed: {r.stderr[-400:]}")
            return
        info = json.loads(r.stdout.strip().splitlines()[-1])
        runs.append((tv, cv))
        print(f"{kind} {rows:,} rows: evaluator {tv:.2f} s wall ({cv:.2f} s CPU): read {info['read']:.2f} s, "
              f"evaluate {info['evaluate']:.2f} s; {info['cells']:,} formula cells in {info['runs']:,} runs; "
              f"peak {info['rss_mb']:.0f} MB", flush=True)
    tv, cv = statistics.median(t for t, _ in runs), statistics.median(c for _, c in runs)
    from xlgd.xlsx.libreoffice import soffice

    tl, cl, r2 = timed(lo_command(soffice() or "soffice", prof, tmp / f"lo_{kind}_{rows}", book), a.lo_timeout)
    if tl is None:
        print(f"{kind} {rows:,} rows: LibreOffice > {a.lo_timeout:.0f} s (timed out)")
        return
    print(f"{kind} {rows:,} rows: LibreOffice load+recalc+save {tl:.1f} s wall ({cl:.1f} s CPU); the evaluator "
          f"(median of {len(runs)}: {tv:.2f} s wall, {cv:.2f} s CPU) is {tl / tv:.1f}x faster in wall time, "
          f"{cl / cv:.1f}x in CPU time", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--only", choices=("graddesc", "xlgd"))
    ap.add_argument("--repeat", type=int, default=3, help="evaluator runs per book (the median is compared)")
    ap.add_argument("--lo-timeout", type=float, default=900)
    ap.add_argument("--keep", help="directory for the workbooks (reused if present)")
    a = ap.parse_args()
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="xlgd-eval-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from xlgd.xlsx.libreoffice import make_profile

    prof = make_profile(tmp / "prof")
    env = warm(tmp, prof)
    for kind in ("graddesc", "xlgd"):
        if a.only in (None, kind):
            run_one(kind, a, tmp, env, prof)


if __name__ == "__main__":
    main()

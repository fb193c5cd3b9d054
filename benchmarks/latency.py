"""`xlgd verify` of course-sized workbooks against openpyxl just loading them, in one run.

    python benchmarks/latency.py              # best of 5
    python benchmarks/latency.py -n 9 --breakdown

What a learner meets: each side is a fresh interpreter (start-up, imports, work), timed alternately
in the same run, best of N for wall-clock and for CPU seconds (user + sys of the child), and the ratios of
the medians (one lucky run of either side moves a best-of-N ratio on a shared machine):

  verify    python -m xlgd verify BOOK
  openpyxl  python -c "import openpyxl; openpyxl.load_workbook(BOOK)"

The books: Jeremy's graddesc-2018.xlsm (env XLGD_GRADDESC, else ../shared/reference/ beside the repository),
skipped with one line when absent; `xlgd generate`'s default book and its two-neuron book; a learner's
two-neuron sheet saved by openpyxl (formulas, no cached values) and, when LibreOffice is installed, the same
sheet re-saved by LibreOffice; two fast.ai course workbooks Excel saved (`tests/data/wild`). Both sides run
with compiled bytecode, as an installed package has it: the children write and read their .pyc files in a
private PYTHONPYCACHEPREFIX (warmed once per side), whatever PYTHONDONTWRITEBYTECODE says; --no-bytecode
measures without it.

--breakdown adds, per book, where verify's time goes: the imports (`python -X importtime`: all of them,
numpy's, lxml's, xlgd's own modules, the rest: the interpreter's site, argparse, json ...) and, in CPU
seconds, the phases of `verify_book` (recognising the sheets, layout checks with the reading they do, the
workbook evaluator's reading and checks, the gradient-descent check, names, the report).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADDESC = Path(os.environ.get("XLGD_GRADDESC") or ROOT.parent / "shared" / "reference" / "graddesc-2018.xlsm")
TARGET = 1.5  # verify may take this many times openpyxl's load


def child_env(pycache: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def timed(cmd, env) -> tuple:
    """(wall s, CPU s, completed process) of one child."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime), r


def commands(book: Path) -> dict:
    return {"verify": [sys.executable, "-m", "xlgd", "verify", str(book)],
            "openpyxl": [sys.executable, "-c", f"import openpyxl; openpyxl.load_workbook({str(book)!r})"]}


COURSE_BOOKS = ("conv-example.xlsx", "collab_filter.xlsx")  # fast.ai course workbooks Excel saved (tests/data/wild)


def books(tmp: Path, libreoffice: bool) -> list:
    """(label, path) of the course-sized books; absent ones said in one line and left out."""
    out = []
    if GRADDESC.exists():
        out.append(("graddesc-2018.xlsm", GRADDESC))
    else:
        print(f"graddesc-2018: skipped ({GRADDESC} absent; set XLGD_GRADDESC)")
    for label, template in (("generate (graddesc)", []), ("generate two-neuron", ["two-neuron"])):
        path = tmp / f"{template[0] if template else 'graddesc'}.xlsx"
        subprocess.run([sys.executable, "-m", "xlgd", "generate", *template, "-o", str(path), "-q", "--force"],
                       check=True, env=child_env(None), cwd=ROOT)
        out.append((label, path))
    sys.path.insert(0, str(ROOT))
    from tests import learner

    wb, _ = learner.workbook()
    path = tmp / "learner.xlsx"
    wb.save(path)
    out.append(("learner (openpyxl)", path))
    if libreoffice:
        out += _libreoffice_copy(path, tmp)
    for name in COURSE_BOOKS:
        out.append((name, ROOT / "tests" / "data" / "wild" / name))
    return out


def _libreoffice_copy(path: Path, tmp: Path) -> list:
    from xlgd.errors import XlgdError
    from xlgd.xlsx.libreoffice import recalc_xlsx, soffice

    if not soffice():
        print("learner (LibreOffice): skipped (soffice not installed)")
        return []
    try:
        return [("learner (LibreOffice)", recalc_xlsx(path, tmp / "lo"))]
    except XlgdError as e:
        print(f"learner (LibreOffice): skipped ({e})")
        return []


def measure(items, n, env) -> dict:
    """{label: {side: [(wall, CPU) of each run]}}, the sides alternating, each warmed once."""
    runs = {}
    for label, path in items:
        for cmd in commands(path).values():
            timed(cmd, env)  # compiles the bytecode, fills the page cache
        runs[label] = {side: [] for side in commands(path)}
    for _ in range(n):
        for label, path in items:
            for side, cmd in commands(path).items():
                wall, cpu, r = timed(cmd, env)
                if side == "verify" and r.returncode not in (0, 1):
                    raise SystemExit(f"{label}: verify exit {r.returncode}: {r.stderr.strip()}")
                runs[label][side].append((wall, cpu))
    return runs


def table(runs) -> bool:
    """Print best-of-N seconds and ratios (and the ratio of the medians); whether every best-of-N ratio is
    within TARGET."""
    print(f"\n{'book':24} {'verify s':>9} {'openpyxl s':>11} {'ratio':>6}   {'verify CPU':>10} "
          f"{'openpyxl CPU':>12} {'ratio':>6}   {'median ratios':>13}")
    ok = True
    for label, sides in runs.items():
        (vw, vc), (ow, oc) = (tuple(min(x) for x in zip(*sides[side])) for side in ("verify", "openpyxl"))
        (mvw, mvc), (mow, moc) = (tuple(statistics.median(x) for x in zip(*sides[side]))
                                  for side in ("verify", "openpyxl"))
        ok &= vw / ow <= TARGET and vc / oc <= TARGET
        print(f"{label:24} {vw:9.3f} {ow:11.3f} {vw / ow:5.2f}x   {vc:10.3f} {oc:12.3f} {vc / oc:5.2f}x   "
              f"{mvw / mow:5.2f}x {mvc / moc:5.2f}x")
    print(f"every best-of-N ratio <= {TARGET}x: {'yes' if ok else 'NO'}")
    return ok


_PHASES = r"""
import gc, sys, time
gc.disable()  # as `xlgd verify` runs
t0 = time.process_time()
import xlgd.check.verify as v
import xlgd.check.report as report_module
spent = {"import xlgd.check.verify": time.process_time() - t0}

def timer(owner, attr, label):
    inner = getattr(owner, attr)
    def timed(*a, **k):
        t = time.process_time()
        try:
            return inner(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - t
    setattr(owner, attr, timed)

timer(v, "_targets", "recognising the sheets (first reading)")
timer(v, "_check_known", "layout checks (with their reading)")
timer(v, "_evaluation", "evaluator: reading the book")
timer(v, "_check_rest", "evaluator checks")
timer(v, "add_descent", "gradient-descent check")
timer(v, "_names", "defined names")
timer(report_module.Report, "text", "report text")
t = time.process_time()
v.verify_book(sys.argv[1]).text()
total = time.process_time() - t
spent["evaluator checks"] -= spent.get("gradient-descent check", 0.0)
spent["other"] = total - sum(s for k, s in spent.items() if k != "import xlgd.check.verify")
print(repr(spent))
"""


def breakdown(label, path, env, runs=3):
    """Where one verify's time goes (best of `runs`): imports, then the phases of verify_book in CPU seconds."""
    imports, phases = {}, {}
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "xlgd", "verify", str(path)],
                           check=False, capture_output=True, text=True, env=env, cwd=ROOT)
        for k, s in _imports(r.stderr).items():
            imports[k] = min(imports.get(k, s), s)
        r = subprocess.run([sys.executable, "-c", _PHASES, str(path)], check=False, capture_output=True, text=True,
                           env=env, cwd=ROOT)
        if r.returncode != 0:
            print(f"{label}: phases failed: {r.stderr.strip()[-300:]}")
            return
        for k, s in eval(r.stdout.strip().splitlines()[-1]).items():  # our own child's repr of a dict of floats
            phases[k] = min(phases.get(k, s), s)
    print(f"{label}:\n  imports (-X importtime, wall, best of {runs}): " + ", ".join(f"{k} {s:.3f} s"
                                                                                  for k, s in imports.items()))
    lines = "".join(f"    {k:40} {s:.3f} s\n" for k, s in phases.items())
    print(f"  in-process (CPU, best of {runs}):\n" + lines, end="")


def _imports(stderr) -> dict:
    """Seconds of the imports of one run: all, numpy's, lxml's, xlgd's own modules (their own time), the rest."""
    total = numpy = lxml = own = 0
    for line in stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].startswith("import time:") or not parts[1].strip().isdigit():
            continue
        own_us, cumulative, name = int(parts[0].split()[-1]), int(parts[1]), parts[2].rstrip()
        depth, name = len(name) - len(name.lstrip()), name.strip()
        total += cumulative if depth == 1 else 0
        numpy += cumulative if name == "numpy" else 0
        lxml += cumulative if name == "lxml.etree" else 0
        own += own_us if name.split(".")[0] == "xlgd" else 0
    us = {"all": total, "numpy": numpy, "lxml": lxml, "xlgd's modules": own,
          "the rest": total - numpy - lxml - own}
    return {k: v / 1e6 for k, v in us.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=5, help="runs per side per book (best of N; default 5)")
    ap.add_argument("--breakdown", action="store_true", help="where verify's time goes, per book")
    ap.add_argument("--no-libreoffice", action="store_true", help="leave out the LibreOffice-saved learner sheet")
    ap.add_argument("--only", metavar="TEXT", help="only the books whose label contains TEXT")
    ap.add_argument("--no-bytecode", action="store_true", help="children compile every module (no .pyc)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="xlgd-latency-") as tmp:
        tmp = Path(tmp)
        env = child_env(None if a.no_bytecode else str(tmp / "pycache"))
        items = [(label, path) for label, path in books(tmp, not a.no_libreoffice) if (a.only or "") in label]
        print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, nproc {os.cpu_count()}, "
              f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, best of {a.n}, "
              f"bytecode {'off' if a.no_bytecode else 'cached'}")
        ok = table(measure(items, a.n, env))
        if a.breakdown:
            print()
            for label, path in items:
                breakdown(label, path, env)
        shutil.rmtree(tmp / "pycache", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`xlgd verify --json` over every workbook with formulas under a folder: one line per book, then totals.

    PYTHONPATH=$PWD python3 benchmarks/wild.py CORPUS
    PYTHONPATH=$PWD python3 benchmarks/wild.py CORPUS --save /tmp/wild.json --jobs 2

Each book runs in its own subprocess (`python -m xlgd verify --json`), so an internal error (exit 3)
or a hang is that book's line, not the end of the run. A line says: file, the application that saved
it (docProps/app.xml), formula cells, cells checked, the verdict (OK / FAILED / UNCHECKED / exit 2 / exit 3 /
timeout), seconds, and the first cause (or the verdict, or the error line). Books without a formula are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = (".xlsx", ".xlsm")


def producer(path: Path) -> str:
    """'Microsoft Excel 16.0300', 'Microsoft Macintosh Excel 14.0300', 'LibreOffice/6.4.5.2...', or '?'."""
    try:
        with zipfile.ZipFile(path) as z:
            text = z.read("docProps/app.xml").decode(errors="replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return "?"
    app = re.search(r"<Application>([^<]*)</Application>", text)
    version = re.search(r"<AppVersion>([^<]*)</AppVersion>", text)
    name = app.group(1).split("$")[0] if app else "?"
    return f"{name} {version.group(1)}" if version else name


CELL_FORMULA = re.compile(rb"<(?:\w+:)?c\b[^>]*>\s*<(?:\w+:)?f[ >/]")


def has_formulas(path: Path) -> bool:
    """True when a worksheet part holds a cell whose first child is <f> (a formula or a shared/array formula
    mark); the <xm:f> of a conditional format's extension is no cell formula."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(CELL_FORMULA.search(z.read(n)) for n in z.namelist()
                       if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    except (OSError, zipfile.BadZipFile):
        return False


def first_cause(report: dict) -> str:
    """The first root cause's text, workbook-level causes first."""
    causes = list(report.get("causes", []))
    for sheet in report.get("sheets", []):
        causes += sheet.get("causes", [])
    if not causes:
        return ""
    c = causes[0]
    return f"{c['sheet']}!{c['cell']} [{c['kind']}] {c['message']}"


def verify_one(path: Path, timeout: float) -> dict:
    """Run verify on one book in a subprocess; a dict with exit code, seconds, and the parsed report."""
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    t0 = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "xlgd", "verify", "--json", str(path)],
                           capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"exit": "timeout", "seconds": timeout, "report": {}, "stderr": f"over {timeout:.0f} s"}
    seconds = time.perf_counter() - t0
    try:
        report = json.loads(r.stdout) if r.stdout.strip() else {}
    except json.JSONDecodeError:
        report = {}
    return {"exit": r.returncode, "seconds": seconds, "report": report,
            "stderr": (r.stderr.strip().splitlines() or [""])[-1]}


def verdict(result: dict) -> str:
    """OK / FAILED / UNCHECKED (exit 1 with no cause: nothing could be checked) / exit N / timeout."""
    code = result["exit"]
    if code == 1 and str(result["report"].get("verdict", "")).startswith("UNCHECKED"):
        return "UNCHECKED"
    return {0: "OK", 1: "FAILED"}.get(code, f"exit {code}" if code != "timeout" else "timeout")


def line(name: str, app: str, result: dict) -> str:
    rep = result["report"]
    why = (first_cause(rep) or str(rep.get("verdict", ""))) if result["exit"] == 1 else \
        result["stderr"] if result["exit"] not in (0, 1) else ""
    return (f"{name} | {app} | {rep.get('formula_cells', '-')} | {rep.get('checked', '-')} | "
            f"{rep.get('checked_ok', '-')} | {verdict(result)} | {result['seconds']:.1f} | {why[:160]}")


def totals(rows: list) -> list:
    """Summary lines: books per verdict, formula cells, checked, checked and agreeing."""
    out = []
    by = {}
    for _, _, res in rows:
        by[verdict(res)] = by.get(verdict(res), 0) + 1
    out.append("books: " + str(len(rows)) + " (" + ", ".join(f"{k} {v}" for k, v in sorted(by.items())) + ")")
    keys = ("formula_cells", "checked", "checked_ok")
    sums = {k: sum(res["report"].get(k, 0) for _, _, res in rows) for k in keys}
    out.append("formula cells {formula_cells:,}; checked {checked:,}; checked and agreeing {checked_ok:,}"
               .format(**sums))
    out.append(f"seconds: {sum(res['seconds'] for _, _, res in rows):.1f} in all")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--jobs", type=int, default=1, help="books verified at once (default 1)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per book (default 300)")
    ap.add_argument("--save", type=Path, help="write every book's result (with its JSON report) here")
    args = ap.parse_args(argv)
    books = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in SUFFIXES and has_formulas(p))
    print("file | app | formula cells | checked | agreeing | verdict | s | first cause", flush=True)
    rows = []
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for path, res in zip(books, pool.map(lambda p: verify_one(p, args.timeout), books)):
            name = str(path.relative_to(args.folder))
            rows.append((name, producer(path), res))
            print(line(*rows[-1]), flush=True)
    for text in totals(rows):
        print(text)
    if args.save:
        args.save.write_text(json.dumps([{"file": n, "app": a, **r} for n, a, r in rows], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

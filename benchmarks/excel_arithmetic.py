"""How xlgd's arithmetic compares with the cached values of workbooks saved by Excel and LibreOffice.

    PYTHONPATH=$PWD python3 benchmarks/excel_arithmetic.py CORPUS > docs/excel-arithmetic-measured.md

For every formula cell of every workbook under the folder, the evaluator's local pass (`Evaluation.local`:
each formula applied to the values its inputs hold in the file) gives xlgd's value from the cached inputs;
it is compared with the value the file caches for the cell. Cells count when both are numbers and the
inputs are known (no volatile or unevaluated input). They are grouped by the outermost operation of the
formula (`+ - * / ^2 ^ neg`, a function's name, `(reference)`) and by the saving application
(Excel for Windows, Excel for Mac, LibreOffice). Per group: cells, books, bit-equal cells, the largest ulp
distance among last-bit differences (at most 2^20 ulp apart), cells beyond 4 ulp, of those the cells
whose values differ beyond 2^20 ulp (a different value: a semantic, not rounding), and the rule xlgd
compares with (`exact`, or `ulp` where a run's last bits come from a C library).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlgd.check.report import ulp_distance  # noqa: E402
from xlgd.core.expr import Bin, Cmp, Fn, Neg, Num  # noqa: E402
from xlgd.evaluator import cells_of, open_and_evaluate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wild import SUFFIXES, producer  # noqa: E402

BUDGET = 4  # ulp: beyond it the two values differ by more than rounding
ROUNDING = 1 << 20  # ulp: beyond it (a relative difference over about 2e-10) a value differs, not its last bits


def family(path: Path) -> str:
    """'Excel (Windows)', 'Excel (Mac)', 'LibreOffice', or '' (no docProps/app.xml)."""
    name = producer(path)
    if "Macintosh" in name:
        return "Excel (Mac)"
    if "Excel" in name:
        return "Excel (Windows)"
    return "LibreOffice" if "LibreOffice" in name else ""


def outermost(expr) -> str:
    """The operation a formula's value comes out of last."""
    if isinstance(expr, Bin):
        if expr.op == "^" and isinstance(expr.right, Num) and expr.right.value == 2.0:
            return "^2"
        return expr.op
    if isinstance(expr, Neg):
        return "neg"
    if isinstance(expr, Fn):
        return expr.name
    if isinstance(expr, Cmp):
        return "comparison"
    return "(reference)"


class Tally:
    """Per (operation, application): cells, books, bit-equal, largest ulp, beyond budget, xlgd's rule."""

    def __init__(self):
        self.rows = defaultdict(lambda: {"cells": 0, "books": set(), "equal": 0, "max": 0, "beyond": 0, "other": 0,
                                         "rules": set(), "examples": []})
        self.last_bits = []  # (op, application, cell, ulp) of every cell 1 to 2^20 ulp apart

    def add(self, key, book, cell, have, got, rule):
        row = self.rows[key]
        row["cells"] += 1
        row["books"].add(book)
        row["rules"].add(rule)
        if have == got:
            row["equal"] += 1
            return
        u = ulp_distance(have, got)
        if u <= ROUNDING:
            row["max"] = max(row["max"], u)
            self.last_bits.append((key[0], key[1], f"{book} {cell}", u))
        else:
            row["other"] += 1
        if u > BUDGET:
            row["beyond"] += 1
            if len(row["examples"]) < 2:
                row["examples"].append(f"{book} {cell}: file {have!r}, xlgd {got!r}")


def measure_book(path: Path, name: str, app: str, tally: Tally) -> int:
    """Add one book's numeric formula cells to the tally; the number of cells added."""
    ev = open_and_evaluate(path)
    local = ev.local
    added = 0
    for prep in ev.prepared:
        if prep.expr is None:
            continue
        key = (outermost(prep.expr), app)
        rule = "ulp" if prep.ulp else "exact"
        sheet = prep.run.sheet
        for r, c in cells_of(prep.run):
            if (sheet, r, c) in local.unknown:
                continue
            have, got = ev.cached(sheet, r, c), local.values[sheet].get(r, c)
            if type(have) is float and type(got) is float and _finite(have, got):
                tally.add(key, name, f"{sheet}!R{r}C{c} (its run: `={prep.run.text[:50]}`)", have, got, rule)
                added += 1
    return added


def _finite(a, b):
    return abs(a) != float("inf") and abs(b) != float("inf") and a == a and b == b


def table(tally: Tally) -> list:
    out = ["| operation | application | cells | books | bit-equal | largest last-bit ulp | beyond 4 ulp "
           "| of which a different value | xlgd compares |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for (op, app), row in sorted(tally.rows.items(), key=lambda kv: (-kv[1]["cells"], kv[0])):
        out.append(f"| `{op}` | {app} | {row['cells']:,} | {len(row['books'])} | {row['equal']:,} | "
                   f"{row['max']:,} | {row['beyond']:,} | {row['other']:,} | {', '.join(sorted(row['rules']))} |")
    return out


def headline(tally: Tally) -> list:
    """One line per application: cells, bit-equal, within 4 ulp, last-bit beyond 4 ulp, different values."""
    out = []
    for app in sorted({app for _, app in tally.rows}):
        rows = [row for (_, a), row in tally.rows.items() if a == app]
        n, eq = sum(r["cells"] for r in rows), sum(r["equal"] for r in rows)
        beyond, other = sum(r["beyond"] for r in rows), sum(r["other"] for r in rows)
        out.append(f"- {app}: {n:,} cells; {eq:,} bit-equal; {n - eq - beyond:,} within 1-4 ulp; "
                   f"{beyond - other:,} 5 ulp to 2^20 ulp apart; {other:,} different values")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--cells", action="store_true", help="also list every cell whose last bits differ")
    args = ap.parse_args(argv)
    tally, books, errors, t0 = Tally(), defaultdict(int), [], time.perf_counter()
    for path in sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in SUFFIXES):
        app, name = family(path), str(path.relative_to(args.folder))
        if not app:
            continue
        try:
            if measure_book(path, name, app, tally):
                books[app] += 1
        except Exception as e:  # noqa: BLE001 -- one book's failure is a line of the report
            errors.append(f"{name}: {type(e).__name__}: {str(e)[:120]}")
    print(f"Books with numeric formula cells: {dict(books)}; "
          f"{sum(r['cells'] for r in tally.rows.values()):,} cells; {time.perf_counter() - t0:.0f} s\n")
    print("\n".join(headline(tally)) + "\n")
    print("\n".join(table(tally)))
    print("\nExamples beyond 4 ulp (at most two per row):\n")
    for (op, app), row in sorted(tally.rows.items()):
        for ex in row["examples"]:
            print(f"- `{op}` ({app}): {ex}")
    if args.cells:
        print("\nEvery cell whose last bits differ:\n")
        for op, app, cell, u in sorted(tally.last_bits):
            print(f"- `{op}` ({app}) {u} ulp: {cell}")
    if errors:
        print("\nBooks the evaluator could not read:\n")
        print("\n".join(f"- {e}" for e in errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())

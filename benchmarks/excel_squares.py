"""What a spreadsheet computes for `x^2`: the cached values of `=A1^2` and `=(A1-B1)^2` cells against rules.

    PYTHONPATH=$PWD python3 benchmarks/excel_squares.py CORPUS

For every cell whose formula is a square of one reference or of a sum or difference of two, the cached
inputs give the base; the cached result is compared, bit for bit, with: `x*x` (the base rounded to a
double, then one multiply), C's `pow(x, 2)`, the whole formula in 80-bit extended precision rounded
once to a double, and the exact square of the exact base rounded once. One line per saving application.
"""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlgd.evaluator import cells_of, open_and_evaluate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from excel_arithmetic import SUFFIXES, family  # noqa: E402

REF = r"(\$?)([A-Z]{1,3})(\$?)(\d+)"
SQUARE = re.compile(rf"^\(?{REF}(?:([-+]){REF})?\)?\^2$")
RULES = ("x*x", "pow(x,2)", "80-bit, rounded once", "exact, rounded once")


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def shifted(match, first_group: int, d_row: int, d_col: int):
    """The (row, col) a reference of the run's first cell reads from a cell d_row, d_col away."""
    col_abs, letters, row_abs, digits = match.group(first_group, first_group + 1, first_group + 2, first_group + 3)
    return int(digits) + (0 if row_abs else d_row), column_number(letters) + (0 if col_abs else d_col)


def candidates(a: float, op: str | None, b: float | None) -> dict:
    """The square under each rule, for base a (op b)."""
    sign = -1 if op == "-" else 1
    base = a if op is None else a + sign * b
    wide = np.longdouble(a) if op is None else np.longdouble(a) + sign * np.longdouble(b)
    exact = Fraction(a) if op is None else Fraction(a) + sign * Fraction(b)
    return dict(zip(RULES, (base * base, base ** 2, float(wide * wide), float(exact * exact))))


def tally_book(path: Path, totals: dict, misses: list):
    app, ev = family(path), open_and_evaluate(path)
    for run in ev.book.runs:
        m = SQUARE.match(run.text.replace(" ", ""))
        if not (app and m):
            continue
        for r, c in cells_of(run):
            d_row, d_col = r - run.r0, c - run.col
            a, have = ev.cached(run.sheet, *shifted(m, 1, d_row, d_col)), ev.cached(run.sheet, r, c)
            b = ev.cached(run.sheet, *shifted(m, 6, d_row, d_col)) if m.group(5) else None
            if type(a) is not float or type(have) is not float or (m.group(5) and type(b) is not float):
                continue
            row = totals.setdefault(app, dict.fromkeys(("cells",) + RULES, 0))
            row["cells"] += 1
            got = candidates(a, m.group(5), b)
            for rule, value in got.items():
                row[rule] += value == have
            if got["x*x"] != have:
                misses.append(f"{path.name} {run.sheet}!R{r}C{c} (`={run.text}`): file {have!r}, x*x {got['x*x']!r}")


def main(argv=None) -> int:
    folder = Path((argv or sys.argv[1:])[0])
    totals, misses = {}, []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
        try:
            tally_book(path, totals, misses)
        except Exception as e:  # noqa: BLE001 -- a book the evaluator cannot read is a line, not the end
            print(f"skipped {path.name}: {type(e).__name__}")
    print("| application | cells | " + " | ".join(RULES) + " |")
    print("|---|---:|" + "---:|" * len(RULES))
    for app, row in sorted(totals.items()):
        print(f"| {app} | {row['cells']:,} | " + " | ".join(f"{row[r]:,}" for r in RULES) + " |")
    print("\nCells where x*x is not the cached value:\n")
    print("\n".join(f"- {m}" for m in misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())

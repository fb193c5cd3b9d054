"""Measure Excel's last bits: for every Excel-saved workbook under a folder, each formula cell whose cached
value and its own formula applied to the cached inputs (the evaluator's local pass) are both numbers,
compared in ulp and grouped by the operations the formula uses (docs/excel-arithmetic.md).

    python benchmarks/excel_rounding.py FOLDER
prints: cells, cells differing, largest ulp, workbooks, operations -- then a few examples per group.
"""

import sys
import zipfile
from collections import defaultdict
from pathlib import Path

from xlgd.check.report import ulp_distance
from xlgd.core.expr import Bin, nodes
from xlgd.evaluator import cells_of, open_and_evaluate
from xlgd.evaluator.prepare import calls


def _excel_saved(path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "Microsoft" in z.read("docProps/app.xml").decode(errors="replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return False


def _key(expr) -> str:
    ops = {f.name for f in calls(expr)}
    ops |= {"^" for n in nodes(expr) if isinstance(n, Bin) and n.op == "^"}
    ops |= {"+-*/" for n in nodes(expr) if isinstance(n, Bin) and n.op in "+-*/"}
    return " ".join(sorted(ops)) or "(reference)"


def measure(folder):
    stats = defaultdict(lambda: [0, 0, 0, set()])  # key -> [cells, differing, largest ulp, workbooks]
    examples = defaultdict(list)
    for path in sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".xlsx", ".xlsm")):
        if not _excel_saved(path):
            continue
        ev = open_and_evaluate(path)
        for prep in (p for p in ev.prepared if p.expr is not None):
            key, sheet = _key(prep.expr), prep.run.sheet
            for r, c in cells_of(prep.run):
                have = ev.cached(sheet, r, c)
                got = None if (sheet, r, c) in ev.local.unknown else ev.local.values[sheet].get(r, c)
                if type(have) is not float or type(got) is not float:
                    continue
                s = stats[key]
                s[0], s[3] = s[0] + 1, s[3] | {path.name}
                if have != got:
                    u = ulp_distance(have, got)
                    s[1], s[2] = s[1] + 1, max(s[2], u)
                    if len(examples[key]) < 3:
                        examples[key].append(f"{path.name} {sheet}!R{r}C{c} {prep.run.text[:60]}: {have!r} / {got!r}")
    return stats, examples


if __name__ == "__main__":
    stats, examples = measure(sys.argv[1])
    for key, (n, d, u, books) in sorted(stats.items(), key=lambda kv: -kv[1][0]):
        print(f"{n:7d} {d:6d} {u:22d} {len(books):3d}  {key}")
    for key, ex in examples.items():
        for line in ex:
            print("  ", key, "|", line)

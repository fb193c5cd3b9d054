"""A stale value in every Excel-saved workbook `verify` called OK: is it found?

    PYTHONPATH=$PWD python3 benchmarks/wild.py CORPUS --save /tmp/wild.json
    PYTHONPATH=$PWD python3 benchmarks/wild_stale.py CORPUS /tmp/wild.json

For each book of the saved run that Excel saved (docProps/app.xml) and `verify` passed (exit 0), a copy in
a temporary folder has the cached number of one formula cell made RELATIVE larger (the first cell of its
first worksheet part whose formula is written out, holds a non-zero number and calls no volatile
function): the value a cell keeps when an input changed by that much and nothing recalculated. One line
per book: file, the edited cell, verify's exit code on the copy, the first causes it names. The input
files are only read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELATIVE = 1e-9
CELL = re.compile(rb'<c r="([A-Z]+\d+)"(?![^>]*\bt=")[^>]*>(<f[^>]*>[^<]+</f>)<v>(-?[0-9.Ee+-]+)</v></c>')
VOLATILE = re.compile(rb"RAND|NOW\(|TODAY\(|INDIRECT|OFFSET")


def edited_copy(src: Path, dst: Path) -> str | None:
    """Write src to dst with one cached number changed; the edited cell ('xl/worksheets/sheet1.xml A3'), or
    None when no cell qualifies."""
    with zipfile.ZipFile(src) as z:
        parts = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        for part in parts:
            data = z.read(part)
            m = next((m for m in CELL.finditer(data) if not VOLATILE.search(m.group(2)) and float(m.group(3))), None)
            if m is None:
                continue
            new = repr(float(m.group(3)) * (1 + RELATIVE)).encode()
            edited = data[:m.start(3)] + new + data[m.end(3):]
            with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
                for info in z.infolist():
                    out.writestr(info, edited if info.filename == part else z.read(info.filename))
            return f"{part} {m.group(1).decode()}"
    return None


def causes(path: Path) -> tuple:
    """(exit code, the first three causes' cells) of `xlgd verify --json path`."""
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    r = subprocess.run([sys.executable, "-m", "xlgd", "verify", "--json", str(path)], capture_output=True, text=True,
                       env=env, timeout=900, check=False)
    try:
        rep = json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.returncode, []
    return r.returncode, [f"{c['sheet']}!{c['cell']}" for s in rep.get("sheets", []) for c in s.get("causes", [])][:3]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("run", type=Path, help="the JSON benchmarks/wild.py --save wrote")
    args = ap.parse_args(argv)
    passed = [r for r in json.loads(args.run.read_text()) if r["exit"] == 0 and "Excel" in r["app"]]
    found = tried = 0
    with tempfile.TemporaryDirectory(prefix="xlgd-stale-") as tmp:
        for r in passed:
            copy = Path(tmp) / Path(r["file"]).name
            cell = edited_copy(args.folder / r["file"], copy)
            if cell is None:
                continue
            code, where = causes(copy)
            tried, found = tried + 1, found + (code == 1)
            print(f"{r['file']} | {cell} | exit {code} | {', '.join(where)}", flush=True)
            copy.unlink()
    print(f"books edited: {tried}; FAILED: {found}; exit 0: {tried - found} (the edited cell unchecked?)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

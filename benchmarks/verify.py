"""xlgd verify vs LibreOffice recalculating the same file, in one run.

    python benchmarks/verify.py                 # 100,000 rows
    python benchmarks/verify.py --rows 1000000 --lo-timeout 900

The workbook is one adam sheet (benchmarks/verify_adam.toml) generated with
`xlgd generate --epochs` (rows = 29 x epochs). Each side runs in its own
subprocess; peak memory is that subprocess's ru_maxrss (and, for verify, that of the
engine process it forks for big sheets). Wall-clock and CPU-time ratios are both
printed: other people's soffice and tests share the machine.
"""

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


CPU = {}  # last timed command's CPU seconds (user + sys, its waited-for descendants included)


def timed(cmd, timeout=None):
    t0 = time.perf_counter()
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = u0.ru_maxrss
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, None, None
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    peak = u1.ru_maxrss
    return time.perf_counter() - t0, (peak if peak > before else None), r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, action="append")
    ap.add_argument("--lo-timeout", type=float, default=900)
    ap.add_argument("--keep", help="directory for the generated workbooks (reused if present)")
    a = ap.parse_args()
    rows_list = a.rows or [100_000]
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="xlgd-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    for rows in rows_list:
        epochs = math.ceil(rows / 29)
        book = tmp / f"adam_{rows}.xlsx"
        if not book.exists():
            t, _, r = timed([sys.executable, "-m", "xlgd", "generate", "benchmarks/verify_adam.toml",
                             "--epochs", str(epochs), "-o", str(book), "-q"])
            print(f"{rows} rows: generated in {t:.1f} s ({book.stat().st_size >> 20} MB)", flush=True)
        tv, mv, r = timed([sys.executable, "-c",
                           "import resource,sys,json;from xlgd.check.verify import verify_book;"
                           f"rep=verify_book({str(book)!r});"
                           "print(json.dumps({'ok':rep.ok,'checked':sum(s.checked for s in rep.sheets),"
                           "'rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,"
                           "'child_mb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024}))"])
        cv = CPU["last"]
        info = json.loads(r.stdout.strip().splitlines()[-1]) if r and r.returncode == 0 else {"error": r and r.stderr[-300:]}
        print(f"{rows} rows: xlgd verify {tv:.1f} s ({cv:.1f} s CPU), peak RSS {info.get('rss_mb', 0):.0f} MB "
              f"(engine process {info.get('child_mb', 0):.0f} MB), "
              f"{info.get('checked')} cells, ok={info.get('ok')}", flush=True)
        out = tmp / f"lo_{rows}"
        sys.path.insert(0, str(ROOT))
        from xlgd.xlsx.libreoffice import make_profile

        make_profile(tmp / f"prof_{rows}")
        tl, _, r2 = timed(["soffice", f"-env:UserInstallation=file://{tmp}/prof_{rows}", "--headless", "--calc",
                           "--convert-to", "xlsx", "--outdir", str(out), str(book)], timeout=a.lo_timeout)
        if tl is None:
            print(f"{rows} rows: LibreOffice recalculation > {a.lo_timeout:.0f} s (timed out); "
                  f"xlgd verify is > {a.lo_timeout / tv:.1f}x faster", flush=True)
        else:
            # Other people's soffice runs share this machine: the CPU ratio is the steadier of the two.
            print(f"{rows} rows: LibreOffice load+recalc+save {tl:.1f} s ({CPU['last']:.1f} s CPU); xlgd verify is "
                  f"{tl / tv:.1f}x faster ({CPU['last'] / cv:.1f}x in CPU time)", flush=True)


if __name__ == "__main__":
    main()

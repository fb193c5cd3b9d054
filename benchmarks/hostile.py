"""The long hostile-input run: every damage of tests/hostile.py, enumerated, not sampled.

    python benchmarks/hostile.py [--every K] [--commands verify,diff,...] [--show N] [--libreoffice N]

Builds the two workbooks of the fuzz test (a generated xlgd workbook and a graddesc-style macro
workbook), makes every damaged variant the harness knows -- truncations at 64 offsets, byte
flips at 64 places of the zip and 8 inside each XML part, each member deleted and duplicated,
each malformed-XML edit and each XML attack on each XML part, each content edit on each part it
fits, hostile member names, a bomb in three places, each record damage -- runs every workbook
command on each in-process (`tests/hostile.py: run_book_commands`'s list), then `generate` on
every hostile template, knob and CSV file, and checks the contract on each run (`Run.problems`).

Prints the number of cases and runs, the exit codes per command, how many runs broke the
contract and how (tracebacks = an exception out of main() or exit 3, the CLI's internal
error), the largest CPU time and peak-memory growth of any run against the 2 s / 200 MB
bounds, and the first --show broken runs. `--every K` takes every K-th case (a shorter run).
Exit status 1 when any run broke the contract.

The suite's test_hostile_fuzz.py draws a fixed, derandomized sample of these through Hypothesis
(XLGD_FUZZ_EXAMPLES raises its count); this script is the exhaustive run.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests import hostile as H  # noqa: E402


def book_cases(raw: bytes):
    """(label, damaged bytes) for every damage of one workbook, made lazily."""
    parts = dict((i.filename, d) for i, d in H.members(raw))
    xml = [n for n in parts if n.endswith((".xml", ".rels", ".vml"))]
    for k in range(64):
        yield f"truncated at {k}/64", lambda k=k: H.truncate(raw, k / 64)
        yield f"flip at {k}/64", lambda k=k: H.flip(raw, k / 64, 0x5A, 1 + k % 8)
    for n in parts:
        yield f"{n} deleted", lambda n=n: H.delete_member(raw, n)
        for other in (None, b"", b"<x/>"):
            yield f"{n} duplicated ({other!r})", lambda n=n, o=other: H.duplicate_member(raw, n, o)
    for n in xml:
        for k in range(8):
            yield f"{n}: flip at {k}/8", lambda n=n, k=k: H.with_part(raw, n, H.flip(parts[n], k / 8, 0xA5, 1 + k % 4))
        for label, fn in H.MALFORMED + H.ATTACKS + H.edits_for(n):
            yield f"{n}: {label}", lambda n=n, fn=fn: H.with_part(raw, n, fn(parts[n]))
    for how in ("dotdot", "absolute", "backslash", "case-duplicate", "drive", "control"):
        yield f"member name {how}", lambda how=how: H.hostile_names(raw, how)
    for where in ("xl/media/bomb.bin", "xl/worksheets/sheet2.xml", "docProps/app.xml"):
        items = [(i, d) for i, d in H.members(raw) if i.filename != where]
        yield f"bomb as {where}", lambda items=items, w=where: H.zip_with_raw_member(
            H.zip_bytes(items), w, H.bomb_member(H.BOMB), H.BOMB)
    record = H.record_part(raw)
    for how in H.RECORD_KINDS if record else ():
        yield f"record: {how}", lambda how=how: H.with_part(raw, record, H.record_edit(how)(parts[record]))


class Tally:
    def __init__(self):
        self.cases = self.runs = 0
        self.exits = collections.defaultdict(collections.Counter)
        self.broken = []           # (case label, Run, problems)
        self.kinds = collections.Counter()
        self.max_cpu = (0.0, "")
        self.max_mb = (0.0, "")

    def add(self, label: str, r, problems):
        self.runs += 1
        a = list(map(str, r.argv))
        self.exits[" ".join(a[:2]) if a[0] == "charts" or a[1].startswith("--") else a[0]][r.rc] += 1
        where = f"{label}: xlgd {' '.join(Path(a).name if '/' in a else a for a in map(str, r.argv))}"
        self.max_cpu = max(self.max_cpu, (r.seconds, where))
        self.max_mb = max(self.max_mb, (r.peak_mb, where))
        for p in problems:
            self.kinds[re.sub(r"[\s(:].*", "", p.replace("exit code", "exit-code").replace("stderr is", "stderr"))] += 1
        if problems:
            self.broken.append((label, r, problems))

    def report(self, seconds: float, show: int) -> str:
        tracebacks = sum(1 for _, r, _ in self.broken if r.crash or r.rc == 3 or "Traceback" in r.err)
        lines = [f"{self.cases} cases, {self.runs} runs in {seconds:.0f} s",
                 f"runs that broke the contract: {len(self.broken)} (tracebacks or internal errors: {tracebacks})"]
        lines += [f"  {k}: {n}" for k, n in self.kinds.most_common()]
        lines.append(f"largest CPU time of a run: {self.max_cpu[0]:.2f} s (bound {H.SECONDS} s) -- {self.max_cpu[1]}")
        lines.append(f"largest peak-memory growth: {self.max_mb[0]:.0f} MB (bound {H.PEAK_MB} MB) -- {self.max_mb[1]}")
        lines.append("exit codes per command:")
        lines += [f"  {cmd:18} " + ", ".join(f"{rc}: {n}" for rc, n in sorted(c.items(), key=lambda t: str(t[0])))
                  for cmd, c in sorted(self.exits.items())]
        for label, r, problems in self.broken[:show]:
            lines.append(f"BROKEN {label}: {r.describe()}\n    " + "\n    ".join(problems))
        return "\n".join(lines)


def run_libreoffice(tally: Tally, label: str, path: Path, case: Path):
    """verify --recalc and charts render: LibreOffice in a subprocess (seconds each, so only on
    every --libreoffice'th case; its CPU time is the child's, not bounded here)."""
    png = case / "out" / "png"
    for argv, outputs in ((["verify", path, "--recalc", "libreoffice"], ()), (["charts", "render", path, "-o", png], ("out",))):
        r = H.run_cli(argv, inputs=[path], folder=case, outputs=outputs)
        tally.add(label, r, r.problems(seconds=float("inf")))
        shutil.rmtree(case / "out", ignore_errors=True)


STOP = []


def _stop(signum, _frame):
    if STOP:  # asked twice: stop now
        raise SystemExit(f"stopped by signal {signum}")
    STOP.append(signum)
    # the real stderr: sys.stderr is the captured one of the run in progress
    print("stopping after the case at hand; the counts will be of the cases that ran", file=sys.__stderr__, flush=True)


def run_books(tally: Tally, folder: Path, every: int, only, libreoffice: int = 0):
    books = {"xlgd": H.build_xlgd_book(folder), "graddesc": H.build_graddesc_book(folder)}
    good = books["xlgd"]
    n = 0
    for base, src in books.items():
        for label, make in book_cases(src.read_bytes()):
            if STOP:
                return
            n += 1
            if n % every:
                continue
            case = Path(tempfile.mkdtemp(prefix="case-", dir=folder))
            path = H.write_case(case, "in" + src.suffix, make())
            tally.cases += 1
            runs = H.run_book_commands(path, good, case, only=only, keep_all=True)
            for r, problems in runs:
                tally.add(f"{base} {label}", r, problems)
            if libreoffice and tally.cases % libreoffice == 0:
                run_libreoffice(tally, f"{base} {label}", path, case)
            if tally.cases % 100 == 0:  # a long run shows it is alive, and how it stands
                print(f"{tally.cases} cases, {tally.runs} runs, {len(tally.broken)} broken", file=sys.stderr, flush=True)
            shutil.rmtree(case)


def run_templates(tally: Tally, folder: Path):
    variants = H.template_variants() + [(f"csv {k}", H.csv_template("d.csv"), [], b) for k, b in H.CSV_VARIANTS]
    for case in variants:
        label, text, extra = case[:3]
        tpl = Path(tempfile.mkdtemp(prefix="tpl-", dir=folder))
        (tpl / "t.toml").write_text(text)
        if len(case) > 3:
            (tpl / "d.csv").write_bytes(case[3])
        out = tpl / "out.xlsx"
        argv = ["generate", tpl / "t.toml"] + (extra if "-o" in extra else ["-o", out] + extra)
        r = H.run_cli(argv, inputs=[tpl / "t.toml", tpl / "d.csv"], folder=tpl, outputs=[out], cwd=tpl)
        if label == "-o in a missing folder":
            r.leftovers = [x for x in r.leftovers if x != "no"]
        tally.cases += 1
        tally.add(f"template {label}", r, r.problems((0, 2)))
        shutil.rmtree(tpl)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=1, help="take every K-th workbook case (default: all)")
    ap.add_argument("--commands", help="only these commands, comma-separated (verify, diff, charts check, ...)")
    ap.add_argument("--show", type=int, default=20, help="print the first N broken runs")
    ap.add_argument("--libreoffice", type=int, default=0, metavar="N",
                    help="also verify --recalc and charts render on every N-th case (LibreOffice: seconds a run)")
    args = ap.parse_args(argv)
    only = [c.strip() for c in args.commands.split(",")] if args.commands else None
    tally = Tally()
    t0 = time.perf_counter()
    # Stopped early (SIGTERM, Ctrl-C): finish the case at hand, then report what ran. Not an exception
    # raised mid-run: the commands run in-process and the CLI's boundary would take it for the run's
    # own interruption and go on (measured: two SIGTERMs swallowed, the run never stopped).
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        with tempfile.TemporaryDirectory(prefix="xlgd-hostile-") as d:
            run_books(tally, Path(d), max(1, args.every), only, args.libreoffice)
            if (not only or "generate" in only) and not STOP:
                run_templates(tally, Path(d))
    except KeyboardInterrupt:
        STOP.append(signal.SIGINT)
    if STOP:
        print("stopped early; the counts are of the cases that ran", file=sys.stderr)
    print(tally.report(time.perf_counter() - t0, args.show))
    return 1 if tally.broken else 0


if __name__ == "__main__":
    sys.exit(main())

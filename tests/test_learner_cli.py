"""`xlgd generate` on a long run: progress on stderr (a bar on a terminal, a few lines elsewhere), and the size."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from xlgd.cli.generate import LONG_RUN, Progress, file_size

ROOT = Path(__file__).resolve().parents[1]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def feed(progress, sheets):
    """The writer's calls for sheets of these sizes: every 1/20 of a sheet, and its end."""
    for name, n in sheets:
        every = max(1, n // 20)
        for i in range(0, n, every):
            progress(name, i, n)
        progress(name, n, n)


def test_plain_lines_when_nobody_can_redraw_a_bar():
    out = io.StringIO()  # a pipe, a notebook: isatty() is False
    p = Progress(30000, out)
    p.start(2)
    feed(p, [("basic", 10000), ("adam", 20000)])
    p.finish()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "xlgd: computing 2 sheets, 30,000 step rows"
    assert [line.split("%")[0].rsplit(" ", 1)[1] for line in lines[1:]] == ["25", "50", "75", "100"]
    assert lines[-1] == "xlgd: written 100% (30,000 of 30,000 step rows, sheet adam)"


def test_a_bar_on_a_terminal_that_only_moves_forward():
    out = Terminal()
    t = iter(range(1000))
    p = Progress(30000, out, clock=lambda: next(t))  # each call a second later: every call draws
    p.start(2)
    feed(p, [("basic", 10000), ("adam", 20000)])
    p.finish()
    frames = out.getvalue().split("\r")[2:]
    done = [int(f.split("%")[1].split("/")[0].replace(",", "").strip()) for f in frames]
    assert done == sorted(done) and done[-1] == 30000
    assert frames[-1].startswith("  writing adam") and "[" + "#" * Progress.WIDTH + "] 100%" in frames[-1]
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 2  # the start line and the end


def test_file_size_reads_like_a_file_manager():
    assert [file_size(n) for n in (512, 99_500, 10_700_000, 2_500_000_000)] == \
        ["512 bytes", "99.5 kB", "10.7 MB", "2.5 GB"]


@pytest.mark.slow
def test_short_run_is_quiet_on_stderr_and_says_its_size(tmp_path):
    out = tmp_path / "g.xlsx"
    r = subprocess.run([sys.executable, "-m", "xlgd", "generate", "graddesc", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    size = out.stat().st_size
    assert r.stdout.splitlines()[0].startswith(f"wrote {out} ({file_size(size)}, 5 sheets, 725 step rows")
    assert "  basic        sgd       5 epochs: " in r.stdout
    r = subprocess.run([sys.executable, "-m", "xlgd", "generate", "graddesc", "-o", str(out), "--json"],
                       capture_output=True, text=True, cwd=ROOT)
    assert json.loads(r.stdout)["bytes"] == out.stat().st_size and r.stderr == ""


@pytest.mark.slow
def test_long_run_through_a_pipe_prints_a_few_lines(tmp_path):
    out = tmp_path / "g.xlsx"
    epochs = LONG_RUN // 145 + 1  # graddesc: 5 sheets of 29 rows per epoch
    r = subprocess.run([sys.executable, "-m", "xlgd", "generate", "graddesc", "--epochs", str(epochs),
                        "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 5 and lines[0].startswith("xlgd: computing 5 sheets") and "100%" in lines[-1]
    r = subprocess.run([sys.executable, "-m", "xlgd", "generate", "graddesc", "--epochs", str(epochs),
                        "-o", str(out), "-q"], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout == r.stderr == ""

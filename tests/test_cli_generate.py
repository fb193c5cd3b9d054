"""`xlgd generate` from a shell: defaults, overrides, and bad input as one line."""

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]


def xlgd(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "xlgd", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_default_writes_output_graddesc(tmp_path):
    # Run from a copy of the layout so the test does not touch the repo's output/.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "graddesc.toml").write_text((ROOT / "templates/graddesc.toml").read_text())
    r = subprocess.run([sys.executable, "-m", "xlgd", "generate"], capture_output=True, text=True,
                       cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(tmp_path / "output" / "graddesc.xlsx")
    assert wb.sheetnames[:7] == ["intro", "data", "basic", "momentum", "rmsprop", "adam", "adam_ann"]


@pytest.mark.slow
def test_overrides_reach_the_input_cells(tmp_path):
    out = tmp_path / "o.xlsx"
    r = xlgd("generate", "graddesc", "--set", "lr=0.001", "--set", "adam.beta2=0.99", "--epochs", "2",
             "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert [s["epochs"] for s in summary["sheets"]] == [2] * 5
    wb = openpyxl.load_workbook(out)
    assert wb["basic"]["A3"].value == 0.001
    assert wb["adam"].defined_names["beta2"].attr_text.endswith("$C$3")
    assert wb["adam"]["C3"].value == 0.99
    assert wb["momentum"]["A3"].value == 0.001


BAD = [
    (["generate", "nosuchtemplate"], "no template named"),
    (["generate", "graddesc", "--set", "lr=abc"], "must be a number"),
    (["generate", "graddesc", "--set", "lr"], "KNOB=VALUE"),
    (["generate", "graddesc", "--set", "zeta=1"], "does not apply"),
    (["generate", "graddesc", "--epochs", "0"], "at least 1"),
    (["generate", "graddesc", "--epochs", "two"], "invalid int"),
    (["generate", "graddesc", "-o", "/proc/xlgd-test.xlsx"], "xlgd-test.xlsx"),
    (["generate", "graddesc", "-o", "/etc/hostname/x.xlsx"], "x.xlsx"),
    (["generate", "graddesc", "-o", "out.csv"], ".xlsx"),
    (["generate", "graddesc", "--set", "adamm.lr=0.1"], "no sheet 'adamm' (did you mean 'adam'?); sheets: basic,"),
    (["generate", "graddesc", "--set", "nosuch.lr=0.1"], "no sheet 'nosuch'; sheets: basic,"),
    (["generate", "graddesc", "--set", "lr=0.1", "--set", "lr=0.2"], "--set lr is given twice"),
    (["generate", "graddesc", "--set", "adam.lr=0.1", "--set", "adam.lr = 0.2"], "--set adam.lr is given twice"),
]


@pytest.mark.parametrize("args,words", BAD)
def test_bad_input_is_one_line_and_exit_2(args, words):
    r = xlgd(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert words in lines[0]


@pytest.mark.parametrize("body,words", [
    ('[[sheets]]\nmodel = "quadratic"\n', "unknown model 'quadratic'"),
    ('[[sheets]]\noptimizer = "lion"\n', "unknown optimiser 'lion'"),
    ('[[sheets]]\nconvention = "keras"\n', "unknown convention"),
    ('[[sheets]]\nknobs = { lr = "fast" }\n', "must be a number"),
    ("[[sheets]\n", "not valid TOML"),
    ("epochs = 3\n", "no [[sheets]]"),
    ('[data]\nsource = "csv"\npath = "missing.csv"\n[[sheets]]\n', "cannot read data CSV"),
])
def test_bad_templates_are_one_line(tmp_path, body, words):
    t = tmp_path / "t.toml"
    t.write_text(body)
    r = xlgd("generate", str(t), "-o", str(tmp_path / "o.xlsx"))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert words in r.stderr
    assert not (tmp_path / "o.xlsx").exists()


def test_help_teaches():
    r = xlgd("generate", "--help")
    assert r.returncode == 0
    assert "--set" in r.stdout and "examples" in r.stdout


def test_a_knob_on_every_sheet_and_on_one_sheet_are_two_knobs(tmp_path):
    out = tmp_path / "o.xlsx"
    r = xlgd("generate", "graddesc", "--set", "lr=0.001", "--set", "adam.lr=0.05", "--epochs", "1", "-q",
             "-o", str(out))
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert (wb["basic"]["A3"].value, wb["adam"]["A3"].value) == (0.001, 0.05)

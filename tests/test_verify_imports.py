"""`xlgd verify` loads only what a verify needs: learners run it often, and every module imported is
paid on every run (benchmarks/latency.py measures it). Each check runs the command line in a fresh
interpreter and lists what `sys.modules` holds afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import learner

ROOT = Path(__file__).resolve().parents[1]

# Writing workbooks, comparing two of them, charts, the notebook API: none of it is a verify's business.
NEVER = ("xlgd.book", "xlgd.diff", "xlgd.charts", "xlgd.api", "xlgd.pipeline", "xlsxwriter", "openpyxl", "pandas",
         "matplotlib", "torch", "hypothesis", "multiprocessing", "email", "http")
# A workbook without xlgd's record has no recipe to rebuild and no digest to check.
NOT_WITHOUT_RECORD = ("xlgd.recipe.template", "tomllib", "hashlib", "subprocess")

_LOADED = """
import contextlib, io, json, sys
from xlgd.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["verify", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(book) -> tuple:
    """(exit code, modules loaded) of `xlgd verify book` in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    r = subprocess.run([sys.executable, "-c", _LOADED, str(book)], check=False, capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["code"], set(out["modules"])


def imported(modules: set, names) -> list:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.fixture(scope="module")
def learner_book(tmp_path_factory):
    wb, _ = learner.workbook()
    path = tmp_path_factory.mktemp("learner") / "mine.xlsx"
    wb.save(path)
    return path


def test_verify_of_a_learner_sheet_loads_no_writer_diff_charts_or_recipe(learner_book):
    code, modules = loaded(learner_book)
    assert code in (0, 1)
    assert "xlgd.check.verify" in modules and "numpy" in modules  # what it did load is listed
    assert imported(modules, NEVER + NOT_WITHOUT_RECORD) == []


def test_verify_of_an_xlgd_book_loads_no_writer_diff_or_charts(graddesc_book):
    path, _ = graddesc_book
    code, modules = loaded(path)
    assert code == 0
    assert "xlgd.recipe.template" in modules  # its record rebuilt: the same listing sees what verify loads
    assert imported(modules, NEVER) == []

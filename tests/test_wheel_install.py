"""A normal install works from any folder: build the wheel, install it into a
fresh virtual environment outside the checkout, and run every template from an
empty directory.

An editable install or PYTHONPATH hides what the wheel leaves out: templates/
was once missing from it, and every `xlgd generate` of a `pip install .` said
"no template named 'graddesc'; known templates: none".
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p.stem for p in (ROOT / "templates").glob("*.toml"))
NOT_SOURCE = shutil.ignore_patterns(".git", "output", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")

pytestmark = pytest.mark.slow


def run(cmd, cwd):
    # No PYTHONPATH: the tests run with the checkout on it, and the point is to import the installed copy.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the checkout (building in place would leave build/ and egg-info behind)."""
    src = shutil.copytree(ROOT, tmp / "src", ignore=NOT_SOURCE)
    # Without build isolation when setuptools is here already: no download, and 5 s instead of 15.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", *isolation, "-q", "-w", tmp / "dist"], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("xlgd-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, bin directory of a venv where only the wheel's xlgd is installed)."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp)
    env = tmp / "venv"
    # The dependencies come from the system site-packages; the wheel goes into the venv.
    run([sys.executable, "-m", "venv", "--system-site-packages", env], cwd=tmp)
    bindir = env / ("Scripts" if os.name == "nt" else "bin")
    run([bindir / "python", "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel], cwd=tmp)
    where = run([bindir / "python", "-c", "import xlgd; print(xlgd.__file__)"], cwd=tmp).strip()
    assert Path(where).is_relative_to(env), f"the venv imports xlgd from {where}, not from the wheel"
    return wheel, bindir


def test_wheel_ships_the_templates_as_they_are_in_templates(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        shipped = {Path(n).stem: z.read(n) for n in z.namelist() if n.startswith("xlgd/templates/")}
    assert shipped == {t: (ROOT / "templates" / f"{t}.toml").read_bytes() for t in TEMPLATES}


@pytest.mark.parametrize("template", TEMPLATES)
def test_installed_xlgd_generates_every_template_from_an_empty_folder(installed, template, tmp_path):
    _, bindir = installed
    run([bindir / "xlgd", "generate", template, "-q", "-o", f"{template}.xlsx"], cwd=tmp_path)
    wb = openpyxl.load_workbook(tmp_path / f"{template}.xlsx")
    assert len(wb.sheetnames) >= 3, wb.sheetnames  # intro, data and at least one step sheet
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{template}.xlsx"]


def test_installed_default_generate_and_help(installed, tmp_path):
    _, bindir = installed
    out = run([bindir / "xlgd", "generate"], cwd=tmp_path)
    assert "output/graddesc.xlsx" in out.replace(os.sep, "/")
    assert openpyxl.load_workbook(tmp_path / "output" / "graddesc.xlsx").sheetnames[:2] == ["intro", "data"]
    listed = run([bindir / "xlgd", "generate", "--help"], cwd=tmp_path).split("templates (xlgd generate NAME):\n")[1]
    assert [line.split()[0] for line in listed.splitlines()] == TEMPLATES


def test_wheel_ships_every_module_of_the_checkout(installed):
    """pyproject lists packages by hand (the templates mapping rules out `find`): a new
    subpackage left off the list would import in the checkout and fail in every install."""
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        shipped = {n for n in z.namelist() if n.startswith("xlgd/") and n.endswith(".py")}
    source = {p.relative_to(ROOT).as_posix() for p in (ROOT / "xlgd").rglob("*.py")}
    assert source - shipped == set()

"""A normal install works from any folder: build the wheel, install it into a
fresh virtual environment outside the checkout (pip resolving the dependencies
the wheel's metadata names, nothing borrowed from the interpreter running the
tests), and run every template from an empty directory.

An editable install or PYTHONPATH hides what the wheel leaves out: templates/
was once missing from it, and every `xlgd generate` of a `pip install .` said
"no template named 'graddesc'; known templates: none".
"""

import importlib.metadata
import importlib.util
import json
import os
import re
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


def call(cmd, cwd) -> subprocess.CompletedProcess:
    # No PYTHONPATH: the tests run with the checkout on it, and the point is to import the installed copy.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def run(cmd, cwd):
    r = call(cmd, cwd)
    assert r.returncode == 0, f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def builds_without_isolation() -> bool:
    """setuptools>=61 (pyproject's build requirement) with a bdist_wheel command (its own from
    70.1, else the wheel package's) is importable here: a venv's setuptools 65 alone is not."""
    try:
        version = tuple(int(p) for p in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return version >= (70, 1) or (version >= (61, 0) and importlib.util.find_spec("wheel") is not None)


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the checkout (building in place would leave build/ and egg-info behind)."""
    src = shutil.copytree(ROOT, tmp / "src", ignore=NOT_SOURCE)
    # Without build isolation when a setuptools that can build it is here already: 5 s instead of 15.
    isolation = ["--no-build-isolation"] if builds_without_isolation() else []
    run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", *isolation, "-q", "-w", tmp / "dist"], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("xlgd-*.whl")
    return wheel


# pip's words when the package index cannot be reached at all (DNS, no route, refused, timed out):
# the warning of its one retry, which PIP_OPTIONS asks for.
NO_INDEX = re.compile(r"NewConnectionError|Temporary failure in name resolution|Network is unreachable"
                      r"|Max retries exceeded|ConnectTimeoutError|ReadTimeoutError|Could not fetch URL")


PIP_OPTIONS = ["-q", "--retries", "1", "--timeout", "20"]


def install_with_dependencies(python: Path, wheel: Path, cwd: Path):
    """pip installs the wheel and the dependencies its metadata names into the venv of `python`;
    skips (one line) only when pip cannot reach the package index, fails on any other refusal.

    The running interpreter's pip does it (`--python`, pip 22.3+): the venv needs no pip of its
    own. No byte-compiling: the venv lives for one module of tests."""
    cmd = [sys.executable, "-m", "pip", "--python", python, "install", *PIP_OPTIONS, "--no-compile", wheel]
    r = call(cmd, cwd)
    if r.returncode != 0 and NO_INDEX.search(r.stderr + r.stdout):
        pytest.skip("wheel install: pip cannot reach the package index for the wheel's dependencies")
    assert r.returncode == 0, f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"


# Where the venv found each distribution the wheel requires (extras aside).
WHERE_DEPENDENCIES = """
import importlib.metadata as m, json, re
names = [re.split(r"[ ;<>=!~\\[(]", r, maxsplit=1)[0] for r in m.requires("xlgd") if "extra ==" not in r]
print(json.dumps({n: str(m.distribution(n).locate_file("")) for n in names}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, bin directory of a plain venv holding the wheel's xlgd and the dependencies it names)."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp)
    env = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", env], cwd=tmp)
    bindir = env / ("Scripts" if os.name == "nt" else "bin")
    install_with_dependencies(bindir / "python", wheel, cwd=tmp)
    where = run([bindir / "python", "-c", "import xlgd; print(xlgd.__file__)"], cwd=tmp).strip()
    assert Path(where).is_relative_to(env), f"the venv imports xlgd from {where}, not from the wheel"
    return wheel, bindir


def test_installed_dependencies_come_from_the_wheels_metadata(installed):
    """Every dependency the wheel names is installed in the venv itself: none is borrowed from
    the interpreter that runs the tests (which a plain `python3 -m venv` user does not have)."""
    _, bindir = installed
    env = bindir.parent
    found = json.loads(run([bindir / "python", "-c", WHERE_DEPENDENCIES], cwd=env))
    assert {"openpyxl", "xlsxwriter", "numpy", "pandas", "lxml", "orjson"} <= {n.lower() for n in found}
    outside = {n: p for n, p in found.items() if not Path(p).resolve().is_relative_to(env.resolve())}
    assert outside == {}, f"dependencies found outside the venv {env}: {outside}"


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


@pytest.mark.parametrize("index", ["http://127.0.0.1:9/simple", "https://no-such-host.invalid/simple"])
def test_an_unreachable_index_is_what_skips_the_install(index, tmp_path):
    """pip's own words, with the fixture's options, when its only index refuses the connection
    or has no address are the ones NO_INDEX skips on; a requirement that a reachable index
    cannot satisfy is not among them."""
    cmd = [sys.executable, "-m", "pip", "download", *PIP_OPTIONS, "--no-deps", "-d", tmp_path, "xlsxwriter==3.3.1"]
    isolated = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_INDEX_URL": index}
    r = subprocess.run([str(c) for c in cmd], env=isolated, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and NO_INDEX.search(r.stderr + r.stdout), r.stderr
    unsatisfiable = [str(c) for c in cmd[:-1]] + ["xlsxwriter==0.0.0.1"]
    r = subprocess.run(unsatisfiable, env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "",
                                           "PIP_INDEX_URL": f"file://{tmp_path}/empty-index"},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and not NO_INDEX.search(r.stderr + r.stdout), r.stderr

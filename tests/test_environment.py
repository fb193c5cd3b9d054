"""A missing or broken dependency is the user's environment: one line naming the package and
the pip command that installs it, exit 2 (the CLI) or MissingDependency (the API, plot) --
never "internal error ... a bug in xlgd".

Each case runs in a subprocess whose Python cannot import the package: `sys.modules[name] =
None` (what Python does for a module it was told is absent), or a package of that name on
the path whose import fails (a broken install).
"""

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from xlgd.errors import DEPENDENCIES, PLOT_EXTRA, MissingDependency, dependency_error

ROOT = Path(__file__).resolve().parents[1]

# The CLI with the modules named in argv[1] (comma-separated, maybe none) unimportable; argv[2:] is its command line.
CLI_WITHOUT = """
import sys
for name in filter(None, sys.argv[1].split(",")):
    sys.modules[name] = None
from xlgd.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_python(code, *args, cwd, pythonpath=()):
    env_path = ":".join([*map(str, pythonpath), str(ROOT)])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path, "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("env") / "two.xlsx"
    r = run_python(CLI_WITHOUT, "", "generate", "two-neuron", "-q", "-o", path, cwd=path.parent)
    assert r.returncode == 0, r.stderr
    return path


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def names(requirements):
    return {re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_dependencies_xlgd_names_are_pyprojects():
    project = pyproject()
    assert set(DEPENDENCIES) == names(project["dependencies"])
    assert set(PLOT_EXTRA) == names(project["optional-dependencies"]["plot"])


def third_party_imports(folder: Path) -> set[str]:
    """The top-level names of every import in the folder's modules that are neither the
    standard library's nor a module of the folder itself."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {p.stem for p in folder.glob("*.py")} - {"xlgd", folder.name}


def test_xlgd_imports_no_third_party_package_pyproject_does_not_name():
    """A package xlgd imports but pyproject leaves out installs on the machine that has it and
    fails in every fresh environment."""
    # uno and com: LibreOffice's bridge, imported only by xlsx/_lo_dump.py, which the system Python runs.
    assert third_party_imports(ROOT / "xlgd") - {"uno", "com"} <= set(DEPENDENCIES) | set(PLOT_EXTRA)


def test_the_tests_import_only_what_the_test_extra_installs():
    """`pip install -e '.[test]'` in a plain venv is all the suite gets (.ci/run)."""
    declared = set(DEPENDENCIES) | names(pyproject()["optional-dependencies"]["test"])
    importable_as = {"pillow": "pil"}
    assert {m.lower() for m in third_party_imports(ROOT / "tests")} <= {importable_as.get(n, n) for n in declared}


@pytest.mark.parametrize("module,command", [
    ("xlsxwriter", ["generate", "two-neuron", "-q", "-o", "out.xlsx"]),
    ("numpy", ["generate", "two-neuron", "-q", "-o", "out.xlsx"]),
    ("orjson", ["generate", "two-neuron", "-q", "-o", "out.xlsx"]),
    ("lxml", ["verify", "BOOK"]),
    ("lxml", ["diff", "BOOK", "BOOK"]),
    ("numpy", ["verify", "BOOK"]),
])
def test_a_missing_dependency_is_one_line_and_exit_2(module, command, book, tmp_path):
    argv = [book if a == "BOOK" else a for a in command]
    r = run_python(CLI_WITHOUT, module, *argv, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"xlgd: xlgd needs {module}, which is not installed: ")
    assert f"-m pip install '{module}" in r.stderr
    assert "internal error" not in r.stderr and "bug" not in r.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_a_broken_dependency_is_one_line_and_exit_2(book, tmp_path):
    """lxml is found but its import fails (a half-installed or mismatched build)."""
    broken = tmp_path / "site" / "lxml"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("lxml.etree: undefined symbol xmlFreeDoc")\n')
    r = run_python(CLI_WITHOUT, "", "verify", book, cwd=tmp_path, pythonpath=[tmp_path / "site"])
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("xlgd: xlgd needs lxml, which is installed but does not import "
                               "(lxml.etree: undefined symbol xmlFreeDoc): ")
    assert "-m pip install --force-reinstall 'lxml" in r.stderr


def test_an_import_error_inside_xlgd_is_no_dependencys_fault():
    try:
        import xlgd.no_such_module  # noqa: F401
    except ImportError as e:
        assert dependency_error(e) is None
    else:
        pytest.fail("xlgd.no_such_module imported")


# The notebook API with argv[1] unimportable: what each call raises, one line per call.
API_WITHOUT = """
import sys
sys.modules[sys.argv[1]] = None
import xlgd
calls = {
    "run": lambda: xlgd.run(model="linear2", epochs=1),
    "run.plot": lambda: xlgd.run(model="linear2", epochs=1).plot(),
    "sweep.plot": lambda: xlgd.sweep(model="linear2", lr=[1e-4, 1e-3], epochs=1).plot(),
    "generate": lambda: xlgd.generate("two-neuron", "out.xlsx"),
}
for name in sys.argv[2:]:
    try:
        calls[name]()
        print(name, "ok")
    except Exception as e:
        print(name, type(e).__name__, isinstance(e, xlgd.errors.XlgdError), e)
"""


@pytest.mark.parametrize("module,calls", [
    ("matplotlib", ["run.plot", "sweep.plot"]),
    ("pandas", ["run", "generate"]),
    ("xlsxwriter", ["generate"]),
])
def test_the_api_raises_missing_dependency(module, calls, tmp_path):
    r = run_python(API_WITHOUT, module, *calls, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [[c, MissingDependency.__name__, "True"] for c in calls]
    for call, line in zip(calls, lines):
        assert f" needs {module}" in line and f"-m pip install '{module}" in line
        if module == "matplotlib":
            assert "plot() needs matplotlib (the [plot] extra), which is not installed" in line
        else:
            assert f"xlgd.{call} needs {module}, which is not installed" in line

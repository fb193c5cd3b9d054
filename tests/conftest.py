"""Shared fixtures: the reference workbook and the peers (LibreOffice, torch)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "graddesc-2018.xlsm"


@pytest.fixture(scope="session")
def reference_xlsm():
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} not found (the shared reference shelf sits beside the repo)")
    return REFERENCE


@pytest.fixture(scope="session")
def lo_exact():
    """LibreOffice with UNO: exact recalculated doubles of every cell."""
    from xlgd.xlsx import libreoffice

    if not libreoffice.soffice() or not libreoffice.system_python_with_uno():
        pytest.skip("LibreOffice with python3-uno is not installed")
    return libreoffice.recalc_values


@pytest.fixture(scope="module")
def graddesc_book(tmp_path_factory):
    """A freshly generated two-epoch graddesc workbook and its recipe."""
    from xlgd.recipe.template import Overrides, load_recipe
    from xlgd.pipeline import build

    recipe = load_recipe("graddesc", Overrides(epochs=2))
    path = tmp_path_factory.mktemp("graddesc") / "g.xlsx"
    build(recipe, path)
    return path, recipe


def pytest_sessionfinish(session, exitstatus):
    """Every xlgd module the tests imported came from this checkout.

    An editable install elsewhere on the machine answers for module names this
    checkout does not have (a module renamed here still imports from there), so
    a test can pass against code that is not ours; fail the run instead."""
    import sys

    stray = sorted(name for name, mod in list(sys.modules.items())
                   if (name == "xlgd" or name.startswith("xlgd.")) and getattr(mod, "__file__", None)
                   and not Path(mod.__file__).resolve().is_relative_to(ROOT))
    if stray:
        sys.stderr.write(f"\nxlgd modules imported from outside {ROOT}: {', '.join(stray)}\n")
        session.exitstatus = 1

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
    from xlgd import libreoffice

    if not libreoffice.soffice() or not libreoffice.system_python_with_uno():
        pytest.skip("LibreOffice with python3-uno is not installed")
    return libreoffice.recalc_values


@pytest.fixture(scope="module")
def graddesc_book(tmp_path_factory):
    """A freshly generated two-epoch graddesc workbook and its recipe."""
    from xlgd.template import load_recipe
    from xlgd.workbook import write_workbook

    recipe = load_recipe("graddesc", epochs=2)
    path = tmp_path_factory.mktemp("graddesc") / "g.xlsx"
    write_workbook(recipe, path)
    return path, recipe

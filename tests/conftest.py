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

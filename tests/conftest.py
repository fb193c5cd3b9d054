"""Shared fixtures: the reference workbook and the peers (LibreOffice, torch).

The reference workbook is Jeremy Howard's graddesc.xlsm, whose cached values
are Excel's own arithmetic: the oracle for the engine. It is not ours to
redistribute, so it is never in the repository; `reference_path()` is the one
place that says where it is. Tests that need it are marked `graddesc` (using
the `reference_xlsm` fixture marks a test too) and are skipped without it,
with one line saying how to get it.

CI cannot pass by skipping a peer: `.ci/run` sets XLGD_REQUIRE_MARKERS (e.g.
"graddesc libreoffice torch chromium"), and a test carrying one of those
markers that skips anyway is reported as failed, with the skip's reason.
`graddesc` is required only when the workbook is there (or XLGD_GRADDESC is
set): a bare clone cannot have it.
"""

import os
from pathlib import Path

import pytest

from tests.ooxml_helpers import validator_path

ROOT = Path(__file__).resolve().parents[1]
GRADDESC_ENV = "XLGD_GRADDESC"
REQUIRE_ENV = "XLGD_REQUIRE_MARKERS"
FIXTURE_MARKERS = {"reference_xlsm": "graddesc", "lo_exact": "libreoffice"}
NO_REFERENCE = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def shipped_books(tmp_path_factory):
    """Every template in templates/, generated once for the whole run: {template: path}.
    Tests only read them (a test that edits one copies it first)."""
    from xlgd.pipeline import build
    from xlgd.recipe.template import load_recipe

    folder = tmp_path_factory.mktemp("shipped")
    out = {}
    for template in sorted(p.stem for p in (ROOT / "templates").glob("*.toml")):
        out[template] = folder / f"{template}.xlsx"
        build(load_recipe(template), out[template])
    return out


def reference_path() -> Path:
    """XLGD_GRADDESC if set, else ../shared/reference/graddesc-2018.xlsm beside the repository."""
    env = os.environ.get(GRADDESC_ENV)
    return Path(env).expanduser() if env else ROOT.parent / "shared" / "reference" / "graddesc-2018.xlsm"


def skip_without_reference():
    path = reference_path()
    if not path.is_file():
        pytest.skip(f"Excel-oracle test: no reference workbook at {path}; get graddesc.xlsm from fast.ai's "
                    f"course-v3 repository (files/xl/graddesc.xlsm) and run with {GRADDESC_ENV}=/path/to/graddesc.xlsm")
    return path


def required_markers() -> set[str]:
    required = set(os.environ.get(REQUIRE_ENV, "").replace(",", " ").split())
    if not (reference_path().is_file() or os.environ.get(GRADDESC_ENV)):
        required.discard("graddesc")
    if not validator_path().is_file():
        required.discard("ooxml")  # the shelf tool is not beside this checkout
    return required


def pytest_collection_modifyitems(items):
    # A test that uses a peer's fixture is marked for that peer, so no
    # dependence on the reference or LibreOffice goes unmarked.
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()) and not item.get_closest_marker(marker):
                item.add_marker(marker)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("graddesc") and not reference_path().is_file():
        item.stash[NO_REFERENCE] = True  # skipped for the workbook alone: its other peers are not asked
        skip_without_reference()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    needed = required_markers() & {m.name for m in item.iter_markers()}
    if item.stash.get(NO_REFERENCE, False):
        needed &= {"graddesc"}
    if needed:
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but {REQUIRE_ENV} requires {', '.join(sorted(needed))} tests to run: {why}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    # A module skipped while being imported (pytest.importorskip at the top)
    # hides its markers; under CI that is a failure too.
    report = (yield).get_result()
    if report.skipped and os.environ.get(REQUIRE_ENV) and isinstance(collector, pytest.Module):
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{collector.nodeid} skipped while {REQUIRE_ENV} is set: {why}"


@pytest.fixture(scope="session")
def reference_xlsm():
    """The reference workbook (read-only: tests copy it before changing anything)."""
    return skip_without_reference()


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
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

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

"""What a learner sees in a generated workbook: formats, colours, the intro, printing, the file's properties."""

import pytest

from xlgd import __version__
from xlgd.book.write import app_version
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Every shipped template, generated once: {template: path}."""
    d = tmp_path_factory.mktemp("learner")
    out = {}
    for name in ("graddesc", "two-neuron", "lr-sweep", "momentum-sine"):
        out[name] = d / f"{name}.xlsx"
        build(load_recipe(name), out[name])
    return out


def test_app_properties_name_xlgd_and_its_version(books):
    for path in books.values():
        with Package.open(path) as book:
            assert book.application == f"xlgd {__version__}"
            app = book.part("docProps/app.xml").decode()
        assert "Microsoft Excel" not in app
        assert f"<AppVersion>{app_version(__version__)}</AppVersion>" in app


def test_app_version_has_the_xx_yyyy_form():
    assert app_version("0.1.0") == "00.0100"
    assert app_version("1.12.3") == "01.1203"

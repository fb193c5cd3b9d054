"""Every template as LibreOffice prints it: no ### anywhere, and a bounded number of pages.

The pages are LibreOffice's own PDF export (soffice --convert-to pdf: every
visible sheet's print area, as a printer would get it); their text is read
with pdftotext and counted with pdfinfo (Debian poppler-utils, which .ci/run
installs). A cell too narrow for its number prints as ###, so no ### in the
text means every number fits its column, in the exploded sheets too.
"""

import re
import shutil
import subprocess

import pytest

from tests.test_charts_helpers import soffice_convert
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe

# Pages LibreOffice 7.4 prints on A4/Letter: graddesc 12, two-neuron 10, lr-sweep 12, momentum-sine 10
# (without print areas and fit-to-width: 113, 116, 123 and 46).
PAGE_BOUND = {"graddesc": 15, "two-neuron": 14, "lr-sweep": 16, "momentum-sine": 14}

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


@pytest.mark.parametrize("template", sorted(PAGE_BOUND))
def test_printed_pages_have_no_hashes_and_few_pages(template, tmp_path):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        pytest.skip("pdftotext/pdfinfo not installed (Debian poppler-utils; .ci/run installs it)")
    book = tmp_path / f"{template}.xlsx"
    build(load_recipe(template), book)
    pdf = soffice_convert(book, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    hashes = [line for line in text.splitlines() if "###" in line]
    assert not hashes, f"{len(hashes)} printed lines hold ###, first: {hashes[:3]}"
    assert 3 <= pages <= PAGE_BOUND[template]
    # The numbers that exploded are printed, in scientific notation, and the page footer names the sheet.
    if template == "two-neuron":
        assert re.search(r"\d\.\d\dE\+2\d\d", text) and "linear2" in text
    assert re.search(r"Page 1 of \d+", text)

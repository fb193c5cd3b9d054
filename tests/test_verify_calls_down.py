"""Following a workbook through `verify`, calls go down: check/ and the evaluator call xlsx/ for rows
and get data back; no function of check/ or evaluator/ runs while a function of xlsx/ is on the stack."""

import os
import sys

import pytest

import xlgd
from xlgd.check.steptable import CachedLayout, RowMatcher
from xlgd.check.verify import verify_book
from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe
from xlgd.xlsx import package
from xlgd.xlsx.rowtemplate import match_rows

ROOMS = {room: os.path.join(os.path.dirname(xlgd.__file__), room) + os.sep for room in ("check", "evaluator", "xlsx")}


def _climbs(fn):
    """Calls into check/ or evaluator/ made while a function of xlsx/ is on the stack, as
    'xlsx function -> called function', while fn runs."""
    found = set()

    def hook(frame, event, arg):
        if event != "call" or not frame.f_code.co_filename.startswith((ROOMS["check"], ROOMS["evaluator"])):
            return
        up = frame.f_back
        while up is not None and not up.f_code.co_filename.startswith(ROOMS["xlsx"]):
            up = up.f_back
        if up is not None:
            found.add(f"{up.f_code.co_name} -> {frame.f_code.co_name}")

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return found


def test_a_call_back_up_is_seen():
    """(The watch itself: xlsx's row matcher handed a check object as its template calls up into it.)"""
    spec = load_recipe("graddesc", Overrides(epochs=2)).sheets[0]
    matcher = RowMatcher(spec, CachedLayout(spec))
    matcher.text = matcher.learn  # a template whose rows are check's to render

    def match():
        try:
            match_rows('<row r="1"></row>', 0, matcher, 1, 0)
        except TypeError:
            pass
    assert _climbs(match) == {"match_rows -> learn"}


@pytest.mark.slow
def test_verify_calls_only_down_into_xlsx(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "CHUNK", 20_000)  # many pieces: rows matched whole, rows scanned, tails
    path = tmp_path / "g.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=4)), path)
    reports = []
    assert _climbs(lambda: reports.append(verify_book(path))) == set()
    assert reports[0].ok

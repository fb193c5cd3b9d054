"""Rows taken whole by the row matcher give what the cell-by-cell reader gives, clean or edited.

The cell-by-cell path (`FAST_ROWS = False`, engine in-process) is the reference the other verify
tests prove against Excel, LibreOffice and edits; here every sheet of the
13-sheet matrix (exploding #NUM! and #DIV/0! sheets included) and a set of
edited workbooks are read both ways, with the scanner's piece size cut small
so pieces of many rows, pieces starting mid-table and edits inside a piece
all occur."""

import re

import numpy as np
import pytest

from tests.verify_helpers import (
    edit_zip,
    set_constant,
    set_formula,
    set_value,
    sheet_part,
)
from xlgd.check import steptable, verify, xlgd_sheet
from xlgd.check.listed_cells import CheckContext
from xlgd.check.steptable import CachedLayout, RowMatcher, read_xlgd_sheet
from xlgd.layout import Layout
from xlgd.pipeline import build
from xlgd.recipe.template import Overrides, load_recipe
from xlgd.xlsx import package
from xlgd.xlsx.package import Package


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    p = tmp_path_factory.mktemp("fast") / "m.xlsx"
    recipe = load_recipe("tests/data/matrix.toml", Overrides(epochs=4))
    build(recipe, p)
    return p, recipe


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(package, "CHUNK", 20_000)


def _read(path, spec, fast, monkeypatch):
    monkeypatch.setattr(steptable, "FAST_ROWS", fast)
    with Package.open(path) as book:
        ctx = CheckContext(book, 0.0, None, book.producer, False)
        return read_xlgd_sheet(ctx, spec, Layout(spec))


def _same_table(a, b):
    assert np.array_equal(a.vals.view(np.int64), b.vals.view(np.int64))  # bit for bit, nan included
    assert np.array_equal(a.seen, b.seen)
    assert a.errs == b.errs and a.formula_fail == b.formula_fail and a.cells == b.cells
    assert a.misc == b.misc and a.no_cache == b.no_cache


@pytest.mark.slow
def test_every_matrix_sheet_reads_the_same(matrix, small_pieces, monkeypatch):
    p, recipe = matrix
    whole = 0
    for spec in recipe.sheets:
        fast = _read(p, spec, True, monkeypatch)
        slow = _read(p, spec, False, monkeypatch)
        _same_table(fast, slow)
        assert slow.rows_whole == 0
        whole += fast.rows_whole
    # The matcher did take most rows whole (else this test would prove nothing).
    assert whole > 0.5 * sum(s.n_steps for s in recipe.sheets)


@pytest.fixture(scope="module")
def long_sheet(tmp_path_factory):
    p = tmp_path_factory.mktemp("fast") / "long.xlsx"
    recipe = load_recipe("benchmarks/verify_adam.toml", Overrides(epochs=60))  # 1,740 rows: blocks of 100 rows occur
    build(recipe, p)
    return p, recipe


@pytest.mark.slow
def test_long_sheet_reads_the_same(long_sheet, small_pieces, monkeypatch):
    p, recipe = long_sheet
    spec = recipe.sheets[0]
    fast = _read(p, spec, True, monkeypatch)
    _same_table(fast, _read(p, spec, False, monkeypatch))
    assert fast.rows_whole > 0.9 * spec.n_steps


@pytest.mark.slow
def test_a_formula_per_cell_reads_the_same(long_sheet, small_pieces, monkeypatch, tmp_path):
    """Shared formulas written out cell by cell (older xlgd, openpyxl, LibreOffice): rows still taken whole."""
    from lxml import etree

    from tests.diffedits import unshare

    p, recipe = long_sheet
    spec = recipe.sheets[0]

    def plain(text):
        root = etree.fromstring(text.encode())
        unshare(root)
        return etree.tostring(root, encoding="unicode")

    q = edit_zip(p, tmp_path / "plain.xlsx", sheet_part(p, spec.name), plain)
    fast = _read(q, spec, True, monkeypatch)
    _same_table(fast, _read(q, spec, False, monkeypatch))
    _same_table(fast, _read(p, spec, True, monkeypatch))
    assert fast.rows_whole > 0.9 * spec.n_steps


def test_row_blocks_render_as_rows(long_sheet):
    """Rows rendered 100 at a time (`PeriodicRows.block`) are the rows rendered one by one."""
    p, recipe = long_sheet
    spec = recipe.sheets[0]
    mt = RowMatcher(spec, CachedLayout(spec))
    with Package.open(p) as b:
        body = next(b.bodies(spec.name))
    rows = [t + "</row>" for t in body.split("</row>")[:-1]]
    assert any(mt.learn(t) for t in rows[6:])
    first, N = mt.first_row, spec.n_steps
    blocks = 0
    for R in range(0, first + N + 200, 100):
        got = mt.rows.block(R, 100)
        if got is None:
            assert R < 200 or R - first < spec.epochs or R + 99 >= first + N
            continue
        blocks += 1
        want = "</row>".join(mt.rows.text(r) for r in range(R, R + 100))
        if got != want:  # (no assert on the strings: pytest would diff megabytes)
            at = next((j for j, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
            pytest.fail(f"rows {R}..: blocks differ at {at}: {got[at - 40:at + 40]!r} vs {want[at - 40:at + 40]!r}")
    assert blocks > 10  # blocks were rendered (else this test would prove nothing)
    assert mt.rows.text(first - 1) is None and mt.rows.text(first + N) is None


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    p = tmp_path_factory.mktemp("fast") / "g.xlsx"
    recipe = load_recipe("graddesc", Overrides(epochs=4))
    build(recipe, p)
    return p, recipe


def _cell_attr(ref, extra):
    return lambda t: t.replace(f'<c r="{ref}"', f'<c r="{ref}"{extra}', 1)


def _edits(lay):
    f = lay.formula("m_a", 40)[1:]
    mse = lay.epoch_letter("mse") + str(lay.epoch_row(2))
    return {
        "formula": lambda t: set_formula(t, lay.cell("m_a", 40), f.replace(lay.cell("g_a", 40), lay.cell("g_a", 39))),
        "constant": lambda t: set_constant(t, lay.cell("new_b", 70), "1.25"),
        "stale": lambda t: set_value(t, lay.cell("pred", 90), "3.5"),
        "error": _cell_attr(lay.cell("err", 55), ' t="e"'),
        "text": _cell_attr(lay.cell("err", 56), ' t="str"'),
        "nocache": lambda t: set_value(t, lay.cell("a", 33), ""),
        "input": lambda t: set_value(t, lay.input_cell("lr"), "0.5"),
        "epoch cell": lambda t: set_value(t, mse, "7.5"),
        "style": lambda t: re.sub(r'(<c r="%s" s=")(\d+)' % lay.cell("x", 60), r"\g<1>1\2", t, count=1),
        "row gone": lambda t: re.sub(r'<row r="%d"[^>]*>.*?</row>' % lay.step_row(80), "", t, count=1, flags=re.DOTALL),
        # The first step row holds each shared formula's run: a tool that edits the text there (not
        # Excel, which splits the run) changes the formula of every row below.
        "run": lambda t: re.sub(r'(<c r="%s"[^>]*><f t="shared"[^>]*>)[^<]*' % lay.cell("pred", 0),
                                r"\g<1>" + lay.formula("pred", 0)[1:].replace("+", "-"), t, count=1),
    }


@pytest.mark.parametrize("which", [pytest.param("formula", marks=pytest.mark.slow), "constant", "stale", "error", "text",
                                   "nocache", "input", "epoch cell", pytest.param("style", marks=pytest.mark.slow),
                                   "row gone", pytest.param("run", marks=pytest.mark.slow)])
def test_edited_books_report_the_same(book, small_pieces, monkeypatch, tmp_path, which):
    p, recipe = book
    lay = Layout(next(s for s in recipe.sheets if s.name == "adam"))
    q = edit_zip(p, tmp_path / "e.xlsx", sheet_part(p, "adam"), _edits(lay)[which])
    monkeypatch.setattr(steptable, "FAST_ROWS", True)
    monkeypatch.setattr(xlgd_sheet, "ENGINE_AHEAD_ROWS", 0)  # and the engine in a child process
    fast = verify.verify_book(q).as_dict()
    monkeypatch.setattr(steptable, "FAST_ROWS", False)
    monkeypatch.setattr(xlgd_sheet, "ENGINE_AHEAD_ROWS", 10 ** 9)
    slow = verify.verify_book(q).as_dict()
    assert fast == slow
    assert fast["ok"] == (which == "style"), fast


def test_values_read_as_float_reads_them():
    """steptable.numbers: the fast reading of a row's cached values gives float()'s doubles, bit for bit."""
    from xlgd.check.steptable import numbers

    rng = np.random.default_rng(5)
    vals = rng.integers(0, 2**64 - 1, 100_000, dtype=np.uint64).view(np.float64)
    vals = vals[np.isfinite(vals)]
    texts = [repr(v) for v in vals.tolist()] + ["1e+16", "1E-5", "-0.0", "0", "-0", "12345678901234567890123", ".5", "1."]
    got = numbers(texts)
    want = np.array([float(t) for t in texts])
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    for bad in (["1", "true"], ["1", "null"], ["1,5"], ["inf", "x"], ["[1]"], [""]):
        assert numbers(bad) is None, bad
    assert numbers(["inf", "1"])[0] == np.inf  # what float() reads, JSON does not: numpy reads it

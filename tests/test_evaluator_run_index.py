"""The run index finds the runs covering cells, array formulas by every cell of their range."""

from types import SimpleNamespace

from xlgd.evaluator.graph import WIDE_ARRAY, RunIndex


def _run(ident, col, first_row, last_row, array=None, sheet="s"):
    return SimpleNamespace(id=ident, sheet=sheet, col=col, r0=first_row, r1=last_row, array=array)


def _index():
    column = _run(0, 1, 1, 10)  # A1:A10
    arrays = [_run(1 + k, 3, 2 * k + 1, 2 * k + 1, array=(2 * k + 1, 3, 2 * k + 2, 4)) for k in range(50)]
    wide = _run(99, 6, 200, 200, array=(200, 6, 200, 6 + WIDE_ARRAY + 5))
    return RunIndex([column, *arrays, wide, _run(100, 3, 1, 1, sheet="other")])


def _brute(runs, sheet, first_col, last_col, first_row, last_row):
    out = set()
    for run in runs:
        if run.sheet != sheet:
            continue
        r0, c0, r1, c1 = run.array or (run.r0, run.col, run.r1, run.col)
        if r0 <= last_row and r1 >= first_row and c0 <= last_col and c1 >= first_col:
            out.add(run.id)
    return out


def test_overlapping_equals_a_search_of_every_run():
    index = _index()
    runs = [run for lst in index.by_col.values() for run in lst]
    queries = [(c0, c1, r0, r1) for c0 in (1, 3, 4, 5, 7) for c1 in (c0, c0 + 2, c0 + 100) for r0 in (1, 2, 37, 200)
               for r1 in (r0, r0 + 3, r0 + 60)]
    for query in queries:
        got = [run.id for run in index.overlapping("s", *query)]
        assert len(got) == len(set(got)), query
        assert set(got) == _brute(runs, "s", *query), query


def test_a_cell_of_an_array_formula_is_found_at_any_of_its_cells():
    index = _index()
    assert index.at("s", 4, 4).id == 2  # the array over C3:D4
    assert index.at("s", 200, 6 + WIDE_ARRAY).id == 99
    assert index.at("s", 5, 2) is None
    assert index.at("other", 1, 3).id == 100

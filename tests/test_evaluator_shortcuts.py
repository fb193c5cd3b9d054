"""The evaluator's shortcuts for many runs give what the long way gives.

Formulas whose texts differ only in row numbers are parsed once (`prepare.Family`). Each text is
prepared twice -- after the texts before it, so its family has
been learned, and by a fresh Preparer, so it is parsed -- and both must give
the same tree, the same reason, the same targets. The texts put digits where
a row number is not one: in a string, a name, a sheet name, a function's
name, an exponent; ranges whose ends come out reversed; whole rows.

Runs of one recurrent formula (an epoch's running sum) are checked together (`rows.alone`): epochs
with text, an error or an overflow among plain ones must each come out as the spreadsheet says.
"""

import openpyxl
import pytest

from xlgd.evaluator import Run, open_and_evaluate
from xlgd.evaluator.prepare import Names, Preparer

FAMILIES = [
    ["$AC$6", "$AC$7", "$AC$100", "$AC$1048576", "$AC$1048577", "$AC$60"],
    ["O35/29", "O64/29", "O93/29"],
    ["A5:A9*2", "A9:A5*2", "A3:A7*2", "$A$7:A5*2", "A$5:$A$9*2"],
    ["SUM(A5:A9)", "SUM(A9:A5)", "SUM(A3:A3)", "SUM(A5:B9)+A1"],
    ['IF(A5>0,"x1","y")', 'IF(A6>0,"x2","y")', 'IF(A7>0,"x3","y")'],
    ["beta1*A5", "beta2*A6", "beta3*A7"],
    ["'Q1 data'!A5", "'Q2 data'!A5", "'Q1 data'!A6"],
    ["Sheet1!A5", "Sheet1!A6", "Sheet2!A6"],
    ["1E5+A1", "1E6+A2", "1E7+A3"],
    ["LOG10(A5)+ATAN2(A5,B5)", "LOG10(A6)+ATAN2(A6,B6)"],
    ["SUM($5:$5)", "SUM($6:$7)", "SUM($9:$3)"],
    ["ROWS(A5:A9)+B5", "ROWS(A5:A12)+B6", "COLUMNS(A5:C5)+B7"],
    ["A5+A5", "A6+A7", "A8+A8"],
    ["rng*A5", "rng*A6", "SUM(rng2)+A7", "nope*A7"],
    ["RAND()+A5", "RAND()+A6"],
    ["A5+", "A6+"],
    ["INDEX(B5:B9,2)+C5", "INDEX(B6:B10,3)+C6"],
    ["A05+A5", "A05+A6", "A5+A05"],
]
DEFINED = {(None, "beta1"): "s!$B$1", (None, "beta2"): "s!$B$2", (None, "rng"): "s!$C$3",
           (None, "rng2"): "s!$C$3:$C$9", ("s", "beta3"): "0.5"}
SHEETS = ["s", "Sheet1", "Sheet2", "Q1 data", "Q2 data"]


def _seen(p):
    return (repr(p.expr), p.reason, p.volatile, repr(p.leaves), p.targets, p.vector, p.strict, p.numbers_only,
            p.dynamic, p.ulp)


@pytest.mark.parametrize("texts", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_a_family_gives_what_parsing_gives(texts):
    prep = Preparer(Names(DEFINED, SHEETS))
    for i, text in enumerate(texts * 2):  # twice: the family known from the first text on
        run = Run("s", 4, 20 + i, 30 + i, text)
        fresh = Preparer(Names(DEFINED, SHEETS))(Run("s", 4, 20 + i, 30 + i, text))
        assert _seen(prep(run)) == _seen(fresh), text


def test_families_are_learned_and_refused():
    prep = Preparer(Names(DEFINED, SHEETS))
    for i, texts in enumerate(FAMILIES):
        for text in texts:
            prep(Run("s", 4 + i, 20, 30, text))
    learned = {k[0]: v is not None for k, v in prep.families.items()}
    assert learned[("$AC$", "")] and learned[("O", "/29")] and learned[("SUM($", ":$", ")")]
    assert not learned[('IF(A', '>0,"x', '","y")')]  # a number inside a string
    assert not learned[("beta", "*A", "")]  # a number inside a name
    assert not learned[("RAND()+A", "")]  # not evaluated: each says why


def test_a_probe_leaves_no_name_behind():
    names = Names(DEFINED, SHEETS)
    prep = Preparer(names)
    prep(Run("s", 4, 20, 30, "beta1*A5"))
    prep(Run("s", 4, 21, 31, "beta2*A6"))
    assert names.used == {("s", "beta1"), ("s", "beta2")}


def test_a_column_of_epoch_cells_evaluates(tmp_path):
    """`=$A$k*2` on rows 1..60 (a run every 3 rows, k moving), `=B(3k)/3`, ranges and sums beside,
    each column one family of texts: the values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for r in range(1, 61):
        ws.cell(r, 1, float(r) + 0.25)
        ws.cell(r, 2, f"=$A${(r - 1) // 3 + 1}*2")
        ws.cell(r, 3, f"=B{min(60, 3 * r)}/3")
        ws.cell(r, 4, f"=SUM($A${r}:A{max(1, 61 - r)})")
        ws.cell(r, 5, f"=A{r}+A{r if r % 2 else r - 1}")  # one family; a row reads one cell twice, the next two
    p = tmp_path / "epochs.xlsx"
    wb.save(p)
    ev = open_and_evaluate(p, dialect="excel")
    a = [float(r) + 0.25 for r in range(1, 61)]
    b = [a[(r - 1) // 3] * 2 for r in range(1, 61)]
    for r in range(1, 61):
        assert ev.value("s", r, 2) == b[r - 1]
        assert ev.value("s", r, 3) == b[min(60, 3 * r) - 1] / 3
        lo, hi = sorted((r, max(1, 61 - r)))
        assert ev.value("s", r, 4) == pytest.approx(sum(a[lo - 1:hi]), rel=1e-15)
        assert ev.value("s", r, 5) == a[r - 1] + a[(r if r % 2 else r - 1) - 1]
    assert len(ev.book.runs) > 50  # the columns are many runs: the families were used


def test_epoch_running_sums_with_trouble(tmp_path):
    """G: an epoch's running sum of F (`=F6`, then `=G6+F7` ...), 12 epochs of 5 rows; epoch 3 meets
    text, epoch 5 overflows, epoch 7 reads #DIV/0!, the others are plain numbers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    f = {}
    for k in range(12):
        for i in range(5):
            r = 1 + 5 * k + i
            f[r] = {3: "x" if i == 2 else 1.5, 5: 1e308, 7: "=1/0" if i == 1 else 0.25}.get(k, r / 8)
            ws.cell(r, 6, f[r])
            ws.cell(r, 7, f"=F{r}" if i == 0 else f"=G{r - 1}+F{r}")
    p = tmp_path / "sums.xlsx"
    wb.save(p)
    ev = open_and_evaluate(p, dialect="excel")
    for k in range(12):
        total = None
        for i in range(5):
            r = 1 + 5 * k + i
            v = "#DIV/0!" if f[r] == "=1/0" else "#VALUE!" if f[r] == "x" else f[r]
            if i == 0:
                total = v
            elif isinstance(total, str) or isinstance(v, str):
                total = total if isinstance(total, str) else v
            else:
                total = total + v
                if total == float("inf"):
                    total = "#NUM!"
            assert ev.value("s", r, 7) == total, (k, i)
    assert len(ev.book.sheets["s"].runs[7]) == 24  # an epoch's first row and the rest: two runs each


def test_a_run_alone_is_in_row_order_as_row_order_says():
    """`graph.alone_in_order` answers what `graph.row_order` of a group of one answers."""
    from xlgd.evaluator.graph import alone_in_order, row_order

    names = Names({}, ["s", "t"])
    texts = ["D19+1", "D20", "D21", "$D$5+C20", "$D$30", "SUM(D5:D19)", "SUM(D5:D20)", "SUM($D$5:D19)",
             "SUM(C5:E19)", "SUM(C5:E20)", "t!D20", "E20+D19", "SUM(D:D)", "MAX(D18,D19)+C21"]
    for text in texts:
        p = Preparer(names)(Run("s", 4, 20, 40, text))
        assert alone_in_order(p.run, p.targets) == (row_order([p.run], lambda run: p.targets) == [4]), text

"""Recognising a hand-made gradient-descent sheet: which weights, which learning rate, which update.

A learner's table unrolls SGD the way graddesc does: a weight column whose
next row reads a "new weight" column (`B6 =M5`), and the new weight computed
from the weight, a gradient and a learning-rate cell every update reads
(`M5 =B5-$F$1*I5`). Where that evidence is clear -- every weight column found
this way, one learning-rate cell shared by all updates -- verify says what it
found, so a person can see the sheet was understood; where it is not, it
says nothing (a note, never a cause).
"""

from __future__ import annotations

from ..core.expr import Bin, CellRef, leaves
from ..xlsx.refs import a1, col_letters
from ..evaluator import Evaluation
from ..evaluator.prepare import calls
from .report import fmt_value


def describe_descent(ev: Evaluation, sheet: str, header) -> str | None:
    """One line naming the weights, the learning rate and the update rule, or None."""
    sc = ev.book.sheets[sheet]
    pairs = []
    for col, runs in sorted(sc.runs.items()):
        for run in runs:
            src = _previous_row_copy(ev, run)
            if src is not None and run.n >= 2:
                pairs.append((col, src, run.r0 - 1))
                break
    if not pairs:
        return None
    rates, rules = set(), set()
    for w, nw, row in pairs:
        found = _update(ev, sheet, nw, w, row)
        if found is None:
            return None
        rates.add(found[0])
        rules.add(found[1])
    if len(rates) != 1:
        return None
    (rr, rc), = rates
    lr = ev.cached(sheet, rr, rc)
    names = ", ".join(f"{header(ev, sheet, row + 1, w) or col_letters(w)} ({col_letters(w)}, new in "
                      f"{col_letters(nw)})" for w, nw, row in pairs)
    rule = " and ".join(sorted(rules))
    return (f"looks like gradient descent: weight(s) {names} updated row by row as {rule}, learning rate "
            f"in {a1(rr, rc)} = {fmt_value(lr)}")


def _previous_row_copy(ev, run):
    """The column a run copies from the row above (`=M5` in B6), or None."""
    e = ev.prepared_run(run).expr
    if isinstance(e, CellRef) and e.sheet == run.sheet and not e.row_abs and e.row == run.r0 - 1:
        return e.col
    return None


def _update(ev, sheet, nw_col, w_col, row):
    """(learning-rate cell, rule) when the new weight on `row` is computed from the weight on that row
    and one anchored cell; None otherwise."""
    run = ev.book.sheets[sheet].run_at(row, nw_col)
    if run is None:
        return None
    e = ev.prepared_run(run).expr
    dr = row - run.r0
    if not (isinstance(e, Bin) and e.op == "-" and _cell(e.left, dr) == (sheet, row, w_col)):
        return None
    anchored = [x for x in leaves(e.right) if isinstance(x, CellRef) and x.row_abs]
    if len({(x.row, x.col) for x in anchored}) != 1:
        return None
    lr = anchored[0]
    adaptive = any(f.name == "SQRT" for f in calls(e.right))
    return (lr.row, lr.col), ("w - lr*g / SQRT(v) (an adaptive step)" if adaptive else "w - lr*g")


def _cell(e, dr):
    if isinstance(e, CellRef):
        return e.sheet, (e.row if e.row_abs else e.row + dr), e.col
    return None

"""Why a right sheet's error explodes: where, how sharply curved the loss is there, which lr is safe.

Run only on a sheet whose derivatives and updates check out, so what it says
is about the learning rate, never about a mistake:

* the step where the loss left its running minimum tenfold and never came back
  below (a row's loss overflowing, an error value, counts as infinite); the
  minimum is of a 5-row median, as single rows fit by chance;
* there, the largest eigenvalue lambda of the row loss's Hessian in the weights
  (forward-mode second derivatives, `rowcalc`): with SGD, lr*lambda > 2 means
  the step overshoots the bottom of that row's loss further than it started
  (momentum: its heavy-ball bound, `overshoot_bound`);
* the largest lr that stays stable over the sheet's rows from its initial
  weights: the sheet's own row formulas re-run with an array of learning rates
  at once (numpy), first on a geometric grid, then finer below the first lr
  that explodes (over the first MAX_ROWS rows of a longer sheet); exploding is
  a row's loss above max(1e10, 1e6 x the first row's) or not a finite number,
  the engine's own bound;
* dead ReLU units: a MAX(0, z) or IF(z>0, ...) whose z is <= 0 on every row
  from some step to the end, so the weights inside z stop training.
"""

from __future__ import annotations

import numpy as np

from ..core.expr import Bin, CellRef, Cmp, Fn, Num, leaves
from ..core.stability import EXPLODE_AT
from .gradient import Table, value_of
from .rowcalc import NotDifferentiable, RowCell, evaluate

MAX_ROWS = 1000  # rows the lr sweep re-runs (the diagnosis reads every row); the text says so when cut
GRID = 41  # learning rates per sweep
LEVEL = 5  # rows whose median is the loss's level at a step


def diagnose(table: Table, weights: list, loss) -> dict | None:
    """{diverges_at_step, lambda_lr, lambda_lr_bound, stable_lr_below, dead_units, text}, or None (nothing
    to explain)."""
    v = np.asarray(loss.jet.v, dtype=float) * np.ones(table.n)
    if not np.isfinite(v[0]):  # no number to start from: nothing to say about how it grows
        return None
    step = diverges_at(np.where(np.isfinite(v), v, np.inf))
    dead = dead_units(table, loss)
    if step is None and not dead:
        return None
    lr_leaf = next((w.lr for w in weights if w.problem is None and w.lr is not None), None)
    lr = value_of(table, lr_leaf) if lr_leaf is not None else float("nan")
    out = {"diverges_at_step": step, "lambda_lr": None, "lambda_lr_bound": None, "stable_lr_below": None,
           "dead_units": dead}
    if step is not None:
        lam = _curvature(loss, step - 1)
        bound = overshoot_bound(table, weights)
        if bound is not None and lam is not None and np.isfinite(lr):
            out["lambda_lr"], out["lambda_lr_bound"] = lr * lam, bound
        try:
            out["stable_lr_below"] = stable_lr(table, weights, loss, lr_leaf, lr)
        except NotDifferentiable:
            pass
    out["text"] = _words(out, lr, len(weights), table.n)
    return out


def overshoot_bound(table: Table, weights: list) -> float | None:
    """The lr*lambda above which a step overshoots a quadratic's bottom further than it started: 2 for
    SGD; heavy ball's 2(1+b) for m = b*m + g, and 2(1+b)/(1-b) for the average m = b*m + (1-b)*g;
    None for RMSProp and Adam (their step is not lr times the gradient)."""
    ok = [w for w in weights if w.problem is None]
    if not ok or any(w.second is not None for w in ok):
        return None
    if all(w.first is None for w in ok):
        return 2.0
    if any(w.first is None for w in ok):
        return None
    b, k = value_of(table, ok[0].first.beta), value_of(table, ok[0].first.coef)
    if not 0 <= b < 1:
        return None
    return 2 * (1 + b) if k == 1.0 else 2 * (1 + b) / (1 - b)


def diverges_at(losses: np.ndarray) -> int | None:
    """The first step (1-based) whose loss is over ten times the lowest before it, and every later one
    too; None when the loss never leaves its minimum for good, or never blows up at all. The minimum
    is of the median of each LEVEL rows: one row the weights happen to fit is no level to leave."""
    if len(losses) < 2 or not exploded(losses[None, :], losses[0])[0]:
        return None
    typical = np.array([np.median(losses[max(0, i - LEVEL + 1):i + 1]) for i in range(len(losses))])
    low = np.minimum.accumulate(typical)[:-1]
    after = np.minimum.accumulate(losses[::-1])[::-1][1:]
    hit = np.flatnonzero(after > 10 * low)
    return int(hit[0]) + 2 if len(hit) else None


def exploded(losses: np.ndarray, first: float) -> np.ndarray:
    """Per row of losses (runs x rows): did its loss blow up (over the bound, or not a finite number)?"""
    bound = max(EXPLODE_AT, 1e6 * abs(float(first))) if np.isfinite(first) else EXPLODE_AT
    with np.errstate(invalid="ignore"):
        return np.any(~np.isfinite(losses) | (losses > bound), axis=1)


def _curvature(loss, i: int) -> float | None:
    H = loss.jet.H
    if H is None:
        return None
    h = np.asarray(H[:, :, i], dtype=float)
    if not np.all(np.isfinite(h)):
        return None
    return float(np.linalg.eigvalsh((h + h.T) / 2)[-1])


# ------------------------------------------------------------------ the lr sweep
def stable_lr(table: Table, weights: list, loss, lr_leaf, lr: float) -> float | None:
    """The largest lr (two significant digits, rounded down) whose run over the rows stays stable."""
    if not isinstance(lr_leaf, CellRef) or not np.isfinite(lr) or lr <= 0:
        return None  # a rate typed into each formula has no one cell to vary
    grid = lr * np.logspace(-4, 0, GRID)  # up to the sheet's own, which explodes
    bad = sweep(table, weights, loss, lr_leaf, grid)
    bad[-1] = True
    if bad[0]:
        return None
    k = int(np.argmax(bad))  # the first lr that explodes: every smaller one of the grid stays stable
    fine = np.linspace(grid[k - 1], grid[k], GRID)
    bad_fine = sweep(table, weights, loss, lr_leaf, fine)
    bad_fine[-1] = True
    best = float(fine[max(int(np.argmax(bad_fine)) - 1, 0)])
    digits = 10 ** (np.floor(np.log10(best)) - 1)
    return float(f"{np.floor(best / digits) * digits:.12g}")


def sweep(table: Table, weights: list, loss, lr_leaf, lrs: np.ndarray) -> np.ndarray:
    """Per learning rate: does the table's run, re-computed row by row from its initial weights and
    state, explode within its rows?"""
    chain = {w.col: w.update for w in weights}
    order = _order(table, [loss.tree] + [RowCell(table.sheet, nw, 0) for nw in chain.values()])
    n = min(table.n, MAX_ROWS)
    prev, losses = {}, np.empty((len(lrs), n))
    for i in range(n):
        now = {}

        def leaf(node, i=i, now=now):
            if node == lr_leaf:
                return lrs
            if isinstance(node, RowCell) and node.sheet == table.sheet:
                if node.off == 0 and node.col in now:
                    return now[node.col]
                if node.off == -1 and node.col in prev:
                    return prev[node.col]
            return _at(table, node, i)

        for w, nw in chain.items():
            now[w] = prev[nw] if i else np.full(len(lrs), _at(table, RowCell(table.sheet, w, 0), 0))
        for col in order:
            now[col] = np.asarray(evaluate(table.trees[col], leaf, order=0).v, dtype=float) * np.ones(len(lrs))
        losses[:, i] = np.asarray(evaluate(loss.tree, leaf, order=0).v, dtype=float) * np.ones(len(lrs))
        prev = now
        if i and i % 16 == 0 and exploded(losses[:, :i + 1], losses[0, 0]).all():
            break  # every lr has blown up: the rows left cannot bring one back
    with np.errstate(invalid="ignore"):
        return exploded(losses[:, :i + 1], losses[0, 0])


def _at(table: Table, node, i: int):
    v = table.leaf(node)
    return v[i] if np.ndim(v) else v


def _order(table: Table, roots) -> list:
    """The formula columns the roots (trees) read, row above included, each after the same-row columns
    it reads."""
    done, out = set(), []

    def visit(col, depth=0):
        if col in done or depth > 50 or col not in table.trees or col in table.weights:
            return
        done.add(col)
        for x in leaves(table.trees[col]):
            if isinstance(x, RowCell) and x.sheet == table.sheet:
                visit(x.col, depth + 1)
        out.append(col)

    for tree in roots:
        for x in leaves(tree):
            if isinstance(x, RowCell) and x.sheet == table.sheet:
                visit(x.col)
    return out


# ------------------------------------------------------------------ dead units
def dead_units(table: Table, loss) -> list:
    """[{unit, weights, dead_from_step}] for each ReLU whose input stays <= 0 to the last row."""
    out, seen = [], set()
    for z in _relu_inputs(loss.tree):
        names = sorted({table.header(x.col) for x in leaves(z) if isinstance(x, RowCell) and x.col in table.weights})
        key = tuple(names)
        if not names or key in seen:
            continue
        seen.add(key)
        v = np.asarray(evaluate(z, table.leaf, order=0).v, dtype=float) * np.ones(table.n)
        alive = np.flatnonzero(~(v <= 0))
        start = int(alive[-1]) + 1 if len(alive) else 0
        if start < table.n - 1 and table.n - start >= 3:
            out.append({"unit": f"MAX(0, z) with z from {', '.join(names)}", "weights": names,
                        "dead_from_step": start + 1})
    return out


def _relu_inputs(expr):
    """The z of each MAX(0, z) / MAX(z, 0) / IF(z > 0, ...) in a tree."""
    if isinstance(expr, Fn):
        if expr.name == "MAX" and len(expr.args) == 2:
            for a, b in (expr.args, expr.args[::-1]):
                if isinstance(a, Num) and a.value == 0.0:
                    yield b
        if expr.name == "IF" and isinstance(expr.args[0], Cmp) and expr.args[0].op in (">", ">=") \
                and isinstance(expr.args[0].right, Num) and expr.args[0].right.value == 0.0:
            yield expr.args[0].left
        for a in expr.args:
            yield from _relu_inputs(a)
    elif isinstance(expr, (Bin, Cmp)):
        yield from _relu_inputs(expr.left)
        yield from _relu_inputs(expr.right)
    elif hasattr(expr, "arg"):
        yield from _relu_inputs(expr.arg)


def _words(d: dict, lr: float, n: int, rows: int) -> str:
    parts = []
    if d["diverges_at_step"] is not None:
        s = f"the sheet is right: at lr = {lr:.3g} this {n}-weight model diverges from step {d['diverges_at_step']}"
        if d["lambda_lr"] is not None:
            b = d["lambda_lr_bound"]
            if d["lambda_lr"] > b:
                s += f" (lr·λ = {d['lambda_lr']:.2g} > {b:.3g} there: each step overshoots the minimum)"
            else:
                s += f" (lr·λ = {d['lambda_lr']:.2g} there, under {b:.3g})"
        if d["stable_lr_below"] is not None:
            s += f"; it stays stable below lr ≈ {d['stable_lr_below']:.2g}"
            if rows > MAX_ROWS:
                s += f" (over its first {MAX_ROWS:,} rows)"
        parts.append(s)
    for u in d["dead_units"]:
        parts.append(f"the ReLU unit of {', '.join(u['weights'])} is dead from step {u['dead_from_step']}: its input "
                     f"is <= 0 on every row after, so {', '.join(u['weights'])} stop training")
    return "; ".join(parts)

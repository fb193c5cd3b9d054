"""What an edit did to each training sheet: mean err^2, explosion, final weights, before -> after.

A training sheet is recognised from its formulas (`find_table`): a weight
column whose next row reads a "new weight" column from the row above
(`E7 =R6`, Jeremy's `C5 =H4`, a learner's `B6 =M5`), the header above it,
and an err^2 column by its header (or, without one, err^2 computed from the
pred and y columns). This is the evidence `check/descent.py` reads, taken
from formula text so the diff needs no evaluation; `find_table` is the one
place to swap for a richer recogniser.

Each side's values (the cached ones, or recomputed where a file holds none)
give the mean err^2 of each epoch (grouped by an `epoch` column where the
table has one, else one epoch), the first step whose err^2 is not finite or
passes `EXPLODE_AT`, the new weights on the last step row, and whether each
ReLU's input was positive on some step of the last epoch (a unit that never
is has died: no gradient flows through it).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..core.stability import EXPLODE_AT
from ..xlsx.refs import col_letters, split_ref
from .classify import show

SCAN_ROWS = 400   # rows read to recognise a table
_CARRY = re.compile(r"([A-Za-z]{1,3})(\d+)")
_ERR = re.compile(r"(err|error|loss)\s*(\^2|²|\*\*2)?|sq(uared)?\.? ?err(or)?", re.IGNORECASE)
_PRED = {"pred", "y_pred", "prediction", "y pred", "ŷ"}
_RELU = re.compile(r"MAX\(\s*0\s*,\s*\$?([A-Za-z]{1,3})\$?(\d+)\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class TrainingTable:
    """Where a step table's numbers sit: weight name -> its new-weight column, the err^2 column (or
    pred and y), the epoch column, and the first row the table may start on."""

    weights: dict
    first_row: int
    err: int | None = None
    pred_y: tuple | None = None
    epoch: int | None = None
    relus: dict = field(default_factory=dict)  # name -> column whose value a MAX(0, .) on its row reads


def _carries(rows) -> tuple:
    """({weight column: new-weight column}, first row carrying): columns whose formula is a plain
    reference to another column's cell on the row above, on two rows or more."""
    seen, first = Counter(), {}
    for r, cells in rows:
        for c, (f, _v) in cells.items():
            m = _CARRY.fullmatch(f or "")
            if m is None:
                continue
            row, col = split_ref(f)[:2]
            if row == r - 1 and col != c:
                seen[(c, col)] += 1
                first.setdefault(c, r)
    pairs = {}
    for (w, nw), n in seen.most_common():
        if n >= 2 and w not in pairs and w not in pairs.values():
            pairs[w] = nw
    return pairs, min((first[w] for w in pairs), default=0)


def _relus(rows) -> set:
    """Columns a `MAX(0, cell)` reads on its own row: the inputs of ReLU units."""
    out = set()
    for r, cells in rows:
        for f, _v in cells.values():
            for m in _RELU.finditer(f or ""):
                row, col = split_ref(m.group(1) + m.group(2))[:2]
                if row == r:
                    out.add(col)
    return out


def _headers(rows, weights, first_row) -> dict:
    """{column: header text} of the nearest row above the table with a text over a weight column."""
    above = [(r, cells) for r, cells in rows if r < first_row]
    for r, cells in reversed(above):
        if any(isinstance(cells.get(w, (None, None))[1], str) for w in weights):
            return {c: v.strip() for c, (f, v) in cells.items() if f is None and isinstance(v, str)}
    return {}


def find_table(rows) -> TrainingTable | None:
    """The training table of a sheet's first rows, or None when it does not look like gradient descent."""
    rows = list(rows)
    pairs, first_row = _carries(rows)
    if not pairs:
        return None
    head = _headers(rows, pairs, first_row)
    low = {c: h.lower() for c, h in head.items()}
    err = next((c for c, h in sorted(low.items()) if _ERR.fullmatch(h)), None)
    pred = next((c for c, h in sorted(low.items()) if h in _PRED), None)
    y = next((c for c, h in sorted(low.items()) if h == "y"), None)
    if err is None and (pred is None or y is None):
        return None
    epoch = next((c for c, h in sorted(low.items()) if h == "epoch"), None)
    weights = {head.get(w) or col_letters(w): nw for w, nw in sorted(pairs.items())}
    relus = {head.get(c) or col_letters(c): c for c in sorted(_relus(rows))}
    return TrainingTable(weights, first_row - 1, err, None if err else (pred, y), epoch, relus)


def _number(value) -> float:
    """A cached value as a number: an error value or text is a blow-up (inf), never a small number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return math.inf


@dataclass
class TrainingOutcome:
    """One side's training: mean err^2 per epoch, the first exploding step, the last new weights."""

    epochs: list = field(default_factory=list)
    explodes_at: int | None = None
    weights: dict = field(default_factory=dict)
    alive: dict = field(default_factory=dict)  # ReLU input name -> positive on some step of the last epoch

    @property
    def final_mse(self):
        return self.epochs[-1] if self.epochs else None

    @property
    def best_mse(self):
        finite = [m for m in self.epochs if not math.isnan(m)]
        return min(finite) if finite else None


def _err(cells, table):
    """The step's err^2, or None on a row that is no step."""
    if table.err is not None:
        got = cells.get(table.err)
        return None if got is None or got[1] in (None, "") else _number(got[1])
    pred, y = (cells.get(c) for c in table.pred_y)
    if pred is None or y is None:
        return None
    p, t = _number(pred[1]), _number(y[1])
    return (p - t) ** 2 if math.isfinite(p) and math.isfinite(t) else math.inf


def outcome(rows, table: TrainingTable) -> TrainingOutcome:
    """Stream a sheet's rows through its table: mean err^2 per epoch, explosion, final weights."""
    out = TrainingOutcome()
    sums, step = {}, 0
    for r, cells in rows:
        if r < table.first_row:
            continue
        e = _err(cells, table)
        if e is None or not any(c in cells for c in table.weights.values()):
            continue  # not a step: a total below the table, a start row
        step += 1
        if out.explodes_at is None and not (e <= EXPLODE_AT):
            out.explodes_at = step
        key = cells.get(table.epoch, (None, 0))[1] if table.epoch is not None else 0
        if key not in sums:
            out.alive = {}  # a new epoch: the last one decides
        for name, c in table.relus.items():
            out.alive[name] = out.alive.get(name, False) or _number(cells.get(c, (None, 0))[1]) > 0
        total, n = sums.get(key, (0.0, 0))
        sums[key] = (total + e, n + 1)
        for name, c in table.weights.items():
            if c in cells:
                out.weights[name] = _number(cells[c][1])
    with_steps = [(t, n) for t, n in sums.values() if n]
    out.epochs = [t / n if math.isfinite(t) else math.inf for t, n in with_steps]
    return out


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12


def fmt(value) -> str:
    """A number for a person: 283, 0.0123, 2.0e9, inf."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return "overflow" if math.isinf(value) else "error"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    mantissa, exp = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exp)}"


@dataclass(frozen=True)
class Effect:
    """What the changes did to one training sheet: (before, after) of each measure."""

    sheet: str
    final_mse: tuple
    best_mse: tuple
    explodes_at: tuple
    final_weights: dict
    epochs: int = 1
    relu_alive: dict = field(default_factory=dict)  # ReLU input -> (before, after): positive in the last epoch

    def _explosion(self) -> str | None:
        before, after = self.explodes_at
        if before == after:
            return None
        if after is None:
            return f"no longer explodes (exploded at step {before})"
        return f"explodes at step {after} ({'did not' if before is None else f'at step {before}'})"

    def describe(self) -> str:
        parts = [self._explosion()]
        if not _close(*self.final_mse):
            parts.append(f"final mean err^2 {fmt(self.final_mse[0])} -> {fmt(self.final_mse[1])}")
        if self.epochs > 1 and not _close(*self.best_mse):
            parts.append(f"best {fmt(self.best_mse[0])} -> {fmt(self.best_mse[1])}")
        moved = [f"{name} {fmt(b)} -> {fmt(a)}" for name, (b, a) in self.final_weights.items() if not _close(b, a)]
        if moved:
            parts.append("final " + ", ".join(moved))
        for name, (before, after) in self.relu_alive.items():
            if before != after:
                parts.append(f"the ReLU of {name} {'came back' if after else 'died (not positive once in the last epoch)'}")
        return "; ".join(p for p in parts if p) or "training unchanged"

    def as_dict(self) -> dict:
        pair = lambda t: [show(t[0]), show(t[1])]  # noqa: E731
        return {"sheet": self.sheet, "final_mse": pair(self.final_mse), "best_mse": pair(self.best_mse),
                "explodes_at": list(self.explodes_at),
                "final_weights": {k: pair(v) for k, v in self.final_weights.items()},
                "relu_alive": {k: list(v) for k, v in self.relu_alive.items()}}


def sheet_effect(sheet: str, ed_rows, ref_rows) -> Effect | None:
    """The effect on one sheet, given a function that streams each side's rows; None when the sheet
    is no training table on either side, or its training did not change."""
    ed_table, ref_table = find_table(_first(ed_rows())), find_table(_first(ref_rows()))
    if ed_table is None or ref_table is None:
        return None
    after, before = outcome(ed_rows(), ed_table), outcome(ref_rows(), ref_table)
    names = [n for n in ref_table.weights if n in ed_table.weights]
    effect = Effect(sheet, (before.final_mse, after.final_mse), (before.best_mse, after.best_mse),
                    (before.explodes_at, after.explodes_at),
                    {n: (before.weights.get(n), after.weights.get(n)) for n in names},
                    max(len(before.epochs), len(after.epochs)),
                    {n: (before.alive[n], after.alive[n]) for n in ref_table.relus if n in after.alive and n in before.alive})
    changed = (effect.explodes_at[0] != effect.explodes_at[1] or not _close(*effect.final_mse)
               or not _close(*effect.best_mse) or any(not _close(*v) for v in effect.final_weights.values())
               or any(b != a for b, a in effect.relu_alive.values()))
    return effect if changed else None


def _first(rows, limit=SCAN_ROWS):
    for n, row in enumerate(rows):
        if n >= limit:
            return
        yield row

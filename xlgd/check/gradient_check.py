"""verify's gradient-descent check of one sheet: recognise, prove derivatives and updates, diagnose.

`check_descent(evaluation, sheet)` returns None for a sheet that does no gradient
descent (no weight column chained to an update), else a `DescentCheck`: the
`gradient_descent` entry of `verify --json` (schema in docs/gradient-descent-check.md),
the one line the text report prints for the sheet, and one `Cause` per thing
wrong with the mathematics (a derivative of another weight, a dropped factor,
a sign, an update with another weight's gradient, a decay rate from the wrong
cell). The cells themselves are proven elsewhere (other_cells.py); this proves
that what they compute is gradient descent on the sheet's own loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.values import SheetError, Text, is_error, number
from ..xlsx.refs import FormulaSyntaxError, a1, split_ref
from .derivatives import (
    check_gradient,
    differentiate,
    find_loss,
    guessed_losses,
    looks_like_derivative,
    other_derivatives,
    update_causes,
)
from .gradient import (
    Table,
    cell_text,
    check_states,
    labelled,
    optimizer_name,
    recognise,
    recognise_layout,
    value_of,
)
from .report import Cause
from .rowcalc import NotDifferentiable


@dataclass
class DescentCheck:
    entry: dict
    line: str
    causes: list = field(default_factory=list)


def check_descent(evaluation, sheet: str, layout=None, departed=frozenset()) -> DescentCheck | None:
    """layout: (SheetSpec, first step row, input row) of a sheet xlgd laid out, else None; departed: the
    columns where the layout check found cells that are not the layout's (their weights stay unchecked)."""
    found = recognise(evaluation, sheet) if layout is None else recognise_layout(evaluation, sheet, *layout)
    if found is None:
        return None
    table, weights = found.table, found.weights
    problems = {}  # weight column -> (status, reason)
    causes = []

    def blame(w, status, reason, col):
        if w.col not in problems or problems[w.col][0] != "wrong":
            problems[w.col] = (status, reason)
        if status == "wrong":
            causes.append(Cause(sheet, table.span(col),
                                "gradient", reason, cells=table.n))

    rule = "the layout's formula" if layout is not None else "its column's formula"
    for w in weights:
        hit = departed & _columns(w)
        if w.problem is None and hit:
            w.problem = f"{table.name(min(hit))} holds cells that are not {rule} (the causes below)"
        if w.problem is not None:
            problems[w.col] = ("unchecked", w.problem)
    for col, msg in check_states(table, weights):
        for w in weights:
            if (w.first is not None and w.first.col == col) or (w.second is not None and w.second.col == col):
                blame(w, "wrong", msg, col)
                break
    grads, loss = _derivatives(table, weights, blame)
    if loss is None and not any(looks_like_derivative(table, w.grad) for w in weights if w.grad is not None):
        return None  # a rate times a column, but of nothing that is differentiated: no gradient descent
    for w, msg in update_causes(table, weights, grads, loss):
        blame(w, "wrong", msg, w.update)
    if loss is not None:
        for col, msg in other_derivatives(table, grads, loss):
            causes.append(Cause(sheet, table.span(col), "gradient", msg, cells=table.n))
    entry = _entry(table, weights, grads, loss, problems)
    entry["update_every"] = "epoch" if found.per_epoch else "row"
    if loss is not None and not causes and not found.per_epoch:
        from .dynamics import diagnose

        entry["diagnosis"] = diagnose(table, weights, loss)
    return DescentCheck(entry, _line(entry, causes), _text_weights(table, weights) + causes)


def _columns(w) -> set:
    """The columns a weight's update is made of: the update, its gradient and its state columns."""
    states = {e.col for e in (w.first, w.second) if e is not None}
    return {c for c in (w.update, w.grad) if c is not None} | states


def _text_weights(table: Table, weights: list) -> list:
    """A Cause per weight cell typed as text that is no number (`"one"`): arithmetic on it is #VALUE!
    in Excel and LibreOffice, and so is every cell computed from it."""
    evaluation, sheet, out = table.evaluation, table.sheet, []
    for w in weights:
        for row in range(table.first, table.last + 1):
            v = evaluation.value(sheet, row, w.col)
            if not isinstance(v, Text) or evaluation.book.sheets[sheet].is_formula(row, w.col):
                continue
            try:
                number(v)
            except SheetError:
                errors = sum(1 for r, c in evaluation.formula_cells(sheet)
                             if is_error(evaluation.value(sheet, r, c)))
                out.append(Cause(sheet, a1(row, w.col), "constant",
                                 f"the weight {table.name(w.col)} holds the text {str(v)!r}, not a number: "
                                 f"arithmetic on it is #VALUE!, and {errors:,} formula cell(s) of the sheet hold "
                                 "errors", cells=1))
    return out


def _derivatives(table: Table, weights: list, blame) -> tuple:
    """Each gradient column an update uses, checked against the loss: {column: Gradient}, and the Loss."""
    users = {}
    for w in weights:
        if w.problem is None and w.grad is not None:
            users.setdefault(w.grad, []).append(w)
    loss = find_loss(table, list(users))
    if loss is None:
        return _guessed(table, users, blame)
    try:
        differentiate(table, loss)
    except NotDifferentiable as e:
        for ws in users.values():
            for w in ws:
                blame(w, "unchecked", f"the loss uses {e}, which the check does not differentiate", w.grad)
        return {}, None
    return _against(table, users, loss, blame), loss


def _guessed(table: Table, users: dict, blame) -> tuple:
    """No loss in the sheet: the first squared error (pred - y)^2 every derivative is the derivative of;
    none: the derivatives are unchecked (a guess that fails proves nothing wrong)."""
    used = set(users) | {s.col for w in table_weights(users) for s in (w.first, w.second) if s is not None}
    for loss in guessed_losses(table, used | {w.update for w in table_weights(users)}):
        try:
            differentiate(table, loss)
        except NotDifferentiable:
            continue
        grads = _against(table, users, loss, None)
        if all(g.problem is None for g in grads.values()):
            return grads, loss
    for ws in users.values():
        for w in ws:
            blame(w, "unchecked", "no loss to differentiate: no forward difference subtracts one, no column "
                                  "holds a square, and no (pred - y)^2 has these derivatives", w.grad)
    return {}, None


def table_weights(users: dict) -> list:
    return [w for ws in users.values() for w in ws]


def _against(table: Table, users: dict, loss, blame) -> dict:
    """{column: Gradient} for each gradient column, blamed on its first user when wrong (blame given)."""
    index = {c: i for i, c in enumerate(sorted(table.weights))}
    grads = {}
    for col, ws in users.items():
        g = None
        for w in ws:
            g = check_gradient(table, loss, col, index[w.col])
            if g.problem is None:
                break
        grads[col] = g
        if g.problem is not None and blame is not None:
            for w in ws[:1]:
                blame(w, "wrong" if g.wrong else "unchecked", g.problem, col)
        for w in ws:
            w.derivative = g.kind
    return grads


def _entry(table: Table, weights: list, grads: dict, loss, problems: dict) -> dict:
    lr = next((w.lr for w in weights if w.problem is None and w.lr is not None), None)
    kinds = sorted({g.kind for g in grads.values()})
    out = []
    for w in weights:
        status, reason = problems.get(w.col, ("ok", None))
        out.append({"name": table.header(w.col), "column": table.where(w.col),
                    "update_column": table.where(w.update),
                    "gradient_column": table.where(w.grad) if w.grad is not None else None,
                    "status": status, "reason": reason})
    return {
        "sheet": table.sheet,
        "rows": [table.first, table.last],
        "optimizer": optimizer_name(table, weights),
        "lr": {"cell": cell_text(lr), "value": value_of(table, lr), "label": labelled(table, lr)} if lr is not None
        else None,
        "loss": {"column": table.where(loss.col) if loss is not None and loss.col else None},
        "derivative_kind": kinds[0] if len(kinds) == 1 else (" and ".join(kinds) or None),
        "weights": out,
        "diagnosis": None,
    }


def _line(entry: dict, causes: list) -> str:
    ws = entry["weights"]
    every = ", one update per epoch" if entry.get("update_every") == "epoch" else ""
    how = ", ".join(x for x in (entry["optimizer"] + every, entry["derivative_kind"],
                                f"lr in {entry['lr']['label']}" if entry["lr"] else None) if x)
    head = f"gradient descent ({how}) — {len(ws)} weight{'s' if len(ws) != 1 else ''}"
    if causes:
        return f"{head}: {len(causes)} cause(s) in its mathematics (below)"
    unchecked = [w for w in ws if w["status"] == "unchecked"]
    if unchecked:
        return (f"{head}, {len(ws) - len(unchecked)} checked; unchecked: "
                + "; ".join(f"{w['name']} ({w['column']}): {w['reason']}" for w in unchecked[:2]))
    line = f"{head}, derivatives and updates check out"
    said = (entry.get("diagnosis") or {}).get("text")
    return f"{line}; {said}" if said else line


def add_descent(evaluation, sheet: str, rep, report, layout=None) -> bool:
    """The sheet's gradient descent checked into its SheetReport and the Report's `gradient_descent`
    list; False when the sheet does none. layout: as `check_descent`'s. A weight whose columns hold cells
    the structure check called wrong is left unchecked (its causes are those cells)."""
    try:
        found = check_descent(evaluation, sheet, layout, _departed(rep, sheet))
    except (NotDifferentiable, ArithmeticError, LookupError, TypeError, ValueError) as e:
        rep.notes.append(f"the gradient-descent check could not read this sheet's formulas ({type(e).__name__}: "
                         f"{e}): its mathematics is unchecked")
        return False
    if found is None:
        return False
    rep.descent = found.line
    rep.causes += found.causes
    report.gradient_descent.append(found.entry)
    return True


def _departed(rep, sheet: str) -> frozenset:
    """The columns of the structure check's formula, constant and missing-cell causes on the sheet (a cause's
    cell may carry its header: `J6 (mb)`)."""
    cols = set()
    for c in rep.causes:
        if c.sheet == sheet and c.kind in ("formula", "constant", "missing"):
            try:
                cols.add(split_ref(c.cell.split()[0].split(":")[0])[1])
            except FormulaSyntaxError:
                continue
    return frozenset(cols)

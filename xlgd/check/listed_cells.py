"""Generic cell checks: structure, consistency and trajectory of listed cells, grouped into causes.

Used for the few cells of every kind of sheet (the start row, the epoch
block, the data sheet, graddesc's sheets); the step table of an xlgd sheet
is checked in bulk by `xlgd_sheet.py` with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.expr import CellRef, Name, RangeRef, excel_value
from ..core.functions import VOLATILE
from ..core.values import ERRORS, Block, NotEvaluated
from ..errors import shorten
from ..evaluator.prepare import moved_leaf
from ..xlsx.formula import MAX_CHARS, Unsupported, function_name, parse
from ..xlsx.package import Cell, Package
from ..xlsx.refs import FormulaSyntaxError, a1, canonical, split_ref, tokens
from .report import Cause, SheetReport, fmt_value, same_value, ulp_distance

ROUNDED_RTOL = 1e-14  # LibreOffice 7.4 writes 15 significant digits
MAX_SHOWN = 200  # characters of a cell's formula a cause shows
MAX_RANGE = 10000  # a range an edited step cell reads, read cell by cell here


@dataclass
class Failures:
    """Per-cell findings of one sheet, keyed by (row, col), 1-based."""

    structure: dict = field(default_factory=dict)  # -> (kind, message): not its column's formula
    local: dict = field(default_factory=dict)  # -> (holds, its formula gives): consistency
    trajectory: dict = field(default_factory=dict)  # -> (holds, the engine computes)
    rounded: dict = field(default_factory=dict)  # operations -> (cells, largest ulp): within Excel's rounding
    cancelled: int = 0  # cells within a C library's rounding carried through a cancellation (`_within_terms`)

    def update(self, other: "Failures"):
        self.structure.update(other.structure)
        self.local.update(other.local)
        self.trajectory.update(other.trajectory)


def structure_reason(actual: Cell | None, expected: str, row, col):
    """Why a cell's content is not its column's formula (None if it is)."""
    if actual is None or (actual.formula is None and actual.value is None):
        return "missing", f"the cell is empty; its column has `{expected}`"
    if actual.formula is None:
        return "constant", f"formula replaced by the constant {fmt_value(actual.value)} (its column has `{expected}`)"
    text = "=" + actual.formula
    if text == expected:  # the same text is the same formula in the same cell
        return None
    shown = shorten(text, MAX_SHOWN)  # a formula of 8,000 characters is one line of the report, not pages
    try:
        if canonical(text, row, col) == canonical(expected, row, col):
            return None
    except FormulaSyntaxError:
        return "formula", f"formula `{shown}` cannot be read; expected `{expected}`"
    detail = ""
    try:
        ta, te = tokens(text), tokens(expected)
        if any(k == "sheet" for k, _ in ta) and not any(k == "sheet" for k, _ in te):
            detail = " (it refers to another sheet)"
        elif len(ta) == len(te):
            diff = [(x[1], y[1]) for x, y in zip(ta, te) if x != y]
            if len(diff) == 1:
                detail = f" (`{diff[0][0]}` where its column has `{diff[0][1]}`)"
        if any(k == "func" and t.upper() in VOLATILE for k, t in ta):
            detail += " and it uses a volatile function"
    except FormulaSyntaxError:
        pass
    return "formula", f"formula differs from its column: `{shown}`, expected `{expected}`{detail}"


class CheckContext:
    """What every check of one workbook shares: the book, the grids of small sheets, the dialect."""

    def __init__(self, book: Package, rtol, values, dialect, rounded):
        self.book, self.rtol, self.values, self.dialect, self.rounded = book, rtol, values, dialect, rounded
        self.grids = {}
        self.big = {}  # sheet -> (lookup function) for sheets read as arrays
        self.sheet_names = frozenset(book.sheet_names)

    def cells(self, sheet):
        over = self.values.get(sheet) if self.values else None
        for c in self.book.cells(sheet):
            if over is not None and c.formula is not None:
                v = over(c.row, c.col)
                yield c._replace(value=v, kind="e" if isinstance(v, str) else ("n" if v is not None else ""))
            else:
                yield c

    def grid(self, sheet):
        if sheet not in self.grids:
            self.grids[sheet] = {(c.row, c.col): c for c in self.cells(sheet)}
        return self.grids[sheet]

    def value(self, sheet, row, col):
        """A cell's value as a formula reading it sees: float, error code, or 0.0 when empty."""
        if sheet in self.big:
            return self.big[sheet](row, col)
        cell = self.grid(sheet).get((row, col)) if sheet in self.sheet_names else None
        if cell is None or cell.value is None:
            return 0.0
        if isinstance(cell.value, str):
            return cell.value if cell.kind == "e" else "#VALUE!"
        return float(cell.value)

    def env(self, sheet):
        def env(leaf):
            if isinstance(leaf, CellRef):
                return self.value(leaf.sheet, leaf.row, leaf.col)
            if isinstance(leaf, Name):
                where = self.book.name_ref(leaf.sheet or sheet, leaf.name)
                if where is None:
                    return "#NAME?"
                return self.value(*where)
            if isinstance(leaf, RangeRef) and (leaf.row2 - leaf.row + 1) * (leaf.col2 - leaf.col + 1) <= MAX_RANGE:
                return Block(tuple(tuple(self.value(leaf.sheet, r, c) for c in range(leaf.col, leaf.col2 + 1))
                                   for r in range(leaf.row, leaf.row2 + 1)), None, (leaf.sheet, leaf.row, leaf.col))
            raise Unsupported(f"{leaf!r} where one cell was expected")

        return env


def eval_text(ctx, sheet, text):
    try:
        return excel_value(parse(text, sheet), ctx.env(sheet), ctx.dialect)
    except (Unsupported, NotEvaluated):
        return None


class RowFormulas:
    """Formulas of one sheet's cells evaluated as `eval_text` does, each column's formula parsed once:
    a cell whose text is an earlier cell's of its column with every relative row moved by the same
    number of rows is that cell's tree read that many rows further down."""

    def __init__(self, ctx, sheet):
        self.ctx, self.sheet, self.env = ctx, sheet, ctx.env(sheet)
        self.trees = {}  # (column, text with relative rows as offsets) -> (tree, its row)

    def value(self, row, col, text):
        """The value of `text` in the cell at (row, col): float, error code, text, bool; None when not evaluated."""
        key = _row_key(text, row)
        if key is None:
            return eval_text(self.ctx, self.sheet, text)
        known = self.trees.get((col, key))
        try:
            if known is None:
                tree = parse(text, self.sheet)
                self.trees[(col, key)] = (tree, row)
                return excel_value(tree, self.env, self.ctx.dialect)
            tree, parsed_row = known
            return excel_value(tree, self._moved_env(row - parsed_row), self.ctx.dialect)
        except (Unsupported, NotEvaluated):
            return None

    def _moved_env(self, row_shift):
        """The env of a tree read row_shift rows further down (a cell's value read directly, the commonest leaf)."""
        value, env = self.ctx.value, self.env

        def moved(leaf):
            if isinstance(leaf, CellRef):
                return value(leaf.sheet, leaf.row if leaf.row_abs else leaf.row + row_shift, leaf.col)
            return env(moved_leaf(leaf, row_shift))

        return moved


def _row_key(text, row):
    """The formula with its relative rows as offsets from `row`; None where a tree read further down is not
    the formula of that row (whole rows `5:9` stay put, ROW() and COLUMN() ask for the cell itself)."""
    if len(text) > MAX_CHARS:
        return None
    try:
        toks = tokens(text)
    except FormulaSyntaxError:
        return None
    out = []
    for kind, t in toks:
        if kind == "rows" or (kind == "func" and function_name(t) in ("ROW", "COLUMN")):
            return None
        if kind == "ref":
            ref_row, ref_col, row_abs, col_abs = split_ref(t)
            out.append((kind, t) if row_abs else (kind, col_abs, ref_col, ref_row - row))
        else:
            out.append((kind, t))
    return tuple(out)


def check_cells(ctx, sheet, items, rep: SheetReport, engine_values=None) -> Failures:
    """Structure and consistency (and trajectory, given engine values) for listed cells.

    items: [(row, col, expected formula)]; engine_values: {(row, col): value}."""
    grid = ctx.grid(sheet)
    out = Failures()
    close = ([], [])  # (holds, engine) pairs that passed, for the ulp distance in one call
    rtol = max(ctx.rtol, 1e-12 if ctx.rounded else 0.0)
    trtol = max(ctx.rtol, ROUNDED_RTOL if ctx.rounded else 0.0)
    formulas = RowFormulas(ctx, sheet)
    for r, c, expected in items:
        rep.checked += 1
        cell = grid.get((r, c))
        why = structure_reason(cell, expected, r, c)
        if why:
            out.structure[(r, c)] = why
        if cell is None or cell.formula is None or cell.value is None:
            continue
        have = ctx.value(sheet, r, c)
        want = formulas.value(r, c, "=" + cell.formula)
        if want is not None and not same_value(have, want, rtol):
            out.local[(r, c)] = (have, want)
        if engine_values is not None and (r, c) in engine_values:
            ev = engine_values[(r, c)]
            if not same_value(have, ev, trtol):
                out.trajectory[(r, c)] = (have, ev)
            elif not isinstance(ev, str) and not isinstance(have, str):
                close[0].append(have)
                close[1].append(ev)
    if close[0]:
        rep.max_ulp = max(rep.max_ulp, ulp_distance(close[0], close[1]))
    return out


def group(sheet, rep: SheetReport, failures: Failures, order, stale_reason="",
          source="the engine's run from this workbook's own inputs"):
    """Turn per-cell failures into root causes. order(key) -> sortable step position; source: what the
    trajectory values are (the engine's run, or the workbook evaluated from its own constants)."""
    causes = _structure_causes(sheet, failures, order)
    stale = _stale_cause(sheet, failures, order, stale_reason)
    if stale is not None:
        causes.append(stale)
    causes.sort(key=lambda c: c.step)
    primary = set(failures.structure) | set(failures.local)
    loose = []
    for k in sorted(failures.trajectory, key=order):
        if k in primary:
            continue
        owner = None
        for c in causes:
            if c.step <= order(k):
                owner = c
        if owner is None:
            loose.append(k)
        else:
            owner.downstream += 1
    if loose:
        k = loose[0]
        have, want = failures.trajectory[k]
        causes.append(Cause(sheet, a1(*k), "trajectory",
                            f"{len(loose)} cell(s) differ from {source} "
                            f"(first holds {fmt_value(have)}, {_short(source)} computes {fmt_value(want)})",
                            cells=len(loose), step=order(k), source=_short(source)))
    for c in causes:
        c.source = _short(source)
    rep.causes += causes
    rep.failed += len(primary | set(failures.trajectory))


def _short(source):
    return "the engine's run" if source.startswith("the engine") else "the evaluator's run"


def _structure_causes(sheet, failures: Failures, order) -> list:
    causes = []
    for k, (kind, msg) in sorted(failures.structure.items(), key=lambda kv: order(kv[0])):
        if k in failures.local:
            have, want = failures.local[k]
            msg += f"; it holds {fmt_value(have)}, its formula gives {fmt_value(want)}"
        causes.append(Cause(sheet, a1(*k), kind, msg, step=order(k)))
    return causes


def _stale_cause(sheet, failures: Failures, order, stale_reason):
    """One cause for every cell whose value is not its own (right) formula's: the first of them named."""
    stale = sorted((k for k in failures.local if k not in failures.structure), key=order)
    if not stale:
        return None
    k = stale[0]
    have, want = failures.local[k]
    # error values only (both sides come as plain strings here): text where a number belongs, a word
    # typed into an input, is a stale value
    errs = [kk for kk in stale if failures.local[kk][0] in ERRORS or failures.local[kk][1] in ERRORS]
    if errs and len(errs) == len(stale):
        kind, head = "error", "error cells disagree with their formulas"
    else:
        kind, head = "stale", "values are stale"
    msg = (f"{head}: {len(stale)} cell(s) do not equal their own formula applied to the values the sheet holds "
           f"(first {sheet}!{a1(*k)} holds {fmt_value(have)}, its formula gives {fmt_value(want)})")
    if stale_reason:
        msg += f"; {stale_reason}"
    return Cause(sheet, a1(*k), kind, msg, cells=len(stale), step=order(k))

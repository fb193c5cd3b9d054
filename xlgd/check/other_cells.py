"""Checking formula cells with the workbook evaluator: any sheet, any layout.

For every formula cell no other check covers (`check_evaluated`):

* structure -- runs of equal formulas per column (R1C1 form, `evaluator.runs`):
  a short run between two runs of the same formula is an inconsistent
  formula (Excel's green triangle, explained: which token differs); a
  constant or an empty cell there is a formula typed over; an empty row
  inside a table of formulas is one cause (a row inserted?), not one per
  cell below it; a formula holding #REF! reads a deleted cell;
* consistency -- the cell's value against its own formula applied to the
  values its inputs hold in the file (`Evaluation.local`): stale values and
  error cells that disagree, one cause for all of them;
* trajectory -- the value against the workbook evaluated from its own
  constants (`Evaluation.computed`): cells that differ only because
  something upstream did are counted downstream of that cause;
* coverage -- cells the evaluator cannot compute (volatile or unsupported
  functions, circular references) are unchecked, grouped into ranges with
  their reason and the number of cells depending on them.

Cells are named by the header above their column where there is one
("basic!N17 (new b)"). Values saved by LibreOffice have 15 significant
digits: consistency then allows what rounding of the inputs can move the
formula (`expr.magnitude`), the trajectory 1e-14 relative, as for xlgd's sheets.
Where the last bits come from a C library (EXP, LN ... in a file Excel
saved), 1e-12 relative, and the largest ulp distance is reported. In values
Excel saved, a formula using an operation Excel rounds its own way
(`excel_rounding.EXCEL_ROUNDING`) agrees with its cached value within that
operation's measured ulp budget, and a note says how many cells did so;
the cells reading it are compared within 1e-12 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.expr import Bin, CellRef, excel_value, magnitude, n_ops
from ..core.values import NotEvaluated, Text
from ..evaluator import Evaluation, Unknown, cells_of, describe_root
from ..evaluator.prepare import library_operations
from ..evaluator.store import BOOL, NUMBER, TEXT, UNKNOWN
from ..xlsx.package import Cell
from ..xlsx.refs import a1, col_letters, parse_cell, quote_sheet, shift
from .excel_rounding import ULP, budget, operations
from .gradient import recognise
from .headers import header
from .listed_cells import ROUNDED_RTOL, Failures, group, structure_reason
from .report import Cause, SheetReport, Unchecked, agree, same_value, ulp_distance

ULP_RTOL = 1e-12  # functions whose last bits come from a C library (functions.Function.ulp)
ROUNDED_LOCAL = 1e-12  # a formula on 15-digit inputs against its own 15-digit value (as listed_cells.check_cells)
CONSIST_ROUNDED = 4e-14  # per operation, times the formula's magnitude (15-digit files)
SOURCE = "the workbook evaluated from its own constants"
EXCEL_ZERO_ULPS = 8  # a final + or - this many ulp of its terms from 0: Excel's value is 0


@dataclass
class Settings:
    rtol: float = 0.0
    rounded: bool = False  # values saved with 15 significant digits (LibreOffice)
    stale_reason: str = ""
    iterate: bool = False  # the workbook asks for iterative calculation: circular references are meant
    excel_rounding: bool = False  # values Excel saved: its measured last-bit rounding is allowed (excel_rounding.py)
    layout_sheets: frozenset = frozenset()  # sheets of a known layout, also where their cells no longer follow it


def _does_descent(evaluation: Evaluation, sheet: str) -> bool:
    """Whether the gradient-descent check recognises the sheet (then its formulas are judged as such)."""
    try:
        return recognise(evaluation, sheet) is not None
    except (ArithmeticError, LookupError, TypeError, ValueError):
        return False


def check_evaluated(evaluation: Evaluation, sheet: str, rep: SheetReport, skip=frozenset(), settings=None):
    """Check every formula cell of `sheet` that is not in `skip` into rep (see the module doc)."""
    settings = settings or Settings()
    sc = evaluation.book.sheets[sheet]
    found = Failures()
    blank_rows = _blank_rows(evaluation, sheet)
    _structure(evaluation, sheet, skip, found, blank_rows)
    warn = sheet not in settings.layout_sheets and rep.layout == "unknown" and not _does_descent(evaluation, sheet)
    warned = _set_aside(found, ("constant", "missing")) if warn else {}
    cells = [(r, c) for run in sc.all_runs() for r, c in cells_of(run) if (r, c) not in skip]
    rep.formula_cells += len(cells) + sum(1 for k, (kind, _) in found.structure.items()
                                          if kind in ("constant", "missing") and k not in skip)
    tainted = _tainted(evaluation, settings)
    unchecked, checked = {}, 0
    circular = _circular(evaluation, sheet, rep, settings, skip)
    leave = skip | circular if circular else skip
    for run in sc.all_runs():
        checked += _check_run(evaluation, run, leave, settings, tainted, found, unchecked, rep)
    rep.checked += checked + sum(1 for kind, _ in found.structure.values() if kind in ("constant", "missing"))
    if warn:
        warned.update(_set_aside(found, ("formula",), keep=set(found.local) | set(found.trajectory)))
    causes_before = len(rep.causes)
    group(sheet, rep, found, lambda k: (k[0], k[1]), settings.stale_reason, SOURCE)
    _name_cells(evaluation, sheet, rep.causes[causes_before:])
    for r, (first, last, cols) in blank_rows.items():
        message = (f"row {r} is empty inside a table of formulas (rows {first}..{last}, columns "
                   f"{col_letters(cols[0])}..{col_letters(cols[-1])}): a row inserted? The formulas below it read "
                   f"across it")
        if warn:
            warned[(r, cols[0])] = ("structure", message)
        else:
            rep.causes.append(Cause(sheet, a1(r, cols[0]), "structure", message, step=(r, 0)))
    rep.notes += _structure_warning(sheet, warned)
    rep.unchecked += _unchecked_ranges(sheet, unchecked)
    rep.notes += _rounding_notes(found.rounded)
    rep.notes += _library_note(evaluation, sc, rep, tainted, found.cancelled)


def _set_aside(found: Failures, kinds, keep=frozenset()) -> dict:
    """Structure findings of these kinds (but at cells in `keep`) taken out of `found`: (r, c) -> (kind, message)."""
    out = {k: v for k, v in found.structure.items() if v[0] in kinds and k not in keep}
    for k in out:
        del found.structure[k]
    return out


def _structure_warning(sheet, warned: dict) -> list:
    """One line for the cells that do not follow their column on a sheet whose layout xlgd does not know:
    Excel flags them as inconsistent formulas; their values are checked, they fail nothing."""
    if not warned:
        return []
    (r, c), (_, message) = min(warned.items())
    return [f"warning: {len(warned)} cell(s) do not follow their column (Excel's inconsistent-formula flag; a "
            f"layout xlgd does not know, so not a cause), first {quote_sheet(sheet)}!{a1(r, c)}: {message}"]


def _tainted(evaluation, settings) -> set:
    """Runs compared within a relative tolerance: those whose last bits come from a C library, with Excel's
    values those using an operation Excel rounds its own way, and the runs reading them."""
    if not settings.excel_rounding:
        return evaluation.ulp_tainted
    return evaluation.tainted({p.run.id for p in evaluation.prepared if p.ulp or operations(p.expr)})


def _library_note(evaluation, sheet_cells, rep, tainted, cancelled: int) -> list:
    """Why values recomputed from the constants agree with the file's within a tolerance, not bit for bit:
    they read a function whose last bits xlgd cannot reproduce, and that rounding travels down (through a
    cancellation: `cancelled` cells, within the rounding of their terms)."""
    if not (rep.max_ulp or cancelled) or not any(run.id in tainted for run in sheet_cells.all_runs()):
        return []
    names = sorted({name for p in evaluation.prepared if p.ulp for name in library_operations(p.expr)})
    if not names:
        return []  # the tolerance is Excel's rounding of an operation: `_rounding_notes` says it
    how = f"to ≤ {rep.max_ulp} ulp" if rep.max_ulp else ""
    if cancelled:
        how += f"{' and ' if how else ''}{cancelled} cell(s) to the rounding of the terms they cancel"
    return [f"values recomputed from the workbook's constants agree {how}, not bit for bit: they depend on "
            f"{', '.join(names)}, whose last bits xlgd cannot reproduce (a C library's or Excel's own algorithm; "
            f"docs/excel-arithmetic.md)"]


def _within_terms(evaluation, prepared, row, have, want) -> bool:
    """A cell reading values whose last bits xlgd cannot reproduce agrees within that rounding carried
    through its formula: |have - want| <= ULP_RTOL times the sum of the magnitudes of its terms."""
    if not (isinstance(have, float) and isinstance(want, float)) or prepared.expr is None:
        return False
    try:
        terms = excel_value(magnitude(prepared.expr), _local_env(evaluation, prepared, row), "excel")
    except (TypeError, KeyError, NotEvaluated):
        return False
    return isinstance(terms, float) and abs(have - want) <= ULP_RTOL * abs(terms)


def _rounding_notes(rounded: dict) -> list:
    """One note per set of operations: how many cells agree with Excel within the budget, not bit for bit."""
    return [f"{n} cell(s) agree to ≤ {worst} ulp, not bit for bit: Excel's {'/'.join(ops)} rounding "
            f"(docs/excel-arithmetic.md)" for ops, (n, worst) in sorted(rounded.items())]


def _excel_zero(evaluation, prepared, row, settings: Settings, have, got) -> bool:
    """Excel saved 0 where a formula ending in + or - gives a few ulp of its terms: Excel sets such a
    near-cancellation to 0 (docs/excel-arithmetic.md)."""
    if not (settings.excel_rounding and have == 0.0 and type(have) is float and type(got) is float and got != 0.0):
        return False
    if not (isinstance(prepared.expr, Bin) and prepared.expr.op in "+-"):
        return False
    try:
        m = excel_value(magnitude(prepared.expr), _local_env(evaluation, prepared, row), "excel")
    except (TypeError, KeyError, NotEvaluated):
        return False
    return isinstance(m, float) and abs(got) <= EXCEL_ZERO_ULPS * ULP * m


def _within_budget(have, local, ops, prepared) -> int | None:
    """The ulp distance of two numbers that agree within the formula's Excel rounding budget, else None."""
    if not (ops and isinstance(have, float) and isinstance(local, float) and not isinstance(have, bool)):
        return None
    if not (math.isfinite(have) and math.isfinite(local)):
        return None
    room = budget(ops) * max(n_ops(prepared.expr), 1) * ULP * max(abs(have), abs(local))
    return ulp_distance(have, local) if abs(have - local) <= room else None


def _circular(evaluation, sheet, rep, settings, skip) -> set:
    """One cause per circular reference on this sheet (unchecked when the workbook iterates on purpose);
    returns its cells."""
    cells = set()
    for cycle in evaluation.computed.circular:
        mine = [(r, c) for s, r, c in cycle if s == sheet and (r, c) not in skip]
        if not mine:
            continue
        cells.update(mine)
        names = " -> ".join(describe_root(x) for x in cycle[:6]) + (" ..." if len(cycle) > 6 else "")
        if settings.iterate:
            rep.unchecked.append(Unchecked(sheet, describe_root(cycle[0]), "are a circular reference "
                                           "(the workbook calculates iteratively)", len(mine)))
            continue
        rep.causes.append(Cause(sheet, a1(*mine[0]), "circular", f"circular reference: {names} read each other "
                                f"(with iterative calculation off no spreadsheet can compute them)",
                                cells=len(mine), step=mine[0]))
        rep.checked += len(mine)
        rep.failed += len(mine)
    return cells


# ------------------------------------------------------------------ values
def _check_run(evaluation, run, skip, settings: Settings, tainted, found: Failures, unchecked, rep) -> int:
    """Compare one run's cells: cached against local (consistency) and computed (trajectory).
    Cells that agree everywhere are found with numpy; the rest are looked at one by one."""
    sheet = run.sheet
    p = evaluation.prepared_run(run)
    close = ([], [])
    ops = operations(p.expr) if settings.excel_rounding else []
    rtol = max(settings.rtol, ULP_RTOL if run.id in tainted and not ops else 0.0,
               ROUNDED_LOCAL if settings.rounded else 0.0)
    trtol = max(rtol, ULP_RTOL if run.id in tainted else 0.0, ROUNDED_RTOL if settings.rounded else 0.0)
    checked, cells = 0, cells_of(run)
    if run.array is None and run.n >= FAST_CELLS and p.reason is None:
        ok = _agreeing(evaluation, run, rtol, trtol, skip)
        checked = int(ok.sum())
        _ulps(evaluation, run, ok, rep)
        cells = [(run.r0 + int(i), run.col) for i in np.nonzero(~ok)[0]]
    for r, c in cells:
        if (r, c) in skip:
            continue
        why = evaluation.unknown(sheet, r, c)
        have = evaluation.cached(sheet, r, c)
        if why is not None and (isinstance(have, Unknown) or (sheet, r, c) in evaluation.local.unknown):
            unchecked[(r, c)] = evaluation.computed.unknown[(sheet, r, c)]
            continue
        checked += 1
        if isinstance(have, Unknown):
            continue  # no cached value: computed, nothing to compare (the report says where values came from)
        local = None if (sheet, r, c) in evaluation.local.unknown else evaluation.local.values[sheet].get(r, c)
        if local is not None and not _same(have, local, rtol, _tol(evaluation, p, r, settings)) \
                and not _excel_zero(evaluation, p, r, settings, have, local):
            ulps = _within_budget(_plain(have), _plain(local), ops, p)
            if ulps is None:
                found.local[(r, c)] = (_plain(have), _plain(local))
            else:
                n, worst = found.rounded.get(tuple(ops), (0, 0))
                found.rounded[tuple(ops)] = (n + 1, max(worst, ulps))
        if why is None:
            want = evaluation.value(sheet, r, c)
            if _excel_zero(evaluation, p, r, settings, have, want):
                pass  # Excel's 0 for a near-cancellation: agrees, and says nothing of the ulp distance
            elif not _same(have, want, trtol):
                if run.id in tainted and _within_terms(evaluation, p, r, _plain(have), _plain(want)):
                    found.cancelled += 1
                else:
                    found.trajectory[(r, c)] = (_plain(have), _plain(want))
            elif isinstance(have, float) and isinstance(want, float):
                close[0].append(have)
                close[1].append(want)
        elif (sheet, r, c) not in evaluation.local.unknown and (r, c) not in found.local:
            pass  # checked against its own formula; what it depends on is reported unchecked
    if close[0]:
        rep.max_ulp = max(rep.max_ulp, ulp_distance(close[0], close[1]))
    return checked


FAST_CELLS = 8  # runs at least this long are compared with numpy first


def _agreeing(evaluation, run, rtol, trtol, skip):
    """Rows of a run where the cached value is a number, boolean, error or blank equal to both the
    local and the computed value, and neither pass left the cell unknown."""
    sheet, col, r0, r1 = run.sheet, run.col, run.r0, run.r1
    nc, kc = evaluation.book.sheets[sheet].cached.slice(col, r0, r1)
    ok = kc != UNKNOWN
    for out, tol in ((evaluation.local, rtol), (evaluation.computed, trtol)):
        nv, kv = out.values[sheet].slice(col, r0, r1)
        same_kind = (kv == kc) & (kv != TEXT) & (kv != UNKNOWN)
        numeric = (kc == NUMBER) | (kc == BOOL)
        ok &= same_kind & (~numeric | agree(nc, nv, tol))
        for (s, r, c) in out.unknown_in(sheet, col, r0, r1):
            ok[r - r0] = False
    if skip:
        ok &= np.fromiter(((r, col) not in skip for r in range(r0, r1 + 1)), bool, r1 - r0 + 1)
    return ok


def _ulps(evaluation, run, ok, rep):
    nc, kc = evaluation.book.sheets[run.sheet].cached.slice(run.col, run.r0, run.r1)
    ng, _ = evaluation.computed.values[run.sheet].slice(run.col, run.r0, run.r1)
    m = ok & (kc == NUMBER)
    if m.any():
        rep.max_ulp = max(rep.max_ulp, ulp_distance(nc[m], ng[m]))


def _same(have, want, rtol, tol=0.0):
    if isinstance(want, Unknown):
        return True
    a, b = _plain(have), _plain(want)
    if same_value(a, b, rtol):
        return True
    return bool(tol) and isinstance(a, float) and isinstance(b, float) and abs(a - b) <= tol


def plain_value(value):
    """An evaluator value as the checks compare it: float (TRUE is 1), str (text or error), None
    (blank, or nothing computed)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, Unknown):
        return None
    return value


_plain = plain_value


def _tol(evaluation, prepared, row, settings: Settings) -> float:
    """How far 15-digit rounding of the inputs can move this formula (0 for full-precision files)."""
    if not settings.rounded or prepared.expr is None:
        return 0.0
    env = _local_env(evaluation, prepared, row)
    try:
        m = excel_value(magnitude(prepared.expr), env, "excel")
    except (TypeError, KeyError, NotEvaluated):
        return 0.0
    return CONSIST_ROUNDED * max(n_ops(prepared.expr), 1) * abs(m) if isinstance(m, float) else 0.0


def _local_env(evaluation, prepared, row):
    dr = row - prepared.run.r0

    def env(leaf):
        if isinstance(leaf, CellRef):
            v = evaluation.cached(leaf.sheet, leaf.row if leaf.row_abs else leaf.row + dr, leaf.col) \
                if leaf.sheet in evaluation.book.sheets else 0.0
            return float(v) if isinstance(v, (float, bool)) else 0.0
        return 0.0

    return env


# ------------------------------------------------------------------ structure
def _structure(evaluation, sheet, skip, found: Failures, blank_rows):
    """Inconsistent formulas, formulas typed over with constants or cleared, #REF! in formulas."""
    sc = evaluation.book.sheets[sheet]
    across = {r + 1 for r in blank_rows} | _breaking_rows(sc)
    for col, runs in sc.runs.items():
        sandwiched = _sandwiched(runs)
        for a, mid, b in sandwiched:
            for r in range(mid.r0, mid.r1 + 1):
                if (r, col) in skip or r in across:
                    continue
                actual = Cell(r, col, shift(mid.text, r - mid.r0, 0), evaluation.cached(sheet, r, col), "n")
                why = structure_reason(actual, "=" + shift(a.text, r - a.r0, 0), r, col)
                if why:
                    found.structure[(r, col)] = why
        for a, b in zip(runs, runs[1:]):  # one cell between two runs of one formula
            r = a.r1 + 1
            if b.r0 == r + 1 and a.key == b.key and (r, col) not in skip and r not in blank_rows:
                _typed_over(evaluation, sheet, r, col, a, found)
    _deleted(sc, skip, found)


def _deleted(sheet_cells, skip, found):
    """Formulas holding #REF!: one cause per row (a row deleted breaks every formula that read it)."""
    rows = {}
    for col, runs in sheet_cells.runs.items():
        for run in runs:
            if "#REF!" in run.text.upper() and (run.r0, col) not in skip:
                rows.setdefault(run.r0, []).append(run)
    for r, runs in sorted(rows.items()):
        first = min(runs, key=lambda x: x.col)
        more = f" (and {len(runs) - 1} more formula(s) on row {r})" if len(runs) > 1 else ""
        found.structure[(r, first.col)] = ("formula", f"formula `={first.text}` refers to a cell that was "
                                                      f"deleted (#REF!){more}: a row or column deleted?")


def _breaking_rows(sheet_cells, many=3) -> set:
    """Rows where several columns change formula at once (an epoch's first row, a table's last):
    a formula that differs there is the table's structure, not one cell edited."""
    starts = {}
    for runs in sheet_cells.runs.values():
        for a, b in zip(runs, runs[1:]):
            if b.r0 == a.r1 + 1:
                starts[b.r0] = starts.get(b.r0, 0) + 1
    return {r for r, n in starts.items() if n >= many}


def _sandwiched(runs):
    """(run above, run, run below) where the middle run is short and the two around it hold one formula
    -- unless the same middle formula recurs in the column (a pattern, like an epoch's first row)."""
    out = []
    for a, mid, b in zip(runs, runs[1:], runs[2:]):
        if a.r1 + 1 == mid.r0 and mid.r1 + 1 == b.r0 and a.key == b.key != mid.key and mid.n <= 2 \
                and mid.n < a.n + b.n:
            out.append((a, mid, b))
    keys = [m.key for _, m, _ in out]
    return [t for t in out if keys.count(t[1].key) == 1]


def _typed_over(evaluation, sheet, row, col, run_above, found):
    v = evaluation.book.sheets[sheet].consts.get(row, col)
    expected = "=" + shift(run_above.text, row - run_above.r0, 0)
    cell = None if v is None else Cell(row, col, None, _plain(v), "n")
    why = structure_reason(cell, expected, row, col)
    if why:
        found.structure[(row, col)] = why


def _blank_rows(evaluation, sheet) -> dict:
    """Rows that are empty inside a table of formulas: {row: (first row, last row, columns)}."""
    sc = evaluation.book.sheets[sheet]
    ends = {}  # row r -> columns whose run ends at r-1 and whose next run starts at r+1
    for col, runs in sc.runs.items():
        for a, b in zip(runs, runs[1:]):
            if b.r0 == a.r1 + 2 and a.n >= 2:
                ends.setdefault(a.r1 + 1, []).append((col, a.r0, b.r1))
    out = {}
    for r, cols in ends.items():
        if len(cols) < 2 or any(sc.cached.get(r, c) is not None for c, _, _ in cols):
            continue
        if any(sc.cached.get(r, c) is not None for c in sc.runs):
            continue
        out[r] = (min(x for _, x, _ in cols), max(y for _, _, y in cols), sorted(c for c, _, _ in cols))
    return out


# ------------------------------------------------------------------ naming and coverage
def _name_cells(evaluation, sheet, causes):
    for cause in causes:
        where = parse_cell(cause.cell)
        if where is None:
            continue
        h = header(evaluation, sheet, *where)
        if h:
            cause.cell = f"{cause.cell} ({h})"


def _unchecked_ranges(sheet, unchecked: dict) -> list:
    """Unchecked cells grouped: roots on this sheet in column ranges, with their dependants counted."""
    roots, deps = {}, {}
    for (r, c), (root, reason) in unchecked.items():
        if root == (sheet, r, c):
            roots.setdefault((reason, c), []).append(r)
        else:
            deps.setdefault((root, reason), 0)
            deps[(root, reason)] += 1
    out = []
    for (reason, c), rows in sorted(roots.items(), key=lambda kv: (kv[0][1], kv[1][0])):
        for lo, hi in _spans(sorted(rows)):
            n_dep = sum(v for (root, why), v in deps.items() if root[0] == sheet and root[2] == c
                        and lo <= root[1] <= hi and why == reason)
            where = f"{quote_sheet(sheet)}!{a1(lo, c)}" + (f":{a1(hi, c)}" if hi > lo else "")
            out.append(Unchecked(sheet, where, _verb(reason, hi > lo or n_dep > 0), hi - lo + 1, n_dep))
    for (root, reason), n in deps.items():  # dependants of cells on other sheets (or unchecked elsewhere)
        if root[0] != sheet or (reason, root[2]) not in roots:
            out.append(Unchecked(sheet, f"{n} cell(s) of {quote_sheet(sheet)}",
                                 f"depend on {describe_root(root)}, which {reason}", n, 0))
    return out


def _verb(reason, plural):
    """'uses X' -> 'use X' for a range of cells."""
    for one, many in (("uses ", "use "), ("is ", "are "), ("has ", "have ")):
        if plural and reason.startswith(one):
            return many + reason[len(one):]
    return reason


def _spans(rows):
    lo = prev = rows[0]
    for r in rows[1:]:
        if r != prev + 1:
            yield lo, prev
            lo = r
        prev = r
    yield lo, prev


"""Prove every formula cell of a workbook, and say what is wrong and why.

`verify_book(path)` returns a `Report` in which every formula cell of every
sheet is accounted for:

* xlgd's sheets (the hidden record says what they were made from) and
  Jeremy Howard's graddesc sheets are checked against their layout, three
  ways per cell: structure (the cell's formula is its column's formula in
  R1C1 form), consistency (its value is its own formula applied to the
  values its inputs hold: stale values) and trajectory (the values equal
  xlgd's engine run from the workbook's own inputs, start values and data);
* every other formula cell -- other sheets, a learner's own sheet, rows 33-34
  of graddesc, cells added to an xlgd sheet -- by the workbook evaluator
  (`evaluator`, `other_cells.py`): inconsistent formulas, stale values
  and errors against the cell's own formula, values against the workbook
  evaluated from its own constants;
* cells nobody can compute (volatile or unsupported functions) are
  unchecked, with the reason; the verdict says how many;
* a sheet doing gradient descent (any of the above) also has its mathematics
  proven: derivatives against its own loss, updates against the recognised
  optimiser, and an exploding loss explained (`gradient_check.py`).

A sheet named like a known layout whose cells are not laid out like it gets
one line saying so and is checked as an unknown sheet -- never a cause per
cell. Defined names the formulas use are checked (`names.py`). Failures are
grouped by root cause: a cell whose formula differs, or the first of a run of
stale values, is one cause; cells that differ only because of it are counted
downstream. Spreadsheet errors are values: #NUM!/#DIV/0! must sit exactly
where the engine puts them, in the dialect of whoever saved the file.

Speed: an untouched step row's XML is known exactly (formulas from the
layout's per-column templates), so xlgd's step tables are read whole rows at
a time (`steptable.RowMatcher`, through xlsx's row-template reader
`xlsx.rowtemplate`); the evaluator takes those sheets' values as
they are and evaluates only the cells the layout does not have.

The room: report.py (Report, SheetReport, Cause, Unchecked), listed_cells.py
(generic cell checks and grouping into causes), steptable.py,
engine_async.py, xlgd_sheet.py and graddesc.py (the two known kinds of
sheet), other_cells.py (everything else, with the evaluator), names.py, and
this orchestrator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.functions import FUNCTIONS
from ..errors import XlgdError
from ..evaluator import (
    Evaluation,
    RunBuilder,
    SheetCells,
    SheetValues,
    cell_value,
    read_book,
)
from ..evaluator.store import BLANK, UNKNOWN_VALUE
from ..layout import DATA_FIRST_ROW, DATA_SHEET, INPUT_ROW, START_ROW
from ..recipe import record
from ..xlsx.package import Package
from ..xlsx.refs import FormulaSyntaxError, a1, split_ref, tokens
from . import excel_rounding
from . import graddesc as gl
from .gradient_check import add_descent
from .listed_cells import CheckContext
from .names import check_names
from .other_cells import Settings, check_evaluated, plain_value
from .report import Report, SheetReport
from .steptable import CachedLayout
from .xlgd_sheet import check_xlgd_sheet, data_info, load_xlgd

FIRST_ROWS = 100  # the rows `_has_cached` looks at
MISMATCH_SHARE = 0.05  # an xlgd sheet whose step cells differ from its layout more than this: not its layout


@dataclass
class SheetToCheck:
    """A sheet to check: kind 'xlgd' (what: its SheetSpec) or 'graddesc' (what: its GSheet)."""

    kind: str
    name: str
    what: object


@dataclass
class Values:
    """Where the checked values come from, and how to compare errors and digits."""

    mode: str  # cached, libreoffice, embedded, evaluator
    source: str  # said in the report
    dialect: str
    rounded: bool  # 15 significant digits (LibreOffice's saved values)
    over: dict | None = None  # sheet -> lookup of recalculated values


@dataclass
class Known:
    """What the known-layout checks left for the evaluator."""

    reports: dict = field(default_factory=dict)  # sheet -> SheetReport
    covered: dict = field(default_factory=dict)  # sheet -> cells the layout checks covered
    fixed: dict = field(default_factory=dict)  # sheet -> SheetCells read by the step table reader
    names: dict = field(default_factory=dict)  # (sheet, name) -> (sheet, row, col) the layout expects
    layouts: dict = field(default_factory=dict)  # sheet -> (SheetSpec, first step row, input row): xlgd's
    data_rows: int = 0


def verify_book(path, values="cached", rtol=0.0, sheet=None) -> Report:
    """Check a workbook. values: 'cached' (default; the workbook evaluator when there are none),
    'evaluator' (a fresh recalculation by the workbook evaluator), 'libreoffice' (a fresh
    LibreOffice recalculation), 'embedded' (xlgd's own column definitions)."""
    if rtol < 0 or not math.isfinite(rtol):
        raise XlgdError(f"--rtol must be a finite number >= 0, got {rtol}")
    with Package.open(path) as book:
        rec, recipe, damage = load_xlgd(book)
        targets, notes, grids = _targets(book, recipe, rtol)
        how = _values(book, targets, values)
        ev = None
        if how.mode == "evaluator":  # the evaluator's values stand in for the file's everywhere
            ev = _evaluation(book, how, {})
            how.over = _computed_lookups(ev)
        ctx = CheckContext(book, rtol, how.over, how.dialect, how.rounded)
        if how.over is None:  # the cells as the file holds them, read once
            ctx.grids.update(grids)
        report = Report(str(path), book.application or "unknown", how.dialect, how.source)
        if damage:  # the record is read past; the evaluator checks every formula cell without it
            report.warnings.append(damage)
        known = _check_known(ctx, report, targets, recipe, how)
        if ev is None:
            ev = _evaluation(book, how, known.fixed)
        _check_rest(ev, report, known, how, ctx)
        _names(book, ev, report, known)
        report.notes += notes
        _notes(book, report, rec, how)
        _warnings(ctx, report, ev, known)
        if sheet is not None:
            report.sheets = [s for s in report.sheets if s.name == sheet]
            report.gradient_descent = [e for e in report.gradient_descent if e["sheet"] == sheet]
            if not report.sheets:
                raise XlgdError(f"{path}: no sheet named {sheet!r} with formulas to check")
        if not report.sheets and not report.causes:
            raise XlgdError(f"{path}: no formula cells to check (no sheet xlgd knows: not made by xlgd, no "
                            f"graddesc sheet, and no formulas); sheets: {', '.join(book.sheet_names) or 'none'}")
        return report


def _targets(book, recipe, rtol) -> tuple:
    """The sheets with a known layout (xlgd's own, else the graddesc sheets it recognises), notes, and the
    cells of the sheets read to recognise them ({sheet: grid} as `CheckContext.grid` reads the file)."""
    path, targets, notes = book.path, [], []
    if recipe is not None:
        for spec in recipe.sheets:
            if spec.name not in book.sheet_names:
                raise XlgdError(f"{path}: sheet {spec.name!r} of its xlgd record is missing "
                                f"(sheets: {', '.join(book.sheet_names)})")
            targets.append(SheetToCheck("xlgd", spec.name, spec))
        return targets, notes, {}
    probe = CheckContext(book, rtol, None, "excel", False)
    for name in book.worksheet_names:
        if gl.SHEET_NAMES.get(name.strip().lower()) is None:
            continue
        row3 = {a1(r, c): cell.value for (r, c), cell in probe.grid(name).items() if r == 3}
        g = gl.recognise(name, row3)
        if g is not None:
            targets.append(SheetToCheck("graddesc", name, g))
        else:
            notes.append(f"{name}: named like graddesc's {gl.SHEET_NAMES[name.strip().lower()]} sheet, but its "
                         f"row 3 does not have graddesc's x and y headers: checked as an unknown sheet")
    return targets, notes, probe.grids


def _values(book, targets, values) -> Values:
    producer = book.producer
    suffix = ""
    if values == "cached" and not _has_cached(book, targets):
        values, suffix = "evaluator", " (the file holds no cached values)"
    if values == "libreoffice":
        return Values(values, "a fresh LibreOffice recalculation (exact doubles over UNO)", "libreoffice",
                      False, _lo_values(book.path))
    if values == "embedded":
        return Values(values, "the embedded evaluator (xlgd's own column definitions)", producer, False)
    if values == "evaluator":
        return Values(values, "a fresh recalculation by the workbook evaluator" + suffix, producer, False)
    rounded = producer == "libreoffice"
    return Values(values, "cached values (as last saved" + (" by LibreOffice, 15 significant digits)" if rounded
                                                             else ")"), producer, rounded)


def _evaluation(book, how, fixed) -> Evaluation:
    ev = Evaluation(read_book(book, fixed=fixed), how.dialect)
    if how.mode == "libreoffice":  # LibreOffice's values stand in for the file's
        for name, get in how.over.items():
            _override(ev, name, get)
    return ev


def _override(evaluator, name, get):
    sc = evaluator.book.sheets.get(name)
    if sc is None:
        return
    for run in sc.all_runs():
        for r in range(run.r0, run.r1 + 1):
            sc.cached.put(r, run.col, get(r, run.col))


def _computed_lookups(evaluator) -> dict:
    def lookup(name):
        return lambda r, c: plain_value(evaluator.value(name, r, c))

    return {name: lookup(name) for name in evaluator.book.sheets}


# ------------------------------------------------------------------ known layouts
def _check_known(ctx, report, targets, recipe, how) -> Known:
    """Check every sheet with a known layout into the report; what is left is the evaluator's."""
    known, data = Known(), None
    stale_reason = _stale_reason(ctx.book.calc)
    for t in targets:
        if t.kind == "xlgd":
            if data is None:
                data = _xlgd_data(ctx, known, t.what, recipe)
            _xlgd(ctx, known, t, data, stale_reason, how)
        else:
            _graddesc(ctx, known, t)
    report.sheets += list(known.reports.values())
    return known


def _xlgd_data(ctx, known, spec0, recipe):
    drep = SheetReport(DATA_SHEET, "xlgd data")
    data = data_info(ctx, spec0, recipe, drep)
    known.reports[DATA_SHEET] = drep
    known.covered[DATA_SHEET] = {(DATA_FIRST_ROW + k, 3) for k in range(spec0.n_data)} if recipe.data.y_given \
        is None else set()
    drep.formula_cells = len(known.covered[DATA_SHEET])
    known.data_rows = spec0.n_data
    for name, r in (("true_a", 1), ("true_b", 2)):
        known.names[(None, name)] = (DATA_SHEET, r, 2)
    return data


def _xlgd(ctx, known, t, data, stale_reason, how):
    spec, rep = t.what, SheetReport(t.name, "xlgd")
    lay = CachedLayout(spec)
    table = check_xlgd_sheet(ctx, spec, lay, data, rep, stale_reason, how.mode == "embedded")
    cells = spec.n_steps * len(spec.columns)
    if len(table.formula_fail) > max(20, MISMATCH_SHARE * cells):
        first = min(table.formula_fail, key=lambda k: (k[1], k[0]))
        where = a1(lay.step_row(first[1]), first[0] + 1)
        known.reports[t.name] = SheetReport(t.name, "unknown", notes=[
            f"its step table no longer follows the layout xlgd wrote ({len(table.formula_fail)} cells differ, "
            f"from {where}): checked as an unknown sheet"])
        return
    rep.formula_cells = rep.checked
    known.reports[t.name] = rep
    layout_cells = _layout_cells(spec, lay)
    known.covered[t.name] = layout_cells
    known.fixed[t.name] = _fixed_sheet(t.name, table, spec, lay, layout_cells)
    known.layouts[t.name] = (spec, lay.step_row(0), INPUT_ROW)
    for inp in spec.inputs:
        known.names[(t.name, inp.name)] = (t.name, INPUT_ROW, lay.input_index[inp.name] + 1)


@dataclass(frozen=True)
class Covered:
    """The cells an xlgd layout check covers: the step table (a rectangle, millions of cells, never
    listed) plus the start row and the epoch block."""

    rows: tuple  # first and last step row
    cols: tuple  # first and last step column
    cells: frozenset = frozenset()

    def __contains__(self, rc) -> bool:
        r, c = rc
        return (self.rows[0] <= r <= self.rows[1] and self.cols[0] <= c <= self.cols[1]) or rc in self.cells

    def __or__(self, other) -> "Covered":
        return Covered(self.rows, self.cols, self.cells | frozenset(other))


def _layout_cells(spec, lay) -> Covered:
    cells = {(START_ROW, lay.col_index[c.name] + 1) for c in spec.columns if c.init is not None}
    cells |= {(lay.epoch_row(k), lay.epoch_index[ec.name] + 1) for k in range(spec.epochs)
              for ec in spec.epoch_columns}
    return Covered((lay.step_row(0), lay.step_row(spec.n_steps - 1)), (1, len(spec.columns)), frozenset(cells))


def _fixed_sheet(name, table, spec, lay, layout_cells) -> SheetCells:
    """The step table as the evaluator sees it: values as read, runs only for cells the layout lacks."""
    values = SheetValues(name)
    first = lay.step_row(0)
    for ci in range(len(spec.columns)):
        values.put_numbers(ci + 1, first, table.vals[ci])
        unseen = np.nonzero(~table.seen[ci])[0]
        if len(unseen):
            col = values.column(ci + 1)
            col.kind[first + unseen] = BLANK
            col.num[first + unseen] = 0.0
    for (ci, i), code in table.errs.items():
        values.put(first + i, ci + 1, code)
    sc = SheetCells(name, values, values)
    builder = RunBuilder(sc)
    for (r, c), cell in sorted(table.misc.items()):
        values.put(r, c, cell_value(cell))
        if cell.formula is not None and (r, c) not in layout_cells:
            builder.add(r, c, cell.formula, cell.array)
    return sc


def _graddesc(ctx, known, t):
    g = gl.present_columns(ctx, t.name, t.what)
    rep = SheetReport(t.name, f"graddesc:{g.kind}")
    try:
        covered = gl.check_graddesc_sheet(ctx, t.name, g, rep)
    except gl.LayoutMismatch as e:
        known.reports[t.name] = SheetReport(t.name, "unknown", notes=[
            f"named like graddesc's {g.kind} sheet, but its layout does not match ({e}): checked as an unknown "
            f"sheet"])
        return
    if g is not t.what:
        rep.notes.append(f"an older layout without column(s) {', '.join(t.what.optional)} (graddesc's err^2 on "
                         f"momentum came in 2018): checked without them")
    rep.formula_cells = rep.checked
    known.reports[t.name] = rep
    known.covered[t.name] = covered
    _graddesc_names(ctx.book, known, t.name, g)


# The names graddesc's macros work through: "Run" copies lastconst/lastslope onto const/slope; lr is the
# rate the sheet reads (named on momentum, adam and adam_ann in the 2018 file; basic and rmsprop keep theirs
# unnamed). graddesc-layout.md, section 3.
_GRADDESC_NAMES = {"const": "C1", "slope": "C2", "lastconst": "C32", "lastslope": "D32"}


def _graddesc_names(book, known, name, g):
    """Each of those names where the layout keeps it. With the macros in the file they must exist; a
    copy saved without macros (.xlsx) has nothing reading them, so only the ones it defines are checked.
    Leftover names pointing at #REF! in the original (gradtarget, ms_last ...) are not among them."""
    defined = {n.lower() for s, n, _ in book.defined_name_list if s == name}
    cells = dict(_GRADDESC_NAMES, lr=g.knobs.get("lr"))
    for n, ref in cells.items():
        if ref is None or (n not in defined and (n == "lr" or not book.has_macros)):
            continue
        r, c, _, _ = split_ref(ref)
        known.names[(name, n)] = (name, r, c)


# ------------------------------------------------------------------ everything else
def _check_rest(evaluator, report, known, how, ctx):
    """Every formula cell the layouts did not cover, sheet by sheet, with the evaluator."""
    settings = Settings(ctx.rtol, how.rounded, _stale_reason(ctx.book.calc),
                        ctx.book.calc.get("iterate") in ("1", "true"),
                        excel_rounding.applies(ctx.book.application, how.mode, bool(known.covered)),
                        frozenset(known.reports))
    by_name = {s.name: s for s in report.sheets}
    for name in evaluator.book.sheets:
        if name == record.META_SHEET:
            continue
        rep = by_name.get(name) or SheetReport(name, "unknown")
        covered = known.covered.get(name, frozenset())
        check_evaluated(evaluator, name, rep, covered, settings)
        if isinstance(covered, Covered):
            _filled_down(evaluator, name, covered, rep)
        if rep.formula_cells:
            add_descent(evaluator, name, rep, report, known.layouts.get(name))
        if name not in by_name and (rep.formula_cells or rep.causes or rep.notes):
            report.sheets.append(rep)
    if how.mode == "evaluator":
        for rep in report.sheets:
            if rep.layout == "unknown" and rep.formula_cells:
                rep.notes.append("values recomputed by the workbook evaluator: its formulas are checked (their "
                                 "values are the evaluator's own)")


def _filled_down(evaluator, name, covered, rep):
    """Formulas below an xlgd step table, in its columns: rows filled down past the layout. Not an error
    in itself (the evaluator checks them like any cell), but said once, so a longer table is not
    mistaken for the one xlgd wrote."""
    (_, last), (c0, c1) = covered.rows, covered.cols
    rows = set()
    for run in evaluator.book.sheets[name].all_runs():
        if c0 <= run.col <= c1 and run.r1 > last:
            rows.update(r for r in range(max(run.r0, last + 1), run.r1 + 1) if (r, run.col) not in covered)
    if rows:
        lo, hi = min(rows), max(rows)
        rep.notes.append(f"rows {lo}..{hi} below the step table (which ends on row {last}) hold its formulas "
                         f"filled down: checked by the workbook evaluator, not by the engine's run")


def _names(book, evaluator, report, known):
    used = {(s, n) for s, n in evaluator.book.names.used}

    def value(sheet, r, c):
        """What the named cell holds: its cached value, else (a file without cached values, as
        openpyxl saves) the evaluator's; UNKNOWN_VALUE when neither is known."""
        if sheet not in evaluator.book.sheets:
            return None
        v = evaluator.cached(sheet, r, c)
        return evaluator.value(sheet, r, c) if v is UNKNOWN_VALUE else v

    causes = check_names(book, used, known.names, value, set(book.sheet_names), report.warnings)
    by_name = {s.name: s for s in report.sheets}
    for c in causes:
        rep = by_name.get(c.sheet)
        if rep is not None:
            rep.causes.append(c)  # a problem, but not a formula cell that fails: the tally stays true
        else:
            report.causes.append(c)


def _stale_reason(calc) -> str:
    if calc.get("calcMode") == "manual":
        return "the workbook was saved with calculation set to manual"
    if calc.get("calcCompleted") in ("0", "false"):
        return "the workbook was saved before its calculation completed"
    return ""


def _notes(book, report, rec, how):
    if book.producer == "libreoffice" or how.dialect == "libreoffice":
        report.notes.append("values come from LibreOffice, which writes #VALUE! for SQRT of a negative where "
                            "Excel writes #NUM!: the engine ran in LibreOffice's dialect")
    if rec is not None:
        report.notes.append(f"made by xlgd {rec.get('xlgd')} from template {rec.get('template')!r}")


def _warnings(ctx, report, evaluator, known):
    book = ctx.book
    calc = book.calc
    if calc.get("calcMode") == "manual":
        report.warnings.append("calculation is set to manual (calcPr calcMode=\"manual\"): after an edit, values "
                               "go stale until someone presses F9")
    if calc.get("calcCompleted") in ("0", "false"):
        report.warnings.append("the workbook was saved before its calculation completed (calcCompleted=0)")
    if book.has_macros:
        report.warnings.append("the workbook contains macros (vbaProject.bin); xlgd checks formulas, not macros")
    for sheet in evaluator.book.sheets:
        if sheet == record.META_SHEET:
            continue
        _volatile_note(evaluator, report, sheet, known)


NEVER_EVALUATED = frozenset(f.name for f in FUNCTIONS.values() if f.volatile)  # OFFSET is volatile but evaluated


def _volatile_note(evaluator, report, sheet, known):
    vol = sorted((r, c) for run in evaluator.book.sheets[sheet].all_runs() for r, c in [(run.r0, run.col)]
                 if any(kind == "func" and t.upper() in NEVER_EVALUATED for kind, t in _safe_tokens(run.text)))
    if not vol:
        return
    n = sum(evaluator.book.sheets[sheet].run_at(r, c).n for r, c in vol)
    run = evaluator.book.sheets[sheet].run_at(*vol[0])
    fn = next(t.upper() for kind, t in _safe_tokens(run.text) if kind == "func" and t.upper() in NEVER_EVALUATED)
    where = f"{sheet}!{a1(*vol[0])}" + (f" and {n - 1} more" if n > 1 else "")
    feeds = sheet == DATA_SHEET and known.data_rows and any(
        DATA_FIRST_ROW <= r < DATA_FIRST_ROW + known.data_rows and c in (2, 3) for r, c in vol)
    if feeds:
        report.warnings.append(f"volatile function {fn} in {where} feeds computed cells: every recalculation "
                               f"changes the data, so cached values cannot be reproduced")
    elif evaluator.cached(sheet, *vol[0]) is UNKNOWN_VALUE:  # no value to stand in for them (openpyxl saved it)
        report.notes.append(f"volatile function {fn} in {where}: those cells are unchecked, and so are the cells "
                            f"reading them (the file holds no values for them)")
    else:
        report.notes.append(f"volatile function {fn} in {where}: those cells are unchecked; cells reading them "
                            f"are checked against the values the file holds")


def _safe_tokens(text):
    try:
        return tokens(text)
    except FormulaSyntaxError:
        return ()


def _has_cached(book, targets):
    """Whether the file holds cached values: the first formula cells tell (up to 200 of them), read from the
    first FIRST_ROWS rows of the first sheets (which `first_rows` keeps for the input row's read-ahead), or
    where no formula is there, from the whole of each sheet until its first formulas."""
    names = [t.name for t in targets] or book.worksheet_names
    for name in names[:3]:
        seen = _cached_among(book.first_rows(name, FIRST_ROWS))
        if seen is not None:
            return seen
    for name in book.worksheet_names:
        seen = _cached_among(book.cells(name))
        if seen is not None:
            return seen
    return True


def _cached_among(cells) -> bool | None:
    """True when one of the first 200 formula cells holds a value, False when none does, None: no formula."""
    n = 0
    for c in cells:
        if c.formula is not None:
            if c.value is not None:
                return True
            n += 1
            if n > 200:
                return False
    return False if n else None


def _lo_values(path):
    from ..xlsx.libreoffice import recalc_values

    dump = recalc_values(path)
    out = {}
    for sheet, d in dump.get("sheets", dump).items():
        rows, errors = d.get("values", []), d.get("errors", {})

        def get(r, c, rows=rows, errors=errors):
            code = errors.get(f"{r - 1},{c - 1}")
            if code:
                return code
            try:
                v = rows[r - 1][c - 1]
            except IndexError:
                return None
            return float(v) if isinstance(v, (int, float)) else (v or None)

        out[sheet] = get
    return out

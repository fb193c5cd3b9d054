"""Prove every computed cell of a workbook, and say what is wrong and why.

`verify_book(path)` returns a `Report`. Three checks per computed cell:

* structure   -- the cell's formula equals its column's formula in R1C1
                 form (`xlsx/refs.canonical`): an edited formula, a constant
                 pasted over a formula, a reference moved to another cell;
* consistency -- the cell's value equals its own formula applied to the
                 values its inputs hold in the file (vectorised over rows
                 with the column's numpy source, `expr.py`); finds stale
                 values even where every formula is right;
* trajectory  -- the values equal the engine's run from the workbook's own
                 inputs (input cells, start values, data as the file holds
                 them now).

Failures are grouped by root cause: a cell whose formula differs, or the
first of a run of stale values, is one cause; trajectory differences after
it are counted as its downstream cells, not listed. Spreadsheet errors are
values: #NUM!/#DIV/0! must sit exactly where the engine puts them, in the
dialect of whoever saved the file (LibreOffice writes #VALUE! for SQRT of
a negative where Excel writes #NUM!).

Speed: an untouched step row's XML is known exactly (formulas from the
layout's per-column templates, style attributes from the file), so rows
equal to it are taken whole -- one string comparison and one numpy parse
of the values per 8 MB piece -- and only rows that differ are read cell by
cell (`steptable.RowMatcher`, `FAST_ROWS`). Checks and reports are the same
either way (tests/test_verify_fastrows.py reads every sheet both ways).

The room: report.py (Report, SheetReport, Cause), cells.py (generic cell
checks and grouping into causes), steptable.py (reading a step table),
engine_async.py (the engine beside the reader), xlgd_sheet.py and
graddesc.py (the two kinds of sheet), and this orchestrator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..book.layout import DATA_FIRST_ROW, DATA_SHEET
from ..core.functions import VOLATILE
from ..errors import XlgdError
from ..recipe import record
from ..xlsx.package import Fallback, Package
from ..xlsx.refs import FormulaSyntaxError, a1, tokens
from . import graddesc as gl
from .cells import CheckContext
from .report import Report, SheetReport
from .steptable import CachedLayout
from .xlgd_sheet import check_xlgd_sheet, data_info, load_xlgd


@dataclass
class Target:
    """A sheet to check: kind 'xlgd' (what: its SheetSpec) or 'graddesc' (what: its GSheet)."""

    kind: str
    name: str
    what: object


@dataclass
class Values:
    """Where the checked values come from, and how to compare errors and digits."""

    mode: str  # cached, libreoffice, embedded
    source: str  # said in the report
    dialect: str
    rounded: bool  # 15 significant digits (LibreOffice's saved values)
    over: dict | None = None  # sheet -> lookup of recalculated values


def verify_book(path, values="cached", rtol=0.0, sheet=None) -> Report:
    """Check a workbook. values: 'cached' (default; falls back when there are none),
    'libreoffice' (a fresh recalculation), 'embedded' (xlgd's own column definitions)."""
    if rtol < 0 or not math.isfinite(rtol):
        raise XlgdError(f"--rtol must be a finite number >= 0, got {rtol}")
    with Package.open(path) as book:
        rec, recipe = load_xlgd(book)
        targets = _targets(book, recipe, rtol, sheet)
        how = _values(book, targets, values)
        ctx = CheckContext(book, rtol, how.over, how.dialect, how.rounded)
        report = Report(str(path), book.application or "unknown", how.dialect, how.source)
        data_rows = _check_targets(ctx, report, targets, recipe, how.mode == "embedded")
        if book.producer == "libreoffice" or how.dialect == "libreoffice":
            report.notes.append("values come from LibreOffice, which writes #VALUE! for SQRT of a negative where "
                                "Excel writes #NUM!: the engine ran in LibreOffice's dialect")
        if rec is not None:
            report.notes.append(f"made by xlgd {rec.get('xlgd')} from template {rec.get('template')!r}")
        _warnings(ctx, report, {t.name for t in targets}, data_rows)
        return report


def _targets(book, recipe, rtol, sheet) -> list:
    """The sheets xlgd can check: an xlgd workbook's own, else the graddesc sheets it recognises."""
    path = book.path
    targets = []
    if recipe is not None:
        for spec in recipe.sheets:
            if spec.name not in book.sheet_names:
                raise XlgdError(f"{path}: sheet {spec.name!r} of its xlgd record is missing "
                                f"(sheets: {', '.join(book.sheet_names)})")
            targets.append(Target("xlgd", spec.name, spec))
    else:
        probe = CheckContext(book, rtol, None, "excel", False)
        for name in book.sheet_names:
            if gl.SHEET_NAMES.get(name.strip().lower()) is None:
                continue
            row3 = {a1(r, c): cell.value for (r, c), cell in probe.grid(name).items() if r == 3}
            g = gl.recognise(name, row3)
            if g is not None:
                targets.append(Target("graddesc", name, g))
    if not targets:
        raise XlgdError(f"{path}: no sheet xlgd knows (not made by xlgd, and no graddesc sheet basic/momentum/"
                        f"rmsprop/adam/adam_ann); sheets: {', '.join(book.sheet_names) or 'none'}")
    if sheet is not None:
        targets = [t for t in targets if t.name == sheet]
        if not targets:
            raise XlgdError(f"{path}: no checkable sheet named {sheet!r}")
    return targets


def _values(book, targets, values) -> Values:
    producer = book.producer
    prefix = ""
    if values == "cached" and not _has_cached(book, targets):
        from ..xlsx.libreoffice import soffice, system_python_with_uno

        values = "libreoffice" if (soffice() and system_python_with_uno()) else "embedded"
        prefix = "no cached values in the file, so "
    if values == "libreoffice":
        return Values(values, prefix + "a fresh LibreOffice recalculation (exact doubles over UNO)", "libreoffice",
                      False, _lo_values(book.path))
    if values == "embedded":
        return Values(values, prefix + "the embedded evaluator (xlgd's own column definitions)", producer, False)
    rounded = producer == "libreoffice"
    return Values(values, "cached values (as last saved" + (" by LibreOffice, 15 significant digits)" if rounded
                                                             else ")"), producer, rounded)


def _check_targets(ctx, report, targets, recipe, embedded) -> int:
    """Check every target into the report (the data sheet first, once); returns the data rows checked."""
    stale_reason = _stale_reason(ctx.book.calc)
    data_rows, data = 0, None
    for t in targets:
        rep = SheetReport(t.name, "xlgd" if t.kind == "xlgd" else f"graddesc:{t.what.kind}")
        if t.kind == "xlgd":
            if data is None:
                drep = SheetReport(DATA_SHEET, "xlgd data")
                data = data_info(ctx, t.what, recipe, drep)
                report.sheets.append(drep)
                data_rows = t.what.n_data
            check_xlgd_sheet(ctx, t.what, CachedLayout(t.what), data, rep, stale_reason, embedded)
        else:
            gl.check_graddesc_sheet(ctx, t.name, t.what, rep)
        report.sheets.append(rep)
    return data_rows


def _stale_reason(calc) -> str:
    if calc.get("calcMode") == "manual":
        return "the workbook was saved with calculation set to manual"
    if calc.get("calcCompleted") in ("0", "false"):
        return "the workbook was saved before its calculation completed"
    return ""


def _warnings(ctx, report, checked_sheets, xlgd_data_rows):
    book = ctx.book
    calc = book.calc
    if calc.get("calcMode") == "manual":
        report.warnings.append("calculation is set to manual (calcPr calcMode=\"manual\"): after an edit, values "
                               "go stale until someone presses F9")
    if calc.get("calcCompleted") in ("0", "false"):
        report.warnings.append("the workbook was saved before its calculation completed (calcCompleted=0)")
    if book.has_macros:
        report.warnings.append("the workbook contains macros (vbaProject.bin); xlgd checks formulas, not macros")
    for sheet in book.sheet_names:
        if sheet in checked_sheets or sheet == record.META_SHEET:
            continue
        grid = ctx.grid(sheet)
        vol = sorted((k for k, c in grid.items() if c.formula and any(
            kind == "func" and t.upper() in VOLATILE for kind, t in _safe_tokens(c.formula))))
        if not vol:
            continue
        fn = next(t.upper() for kind, t in _safe_tokens(grid[vol[0]].formula) if kind == "func" and t.upper() in VOLATILE)
        feeds = sheet == DATA_SHEET and xlgd_data_rows and any(
            DATA_FIRST_ROW <= r < DATA_FIRST_ROW + xlgd_data_rows and c in (2, 3) for r, c in vol)
        where = f"{sheet}!{a1(*vol[0])}" + (f" and {len(vol) - 1} more" if len(vol) > 1 else "")
        if feeds:
            report.warnings.append(f"volatile function {fn} in {where} feeds computed cells: every recalculation "
                                   f"changes the data, so cached values cannot be reproduced")
        else:
            report.notes.append(f"volatile function {fn} in {where}; no checked cell reads it")


def _safe_tokens(text):
    try:
        return tokens(text)
    except FormulaSyntaxError:
        return ()


def _has_cached(book, targets):
    """Do the first sheet's first 200 formula cells carry values? (Read from its first rows only:
    the cell scanner reads a whole 8 MB piece, a second of a 100,000-row sheet's reading.)"""
    name = targets[0].name
    n = 0
    for c in _first_cells(book, name):
        if c.formula is not None:
            if c.value is not None:
                return True
            n += 1
            if n > 200:
                return False
    return n == 0


def _first_cells(book, name, size=1 << 16):
    """The cells of about the first `size` characters of a sheet (all of them where the scanner cannot read it)."""
    try:
        pieces = book.bodies(name)
        try:
            body = next(pieces, "")
        finally:
            pieces.close()
        cut = body.find("</row>", size)
        return list(book.scan_piece(name, body if cut < 0 else body[:cut + 6], {}, {}))
    except Fallback:
        return book.cells(name)


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

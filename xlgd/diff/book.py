"""Compare an edited workbook with its reference, cause by cause.

A learner changes one input and every cell below it changes value; a cell
by cell diff buries the one edit under thousands of consequences. Here the
two workbooks are aligned first (sheets by name or content, columns by
header, rows by content with formulas compared in relative form), then
each difference becomes one change (a class of changes.py): cell edits
(classify.py), rows and columns inserted or deleted (align.py, sheet.py) and,
here, sheets added, removed or renamed, chart series, defined names and
calculation settings. Last, what the changes did to each training sheet
(effects.py).

The room: changes.py (the kinds of change), align.py (columns, rows, the
row map and formula translation), classify.py (what kind of change a cell pair
is), sheet.py (the walk over one sheet), this module (whole workbooks:
sheets, names, calculation settings, charts), effects.py (training before
-> after), report.py and html.py (what a person reads), textconv.py (git).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

from ..errors import XlgdError
from ..recipe.record import META_SHEET
from ..xlsx import refs
from .align import PLAN_ROWS, RowMap, SheetMap, Translator, canon, row_plan, value_key
from .changes import (
    CalcSettingChanged,
    ChartAdded,
    ChartRemoved,
    ChartSeriesChanged,
    NameAdded,
    NameChanged,
    NameRemoved,
    ReferencesUnadjusted,
    RowMove,
    SheetAdded,
    SheetRemoved,
    SheetRenamed,
)
from .classify import DiffOptions, norm_formula
from .effects import sheet_effect
from .recompute import Recompute
from .sheet import SheetDiff


@dataclass
class DiffResult:
    edited: str
    reference: str
    reference_kind: str
    options: DiffOptions
    changes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)   # [{name, ref_name, status}]
    grids: dict = field(default_factory=dict)    # edited sheet -> Grid
    recomputed: list = field(default_factory=list)  # per side without cached values: recompute.summary()
    notes: list = field(default_factory=list)    # differences that change no value (calculation settings)
    effects: list = field(default_factory=list)  # what the changes did to each training sheet (effects.Effect)

    @property
    def same(self):
        return not self.changes

    def counts(self):
        out = {}
        for ch in self.changes:
            out[ch.kind] = out.get(ch.kind, 0) + ch.weight
        return out

    def as_dict(self):
        return {
            "edited": self.edited, "reference": self.reference, "reference_kind": self.reference_kind,
            "same": self.same,
            "options": {"rtol": self.options.rtol, "atol": self.options.atol, "formulas": self.options.formulas,
                        "values": self.options.values, "sheet": self.options.sheet},
            "sheets": self.sheets,
            "recomputed": self.recomputed,
            "notes": [n.as_dict() for n in self.notes],
            "counts": self.counts(),
            "effects": [e.as_dict() for e in self.effects],
            "changes": [c.as_dict() for c in self.changes],
        }


RENAME_ROWS = 500        # rows of a sheet read to recognise it under another name
RENAME_MIN_SHARED = 0.5  # share of rows two sheets must have in common to be one sheet renamed


def _row_signatures(source, name, limit_rows=RENAME_ROWS) -> set:
    """Hashes of a sheet's first rows, formulas in relative form: what a renamed sheet keeps."""
    out = set()
    for n, (r, cells) in enumerate(sheet_rows(source, name)):
        if n >= limit_rows:
            break
        out.add(hash(tuple((c, canon(f, r, c) if f is not None else None, None if f is not None else value_key(v))
                           for c, (f, v) in sorted(cells.items()))))
    return out


def match_sheets(ed_names, ref_names, ed_src, ref_src):
    """[(edited name or None, reference name or None, status)] in edited order.

    Sheets pair by name; a sheet left over on each side pairs by content -- the share of
    rows they have in common -- so a sheet renamed and edited too is still one sheet."""
    ref_set = set(ref_names)
    pairs = {n: n for n in ed_names if n in ref_set}
    lone_e = [n for n in ed_names if n not in pairs]
    lone_r = [n for n in ref_names if n not in pairs.values()]
    if lone_e and lone_r:
        sig_r = {m: _row_signatures(ref_src, m) for m in lone_r}
        scored = []
        for n in lone_e:
            sig_e = _row_signatures(ed_src, n)
            for m, sr in sig_r.items():
                shared = len(sig_e & sr) / max(len(sig_e), len(sr), 1)
                if shared >= RENAME_MIN_SHARED:
                    scored.append((-shared, ed_names.index(n), n, m))
        for _, _, n, m in sorted(scored):
            if n in lone_e and m in lone_r:
                pairs[n] = m
                lone_e.remove(n)
                lone_r.remove(m)
    out = [(n, pairs[n], "same" if pairs[n] == n else "renamed") if n in pairs else (n, None, "added")
           for n in ed_names]
    return out + [(None, m, "removed") for m in lone_r]


def diff_books(ed_src, ref_src, opt: DiffOptions | None = None, edited_label="", reference_label="",
               reference_kind="file") -> DiffResult:
    """Diff two open workbooks (`Package`s): the edited one against its reference."""
    opt = opt or DiffOptions()
    res = DiffResult(edited_label, reference_label, reference_kind, opt)
    pairs = _sheet_pairs(ed_src, ref_src, opt)
    translator = Translator()
    for e, r, status in pairs:
        if e and r:
            translator.maps[e] = SheetMap(r, RowMap(), None)
            translator.renamed = translator.renamed or e != r
    ed_re, ref_re = Recompute(ed_src, "edited"), Recompute(ref_src, "reference")
    ref_names_map = learner_names(ref_src)
    names_at = _named_cells(ref_names_map)
    for e, r, status in pairs:
        if META_SHEET in (e, r):
            continue  # xlgd's own record, rewritten on every generate: not the learner's content
        res.sheets.append({"name": e, "ref_name": r, "status": status})
        if status in ("added", "removed"):
            res.changes.append(SheetAdded(e) if status == "added" else SheetRemoved(r))
            continue
        if status == "renamed":
            res.changes.append(SheetRenamed(e, r, e))
        local = {(row, col): n for (s, row, col), n in names_at.items() if s == r}
        sd = diff_sheet(e, r, opt, translator, local, sheet_rows(ed_src, e, ed_re), sheet_rows(ref_src, r, ref_re))
        res.changes.extend(sd.changes)
        if sd.grid is not None and sd.grid.rows:
            res.grids[e] = sd.grid
    if opt.formulas:
        _whole_book(res, ed_src, ref_src, ref_names_map, translator)
    if opt.values:
        res.effects = training_effects(res.changes, pairs, (ed_src, ed_re), (ref_src, ref_re))
    res.recomputed = [s for s in (ed_re.summary(), ref_re.summary()) if s]
    res.changes.sort(key=lambda ch: ch.rank)  # causes first (stable: sheet order kept)
    return res


def diff_sheet(ed_name, ref_name, opt, translator, names_at, ed_rows, ref_rows) -> SheetDiff:
    """One sheet's diff. A small sheet is also lined up as a whole (`align.row_plan`); when that
    explains it with fewer changes than the lockstep walk (a row inserted above a table whose
    values all changed), it is the one kept."""
    ed_rows, ref_rows = _small(ed_rows), _small(ref_rows)
    sd = _walk(ed_name, ref_name, opt, translator, names_at, ed_rows, ref_rows)
    if isinstance(ed_rows, list) and isinstance(ref_rows, list):
        plan = row_plan(ed_rows, ref_rows)
        if plan is not None and sd.causes > 1:
            walked, sd_map = sd, translator.maps[ed_name]
            sd = _walk(ed_name, ref_name, opt, translator, names_at, ed_rows, ref_rows, plan)
            if sd.causes >= walked.causes:
                sd, translator.maps[ed_name] = walked, sd_map
    return sd


def _walk(ed_name, ref_name, opt, translator, names_at, ed_rows, ref_rows, plan=None) -> SheetDiff:
    sd = SheetDiff(ed_name, ref_name, opt, translator, names_at, iter(ed_rows), iter(ref_rows), plan)
    translator.maps[ed_name] = SheetMap(ref_name, sd.rowmap, None)
    sd.run()
    translator.maps[ed_name].set_columns(sd.columns)
    return sd


def _small(rows):
    """The rows as a list when there are at most PLAN_ROWS of them, else an iterator over them all."""
    head = list(itertools.islice(rows, PLAN_ROWS + 1))
    return head if len(head) <= PLAN_ROWS else itertools.chain(head, rows)


def training_effects(changes, pairs, edited, reference) -> list:
    """What the changes did to each training sheet whose values followed them (`effects.Effect`).
    `edited` and `reference` are (package, Recompute) pairs."""
    followed = {c.sheet for c in changes if c.kind == "values_changed"}
    out = []
    for e, r, _status in pairs:
        if e not in followed or r is None:
            continue
        effect = sheet_effect(e, lambda: sheet_rows(edited[0], e, edited[1], tally=False),
                              lambda: sheet_rows(reference[0], r, reference[1], tally=False))
        if effect is not None:
            out.append(effect)
    return out


def _sheet_pairs(ed_src, ref_src, opt):
    ed_names, ref_names = ed_src.worksheet_names, ref_src.worksheet_names
    pairs = match_sheets(ed_names, ref_names, ed_src, ref_src)
    if opt.sheet is None:
        return pairs
    if opt.sheet not in ed_names and opt.sheet not in ref_names:
        raise XlgdError(f"no sheet named {opt.sheet!r} (sheets: {', '.join(ed_names)})")
    return [p for p in pairs if opt.sheet in (p[0], p[1])]


def _named_cells(names: dict) -> dict:
    """(sheet, row, col) -> the defined name of that one cell (an input's name)."""
    from ..charts.model import parse_area

    out = {}
    for (_scope, name), text in names.items():
        a = parse_area(text)
        if a and a.r1 == a.r2 and a.c1 == a.c2:
            out[(a.sheet, a.r1, a.c1)] = name
    return out


def _whole_book(res, ed_src, ref_src, ref_names_map, translator):
    """Defined names, calculation settings and charts (with --sheet: that sheet's charts only)."""
    charts = diff_charts(book_charts(ed_src), book_charts(ref_src), translator)
    if res.options.sheet is not None:
        res.changes.extend(_fold_unadjusted(res.changes, [c for c in charts if c.sheet == res.options.sheet]))
        return
    res.changes.extend(diff_names(learner_names(ed_src), ref_names_map, translator))
    calc, res.notes = diff_calc(ed_src.calc, ref_src.calc)
    res.changes.extend(calc)
    res.changes.extend(_fold_unadjusted(res.changes, charts))


def _fold_unadjusted(changes, chart_changes):
    """Chart series whose reference text stayed while the rows it names moved join their sheet's
    "references were not adjusted" cause instead of each being a change."""
    moved = {c.sheet: i for i, c in enumerate(changes)
             if isinstance(c, ReferencesUnadjusted) or isinstance(c, RowMove) and c.unadjusted}
    out = []
    for ch in chart_changes:
        at = moved.get(ch.sheet)
        if at is not None and isinstance(ch, ChartSeriesChanged) and ch.old == ch.new:
            cause = changes[at]
            more = dataclasses.replace(cause.unadjusted, charts=cause.unadjusted.charts + 1)
            changes[at] = dataclasses.replace(cause, unadjusted=more)
        else:
            out.append(ch)
    return out


def diff_names(edited: dict, ref: dict, translator: Translator):
    out = []
    ren = {e: m.ref_name for e, m in translator.maps.items()}
    ed2 = {}
    for (scope, name), text in edited.items():
        ed2[(ren.get(scope, scope), name)] = (scope, text)
    for key in sorted(set(ed2) | set(ref), key=lambda k: (k[0] or "", k[1])):
        scope, name = key
        if key not in ref:
            out.append(NameAdded(name, ed2[key][0], ed2[key][1]))
        elif key not in ed2:
            out.append(NameRemoved(name, scope, ref[key]))
        else:
            escope, text = ed2[key]
            t = translator.translate(text, escope or "")
            if norm_formula(t.lstrip("=")) != norm_formula(ref[key].lstrip("=")):
                out.append(NameChanged(name, escope, ref[key], text))
    return out


CALC_DEFAULTS = {"calcMode": "auto", "fullCalcOnLoad": "0", "iterate": "0", "iterateCount": "100",
                 "iterateDelta": "0.001", "calcOnSave": "1", "fullPrecision": "1", "refMode": "A1"}
# Settings that change no value: instructions to the application (recalculate on load, on save,
# concurrently), the reference style shown, and the iteration limits while iteration is off
# (LibreOffice writes iterateDelta="0.0001" on every save). A change of one is a note, not a difference.
NO_VALUE_SETTINGS = {"fullCalcOnLoad", "calcOnSave", "forceFullCalc", "concurrentCalc", "concurrentManualCount",
                     "refMode", "calcCompleted"}
ITERATION_LIMITS = {"iterateCount", "iterateDelta"}


def diff_calc(edited: dict, ref: dict):
    """(changes, notes): calculation settings that can change values, and those that cannot."""
    changes, notes = [], []
    iterating = "1" in (_calc(edited, "iterate"), _calc(ref, "iterate"))
    for k in sorted(set(edited) | set(ref) | set(CALC_DEFAULTS)):
        if k == "calcId":
            continue  # the Excel version that last saved: not a setting a learner chose
        a, b = _calc(ref, k), _calc(edited, k)
        if a != b:
            quiet = k in NO_VALUE_SETTINGS or (k in ITERATION_LIMITS and not iterating)
            (notes if quiet else changes).append(CalcSettingChanged(k, a, b))
    return changes, notes


def _calc(settings, key):
    return _bool_norm(settings.get(key, CALC_DEFAULTS.get(key)))


def _bool_norm(value):
    return {"true": "1", "false": "0"}.get(value, value)


ROLE = {"cat": "x", "xVal": "x", "val": "y", "yVal": "y"}


def diff_charts(ed_charts, ref_charts, translator: Translator):
    out = []
    ren = {e: m.ref_name for e, m in translator.maps.items()}

    def key_list(charts, rename):
        by = {}
        for ch in charts:
            s = rename.get(ch.sheet, ch.sheet) if rename else ch.sheet
            by.setdefault(s, []).append(ch)
        return by

    eb, rb = key_list(ed_charts, ren), key_list(ref_charts, None)
    for sheet in sorted(set(eb) | set(rb), key=lambda s: s or ""):
        el, rl = eb.get(sheet, []), rb.get(sheet, [])
        for k in range(max(len(el), len(rl))):
            ec = el[k] if k < len(el) else None
            rc = rl[k] if k < len(rl) else None
            ed_sheet = ec.sheet if ec else next((e for e, r in ren.items() if r == sheet), sheet)
            if ec is None:
                out.append(ChartRemoved(ed_sheet, rc.title))
                continue
            if rc is None:
                out.append(ChartAdded(ed_sheet, ec.title))
                continue
            for n in range(max(len(ec.series), len(rc.series))):
                es = ec.series[n] if n < len(ec.series) else None
                rs = rc.series[n] if n < len(rc.series) else None
                label = (rs or es).name or f"series {n + 1}"
                if es is None or rs is None:
                    out.append(ChartSeriesChanged(ed_sheet, rc.title, label, "series", "present" if rs else None,
                                                  "present" if es else None))
                    continue
                for a, b in ((es.cats, rs.cats), (es.values, rs.values)):
                    old = b.formula if b.kind else None
                    new = a.formula if a.kind else None
                    new_t = translator.translate(new, ec.sheet or "") if new else new
                    if ref_key(old) != ref_key(new_t) or (a.is_literal != b.is_literal):
                        out.append(ChartSeriesChanged(ed_sheet, rc.title, label, ROLE.get(b.role, b.role),
                                                      old if old else (b.kind or None), new if new else (a.kind or None)))
    return out


def ref_key(text: str | None) -> str:
    """A reference by what it names: sheet names quoted only where they must be, `$` left out,
    case ignored -- so `'basic'!$E$7:$E$151` (openpyxl quotes every name) and LibreOffice's
    `basic!$E$7:$E$151` are one reference."""
    if not text:
        return ""
    try:
        toks = refs.tokens(text.lstrip("="))
    except refs.FormulaSyntaxError:
        return text
    out = []
    for kind, t in toks:
        if kind == "sheet":
            t = refs.quote_sheet(refs.unquote_sheet(t)) + "!"
        elif kind == "ref":
            t = t.replace("$", "")
        out.append(t.upper())
    return "".join(out)


# --------------------------------------------------------------------------
# What the diff reads from a workbook (an open `xlsx.package.Package`)


def sheet_rows(pkg, name, recompute=None, tally=True):
    """(row, {col: (formula without '=' or None, cached value)}) of one worksheet, streamed.

    With `recompute` (a `recompute.Recompute`), a formula cell the file holds no value for
    gets the workbook evaluator's (or `NOT_HELD`), counted for the report's note when `tally`."""
    for r, cells in pkg.rows(name):
        d = {}
        for c in cells:
            if c.formula is not None:
                v = c.value
                if v is None and recompute is not None:
                    v = recompute.value(name, r, c.col, tally)
                d[c.col] = (c.formula, v)
            elif c.value not in (None, ""):
                d[c.col] = (None, c.value)
        if d:
            yield r, d


def learner_names(pkg) -> dict:
    """{(sheet scope or None, name as written): text}, without print areas and filter databases."""
    return {key: text for key, text in pkg.defined_names.items() if not key[1].startswith("_xlnm.")}


def book_charts(pkg) -> list:
    """The workbook's charts. A chart part that cannot be read is an error naming it, not "no
    charts": leaving them out would report a damaged chart as no difference."""
    from ..charts.model import read_charts

    return read_charts(pkg)

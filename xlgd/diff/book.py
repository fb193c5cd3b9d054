"""Compare an edited workbook with its reference, cause by cause.

A learner changes one input and every cell below it changes value; a cell
by cell diff buries the one edit under thousands of consequences. Here the
two workbooks are aligned first (sheets by name or content, columns by
header, rows by content with formulas compared in relative form), then
each difference is classified: the cell kinds (input_changed,
formula_changed, values_changed ...) are listed in cells.py; the structural
ones are rows_inserted/deleted, column_added/removed (align.py, sheet.py) and,
here, sheet_added/removed/renamed, chart_series_changed,
defined_name_changed/added/removed and calc_settings_changed.

The room: align.py (columns, rows, the row map and formula translation),
cells.py (what kind of change a cell pair is), sheet.py (the walk over one
sheet), this module (whole workbooks: sheets, names, calculation settings,
charts), report.py and html.py (what a person reads), textconv.py (git).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import XlgdError
from ..recipe.record import META_SHEET
from .align import RowMap, SheetMap, Translator, canon, value_key
from .cells import Options, norm_formula
from .sheet import SheetDiff

STRUCTURAL = ("sheet_added", "sheet_removed", "sheet_renamed", "rows_inserted", "rows_deleted",
              "column_added", "column_removed")


@dataclass
class DiffResult:
    edited: str
    reference: str
    reference_kind: str
    options: Options
    changes: list = field(default_factory=list)
    sheets: list = field(default_factory=list)   # [{name, ref_name, status}]
    grids: dict = field(default_factory=dict)    # edited sheet -> Grid

    @property
    def same(self):
        return not self.changes

    def counts(self):
        out = {}
        for ch in self.changes:
            k = ch["kind"]
            out[k] = out.get(k, 0) + (ch.get("count", 1) if k in ("values_changed", "more_cells") else 1)
        return out

    def as_dict(self):
        return {
            "edited": self.edited, "reference": self.reference, "reference_kind": self.reference_kind,
            "same": self.same,
            "options": {"rtol": self.options.rtol, "atol": self.options.atol, "formulas": self.options.formulas,
                        "values": self.options.values, "sheet": self.options.sheet},
            "sheets": self.sheets,
            "counts": self.counts(),
            "changes": self.changes,
        }


def _content_hash(source, name, limit_rows=None):
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    n = 0
    for r, cells in sheet_rows(source, name):
        n += 1
        for c in sorted(cells):
            f, v = cells[c]
            h.update(repr((c, canon(f, r, c) if f is not None else None,
                           None if f is not None else value_key(v))).encode())
        if limit_rows and n >= limit_rows:
            break
    return h.hexdigest()


def match_sheets(ed_names, ref_names, ed_src, ref_src):
    """[(edited name or None, reference name or None, status)] in edited order."""
    ref_set = set(ref_names)
    pairs = {}
    for n in ed_names:
        if n in ref_set:
            pairs[n] = n
    lone_e = [n for n in ed_names if n not in pairs]
    lone_r = [n for n in ref_names if n not in pairs.values()]
    if lone_e and lone_r:
        # Renamed: the same content under another name. Compare the head of
        # each sheet (formulas in relative form) -- cheap and rename-proof.
        hr = {}
        for n in lone_r:
            hr.setdefault(_content_hash(ref_src, n, 200), []).append(n)
        for n in list(lone_e):
            hv = _content_hash(ed_src, n, 200)
            if hr.get(hv):
                m = hr[hv].pop(0)
                pairs[n] = m
                lone_e.remove(n)
                lone_r.remove(m)
    out = []
    for n in ed_names:
        if n in pairs:
            out.append((n, pairs[n], "same" if pairs[n] == n else "renamed"))
        else:
            out.append((n, None, "added"))
    for m in lone_r:
        out.append((None, m, "removed"))
    return out


def diff_books(ed_src, ref_src, opt: Options | None = None, edited_label="", reference_label="",
               reference_kind="file") -> DiffResult:
    """Diff two open workbooks (`Package`s): the edited one against its reference."""
    opt = opt or Options()
    res = DiffResult(edited_label, reference_label, reference_kind, opt)
    ed_names, ref_names = ed_src.worksheet_names, ref_src.worksheet_names
    pairs = match_sheets(ed_names, ref_names, ed_src, ref_src)
    if opt.sheet is not None:
        if opt.sheet not in ed_names and opt.sheet not in ref_names:
            raise XlgdError(f"no sheet named {opt.sheet!r} (sheets: {', '.join(ed_names)})")
        pairs = [p for p in pairs if opt.sheet in (p[0], p[1])]
    tr = Translator()
    for e, r, status in pairs:
        if e and r:
            tr.maps[e] = SheetMap(r, RowMap(), None)
            if e != r:
                tr.renamed = True

    ref_names_map = learner_names(ref_src)
    names_at = {}
    for (scope, name), text in ref_names_map.items():
        from ..charts.model import parse_area

        a = parse_area(text)
        if a and a.r1 == a.r2 and a.c1 == a.c2:
            names_at[(a.sheet, a.r1, a.c1)] = name

    for e, r, status in pairs:
        if META_SHEET in (e, r):
            continue  # xlgd's own record, rewritten on every generate: not the learner's content
        res.sheets.append({"name": e, "ref_name": r, "status": status})
        if status == "added":
            res.changes.append({"kind": "sheet_added", "sheet": e})
            continue
        if status == "removed":
            res.changes.append({"kind": "sheet_removed", "ref_sheet": r})
            continue
        if status == "renamed":
            res.changes.append({"kind": "sheet_renamed", "sheet": e, "old": r, "new": e})
        local = {(row, col): n for (s, row, col), n in names_at.items() if s == r}
        sd = SheetDiff(e, r, opt, tr, local, sheet_rows(ed_src, e), sheet_rows(ref_src, r))
        tr.maps[e] = SheetMap(r, sd.rowmap, None)
        sd.run()
        tr.maps[e].cols = sd.cols if sd.cols is not None else None
        res.changes.extend(sd.changes)
        if sd.grid is not None and sd.grid.rows:
            res.grids[e] = sd.grid

    if opt.sheet is None and opt.formulas:
        res.changes.extend(diff_names(learner_names(ed_src), ref_names_map, tr))
        res.changes.extend(diff_calc(ed_src.calc, ref_src.calc))
        res.changes.extend(diff_charts(book_charts(ed_src), book_charts(ref_src), tr))
    elif opt.formulas:
        res.changes.extend(c for c in diff_charts(book_charts(ed_src), book_charts(ref_src), tr)
                           if c.get("sheet") == opt.sheet)
    return res


def diff_names(ed: dict, ref: dict, tr: Translator):
    out = []
    ren = {e: m.ref_name for e, m in tr.maps.items()}
    ed2 = {}
    for (scope, name), text in ed.items():
        ed2[(ren.get(scope, scope), name)] = (scope, text)
    for key in sorted(set(ed2) | set(ref), key=lambda k: (k[0] or "", k[1])):
        scope, name = key
        if key not in ref:
            out.append({"kind": "defined_name_added", "name": name, "scope": ed2[key][0], "new": ed2[key][1]})
        elif key not in ed2:
            out.append({"kind": "defined_name_removed", "name": name, "scope": scope, "old": ref[key]})
        else:
            escope, text = ed2[key]
            t = tr.translate(text, escope or "")
            if norm_formula(t.lstrip("=")) != norm_formula(ref[key].lstrip("=")):
                out.append({"kind": "defined_name_changed", "name": name, "scope": escope,
                            "old": ref[key], "new": text})
    return out


CALC_DEFAULTS = {"calcMode": "auto", "fullCalcOnLoad": "0", "iterate": "0", "iterateCount": "100",
                 "iterateDelta": "0.001", "calcOnSave": "1", "fullPrecision": "1", "refMode": "A1"}


def diff_calc(ed: dict, ref: dict):
    out = []
    for k in sorted(set(ed) | set(ref) | set(CALC_DEFAULTS)):
        if k == "calcId":
            continue  # the Excel version that last saved: not a setting a learner chose
        a = _bool_norm(ref.get(k, CALC_DEFAULTS.get(k)))
        b = _bool_norm(ed.get(k, CALC_DEFAULTS.get(k)))
        if a != b:
            out.append({"kind": "calc_settings_changed", "setting": k, "old": a, "new": b})
    return out


def _bool_norm(v):
    return {"true": "1", "false": "0"}.get(v, v)


ROLE = {"cat": "x", "xVal": "x", "val": "y", "yVal": "y"}


def diff_charts(ed_charts, ref_charts, tr: Translator):
    out = []
    ren = {e: m.ref_name for e, m in tr.maps.items()}

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
                out.append({"kind": "chart_removed", "sheet": ed_sheet, "chart": rc.title})
                continue
            if rc is None:
                out.append({"kind": "chart_added", "sheet": ed_sheet, "chart": ec.title})
                continue
            for n in range(max(len(ec.series), len(rc.series))):
                es = ec.series[n] if n < len(ec.series) else None
                rs = rc.series[n] if n < len(rc.series) else None
                label = (rs or es).name or f"series {n + 1}"
                if es is None or rs is None:
                    out.append({"kind": "chart_series_changed", "sheet": ed_sheet, "chart": rc.title,
                                "series": label, "role": "series", "old": "present" if rs else None,
                                "new": "present" if es else None})
                    continue
                for a, b in ((es.cats, rs.cats), (es.values, rs.values)):
                    old = b.formula if b.kind else None
                    new = a.formula if a.kind else None
                    new_t = tr.translate(new, ec.sheet or "") if new else new
                    if (old or "") != (new_t or "") or (a.is_literal != b.is_literal):
                        out.append({"kind": "chart_series_changed", "sheet": ed_sheet, "chart": rc.title,
                                    "series": label, "role": ROLE.get(b.role, b.role),
                                    "old": old if old else (b.kind or None), "new": new if new else (a.kind or None)})
    return out


# --------------------------------------------------------------------------
# What the diff reads from a workbook (an open `xlsx.package.Package`)


def sheet_rows(pkg, name):
    """(row, {col: (formula without '=' or None, cached value)}) of one worksheet, streamed."""
    for r, cells in pkg.rows(name):
        d = {}
        for c in cells:
            if c.formula is not None or c.value not in (None, ""):
                d[c.col] = (c.formula, c.value)
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

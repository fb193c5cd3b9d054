"""How a diff is shown: terminal text (coloured on a terminal), JSON, HTML.

The text report reads cause first: structure (sheets, rows, columns), then
the edits a person made (inputs, formulas), then one line per column for
the values that only followed, then charts, names and settings.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..xlsx.output import atomic_output
from ..xlsx.refs import a1, col_letters

ORDER = ["sheet_added", "sheet_removed", "sheet_renamed", "rows_inserted", "rows_deleted", "column_added",
         "column_removed", "input_changed", "text_changed", "formula_changed", "formula_to_constant",
         "constant_to_formula", "cell_added", "cell_removed", "more_cells", "values_changed", "chart_added",
         "chart_removed", "chart_series_changed", "defined_name_added", "defined_name_removed",
         "defined_name_changed", "calc_settings_changed"]

_COL = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2",
        "bold": "1"}
KIND_COLOR = {"input_changed": "yellow", "formula_changed": "magenta", "formula_to_constant": "red",
              "constant_to_formula": "magenta", "values_changed": "dim", "rows_inserted": "green",
              "rows_deleted": "red", "column_added": "green", "column_removed": "red", "sheet_added": "green",
              "sheet_removed": "red", "sheet_renamed": "cyan", "chart_series_changed": "blue",
              "calc_settings_changed": "red", "cell_added": "green", "cell_removed": "red"}


def write_json(result, out):
    json.dump(result.as_dict(), out, indent=1, default=str)
    out.write("\n")


def _num(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    return repr(v) if isinstance(v, str) else str(v)


def describe(ch) -> str:
    """One line for one change (no location prefix)."""
    k = ch["kind"]
    if k == "sheet_added":
        return "sheet added"
    if k == "sheet_removed":
        return f"sheet {ch['ref_sheet']!r} removed"
    if k == "sheet_renamed":
        return f"sheet renamed {ch['old']!r} -> {ch['new']!r}"
    if k == "rows_inserted":
        return f"{ch['count']} row(s) inserted at row {ch['at']} (rows {ch['rows']})"
    if k == "rows_deleted":
        return f"{ch['count']} row(s) deleted (reference rows {ch['ref_rows']})"
    if k == "column_added":
        return f"column {ch['column']} added ({ch['header']!r})"
    if k == "column_removed":
        return f"column {ch['ref_column']} removed ({ch['header']!r})"
    if k == "input_changed":
        who = f"{ch['name']} " if ch.get("name") else ""
        return f"input {who}changed: {_num(ch['old'])} -> {_num(ch['new'])}"
    if k == "text_changed":
        return f"text changed: {_num(ch['old'])} -> {_num(ch['new'])}"
    if k == "formula_changed":
        what = ", ".join(f"{a or '(nothing)'} -> {b or '(nothing)'}" for a, b in ch.get("differs", []))
        return f"formula changed: {ch['old']} -> {ch['new']}" + (f"  [{what}]" if what else "")
    if k == "formula_to_constant":
        return f"constant {_num(ch['new'])} typed over {ch['old']} (was {_num(ch.get('old_value'))})"
    if k == "constant_to_formula":
        return f"formula {ch['new']} typed over constant {_num(ch['old'])}"
    if k == "cell_added":
        return f"cell filled: {_num(ch.get('new'))}"
    if k == "cell_removed":
        return f"cell emptied (was {_num(ch.get('old'))})"
    if k == "more_cells":
        return f"... and {ch['count']} more cell-level changes not listed"
    if k == "values_changed":
        return (f"column {ch['column']} ({ch['header'] or 'no header'}): {ch['count']} value(s) differ "
                f"{ch['first']}..{ch['last']} (max abs {_num(ch['max_abs'])}, max rel {_num(ch['max_rel'])}) "
                f"-- follows from the changes above")
    if k in ("chart_added", "chart_removed"):
        return f"chart {ch['chart']!r} {k.split('_')[1]}"
    if k == "chart_series_changed":
        return (f"chart {ch['chart']!r}, series {ch['series']!r}: {ch['role']} reference "
                f"{ch['old']} -> {ch['new']}")
    if k == "defined_name_added":
        return f"defined name {ch['name']} added: {ch['new']}"
    if k == "defined_name_removed":
        return f"defined name {ch['name']} removed (was {ch['old']})"
    if k == "defined_name_changed":
        return f"defined name {ch['name']}: {ch['old']} -> {ch['new']}"
    if k == "calc_settings_changed":
        return f"calculation setting {ch['setting']}: {ch['old']} -> {ch['new']}"
    return json.dumps(ch, default=str)


def where(ch) -> str:
    s = ch.get("sheet") or ch.get("ref_sheet") or ""
    cell = ch.get("cell")
    if cell:
        return f"{s}!{cell}"
    return s or "workbook"


def write_text(result, out, color=False):
    def paint(text, c):
        if not color or not c:
            return text
        return f"\x1b[{_COL[c]}m{text}\x1b[0m"

    out.write(f"edited:    {result.edited}\nreference: {result.reference}\n")
    if result.same:
        out.write(paint("no differences", "green") + "\n")
        return
    counts = result.counts()
    out.write(paint("differences: ", "bold") + ", ".join(
        f"{counts[k]} {k.replace('_', ' ')}" for k in ORDER if k in counts) + "\n\n")
    rank = {k: i for i, k in enumerate(ORDER)}
    changes = sorted(enumerate(result.changes), key=lambda t: (rank.get(t[1]["kind"], 99), t[0]))
    for _, ch in changes:
        out.write(f"  {paint(where(ch), 'bold')}: {paint(describe(ch), KIND_COLOR.get(ch['kind']))}\n")


# --------------------------------------------------------------------------
# HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.6em}
table.grid{border-collapse:collapse;font-size:12px;font-family:ui-monospace,monospace}
table.grid td,table.grid th{border:1px solid #ccc;padding:2px 5px;white-space:nowrap;max-width:14em;
 overflow:hidden;text-overflow:ellipsis}
table.grid th{background:#f0f0f0;font-weight:normal;color:#555}
td.input_changed{background:#ffe066} td.formula_changed,td.constant_to_formula{background:#e599f7}
td.formula_to_constant,td.cell_removed{background:#ff8787} td.cell_added{background:#8ce99a}
td.values_changed{background:#d0ebff} td.text_changed{background:#ffd8a8}
tr.inserted td{background:#d3f9d8} tr.deleted td{background:#ffe3e3;text-decoration:line-through}
ul.changes li{margin:2px 0} .k{font-weight:bold} .legend span{padding:1px 6px;margin-right:6px}
"""


def _cell_text(d):
    v = d.get("v")
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else str(v)


def render_html(result) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>xlgd diff</title><style>{_CSS}</style>"
             "</head><body>",
             f"<h1>xlgd diff</h1><p>edited: <code>{e(result.edited)}</code><br>"
             f"reference: <code>{e(result.reference)}</code></p>"]
    if result.same:
        parts.append("<p id='verdict'>No differences.</p></body></html>")
        return "".join(parts)
    counts = result.counts()
    parts.append("<p id='verdict'>" + e(", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in ORDER
                                                  if k in counts)) + "</p>")
    parts.append("<p class='legend'>" + "".join(
        f"<span class='{k}' style='background:{c}'>{k.replace('_', ' ')}</span>" for k, c in (
            ("input_changed", "#ffe066"), ("formula_changed", "#e599f7"), ("formula_to_constant", "#ff8787"),
            ("values_changed", "#d0ebff"), ("inserted row", "#d3f9d8"))) + "</p>")
    parts.append("<ul class='changes'>")
    rank = {k: i for i, k in enumerate(ORDER)}
    for ch in sorted(result.changes, key=lambda c: rank.get(c["kind"], 99)):
        parts.append(f"<li data-kind='{e(ch['kind'])}'><span class='k'>{e(where(ch))}</span>: {e(describe(ch))}</li>")
    parts.append("</ul>")
    for sheet, grid in result.grids.items():
        parts.append(f"<h2>{e(sheet)}</h2>")
        ncol = min(grid.max_col, 60)
        parts.append(f"<table class='grid' data-sheet='{e(sheet)}'><tr><th></th>"
                     + "".join(f"<th>{col_letters(c)}</th>" for c in range(1, ncol + 1)) + "</tr>")
        prev = None
        for row in sorted(grid.rows, key=lambda r: (r["row"] if r["row"] is not None else r["ref_row"] or 0)):
            r = row["row"]
            if prev is not None and r is not None and r > prev + 1:
                parts.append(f"<tr><th>&#8942;</th><td colspan='{ncol}'></td></tr>")
            if r is not None:
                prev = r
            cls = f" class='{row['kind']}'" if row["kind"] else ""
            label = r if r is not None else f"({row['ref_row']})"
            title = {"inserted": "row inserted", "deleted": "row deleted (not in the edited workbook)"}.get(row["kind"])
            parts.append(f"<tr{cls}" + (f" title='{e(title)}'" if title else "") + f"><th>{label}</th>")
            for c in range(1, ncol + 1):
                d = row["cells"].get(c, {})
                m = row["marks"].get(c)
                attrs = ""
                tip = []
                if d.get("f") is not None:
                    tip.append("=" + d["f"])
                if m:
                    attrs += f" class='{m[0]}' data-kind='{m[0]}'"
                    tip.insert(0, m[1])
                if r is not None and (d or m):
                    attrs += f" id='{e(sheet)}!{a1(r, c)}'"
                if tip:
                    attrs += f" title='{e(chr(10).join(tip), quote=True)}'"
                parts.append(f"<td{attrs}>{e(_cell_text(d))}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_html(result, path):
    path = Path(path)
    text = render_html(result)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)

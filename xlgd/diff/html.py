"""A diff as an HTML page: each changed sheet as a grid, changed cells highlighted, the reason on hover.

The grid shows the rows kept around changes (`sheet.Grid`), so a sheet of a
million rows gives a page of a few hundred; the page is written atomically.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..xlsx.output import atomic_output
from ..xlsx.refs import a1, col_letters
from .report import note_lines, summary_line, verdict_same

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.6em}
table.grid{border-collapse:collapse;font-size:12px;font-family:ui-monospace,monospace}
table.grid td,table.grid th{border:1px solid #ccc;padding:2px 5px;white-space:nowrap;max-width:14em;
 overflow:hidden;text-overflow:ellipsis}
table.grid th{background:#f0f0f0;font-weight:normal;color:#555}
td.input_changed{background:#ffe066} td.formula_changed,td.constant_to_formula{background:#e599f7}
td.formula_to_constant,td.cell_removed{background:#ff8787} td.cell_added{background:#8ce99a}
td.values_changed{background:#d0ebff} td.text_changed{background:#ffd8a8} td.volatile_changed{background:#e9ecef}
tr.inserted td{background:#d3f9d8} tr.deleted td{background:#ffe3e3;text-decoration:line-through}
ul.changes li{margin:2px 0} .k{font-weight:bold} .legend span{padding:1px 6px;margin-right:6px}
"""


def _cell_text(cell):
    v = cell.get("v")
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else str(v)


def render_html(result) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>xlgd diff</title><style>{_CSS}</style>"
             "</head><body>",
             f"<h1>xlgd diff</h1><p>edited: <code>{e(result.edited)}</code><br>"
             f"reference: <code>{e(result.reference)}</code></p>"]
    notes = note_lines(result)
    if notes:
        parts.append("<ul class='notes'>" + "".join(f"<li>note: {e(n)}</li>" for n in notes) + "</ul>")
    if result.same:
        parts.append(f"<p id='verdict'>{e(verdict_same(result))}</p></body></html>")
        return "".join(parts)
    parts.append("<p id='verdict'>" + e(summary_line(result)) + "</p>")
    parts.append("<p class='legend'>" + "".join(
        f"<span class='{k}' style='background:{c}'>{k.replace('_', ' ')}</span>" for k, c in (
            ("input_changed", "#ffe066"), ("formula_changed", "#e599f7"), ("formula_to_constant", "#ff8787"),
            ("values_changed", "#d0ebff"), ("volatile_changed", "#e9ecef"), ("inserted row", "#d3f9d8"))) + "</p>")
    parts.append("<ul class='changes'>")
    for ch in sorted(result.changes, key=lambda c: c.rank):
        parts.append(f"<li data-kind='{e(ch.kind)}'><span class='k'>{e(ch.where())}</span>: {e(ch.describe())}</li>")
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
    # backslashreplace: a path or sheet name with bytes that are not UTF-8 must not stop the report.
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write(text)

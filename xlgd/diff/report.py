"""How a diff is shown: terminal text (coloured on a terminal) and JSON (HTML: html.py).

The text report reads cause first: the edits a person made (inputs,
formulas, chart links, names, calculation settings), then structure
(sheets, rows, columns), then one line per column for the values that only
followed (volatile cells apart: they re-roll on their own).
"""

from __future__ import annotations

import json

from .book import ORDER




_COL = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2",
        "bold": "1"}
KIND_COLOR = {"input_changed": "yellow", "formula_changed": "magenta", "formula_to_constant": "red",
              "constant_to_formula": "magenta", "values_changed": "dim", "rows_inserted": "green",
              "rows_deleted": "red", "column_added": "green", "column_removed": "red", "sheet_added": "green",
              "sheet_removed": "red", "sheet_renamed": "cyan", "chart_series_changed": "blue",
              "calc_settings_changed": "red", "cell_added": "green", "cell_removed": "red", "volatile_changed": "dim"}


def write_json(result, out):
    json.dump(result.as_dict(), out, indent=1, default=str)
    out.write("\n")


def _num(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    return repr(v) if isinstance(v, str) else str(v)


def kind_label(kind: str) -> str:
    """A change kind as the summary line counts it: 'values changed', 'rows inserted (references not adjusted)'."""
    base = kind.removesuffix("_unadjusted").replace("_", " ")
    if kind == "references_unadjusted":
        return "sheet(s) whose formulas kept their text while cells moved"
    return base + " (references not adjusted)" if kind.endswith("_unadjusted") else base


def _what(differs) -> str:
    what = ", ".join(f"{a or '(nothing)'} -> {b or '(nothing)'}" for a, b in differs or [])
    return f"  [{what}]" if what else ""


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
    if k.endswith("_unadjusted") and ch.get("charts"):
        return describe({**ch, "charts": 0}) + f", and {ch['charts']} chart series reference(s)"
    if k == "rows_inserted_unadjusted":
        return (f"row {ch['at']} inserted but references below were not adjusted" + (
            f" ({ch['count']} rows {ch['rows']})" if ch["count"] > 1 else "") +
            f": {ch['formulas']} formula(s) kept their text and now read other cells (first {ch['first']})")
    if k == "rows_deleted_unadjusted":
        return (f"{ch['count']} row(s) deleted (reference rows {ch['ref_rows']}) but references below were not "
                f"adjusted: {ch['formulas']} formula(s) kept their text and now read other cells (first {ch['first']})")
    if k == "references_unadjusted":
        return f"{ch['formulas']} formula(s) kept their text but now read other cells (first {ch['first']})"
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
        out = f"formula changed: {ch['old']} -> {ch['new']}" + _what(ch.get("differs"))
        if "differs_r1c1" in ch and ch["differs_r1c1"] != ch.get("differs"):
            out += f"; R1C1 {ch['old_r1c1']} -> {ch['new_r1c1']}" + _what(ch["differs_r1c1"])
        return out
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
    if k == "volatile_changed":
        return (f"column {ch['column']} ({ch['header'] or 'no header'}): {ch['count']} value(s) differ "
                f"{ch['first']}..{ch['last']} -- {ch['function']} is volatile: a new value on every "
                f"recalculation, not an edit")
    if k == "values_changed":
        return (f"column {ch['column']} ({ch['header'] or 'no header'}): {ch['count']} value(s) differ "
                f"{ch['first']}..{ch['last']} (max abs {_num(ch['max_abs'])}, max rel {_num(ch['max_rel'])}) "
                f"-- follows from the changes above")
    if k in ("chart_added", "chart_removed"):
        return f"chart {ch['chart']!r} {k.split('_')[1]}"
    if k == "chart_series_changed":
        if ch["old"] == ch["new"]:
            return (f"chart {ch['chart']!r}, series {ch['series']!r}: {ch['role']} reference {ch['old']} kept its "
                    f"text while rows or columns moved: it now names other cells")
        return (f"chart {ch['chart']!r}, series {ch['series']!r}: {ch['role']} reference "
                f"{ch['old']} -> {ch['new']}")
    if k == "defined_name_added":
        return f"defined name {ch['name']} added: {ch['new']}"
    if k == "defined_name_removed":
        return f"defined name {ch['name']} removed (was {ch['old']})"
    if k == "defined_name_changed":
        if ch["old"] == ch["new"]:
            return f"defined name {ch['name']} kept its text {ch['old']} while rows or columns moved: it now names other cells"
        return f"defined name {ch['name']}: {ch['old']} -> {ch['new']}"
    if k == "calc_settings_changed":
        return f"calculation setting {ch['setting']}: {ch['old']} -> {ch['new']}"
    return json.dumps(ch, default=str)


def note_lines(result) -> list:
    """What the reader should know besides the differences: values recomputed, settings that change nothing."""
    out = []
    for rec in result.recomputed:
        label = result.edited if rec["side"] == "edited" else result.reference
        line = (f"{label} holds no cached value for {rec['recomputed'] + rec['not_computed']:,} formula cell(s): "
                f"{rec['recomputed']:,} recomputed by xlgd's workbook evaluator")
        if rec["not_computed"]:
            why = "; ".join(f"{r}: {n:,}" for r, n in rec["reasons"].items())
            line += f"; {rec['not_computed']:,} could not be computed and are not compared ({why})"
        out.append(line)
    for ch in result.notes:
        out.append(f"{describe(ch)} (changes no value)")
    return out


def verdict_same(result) -> str:
    """'no differences', saying which values could not be compared when some could not."""
    skipped = sum(r["not_computed"] for r in result.recomputed)
    if not skipped:
        return "no differences"
    return f"no differences ({skipped:,} formula cell(s) not compared: no value held or computable, see note)"


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
    for line in note_lines(result):
        out.write(paint("note: ", "dim") + line + "\n")
    if result.same:
        out.write(paint(verdict_same(result), "green") + "\n")
        return
    counts = result.counts()
    out.write(paint("differences: ", "bold") + ", ".join(
        f"{counts[k]} {kind_label(k)}" for k in ORDER if k in counts) + "\n\n")
    rank = {k: i for i, k in enumerate(ORDER)}
    changes = sorted(enumerate(result.changes), key=lambda t: (rank.get(t[1]["kind"], 99), t[0]))
    for _, ch in changes:
        out.write(f"  {paint(where(ch), 'bold')}: {paint(describe(ch), KIND_COLOR.get(ch['kind']))}\n")


# --------------------------------------------------------------------------
# HTML

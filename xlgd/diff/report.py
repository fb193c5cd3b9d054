"""How a diff is shown: terminal text (coloured on a terminal) and JSON (HTML: html.py).

The text report reads cause first: the edits a person made (inputs,
formulas, chart links, names, calculation settings), then structure
(sheets, rows, columns), volatile cells (they re-roll on their own), then
what the changes did to each training sheet (`effects.Effect`), then one
line per sheet for the values that only followed (one per column with
`verbose`), then the notes.
"""

from __future__ import annotations

import json

from .changes import ORDER

_COL = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2",
        "bold": "1"}


def write_json(result, out):
    json.dump(result.as_dict(), out, indent=1, default=str)
    out.write("\n")


def kind_label(kind: str) -> str:
    """A change kind as the summary line counts it: 'values changed', 'rows inserted (references not adjusted)'."""
    base = kind.removesuffix("_unadjusted").replace("_", " ")
    if kind == "references_unadjusted":
        return "sheet(s) whose formulas kept their text while cells moved"
    return base + " (references not adjusted)" if kind.endswith("_unadjusted") else base


def summary_line(result) -> str:
    """'3 input changed, 1 formula changed, 290 values changed': the counts, causes first."""
    counts = result.counts()
    return ", ".join(f"{counts[k]} {kind_label(k)}" for k in ORDER if k in counts)


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
        out.append(f"{ch.describe()} (changes no value)")
    return out


def verdict_same(result) -> str:
    """'no differences', saying which values could not be compared when some could not."""
    skipped = sum(r["not_computed"] for r in result.recomputed)
    if not skipped:
        return "no differences"
    return f"no differences ({skipped:,} formula cell(s) not compared: no value held or computable, see note)"


def _painter(color):
    def paint(text, c):
        if not color or not c:
            return text
        return f"\x1b[{_COL[c]}m{text}\x1b[0m"
    return paint


def follower_lines(changes, verbose=False) -> list:
    """The values that only followed, one line per sheet ('basic: 2,605 values in 21 columns follow
    from these causes'); with `verbose`, each column's line below its sheet's."""
    by_sheet = {}
    for ch in changes:
        if ch.kind == "values_changed":
            by_sheet.setdefault(ch.sheet, []).append(ch)
    out = []
    for sheet, cols in by_sheet.items():
        n = sum(c.count for c in cols)
        out.append((f"{sheet}: {n:,} value{'s' if n != 1 else ''} in {len(cols)} column{'s' if len(cols) != 1 else ''} "
                    f"follow{'s' if n == 1 else ''} from these causes", None))
        if verbose:
            out += [(f"  {c.where()}: {c.describe()}", c.color) for c in cols]
    return out


def write_text(result, out, color=False, verbose=False):
    """The report: causes (indented), what they did to each training sheet, the values that followed
    per sheet, then the notes."""
    paint = _painter(color)
    out.write(f"edited:    {result.edited}\nreference: {result.reference}\n")
    notes = [paint("note: ", "dim") + line + "\n" for line in note_lines(result)]
    if result.same:
        out.writelines(notes)
        out.write(paint(verdict_same(result), "green") + "\n")
        return
    out.write(paint("differences: ", "bold") + summary_line(result) + "\n")
    changes = sorted(result.changes, key=lambda c: c.rank)
    for ch in changes:
        if ch.kind != "values_changed":
            out.write(f"  {paint(ch.where(), 'bold')}: {paint(ch.describe(), ch.color)}\n")
    for effect in result.effects:
        out.write(f"{paint(effect.sheet, 'bold')}: {effect.describe()}\n")
    for line, c in follower_lines(changes, verbose):
        out.write(paint(line, c or "dim") + "\n")
    out.writelines(notes)


# --------------------------------------------------------------------------
# HTML

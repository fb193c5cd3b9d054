"""`xlgd verify`'s report on one screen: the whole report when it fits in SCREEN_ROWS rows of SCREEN_COLS
columns, else the same facts grouped until it does.

Grouping, each step taken only while the report is still too long:
1. unchecked cells by reason for the whole book (`1,534 cell(s) use DEC2BIN, which xlgd does not
   evaluate (ENGINEERING!I3:I48 and 4 more ranges)`), at most UNCHECKED_GROUPS reasons, the rest counted;
   a sheet's root causes past CAUSES_PER_SHEET counted on one line;
2. sheets without a cause or a gradient descent folded into one list (name, checked of formula cells)
   and their notes grouped by what they say, naming the sheets;
3. lines past the screen counted on one line.
Nothing is dropped without a line saying how much and that `--verbose` (or `--json`) lists it; the
verdict line is always the last.
"""

from __future__ import annotations

import re

from .report import sheet_line

SCREEN_ROWS = 40
SCREEN_COLS = 120
UNCHECKED_GROUPS = 8
CAUSES_PER_SHEET = 8
MORE = "xlgd verify --verbose lists them"


def rows(lines: list) -> int:
    """Screen rows the lines take, a line longer than SCREEN_COLS wrapping."""
    return sum(max(1, -(-len(line) // SCREEN_COLS)) for line in lines)


def screen_text(report) -> str:
    """The report's text, grouped as the module says until it fits on a screen."""
    full = report.text().split("\n")
    if rows(full) <= SCREEN_ROWS:
        return "\n".join(full)
    grouped = _lines(report, fold_quiet=False)
    if rows(grouped) > SCREEN_ROWS:
        grouped = _lines(report, fold_quiet=True)
    return "\n".join(_cut(grouped))


def _lines(report, fold_quiet: bool) -> list:
    out = report.head() + _causes(report.causes, "")
    quiet = []
    for s in report.sheets:
        if fold_quiet and not (s.causes or s.failed or s.descent):
            quiet.append(s)
            continue
        out.append(sheet_line(s))
        if s.descent:
            out.append(f"  {s.descent}")
        out += [f"  note: {n}" for n in s.notes]
        out += _causes(s.causes, "  ")
    out += _quiet(quiet)
    out += _unchecked(report.unchecked)
    out.append(report.verdict())
    return out


def _causes(causes: list, indent: str) -> list:
    out = []
    for c in causes[:CAUSES_PER_SHEET]:
        out += [indent + line for line in c.lines()]
    if len(causes) > CAUSES_PER_SHEET:
        out.append(f"{indent}... and {len(causes) - CAUSES_PER_SHEET} more root cause(s) here ({MORE})")
    return out


def _reason(text: str) -> str:
    """An unchecked reason said of many cells: `uses X` and `use X` are one reason."""
    return "use " + text[5:] if text.startswith("uses ") else text


def _unchecked(unchecked: list) -> list:
    """Unchecked cells grouped by reason over the whole book, the largest groups first."""
    if not unchecked:
        return []
    groups = {}
    for u in unchecked:
        groups.setdefault(_reason(u.reason), []).append(u)
    ordered = sorted(groups.items(), key=lambda kv: -sum(u.cells + u.dependants for u in kv[1]))
    out = ["unchecked, by reason:"]
    for reason, members in ordered[:UNCHECKED_GROUPS]:
        n = sum(u.cells + u.dependants for u in members)
        more = f" and {len(members) - 1} more range(s)" if len(members) > 1 else ""
        out.append(f"  {n:,} cell(s) {reason} ({members[0].where}{more})")
    rest = ordered[UNCHECKED_GROUPS:]
    if rest:
        n = sum(u.cells + u.dependants for _, members in rest for u in members)
        out.append(f"  and {n:,} cell(s) for {len(rest)} other reason(s) ({MORE})")
    return out


def _quiet(sheets: list) -> list:
    """Sheets with no cause on as few lines as fit: names with checked/formula cells, then their notes
    grouped by what they say (numbers aside), each naming its sheets."""
    if not sheets:
        return []
    items = [f"{s.name} {s.checked:,}/{s.formula_cells:,}" for s in sheets]
    out = _packed(f"{len(sheets)} sheet(s) without a cause (formula cells checked/in all): ", items)
    notes = {}
    for s in sheets:
        for n in s.notes:
            notes.setdefault(re.sub(r"\d[\d,.]*", "#", n.split(", first ")[0]), []).append((s.name, n))
    for said in notes.values():
        others = [name for name, _ in said[1:]]
        alike = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        out.append(f"  note on {said[0][0]}" + (f" (and alike on {alike})" if others else "") + f": {said[0][1]}")
    return out


def _packed(head: str, items: list) -> list:
    """head and the items, comma-separated, wrapped at SCREEN_COLS."""
    out, line = [], head
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(piece) > SCREEN_COLS and line.strip():
            out.append(line.rstrip())
            line = "  "
        line += piece
    out.append(line.rstrip())
    return out


def _cut(lines: list) -> list:
    """At most SCREEN_ROWS rows: the lines past them (the verdict kept last) counted on one line."""
    body, verdict = lines[:-1], lines[-1]
    budget = SCREEN_ROWS - rows([verdict]) - 1
    if rows(body) <= budget + 1:
        return lines
    kept = []
    for line in body:
        if rows(kept + [line]) > budget:
            break
        kept.append(line)
    return kept + [f"... and {len(body) - len(kept)} more line(s) ({MORE})", verdict]

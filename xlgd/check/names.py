"""Defined names: every name a formula uses exists once, in the right scope, and points where it should.

A formula reading `lr` reads whatever cell the name points at; if the name
points at #REF! (its cell deleted), at another cell, at a sheet that does
not exist, or at nothing, every value computed from it is wrong -- while the
cached values may still look fine. So for each name the sheets' formulas use
(`Evaluation` records them as it binds formulas), plus the names xlgd's own
layouts use:

* it is defined once in the scope the formula sees (the sheet's own, else
  the workbook's): two definitions in one scope is a cause;
* for a known layout (xlgd's inputs on row 3, `true_a`/`true_b` on the data
  sheet) it points at the cell the layout expects;
* otherwise it points at a cell that exists and holds a number (or at a
  range on a sheet that exists).

Each problem is one cause naming the name and where it points.
"""

from __future__ import annotations

import re

from ..evaluator.store import Unknown
from ..xlsx.refs import FormulaSyntaxError, a1, split_ref, unquote_sheet
from .report import Cause, fmt_value


def check_names(package, used, expected, value, sheets, warnings=None) -> list:
    """Causes for the names in `used` ({(sheet the formula is on, name)}) and `expected`
    ({(scope sheet, name): (sheet, row, col)} from known layouts); value(sheet, r, c) reads a cell. A name
    no known layout expects and nobody defined goes to `warnings` (the cells reading it hold #NAME?, as
    their formulas give: a book that tries #NAME? on purpose is not wrong)."""
    defs = {}
    for scope, name, text in package.defined_name_list:
        defs.setdefault((scope, name.upper()), []).append(text)
    causes, seen = [], set()
    for sheet, name in sorted(set(used) | set(expected), key=lambda k: (k[0] or "", k[1].upper())):
        scope = sheet if (sheet, name.upper()) in defs else None
        key = (scope, name.upper())
        if key in seen:
            continue
        seen.add(key)
        where = sheet if scope is not None else (sheet or "the workbook")
        cause = _one(defs.get(key), expected.get((sheet, name)), value, sheets)
        if cause is not None and warnings is not None and key not in defs and expected.get((sheet, name)) is None:
            warnings.append(f"the name {name} (used on {where}) {cause}")
        elif cause is not None:
            kind_sheet = scope or sheet or ""
            causes.append(Cause(kind_sheet, name, "name", f"the name {name} (used on {where}) {cause}"))
    return causes


def _one(texts, want, value, sheets):
    """Why a name is wrong, or None."""
    if not texts:
        return "is not defined: the formulas using it read #NAME?"
    if len(texts) > 1:
        return f"is defined {len(texts)} times in the same scope ({', '.join(texts)})"
    text = texts[0].lstrip("=")
    target = _target(text)
    if "#REF!" in text.upper():
        return f"points at #REF! ({text}): the cell it named was deleted"
    if target is None:
        return None if want is None else f"is `{text}`, not a cell; the layout keeps it in {_cell(want)}"
    sheet, r, c, r2, c2 = target
    if sheet not in sheets:
        return f"points at {text}, on a sheet that does not exist"
    if want is not None:
        if (sheet, r, c) != want or (r2, c2) != (r, c):
            return f"points at {text}; the layout keeps it in {_cell(want)}"
        return None
    if (r2, c2) != (r, c):
        return None  # a range: used as one
    v = value(sheet, r, c)
    if isinstance(v, Unknown):
        return None  # a cell nobody can compute: verify lists it as unchecked, with its reason
    if not isinstance(v, float) or isinstance(v, bool):
        return f"points at {text}, which holds {fmt_value(v) if v is not None else 'nothing'}, not a number"
    return None


def _cell(want):
    sheet, r, c = want
    return f"{sheet}!{a1(r, c)}"


PLAIN_REF = re.compile(r"^('(?:[^']|'')+'|[^'!\s:,()+\-*/^&=<>\[\]{}\"]+)!([$A-Za-z0-9]+(?::[$A-Za-z0-9]+)?)$")


def _target(text):
    """(sheet, r1, c1, r2, c2) of a name's text 'Sheet!$A$1' or 'Sheet!$A$1:$B$2', else None (a formula, an
    intersection, another name, a link to another workbook `[1]Sheet!$A$1`)."""
    m = PLAIN_REF.match(text.strip())
    if m is None or m.group(1).lstrip("'").startswith("["):
        return None
    sh, ref = m.group(1), m.group(2)
    ends = ref.replace("$", "").split(":")
    try:
        cells = [split_ref(e) for e in ends]
    except FormulaSyntaxError:
        return None
    (r, c, _, _), (r2, c2, _, _) = cells[0], cells[-1]
    return unquote_sheet(sh), r, c, r2, c2

"""A workbook as stable text, for `git diff` (diff.xlgd.textconv).

One line per row, formulas in Excel's R1C1 form (`refs.r1c1`: relative
references relative on every sheet, sheet names as written), so a formula
copied down a column reads the same on every row and an inserted row shows as
one added line; numbers with 15 significant digits (what Excel and
LibreOffice both keep), so re-saving a file does not change its text --
nor does a save by openpyxl or pandas, which keep no values: those are
recomputed by the workbook evaluator (`recompute.py`), and a last section
says how many.
Defined names, calculation settings and chart series references follow
the sheets. Rows stream: a million-row sheet prints in bounded memory.
"""

from __future__ import annotations

import math

from ..xlsx import refs
from ..recipe.record import META_SHEET
from ..xlsx.package import Package
from ..xlsx.refs import col_letters
from .book import book_charts, learner_names, sheet_rows
from .recompute import NOT_HELD, Recompute


def _value(value):
    if value is NOT_HELD:
        return "?"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _formula(formula, row, col):
    try:
        return refs.r1c1(formula, row, col)
    except refs.FormulaSyntaxError:
        return "=" + formula


def render(path):
    """Yield the text in chunks."""
    src = Package.open(path)
    recompute = Recompute(src, "book")
    try:
        for name in src.worksheet_names:
            if name == META_SHEET:
                continue  # xlgd's own record
            yield f"=== sheet {name}\n"
            for r, cells in sheet_rows(src, name, recompute):
                out = []
                for c in sorted(cells):
                    f, v = cells[c]
                    if f is not None:
                        out.append(f"{col_letters(c)} {_formula(f, r, c)} -> {_value(v)}")
                    else:
                        out.append(f"{col_letters(c)} {_value(v)}")
                yield " | ".join(out) + "\n"
        names = learner_names(src)
        if names:
            yield "=== defined names\n"
            for (scope, n), text in sorted(names.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
                yield f"{scope + '!' if scope else ''}{n} = {text}\n"
        calc = {k: v for k, v in src.calc.items() if k != "calcId"}
        yield "=== calculation\n" + "".join(f"{k} = {v}\n" for k, v in sorted(calc.items()))
        charts = book_charts(src)
        if charts:
            yield "=== charts\n"
            for ch in charts:
                yield f"{ch.sheet}: {ch.title!r} ({', '.join(ch.types)})\n"
                for s in ch.series:
                    yield (f"  series {s.name!r}: x {s.cats.formula or s.cats.kind} "
                           f"y {s.values.formula or s.values.kind}\n")
        rec = recompute.summary()
        if rec:
            yield (f"=== note\nthe file holds no value for {rec['recomputed'] + rec['not_computed']} formula cell(s): "
                   f"{rec['recomputed']} recomputed by xlgd's workbook evaluator, {rec['not_computed']} shown as ?\n")
    finally:
        src.close()

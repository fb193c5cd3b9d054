"""Learners' gradient-descent sheets of every shape the forum shows, typed as formulas with openpyxl.

`build(ws, ...)` writes one sheet: parameters on row 1, headers on row 3, the
optimiser's start state on row 4 (momentum m0 = 0), one step per row from row
5, the weights chained row to row (`=M5` in B6). Choices:

    model       'linear' (a*x+b), 'linear2' (c*(a*x+b)+d), 'relu2' (c*MAX(0,a*x+b)+d)
    derivative  'fd' (forward differences, h in D1) or 'analytic'
    square      '^2' or '*' (the error written (p-y)^2 or (p-y)*(p-y))
    optimizer   'sgd' or 'momentum' (m = m*beta + (1-beta)*g, beta in F1, 1-beta in H1)
    edit        {header: formula template} replacing a column's formula on every step row

    row 1   A1 'lr' B1 lr   C1 'h' D1 0.01   E1 'beta' F1 0.9   G1 '1-beta' H1 =1-F1

A formula template names the row's cells by header in braces: `{a}-$B$1*{de/da}`.
"""

from __future__ import annotations

import re

from openpyxl.utils import get_column_letter

from tests.learner import X

FIRST = 5
PARAMS = {"linear": "ab", "linear2": "abcd", "relu2": "abcd"}
PRED = {"linear": "{a}*{x}+{b}", "linear2": "{c}*({a}*{x}+{b})+{d}", "relu2": "{c}*MAX(0,{a}*{x}+{b})+{d}"}
ANALYTIC = {
    "linear": {"a": "2*({pred}-{y})*{x}", "b": "2*({pred}-{y})"},
    "linear2": {"a": "2*({pred}-{y})*{c}*{x}", "b": "2*({pred}-{y})*{c}", "c": "2*({pred}-{y})*({a}*{x}+{b})",
                "d": "2*({pred}-{y})"},
    "relu2": {"a": "IF({a}*{x}+{b}>0,2*({pred}-{y})*{c}*{x},0)", "b": "IF({a}*{x}+{b}>0,2*({pred}-{y})*{c},0)",
              "c": "2*({pred}-{y})*MAX(0,{a}*{x}+{b})", "d": "2*({pred}-{y})"},
}


def _square(inner: str, square: str) -> str:
    return f"({inner})^2" if square == "^2" else f"({inner})*({inner})"


def columns(model="linear2", derivative="fd", square="^2", optimizer="sgd") -> list:
    """[(header, formula template)] of the step rows, weights first (their template: None)."""
    ps = PARAMS[model]
    cols = [("x", None), ("y", None)] + [(p, None) for p in ps]
    cols += [("pred", PRED[model]), ("err^2", _square("{pred}-{y}", square))]
    for p in ps:
        if derivative == "fd":
            moved = PRED[model].replace("{" + p + "}", "({" + p + "}+$D$1)")
            cols.append((f"de/d{p}", f"({_square(moved + '-{y}', square)}-{{err^2}})/$D$1"))
        else:
            cols.append((f"de/d{p}", ANALYTIC[model][p]))
    if optimizer == "momentum":
        cols += [(f"m{p}", f"{{m{p}@-1}}*$F$1+$H$1*{{de/d{p}}}") for p in ps]
    step = "{m%s}" if optimizer == "momentum" else "{de/d%s}"
    cols += [(f"new {p}", f"{{{p}}}-$B$1*" + step % p) for p in ps]
    return cols


def build(ws, model="linear2", derivative="fd", square="^2", optimizer="sgd", lr=1e-4, weights=None,
          edit=None, rows=len(X)):
    """Fill the worksheet; returns {header: column letter}."""
    cols = columns(model, derivative, square, optimizer)
    edit = edit or {}
    letter = {h: get_column_letter(i + 1) for i, (h, _) in enumerate(cols)}
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = "lr", lr, "h", 0.01
    ws["E1"], ws["F1"], ws["G1"], ws["H1"] = "beta", 0.9, "1-beta", "=1-F1"
    for h, L in letter.items():
        ws[f"{L}3"] = h
    ps = PARAMS[model]
    if optimizer == "momentum":
        for p in ps:
            ws[f"{letter['m' + p]}{FIRST - 1}"] = 0
    start = dict(zip(ps, weights or [1.0] * len(ps)))
    for k in range(rows):
        r, x = FIRST + k, X[k % len(X)]
        ws[f"{letter['x']}{r}"], ws[f"{letter['y']}{r}"] = x, 2 * x + 30
        for p in ps:
            ws[f"{letter[p]}{r}"] = start[p] if k == 0 else f"={letter['new ' + p]}{r - 1}"
        for h, template in cols:
            if template is not None:
                ws[f"{letter[h]}{r}"] = "=" + fill(edit.get(h, template), letter, r)
    return letter


def fill(template: str, letter: dict, r: int) -> str:
    """A template's {header} and {header@-1} (the row above) as cell references on row r."""
    def ref(m):
        name, off = m.group(1), int(m.group(2) or 0)
        return f"{letter[name]}{r + off}"

    return re.sub(r"\{([^{}@]+)(?:@(-?\d+))?\}", ref, template)


def workbook(title="mine", **kw):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    letters = build(ws, **kw)
    return wb, letters

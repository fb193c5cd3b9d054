"""Learners' gradient-descent sheets of every shape the forum shows, typed as formulas with openpyxl.

`build(ws, ...)` writes one sheet: parameters on row 1, headers on row 3, the
optimiser's start state on row 4 (momentum m0 = 0), one step per row from row
5, the weights chained row to row (`=M5` in B6). Choices:

    model       'linear' (a*x+b), 'linear2' (c*(a*x+b)+d), 'relu2' (c*MAX(0,a*x+b)+d)
    derivative  'fd' (forward differences, h in D1) or 'analytic'
    square      '^2' or '*' (the error written (p-y)^2 or (p-y)*(p-y))
    optimizer   'sgd', 'momentum' (m = m*beta + (1-beta)*g, beta in F1, 1-beta in H1), 'torch_momentum'
                (m = beta*m + g), 'rmsprop' (v: an EMA of g^2, v0 = 1), 'adam', 'adam_bc' (with a step
                column t and bias correction)
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
    if optimizer in ("momentum", "adam", "adam_bc"):
        cols += [(f"m{p}", f"{{m{p}@-1}}*$F$1+$H$1*{{de/d{p}}}") for p in ps]
    if optimizer == "torch_momentum":
        cols += [(f"m{p}", f"$F$1*{{m{p}@-1}}+{{de/d{p}}}") for p in ps]
    if optimizer in ("rmsprop", "adam", "adam_bc"):
        cols += [(f"v{p}", f"{{v{p}@-1}}*$F$1+$H$1*{{de/d{p}}}^2") for p in ps]
    if optimizer == "adam_bc":
        cols += [("t", "{t@-1}+1")]
    step = {"sgd": "{de/d%s}", "momentum": "{m%s}", "torch_momentum": "{m%s}",
            "rmsprop": "{de/d%s}/(SQRT({v%s})+1E-8)", "adam": "{m%s}/SQRT({v%s})",
            "adam_bc": "({m%s}/(1-$F$1^{t}))/(SQRT({v%s}/(1-$F$1^{t}))+1E-8)"}[optimizer]
    cols += [(f"new {p}", f"{{{p}}}-$B$1*" + step.replace("%s", p)) for p in ps]
    return cols


def build(ws, model="linear2", derivative="fd", square="^2", optimizer="sgd", lr=1e-4, weights=None,
          edit=None, rows=len(X), extra=()):
    """Fill the worksheet; returns {header: column letter}. extra: more (header, template) columns, last."""
    cols = columns(model, derivative, square, optimizer) + list(extra)
    edit = edit or {}
    letter = {h: get_column_letter(i + 1) for i, (h, _) in enumerate(cols)}
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = "lr", lr, "h", 0.01
    ws["E1"], ws["F1"], ws["G1"], ws["H1"] = "beta", 0.9, "1-beta", "=1-F1"
    for h, L in letter.items():
        ws[f"{L}3"] = h
    ps = PARAMS[model]
    for h in letter:  # the optimiser's state before step 1: m0 = 0, v0 = 1, t0 = 0
        if h[0] in "mvt" and h not in ("x", "y"):
            ws[f"{letter[h]}{FIRST - 1}"] = 1 if h[0] == "v" else 0
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


def build_per_epoch(ws, model="linear", derivative="analytic", square="^2", lr=1e-5, edit=None, mean=False,
                    weights=None):
    """One update per epoch: the weights in parameter cells (row 1: 'a' in B1, 'b' in D1 ...; then lr and
    h), every data row reading them, the new weights on row 36 from each derivative column's
    SUM (or AVERAGE). Returns {header: column letter or cell}."""
    ps = PARAMS[model]
    cells = {p: f"{get_column_letter(2 * i + 2)}1" for i, p in enumerate(ps)}
    for i, p in enumerate(ps):
        ws.cell(1, 2 * i + 1, p)
        ws[cells[p]] = (weights or [1.0] * len(ps))[i]
    lr_col = 2 * len(ps) + 1
    ws.cell(1, lr_col, "lr")
    ws.cell(1, lr_col + 1, lr)
    lr_cell = f"${get_column_letter(lr_col + 1)}$1"
    ws.cell(1, lr_col + 2, "h")
    ws.cell(1, lr_col + 3, 0.01)
    h_cell = f"${get_column_letter(lr_col + 3)}$1"
    cols = [c for c in columns(model, derivative, square) if c[0] not in ps and not c[0].startswith("new ")]
    letter = {h: get_column_letter(i + 1) for i, (h, _) in enumerate(cols)}
    refs = dict(letter)
    fixed = {p: "$" + cells[p][0] + "$1" for p in ps}
    for h, L in letter.items():
        ws[f"{L}3"] = h
    for k, x in enumerate(X):
        r = FIRST + k
        ws[f"{letter['x']}{r}"], ws[f"{letter['y']}{r}"] = x, 2 * x + 30
        for h, template in cols:
            if template is not None:
                template = (edit or {}).get(h, template).replace("$D$1", h_cell)
                template = re.sub(r"\{(%s)\}" % "|".join(ps), lambda m: fixed[m.group(1)], template)
                ws[f"{letter[h]}{r}"] = "=" + fill(template, letter, r)
    last = FIRST + len(X) - 1
    agg = "AVERAGE" if mean else "SUM"
    for i, p in enumerate(ps):
        col = get_column_letter(2 * i + 2)
        ws.cell(36, 2 * i + 1, f"new {p}")
        g = letter[f"de/d{p}"]
        default = f"{{{p}}}-{lr_cell}*{agg}({g}{FIRST}:{g}{last})"
        text = (edit or {}).get(f"new {p}", default)
        ws[f"{col}36"] = "=" + re.sub(r"\{(\w+)\}", lambda m: cells.get(m.group(1), m.group(0)), text)
        refs[f"new {p}"] = f"{col}36"
    return refs

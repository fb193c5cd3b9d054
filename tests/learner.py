"""A learner's own 2-neuron workbook, typed the way the forum learners typed theirs.

`pred = c*(a*x+b)+d`, its squared error, forward-difference derivatives of
all four weights with h = 0.01, new weights chained row to row, lr and h in
parameter cells read with `$F$1` / `$H$1`, squares written `^2` -- built with
openpyxl, so the file holds formulas and no cached values, as a script would
leave it.

    row 1   E1 'lr'  F1 0.0001   G1 'h'  H1 0.01
    row 3   headers  x a c b d y pred err^2 de/da de/dc de/db de/dd new a new c new b new d
    row 4.. one SGD step per row (FIRST .. LAST); row LAST+2: the total error, =SUM(H4:H32)
"""

from __future__ import annotations

FIRST, N = 4, 29
LAST = FIRST + N - 1
X = [14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21, 28, 20, 8, 64, 99, 70, 27, 17, 8]
HEADERS = ["x", "a", "c", "b", "d", "y", "pred", "err^2", "de/da", "de/dc", "de/db", "de/dd",
           "new a", "new c", "new b", "new d"]


def step_formulas(r: int) -> dict:
    """Column letter -> the formula a learner types in row r (weights from the row above after the first)."""
    f = {
        "G": f"=C{r}*(A{r}*B{r}+D{r})+E{r}",
        "H": f"=(G{r}-F{r})^2",
        "I": f"=((C{r}*(A{r}*(B{r}+$H$1)+D{r})+E{r}-F{r})^2-H{r})/$H$1",
        "J": f"=(((C{r}+$H$1)*(A{r}*B{r}+D{r})+E{r}-F{r})^2-H{r})/$H$1",
        "K": f"=((C{r}*(A{r}*B{r}+D{r}+$H$1)+E{r}-F{r})^2-H{r})/$H$1",
        "L": f"=((C{r}*(A{r}*B{r}+D{r})+E{r}+$H$1-F{r})^2-H{r})/$H$1",
        "M": f"=B{r}-$F$1*I{r}",
        "N": f"=C{r}-$F$1*J{r}",
        "O": f"=D{r}-$F$1*K{r}",
        "P": f"=E{r}-$F$1*L{r}",
    }
    if r > FIRST:
        f.update({"B": f"=M{r - 1}", "C": f"=N{r - 1}", "D": f"=O{r - 1}", "E": f"=P{r - 1}"})
    return f


def build(ws, lr=1e-4, first_weights=(1.0, 1.0, 0.0, 1.0)):
    """Fill an openpyxl worksheet with the learner's table; returns the number of formula cells."""
    ws["E1"], ws["F1"], ws["G1"], ws["H1"] = "lr", lr, "h", 0.01
    for i, h in enumerate(HEADERS):
        ws.cell(3, i + 1, h)
    n = 0
    for k, x in enumerate(X):
        r = FIRST + k
        ws[f"A{r}"], ws[f"F{r}"] = x, 2 * x + 30
        if r == FIRST:
            for letter, w in zip("BCDE", first_weights):
                ws[f"{letter}{r}"] = w
        for letter, text in step_formulas(r).items():
            ws[f"{letter}{r}"] = text
            n += 1
    ws[f"G{LAST + 2}"] = "total"
    ws[f"H{LAST + 2}"] = f"=SUM(H{FIRST}:H{LAST})"
    return n + 1


def workbook(lr=1e-4, title="two neurons"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    cells = build(ws, lr)
    return wb, cells


def values(lr=1e-4, first_weights=(1.0, 1.0, 0.0, 1.0), h=0.01) -> dict:
    """The table's values computed in plain Python, each formula in the association it is written in
    (an oracle independent of xlgd: what Excel caches, `^2` being correctly rounded like x*x).
    Returns {"G4": value, ...} for every formula cell, the total included."""
    out = {}
    a, c, b, d = first_weights
    for k, x in enumerate(X):
        r, y = FIRST + k, 2 * x + 30
        pred = c * (x * a + b) + d
        err = (pred - y) * (pred - y)
        sq = [c * (x * (a + h) + b) + d - y, (c + h) * (x * a + b) + d - y,
              c * (x * a + b + h) + d - y, c * (x * a + b) + d + h - y]
        grads = [(t * t - err) / h for t in sq]
        new = [a - lr * grads[0], c - lr * grads[1], b - lr * grads[2], d - lr * grads[3]]
        if r > FIRST:
            out.update({f"B{r}": a, f"C{r}": c, f"D{r}": b, f"E{r}": d})
        out.update({f"G{r}": pred, f"H{r}": err})
        out.update({f"{L}{r}": v for L, v in zip("IJKL", grads)})
        out.update({f"{L}{r}": v for L, v in zip("MNOP", new)})
        a, c, b, d = new
    total = 0.0
    for r in range(FIRST, LAST + 1):
        total += out[f"H{r}"]
    out[f"H{LAST + 2}"] = total
    return out


def sheet_xml(lr=1e-4, cached=True) -> str:
    """The learner's sheet as the XML a spreadsheet writes (inline strings, so it can be added to any
    workbook's zip), with the values of `values()` cached in its formula cells when `cached`."""
    from openpyxl.utils import column_index_from_string

    cells = {}
    for k, x in enumerate(X):
        r = FIRST + k
        cells[f"A{r}"], cells[f"F{r}"] = x, 2 * x + 30
        if r == FIRST:
            cells.update({f"{L}{r}": w for L, w in zip("BCDE", (1.0, 1.0, 0.0, 1.0))})
        cells.update({f"{L}{r}": f for L, f in step_formulas(r).items()})
    cells.update({"E1": "lr", "F1": lr, "G1": "h", "H1": 0.01, f"G{LAST + 2}": "total",
                  f"H{LAST + 2}": f"=SUM(H{FIRST}:H{LAST})"})
    cells.update({f"{chr(65 + i)}3": h for i, h in enumerate(HEADERS)})
    vals = values(lr) if cached else {}
    rows = {}
    for ref, v in cells.items():
        col = ref.rstrip("0123456789")
        rows.setdefault(int(ref[len(col):]), []).append((column_index_from_string(col), ref, v))
    out = []
    for r in sorted(rows):
        xml = []
        for _, ref, v in sorted(rows[r]):
            if isinstance(v, str) and v.startswith("="):
                cache = f"<v>{vals[ref]!r}</v>" if ref in vals else ""
                xml.append(f'<c r="{ref}"><f>{v[1:]}</f>{cache}</c>')
            elif isinstance(v, str):
                xml.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
            else:
                xml.append(f'<c r="{ref}"><v>{v!r}</v></c>')
        out.append(f'<row r="{r}">{"".join(xml)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheetData>{"".join(out)}</sheetData></worksheet>')

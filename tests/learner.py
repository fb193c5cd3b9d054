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

"""Write my-book.xlsx: a learner's own SGD sheet typed by hand, with two charts as a spreadsheet's
chart wizard leaves them: "err^2 per step" has no x (the axis numbers its points 1..n, which are the
steps) and a smoothed line, and "prediction over x" is a line chart over the data x, which are not sorted.

    python3 docs/examples/my_book.py        # then: xlgd charts check my-book.xlsx
"""

import openpyxl
from openpyxl.chart import LineChart, Reference

X = [14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21, 28, 20, 8, 64, 99, 70, 27, 17, 8]

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "sgd"
ws.append(["lr", 0.0001])
ws.append(["step", "x", "y", "a", "b", "pred", "err^2", "new a", "new b"])
for i, x in enumerate(X):
    r = i + 3
    a, b = (1, 1) if i == 0 else (f"=H{r - 1}", f"=I{r - 1}")
    ws.append([i + 1, x, 2 * x + 30, a, b, f"=D{r}*B{r}+E{r}", f"=(F{r}-C{r})^2",
               f"=D{r}-$B$1*2*(F{r}-C{r})*B{r}", f"=E{r}-$B$1*2*(F{r}-C{r})"])
last = len(X) + 2

err = LineChart()
err.title = "err^2 per step"
err.add_data(Reference(ws, min_col=7, min_row=2, max_row=last), titles_from_data=True)
err.series[0].smooth = True
ws.add_chart(err, "K2")

fit = LineChart()
fit.title = "prediction over x"
fit.add_data(Reference(ws, min_col=6, min_row=2, max_row=last), titles_from_data=True)
fit.set_categories(Reference(ws, min_col=2, min_row=3, max_row=last))
ws.add_chart(fit, "K20")

wb.save("my-book.xlsx")

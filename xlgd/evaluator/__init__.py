"""The workbook evaluator: every formula a workbook holds, evaluated as the spreadsheet would.

Public API (what `verify` and `diff` use)::

    from xlgd.evaluator import Evaluation, open_and_evaluate, read_book

    ev = open_and_evaluate("book.xlsx")            # dialect: whoever saved the file
    ev = Evaluation(read_book(package), "libreoffice")   # from an open xlsx.package.Package
    ev.value(sheet, row, col)      # computed from the workbook's constants (a constant cell: itself)
    ev.cached(sheet, row, col)     # what the file holds
    ev.unknown(sheet, row, col)    # why a cell has no computed value, or None
    ev.formula_cells(sheet)        # (row, col) of every formula cell
    ev.values(sheet)               # all computed values of a sheet as arrays (store.SheetValues)
    ev.computed / ev.local         # the two passes (evaluate.Outcome): from constants, and each
                                   # cell from its inputs' cached values (finds stale values)
    ev.book.sheets[name].runs      # the formulas, as runs (runs.Run) by column
    ev.ulp_tainted                 # runs whose last bits depend on a C library (EXP, LN, ^ ...)

    read_book(package, fixed={name: SheetCells})   # a sheet someone else has read and checks (verify's
                                                   # xlgd step tables): its values are taken as they are

Values are Python values as a formula reads them: float, `core.values.Text`,
bool, an error code ('#NUM!'), None for blank, `store.UNKNOWN_VALUE` for a
cell that cannot be computed. Rows and columns are 1-based.

What it reads: every worksheet, through the one reader (`xlsx.package`):
shared formulas expanded, array formulas (`{=MMULT(..)}` fills its range),
defined names (workbook and sheet scope), references to other sheets,
ranges, whole rows and columns. Runs of equal formulas (runs.py; a sheet's XML
read fast by rowreader.py, its cell and row templates in xlsx/rowtemplate.py) are parsed and compiled once (prepare.py,
evaluate.py); the dependency graph between runs orders them and finds
circular references (graph.py, cycles.py);
recurrent groups -- a step table -- are evaluated row by row (rows.py).

Semantics are the core's (`core/values.py`, `core/functions.py`, one
function table): errors are values that propagate, blank is 0 in
arithmetic, text in arithmetic is #VALUE! unless it reads as a number, and
both dialects: 'excel' and 'libreoffice' (near-cancellations in + and -
snapped to 0, underflow and SQRT of a negative, sums in LibreOffice's own
order of additions). Where a function's last bits come from a C library
(EXP, LN, LOG, SIN, POWER ...) callers compare by ulp distance
(`Function.ulp`).

What it does not compute, and says so: volatile functions (RAND,
RANDBETWEEN, NOW, TODAY, INDIRECT), functions outside the table, implicit
intersection, circular references. Such a cell's `unknown()` names the
reason, and every cell depending on it says which cell it depends on --
unless the file holds a cached value for it and `stand_in` is on (the
default): then the dependants are computed from the value the file holds,
so they can still be checked, while the cell itself stays unknown. OFFSET
is volatile in Excel but its value is determined by its arguments: it is
evaluated, after everything it could read (cells using OFFSET and their
dependants come last; if one reads a cell computed after it, that cell is
unknown rather than guessed).
"""

from .book import Book, Evaluation, open_and_evaluate, read_book
from .evaluate import Outcome, cells_of, describe_root
from .runs import Run, RunBuilder, SheetCells, cell_value
from .store import UNKNOWN_VALUE, SheetValues, Unknown

__all__ = ["Book", "Evaluation", "Outcome", "Run", "RunBuilder", "SheetCells", "SheetValues", "UNKNOWN_VALUE",
           "Unknown", "cell_value", "cells_of", "describe_root", "open_and_evaluate", "read_book"]

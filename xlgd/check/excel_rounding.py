"""Excel's last bits, as measured: which operations Excel rounds differently from xlgd, and by how much.

xlgd evaluates a formula the way it is written (one addition after another,
C's `pow` for `^` other than `^2`, numpy's reductions). Excel's own
arithmetic is not published; for some operations its value differs from
xlgd's in the last bits. `EXCEL_ROUNDING` is what was measured on
Excel-saved workbooks (each formula cell's cached value against its own
formula applied to the cached inputs; docs/excel-arithmetic.md has the table
and how to measure again): per operation, how many cells, the largest ulp
distance seen, and the budget a value of that operation agrees within.

Only values Excel saved use it (`applies`): xlgd's own books, LibreOffice's
recalculation and the layouts xlgd knows are compared bit for bit. A cell
whose formula uses a listed operation agrees with its cached value within the
budget (times the formula's operations, relative to its magnitude, so a
cancellation after the operation is allowed for); a value further away is a
cause, as a stale value after a changed input is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.expr import Bin, nodes
from ..evaluator.prepare import calls

ULP = 2.0 ** -52


@dataclass(frozen=True)
class Rounding:
    """One operation's measured rounding in Excel (ulp: units in the last place of the cached value)."""

    operation: str  # a function name, or '^' (Excel's power operator)
    evidence: int  # numeric cells of Excel-saved workbooks compared
    largest_ulp: int  # the largest distance seen between Excel's value and xlgd's
    budget: int  # ulp within which a value of this operation agrees
    url: str = ""  # Microsoft's reference page


def _entry(operation, evidence, largest, budget, page=""):
    url = f"https://support.microsoft.com/office/{page}" if page else ""
    return operation, Rounding(operation, evidence, largest, budget, url)


EXCEL_ROUNDING = dict([
    _entry("^", 1455, 2, 4),  # x^2 as x*x, x^y as C's pow: Excel differs in the last bit
    _entry("POWER", 53, 5, 8, "power-function-d3f2908b-56f4-4c3f-895a-07fb519c362a"),
    _entry("VAR.P", 57, 0, 4, "var-p-function-73d1285c-108c-4843-ba5d-a51f90656f3a"),  # one-pass: every cell exact
    _entry("VAR.S", 0, 0, 64, "var-s-function-913633de-136b-449d-813e-65a00b2b990b"),
    _entry("VAR", 0, 0, 64, "var-function-1f2b7ab2-954d-4e17-ba2c-9e58b15a7da2"),
    _entry("VARP", 0, 0, 64, "varp-function-26a541c4-ecee-464d-a731-bd4c575b1a6b"),
    _entry("STDEV.P", 28, 1, 4, "stdev-p-function-6e917c05-31a0-496f-ade7-4f4e7462f285"),
    _entry("STDEV.S", 0, 0, 64, "stdev-s-function-7d69cf97-0c1f-4acf-be27-f3e83904cc23"),
    _entry("STDEV", 0, 0, 64, "stdev-function-51fecaaa-231e-4bbb-9230-33650a72c9b0"),
    _entry("STDEVP", 0, 0, 64, "stdevp-function-1f7c1c88-1bec-4422-8242-e9f7dc8bb195"),
    _entry("SUMPRODUCT", 664, 1, 4, "sumproduct-function-16753e75-9f68-4874-94ac-4d2145a2fd2e"),
    _entry("MMULT", 2979, 2, 4, "mmult-function-40593ed7-a3cd-4b6b-b9a3-e4ad3c7245eb"),
    _entry("SUM", 6410, 1, 4, "sum-function-043e1c7d-7726-4e80-8f32-07b23e057f89"),
    _entry("AVERAGE", 20, 0, 4, "average-function-047bac88-d466-426c-a32b-8f33eb960cf6"),
    _entry("SUMSQ", 22, 0, 4, "sumsq-function-e3313c02-51cc-4963-aae6-31442d9ec307"),
    _entry("SUMXMY2", 5, 0, 4, "sumxmy2-function-9d144ac1-4d79-43de-b524-e2ecee23b299"),
])


def applies(application: str, mode: str, known_layout: bool) -> bool:
    """Whether values are Excel's own, last bits unknown: saved by Microsoft Excel (not a library writing
    as Excel), compared as cached, in a book without a layout xlgd knows (xlgd's own, graddesc)."""
    app = application.lower()
    return mode == "cached" and not known_layout and "microsoft" in app and "excel" in app \
        and "compatible" not in app


def operations(expr) -> list:
    """The listed operations a formula uses, in the registry's order."""
    if expr is None:
        return []
    used = {f.name for f in calls(expr)}
    if any(isinstance(n, Bin) and n.op == "^" for n in nodes(expr)):
        used.add("^")
    return [op for op in EXCEL_ROUNDING if op in used]


def budget(ops) -> int:
    """The ulp budget of a formula using these operations (the largest of theirs; 0: bit for bit)."""
    return max((EXCEL_ROUNDING[op].budget for op in ops), default=0)

"""Excel's logical functions beyond AND/OR/IF (XOR, IFS) and the parity tests ISEVEN/ISODD, registered in the
one function table (`functions.FUNCTIONS`); each entry names Microsoft's reference page beside it."""

from __future__ import annotations

import math

from .dates import toolpak_number
from .functions import MS, TOOLPAK, Function, logical_values, register
from .lookups import caught_code
from .values import Block, SheetError, intersect, spread_at, truth


def _ifs_lazy(args, evaluate_arg, dialect):
    """IFS(condition1, value1, ...): the value after the first true condition, only it evaluated; none: #N/A.
    A condition that is an array (an array formula's `IFS(A1:C1,1,B1,2)`) makes it cell by cell."""
    for i in range(0, len(args) - 1, 2):
        c = intersect(evaluate_arg(args[i]))
        if isinstance(c, Block) and (c.extent or c.shape) != (1, 1):
            return _ifs_cells(args, evaluate_arg)
        if truth(c):
            return evaluate_arg(args[i + 1])
    raise SheetError("#N/A")


def _ifs_cells(args, evaluate_arg):
    parts = [caught_code(lambda a=a: evaluate_arg(a)) for a in args[:len(args) // 2 * 2]]
    shapes = [p.extent or p.shape for p in parts if isinstance(p, Block)]
    rows, cols = max(s[0] for s in shapes), max(s[1] for s in shapes)

    def one(r, c):
        for k in range(0, len(parts), 2):
            if truth(spread_at(parts[k], r, c)):
                return spread_at(parts[k + 1], r, c)
        raise SheetError("#N/A")

    return Block(tuple(tuple(caught_code(lambda r=r, c=c: one(r, c)) for c in range(cols)) for r in range(rows)))


def _parity(remainder):
    def f(args, dialect):
        return abs(math.trunc(toolpak_number(args[0]))) % 2 == remainder

    return f


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, magnitude="exact", **kw))


_reg("XOR", 1, 254, "xor-function-1548d4c2-5e47-4f77-9a92-0533bba14f37",
     exact=lambda a, d: logical_values(a, d, lambda found: sum(found) % 2 == 1), args=("range",))
_reg("IFS", 2, 254, "ifs-function-36329a26-37b2-467c-972b-4a39bd951d45", lazy=_ifs_lazy)
_reg("ISEVEN", 1, 1, "iseven-function-aa15929a-d77b-4fbb-92f4-2f479af55356", exact=_parity(0), args=("value",))
_reg("ISODD", 1, 1, "isodd-function-1208a56d-4f10-4f44-a5fc-648cafd6c07a", exact=_parity(1), args=("value",))
TOOLPAK.update(("ISEVEN", "ISODD"))

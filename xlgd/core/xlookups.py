"""Excel's XMATCH and XLOOKUP, registered in the one function table; each entry names Microsoft's reference page.

Match modes: 0 exact (text without case), -1 exact or the next smaller, 1 exact or the next larger, 2 with
wildcards (`?`, `*`, `~`); search modes 1 first to last and -1 last to first. The binary searches (search
mode 2 and -2) are left unchecked with the reason, and so is a next smaller or larger value among text
and numbers mixed. Over an array of lookup values (an array formula) they apply cell by cell.
"""

from __future__ import annotations

from .functions import MS, Function, register
from .text import wildcard
from .values import (
    Block,
    NotEvaluated,
    SheetError,
    Text,
    compare,
    is_error,
    number,
    scalar,
)


def _line(b) -> list:
    """The cells of a single row or column; #VALUE! for a table."""
    if not isinstance(b, Block):
        return [b]
    rows, cols = b.shape
    if rows != 1 and cols != 1:
        raise SheetError("#VALUE!")
    return list(b.cells())


def _same_kind(v, x) -> bool:
    return v is not None and not is_error(v) and type(v) is type(x)


def position(x, cells: list, match_mode: int, search_mode: int) -> int:
    """0-based position XMATCH finds x at in cells, else #N/A."""
    if is_error(x):
        raise SheetError(x)
    if search_mode in (2, -2):
        raise NotEvaluated("uses XMATCH/XLOOKUP's binary search, whose answer on data that is not sorted "
                           "xlgd does not know")
    if match_mode == 3:
        raise NotEvaluated("uses XMATCH/XLOOKUP with match mode 3, for which Excel gives #N/A, not #VALUE!, "
                           "for reasons xlgd does not know")
    if search_mode not in (1, -1) or match_mode not in (0, -1, 1, 2):
        raise SheetError("#VALUE!")
    if x is None:  # Excel ranks it past numbers and text alike, by rules xlgd does not know
        raise NotEvaluated("uses XMATCH/XLOOKUP to look up a blank cell, which xlgd does not evaluate")
    order = range(len(cells)) if search_mode == 1 else range(len(cells) - 1, -1, -1)
    if match_mode == 2 and isinstance(x, Text):
        pattern = wildcard(str(x))
        found = next((i for i in order if isinstance(cells[i], Text) and pattern.fullmatch(cells[i])), None)
    else:
        found = next((i for i in order if _same_kind(cells[i], x) and compare("=", cells[i], x)), None)
    if found is None and match_mode in (-1, 1):
        found = _nearest(x, cells, order, match_mode)
    if found is None:
        raise SheetError("#N/A")
    return found


def _nearest(x, cells, order, match_mode):
    kinds = {type(v) for v in cells if v is not None and not is_error(v)}
    if len(kinds) > 1:
        raise NotEvaluated("looks up the next smaller or larger value among text and numbers mixed, whose "
                           "order in XLOOKUP xlgd does not know")  # a lookup value of another kind: ranked
    below = match_mode == -1
    best = None
    for i in order:  # across kinds by Excel's order: numbers, then text, then TRUE and FALSE
        v = cells[i]
        if v is None or is_error(v) or compare("<" if below else ">", x, v):
            continue
        if best is None or compare(">" if below else "<", v, cells[best]):
            best = i
    return best


def _modes(args, first) -> tuple:
    """(match mode, search mode); an array of modes (an array formula's `XLOOKUP(..,C163:Q163)`) is unchecked."""
    given = [args[k] if len(args) > k else None for k in (first, first + 1)]
    if any(isinstance(v, Block) and v.shape != (1, 1) for v in given):
        raise NotEvaluated("uses XMATCH/XLOOKUP with an array of match or search modes, which xlgd does not evaluate")
    given = [scalar(v) for v in given]
    return (int(number(given[0])) if given[0] is not None else 0, int(number(given[1])) if given[1] is not None else 1)


def _xmatch(args, dialect):
    return float(position(scalar(args[0]), _line(args[1]), *_modes(args, 2)) + 1)


def _xlookup(args, dialect):
    """XLOOKUP: the return array's cell, row or column at the position found; if_not_found where nothing is."""
    lookup, results = args[1], args[2] if isinstance(args[2], Block) else Block(((args[2],),))
    cells, x = _line(lookup), scalar(args[0])
    if is_error(x):
        raise SheetError(x)  # an error looked up is that error, whatever if_not_found says
    try:
        i = position(x, cells, *_modes(args, 4))
    except SheetError as e:
        if e.code == "#N/A" and len(args) > 3 and args[3] is not None:
            return args[3]
        raise
    rows, cols = results.shape
    down = not isinstance(lookup, Block) or lookup.shape[1] == 1
    if (rows if down else cols) != len(cells):
        raise SheetError("#VALUE!")
    if down:
        picked = Block((results.values[i],)) if cols > 1 else results.values[i][0]
    else:
        picked = Block(tuple((r[i],) for r in results.values)) if rows > 1 else results.values[0][i]
    return 0.0 if picked is None else picked


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, magnitude="exact", **kw))


_reg("XMATCH", 2, 4, "xmatch-function-d966da31-7a6b-4a13-a1c6-5a33ed6a0312", exact=_xmatch,
     args=("value", "range", "range"))
_reg("XLOOKUP", 3, 6, "xlookup-function-b7fd680e-6d10-43e6-84f9-88eae8bf5929", exact=_xlookup,
     args=("value", "range", "range", "range", "range"))

"""Excel's conditional aggregates (COUNTIFS, SUMIF, SUMIFS, AVERAGEIF, AVERAGEIFS), registered in the one function
table; each entry names Microsoft's reference page beside it.

Criteria read as COUNTIF's do (`ranges.criterion`: `">5"`, `"<>a"`, `"ab*"`, a number, TRUE). The ranges must
have one shape (SUMIFS, COUNTIFS: else #VALUE!); SUMIF's and AVERAGEIF's sum range of another shape is, in
Excel, resized from its first cell over cells the formula does not name, so it is left unchecked. The
numbers of the matching cells are added left to right row by row in Excel, as LibreOffice adds one value at
a time (`ranges.lo_serial`) in its dialect; text and booleans among them are skipped, an error is the result.
"""

from __future__ import annotations

from .functions import MS, Function, register
from .ranges import criterion, excel_sum, lo_serial
from .values import Block, NotEvaluated, SheetError, is_error


def _grid(v) -> Block:
    return v if isinstance(v, Block) else Block(((v,),))


def _matching(pairs) -> list:
    """[(i, j)] of the cells where every (range, criterion) pair holds; #VALUE! for ranges of other shapes."""
    blocks = [(_grid(r), criterion(c)) for r, c in pairs]
    rows, cols = blocks[0][0].shape
    if any(b.shape != (rows, cols) for b, _ in blocks):
        raise SheetError("#VALUE!")
    return [(i, j) for i in range(rows) for j in range(cols)
            if all(test(b.values[i][j] if j < len(b.values[i]) else None) for b, test in blocks)]


def _numbers_at(block: Block, cells) -> list:
    out = []
    for i, j in cells:
        v = block.values[i][j] if j < len(block.values[i]) else None
        if is_error(v):
            raise SheetError(v)
        if isinstance(v, float):
            out.append(v)
    return out


def _total(values, dialect) -> float:
    return lo_serial(values) if dialect == "libreoffice" else excel_sum(values)


def _pairs(args) -> list:
    """(range, criterion) pairs of COUNTIFS/SUMIFS; an array of criteria (which Excel applies one by one in an
    array formula) is left unchecked."""
    out = []
    for k in range(0, len(args) - 1, 2):
        c = args[k + 1]
        if isinstance(c, Block) and (c.extent or c.shape) != (1, 1):
            raise NotEvaluated("uses COUNTIFS/SUMIFS/AVERAGEIFS with an array of criteria, which xlgd does not "
                               "evaluate")
        out.append((args[k], c))
    return out


def _sum_range(args) -> Block:
    """SUMIF's sum range: the criteria range when not given; of another shape, unchecked."""
    if len(args) < 3 or args[2] is None:
        return _grid(args[0])
    if _grid(args[2]).shape != _grid(args[0]).shape:
        raise NotEvaluated("uses SUMIF/AVERAGEIF with a sum range of another shape than its range, which Excel "
                           "resizes over cells the formula does not name")
    return _grid(args[2])


def _average(values) -> float:
    if not values:
        raise SheetError("#DIV/0!")
    return excel_sum(values) / len(values)


def _if_cells(args):
    """SUMIFS/AVERAGEIFS: (the sum range, the cells matching every criterion); ranges of its shape only."""
    total = _grid(args[0])
    pairs = _pairs(args[1:])
    if any(_grid(r).shape != total.shape for r, _ in pairs):
        raise SheetError("#VALUE!")
    return total, _matching(pairs)


def _sumifs(args, dialect):
    return _total(_numbers_at(*_if_cells(args)), dialect)


def _averageifs(args, dialect):
    return _average(_numbers_at(*_if_cells(args)))


def _sumif(args, dialect):
    return _total(_numbers_at(_sum_range(args), _matching([(args[0], args[1])])), dialect)


def _averageif(args, dialect):
    return _average(_numbers_at(_sum_range(args), _matching([(args[0], args[1])])))


def _reg(name, lo, hi, page, exact, kinds):
    register(Function(name, lo, hi, page=MS + page, exact=exact, args=kinds, magnitude="max"))


_PAIRS = ("range",)  # ranges and criteria as given (a criterion of one cell: its value)
_ONE = ("range", "value", "range")  # SUMIF(range, criterion, sum range): an array of criteria, one by one
_reg("COUNTIFS", 2, 254, "countifs-function-dda3dc6e-f74e-4aee-88bc-aa8c2a866842",
     lambda a, d: float(len(_matching(_pairs(a)))), _PAIRS)
_reg("SUMIF", 2, 3, "sumif-function-169b8c99-c05c-4483-a712-1697a653039b", _sumif, _ONE)
_reg("SUMIFS", 3, 255, "sumifs-function-c9e748f5-7ea7-455d-9406-611cebce642b", _sumifs, _PAIRS)
_reg("AVERAGEIF", 2, 3, "averageif-function-faec8e2e-0dec-4308-af69-f5576d8ac642", _averageif, _ONE)
_reg("AVERAGEIFS", 3, 255, "averageifs-function-48910c45-1fc0-4389-a028-f7c5c3001690", _averageifs, _PAIRS)

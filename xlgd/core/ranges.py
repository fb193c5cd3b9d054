"""Functions over ranges and arrays, in the order each spreadsheet adds.

Excel adds left to right, plainly. LibreOffice compensates (Neumaier's variant of Kahan summation,
`KahanSum`); its SUM adds a run of constant numbers eight at a time (`_lanes8`), formula results
one by one, arguments last to first (`lo_sum`); AVERAGE, SUMSQ, SUMPRODUCT and MMULT add one value
at a time into one KahanSum (`lo_serial`). Everything here takes `Block`s (values.py) and floats
and raises `SheetError` for a spreadsheet error.
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re

from .values import (
    Block,
    NotEvaluated,
    SheetError,
    Text,
    compare,
    each_value,
    is_error,
    number,
)

E48 = 2.0**-48  # rtl::math::approxEqual's relative tolerance


def approx_equal(a: float, b: float) -> bool:
    """rtl::math::approxEqual as LibreOffice 7.x uses it in + and -."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    return d < abs(a) * E48 and d < abs(b) * E48


def _neumaier(s, e, v):
    t = s + v
    if abs(s) >= abs(v):
        e += (s - t) + v
    else:
        e += (v - t) + s
    return t, e


class KahanSum:
    """LibreOffice 7.4's KahanSum (sc/inc/kahan.hxx): Neumaier's sum that holds the latest
    value back, so that get() can snap a final near-cancellation to 0 as approxAdd does."""

    __slots__ = ("s", "e", "m")

    def __init__(self, s=0.0, e=0.0):
        self.s, self.e, self.m = s, e, 0.0

    def add(self, x):
        if isinstance(x, KahanSum):  # 7.4 merges a partial sum part by part
            self.add(x.s)
            self.add(x.e)
            self.add(x.m)
            return
        if x == 0.0:
            return
        if not self.m:
            self.m = x
            return
        self.s, self.e = _neumaier(self.s, self.e, self.m)
        self.m = x

    def get(self) -> float:
        total = self.s + self.e
        if not self.m:
            return total
        if ((self.m < 0.0 < total) or (total < 0.0 < self.m)) and approx_equal(self.m, -total):
            return 0.0
        self.add(self.m)
        self.m = 0.0
        return self.s + self.e


def _lanes8(xs) -> KahanSum:
    """LibreOffice's sum of a block of constant numbers: 8 Neumaier lanes (SSE2), combined
    pairwise, the rest added one by one (sc/source/core/tool/arraysumSSE2.cxx)."""
    n = len(xs)
    if n <= 7:
        k = KahanSum()
        for x in xs:
            k.add(x)
        return k
    m = n - n % 8
    S, E = [0.0] * 8, [0.0] * 8
    for i in range(0, m, 8):
        for j in range(8):
            S[j], E[j] = _neumaier(S[j], E[j], xs[i + j])
    # registers (0,1) (2,3) (4,5) (6,7): 1+2, 3+4, then 1+3, then the two lanes of 1
    for a, b in ((0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (0, 1)):
        S[a], E[a] = _neumaier(S[a], E[a], S[b])
        S[a], E[a] = _neumaier(S[a], E[a], E[b])
    k = KahanSum(S[0], E[0])
    for x in xs[m:]:
        k.add(x)
    return k


def excel_sum(values) -> float:
    s = 0.0
    for x in values:
        s += x
    return s


def lo_serial(values) -> float:
    k = KahanSum()
    for x in values:
        k.add(x)
    return k.get()


def _lo_range_sum(b: Block) -> KahanSum:
    """One range of a LibreOffice SUM: per column, runs of constants in lanes, formula results one by one."""
    total = KahanSum()
    for col in b.by_columns():
        acc, run = KahanSum(), []
        for v, is_formula in col:
            if isinstance(v, bool):
                v = 1.0 if v else 0.0
            if isinstance(v, float) and not is_formula:
                run.append(v)
                continue
            if run:
                acc.add(_lanes8(run))
                run = []
            if is_error(v):
                raise SheetError(v)
            if isinstance(v, float):
                acc.add(v)
        if run:
            acc.add(_lanes8(run))
        total.add(acc)
    return total


def sum_args(args, dialect, square=False) -> float:
    """SUM (or SUMSQ) of the arguments as given: Blocks and scalars."""
    if dialect == "libreoffice":
        k = KahanSum()
        for a in reversed(args):  # LibreOffice pops its arguments off a stack
            if isinstance(a, Block) and a.ref is not None and not square:
                k.add(_lo_range_sum(a))
            else:
                for x in _arg_numbers(a, dialect):
                    k.add(x * x if square else x)
        return k.get()
    xs = [x for a in args for x in _arg_numbers(a, dialect)]
    return excel_sum([x * x for x in xs] if square else xs)


def _arg_numbers(a, dialect):
    """The numbers one argument of SUM/AVERAGE/MIN... contributes: a range's numbers, or one value."""
    if isinstance(a, Block):
        return a.numbers(dialect)
    if a is None:
        return []
    return [number(a)]


def numbers_of(args, dialect):
    return [x for a in args for x in _arg_numbers(a, dialect)]


def average(args, dialect) -> float:
    xs = numbers_of(args, dialect)
    if not xs:
        raise SheetError("#DIV/0!")
    if dialect == "libreoffice":
        return lo_serial(reversed_args_numbers(args, dialect)) / len(xs)
    return excel_sum(xs) / len(xs)


def reversed_args_numbers(args, dialect):
    return [x for a in reversed(args) for x in _arg_numbers(a, dialect)]


def count(args, dialect) -> float:
    n = 0
    for a in args:
        if isinstance(a, Block):
            n += sum(1 for v in a.cells() if isinstance(v, float) or (dialect == "libreoffice" and isinstance(v, bool)))
        elif isinstance(a, (float, bool)):
            n += 1
        elif isinstance(a, Text):
            try:
                number(a)
                n += 1
            except SheetError:
                pass
    return float(n)


def extreme(args, dialect, pick) -> float:
    xs = numbers_of(args, dialect)
    return pick(xs) if xs else 0.0


def variance_p(args, dialect) -> float:
    """VAR.P. LibreOffice: two passes (`squared_deviations`). Excel: the one-pass
    `(n*SUMSQ - SUM^2) / n^2`, sums left to right, which gives every VAR.P Excel cached in the measured
    workbooks bit for bit (docs/excel-arithmetic-measured.md)."""
    if dialect == "libreoffice":
        return squared_deviations(args, dialect)
    xs = numbers_of(args, dialect)
    if not xs:
        raise SheetError("#DIV/0!")
    n, total = float(len(xs)), excel_sum(xs)
    return (n * excel_sum([x * x for x in xs]) - total * total) / (n * n)


def squared_deviations(args, dialect) -> float:
    """The mean squared deviation from the mean, in two passes: LibreOffice's VAR.P, and what Excel's
    STDEV.P takes the square root of (closer to its cached values than the one-pass form)."""
    xs = numbers_of(args, dialect)
    if not xs:
        raise SheetError("#DIV/0!")
    add = lo_serial if dialect == "libreoffice" else excel_sum
    mean = add(xs) / len(xs)
    return add([(x - mean) * (x - mean) for x in xs]) / len(xs)


def _grid(a) -> list:
    """An argument as rows of values (a scalar is 1x1)."""
    if isinstance(a, Block):
        return [list(r) for r in a.values]
    return [[a]]


def sumproduct(args, dialect) -> float:
    grids = [_grid(a) for a in args]
    shape = (len(grids[0]), len(grids[0][0]) if grids[0] else 0)
    if any((len(g), len(g[0]) if g else 0) != shape for g in grids):
        # Excel: an error in the arguments (the first, argument by argument) wins over the sizes' #VALUE!
        first = next((v for g in grids for row in g for v in row if is_error(v)), None)
        raise SheetError(first if first and dialect != "libreoffice" else "#VALUE!")
    flat = [[v for row in g for v in row] for g in grids]
    whole = all(len(row) == shape[1] for g in grids for row in g)
    if whole and all(_floats(values) for values in flat):  # each term the product of its numbers, in order
        terms = [1.0] * len(flat[0])
        for values in flat:
            terms = list(map(operator.mul, terms, values))
        return lo_serial(terms) if dialect == "libreoffice" else excel_sum(terms)
    terms = []
    for r in range(shape[0]):
        for c in range(shape[1]):
            p = 1.0
            for g in grids:
                v = g[r][c]
                if is_error(v):
                    raise SheetError(v)
                p *= v if isinstance(v, float) else 0.0  # non-numbers count as 0
            terms.append(p)
    return lo_serial(terms) if dialect == "libreoffice" else excel_sum(terms)


def sumxmy2(a, b, dialect) -> float:
    ga, gb = _grid(a), _grid(b)
    if (len(ga), len(ga[0])) != (len(gb), len(gb[0])):
        raise SheetError("#N/A")
    terms = []
    for ra, rb in zip(ga, gb):
        for x, y in zip(ra, rb):
            for v in (x, y):
                if is_error(v):
                    raise SheetError(v)
            if isinstance(x, float) and isinstance(y, float):
                terms.append((x - y) * (x - y))
    return lo_serial(terms) if dialect == "libreoffice" else excel_sum(terms)


def mmult(a, b, dialect) -> Block:
    ga, gb = _grid(a), _grid(b)
    n, k, m = len(ga), len(ga[0]), len(gb[0])
    if len(gb) != k:
        raise SheetError("#VALUE!")
    every = [v for r in ga for v in r] + [v for r in gb for v in r]
    for v in () if _floats(every) else every:
        if is_error(v):
            raise SheetError(v)
        if not isinstance(v, float):
            raise SheetError("#VALUE!")
    add = lo_serial if dialect == "libreoffice" else excel_sum
    return Block(tuple(tuple(add([ga[i][t] * gb[t][j] for t in range(k)]) for j in range(m)) for i in range(n)))


# ------------------------------------------------------------------ criteria and lookup
_CRIT = re.compile(r"^(<=|>=|<>|=|<|>)?(.*)$", re.DOTALL)


def criterion(condition):
    """COUNTIF's criterion as a test of one value: '>5', '<>a', 'ab*', 5, TRUE."""
    if isinstance(condition, Block):
        condition = condition.single()
    if is_error(condition):
        return lambda v: v == condition  # Excel counts the cells holding that error
    if condition is None:
        condition = 0.0  # Excel: a blank criterion counts zeros
    if not isinstance(condition, Text):
        want = condition
        return lambda v: v is not None and not is_error(v) and type(v) is type(want) and v == want
    op, rest = _CRIT.match(str(condition)).groups()
    op = op or "="
    try:
        target = float(rest)
    except ValueError:
        target = Text(rest)
    if rest.strip().upper() in ("TRUE", "FALSE"):
        target = rest.strip().upper() == "TRUE"  # "TRUE" counts the boolean TRUE
    if isinstance(target, Text) and op in ("=", "<>") and any(ch in rest for ch in "*?"):
        pat = re.compile(fnmatch.translate(rest.replace("[", "[[]")), re.IGNORECASE | re.DOTALL)
        hit = (lambda v: isinstance(v, Text) and bool(pat.match(v)))
        return hit if op == "=" else (lambda v: not hit(v))

    def test(v):
        if is_error(v):
            return False
        if v is None:
            return op == "<>" or (op == "=" and rest == "")
        if isinstance(v, Text) and isinstance(target, float) and op == "=":
            return v.upper() == rest.upper()  # "13" counts the text 13 too ("<>13" counts every text)
        if type(v) is not type(target) and not (isinstance(v, float) and isinstance(target, float)):
            return op == "<>"
        return compare(op, v, target)

    return test


def countif(rng, crit) -> float:
    test = criterion(crit)
    return float(sum(1 for v in each_value(rng) if test(v)))


def _vector(b) -> list:
    g = _grid(b)
    if len(g) == 1:
        return g[0]
    if all(len(r) == 1 for r in g):
        return [r[0] for r in g]
    raise SheetError("#N/A")


def match(x, rng, kind=1.0) -> float:
    """MATCH: 1-based position of x; kind 0 exact (wildcards for text), 1 largest <= x, -1 smallest >= x
    (found as Excel finds them: `approximate`)."""
    if is_error(x):
        raise SheetError(x)
    xs = _vector(rng)
    if kind == 0:
        return float(exact_position(xs, x) + 1)
    return float(approximate(xs, x, descending=kind < 0) + 1)


def exact_position(xs, x) -> int:
    """0-based position of the first value equal to x (text without case, wildcards * and ?), else #N/A."""
    x = 0.0 if x is None else x  # Excel: a blank looked up is 0
    if isinstance(x, Text):  # text matches text only (without case, wildcards * ? ~), never the number 13
        pat = re.compile(fnmatch.translate(str(x).replace("[", "[[]")), re.IGNORECASE | re.DOTALL)
        test = (lambda v: isinstance(v, Text) and bool(pat.match(v)))
    else:
        test = (lambda v: v is not None and not is_error(v) and type(v) is type(x) and compare("=", v, x))
    for i, v in enumerate(xs):
        if test(v):
            return i
    raise SheetError("#N/A")


def _comparable(value, x) -> bool:
    """Whether an approximate lookup compares cell value `value` with x: same kind (numbers with numbers ...)."""
    if value is None or is_error(value):
        return False
    return isinstance(value, Text) == isinstance(x, Text) and isinstance(value, bool) == isinstance(x, bool)


def _floats(values) -> bool:
    """Every value (a list) is a number: no blank, text, boolean or error among them."""
    return set(map(type, values)) <= _FLOAT


_FLOAT = {float}


def _kind(value) -> type:
    return bool if isinstance(value, bool) else Text if isinstance(value, Text) else float


def approximate(xs, x, descending=False) -> int:
    """0-based position Excel's approximate lookup finds for x in xs: bisection for the last value <= x
    (descending: `_descending`); on a value equal to x, the last of the equal values that follow it."""
    if descending:
        return _descending(xs, x)
    if type(x) is float and _floats(xs):  # numbers only: `compare`'s = and <= on two numbers written out
        return _bisect(xs, lambda k: True, lambda v: not (v > x or v < x), lambda v: not v > x)
    if len({_kind(v) for v in xs if v is not None and not is_error(v)}) > 1:
        raise NotEvaluated("looks up a value approximately among text and numbers mixed, whose order in "
                           "Excel's binary search xlgd does not know")
    return _bisect(xs, lambda k: _comparable(xs[k], x), lambda v: compare("=", v, x), lambda v: compare("<=", v, x))


def _bisect(xs, comparable, equal, not_greater) -> int:
    """`approximate`'s bisection: comparable(k) says whether xs[k] is compared with x, equal(v) and
    not_greater(v) compare a value with x."""
    lo, hi, best = 0, len(xs) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        k = mid
        while k >= lo and not comparable(k):  # the nearest comparable value at or before mid
            k -= 1
        if k < lo:
            lo = mid + 1
            continue
        if equal(xs[k]):
            while k + 1 < len(xs) and comparable(k + 1) and equal(xs[k + 1]):
                k += 1
            return k
        if not_greater(xs[k]):
            best, lo = k, mid + 1
        else:
            hi = k - 1
    if best is None:
        raise SheetError("#N/A")
    return best


def _descending(xs, x) -> int:
    """MATCH(x, xs, -1) as Excel answers it (pycel's lookup.xlsx): from the first value on, the last value
    >= x before one below x; a value equal to x at once."""
    best = None
    for i, v in enumerate(xs):
        if not _comparable(v, x):
            continue
        if compare("=", v, x):
            return i
        if compare("<", v, x):
            break
        best = i
    if best is None:
        raise SheetError("#N/A")
    return best


def index(rng, row_number, col_number=None):
    """INDEX(range, row, col): a value, or a whole row/column (0) as a Block."""
    if not isinstance(rng, Block):
        rng = Block(((rng,),))
    rows, cols = rng.shape
    row_number = int(row_number)
    if col_number is None:
        if rows == 1 and cols > 1:
            row_number, col_number = 1, row_number
        else:
            col_number = 1 if cols == 1 else 0  # a table and a row number: the whole row
    col_number = int(col_number)
    if row_number < 0 or col_number < 0:
        raise SheetError("#VALUE!")  # Excel: a negative index is a wrong value, not a place outside
    if row_number > rows or col_number > cols:
        raise SheetError("#REF!")
    if row_number == 0 and col_number == 0:
        return rng
    if row_number == 0:
        return Block(tuple((row[col_number - 1],) for row in rng.values))
    if col_number == 0:
        return Block((rng.values[row_number - 1],))
    return rng.values[row_number - 1][col_number - 1]


def round_half_away(value: float, digits: float) -> float:
    """ROUND: half away from zero, on the number as its shortest decimal reads (2.675 -> 2.68)."""
    from decimal import ROUND_HALF_UP, Decimal

    d = int(math.trunc(digits))
    if not math.isfinite(value):
        raise SheetError("#NUM!")
    q = Decimal(1).scaleb(-d)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP)) if abs(d) < 300 else value


def ceiling_math(value, sig=1.0, mode=0.0) -> float:
    sig = abs(sig)
    if sig == 0.0 or value == 0.0:
        return 0.0
    q = value / sig
    if value < 0 and mode != 0.0:
        return -math.ceil(-q) * sig
    return math.ceil(q) * sig

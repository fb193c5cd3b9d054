"""A run's formula, parsed once and bound to the workbook: names resolved, references as targets.

`Preparer(names)(run)` parses the run's first formula (`xlsx.formula`),
replaces each defined name by what it points at (a cell or a range on its
sheet, anchored; a constant; #NAME? when the name does not exist, #REF! when
it points at a deleted range), and says

* what the run reads (`targets`, for the dependency graph; arguments of ROW,
  ROWS, COLUMNS and OFFSET's base are addresses, not values, and are left out);
* whether it can be compiled to numpy (`vector`): only cell references, only
  functions with a numpy form, a number as result -- everything else is
  evaluated cell by cell with the exact evaluator;
* why it cannot be evaluated at all (`reason`: an unsupported or volatile
  function), which makes its cells unchecked, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core import dates, functions
from ..core.expr import (
    Address,
    Bin,
    CellRef,
    Cmp,
    Const,
    Expr,
    Fn,
    Name,
    Neg,
    Num,
    RangeRef,
    leaves,
)
from ..core.values import Block
from ..xlsx import tables
from ..xlsx.formula import MAX_ROW, Unsupported, parse
from .graph import ReadRange
from .runs import Run
from .windows import windowed

NUMERIC_FUNCTIONS = {"SQRT", "MAX", "MIN", "SIN", "COS", "TAN", "TANH", "EXP", "LN", "LOG10", "ABS", "SIGN",
                     "INT"}
STRICT_FUNCTIONS = NUMERIC_FUNCTIONS | {"NA"}  # an error argument always gives an error
ABSORBING = {"ISBLANK", "ISERR", "ISERROR", "ISLOGICAL", "ISNA", "ISNONTEXT", "ISNUMBER", "ISTEXT", "IFERROR", "IFNA",
             "COUNTIF"}  # turn an error argument into a value


@dataclass
class Prepared:
    run: Run
    expr: Expr | None = None
    reason: str | None = None  # why the run is not evaluated
    volatile: bool = False
    targets: list = field(default_factory=list)
    leaves: list = field(default_factory=list)  # the CellRef leaves a compiled run reads, in order
    numbers_only: set = field(default_factory=set)  # leaves (by index) read as MIN/MAX arguments: blank skipped
    vector: bool = False  # compiles to numpy over its rows
    strict: bool = False  # an error in any input is an error out (errors fill forward)
    dynamic: bool = False  # reads cells chosen by its arguments' values (OFFSET)
    ulp: bool = False  # its last bits come from a C library (EXP, LN, POWER, ^ other than 2 ...)
    windows: bool = False  # reads ranges moving with its rows, evaluated over its rows with numpy (windows.py)
    absorbs_errors: bool = False  # calls a function that turns an error into a value (ISNA, IFERROR ...)
    source: str = ""  # numpy source (vector runs)
    shape: object = None  # the Prepared this one's analysis is shared with (Preparer)
    kin: object = None  # a Prepared of the same numpy source: its Family's first, when leaves repeat alike


class Names:
    """The workbook's defined names, resolved for formulas on each sheet."""

    def __init__(self, defined: dict, sheets, tables: dict | None = None):
        self.sheets = set(sheets)
        self.tables = tables or {}  # table name upper case -> xlsx.tables.ExcelTable
        self.dialect = "excel"  # how structured references read (set by the Preparer)
        self.date1904 = False  # the workbook counts dates from 1904 (Mac Excel's old default)
        self.by_key = {(s, n.upper()): text for (s, n), text in defined.items()}
        self._cache = {}
        self.used = set()  # (sheet, name as written) of every name a formula uses

    def resolve(self, name: str, sheet: str, record: bool = True):
        """The expression a name stands for on `sheet`: an anchored reference, a constant, a formula, or an
        error (`record`: the formula is the workbook's, not a probe of `Family.learn`). A name xlgd cannot
        evaluate (an intersection `A B`, a union, a circular definition) raises `Unsupported` naming it."""
        if record:
            self.used.add((sheet, name))
        key = (sheet, name.upper())
        if key not in self._cache:
            self._cache[key] = None  # a name reached again while it is resolved: a circular definition
            try:
                self._cache[key] = self._resolve(name, sheet)
            except Unsupported as u:
                self._cache[key] = u
        hit = self._cache[key]
        if hit is None:
            raise Unsupported(f"the name {name} is defined through itself")
        if isinstance(hit, Unsupported):
            raise Unsupported(str(hit), hit.function, hit.volatile)
        return hit

    def text(self, name, sheet):
        return self.by_key.get((sheet, name.upper()), self.by_key.get((None, name.upper())))

    def _resolve(self, name, sheet):
        if "[" in name:
            return self.structured(name, (sheet, None, None, None))
        text = self.text(name, sheet)
        if text is None:
            return self.structured(name + "[]", (sheet, None, None, None)) if self.is_table(name, sheet) else Const("#NAME?")
        if "#REF!" in text.upper():
            return Const("#REF!")
        try:
            e = parse(text, sheet)
        except Unsupported as u:
            reason = f"the name {name} is defined as {text}, which xlgd does not evaluate ({u})"
            raise Unsupported(reason, u.function, u.volatile) from None
        e = map_leaves(e, lambda leaf: self.resolve(leaf.name, leaf.sheet or sheet, False)
                       if isinstance(leaf, Name) else _anchor(leaf))
        if isinstance(e, (CellRef, RangeRef)) and e.sheet not in self.sheets:
            return Const("#REF!")
        return e

    def structured(self, text: str, where: tuple):
        """A structured reference (`Table1[Age]`, `[@Age]`) as the cell or range it names, for formula cells at
        where = (sheet, first row, last row, column) -- rows None outside a formula (a defined name): a
        #This Row reference moves with the formula's row, the rest are anchored."""
        name, spec = tables.split(text)
        table = self.tables.get(name.upper()) if name else self._around(where)
        if table is None:
            raise Unsupported(f"the structured reference {text} names no table of the workbook xlgd can read")
        if self.dialect == "libreoffice" and (text.endswith("[]") or spec.strip().upper() in tables.SPECIALS):
            raise Unsupported(f"the structured reference {text}, which LibreOffice reads otherwise than Excel "
                              "(a table's name alone: its headers too; `[#All]` alone: #NAME?)")
        if where[1] is None and ("@" in spec or "#THIS ROW" in spec.upper()):
            raise Unsupported(f"the structured reference {text} without the formula's row")
        r0, c0, r1, c1, this_row = table.cells(spec, (where[1], where[2]))
        if (r0, c0) == (r1, c1):
            return CellRef(table.sheet, r0, c0, not this_row)
        return RangeRef(table.sheet, r0, c0, r1, c1, not this_row, not this_row)

    def is_table(self, name, sheet) -> bool:
        """A bare table name (`SUM(Table1)`: its data rows), not a defined name."""
        return self.text(name, sheet) is None and name.upper() in self.tables

    def _around(self, where):
        sheet, row, _, col = where
        return next((t for t in self.tables.values() if t.sheet == sheet and row is not None
                     and t.r0 <= row <= t.r1 and t.c0 <= col <= t.c1), None)


def _anchor(expr):
    if isinstance(expr, CellRef):
        return CellRef(expr.sheet, expr.row, expr.col, True)
    if isinstance(expr, RangeRef):
        return RangeRef(expr.sheet, expr.row, expr.col, expr.row2, expr.col2, True, True)
    return expr


def map_leaves(expr, function):
    """The tree with each leaf replaced by function(leaf)."""
    if isinstance(expr, (Num, Const)):
        return expr
    if isinstance(expr, Bin):
        return Bin(expr.op, map_leaves(expr.left, function), map_leaves(expr.right, function), expr.parsed)
    if isinstance(expr, Cmp):
        return Cmp(expr.op, map_leaves(expr.left, function), map_leaves(expr.right, function))
    if isinstance(expr, Neg):
        return Neg(map_leaves(expr.arg, function))
    if isinstance(expr, Fn):
        return Fn(expr.name, tuple(map_leaves(a, function) for a in expr.args))
    return function(expr)


def value_leaves(expr):
    """The reference leaves whose values the tree reads (not ROW's or OFFSET's base: addresses only)."""
    return (x for x in leaves(expr, lambda fn, i: functions.FUNCTIONS[fn.name].arg_kind(i) == "ref")
            if isinstance(x, (CellRef, RangeRef)))


class Preparer:
    """Runs prepared: a formula's text is parsed and analysed once per sheet (a step table
    whose x column reads another sheet has thousands of runs of the same text, `=data!B5`), and texts
    that differ only in their row numbers are parsed once too (`Family`: an epoch's `=$AC$7`, `=$AC$8`
    ...; a summary row's `=O64/29`, `=O93/29` ...). A run's bookkeeping is cheap: `ReadRange` a
    tuple, moved leaves without a walk."""

    def __init__(self, names: Names, dialect: str = "excel"):
        self.names = names
        names.dialect = dialect
        self.shapes = {}
        self.families = {}  # (text between row numbers, sheet, array) -> Family, or None: parse each

    def __call__(self, run: Run) -> Prepared:
        key = (run.text, run.sheet, run.array_context)
        upper = run.text.upper()
        positional = "ROW(" in upper or "OFFSET(" in upper or "[" in upper  # [@Age]: the formula's row
        if positional:
            key += (run.r0, run.col)  # ROW() and OFFSET depend on where the formula is
        form = run.form and (("form", run.form),) + key[1:]  # one formula in R1C1 form: moved, not parsed
        shape = self.shapes.get(key)
        if shape is None and form:
            shape = self.shapes.get(form)
        if shape is None:
            shape = self.shapes[key] = _analyse(run, self.names) if positional else self._shape(run)
        if form:
            self.shapes.setdefault(form, shape)
        expr, leaves = shape.expr, shape.leaves
        dr = run.r0 - shape.run.r0
        if dr and shape.run.text != run.text:  # the same formula in R1C1 form on other rows: moved
            expr = map_leaves(expr, lambda leaf: moved_leaf(leaf, dr))
            leaves = [moved_leaf(leaf, dr) for leaf in leaves]  # value_leaves(expr), without the walk
        p = Prepared(run, expr, shape.reason, shape.volatile, [_target(run, leaf) for leaf in leaves],
                     leaves if shape.vector else [], shape.numbers_only, shape.vector, shape.strict,
                     shape.dynamic, shape.ulp)
        p.shape, p.absorbs_errors, p.windows = shape, shape.absorbs_errors, shape.windows
        return p

    def _shape(self, run) -> Prepared:
        """The run's analysis: from its family's when its text differs from the family's only in row
        numbers the family can place, else parsed (and the first of a family teaches it)."""
        parts = ROW_NUMBER.split(run.text)
        if len(parts) == 1:
            return _analyse(run, self.names)
        fkey, rows = (tuple(parts[0::2]), run.sheet, run.array_context), [int(x) for x in parts[1::2]]
        if fkey in self.families:
            family = self.families[fkey]
            shape = family and family.bind(run, rows)
            return shape or _analyse(run, self.names)
        shape = _analyse(run, self.names)
        self.families[fkey] = Family.learn(shape, parts, rows, self.names)
        return shape


# A run of digits right after a column's letters (or its row's `$`): a row number, if the text is a
# reference there -- which `Family.learn` checks by parsing, never assumes. Digits glued to what
# follows (a sheet name `Sheet1!`, a function `LOG10(`, a name `x1y`) are left in the text.
ROW_NUMBER = re.compile(r"(?<=[A-Za-z$])([1-9][0-9]{0,6})(?![\w.!'(])")


class Differs(Exception):
    """Two parses are not the same tree but for rows (`Family.learn`)."""


@dataclass
class Family:
    """Formula texts that differ only in the numbers `ROW_NUMBER` finds, on one sheet: the first one's
    analysis, and for each reference leaf (in `map_leaves` order) which number is its row (`holes`).

    Learned exactly: the first text is parsed, then the same text with every number replaced by a
    distinct probe row; the two trees must be equal node for node except for reference rows, and each
    changed row must be the probe's number where the first tree has the first text's (so a number in a
    string, a name, a constant or a sheet name makes the family None: each text parsed). Binding
    another text's numbers is then what parsing it gives; a range whose ends would come out reversed
    (which the parser swaps) or a row past the sheet is parsed instead."""

    shape: Prepared
    holes: list
    repeats: tuple = ()  # which of the first's value leaves are equal (`_repeats`)

    @classmethod
    def learn(cls, shape, parts, rows, names):
        if shape.expr is None:
            return None
        probe = [MAX_ROW - len(rows) + 1 + i for i in range(len(rows))]  # increasing, as a range's ends
        if set(probe) & set(rows):
            return None
        text = "".join(x if i % 2 == 0 else str(probe[i // 2]) for i, x in enumerate(parts))
        run = shape.run
        try:
            other = _resolved(parse(text, run.sheet, run.r0, run.col), run, names,
                              record=False)
        except Unsupported:
            return None
        holes, used = [], set()
        try:
            _match(shape.expr, other, {p: i for i, p in enumerate(probe)}, rows, holes, used)
        except Differs:
            return None
        return cls(shape, holes, _repeats(shape.leaves)) if len(used) == len(rows) else None

    def bind(self, run, rows) -> Prepared | None:
        """The analysis of `run`, whose text has these row numbers; None when they cannot be placed."""
        if max(rows) > MAX_ROW:
            return None
        holes = iter(self.holes)
        try:
            expr = map_leaves(self.shape.expr, lambda leaf: _placed(leaf, next(holes), rows))
        except Differs:
            return None
        s, leaves = self.shape, list(value_leaves(expr))
        p = Prepared(run, expr, s.reason, s.volatile, [], leaves, s.numbers_only, s.vector, s.strict, s.dynamic,
                     s.ulp)
        if _repeats(leaves) == self.repeats:  # the same source over L0, L1 ... (`evaluate.source_of`)
            p.kin = s
        p.windows = s.windows and windowed(expr, run.array_context)
        return p


def _repeats(leaves) -> tuple:
    """For each leaf, the first leaf equal to it (`A5+A5` reads one input twice, `A6+A7` two)."""
    return tuple(map(leaves.index, leaves))


def _match(a, b, probe, rows, holes, used):
    """Walk two trees together (see Family); append each reference leaf's hole to `holes`."""
    if type(a) is not type(b):
        raise Differs
    if isinstance(a, (Num, Const)):
        if type(a.value) is not type(b.value) or repr(a.value) != repr(b.value):
            raise Differs
    elif isinstance(a, (Bin, Cmp)):
        if a.op != b.op or getattr(a, "parsed", None) != getattr(b, "parsed", None):
            raise Differs
        _match(a.left, b.left, probe, rows, holes, used)
        _match(a.right, b.right, probe, rows, holes, used)
    elif isinstance(a, Neg):
        _match(a.arg, b.arg, probe, rows, holes, used)
    elif isinstance(a, Fn):
        if a.name != b.name or len(a.args) != len(b.args):
            raise Differs
        for x, y in zip(a.args, b.args):
            _match(x, y, probe, rows, holes, used)
    else:
        holes.append(_hole(a, b, probe, rows, used))


def _hole(a, b, probe, rows, used):
    """Which numbers a leaf's rows are: None for a row that stays, else the number's index."""
    def row(x, y):
        if x == y:
            return None
        i = probe.get(y)
        if i is None or rows[i] != x:
            raise Differs
        used.add(i)
        return i

    if isinstance(a, CellRef):
        if (a.sheet, a.col, a.row_abs) != (b.sheet, b.col, b.row_abs):
            raise Differs
        return row(a.row, b.row)
    if isinstance(a, RangeRef):
        if (a.sheet, a.col, a.col2, a.row_abs, a.row2_abs) != (b.sheet, b.col, b.col2, b.row_abs, b.row2_abs):
            raise Differs
        return row(a.row, b.row), row(a.row2, b.row2)
    if isinstance(a, Address):
        return (_hole(a.of, b.of, probe, rows, used),)
    raise Differs  # a leaf of another kind: not learned


def _placed(leaf, hole, rows):
    """The leaf with its rows taken from `rows` where its hole says so (see Family)."""
    if hole is None:
        return leaf
    if isinstance(leaf, CellRef):
        return CellRef(leaf.sheet, rows[hole], leaf.col, leaf.row_abs)
    if isinstance(leaf, RangeRef):
        lo = leaf.row if hole[0] is None else rows[hole[0]]
        hi = leaf.row2 if hole[1] is None else rows[hole[1]]
        if hi < lo:
            raise Differs  # the parser would swap the ends
        return RangeRef(leaf.sheet, lo, leaf.col, hi, leaf.col2, leaf.row_abs, leaf.row2_abs)
    return Address(_placed(leaf.of, hole[0], rows))


def moved_leaf(leaf, row_shift):
    """A reference leaf row_shift rows further down, anchored rows staying."""
    if isinstance(leaf, CellRef):
        return leaf if leaf.row_abs else CellRef(leaf.sheet, leaf.row + row_shift, leaf.col, False)
    if isinstance(leaf, RangeRef):
        return RangeRef(leaf.sheet, leaf.row if leaf.row_abs else leaf.row + row_shift, leaf.col,
                        leaf.row2 if leaf.row2_abs else leaf.row2 + row_shift, leaf.col2, leaf.row_abs, leaf.row2_abs)
    if isinstance(leaf, Address):
        return Address(moved_leaf(leaf.of, row_shift))
    return leaf


def _analyse(run, names) -> Prepared:
    """The parts of a Prepared that depend only on the formula's text and sheet (targets left empty)."""
    p = Prepared(run)
    p.leaves = []
    try:
        e = _resolved(parse(run.text, run.sheet, run.r0, run.col), run, names)
    except Unsupported as u:
        p.reason, p.volatile = _reason(u), u.volatile
        return p
    unknown = _unknown_semantics(e, run.array_context, names.date1904)
    if unknown:
        p.reason = unknown
        return p
    p.expr = e
    fns = {f.name for f in calls(e)}
    p.ulp = bool(library_operations(e))
    p.dynamic = any(functions.FUNCTIONS[f].dynamic for f in fns)
    p.absorbs_errors = bool(fns & ABSORBING)
    p.leaves = list(value_leaves(e))
    p.vector = (not run.array_context and not p.dynamic and all(isinstance(x, CellRef) for x in p.leaves)
                and _numeric(e) and _compilable(e))
    p.strict = p.vector and fns <= STRICT_FUNCTIONS
    p.windows = not p.vector and names.dialect == "excel" and windowed(e, run.array_context)
    if p.vector:
        direct = {id(a) for f in calls(e) if f.name in ("MIN", "MAX") for a in f.args}
        p.numbers_only = {i for i, leaf in enumerate(p.leaves) if id(leaf) in direct}
    return p


def _unknown_semantics(e, array: bool, date1904: bool = False) -> str | None:
    """Why xlgd cannot give Excel's value for this tree (outside an array formula, INDEX of a table with one
    index: Excel's value is a whole row or column in one cell; a date function in a workbook on the 1904
    date system), or None."""
    for f in calls(e):
        if date1904 and f.name in dates.NAMES:
            return f"uses {f.name} in a workbook on the 1904 date system, which xlgd does not evaluate"
        if not array and f.name == "INDEX" and len(f.args) == 2 and _two_dimensional(f.args[0]):
            return "uses INDEX of a table with one index outside an array formula, which xlgd does not evaluate"
    return None


def _two_dimensional(arg) -> bool:
    if isinstance(arg, RangeRef):
        return arg.row != arg.row2 and arg.col != arg.col2
    return isinstance(arg, Const) and isinstance(arg.value, Block) and min(arg.value.shape) > 1


def _resolved(e, run, names, record=True):
    """The tree with each defined name and structured reference replaced by what it stands for on the run's
    sheet and rows."""
    def leaf_of(leaf):
        if not isinstance(leaf, Name):
            return leaf
        if "[" in leaf.name or names.is_table(leaf.name, leaf.sheet or run.sheet):
            text = leaf.name if "[" in leaf.name else leaf.name + "[]"
            return names.structured(text, (run.sheet, run.r0, run.r1, run.col))
        return names.resolve(leaf.name, leaf.sheet or run.sheet, record)

    return map_leaves(e, leaf_of)


def library_operations(expr) -> list:
    """The functions of a tree whose last bits xlgd cannot reproduce (the C library's EXP, LN, LOG10 ...;
    Excel's own closed forms such as PMT), and `^` for a power other than ^2 (C's pow), sorted."""
    names = {f.name for f in calls(expr) if functions.FUNCTIONS[f.name].ulp}
    return sorted(names | ({"^"} if _powers(expr) else set()))


def _powers(expr) -> bool:
    """A ^ other than ^2: C's pow() decides the last bits."""
    if isinstance(expr, Bin):
        if expr.op == "^" and not (isinstance(expr.right, Num) and expr.right.value == 2.0):
            return True
        return _powers(expr.left) or _powers(expr.right)
    if isinstance(expr, Cmp):
        return _powers(expr.left) or _powers(expr.right)
    if isinstance(expr, Neg):
        return _powers(expr.arg)
    if isinstance(expr, Fn):
        return any(_powers(a) for a in expr.args)
    return False


def calls(expr):
    """Every function call node of a tree."""
    if isinstance(expr, Fn):
        yield expr
        for a in expr.args:
            yield from calls(a)
    elif isinstance(expr, (Bin, Cmp)):
        yield from calls(expr.left)
        yield from calls(expr.right)
    elif isinstance(expr, Neg):
        yield from calls(expr.arg)


def _reason(unsupported: Unsupported) -> str:
    if unsupported.volatile:
        return f"uses {unsupported.function} (volatile)"
    if unsupported.function:
        return f"uses {unsupported.function}, which xlgd does not evaluate"
    return f"its formula cannot be evaluated by xlgd: {unsupported}"


def _target(run: Run, leaf) -> ReadRange:
    if isinstance(leaf, CellRef):
        if leaf.row_abs:
            return ReadRange(leaf.sheet, leaf.col, leaf.col, leaf.row, leaf.row)
        off = leaf.row - run.r0
        return ReadRange(leaf.sheet, leaf.col, leaf.col, run.r0 + off, run.r1 + off, offset=off)
    lo_off = None if leaf.row_abs else leaf.row - run.r0
    hi_off = None if leaf.row2_abs else leaf.row2 - run.r0
    lo = leaf.row if lo_off is None else run.r0 + lo_off
    hi = leaf.row2 if hi_off is None else run.r1 + hi_off
    return ReadRange(leaf.sheet, leaf.col, leaf.col2, max(1, min(lo, hi)), max(lo, hi), None, lo_off, hi_off)


def _numeric(expr) -> bool:
    """Whether the tree's value is always a number when its inputs are numbers or blanks."""
    if isinstance(expr, (Num, CellRef)):
        return True
    if isinstance(expr, Neg):
        return True
    if isinstance(expr, Bin):
        return expr.op != "&"
    if isinstance(expr, Fn):
        if expr.name == "IF":
            return len(expr.args) == 3 and _numeric(expr.args[1]) and _numeric(expr.args[2])
        return expr.name in NUMERIC_FUNCTIONS or expr.name == "NA"
    return False


def _compilable(expr) -> bool:
    if isinstance(expr, (Num, CellRef)):
        return True
    if isinstance(expr, Const):
        return isinstance(expr.value, bool)
    if isinstance(expr, (Bin, Cmp)):
        return (not isinstance(expr, Bin) or expr.op != "&") and _compilable(expr.left) and _compilable(expr.right)
    if isinstance(expr, Neg):
        return _compilable(expr.arg)
    if isinstance(expr, Fn):
        f = functions.FUNCTIONS[expr.name]
        return f.scalar is not None and f.batch is not None and all(_compilable(a) for a in expr.args)
    return False

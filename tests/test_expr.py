"""Column expressions: formula text, numpy source and the exact evaluator agree."""

import math
import random

import numpy as np
import pytest

from xlgd.core.expr import (
    Col,
    Name,
    Num,
    excel,
    excel_value,
    if_,
    maximum,
    minimum,
    py,
    sqrt,
)
from xlgd.core.functions import numpy_namespace

a, b, c = Col("a"), Col("b"), Col("c")
REF = {"a": "A1", "b": "B1", "c": "C1"}


def text(e):
    return excel(e, lambda leaf: REF.get(getattr(leaf, "name", ""), getattr(leaf, "name", "?")))


@pytest.mark.parametrize("e,want", [
    (a - (b - c), "A1-(B1-C1)"),
    (a - b - c, "A1-B1-C1"),
    (a / (b * c), "A1/(B1*C1)"),
    (a * b / c, "A1*B1/C1"),
    ((a + b) * c, "(A1+B1)*C1"),
    (a ** 2, "A1*A1"),
    ((a - b) ** 2, "(A1-B1)*(A1-B1)"),
    ((a * b) ** 2, "(A1*B1)*(A1*B1)"),
    (c * b ** 2, "C1*(B1*B1)"),
    (-(a ** 2), "-(A1*A1)"),
    (-a + b, "-A1+B1"),
    (a * Name("beta1") + (1 - Name("beta1")) * b, "A1*beta1+(1-beta1)*B1"),
    (if_(a > 0, b * c, 0), "IF(A1>0,B1*C1,0)"),
    (maximum(0, a * b + c), "MAX(0,A1*B1+C1)"),
    (a - b * Num(0.0001), "A1-B1*0.0001"),
])
def test_formula_text_keeps_the_trees_association(e, want):
    assert text(e) == want


def random_tree(rng, depth=0):
    leaves = [a, b, c, Num(rng.choice([0.5, 2.0, 3.0, 0.1, 1e-3]))]
    if depth > 3 or rng.random() < 0.25:
        return rng.choice(leaves)
    kind = rng.random()
    l, r = random_tree(rng, depth + 1), random_tree(rng, depth + 1)
    if kind < 0.6:
        return {0: l + r, 1: l - r, 2: l * r, 3: l / r}[rng.randrange(4)]
    if kind < 0.7:
        return l ** 2
    if kind < 0.8:
        return -l
    if kind < 0.9:
        return sqrt(l * l + r * r)
    return rng.choice([maximum(l, r), minimum(l, r), if_(l > r, l, r)])


VALUES = {"a": 1.7, "b": -0.3, "c": 123.25}


def test_numpy_source_and_exact_evaluator_agree_on_random_trees():
    """Where the fast path finishes without an IEEE exception its value is the
    exact one; where it raises, the engine falls back to the exact evaluator,
    so every spreadsheet error must raise (none may hide as a finite number)."""
    rng = random.Random(7)
    ns = numpy_namespace(batch=False, dialect="excel")
    raised = 0
    for _ in range(800):
        e = random_tree(rng)
        src = py(e, lambda leaf: f"V[{leaf.name!r}]")
        exact = excel_value(e, lambda leaf: VALUES[leaf.name])
        try:
            with np.errstate(all="raise", under="ignore"):
                fast = eval(src, dict(ns, V={k: np.float64(v) for k, v in VALUES.items()}))
        except FloatingPointError:
            raised += 1
            continue
        assert not isinstance(exact, str), (text(e), exact, fast)
        assert float(fast) == exact, text(e)
    assert raised > 0  # the trees do reach errors, so the check above means something


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_evaluates_our_text_as_the_engine_does(tmp_path, lo_exact):
    """500 random trees written as formulas: LibreOffice parses our text on its
    own, so a bracket we dropped would show up as a different value."""
    import xlsxwriter

    rng = random.Random(11)
    trees = [random_tree(rng) for _ in range(500)]
    path = tmp_path / "trees.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("t")
    for i, k in enumerate("abc"):
        ws.write_number(0, i, VALUES[k])
    for r, e in enumerate(trees, start=1):
        ws.write_formula(r, 0, "=" + text(e).replace("A1", "$A$1").replace("B1", "$B$1").replace("C1", "$C$1"))
    wb.close()
    lo = lo_exact(path)["sheets"]["t"]
    for r, e in enumerate(trees, start=1):
        want = excel_value(e, lambda leaf: VALUES[leaf.name], dialect="libreoffice")
        got = lo["errors"].get(f"{r},0", lo["values"][r][0])
        assert got == want, (text(e), got, want)


# ------------------------------------------------------------ the function table
def _cell(text, cells=None, dialect="excel"):
    from xlgd.core.expr import excel_value
    from xlgd.xlsx.formula import parse

    cells = cells or {}
    return excel_value(parse(text, "s"), lambda leaf: cells.get((leaf.row, leaf.col), 0.0), dialect)


def test_formula_parser_knows_every_evaluable_function_of_the_table():
    # Generated workbooks use ISERROR, NA and SIN; the parser learns them from the one table.
    assert _cell("=IF(ISERROR(A1/B1),NA(),A1)", {(1, 1): 3.0}) == "#N/A"
    assert _cell("=IF(ISERROR(A1/B1),NA(),A1)", {(1, 1): 3.0, (1, 2): 2.0}) == 3.0
    assert _cell("=SIN(A1)", {(1, 1): 0.5}) == math.sin(0.5)
    assert _cell("=SQRT(-1)") == "#NUM!"
    assert _cell("=SQRT(-1)", dialect="libreoffice") == "#VALUE!"
    assert _cell("=MAX(1,A1,3)", {(1, 1): 7.0}) == 7.0


def test_unknown_volatile_and_wrong_arity_functions_are_refused_not_guessed():
    from xlgd.core import functions
    from xlgd.xlsx.formula import Unsupported, parse

    assert "NOW" in functions.VOLATILE and "OFFSET" in functions.VOLATILE
    for text in ("=NOW()", "=FOO(1)", "=SQRT(1,2)", "=IF(1)"):  # IF(1,2) is Excel's IF without a third argument
        with pytest.raises(Unsupported):
            parse(text, "s")


def test_engine_helpers_and_exact_evaluator_agree_per_function():
    from xlgd.core import functions

    ns_scalar = functions.numpy_namespace(False, "excel")
    ns_batch = functions.numpy_namespace(True, "excel")
    for f in functions.FUNCTIONS.values():
        if not f.evaluable or f.name in ("NA",) or (f.scalar is None and f.batch is None):
            continue  # exact only: ranges, text, errors caught (see functions.py)
        key = f"_{f.name.lower().replace('.', '_')}"
        assert key in ns_scalar and key in ns_batch, f.name
    for name in ("SQRT", "MAX", "MIN", "IF", "ISERROR", "SIN", "ABS", "EXP", "LN"):  # what compiled code needs
        assert functions.FUNCTIONS[name].scalar is not None and functions.FUNCTIONS[name].batch is not None
    xs = [0.25, 1.5, 9.0]
    for x in xs:
        e = sqrt(Name("v")) + maximum(Name("v"), 2.0) - minimum(Name("v"), 2.0)
        want = excel_value(e, lambda leaf: x)
        src = py(e, lambda leaf: "v")
        assert eval(src, dict(ns_scalar, v=np.float64(x))) == want  # noqa: S307
        batch = eval(src, dict(ns_batch, v=np.array(xs)))  # noqa: S307
        assert batch[xs.index(x)] == want


# ------------------------------------------------------------------ the exact evaluator over arrays
_POOL = [0.0, -0.0, 1.0, -2.5, 3.0, 1e-300, -1e-160, 1e160, -1e200, 1e308, 7.25e-5, 0.1,
         "#NUM!", "#DIV/0!", "#N/A", "#VALUE!"]


def _random_tree(rng, depth):
    from xlgd.core.expr import Bin, Cmp, Fn, Neg

    if depth == 0 or rng.random() < 0.2:
        return Col(rng.choice("abcd")) if rng.random() < 0.8 else Num(rng.choice([0.0, 2.0, -1.5, 1e-308]))
    kind = rng.randrange(6)
    sub = lambda: _random_tree(rng, depth - 1)  # noqa: E731
    if kind == 0:
        return Bin(rng.choice("+-*/"), sub(), sub())
    if kind == 1:
        return Bin("^", sub(), Num(2.0)) if rng.random() < 0.7 else Bin("^", sub(), Num(rng.choice([0.5, -1.0, 3.0])))
    if kind == 2:
        return Neg(sub()) if rng.random() < 0.5 else Cmp(rng.choice("<>"), sub(), sub())
    name = rng.choice(["SQRT", "MAX", "MIN", "IF", "ISERROR", "SIN", "NA", "MAX3"])
    if name == "MAX3":
        return Fn("MAX", (sub(), sub(), sub()))
    n = {"SQRT": 1, "MAX": 2, "MIN": 2, "IF": 3, "ISERROR": 1, "SIN": 1, "NA": 0}[name]
    return Fn(name, tuple(sub() for _ in range(n)))


def _assert_masked_equals_exact(trees, cells, dialect):
    """Each tree through masked_value over the cells as arrays and, element by element, through
    excel_value: the same error or the same double (bit for bit). Returns every exact value met."""
    from xlgd.core.masked import CODE, error_name
    from xlgd.core.masked_tree import masked_value

    n = len(next(iter(cells.values())))
    env_arrays = {k: (np.array([np.nan if isinstance(v, str) else v for v in vs]),
                      np.array([CODE[v] if isinstance(v, str) else 0 for v in vs], np.int8))
                  for k, vs in cells.items()}
    wants = []
    for e in trees:
        vals, codes = masked_value(e, lambda leaf: env_arrays[leaf.name], dialect)
        vals = np.broadcast_to(vals, (n,))
        codes = np.zeros(n, np.int8) if codes is None else np.broadcast_to(codes, (n,))
        for j in range(n):
            want = excel_value(e, lambda leaf: cells[leaf.name][j], dialect)
            got = error_name(int(codes[j])) if codes[j] else float(vals[j])
            if isinstance(want, str):
                assert got == want, (text(e), j)
            else:
                assert isinstance(got, float) and np.float64(got).view(np.int64) == np.float64(want).view(np.int64), \
                    (text(e), j, got, want)
            wants.append(want)
    return wants


@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
def test_masked_value_is_excel_value_for_every_configuration(dialect):
    """The batch engine's evaluator: per element, the same double or the same error as excel_value
    (errors left to right, IF taking one branch, LibreOffice's snap and underflow)."""
    rng = random.Random(15)
    cells = {k: [rng.choice(_POOL) for _ in range(48)] for k in "abcd"}
    wants = _assert_masked_equals_exact((_random_tree(rng, 4) for _ in range(400)), cells, dialect)
    mixed = sum(isinstance(w, str) for w in wants)
    assert mixed > 1000  # the trees meet every kind of error, often


def _random_workbook_tree(rng, depth):
    """Trees as the workbook evaluator meets them (main's semantics): a person's x^2 (parsed), IF
    without a third argument, all six comparisons (of booleans too), literals and more functions."""
    from xlgd.core.expr import Bin, Cmp, Const, Fn, Neg

    if depth == 0 or rng.random() < 0.2:
        r = rng.random()
        if r < 0.75:
            return Col(rng.choice("abcd"))
        if r < 0.9:
            return Num(rng.choice([0.0, 2.0, -1.5, 1e-308, 710.0]))
        return Const(rng.choice([True, False, "#N/A", "#DIV/0!"]))
    sub = lambda: _random_workbook_tree(rng, depth - 1)  # noqa: E731
    kind = rng.randrange(7)
    if kind == 0:
        return Bin(rng.choice("+-*/"), sub(), sub())
    if kind == 1:
        return Bin("^", sub(), Num(2.0), parsed=rng.random() < 0.5)
    if kind == 2:
        return Neg(sub()) if rng.random() < 0.3 else Cmp(rng.choice(["=", "<>", "<", ">", "<=", ">="]), sub(), sub())
    name, n = rng.choice([("IF", 2), ("IF", 3), ("MAX", 3), ("MIN", 1), ("ISERROR", 1), ("SIGN", 1), ("INT", 1),
                          ("EXP", 1), ("LN", 1), ("TANH", 1), ("COS", 1), ("ABS", 1), ("SQRT", 1), ("IFERROR", 2),
                          ("ISNUMBER", 1), ("NOT", 1), ("AND", 2), ("POWER", 2), ("MOD", 2), ("NA", 0)])
    return Fn(name, tuple(sub() for _ in range(n)))


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["excel", "libreoffice"])
def test_masked_value_keeps_the_workbook_evaluators_semantics(dialect):
    """masked_value equals excel_value per element on the trees main's evaluator reads: booleans
    ranked above numbers in comparisons, IF's FALSE, LibreOffice's pow() for a written x^2, errors
    raised inside an operand before an error value beside it, functions without a vectorised form."""
    rng = random.Random(23)
    cells = {k: [rng.choice(_POOL + [0.7, -0.0, 1.3]) for _ in range(40)] for k in "abcd"}
    wants = _assert_masked_equals_exact((_random_workbook_tree(rng, 4) for _ in range(500)), cells, dialect)
    kinds = {"error": 0, "bool": 0, "number": 0}
    for want in wants:
        kinds["error" if isinstance(want, str) else "bool" if isinstance(want, bool) else "number"] += 1
    assert min(kinds.values()) > 1000, kinds

"""Jeremy Howard's own graddesc sheets, described with the core's columns.

graddesc.xlsm (fast.ai; ../shared/reference/graddesc-layout.md) lays out
every optimiser sheet on a fixed grid: parameters in rows 1-2, headers in
row 3, 29 SGD steps in rows 4-32. Each sheet is recognised by its name and
its row-3 headers, then described as

* `expected`: the formula every computed cell should hold, taken from the
  layout reference (row 5's formula; rows 4..32 must match it in R1C1
  form, as Excel's inconsistent-formula rule has it) plus the few special
  cells (row 4 reading C1/C2, the carried state `=J33`, `=1-J1`);
* `columns`: which core column (`core/sheet.build_sheet` names) each letter
  holds, so the engine's run from the sheet's own start values (C1, C2,
  row-3 state, lr, betas) is compared cell by cell -- the engine reproduces
  every cached value of graddesc-2018.xlsm bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.engine import run
from ..core.sheet import build_sheet
from ..xlsx.refs import a1, shift, split_ref
from .listed_cells import check_cells, group
from .report import fmt_value

FIRST, LAST = 4, 32  # step rows

_COMMON = {"C": "=H4", "D": "=I4", "E": "=C5+D5*A5", "F": "=2*(D5*A5+C5-B5)", "G": "=F5*A5"}


class LayoutMismatch(Exception):
    """A sheet named like one of graddesc's whose cells are not laid out like it (the reason says where)."""


@dataclass
class GSheet:
    kind: str  # basic, momentum, rmsprop, adam, adam_ann
    optimizer: str
    columns: dict  # letter -> core column name
    row5: dict  # letter -> formula on row 5
    special: dict  # A1 -> formula
    knobs: dict  # knob -> A1 cell holding it
    start: dict  # core column -> A1 cell holding its start value
    headers: dict = field(default_factory=dict)  # A1 -> header text expected
    optional: tuple = ()  # columns older copies do not have (momentum's err^2, added in 2018)

    def without(self, letters) -> "GSheet":
        """The layout without some optional columns."""
        return GSheet(self.kind, self.optimizer, {k: v for k, v in self.columns.items() if k not in letters},
                      {k: v for k, v in self.row5.items() if k not in letters}, self.special, self.knobs,
                      self.start, self.headers, ())

    def expected(self):
        """(A1 cell, expected formula) for every computed cell, in evaluation order."""
        out = list(self.special.items())
        for r in range(FIRST, LAST + 1):
            for letter, f in self.row5.items():
                text = self.special_row4.get(letter) if r == FIRST else None
                out.append((f"{letter}{r}", text or _shift_rows(f, r - 5)))
        return out

    @property
    def special_row4(self):
        return {"C": "=C1", "D": "=C2"}


def _shift_rows(f, row_shift):
    return "=" + shift(f.lstrip("="), row_shift, 0)


_XY = {"A3": "x", "B3": "y"}

LAYOUTS = {
    "basic": GSheet(
        "basic", "sgd",
        {"C": "b", "D": "a", "E": "pred", "F": "err", "G": "eh_b", "H": "est_b", "I": "eh_a", "J": "est_a",
         "K": "g_b", "L": "g_a", "M": "new_a", "N": "new_b"},
        {"C": "=N4", "D": "=M4", "E": "=C5+D5*A5", "F": "=(B5-E5)^2", "G": "=(((C5+0.01)+A5*D5)-B5)^2",
         "H": "=(G5-F5)/0.01", "I": "=(((D5+0.01)*A5+C5)-B5)^2", "J": "=(I5-F5)/0.01", "K": "=2*(E5-B5)",
         "L": "=K5*A5", "M": "=D5-L5*$F$1", "N": "=C5-K5*$F$1"},
        {}, {"lr": "F1"}, {"new_b": "C1", "new_a": "C2"}, dict(_XY)),
    "momentum": GSheet(
        "momentum", "momentum",
        {"C": "b", "D": "a", "E": "pred", "F": "g_b", "G": "g_a", "H": "new_b", "I": "new_a", "J": "m_b",
         "K": "m_a", "L": "err"},
        dict(_COMMON, H="=C5-J5*$D$2", I="=D5-K5*$D$2", J="=J4*$J$1+$K$1*F5", K="=K4*$J$1+$K$1*G5",
             L="=(B5-E5)^2"),
        {"K1": "=1-J1", "J3": "=J33", "K3": "=K33"}, {"lr": "D2", "beta1": "J1"},
        {"new_b": "C1", "new_a": "C2", "m_b": "J3", "m_a": "K3"}, dict(_XY), ("L",)),
    "rmsprop": GSheet(
        "rmsprop", "rmsprop",
        {"C": "b", "D": "a", "E": "pred", "F": "g_b", "G": "g_a", "H": "new_b", "I": "new_a", "J": "v_b",
         "K": "v_a"},
        dict(_COMMON, H="=C5-F5*$D$2/SQRT(J4)", I="=D5-G5*$D$2/SQRT(K4)", J="=J4*$J$1+$K$1*F5^2",
             K="=K4*$J$1+$K$1*G5^2"),
        {"K1": "=1-J1", "J3": "=J33", "K3": "=K33"}, {"lr": "D2", "beta2": "J1"},
        {"new_b": "C1", "new_a": "C2", "v_b": "J3", "v_a": "K3"}, dict(_XY)),
}
for _k in ("adam", "adam_ann"):
    LAYOUTS[_k] = GSheet(
        _k, "adam",
        {"C": "b", "D": "a", "E": "pred", "F": "g_b", "G": "g_a", "H": "new_b", "I": "new_a", "J": "m_b",
         "K": "m_a", "L": "v_b", "M": "v_a"},
        dict(_COMMON, H="=C5-J5*$D$2/SQRT(L5)", I="=D5-K5*$D$2/SQRT(M5)", J="=J4*$J$1+$K$1*F5",
             K="=K4*$J$1+$K$1*G5", L="=L4*$L$1+$M$1*F5^2", M="=M4*$L$1+$M$1*G5^2"),
        {"K1": "=1-J1", "M1": "=1-L1", "J3": "=J33", "K3": "=K33", "L3": "=L33", "M3": "=M33"},
        {"lr": "D2", "beta1": "J1", "beta2": "L1"},
        {"new_b": "C1", "new_a": "C2", "m_b": "J3", "m_a": "K3", "v_b": "L3", "v_a": "M3"}, dict(_XY))

SHEET_NAMES = {"basic": "basic", "basic sgd": "basic", "momentum": "momentum", "rmsprop": "rmsprop",
               "adam": "adam", "adam_ann": "adam_ann"}


def recognise(name: str, cells: dict) -> GSheet | None:
    """The layout of a sheet named like one of graddesc's, if its headers agree.

    cells: {A1: value} of the sheet (only row 3 is looked at).
    """
    kind = SHEET_NAMES.get(name.strip().lower())
    if kind is None:
        return None
    g = LAYOUTS[kind]
    for ref, text in g.headers.items():
        v = cells.get(ref)
        if not isinstance(v, str) or v.strip().lower() != text:
            return None
    return g


def build_spec(sheet_layout: GSheet, knob_values: dict):
    """The core SheetSpec whose engine run is this sheet (29 rows, one epoch)."""
    knobs = dict(knob_values)
    if sheet_layout.kind == "basic":
        knobs["h"] = 0.01  # the literal forward-difference step in G and I
    return build_sheet("linear", sheet_layout.optimizer, "graddesc", n_data=LAST - FIRST + 1, epochs=1, knobs=knobs,
                       name=sheet_layout.kind)


MISMATCH_CELLS = 10  # more cells than this not holding their layout's formula: the layout does not match


def present_columns(ctx, name, sheet_layout: GSheet) -> GSheet:
    """sheet_layout without the optional columns this copy of the sheet does not have (all their step cells empty)."""
    grid = ctx.grid(name)
    gone = [L for L in sheet_layout.optional
            if all(grid.get((r, split_ref(f"{L}1")[1])) is None for r in range(FIRST, LAST + 1))]
    return sheet_layout.without(gone) if gone else sheet_layout


def check_graddesc_sheet(ctx, name, sheet_layout: GSheet, rep):
    """Every computed cell of one of Jeremy's sheets: structure, consistency, and the engine's run
    from the sheet's own knobs, start values and data. Raises LayoutMismatch when the sheet is only
    named like one of graddesc's (a knob cell not holding a number, many cells not its formulas).
    Returns the cells it covered."""
    val = lambda ref: ctx.value(name, *split_ref(ref)[:2])  # noqa: E731
    knobs = {}
    for k, ref in sheet_layout.knobs.items():
        v = val(ref)
        if not isinstance(v, float):
            raise LayoutMismatch(f"{ref}, where graddesc keeps {k}, holds {fmt_value(v)}, not a number")
        knobs[k] = v
    spec = build_spec(sheet_layout, knobs)
    start = {col: val(ref) for col, ref in sheet_layout.start.items()}
    x = np.array([val(f"A{r}") for r in range(FIRST, LAST + 1)], dtype=object)
    y = np.array([val(f"B{r}") for r in range(FIRST, LAST + 1)], dtype=object)
    bad = [v for v in list(x) + list(y) + list(start.values()) if not isinstance(v, float)]
    engine_values = None
    if bad:
        rep.notes.append("the data or start cells hold non-numbers; trajectory not checked")
    else:
        res = run(spec, x.astype(float), y.astype(float), start={k: v for k, v in start.items()},
                  dialect=ctx.dialect)
        engine_values = {}
        for letter, col in sheet_layout.columns.items():
            c = split_ref(f"{letter}1")[1]
            for i in range(spec.n_steps):
                engine_values[(FIRST + i, c)] = res.value(col, i)
    items = []
    for ref, text in sheet_layout.expected():
        r, c, _, _ = split_ref(ref)
        items.append((r, c, text))
    found = check_cells(ctx, name, items, rep, engine_values)
    if len(found.structure) > MISMATCH_CELLS:
        first = min(found.structure)
        raise LayoutMismatch(f"{len(found.structure)} cells do not hold graddesc's formulas (from "
                             f"{a1(*first)}: {found.structure[first][1]})")
    group(name, rep, found, lambda k: k[0])
    return {(r, c) for r, c, _ in items}

"""Cell formats, and the conditional formats of a step table: stability colours and big numbers.

From |value| >= BIG a conditional format switches a cell to 0.00E+00, so every double fits an
11-character column (a number format with sections would lose the minus sign in one of Excel and
LibreOffice). On sheets with `stability = true` a row past its optimiser's bound is orange, and red
when its err^2 overflowed or grew tenfold on a second row past the bound in a row. One list of
rules per range, red, orange, then big numbers, each with stopIfTrue, and ranges that never
overlap: LibreOffice applies only the first true rule of one range.
"""

from __future__ import annotations

from ..core.expr import excel
from ..core.optimizers import get_optimizer
from ..core.stability import STAB
from ..xlsx.refs import col_letter

BIG = 1e5
SCIENTIFIC = "0.00E+00"
ORANGE, RED = "#FCE4D6", "#F8696B"


class Formats:
    """The workbook's cell formats, made once each (XlsxWriter keeps one per add_format call)."""

    def __init__(self, workbook):
        self.wb = workbook
        self._cache = {}
        self.title = workbook.add_format({"bold": True, "font_size": 13})
        self.label = workbook.add_format({"bold": True, "font_color": "#1F4E79", "align": "center"})
        self.header = workbook.add_format({"bold": True, "bottom": 1, "align": "center", "text_wrap": True})
        self.hint = workbook.add_format({"italic": True, "font_color": "#595959"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.bold = workbook.add_format({"bold": True})
        self.bold_top = workbook.add_format({"bold": True, "valign": "top"})

    def num(self, fmt, kind="cell"):
        key = (fmt, kind)
        if key not in self._cache:
            props = {"num_format": fmt}
            if kind == "input":
                props.update({"bg_color": "#FFF2CC", "border": 1, "font_color": "#1F4E79", "bold": True})
            elif kind == "start":
                props.update({"italic": True, "font_color": "#7F7F7F"})
            elif kind == "epoch":
                props.update({"bg_color": "#EAF1DD"})
            elif kind == "top":  # beside wrapped text, which starts at the top of its row
                props.update({"valign": "top", "align": "left"})
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def conditional(self, fill=None, big=False):
        """A conditional format's look: a fill (ORANGE, RED), scientific notation, or both."""
        key = ("cf", fill, big)
        if key not in self._cache:
            props = {"num_format": SCIENTIFIC} if big else {}
            if fill == RED:
                props.update({"bg_color": RED, "font_color": "#FFFFFF", "bold": True})
            elif fill:
                props["bg_color"] = fill
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


# ------------------------------------------------------------ conditional formats
def big_number(cell: str) -> str:
    """The condition under which `cell` (the range's top-left cell, relative) shows in scientific notation."""
    return f"ABS({cell})>={BIG:.0f}"


def colour_conditions(lay) -> list:
    """[(condition, fill)] of a stability sheet's step rows, red first; row-relative, on its first step row."""
    spec = lay.spec
    first = lay.step_row(0)
    s, e = f"${lay.letter(STAB)}", f"${lay.letter('err')}"
    limit = excel(get_optimizer(spec.optimizer).bound(), lambda leaf: leaf.name)
    past = f"AND(ISNUMBER({s}{first}),{s}{first}>{limit})"
    # The row above the first step is the start row: no stab, no err, so ISNUMBER is false there.
    runaway = (f"AND(ISNUMBER({s}{first}),{s}{first}>{limit},ISNUMBER({s}{first - 1}),{s}{first - 1}>{limit},"
               f"ISNUMBER({e}{first}),ISNUMBER({e}{first - 1}),{e}{first}>10*{e}{first - 1})")
    return [(f"IF(ISERROR({e}{first}),TRUE,{runaway})", RED), (past, ORANGE)]


def add_rules(sheet, formats, cells, colours=(), big_cell=None):
    """One range's rules in priority order, each stopping the ones after it (see the module doc).

    rng: (first row, first col, last row, last col), 0-based; big_cell: its top-left cell (A1) when big
    numbers switch to scientific notation there."""
    rules = []
    for cond, fill in colours:
        if big_cell:
            rules.append((f"AND({cond},{big_number(big_cell)})", formats.conditional(fill, big=True)))
        rules.append((cond, formats.conditional(fill)))
    if big_cell:
        rules.append((big_number(big_cell), formats.conditional(big=True)))
    for cond, fmt in rules:
        sheet.conditional_format(*cells, {"type": "formula", "criteria": "=" + cond, "format": fmt,
                                     "stop_if_true": True})


def add_step_table_rules(sheet, formats, layout):
    """The step table's colours (stability sheets) and big numbers; the epoch block's big numbers."""
    spec = layout.spec
    if spec.n_steps < 1:
        return
    top, bottom = layout.step_row(0) - 1, layout.step_row(spec.n_steps - 1) - 1
    colours = colour_conditions(layout) if spec.stability and STAB in layout.col_index else ()
    # step, epoch, x, y: counters and data, never big; from the first weight on anything can explode.
    split = layout.col_index[spec.params[0]]
    add_rules(sheet, formats, (top, 0, bottom, split - 1), colours)
    add_rules(sheet, formats, (top, split, bottom, len(spec.columns) - 1), colours, f"{col_letter(split)}{top + 1}")
    cols = sorted(layout.epoch_index.values())
    r0 = layout.epoch_row(0)
    add_rules(sheet, formats, (r0 - 1, cols[0], layout.epoch_row(spec.epochs - 1) - 1, cols[-1]), (),
              f"{col_letter(cols[0])}{r0}")

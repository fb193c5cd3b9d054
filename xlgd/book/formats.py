"""Cell formats, and the stability colouring of a step table (conditional formats).

The colouring reads each sheet's optimiser's declared bound (`optimizers.py`),
so a new optimiser is coloured right without a line here.
"""

from __future__ import annotations

from ..core.expr import excel
from ..core.optimizers import get_optimizer
from ..core.stability import STAB


class Formats:
    """The workbook's cell formats, made once each (XlsxWriter keeps one per add_format call)."""

    def __init__(self, wb):
        self.wb = wb
        self._cache = {}
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.label = wb.add_format({"bold": True, "font_color": "#1F4E79", "align": "center"})
        self.header = wb.add_format({"bold": True, "bottom": 1, "align": "center", "text_wrap": True})
        self.hint = wb.add_format({"italic": True, "font_color": "#595959"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True})

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
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


# ------------------------------------------------------------ conditional formats
def add_conditional_formats(wb, ws, lay):
    """Colour rows past the stability bound, and errors that grew tenfold in one step."""
    spec = lay.spec
    if spec.n_steps < 1 or STAB not in lay.col_index:
        return
    first, last = lay.step_row(0), lay.step_row(spec.n_steps - 1)
    ncol = len(spec.columns)
    stab = f"${lay.letter(STAB)}{first}"
    limit = excel(get_optimizer(spec.optimizer).bound(), lambda leaf: leaf.name)
    past = wb.add_format({"bg_color": "#FCE4D6"})
    grew = wb.add_format({"bg_color": "#F8696B", "font_color": "#FFFFFF", "bold": True})
    rng = (first - 1, 0, last - 1, ncol - 1)
    ws.conditional_format(*rng, {"type": "formula", "criteria": f"=AND(ISNUMBER({stab}),{stab}>{limit})",
                                 "format": past})
    e = lay.letter("err")
    # The first step's row above is the start row, which has no err: ISNUMBER guards it.
    ws.conditional_format(first - 1, lay.col_index["err"], last - 1, lay.col_index["err"],
                          {"type": "formula",
                           "criteria": f"=AND(ISNUMBER({e}{first}),ISNUMBER({e}{first - 1}),"
                                       f"{e}{first}>10*{e}{first - 1})",
                           "format": grew, "stop_if_true": False})
    err_first = f"${e}{first}"
    ws.conditional_format(*rng, {"type": "formula", "criteria": f"=ISERROR({err_first})", "format": grew})

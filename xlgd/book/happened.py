"""What happened on a sheet, said where the learner looks: beside the inputs, and on intro.

The facts come computed (`recipe.facts.SheetFacts`, from `compute`'s Results);
this module only words them. Where a fact can follow an edit it is a formula:
on a sheet with the stability columns, "exploded at step" links the last row
of the "exploded at" column, so a new lr shows its own step (or "never").
The sentences beside it are text: they say what the generated run did, at
the lr it was generated with.
"""

from __future__ import annotations

from ..core.stability import BOOM
from ..layout import INPUT_ROW, LABEL_ROW, Layout
from ..xlsx.refs import col_letter

NEVER = '0;-0;"never"'


def happened_text(spec, facts, hint: str = "") -> str:
    """The sentences for one sheet, "" when nothing went wrong (or nothing is known)."""
    if facts is None:
        return ""
    out = []
    if facts.exploded is not None:
        out.append(f"err^2 exploded at step {facts.exploded} (it overflowed or passed explode_at). "
                   f"{hint or 'Try a smaller lr: a third of it, or less.'}")
    if facts.dead is not None:
        out.append(f"The ReLU unit died at step {facts.dead}: its input a*x + b is <= 0 on every row since, so it "
                   "passes nothing on, a and b get no gradient, and the fit is the flat line d.")
    if facts.lost_h:
        first = min(facts.lost_h.values())
        names = ", ".join(f"de/d{w}" for w in facts.lost_h)
        out.append(f"From step {first} the forward-difference estimates {names} are 0: the weights are so large "
                   f"that w + h rounds to w (h is lost), so those weights stop moving.")
    if not out:
        return ""
    lr = spec.input_values().get("lr")
    return (f"As generated (lr {lr:g}): " if lr is not None else "As generated: ") + " ".join(out)


def exploded_cell(lay: Layout) -> str | None:
    """The sheet's "exploded at step" cell (beside its inputs), None on a sheet without the stability columns."""
    if BOOM not in lay.col_index:
        return None
    return f"${col_letter(len(lay.spec.inputs) + 1)}${INPUT_ROW}"


def write_happened(worksheet, formats, lay: Layout, facts, hint: str = "", row: int = LABEL_ROW) -> None:
    """Two columns right of the inputs, one row of them (the writer goes row by row: LABEL_ROW, then
    INPUT_ROW): "exploded at step" (a live formula where the sheet has the stability columns), then
    "what happened" in words."""
    spec = lay.spec
    col = len(spec.inputs) + 1
    if exploded_cell(lay) is not None and facts is not None:
        if row == LABEL_ROW:
            worksheet.write_string(row - 1, col, "exploded at step", formats.label)
        else:
            worksheet.write_formula(row - 1, col, f"={lay.cell(BOOM, spec.n_steps - 1)}", formats.num(NEVER),
                                    float(facts.exploded or 0))
        col += 2
    text = happened_text(spec, facts, hint)
    if text and row == LABEL_ROW:
        worksheet.write_string(row - 1, col, "what happened", formats.label)
    elif text:
        worksheet.write_string(row - 1, col, text, formats.hint)

"""`xlgd diff` aligns what moved: rows deleted at the top, rows inserted (filled down, or naively),
columns added, sheets renamed and edited -- each one change, and every other change still found."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import openpyxl
import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe
from xlgd.xlsx import refs


def xdiff(*args, json_out=True):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["diff", *map(str, args), *(["--json"] if json_out else [])])
    return rc, (json.loads(out.getvalue()) if json_out else out.getvalue())


def of(rep, kind):
    return [c for c in rep["changes"] if c["kind"] == kind]


def own_formula(ref, text):
    """Type a formula into a cell (a shared formula's member becomes a formula of its own)."""
    def fn(root):
        f = E.cell(root, ref).find(E.S + "f")
        f.attrib.clear()
        f.text = text
    return E.xml_edit(fn)


def like_2016(reference, out):
    """Jeremy's 2016 graddesc rebuilt from the 2018 file, the way 2018 differs from it: the data
    sheet has a title row on top (and `y=a*x + b` as its header), `basic` is `basic SGD` and
    `Sheet1` is `Intro` (with two more lines), momentum has no err^2 column, and adam_ann!J5
    reads the adam sheet -- the slip 2018 fixed."""
    def names(root):
        for dn in root.iter(E.S + "definedName"):
            if dn.text and dn.text.startswith("momentum!") and "#REF!" not in dn.text:
                dn.text = E.move_refs(dn.text, lambda s: s == "momentum", cols=(12, -1))

    intro = E.chain(E.put_text("A31", "adagrad:"), E.put_text("B31", "Adapts the learning rate per weight"),
                    E.put_text("A32", "eve:"), E.put_text("B32", "Modifies learning rate based on recent volatility"))
    return E.rewrite(reference, out, {
        E.sheet_part(reference, "data"): E.chain(E.insert_row(1), E.put_text("A1", "weights:"),
                                                 E.put_text("C5", "y=a*x + b")),
        E.sheet_part(reference, "Sheet1"): intro,
        E.sheet_part(reference, "momentum"): E.delete_column(12),
        E.sheet_part(reference, "adam_ann"): E.chain(E.unshare(), own_formula("J5", "adam!J4*$J$1+$K$1*F5")),
        "xl/workbook.xml": E.chain(E.rename_sheet("basic", "basic SGD"), E.rename_sheet("Sheet1", "Intro"),
                                   E.xml_edit(names)),
        r"xl/charts/chart\d+\.xml": E.chart_refs(lambda t: t.replace("basic!", "'basic SGD'!")),
    })


@pytest.mark.graddesc
def test_jeremys_2016_to_2018(reference_xlsm, tmp_path):
    old = like_2016(reference_xlsm, tmp_path / "graddesc-2016.xlsm")
    rc, rep = xdiff(reference_xlsm, old)
    assert rc == 1
    ch = rep["changes"]
    # The one real fix comes first, with what differs in both forms.
    assert (ch[0]["kind"], ch[0]["sheet"], ch[0]["cell"]) == ("formula_changed", "adam_ann", "J5")
    assert ch[0]["differs"] == [["adam!", ""]] and ch[0]["differs_r1c1"] == [["adam!R[-1]C", "R[-1]C"]]
    assert (ch[0]["old_r1c1"], ch[0]["new_r1c1"]) == ("=adam!R[-1]C*R1C10+R1C11*RC[-4]", "=R[-1]C*R1C10+R1C11*RC[-4]")
    assert len(of(rep, "formula_changed")) == 1
    # The data sheet lost its top row: one change, no false input or formula changes.
    assert [(c["cell"], c["old"], c["new"]) for c in of(rep, "text_changed")] == [("C4", "y=a*x + b", "y")]
    assert not of(rep, "input_changed")
    # momentum's err^2 column is one change; the renamed sheets are found by content, Intro edited too.
    assert [(c["sheet"], c["column"], c["header"]) for c in of(rep, "column_added")] == [("momentum", "L", "err^2")]
    assert not of(rep, "cell_added")
    assert sorted((c["old"], c["new"]) for c in of(rep, "sheet_renamed")) == [("Intro", "Sheet1"),
                                                                           ("basic SGD", "basic")]
    assert [(c["sheet"], c["ref_rows"]) for c in of(rep, "rows_deleted")] == [("Sheet1", "31:32"), ("data", "1:1")]
    assert not of(rep, "sheet_added") and not of(rep, "sheet_removed")
    assert not of(rep, "chart_series_changed") and not of(rep, "defined_name_changed")
    # The edits' cached values were not recalculated: nothing else differs.
    assert [c["kind"] for c in ch] == ["formula_changed", "text_changed", "sheet_renamed", "sheet_renamed",
                                       "rows_deleted", "rows_deleted", "column_added"]
    rc, text = xdiff(reference_xlsm, old, json_out=False)
    assert text.splitlines()[4].startswith("  adam_ann!J5: formula changed: =adam!J4*$J$1+$K$1*F5 -> =J4*$J$1+$K$1*F5")

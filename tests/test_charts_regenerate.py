"""`xlgd charts regenerate`: xlgd's own charts come back after a person deleted or broke them."""

import re
import shutil
import zipfile

import pytest

from tests.test_charts_helpers import (
    build_book,
    cli_main,
    generate_graddesc,
    members,
    soffice_convert,
)
from xlgd.charts.model import read_charts
from xlgd.xlsx.package import Package

pytest.importorskip("xlgd.book.write")
pytest.importorskip("xlgd.recipe.template")


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate_graddesc(tmp_path_factory.mktemp("gen") / "gd.xlsx", epochs=1)


def charts_of(path, sheet):
    """{title: [(role, formula) per series]} of one sheet's charts."""
    with Package.open(path) as b:
        return {ch.title: [(s.values.formula, s.cats.formula, s.cats.role) for s in ch.series]
                for ch in read_charts(b) if ch.sheet == sheet}


def rewrite(src, dst, edit):
    """Copy a zip applying edit(name, bytes) -> bytes or None (drop the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return dst


def sheet_parts(path, sheet):
    with Package.open(path) as b:
        part = b.sheet_part(sheet)
        rels = b.rels(part)
        drawing = next(p for t, p in rels.values() if t == "drawing")
        charts = [p for t, p in b.rels(drawing).values() if t == "chart"]
    return part, drawing, charts


def delete_all_charts(src, dst, sheet):
    """What Excel leaves when every chart of a sheet is deleted: no drawing at all."""
    part, drawing, charts = sheet_parts(src, sheet)
    gone = {drawing, drawing.replace("drawings/", "drawings/_rels/") + ".rels", *charts}
    rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"

    def edit(name, data):
        if name in gone:
            return None
        if name == part:
            return re.sub(rb"<drawing [^>]*/>", b"", data)
        if name == rels_name:
            return re.sub(rb"<Relationship [^>]*drawing[^>]*/>", b"", data)
        if name == "[Content_Types].xml":
            for p in gone:
                data = re.sub(rb'<Override PartName="/' + re.escape(p.encode()) + rb'"[^>]*/>', b"", data)
            return data
        return data
    return rewrite(src, dst, edit)


@pytest.mark.slow
def test_untouched_workbook_is_left_alone(generated, tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    rc, text, _ = run(capsys, "charts", "regenerate", str(generated), "-o", str(out))
    assert rc == 0 and "nothing written" in text and not out.exists()


@pytest.mark.slow
def test_deleted_charts_come_back(generated, tmp_path, capsys):
    import os
    import stat
    broken = delete_all_charts(generated, tmp_path / "broken.xlsx", "momentum")
    assert charts_of(broken, "momentum") == {}
    broken.chmod(0o640)
    out = tmp_path / "out.xlsx"
    rc, text, _ = run(capsys, "charts", "regenerate", str(broken), "-o", str(out))
    assert rc == 0, text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640      # the input's permission bits
    assert charts_of(out, "momentum") == charts_of(generated, "momentum")
    assert len(charts_of(out, "momentum")) == 5  # book/charts.py chart_specs

    before, after = dict(members(broken)), dict(members(out))
    assert [n for n, _ in members(out)][: len(before)] == list(before)
    part, _, _ = sheet_parts(generated, "momentum")
    allowed = {"[Content_Types].xml", part, part.replace("worksheets/", "worksheets/_rels/") + ".rels"}
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= allowed and part in changed
    # The sheet got exactly one <drawing> element and nothing else.
    assert re.sub(rb"<drawing [^>]*/>", b"", after[part]) == before[part]
    added = set(after) - set(before)
    assert all(re.match(r"xl/(charts/chart\d+|drawings/(_rels/)?drawing\d+)\.xml(\.rels)?$", n) for n in added)
    with Package.open(out) as b:
        assert not any(iss for _, iss in __import__("xlgd.charts.check").charts.check.check_book(b))


@pytest.mark.slow
def test_broken_and_missing_chart_on_a_sheet_with_charts(generated, tmp_path, capsys):
    _, drawing, charts = sheet_parts(generated, "basic")
    first, second = charts[0], charts[1]
    with Package.open(generated) as b:
        titles = {ch.part: ch.title for ch in read_charts(b)}
    drel = drawing.replace("drawings/", "drawings/_rels/") + ".rels"

    def edit(name, data):
        if name == first:   # x values pointed at the data x (step rows 7.., column C), axes hidden
            data = re.sub(rb"(<c:xVal>.*?<c:f>[^<]*!)\$A\$(\d+):\$A\$", rb"\1$C$\2:$C$", data, flags=re.DOTALL)
            return data.replace(b'<c:delete val="0"/>', b'<c:delete val="1"/>')
        if name == second:
            return None
        if name == drel:
            rid = re.search(rb'Id="(rId\d+)"[^>]*' + re.escape(second.rsplit("/", 1)[1].encode()), data).group(1)
            data = re.sub(rb'<Relationship Id="' + rid + rb'"[^>]*/>', b"", data)
            edit.rid = rid
            return data
        return data
    edit.rid = None
    broken = rewrite(generated, tmp_path / "broken.xlsx", edit)
    # drop the anchor that pointed at the removed chart
    rewrite(broken, tmp_path / "broken2.xlsx", lambda n, d: re.sub(
        rb"<xdr:twoCellAnchor>(?:(?!</xdr:twoCellAnchor>).)*r:id=\"" + edit.rid + rb"\".*?</xdr:twoCellAnchor>",
        b"", d, flags=re.DOTALL) if n == drawing else d)
    broken = tmp_path / "broken2.xlsx"
    rc, _, _ = run(capsys, "charts", "check", str(broken))
    assert rc == 1
    assert titles[second] not in charts_of(broken, "basic")

    out = tmp_path / "out.xlsx"
    rc, text, _ = run(capsys, "charts", "regenerate", str(broken), "-o", str(out))
    assert rc == 0, text
    assert charts_of(out, "basic") == charts_of(generated, "basic")
    before, after = dict(members(broken)), dict(members(out))
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {first, drawing, drel, "[Content_Types].xml"} and first in changed
    for sheet in ("momentum", "rmsprop", "adam", "adam_ann"):
        for p in sheet_parts(broken, sheet)[2]:
            assert after[p] == before[p]


def test_regenerate_needs_an_xlgd_workbook(tmp_path, capsys):
    book = build_book(tmp_path / "other.xlsx")
    rc, _, err = run(capsys, "charts", "regenerate", str(book))
    assert rc == 2 and "charts fix" in err and err.count("\n") == 1


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_draws_regenerated_charts(generated, tmp_path, capsys):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    broken = delete_all_charts(generated, tmp_path / "broken.xlsx", "momentum")
    out = tmp_path / "out.xlsx"
    run(capsys, "charts", "regenerate", str(broken), "-o", str(out))
    conv = tmp_path / "lo"
    conv.mkdir()
    assert soffice_convert(out, "pdf", conv).read_bytes().startswith(b"%PDF")
    rc, text, _ = run(capsys, "charts", "render", str(out), "-o", str(tmp_path / "png"))
    assert rc == 0
    pngs = sorted(p.name for p in (tmp_path / "png").glob("momentum-*.png"))
    assert len(pngs) == 5

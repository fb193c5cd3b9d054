"""Workbooks with broken charts, built for the `xlgd charts` tests.

Each chart is made with XlsxWriter and then, where XlsxWriter cannot
express the fault (typed categories), its XML is edited inside the zip,
the way a person's workbook ends up after pasting values into the
"Horizontal (Category) Axis Labels" box.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import xlsxwriter

from xlgd.xlsx.refs import col_letters, col_number

REPO = Path(__file__).resolve().parents[1]

# The graddesc x column, starting where the example does.
X = [99, 14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 13, 21, 28, 20, 8, 64, 99, 70,
     27, 17, 8]
FIRST, LAST = 4, 4 + len(X) - 1          # data rows on the sgd sheet, 1-based
FORUM_X = list(range(-80, 121, 10))       # the forum learner's evenly spaced x
# The step of a table's first row when it shows a later epoch: its step numbers are not the 1..n an
# unlinked axis shows, so a missing link draws a wrong axis.
LATER_STEP = 30

# Where each chart's x cells are, by chart title (what the fix must link to).
EXPECTED_X = {
    "typed categories": f"data!$A$2:$A${1 + len(FORUM_X)}",
    "numLit categories": f"data!$A$2:$A${1 + len(FORUM_X)}",
    "loss by step": f"sgd!$C${FIRST}:$C${LAST}",
    "pred over x": f"sgd!$A${FIRST}:$A${LAST}",
    "hidden axes": f"sgd!$C${FIRST}:$C${LAST}",
    "short categories": f"sgd!$C${FIRST}:$C${LAST}",
    "stale cache": f"sgd!$C${FIRST}:$C${LAST}",
    "no cache": f"sgd!$C${FIRST}:$C${LAST}",
}
EXPECTED_CODES = {
    "typed categories": {"literal-data"},
    "numLit categories": {"literal-data"},
    "loss by step": {"no-categories"},
    "pred over x": {"line-over-uneven-x"},
    "hidden axes": {"hidden-axis"},
    "short categories": {"length-mismatch"},
    "stale cache": {"stale-cache"},
    "no cache": {"missing-cache"},
}


def vba_bytes() -> bytes:
    """A vbaProject.bin part: an OLE compound-file header and a marker, not
    a runnable project. xlgd never reads the part, only copies it byte for
    byte, so these bytes test that as well as real macros would (Jeremy's
    real ones are in the graddesc-marked test_charts_graddesc.py)."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"xlgd test macros".ljust(504, b"\0")


def build_book(path: Path) -> Path:
    """An .xlsm (or .xlsx) with one chart per fault, a button, a comment and formulas."""
    wb = xlsxwriter.Workbook(str(path))
    macros = path.suffix == ".xlsm"  # a macro workbook, with or without the reference shelf
    if macros:
        wb.add_vba_project(io.BytesIO(vba_bytes()), is_stream=True)
    bold = wb.add_format({"bold": True})

    data = wb.add_worksheet("data")
    data.write_row(0, 0, ["x", "y"], bold)
    for i, x in enumerate(FORUM_X):
        data.write_number(i + 1, 0, x)
        data.write_formula(i + 1, 1, f"=2*A{i + 2}+30", None, 2 * x + 30)
    data.write_comment("A1", "x chosen evenly from -80 to 120")

    sgd = wb.add_worksheet("sgd")
    sgd.write("A1", "learning rate")
    sgd.write_number("B1", 0.0001)
    sgd.write_row(FIRST - 2, 0, ["x", "y", "step", "err^2", "pred"], bold)
    for i, x in enumerate(X):
        r = FIRST + i
        pred = 1.5 * x + 20 + i
        sgd.write_number(r - 1, 0, x)
        sgd.write_formula(r - 1, 1, f"=2*A{r}+30", None, 2 * x + 30)
        sgd.write_number(r - 1, 2, i + LATER_STEP)
        sgd.write_formula(r - 1, 3, f"=(B{r}-E{r})^2", None, (2 * x + 30 - pred) ** 2)
        sgd.write_number(r - 1, 4, pred)
    if macros:
        sgd.insert_button("H1", {"macro": "reset", "caption": "Reset"})

    def line(title, values, categories=None, hide=False):
        ch = wb.add_chart({"type": "line"})
        s = {"values": values, "name": title, "marker": {"type": "circle"}}
        if categories:
            s["categories"] = categories
        ch.add_series(s)
        ch.set_title({"name": title})
        if hide:
            ch.set_x_axis({"visible": False})
            ch.set_y_axis({"visible": False})
        return ch

    n = 1 + len(FORUM_X)
    data.insert_chart("D2", line("typed categories", f"=data!$B$2:$B${n}", f"=data!$A$2:$A${n}"))
    data.insert_chart("D20", line("numLit categories", f"=data!$B$2:$B${n}", f"=data!$A$2:$A${n}"))
    sgd.insert_chart("G3", line("loss by step", f"=sgd!$D${FIRST}:$D${LAST}"))
    sgd.insert_chart("G20", line("pred over x", f"=sgd!$E${FIRST}:$E${LAST}", f"=sgd!$A${FIRST}:$A${LAST}"))
    sgd.insert_chart("G37", line("hidden axes", f"=sgd!$D${FIRST}:$D${LAST}", f"=sgd!$C${FIRST}:$C${LAST}",
                                 hide=True))
    sgd.insert_chart("G54", line("short categories", f"=sgd!$D${FIRST}:$D${LAST}", f"=sgd!$C${FIRST}:$C${LAST - 9}"))
    sgd.insert_chart("G71", line("stale cache", f"=sgd!$D${FIRST}:$D${LAST}", f"=sgd!$C${FIRST}:$C${LAST}"))
    sgd.insert_chart("G88", line("no cache", f"=sgd!$D${FIRST}:$D${LAST}", f"=sgd!$C${FIRST}:$C${LAST}"))
    wb.close()
    # XlsxWriter only writes references; type the first two charts' labels in.
    edit_member(path, "xl/charts/chart1.xml", lambda xml: _literal_cat(xml, "strLit"))
    edit_member(path, "xl/charts/chart2.xml", lambda xml: _literal_cat(xml, "numLit"))
    # A cache the cells moved away from (values edited, chart never redrawn) ...
    edit_member(path, "xl/charts/chart7.xml",
                lambda xml: re.sub(rb'(<c:val>.*?<c:pt idx="3"><c:v>)[^<]*', rb"\g<1>12345", xml, flags=re.DOTALL))
    # ... and categories with no cache at all.
    edit_member(path, "xl/charts/chart8.xml",
                lambda xml: re.sub(rb"(<c:cat>.*?)<c:numCache>.*?</c:numCache>", rb"\1", xml, flags=re.DOTALL))
    return path


def _literal_cat(xml: bytes, kind: str) -> bytes:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{x}</c:v></c:pt>' for i, x in enumerate(FORUM_X))
    fmt = "<c:formatCode>General</c:formatCode>" if kind == "numLit" else ""
    lit = f'<c:cat><c:{kind}>{fmt}<c:ptCount val="{len(FORUM_X)}"/>{pts}</c:{kind}></c:cat>'
    new, n = re.subn(rb"<c:cat>.*?</c:cat>", lit.encode(), xml, flags=re.DOTALL)
    assert n == 1
    return new


def edit_member(path: Path, name: str, fn) -> None:
    """Rewrite one zip member in place, keeping the order of the others."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            z.writestr(info, fn(data) if info.filename == name else data)


def type_cells(path: Path, sheet_part: str, cells: dict) -> None:
    """Type constants into a sheet, as a person does in Excel: {(row, col): number or text}, 1-based.

    The sheet XML is edited with lxml (Excel rewrites the whole part on save too); rows and
    cells are inserted in order, text as inline strings, every other zip member is kept."""
    from lxml import etree

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    m = "{%s}" % ns

    def edit(xml):
        root = etree.fromstring(xml)
        data = root.find(m + "sheetData")
        for (r, c), v in sorted(cells.items()):
            row = next((e for e in data if int(e.get("r")) >= r), None)
            if row is None or int(row.get("r")) != r:
                new = etree.Element(m + "row", r=str(r))
                if row is None:
                    data.append(new)
                else:
                    row.addprevious(new)
                row = new
            ref = f"{col_letters(c)}{r}"
            cell = etree.Element(m + "c", r=ref)
            if isinstance(v, str):
                cell.set("t", "inlineStr")
                etree.SubElement(etree.SubElement(cell, m + "is"), m + "t").text = v
            else:
                etree.SubElement(cell, m + "v").text = repr(v) if isinstance(v, float) else str(v)
            after = next((e for e in row if col_number(re.match(r"[A-Z]+", e.get("r")).group(0)) >= c), None)
            if after is not None and after.get("r") == ref:
                after.addprevious(cell)
                row.remove(after)
            elif after is not None:
                after.addprevious(cell)
            else:
                row.append(cell)
            row.attrib.pop("spans", None)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    edit_member(path, sheet_part, edit)


def learner_sgd(path, step_formulas=False, first_step=1, title="err² per step", step_header="step",
                fit_chart=False):
    """x and y as data, a step column (from `first_step`: a later epoch's rows), the prediction and
    err² as formulas (openpyxl: no cached values), and the learner's "err² per step" line chart with
    no categories (openpyxl's default when none are set). With `fit_chart`, also a line chart
    "prediction over x" whose categories are the unsorted data x (openpyxl writes its series with
    an a:ln and a hidden marker, symbol "none")."""
    import openpyxl
    from openpyxl.chart import LineChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sgd"
    ws.append(["x", "y", step_header, "pred", "err²"])
    for i, x in enumerate(X):
        r = i + 2
        step = f"=C{r - 1}+1" if step_formulas and i else i + first_step
        ws.append([x, 2 * x + 30, step, f"=1.5*A{r}+20", f"=(D{r}-B{r})*(D{r}-B{r})"])
    chart = LineChart()
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=len(X) + 1), titles_from_data=True)
    chart.title = title
    ws.add_chart(chart, "H2")
    if fit_chart:
        pred = LineChart()
        pred.add_data(Reference(ws, min_col=4, min_row=1, max_row=len(X) + 1), titles_from_data=True)
        pred.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(X) + 1))
        pred.title = "prediction over x"
        ws.add_chart(pred, "H20")
    wb.save(path)
    return path


def drop_member(path: Path, name: str) -> None:
    """Remove one zip member (a part lost in a bad copy), keeping the order of the others."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        items = [(i, z.read(i.filename)) for i in infos if i.filename != name]
    assert len(items) == len(infos) - 1, name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            z.writestr(info, data)


def generate_graddesc(path: Path, epochs: int) -> Path:
    """xlgd's own graddesc workbook, `epochs` epochs unrolled."""
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    build(load_recipe("graddesc", Overrides(epochs=epochs)), path)
    return path


def members(path: Path) -> list:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def soffice_convert(book: Path, fmt: str, outdir: Path, timeout=180) -> Path:
    """Convert with LibreOffice headless and a private profile; returns the output file."""
    profile = Path("/tmp") / f"xlgd-lo-test-{uuid.uuid4().hex}"
    try:
        proc = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(book)],
            capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = outdir / (book.stem + "." + fmt.split(":")[0])
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert out.exists() and out.stat().st_size > 0, proc.stdout.decode(errors="replace")
    return out


def cli_main(argv) -> int:
    """`xlgd.cli.main`, in this process (capsys sees its output)."""
    from xlgd.cli import main

    return main(argv)


def emf_texts(path: Path) -> list:
    """[(x, y, text)] of every EMR_EXTTEXTOUTW record of an EMF file: the labels as LibreOffice drew them.

    Record layout (MS-EMF 2.3.5.8): type, size, bounds (16 bytes), graphics mode, x/y scale, then the
    EmrText object: reference point (x, y), character count, offset of the UTF-16 string from the
    record's start."""
    import struct

    data = path.read_bytes()
    out, off = [], 0
    while off + 8 <= len(data):
        kind, size = struct.unpack_from("<II", data, off)
        if kind == 84:  # EMR_EXTTEXTOUTW
            x, y, n, at = struct.unpack_from("<iiII", data, off + 36)
            out.append((x, y, data[off + at:off + at + 2 * n].decode("utf-16-le")))
        if size == 0:
            break
        off += size
    return out


def category_labels(path: Path) -> list:
    """The numbers written along the chart's bottom, left to right: numeric labels within 5% of the
    drawing's text height range from the lowest one (LibreOffice places one-digit and two-digit
    category labels at slightly different heights; value-axis labels are a column at the left)."""
    texts = emf_texts(path)
    nums = []
    for x, y, text in texts:
        try:
            nums.append((x, y, float(text.replace(",", ""))))
        except ValueError:
            continue
    if not nums:
        return []
    ys = [y for _, y, _ in texts]
    bottom = max(y for _, y, _ in nums)
    band = 0.05 * (max(ys) - min(ys))
    return [v for x, y, v in sorted(nums) if y >= bottom - band]

"""Diff two big workbooks against merely reading them both, in one run.

    python benchmarks/diff.py [ROWS]      (default 1,000,000)

Writes two single-sheet workbooks of ROWS step rows (5 cells a row, four of
them formulas with cached values) straight as sheet XML inside a zip --
`xlgd generate` for a million rows takes minutes and is measured in
benchmarks/generate.py. The edited one has lr changed (so every value
below differs: the upstream summary path) and one formula edited mid-way.
Each measurement runs in its own process so its peak memory is its own.
Prints seconds, the diff/read ratio (goal <= 1.5) and peak RSS; a second,
smaller size shows memory is flat in the row count. A third pair holds no
cached values (as openpyxl and pandas save files): the diff then reads and
evaluates both workbooks with the workbook evaluator, which is included in
its time (no goal: a recalculation is more than a read).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/'
      'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
      'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
      'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
      'spreadsheetml.worksheet+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.'
        'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/'
      'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      '<sheets><sheet name="sgd" sheetId="1" r:id="rId1"/></sheets><definedNames><definedName name="lr">'
      'sgd!$A$3</definedName></definedNames><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
WBRELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.'
          'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
          'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def write_book(path, rows, lr, edit_row=None, cached=True):
    """cached=False: formulas without values, as openpyxl or pandas save them."""
    def sheet():
        yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
               'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        yield f'<row r="2"><c r="A2" t="inlineStr"><is><t>lr</t></is></c></row><row r="3"><c r="A3"><v>{lr}</v></c></row>'
        yield ('<row r="5">' + "".join(f'<c r="{c}5" t="inlineStr"><is><t>{h}</t></is></c>'
                                       for c, h in zip("ABCDE", ("step", "x", "w", "pred", "new w"))) + "</row>")
        yield '<row r="6"><c r="E6"><f>0.5</f><v>0.5</v></c></row>'
        w = 0.5
        buf = []
        for i in range(rows):
            r = 7 + i
            x = (i * 37 % 101) / 50.0
            pred = w * x
            nw = w - lr * (pred - 2 * x) * x
            g = f"C{r}*B{r}" if r != edit_row else f"C{r}*B{r}+1"
            v = (lambda x: f"<v>{x!r}</v>") if cached else (lambda x: "")
            buf.append(f'<row r="{r}"><c r="A{r}"><f>A{r - 1}+1</f>{v(i + 1)}</c><c r="B{r}"><v>{x!r}</v></c>'
                       f'<c r="C{r}"><f>E{r - 1}</f>{v(w)}</c><c r="D{r}"><f>{g}</f>{v(pred)}</c>'
                       f'<c r="E{r}"><f>C{r}-lr*(D{r}-2*B{r})*B{r}</f>{v(nw)}</c></row>')
            w = nw
            if len(buf) >= 2000:
                yield "".join(buf)
                buf = []
        yield "".join(buf) + "</sheetData></worksheet>"

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WBRELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in sheet():
                f.write(chunk.encode())


def child(mode, a, b):
    t = time.perf_counter()
    if mode == "read":
        from xlgd.diff.book import sheet_rows
        from xlgd.xlsx.package import Package

        n = 0
        for p in (a, b):
            with Package.open(p) as src:
                for _r, cells in sheet_rows(src, "sgd"):
                    n += len(cells)
        out = {"cells": n}
    else:
        from xlgd.diff import book as diff
        from xlgd.xlsx.package import Package

        with Package.open(a) as ea, Package.open(b) as eb:
            res = diff.diff_books(ea, eb, diff.Options())
        out = {"counts": res.counts(), "recomputed": sum(r["recomputed"] for r in res.recomputed)}
    out["seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(rows, tmp, cached=True):
    a, b = os.path.join(tmp, f"edited-{rows}-{cached}.xlsx"), os.path.join(tmp, f"ref-{rows}-{cached}.xlsx")
    t = time.perf_counter()
    write_book(b, rows, 0.01, cached=cached)
    write_book(a, rows, 0.011, edit_row=7 + rows // 2, cached=cached)
    made = time.perf_counter() - t
    res = {}
    for mode in ("read", "diff"):
        r = subprocess.run([sys.executable, __file__, "--child", mode, a, b], capture_output=True, text=True,
                           check=True)
        res[mode] = json.loads(r.stdout.strip().splitlines()[-1])
    size = os.path.getsize(a) >> 20
    what = "" if cached else " without cached values (both recomputed)"
    print(f"{rows:>9,} rows{what} ({size} MB each, written in {made:.1f}s): read both {res['read']['seconds']:.1f}s "
          f"({res['read']['peak_rss_mb']:.0f} MB peak), diff {res['diff']['seconds']:.1f}s "
          f"({res['diff']['peak_rss_mb']:.0f} MB peak) -> ratio {res['diff']['seconds'] / res['read']['seconds']:.2f}x"
          + (" (goal <= 1.5x)" if cached else ""))
    print(f"          found: {res['diff']['counts']}, values recomputed: {res['diff']['recomputed']:,}")
    return res


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(*sys.argv[2:5])
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="xlgd-bench-diff-") as tmp:
        measure(max(rows // 10, 1000), tmp)
        measure(rows, tmp)
        measure(rows, tmp, cached=False)


if __name__ == "__main__":
    main()

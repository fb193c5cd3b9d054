"""Workbooks written as Excel writes them: formulas with their cached values, saved by "Microsoft Excel".

`write(path, {"Sheet1": {"A1": 3.0, "B1": ("A1*2", 6.0), ...}}, names={"lr": "Sheet1!$A$1"})` writes a
minimal .xlsx: a cell is a number, a str (text), a bool, or (formula, cached value) where the formula
has no `=` and the cached value is a number, str, bool or an error code like "#N/A"; (formula, cached,
"A1:A3") is an array formula over that range, whose other cells are given as (None, cached) -- a value
only -- or ("", cached) -- `<f ca="1"/>` and a value: Excel writes both.
"""

import json
import re
import zipfile
from xml.sax.saxutils import escape

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
      'spreadsheetml.sheet.main+xml"/>{sheets}'
      '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
      'extended-properties+xml"/></Types>')
SHEET_CT = ('<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'extended-properties" Target="docProps/app.xml"/></Relationships>')
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       '<Application>{application}</Application><AppVersion>16.0300</AppVersion></Properties>')
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _cell(ref, v):
    if isinstance(v, tuple):
        formula, cached, *array = v
        if formula is None:
            f = ""
        elif formula == "":
            f = '<f ca="1"/>'  # an array formula's other cell, as Excel marks one that calculates always
        elif array:
            f = f'<f t="array" ref="{array[0]}">{escape(formula)}</f>'
        else:
            f = f"<f>{escape(formula)}</f>"
        return _value(ref, cached, f)
    return _value(ref, v, "")


def _value(ref, v, f):
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b">{f}<v>{int(v)}</v></c>'
    if isinstance(v, str) and v.startswith("#"):
        return f'<c r="{ref}" t="e">{f}<v>{escape(v)}</v></c>'
    if isinstance(v, str):
        if f:
            return f'<c r="{ref}" t="str">{f}<v>{escape(v)}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
    if v is None:
        return f'<c r="{ref}">{f}</c>'
    return f'<c r="{ref}">{f}<v>{float(v)!r}</v></c>'


def _key(ref):
    col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
    n = 0
    for ch in col:
        n = n * 26 + ord(ch) - 64
    return int(row), n


def sheet_xml(cells: dict) -> str:
    rows = {}
    for ref in sorted(cells, key=_key):
        rows.setdefault(_key(ref)[0], []).append(_cell(ref, cells[ref]))
    body = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in rows.items())
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'


TABLE_CT = ('<Override PartName="/xl/tables/table{i}.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.table+xml"/>')


def table_xml(i, name, ref, columns, totals=0) -> str:
    cols = "".join(f'<tableColumn id="{k}" name="{escape(c)}"/>' for k, c in enumerate(columns, 1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="{MAIN}" id="{i}" name="{name}" '
            f'displayName="{name}" ref="{ref}" totalsRowCount="{totals}"><autoFilter ref="{ref}"/>'
            f'<tableColumns count="{len(columns)}">{cols}</tableColumns></table>')


def _write_tables(z, tables: dict, sheet_names: list) -> str:
    """Table parts and each sheet's relationships to them; returns their content-type overrides."""
    overrides, i = "", 0
    for sheet, specs in tables.items():
        rels = ""
        for k, (name, ref, columns, *totals) in enumerate(specs, 1):
            i += 1
            z.writestr(f"xl/tables/table{i}.xml", table_xml(i, name, ref, columns, *totals))
            rels += f'<Relationship Id="rId{k}" Type="{REL_NS}/table" Target="../tables/table{i}.xml"/>'
            overrides += TABLE_CT.format(i=i)
        n = sheet_names.index(sheet) + 1
        z.writestr(f"xl/worksheets/_rels/sheet{n}.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                   "</Relationships>")
    return overrides


def write(path, sheets: dict, names: dict | None = None, application="Microsoft Excel", tables: dict | None = None,
          date1904=False):
    """The workbook at `path` (see the module doc); returns path. tables: {sheet: [(name, "A1:C5", [column
    names], totals rows)]}, each a table part of that sheet (a header row first); date1904: the workbook counts
    dates from 1904."""
    names = names or {}
    sheet_list = "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1))
    defined = "".join(f'<definedName name="{escape(n)}">{escape(t)}</definedName>' for n, t in names.items())
    wb = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{REL_NS}">'
          + ('<workbookPr date1904="1"/>' if date1904 else "") + f'<sheets>{sheet_list}</sheets>'
          + (f"<definedNames>{defined}</definedNames>" if defined else "")
          + '<calcPr calcId="191029"/></workbook>')
    wb_rels = "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(sheets) + 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        extra = _write_tables(z, tables or {}, list(sheets))
        z.writestr("[Content_Types].xml", CT.format(sheets="".join(SHEET_CT.format(i=i) for i in range(1, len(sheets) + 1))
                                                    + extra))
        z.writestr("_rels/.rels", RELS)
        z.writestr("docProps/app.xml", APP.format(application=escape(application)))
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f"{wb_rels}</Relationships>")
        for i, cells in enumerate(sheets.values(), 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", sheet_xml(cells))
    return path


def verify_json(path):
    """(exit code, the --json report) of `xlgd verify path`; exit 0 or 1, never an error."""
    from tests.verify_helpers import verify

    r = verify(path, "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def cause_cells(rep) -> list:
    """Where each cause of a --json report is: 'Sheet!A1'."""
    return [f"{c['sheet']}!{c['cell']}" for s in rep["sheets"] for c in s["causes"]] + [c["cell"] for c in rep["causes"]]

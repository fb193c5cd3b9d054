"""The workbook's tables (xl/tables/tableN.xml) and structured references to them; its date system.

`read_tables(package)` gives each table (name, sheet, rectangle, header and totals rows, column names).
`ExcelTable.cells(spec, rows)` reads the part of a structured reference inside its brackets -- `Table1[Age]`,
`Table1[]`, `Table1[#All]`, `[@Age]`, `Table1[[#This Row],[Age]]`, `Table1[[#Headers],[#Data],[A]:[C]]` --
as the rectangle it names: (first row, first col, last row, last col, on the formula's row). A form it
does not know raises `Unsupported` with the reason. Microsoft's page:
https://support.microsoft.com/office/using-structured-references-with-excel-tables-f5ed2452-2337-4f71-bed3-c8ae6d2b276e
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .formula import Unsupported
from .refs import col_number

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RANGE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?")
SPECIALS = ("#ALL", "#DATA", "#HEADERS", "#TOTALS", "#THIS ROW")


@dataclass(frozen=True)
class ExcelTable:
    name: str
    sheet: str
    r0: int
    c0: int
    r1: int
    c1: int
    headers: int  # header rows (0 or 1)
    totals: int  # totals rows (0 or 1)
    columns: tuple  # column names, upper case, left to right

    def rows(self, special: str) -> tuple:
        """(first, last) row of #All, #Data, #Headers or #Totals."""
        data = (self.r0 + self.headers, self.r1 - self.totals)
        if special == "#ALL":
            return self.r0, self.r1
        if special == "#DATA":
            return data
        if special == "#HEADERS":
            return (self.r0, self.r0) if self.headers else None
        return (self.r1, self.r1) if self.totals else None

    def column(self, name: str) -> int:
        key = _unescape(name).strip().upper()
        if key not in self.columns:
            raise Unsupported(f"the table {self.name} has no column {name}")
        return self.c0 + self.columns.index(key)

    def cells(self, spec: str, rows: tuple) -> tuple:
        """(r0, c0, r1, c1, this_row) the part of a structured reference inside its brackets names; `rows`:
        the first and last row of the formula cells (#This Row must lie in the table's data rows)."""
        specials, cols = _items(spec)
        this_row = "#THIS ROW" in specials
        if this_row:
            if len(specials) > 1:
                raise Unsupported(f"the structured reference {self.name}[{spec}] mixes #This Row with other rows")
            first, last = self.rows("#DATA")
            if not (first <= rows[0] and rows[1] <= last):
                raise Unsupported(f"a #This Row reference to {self.name} outside its data rows")
            r0 = r1 = rows[0]
        else:
            spans = [self.rows(s) for s in (specials or ["#DATA"])]
            if None in spans:
                raise Unsupported(f"the structured reference {self.name}[{spec}] names rows the table does not have")
            r0, r1 = min(s[0] for s in spans), max(s[1] for s in spans)
            if r1 < r0:
                raise Unsupported(f"the table {self.name} has no data rows")
        c0, c1 = (self.c0, self.c1) if not cols else (self.column(cols[0]), self.column(cols[-1]))
        return r0, min(c0, c1), r1, max(c0, c1), this_row


def _items(spec: str) -> tuple:
    """(special row items upper case, column names: one, or the two ends of a span) of a bracket's inside."""
    s = spec.strip()
    specials = []
    if s.startswith("@"):
        specials.append("#THIS ROW")
        s = s[1:].strip()
    if "[" not in s:
        parts = [s] if s else []
    else:
        parts = _bracketed(s)
    cols = []
    for p in parts:
        if p.strip().upper() in SPECIALS:
            specials.append(p.strip().upper())
        elif p.startswith(":"):
            cols.append(p[1:])
        else:
            if cols:
                raise Unsupported(f"the structured reference [{spec}] names columns apart")
            cols.append(p)
    if len(cols) > 2:
        raise Unsupported(f"the structured reference [{spec}] names columns apart")
    return specials, cols


def _bracketed(s: str) -> list:
    """`[a],[b]:[c]` -> ['a', 'b', ':c'] (':' marks the far end of a column span)."""
    out, i, span = [], 0, False
    while i < len(s):
        ch = s[i]
        if ch in " ,":
            i += 1
        elif ch == ":":
            span, i = True, i + 1
        elif ch == "[":
            j = i + 1
            while j < len(s) and s[j] != "]":
                j += 2 if s[j] == "'" else 1
            out.append((":" if span else "") + s[i + 1:j])
            span, i = False, j + 1
        else:
            raise Unsupported(f"the structured reference [{s}] is not one xlgd reads")
    return out


def _unescape(name: str) -> str:
    return re.sub(r"'(.)", r"\1", name)


def split(text: str) -> tuple:
    """`Table1[[#This Row],[Age]]` -> ('Table1', '[#This Row],[Age]'); `[@Age]` -> ('', '@Age')."""
    at = text.index("[")
    return text[:at], text[at + 1:-1]


def date1904(package) -> bool:
    """Whether the workbook counts dates from 1 January 1904 (`<workbookPr date1904="1"/>`)."""
    try:
        pr = next(package.xml("xl/workbook.xml").iter(_M + "workbookPr"), None)
    except Exception:  # noqa: BLE001 -- an unreadable workbook part was refused when the package opened
        return False
    return pr is not None and (pr.get("date1904") or "").strip().lower() in ("1", "true")


def read_tables(package) -> dict:
    """{table name upper case: ExcelTable} of every worksheet's table parts; a part that cannot be read is left out."""
    out = {}
    for sheet in package.worksheet_names:
        for kind, target in _sheet_rels(package, sheet).values():
            if kind == "table" and package.has(target):
                table = _table(package.xml(target), sheet)
                if table is not None:
                    out[table.name.upper()] = table
    return out


def _sheet_rels(package, sheet) -> dict:
    """A worksheet's relationships; none when its parts cannot be read (the sheet is reported elsewhere)."""
    try:
        return package.rels(package.sheet_part(sheet))
    except Exception:  # noqa: BLE001 -- a sheet whose parts are unreadable has no tables to offer
        return {}


def _table(root, sheet) -> ExcelTable | None:
    m = _RANGE.fullmatch(root.get("ref") or "")
    name = root.get("displayName") or root.get("name")
    if not m or not m.group(3) or not name:
        return None
    columns = tuple((c.get("name") or "").strip().upper() for c in root.iter(_M + "tableColumn"))
    r0, c0, r1, c1 = int(m.group(2)), col_number(m.group(1)), int(m.group(4)), col_number(m.group(3))
    if len(columns) != c1 - c0 + 1:
        return None
    headers = 0 if root.get("headerRowCount", "1").strip() == "0" else 1
    totals = 0 if root.get("totalsRowCount", "0").strip() in ("", "0") else 1
    return ExcelTable(name, sheet, r0, c0, r1, c1, headers, totals, columns)

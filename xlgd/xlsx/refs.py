"""Formula text as tokens, and A1 references in relative (R1C1) form.

Two formulas are the same formula for a spreadsheet when their R1C1 forms are equal (`=J4*$J$1` in
J5 and `=J5*$J$1` in J6): Excel's "inconsistent formula" rule, which `verify` and `diff` compare a
cell against its column with. `canonical(text, row, col)` gives that form as tokens: same-sheet
references relative unless `$`-anchored, other sheets' absolute (xlgd's rows read the data sheet by
a data-row index that wraps every epoch), names and functions upper-cased, numbers by value, white
space dropped. `shift(text, dr, dc)` expands a shared formula (`<f t="shared">`) to each cell.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"""
 (?P<ws>\s+)
|(?P<str>"(?:[^"]|"")*")
|(?P<err>\#(?:NUM!|DIV/0!|VALUE!|REF!|NAME\?|N/A|NULL!|GETTING_DATA))
|(?P<table>(?:[A-Za-z_\\][A-Za-z0-9_.\\]*)?\[(?:[^\[\]']|'.|\[(?:[^\[\]']|'.)*\])*\](?!\s*[A-Za-z0-9_.']+!))
|(?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)
|(?P<cols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![A-Za-z0-9_.(!])
|(?P<rows>\$?[0-9]{1,7}:\$?[0-9]{1,7})(?![0-9.])
|(?P<ref>\$?[A-Za-z]{1,3}\$?[0-9]{1,7})(?![A-Za-z0-9_.(])
|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
|(?P<func>[A-Za-z_][A-Za-z0-9_.]*)(?=\s*\()
|(?P<name>[A-Za-z_\\][A-Za-z0-9_.]*)
|(?P<op><>|<=|>=|[-+*/^&=<>:,();%{}~])
""", re.VERBOSE)
# Rows of seven digits at most (in _TOKEN too, so every `ref` and `rows` token splits): Excel's rows
# end at 1,048,576, and int() of a longer run of digits is slow and, past 4,300 digits, refused.
_REF = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})")
_SPAN = re.compile(r"(\$?)([A-Za-z]{1,3}|[0-9]{1,7}):(\$?)([A-Za-z]{1,3}|[0-9]{1,7})")


class FormulaSyntaxError(ValueError):
    pass


def col_number(letters: str) -> int:
    """'A' -> 1."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(count: int) -> str:
    """1 -> 'A'."""
    s = ""
    while count:
        count, r = divmod(count - 1, 26)
        s = chr(65 + r) + s
    return s


def col_letter(index: int) -> str:
    """0-based column index -> letters (0 -> 'A'), for writers that count from 0."""
    return col_letters(index + 1)


def a1(row: int, col: int) -> str:
    """1-based (row, col) -> 'B3'."""
    return f"{col_letters(col)}{row}"


_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_LIKE_A1 = re.compile(r"[A-Za-z]{1,3}[0-9]+")
_LIKE_R1C1 = re.compile(r"[Rr][0-9]*(?:[Cc][0-9]*)?|[Cc][0-9]*")


def quote_sheet(name: str) -> str:
    """The sheet name as a formula writes it ahead of '!': quoted whenever Excel would need it.

    Quoted: names that read as a cell (A1 ... XFD1048576, `sgd1`), as an R1C1
    reference (R, C, RC, R1C1, R2), as a boolean (TRUE, FALSE), that start with
    a digit, or that hold anything but letters, digits, '_' and '.'; a quote
    inside is doubled. Left bare: everything else (`data`, `adam_ann`, `linear2`)."""
    if (_PLAIN_SHEET.fullmatch(name) and not _LIKE_A1.fullmatch(name) and not _LIKE_R1C1.fullmatch(name)
            and name.upper() not in ("TRUE", "FALSE")):
        return name
    return "'" + name.replace("'", "''") + "'"


def unquote_sheet(text: str) -> str:
    """`'my sheet'` or `my sheet!` -> my sheet (the inverse of quote_sheet, '!' optional)."""
    s = text[:-1] if text.endswith("!") else text
    if s.startswith("'") and s.endswith("'") and len(s) >= 2:
        return s[1:-1].replace("''", "'")
    return s


def parse_cell(ref: str):
    """'$B$3' -> (3, 2), or None when it is not one cell."""
    try:
        r, c, _, _ = split_ref(ref)
    except FormulaSyntaxError:
        return None
    return r, c


def split_ref(ref: str):
    """'$B$3' -> (row 3, col 2, row_abs True, col_abs True)."""
    m = _REF.fullmatch(ref)
    if not m:
        raise FormulaSyntaxError(ref)
    return int(m.group(4)), col_number(m.group(2)), bool(m.group(3)), bool(m.group(1))


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple:
    """(kind, text) pairs; kinds: str err table sheet ref num func name op. No '=' prefix. `table` is a
    structured reference (`Table1[Age]`, `[@Age]`, `Table1[[#This Row],[Age]]`)."""
    if text.startswith("="):
        text = text[1:]
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormulaSyntaxError(f"cannot read formula at {text[pos:pos + 12]!r}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind)))
        pos = m.end()
    return tuple(out)


def canonical(text: str, row: int, col: int) -> tuple:
    """The formula in R1C1 form for the cell at (row, col), 1-based (other sheets absolute)."""
    return _canon(text, row, col, False)


def relative(text: str, row: int, col: int) -> tuple:
    """Excel's own R1C1 form: like `canonical`, but references to other sheets stay relative
    unless `$`-anchored. Two cells of a column hold "the same formula" (one run, for the
    workbook evaluator) when these are equal: `=data!B5` in A7 and `=data!B6` in A8 are."""
    return _canon(text, row, col, True)


def _canon(text, row, col, sheets_relative):
    out, sheet = [], None
    for kind, t in tokens(text):
        if kind == "sheet":
            sheet = unquote_sheet(t).upper()
            continue
        if kind == "ref":
            r, c, ra, ca = split_ref(t)
            if sheet is not None and not sheets_relative:
                out.append(("ref", sheet, ("a", r), ("a", c)))
            else:
                out.append(("ref", sheet, ("a", r) if ra else ("r", r - row), ("a", c) if ca else ("r", c - col)))
            sheet = None
            continue
        if kind in ("rows", "cols"):
            out.append((kind, sheet) + _span_parts(t, row if kind == "rows" else col,
                                                   sheet is not None and not sheets_relative))
        elif kind == "num":
            out.append(("num", float(t)))
        elif kind in ("name", "func"):
            out.append((kind, t.upper()))
        else:
            out.append((kind, t))
        sheet = None
    return tuple(out)


def _span_parts(t, at, absolute):
    """('a', n) / ('r', offset) for both ends of 5:9 or B:D."""
    m = _SPAN.fullmatch(t)
    out = []
    for dollar, end in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
        n = int(end) if end.isdigit() else col_number(end)
        out.append(("a", n) if dollar or absolute else ("r", n - at))
    return tuple(out)


def r1c1(text: str, row: int, col: int) -> str:
    """The formula as Excel shows it in R1C1 style, for the cell at (row, col), 1-based.

    Relative references stay relative whatever sheet they are on and sheet
    names keep the case they are written in (`=Intro!F5` in H5 is
    `=Intro!RC[-2]`, `=$C$1` is `=R1C3`); names, functions, numbers and
    text as written. This is the text reports show; comparisons use
    `canonical`/`relative`, which also ignore case and spacing."""
    out = []
    for kind, t in tokens(text):
        if kind == "ref":
            r, c, ra, ca = split_ref(t)
            out.append(_axis("R", r, r - row, ra) + _axis("C", c, c - col, ca))
        elif kind in ("rows", "cols"):
            m = _SPAN.fullmatch(t)
            axis, at = ("R", row) if kind == "rows" else ("C", col)
            ends = []
            for dollar, end in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
                n = int(end) if end.isdigit() else col_number(end)
                ends.append(_axis(axis, n, n - at, bool(dollar)))
            out.append(":".join(ends))
        elif kind == "sheet":
            out.append(quote_sheet(unquote_sheet(t)) + "!")
        else:
            out.append(t)
    return "=" + "".join(out)


def _axis(letter, n, offset, absolute):
    if absolute:
        return f"{letter}{n}"
    return letter if offset == 0 else f"{letter}[{offset}]"


def refs(text: str, row: int, col: int):
    """Absolute (sheet or None, row, col) of every cell reference, ranges expanded to their corners."""
    sheet = None
    for kind, t in tokens(text):
        if kind == "sheet":
            sheet = unquote_sheet(t)
            continue
        if kind == "ref":
            r, c, _, _ = split_ref(t)
            yield sheet, r, c
        sheet = None


def shift(text: str, rows: int, cols: int) -> str:
    """Move the relative references of a formula by dr rows and dc columns (shared formulas)."""
    if rows == 0 and cols == 0:
        return text
    out, pos = [], 0
    body = text[1:] if text.startswith("=") else text
    for m in _TOKEN.finditer(body):
        kind = m.lastgroup
        t = m.group(kind)
        if kind == "ref":
            t = _shift_ref(t, rows, cols)
        elif kind in ("rows", "cols"):
            t = _shift_span(t, rows if kind == "rows" else cols)
        out.append(t)
        pos = m.end()
    if pos != len(body):
        raise FormulaSyntaxError(f"cannot read formula at {body[pos:pos + 12]!r}")
    return "".join(out)


def _shift_ref(t, rows, cols):
    """One reference moved (`#REF!` when it leaves the sheet), letters upper-cased."""
    col_dollar, letters, row_dollar, digits = _REF.fullmatch(t).groups()
    r = int(digits) if row_dollar else int(digits) + rows
    if col_dollar or not cols:
        letters = letters.upper()
    else:
        c = col_number(letters) + cols
        letters = col_letters(c) if c >= 1 else ""
    if r < 1 or not letters:
        return "#REF!"
    return f"{col_dollar}{letters}{row_dollar}{r}"


def _shift_span(t, d):
    m = _SPAN.fullmatch(t)
    ends = []
    for dollar, end in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
        if dollar or d == 0:
            ends.append(dollar + end)
            continue
        n = (int(end) if end.isdigit() else col_number(end)) + d
        if n < 1:
            return "#REF!"
        ends.append(str(n) if end.isdigit() else col_letters(n))
    return ":".join(ends)


def row_template(text: str, row: int, other_sheets: bool = False):
    """A fast generator of this formula's text on other rows of the same column.

    Returns f(R) -> text for row R, valid when the formula's same-sheet
    relative references keep their row offsets (a column of formulas). Used
    to compare millions of cells by plain string equality, falling
    back on `canonical`. other_sheets: references to other sheets move too
    (Excel's R1C1, `relative`).
    """
    return template_function(row_parts(text, row, other_sheets))


def row_parts(text: str, row: int, other_sheets: bool = False) -> list:
    """The formula text as literal strings and row offsets (ints) from `row` (see row_template)."""
    parts = []  # str, or int offset from the row
    body = text[1:] if text.startswith("=") else text
    lit, sheet = [], False
    for m in _TOKEN.finditer(body):
        kind = m.lastgroup
        t = m.group(kind)
        if kind == "ref" and (not sheet or other_sheets):
            rr, c, ra, ca = split_ref(t)
            if not ra:
                mm = _REF.fullmatch(t)
                lit.append(mm.group(1) + mm.group(2) + mm.group(3))
                parts.append("".join(lit))
                lit = []
                parts.append(rr - row)
                sheet = False
                continue
        lit.append(t)
        sheet = kind == "sheet"
    parts.append("".join(lit))
    return [p for p in parts if p != ""]


def template_function(parts: list):
    """f(R) -> the text of `parts` (strings, and ints meaning str(R + int)) on row R."""
    if all(isinstance(p, str) for p in parts):
        s = "".join(parts)
        return lambda R: s
    code = " + ".join(repr(p) if isinstance(p, str) else f"str(R + {p})" for p in parts)
    return eval(f"lambda R: {code}")  # noqa: S307 -- built from our own token list

"""Rows of a worksheet's XML compared as text with the rows a template renders: xlsx's one row-template reader.

A piece of `Package.bodies` is cut into its values and a skeleton with a
`HOLE` where each `<v>..</v>` was (`split_values`); `match_rows` compares
the skeleton in place (str.startswith, no string made per row) with a
template's rows r, r+1 ..., a hundred rows at a time where the template
renders a block, and hands back how many rows matched, where they end and
the row that did not. `TemplateRows` walks a sheet so, handing back runs of rows
matched whole and every other row; the caller takes matched rows' values in
bulk and scans the others (`Package.scan_piece`, after `with_values`).

Two templates render rows, both with `text(r)` and `block(R, B)`:

* `RowTemplate`, seeded from the row above: a row's cells (`CellTemplate`:
  one cell's XML with its row numbers as offsets from its own row, so a cell
  equal to the rendering of the cell above's template holds the same formula
  in R1C1 form) on any row number -- any sheet;
* `PeriodicRows`, seeded from a layout: rows rendered from %-formats the
  caller gives (xlgd's step table: its row, the row above, a data row that
  wraps every period, the period's own row), for a sheet whose layout is known.

A cell is read into its parts once per shape: cached by its XML without its
own row number (`CellParts`), and a new cell of a known shape -- the
same XML but for its digits -- read from that shape's recipe instead of
parsed (`_recipe`). Blocks fill the higher digits of a hundred row numbers
in by placeholders (`RowTemplate.block` with numpy, `_Filled`;
`PeriodicRows.block` with str.replace).
"""

from __future__ import annotations

import re
from functools import cached_property
from math import gcd
from operator import itemgetter

import numpy as np

from .refs import row_parts
from .sheetdata import MAX_ROW

_PIECE = re.compile(r'(<c r="[A-Z]{1,3})([0-9]+)(")|(<f(?:\s[^>]*)?>)([^<]*)(</f>)')
_T = re.compile(r'^<c [^>]*?\st="([a-zA-Z]+)"')
HOLE = "\x00"  # where a row's <v>..</v> was cut out
_V = re.compile(r"<v>([^<]*)</v>")


def split_values(body):
    """[text, value, text, value ...]: the <v>..</v> of a piece cut out (str.split where every <v> is
    a plain one, else the regular expression). A `<v ...>` with attributes, or a lone tag, shifts every
    part after it by one -- a text part (which always holds a tag: '</c>' follows each value) lands
    where a value goes, or the count is even -- so a '<' in any value slot sends the piece to the
    regular expression, which costs less than counting '<v' and '</v>' first."""
    parts = body.replace("</v>", "<v>").split("<v>")
    if len(parts) % 2 == 1 and "<" not in "".join(parts[1::2]):
        return parts
    return _V.split(body)


def with_values(chunk, vals):
    """The XML of a skeleton (`split_values`) with its values put back."""
    for v in vals:
        chunk = chunk.replace(HOLE, f"<v>{v}</v>", 1)
    return chunk


def match_rows(skel, pos, template, r, since):
    """(n, where they end, (row, text) of the first row that differs or None): the rows of a skeleton
    from `pos` on that are the template's rows r, r+1 ... -- compared in place (str.startswith).
    A block of 100 rows is one comparison where the template renders one (`block`) and has held
    since row `since` for more than a block: rendering a block costs a block's rows' rendering, which
    a template that lives for one epoch (29 rows) would never win back."""
    n = 0
    while r <= MAX_ROW:
        if r % EVERY == 0:
            B, at = _block_match(skel, pos, template, r, since)
            if B:
                n, r, pos = n + B, r + B, at
                continue
        t = template.text(r)
        if t is None or not (skel.startswith(t, pos) and skel.startswith("</row>", pos + len(t))):
            return n, pos, (None if t is None else (r, t))
        n, r, pos = n + 1, r + 1, pos + len(t) + 6
    return n, pos, None


def _block_match(skel, pos, template, r, since):
    for B in BLOCKS:
        if r % B == 0 and r - since > B and r + B - 1 <= MAX_ROW:
            block = template.block(r, B)
            if block is not None and skel.startswith(block, pos) and skel.startswith("</row>", pos + len(block)):
                return B, pos + len(block) + 6
    return 0, pos


ROW_AT = re.compile(r'\s*<row r="([0-9]{1,7})"')  # 7 digits: past that, no row of Excel (and no int())


class TemplateRows:
    """A worksheet's rows, piece by piece (`Package.bodies`), each piece's values cut out: runs of rows
    equal to `template`'s rows, and every other row on its own.

    Iterating gives (n, skeleton, values): n >= 1 rows matched whole (each row followed by '</row>'),
    0 one row that was not (without its '</row>'), -1 what a piece holds after its last row. Between
    items the caller sets `template` (None: no matching), `at` (the row number the template's next
    row must have; None: the row's own) and `since` (the row since which the template holds, for
    `match_rows`); `expected` is (row, text) of the template's row where matching last stopped."""

    def __init__(self, package, sheet, rows_checked=True):
        self.package, self.sheet, self.rows_checked = package, sheet, rows_checked
        self.template, self.at, self.since, self.expected = None, None, 0, None

    def __iter__(self):
        for body in self.package.bodies(self.sheet, rows_checked=self.rows_checked):
            parts = split_values(body)
            values, skel = parts[1::2], HOLE.join(parts[0::2])
            del parts
            end = skel.rfind("</row>") + 6  # the rows; after them a tail (none when the piece has no </row>: 5)
            end = end if end > 5 else 0
            pos = vi = 0
            while pos < end:
                n, at = self._match(skel, pos)
                if not n:
                    at = skel.index("</row>", pos)
                k = skel.count(HOLE, pos, at)
                yield n, skel[pos:at], values[vi:vi + k]
                pos, vi = at if n else at + 6, vi + k
            if skel[end:].strip():
                yield -1, skel[end:], values[vi:]

    def _match(self, skel, pos):
        if self.template is None:
            return 0, pos
        r = self.at
        if r is None:
            m = ROW_AT.match(skel, pos)
            if m is None:
                return 0, pos
            r = int(m.group(1))
        n, at, self.expected = match_rows(skel, pos, self.template, r, self.since)
        if n and self.at is not None:
            self.at += n
        return n, at


BLOCKS = (100,)
EVERY = gcd(*BLOCKS)  # a block starts on a row that is a multiple of this


def _key_name(k):
    return f"o{k + 1000000}" if k else "o0"


_OWN = object()  # the cell's own row number in `CellParts`
_DIGITS = re.compile(r"([0-9]+)")
CACHED_CELLS = 4096  # cells (and cell shapes) a CellParts keeps before it starts over


class CellParts:
    """A cell's XML as literal strings, absolute row numbers (ints) and _OWN (its own row), kept by the XML
    without its own row: in a table whose data references wrap every epoch, the cells that start an epoch
    (`=data!B5`) come back every epoch on another row and are parsed once. A new cell (a per-epoch cell
    `=O905/29`, `=$AC$8`) is read from the cell of its shape seen before -- the same XML but for its digits
    (`_recipe`) -- instead of being parsed. One per workbook (`Package.cell_parts`)."""

    def __init__(self):
        self.by_cell = {}  # a cell's XML with its own row number left out -> its parts
        self.by_shape = {}  # a cell's XML with its digits left out -> what each run of digits is, or None

    def __call__(self, chunk):
        j = chunk.find('"', 6)
        key = chunk[:6] + chunk[6:j].rstrip("0123456789") + chunk[j:]
        parts = self.by_cell.get(key)
        if parts is None:
            if len(self.by_cell) > CACHED_CELLS:
                self.by_cell.clear()
            parts = self.by_cell[key] = tuple(self._parse(chunk))
        return parts

    def _parse(self, chunk):
        pieces = _DIGITS.split(chunk)  # text, digits, text ...
        shape = "\x01".join(pieces[0::2])
        kinds = self.by_shape.get(shape)
        parts = _from_recipe(pieces, kinds) if kinds else None
        if parts is None:
            parts = _parse_parts(chunk)
            if shape not in self.by_shape:
                if len(self.by_shape) > CACHED_CELLS:
                    self.by_shape.clear()
                self.by_shape[shape] = _recipe(pieces, parts)
        return parts


def _parse_parts(chunk):
    parts, pos = [], 0
    for m in _PIECE.finditer(chunk):
        parts.append(chunk[pos:m.start()])
        if m.group(1):
            parts += [m.group(1), _OWN if m.start() == 0 else int(m.group(2)), m.group(3)]
        else:
            if "&#" in m.group(5):
                raise ValueError("a character reference in a formula")
            parts += _formula_tag(m.group(4), chunk) + row_parts(m.group(5), 0, other_sheets=True) + [m.group(6)]
        pos = m.end()
    parts.append(chunk[pos:])
    return parts


_OWN_REF = re.compile(r'<c r="([A-Z]{1,3})([0-9]+)"')


def _formula_tag(tag, chunk) -> list:
    """The parts of a `<f ...>` tag: a one-cell array formula's `ref` naming the cell itself moves with
    the cell's row (`<f t="array" ref="AH5">` on row 5 is `ref="AH6"` on row 6)."""
    own = _OWN_REF.match(chunk)
    ref = own and f' ref="{own.group(1)}{own.group(2)}"'
    if not ref or tag.count(ref) != 1:
        return [tag]
    before, after = tag.split(ref)
    return [f'{before} ref="{own.group(1)}', _OWN, f'"{after}']


def _recipe(pieces, parts):
    """What each run of digits of a parsed cell is: 'o' its own row, 'r' a row read relatively, 'l' literal
    text, 'L' literal after a '$' (an anchored row) -- or None where another cell of the same shape
    could be read otherwise: literal digits after a letter (Sheet2!, LOG10, a row past Excel's), a row
    that is not one of Excel's (then digits decide what the tokens are)."""
    kinds, lit = [], []
    for p in parts + [None]:
        if p.__class__ is str:
            lit.append(p)
            continue
        kinds += "l" * len(_DIGITS.findall("".join(lit)))
        lit = []
        if p is not None:
            kinds.append("o" if p is _OWN else "r")
    if len(kinds) != len(pieces) // 2:
        return None
    for i, kind in enumerate(kinds):
        before, digits = pieces[2 * i][-1:], pieces[2 * i + 1]
        if kind == "r" and not _row_ok(digits):
            return None
        if kind == "l" and before.isalpha():
            return None
        if kind == "l" and before == "$":
            kinds[i] = "L"
    return "".join(kinds)


def _from_recipe(pieces, kinds):
    """The parts of a cell read by the recipe of its shape, or None where a row is not one of Excel's."""
    parts, lit = [], [pieces[0]]
    for i, kind in enumerate(kinds):
        digits = pieces[2 * i + 1]
        if kind in "rL" and not _row_ok(digits):
            return None
        if kind in "lL":
            lit.append(digits)
        else:
            parts.append("".join(lit))
            parts.append(_OWN if kind == "o" else int(digits))
            lit = []
        lit.append(pieces[2 * i + 2])
    parts.append("".join(lit))
    return parts


def _row_ok(digits):
    return digits[0] != "0" and len(digits) < 8 and int(digits) <= 1_048_576


class CellTemplate:
    """One cell's XML (value cut out) on any row: literal text and row offsets (`refs.row_parts`),
    kept as a %-format string whose row numbers are named by their offset."""

    __slots__ = ("col", "fmt", "offsets", "type", "hole", "formula", "pfmt", "seq", "shape", "lowest", "nholes")

    def __init__(self, chunk: str, col: int, row: int, cell_parts: CellParts):
        fmt, pfmt, seq = [], [], []
        for p in cell_parts(chunk):
            if p.__class__ is str:
                p = p.replace("%", "%%")
                fmt.append(p)
                pfmt.append(p)
            else:
                k = 0 if p is _OWN else p - row
                seq.append(k)
                fmt.append(f"%({_key_name(k)})s")
                pfmt.append("%s")
        self.fmt, self.pfmt = "".join(fmt), "".join(pfmt)  # pfmt: positional
        self.seq = tuple(seq)  # its offsets, in order
        self.offsets = frozenset(seq)
        self.lowest = min(seq, default=0)
        self.shape = chunk.translate(NO_DIGITS)  # what every row's rendering shares (rows >= 0)
        self.col, self.nholes, self.formula = col, chunk.count(HOLE), "<f" in chunk
        self.hole = self.nholes > 0
        t = _T.match(chunk)
        self.type = t.group(1) if t else "n"
        if self.render(row) != chunk:
            raise ValueError("the cell does not rebuild")

    def render(self, row):
        return self.fmt % {_key_name(k): str(row + k) for k in self.offsets}

    def renders(self, chunk, shape, row) -> bool:
        """render(r) == chunk; shape: the chunk without its digits (most templates differ there: no rendering)."""
        if shape != self.shape and row + self.lowest >= 0:
            return False
        return self.render(row) == chunk


NO_DIGITS = str.maketrans("", "", "0123456789")


class RowTemplate:
    """A row's cells with values cut out, on any row number: a following row equal to it holds the
    same cells, each formula the same in R1C1 form, so it is taken whole. One %-format string for the
    whole row: the row numbers it needs are few (r, r-1 ...), so a row is one format and a handful of
    str() calls."""

    def __init__(self, head: str, cells: list, like=None):
        self.head, self.cells = head, cells  # head: '<row r="#" ...>' (# for the row number)
        if like is not None:  # a template whose cells have the same columns, types and values (`patch`)
            self.holes, self.formulas, self.bare = like.holes, like.formulas, like.bare
            self.__dict__["layout"] = like.layout
        else:
            self.holes = tuple((c.col, c.type, c.formula) for c in cells if c.hole)
            self.formulas = [c.col for c in cells if c.formula]
            self.bare = sum(1 for c in cells if c.formula and not c.hole)  # formula cells without a value
        self.steps = sorted({0}.union(*(c.offsets for c in cells)))
        self._blocks, self._filled = {}, {}
        # text(): the same row positionally -- half the cost of the named format, and most rows of a
        # table whose template changes every epoch are compared one by one
        self.pfmt = head.replace("%", "%%").replace("#", "%s", 1) + "".join(c.pfmt for c in cells)
        where = {k: i for i, k in enumerate(self.steps)}
        self.order = itemgetter(where[0], *[where[k] for c in cells for k in c.seq])
        # text(): the row with one marker character per row offset, filled in by str.replace -- a handful
        # of replaces, cheaper than a %-format of a hundred numbers; control characters
        # cannot occur in XML text, but the check keeps a template that holds one on the format
        marks = [chr(1 + i) for i in range(len(self.steps))]
        self.marked = None
        if len(marks) <= 16 and not any(ch in self.pfmt for ch in marks):
            self.marked = self.pfmt % self.order(marks)
            self.marks = list(zip(marks, self.steps))

    @cached_property
    def keys(self):
        return [(_key_name(k), k) for k in self.steps]

    @cached_property
    def fmt(self):
        """The row as a named %-format (blocks: `_render_block`)."""
        return self.head.replace("%", "%%").replace("#", "%(o0)s", 1) + "".join(c.fmt for c in self.cells)

    @cached_property
    def layout(self):
        """(position of each cell's first value, (position, column) of each formula cell), or None when two
        cells share a column (then only the cell-by-cell reading keeps their order): `RowReader.patch`."""
        if len({c.col for c in self.cells}) != len(self.cells):
            return None
        starts, n = [], 0
        for c in self.cells:
            starts.append(n)
            n += c.nholes
        return starts, n, [(i, c.col) for i, c in enumerate(self.cells, 1) if c.formula]

    def text(self, row):
        t = self.marked
        if t is None:
            return self.pfmt % self.order([str(row + k) for k in self.steps])
        for ch, k in self.marks:
            t = t.replace(ch, str(row + k))
        return t

    def block(self, first_row, size):
        """Rows first_row..first_row+size-1 joined by '</row>' (size 10 or 100, first_row a multiple of
        it): rendered once with the higher digits of each row number left as placeholders, then filled in
        with a few replaces -- `size` rows compared with one string comparison."""
        made = self._blocks.get(size)
        if made is None:
            made = self._blocks[size] = self._render_block(size)
        text, marks = made
        hi = first_row // size
        if text is None or hi + marks[0][1] < 1:  # a row number below B: no leading digits to fill in
            return None
        digits = [str(hi + d) for _, d in marks]
        width = len(digits[0])
        if text.isascii() and all(len(x) == width for x in digits):  # (all but where the digits grow: 999 -> 1000)
            filled = self._filled.get((size, width))
            if filled is None:
                filled = self._filled[size, width] = _Filled(text, [ch for ch, _ in marks], width)
            return filled.fill(digits)
        for (ch, _), x in zip(marks, digits):
            text = text.replace(ch, x)
        return text

    def _render_block(self, B):
        deltas = sorted({(j + k) // B for j in range(B) for _, k in self.keys})
        marks = {d: chr(1 + i) for i, d in enumerate(deltas)}
        if len(deltas) > 8 or any(ch in self.fmt for ch in marks.values()):
            return None, ()
        low = "%%0%dd" % (len(str(B)) - 1)
        rows = [self.fmt % {name: marks[(j + k) // B] + low % ((j + k) % B) for name, k in self.keys}
                for j in range(B)]
        return "</row>".join(rows), tuple((ch, d) for d, ch in marks.items())  # smallest delta first


class _Filled:
    """A block's text with each placeholder widened to `width` bytes, and where each one's digits go:
    filling in a block is one numpy assignment per placeholder, cheaper than a str.replace per
    occurrence (a hundred rows of Jeremy's layout hold 3,900 row numbers)."""

    def __init__(self, text, marks, width):
        wide = text
        for ch in marks:
            wide = wide.replace(ch, ch * width)
        self.base = np.frombuffer(wide.encode("ascii"), dtype=np.uint8).copy()
        self.starts = [np.flatnonzero(self.base == ord(ch))[::width] for ch in marks]

    def fill(self, digits) -> str:
        out = self.base.copy()
        for starts, x in zip(self.starts, digits):
            for j, byte in enumerate(x.encode("ascii")):  # one scatter per digit: (a 2-D index cost twice this)
                out[starts + j] = byte
        return out.tobytes().decode("ascii")


# Stand-ins for the period rows of a block of rows: ASCII control characters (no XML text holds
# them, and none is HOLE or a digit placeholder), so str.replace stays on one-byte strings.
_PERIOD_HOLES = [chr(c) for c in (*range(3, 9), 11, 12, *range(14, 32))]


class PeriodicRows:
    """Rows seeded from a layout: row first+i is `formats[kind] % {r, p, d, e}` -- r its row, p the
    row above, d = d0 + i % period (a data row that wraps), e = e0 + i // period (the period's own
    row); kind 'top' for i = 0, True for a period's first row, False for any other -- followed by
    extra[i] where i < len(extra) (no row there when it is None), for `count` rows. The caller renders the formats (the
    cells' XML with `HOLE` for each value) and the extras; nothing here knows a layout."""

    def __init__(self, first, count, period, fields, formats, extra=()):
        self.first, self.count, self.period = first, count, period
        self.d0, self.e0 = fields  # the data row of phase 0, the row of period 0
        self.formats, self.extra = formats, extra
        self._blocks = {}
        self._no_blocks = any(ch in f for f in formats.values() for ch in ["\x01", "\x02"] + _PERIOD_HOLES)

    def text(self, row):
        """Row r's skeleton (without '</row>'), None outside the rows."""
        i = row - self.first
        if not 0 <= i < self.count:
            return None
        k, d = divmod(i, self.period)
        s = self.formats["top" if i == 0 else d == 0] % {"r": str(row), "p": str(row - 1), "d": str(self.d0 + d),
                                                           "e": str(self.e0 + k)}
        if i < len(self.extra):
            return None if self.extra[i] is None else s + self.extra[i]
        return s

    def block(self, first_row, size):
        """Rows first_row..first_row+size-1 joined by '</row>' (first_row a multiple of size): one rendered
        block per phase in the period serves every block of that phase, the leading digits of its row
        numbers and its period rows put in by a few str.replace -- the text `text` gives each row. None
        where the rows do not all lie past the extras and inside the rows."""
        i = first_row - self.first
        if first_row < 2 * size or i < len(self.extra) or i < 0 or i + size > self.count or self._no_blocks:
            return None  # (below 2B the row above block R holds fewer leading digits)
        phase, k0 = i % self.period, i // self.period
        blk = self._blocks.get((phase, size)) or self._block(phase, size)
        if blk is None:
            return None
        text, offsets = blk
        text = text.replace("\x01", str(first_row // size)).replace("\x02", str(first_row // size - 1))
        for ko in offsets:
            text = text.replace(_PERIOD_HOLES[ko], str(self.e0 + k0 + ko))
        return text

    def _block(self, phase, B):
        n = self.period
        if (phase + B - 1) // n >= len(_PERIOD_HOLES):  # short periods: too many period rows in a block
            self._no_blocks = True
            return None
        rows, offsets = [], set()
        low = f"%0{len(str(B)) - 1}d"  # B a power of ten: row R + j is str(R // B) + low % j
        for j in range(B):
            d, ko = (phase + j) % n, (phase + j) // n
            offsets.add(ko)
            hole = {"r": "\x01" + low % j, "p": "\x01" + low % (j - 1) if j else "\x02" + low % (B - 1),
                    "d": str(self.d0 + d), "e": _PERIOD_HOLES[ko]}
            rows.append(self.formats[d == 0] % hole)
        if len(self._blocks) >= 64:
            self._blocks.clear()
        blk = self._blocks[(phase, B)] = ("</row>".join(rows), sorted(offsets))
        return blk

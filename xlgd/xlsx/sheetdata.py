"""A worksheet part's `<sheetData>` text, streamed in pieces of whole rows, and checked.

A part longer than one chunk is inflated ahead in a thread (`Prefetch`), decoded as strict UTF-8, cut at
`</row>` boundaries (memory flat in the row count) and, after its cells, checked to
close the worksheet. Row numbers and cell addresses outside Excel's grid are errors
naming the part; a shape the fast scanner does not read raises `Fallback`.
"""

from __future__ import annotations

import codecs
import re

from ..errors import XlgdError, shorten
from .refs import FormulaSyntaxError, split_ref

MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's last row and column (XFD)
MAX_ROW_BYTES = 64 << 20
WORKSHEET_END = re.compile(r"</worksheet>\s*(?:<!--.*?-->\s*|<\?[^>]*\?>\s*)*\Z", re.DOTALL)
# A row numbered with seven digits or more, or from 0 (a cell's r starts with its column letters):
# checked only where found. The literal start keeps the search cheap (a small share of the scan).
ODD_ROW = re.compile(r' r="(\d{7,}|0\d*)"')


def checked_rows(pieces, where):
    """The pieces, each checked for rows outside Excel's (every reader of `bodies` gets them so:
    the scanner and the workbook evaluator's own row reader); returns what `pieces` returns."""
    while True:
        try:
            piece = next(pieces)
        except StopIteration as stop:
            return stop.value
        for row in ODD_ROW.findall(piece):
            row_number(row, where)
        yield piece


def row_number(number, where) -> None:
    """A row's `r` attribute (`number`, optional) must be a row of Excel's grid; its cells carry their own
    addresses, but Excel calls a file with row 0 or row 10^5000 damaged, and so does xlgd."""
    if number is not None and not (number.isdigit() and len(number) < 8 and 1 <= int(number) <= MAX_ROW):
        raise XlgdError(f"{where} has a row numbered {shorten(number, 20)!r}, outside Excel's rows 1..{MAX_ROW:,}")


def cell_address(ref, where, before=(1, 0)) -> tuple:
    """(row, col) of a cell's `r` attribute, inside Excel's grid; an error naming the part otherwise.

    A cell without `r` is the one after the cell before it in its row (`before`: that cell's
    (row, col), or (row, 0) at the start of a row), as ECMA-376 lets a writer leave it out."""
    if ref is None:
        r, col = before[0], before[1] + 1
        if not (1 <= r <= MAX_ROW and col <= MAX_COL):
            raise XlgdError(f"{where} has a cell without an address that falls outside Excel's grid "
                            f"(A1:XFD{MAX_ROW})")
        return r, col
    try:
        r, col, _, _ = split_ref(ref)
    except FormulaSyntaxError:
        raise XlgdError(f"{where} has a cell with address {shorten(ref, 20)!r}") from None
    if not (1 <= r <= MAX_ROW and 1 <= col <= MAX_COL):
        raise XlgdError(f"{where} has a cell at {shorten(ref, 20)}, outside Excel's grid (A1:XFD{MAX_ROW})")
    return r, col


def decoded(chunks, where):
    """The text of a part's chunks (UTF-8, strictly), piece by piece."""
    dec = codecs.getincrementaldecoder("utf-8")()
    while True:
        data = chunks.next()
        try:
            text = dec.decode(data, not data)
        except UnicodeDecodeError as e:
            raise XlgdError(f"{where} is not UTF-8 text as it declares (byte {e.object[e.start:e.start + 1]!r})") from None
        if text:
            yield text
        if not data:
            return


def sheet_data_start(text, where):
    """(the text after `<sheetData ...>`, whether it was `<sheetData/>`)."""
    buf = ""
    for piece in text:
        buf += piece
        i = buf.find("<sheetData")
        if i < 0:
            if len(buf) > MAX_ROW_BYTES:
                raise Fallback
            continue
        if buf[i - 1:i] == ":":
            raise Fallback
        j = buf.find(">", i)
        if j >= 0:
            return buf[j + 1:], buf[j - 1] == "/"
    raise XlgdError(f"{where} has no <sheetData> (every worksheet has one)")


def row_pieces(text, buf, where):
    """Yield the sheetData body in pieces of whole rows; return the text after </sheetData>."""
    while True:
        end = buf.find("</sheetData>")
        if end >= 0:
            yield buf[:end]
            return buf[end + len("</sheetData>"):]
        cut = buf.rfind("</row>")
        if cut >= 0:
            yield buf[:cut + 6]
            buf = buf[cut + 6:]
        elif len(buf) > MAX_ROW_BYTES:
            raise XlgdError(f"{where} has a row of more than {MAX_ROW_BYTES >> 20} MB; not a sheet xlgd reads")
        piece = next(text, None)
        if piece is None:
            raise XlgdError(f"{where} is truncated (no </sheetData>)")
        buf += piece


def check_tail(tail, text, where):
    """The rest of a worksheet after its cells must close it: a part cut short after </sheetData>,
    or with something after </worksheet>, is damaged even though every cell was read."""
    for piece in text:
        tail = tail[-4096:] + piece
    if not WORKSHEET_END.search(tail[-8192:]):
        raise XlgdError(f"{where} is not well-formed XML after its cells (cut short, or more after </worksheet>)")


class Prefetch:
    """Reads the next piece of a zip member in a thread while the caller works on this one:
    zlib inflates without holding the GIL, so on a big sheet the reading costs
    almost nothing. The first piece is read on entering; a member that fits in it starts no
    thread. Errors (damaged zip, bomb guards) are
    raised in the caller, in order; leaving the `with` early stops the thread first."""

    def __init__(self, stream, size):
        import queue
        import threading

        self.f, self.size = stream, size
        self.q = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.first = None  # (data, error) read on entering, until `next` hands it over

    def _read(self) -> tuple:
        try:
            return self.f.read(self.size), None
        except BaseException as e:  # handed over, raised in the reader's thread
            return b"", e

    def _run(self):
        import queue

        while not self.stop.is_set():
            item = self._read()
            while not self.stop.is_set():
                try:
                    self.q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not item[0]:
                return

    def __enter__(self):
        data, err = self.first = self._read()
        if err is None and len(data) == self.size:  # more to come: inflated ahead while this piece is read
            self.t.start()
        return self

    def next(self) -> bytes:
        if self.first is not None:
            (data, err), self.first = self.first, None
        elif self.t.ident is None:  # the first piece was the whole member
            data, err = b"", None
        else:
            data, err = self.q.get()
        if err is not None:
            raise err
        return data

    def __exit__(self, *exc):
        self.stop.set()
        if self.t.ident is not None:
            self.t.join()


class Fallback(Exception):
    """The fast scanner cannot read this sheet: read it with lxml (`cells(sheet, force_xml=True)`)."""

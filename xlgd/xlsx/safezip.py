"""Open an .xlsx/.xlsm as a zip without trusting it.

Whatever a hostile or broken file can do to a reader is refused here, ahead of parsing any part,
in one plain sentence (an `XlgdError`): not a regular file; not a zip, an old .xls or an encrypted
workbook (OLE containers); a truncated or corrupt zip; too many members (from the
end-of-central-directory record and the directory's entries, counted ahead of `zipfile`); names that leave the package or
that two members share; decompression bombs (declared sizes and ratios checked, inflated bytes
capped); DTDs and entity declarations in any XML part. `xml_parser()` and `iterparse()` use lxml
with entity resolution, DTD loading and network access off. Limits are module constants.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib

from lxml import etree

from ..errors import XlgdError, shorten

# A workbook of 1,000 sheets has ~3,000 members; every member's prolog is read at open, so this
# also bounds that work.
MAX_MEMBERS = 10_000
# A million-row formula sheet is ~1.5 GB of XML; more than this is not a workbook a learner made.
MAX_MEMBER_BYTES = 8 << 30
MAX_TOTAL_BYTES = 16 << 30
# Sheet XML deflates 10-40x; bombs deflate ~1000x. Small members may be anything.
MAX_RATIO = 250
RATIO_FLOOR = 4 << 20
# A whole package may inflate MAX_RATIO x its file size, or this much whatever its size.
TOTAL_RATIO_FLOOR = 64 << 20
ROOT_BYTES = 1 << 20  # how far into a part its root element's start tag must be
PROLOG_BYTES = 64 << 10  # a part's XML declaration and comments ahead of its root element
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_DOCTYPE_TEXT = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(r"<[A-Za-z_:]")


def _tail_entry_count(stream, size):
    """Entries the zip declares, from its end-of-central-directory record(s)."""
    back = min(size, 65536 + 22)
    stream.seek(size - back)
    tail = stream.read(back)
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) < i + 22:
        return None
    (count,) = struct.unpack("<H", tail[i + 10:i + 12])
    j = tail.rfind(b"PK\x06\x06", 0, i)  # zip64 record, when 0xFFFF entries or more
    if j >= 0 and len(tail) >= j + 40:
        (count64,) = struct.unpack("<Q", tail[j + 32:j + 40])
        count = max(count, count64)
    return count


def _directory_entries(stream, most: int) -> int:
    """How many entries the central directory holds, counted up to `most`: zipfile reads the
    directory by its size, whatever count the end record gives, one object an entry. The walk
    stops at the first bytes that are not an entry (zipfile then says what is wrong)."""
    try:
        end = zipfile._EndRecData(stream)
    except OSError:
        return 0
    if not end:
        return 0
    size_cd = end[zipfile._ECD_SIZE]
    at = end[zipfile._ECD_LOCATION] - size_cd  # where zipfile will look (data prepended included)
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:
        at -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    stop, n = at + size_cd, 0
    while n < most and at + 46 <= stop:
        stream.seek(at)
        head = stream.read(46)
        if len(head) < 46 or head[:4] != b"PK\x01\x02":
            break
        name, extra, comment = struct.unpack("<HHH", head[28:34])
        at += 46 + name + extra + comment
        n += 1
    return n


def _ole_kind(stream) -> str:
    stream.seek(0)
    head = stream.read(1 << 20)
    if "EncryptionInfo".encode("utf-16-le") in head or "EncryptedPackage".encode("utf-16-le") in head:
        return "is password-protected (an encrypted workbook); save an unprotected copy and verify that"
    return "is an old binary Excel file (.xls), not .xlsx; save it as .xlsx (Excel Workbook) first"


def _open_regular(path):
    """The file opened for reading, if it is a regular file: (file object, size).

    A directory, FIFO, socket or device is refused without reading it (opening a FIFO
    for reading blocks until a writer comes; /dev/zero never ends). O_NONBLOCK makes the open
    itself return at once even if the path was swapped for a FIFO after the stat."""
    st = os.stat(path)  # FileNotFoundError, PermissionError -> the CLI's one line
    if stat.S_ISDIR(st.st_mode):
        raise XlgdError(f"{path} is a directory, not a workbook")
    if not stat.S_ISREG(st.st_mode):
        raise XlgdError(f"{path} is {_kind(st.st_mode)}, not a workbook file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise XlgdError(f"{path} is {_kind(st.st_mode)}, not a workbook file")
    return os.fdopen(fd, "rb"), st.st_size


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _kind(mode) -> str:
    for test, what in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _checked_members(path, infos, size) -> dict:
    """{name: ZipInfo}, after refusing what no workbook has: unsafe or clashing names, encrypted
    members, and sizes or ratios of a decompression bomb (each member and all of them)."""
    out, lower, total = {}, set(), 0
    for zi in infos:
        name = zi.filename
        if _unsafe_name(name):
            raise XlgdError(f"{path} has a zip member named {shorten(repr(name), 60)} (outside the package); "
                            "not a workbook")
        if _CONTROL_CHARS.search(name):  # a part name is a URI: a damaged directory entry ran into its bytes
            raise XlgdError(f"{path} is damaged: a zip member name holds control characters "
                            f"({shorten(repr(name), 60)})")
        if name.lower() in lower:
            raise XlgdError(f"{path} has two zip members named {name!r}; refusing an ambiguous package")
        lower.add(name.lower())
        if zi.flag_bits & 0x1:
            raise XlgdError(f"{path} has encrypted zip members; not a workbook xlgd can read")
        if zi.file_size > MAX_MEMBER_BYTES:
            raise XlgdError(f"{path}: member {name} declares {zi.file_size >> 20} MB uncompressed (limit "
                            f"{MAX_MEMBER_BYTES >> 20} MB); refusing a possible zip bomb (a decompression bomb)")
        if zi.file_size > RATIO_FLOOR and zi.file_size > MAX_RATIO * max(zi.compress_size, 1):
            raise XlgdError(f"{path}: member {name} inflates {zi.file_size // max(zi.compress_size, 1)}x "
                            f"(limit {MAX_RATIO}x); refusing a possible zip bomb (a decompression bomb)")
        total += zi.file_size
        out[name] = zi
    if total > MAX_TOTAL_BYTES or (total > TOTAL_RATIO_FLOOR and total > MAX_RATIO * max(size, 1)):
        raise XlgdError(f"{path} declares {total >> 20} MB uncompressed in all, from {max(size >> 20, 1)} MB; "
                        f"refusing a possible zip bomb (a decompression bomb)")
    return out


def _unsafe_name(name: str) -> bool:
    n = name.replace("\\", "/")
    return (not n or n.startswith("/") or "\0" in n or re.match(r"[A-Za-z]:", n) is not None
            or ".." in n.split("/"))


def _prolog_problem(head: bytes, complete: bool) -> str | None:
    """What is wrong with the prolog of an XML part (UTF-8 or UTF-16), given its first bytes:
    a DTD or entity declaration ahead of the root element, or no root element in sight."""
    text = _prolog_text(head)
    if text is None:
        return None  # not XML: an image, vbaProject.bin
    root = _ROOT_START.search(text)
    if _DOCTYPE_TEXT.search(text[:root.start()] if root else text):
        return "declares a DTD/entities, which no workbook part may have; refusing it (XML entity expansion)"
    if root is None and not complete:
        return f"has no root element in its first {PROLOG_BYTES >> 10} KB; refusing it"
    return None


def _utf16(head: bytes) -> str | None:
    """The UTF-16 codec the first bytes of a part are in (by BOM or by '<' and a NUL), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return {b"<\0": "utf-16-le", b"\0<": "utf-16-be"}.get(head[:2])


def _prolog_text(head: bytes):
    """The start of an XML part as text, or None for a part that is not XML (images, vbaProject)."""
    enc = _utf16(head)
    text = head[:len(head) & ~1].decode(enc, "replace") if enc else head.decode("utf-8", "replace")
    text = text.lstrip("\ufeff \t\r\n")
    return text if text.startswith("<") else None


class SafeZip:
    """A checked zip: `read(name)` and `open(name)` inflate with a byte cap."""

    def __init__(self, path):
        self.path = str(path)
        self._file, size = _open_regular(self.path)
        try:
            self._check_container(size)
            self.zf = zipfile.ZipFile(self._file)
            self.infos = _checked_members(self.path, self.zf.infolist(), size)
            # Parts are named case-insensitively in OPC (no two may differ only in case: checked).
            self._lower = {n.lower(): n for n in self.infos}
            self._refuse_dtds()
        except zipfile.BadZipFile as e:
            self._file.close()
            raise XlgdError(f"{self.path} is truncated or damaged ({e})") from None
        except (zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
            self._file.close()
            raise XlgdError(f"{self.path} is truncated or damaged ({e})") from None
        except BaseException:
            self._file.close()
            raise

    def _check_container(self, size):
        """Not a zip, an OLE file (.xls, encrypted), no zip directory, too many members: refused."""
        f = self._file
        magic = f.read(8)
        if magic == OLE_MAGIC:
            raise XlgdError(f"{self.path} {_ole_kind(f)}")
        if not magic.startswith(b"PK"):
            what = "is empty" if size == 0 else "is not an .xlsx workbook (not a zip file)"
            raise XlgdError(f"{self.path} {what}")
        count = _tail_entry_count(f, size)
        if count is None:
            raise XlgdError(f"{self.path} is truncated or damaged (its zip directory is missing)")
        if count > MAX_MEMBERS:
            raise XlgdError(f"{self.path} has {count} zip members (limit {MAX_MEMBERS}); not a workbook")
        if _directory_entries(f, MAX_MEMBERS + 1) > MAX_MEMBERS:
            raise XlgdError(f"{self.path} has more than {MAX_MEMBERS} zip members (its end record says {count}); "
                            f"not a workbook")
        f.seek(0)

    def _refuse_dtds(self):
        """OPC forbids DTDs in every part (Part 2, 8.1.4): look at each XML part's prolog at open, so a
        DTD in a part no command reads is refused as surely as one in the workbook part."""
        for name, zi in self.infos.items():
            if zi.file_size == 0 or name.endswith("/"):
                continue
            with self.open(name) as f:
                head = f.read(PROLOG_BYTES)
            problem = _prolog_problem(head, complete=zi.file_size <= len(head))
            if problem:
                raise XlgdError(f"{self.path}: part {name} {problem}")

    def close(self):
        self.zf.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def has(self, name) -> bool:
        return name.lstrip("/").lower() in self._lower

    def names(self):
        return list(self.infos)

    def _name(self, name):
        n = self._lower.get(name.lstrip("/").lower())
        if n is None:
            raise XlgdError(f"{self.path} is not a complete workbook: part {name} is missing")
        return n

    def open(self, name):
        """A file object over one member; inflated bytes are capped at its declared size."""
        n = self._name(name)
        try:
            raw = self.zf.open(n)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError) as e:
            raise XlgdError(f"{self.path} is damaged: cannot open {n} ({shorten(str(e), 80)})") from None
        return _Capped(raw, self.infos[n].file_size, self.path, n)

    def read(self, name, limit=256 << 20) -> bytes:
        n = self._name(name)
        if self.infos[n].file_size > limit:
            raise XlgdError(f"{self.path}: part {n} is {self.infos[n].file_size >> 20} MB, "
                            f"more than the {limit >> 20} MB such a part can sensibly be")
        with self.open(n) as f:
            return f.read()


class _Capped(io.RawIOBase):
    """Counts inflated bytes; turns zip/zlib failures into one-line errors."""

    def __init__(self, raw, declared, path, name):
        self.raw, self.left, self.path, self.name = raw, declared, path, name
        self.first = True

    def readable(self):
        return True

    def readinto(self, b):
        try:
            data = self.raw.read(min(len(b), max(self.left, 0) + 1))
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
            raise XlgdError(f"{self.path} is truncated or damaged: {self.name} ({e})") from None
        if len(data) > self.left:
            raise XlgdError(f"{self.path}: {self.name} inflates beyond its declared size; refusing it")
        if self.first and data:
            self.first = False
            if _DOCTYPE.search(data[:4096]):
                raise XlgdError(f"{self.path}: {self.name} declares a DTD/entities, which no workbook part "
                                f"has; refusing it (XML entity expansion)")
        self.left -= len(data)
        b[:len(data)] = data
        return len(data)

    def close(self):
        self.raw.close()
        super().close()


def xml_parser(keep_comments: bool = False):
    """An lxml parser that resolves no entities, loads no DTD and never touches the network.

    keep_comments: for parts that are edited and written back (charts fix keeps every byte it can)."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                           remove_comments=not keep_comments)


def parse_xml(data: bytes, what: str = "a workbook part", keep_comments: bool = False):
    """The one way xlgd parses an XML part (see xml_parser); `what` names it in errors."""
    if _DOCTYPE.search(data[:4096]):
        raise XlgdError(f"{what} declares a DTD/entities; refusing it (XML entity expansion)")
    check_encoding(data[:ROOT_BYTES], what)
    try:
        return etree.fromstring(data, xml_parser(keep_comments))
    except etree.XMLSyntaxError as e:
        raise XlgdError(f"{what} is not well-formed XML ({e})") from None


def iterparse(fileobj, what: str = "a workbook part", **kw):
    """lxml iterparse with the same hardening as `xml_parser()`; `what` names the part in errors."""
    events = etree.iterparse(fileobj, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                             remove_comments=True, **kw)
    try:
        yield from events
    except etree.XMLSyntaxError as e:
        raise XlgdError(f"{what} is not well-formed XML ({e})") from None


def root_element(source, where: str):
    """(root element without children, 'UTF-8' or 'UTF-16') of the XML stream f, reading no more
    than its start; an error naming the part when it is empty, not XML, not well-formed, or not
    in the encoding it declares."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, load_dtd=False,
                                 no_network=True, huge_tree=False)
    head, encoding = b"", None
    try:
        while len(head) < ROOT_BYTES:
            data = source.read(8192)
            if not data:
                if head.strip():
                    parser.close()  # raises what is wrong with it
                break
            encoding = encoding or check_encoding(data, where)
            head += data
            parser.feed(data)
            for _, el in parser.read_events():
                return el, encoding
    except etree.XMLSyntaxError as e:
        bad = _bad_utf8(head) if encoding == "UTF-8" else None
        raise XlgdError(f"{where} {bad or f'is not well-formed XML ({e})'}") from None
    what = "is empty" if not head.strip() else f"has no root element in its first {ROOT_BYTES >> 10} KB"
    raise XlgdError(f"{where} {what}")


def _bad_utf8(data: bytes):
    """What is wrong, when bytes that should be UTF-8 are not (lxml says only "not well-formed");
    a character cut at the end of `data` is not counted."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(data) - 3:
            return f"is not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start:,})"
    return None


def check_encoding(head: bytes, what: str) -> str:
    """The part's encoding, if it is one OOXML allows (UTF-8, UTF-16) and the bytes agree with
    what the part declares; otherwise an error naming the part (lxml would read a UTF-8 part
    that says UTF-16 without a word)."""
    utf16_bytes = _utf16(head) is not None
    m = re.match(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)", head)
    declared = m.group(1).decode().upper().replace("_", "-") if m else None
    if declared is not None and declared not in ("UTF-8", "UTF8", "UTF-16", "UTF16", "US-ASCII", "ASCII"):
        raise XlgdError(f"{what} declares encoding {declared[:20]}; workbook parts are UTF-8 or UTF-16")
    if declared in ("UTF-16", "UTF16") and not utf16_bytes:
        raise XlgdError(f"{what} declares UTF-16 but its bytes are not UTF-16")
    return "UTF-16" if utf16_bytes else "UTF-8"

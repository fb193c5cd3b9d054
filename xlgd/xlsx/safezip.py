"""Open an .xlsx/.xlsm as a zip without trusting it.

Everything a hostile or broken file can do to a reader is stopped here,
before any part is parsed, with one plain sentence (an `XlgdError`):

* not a zip at all, an old binary .xls, or a password-protected workbook
  (both are OLE/CFB containers: recognised by their magic bytes and, for
  encryption, the `EncryptionInfo` stream name);
* truncated or corrupt zips (no end-of-central-directory record, CRC or
  deflate errors while reading);
* huge member counts: the entry count is read from the end-of-central-
  directory record ourselves *before* `zipfile` builds one object per
  entry;
* decompression bombs: every member's declared size and compression ratio
  is checked before it is opened, and the bytes actually inflated are
  counted and capped (a lying header cannot make us inflate more);
* XML entity expansion: OOXML parts never carry a DTD, so a part whose
  prolog declares one is refused, and `xml_parser()` / `iterparse()` use
  lxml with entity resolution, DTD loading and network access all off.

Limits are module constants so `diff` and tests can share them.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib

from lxml import etree

from ..errors import XlgdError

MAX_MEMBERS = 20_000
# A million-row formula sheet is ~1.5 GB of XML; more than this is not a workbook a learner made.
MAX_MEMBER_BYTES = 8 << 30
MAX_TOTAL_BYTES = 16 << 30
# Sheet XML deflates 10-40x; bombs deflate ~1000x. Small members may be anything.
MAX_RATIO = 250
RATIO_FLOOR = 4 << 20
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


def _tail_entry_count(f, size):
    """Entries the zip declares, from its end-of-central-directory record(s)."""
    back = min(size, 65536 + 22)
    f.seek(size - back)
    tail = f.read(back)
    i = tail.rfind(b"PK\x05\x06")
    if i < 0:
        return None
    (count,) = struct.unpack("<H", tail[i + 10:i + 12])
    j = tail.rfind(b"PK\x06\x06", 0, i)  # zip64 record, when 0xFFFF entries or more
    if j >= 0 and len(tail) >= j + 40:
        (count64,) = struct.unpack("<Q", tail[j + 32:j + 40])
        count = max(count, count64)
    return count


def _ole_kind(path) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if "EncryptionInfo".encode("utf-16-le") in head or "EncryptedPackage".encode("utf-16-le") in head:
        return "is password-protected (an encrypted workbook); save an unprotected copy and verify that"
    return "is an old binary Excel file (.xls), not .xlsx; save it as .xlsx (Excel Workbook) first"


class SafeZip:
    """A checked zip: `read(name)` and `open(name)` inflate with a byte cap."""

    def __init__(self, path):
        self.path = str(path)
        if os.path.isdir(self.path):
            raise XlgdError(f"{self.path} is a directory, not a workbook")
        size = os.path.getsize(self.path)  # FileNotFoundError -> the CLI's one line
        with open(self.path, "rb") as f:
            magic = f.read(8)
            if magic == OLE_MAGIC:
                raise XlgdError(f"{self.path} {_ole_kind(self.path)}")
            if not magic.startswith(b"PK"):
                what = "is empty" if size == 0 else "is not an .xlsx workbook (not a zip file)"
                raise XlgdError(f"{self.path} {what}")
            count = _tail_entry_count(f, size)
        if count is None:
            raise XlgdError(f"{self.path} is truncated or damaged (its zip directory is missing)")
        if count > MAX_MEMBERS:
            raise XlgdError(f"{self.path} has {count} zip members (limit {MAX_MEMBERS}); not a workbook")
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
            raise XlgdError(f"{self.path} is truncated or damaged ({e})") from None
        self.infos = {}
        total = 0
        for zi in self.zf.infolist():
            if zi.flag_bits & 0x1:
                raise XlgdError(f"{self.path} has encrypted zip members; not a workbook xlgd can read")
            if zi.file_size > MAX_MEMBER_BYTES:
                raise XlgdError(f"{self.path}: member {zi.filename} declares {zi.file_size >> 20} MB "
                                f"uncompressed (limit {MAX_MEMBER_BYTES >> 20} MB); refusing a possible zip bomb (a decompression bomb)")
            if zi.file_size > RATIO_FLOOR and zi.file_size > MAX_RATIO * max(zi.compress_size, 1):
                raise XlgdError(f"{self.path}: member {zi.filename} inflates {zi.file_size // max(zi.compress_size, 1)}x "
                                f"(limit {MAX_RATIO}x); refusing a possible zip bomb (a decompression bomb)")
            total += zi.file_size
            self.infos[zi.filename] = zi
        if total > MAX_TOTAL_BYTES:
            raise XlgdError(f"{self.path} declares {total >> 20} MB uncompressed in all; refusing a possible zip bomb (a decompression bomb)")
        # Parts are named case-insensitively in OPC.
        self._lower = {n.lower(): n for n in self.infos}

    def close(self):
        self.zf.close()

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
            raise XlgdError(f"{self.path} is damaged: cannot open {n} ({e})") from None
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
    try:
        return etree.fromstring(data, xml_parser(keep_comments))
    except etree.XMLSyntaxError as e:
        raise XlgdError(f"{what} is not well-formed XML ({e})") from None


def iterparse(fileobj, **kw):
    """lxml iterparse with the same hardening as `xml_parser()`."""
    return etree.iterparse(fileobj, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                           remove_comments=True, **kw)

"""Bad inputs: one line on stderr, exit 2, no traceback, quickly."""

import struct
import zipfile

import pytest

from tests.verify_helpers import verify


def _one_line(r):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xlgd: "), r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    from xlgd.pipeline import build
    from xlgd.recipe.template import Overrides, load_recipe

    p = tmp_path_factory.mktemp("bad") / "g.xlsx"
    build(load_recipe("graddesc", Overrides(epochs=1)), p)
    return p


def test_not_a_zip(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("hello, not a workbook\n")
    assert "not a zip" in _one_line(verify(p))


@pytest.mark.slow
def test_empty_and_missing(tmp_path):
    p = tmp_path / "e.xlsx"
    p.write_bytes(b"")
    assert "empty" in _one_line(verify(p))
    _one_line(verify(tmp_path / "nope.xlsx"))


@pytest.mark.slow
def test_truncated(good, tmp_path):
    p = tmp_path / "t.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "truncated" in _one_line(verify(p))


def _cfb(stream_name):
    # Enough of an OLE compound file for the magic and a directory entry name.
    head = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
    return head + stream_name.encode("utf-16-le") + b"\0" * 1024


@pytest.mark.slow
def test_password_protected(tmp_path):
    p = tmp_path / "p.xlsx"
    p.write_bytes(_cfb("EncryptionInfo") + _cfb("EncryptedPackage"))
    assert "password-protected" in _one_line(verify(p))


@pytest.mark.slow
def test_old_xls(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(_cfb("Workbook"))
    assert ".xls" in _one_line(verify(p))


@pytest.mark.slow
def test_decompression_bomb(tmp_path):
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros, ~300 KB compressed
                f.write(chunk)
    assert "zip bomb" in _one_line(verify(p))


def test_lying_size_header(good, tmp_path):
    """A member whose header claims a small size: inflation stops at the declared size."""
    data = bytearray(good.read_bytes())
    # Find the sharedStrings-free sheet part's central directory entry and shrink its size claim.
    with zipfile.ZipFile(good) as z:
        zi = next(i for i in z.infolist() if i.filename == "xl/workbook.xml")
    cd = data.rfind(b"PK\x01\x02" + data[data.find(b"PK\x01\x02") + 4:data.find(b"PK\x01\x02") + 4], 0)
    i = data.find(b"xl/workbook.xml", data.find(b"PK\x01\x02"))
    entry = data.rfind(b"PK\x01\x02", 0, i)
    struct.pack_into("<I", data, entry + 24, 10)  # uncompressed size
    p = tmp_path / "lie.xlsx"
    p.write_bytes(bytes(data))
    _one_line(verify(p))
    assert cd is not None and zi is not None


def test_entity_expansion(good, tmp_path):
    p = tmp_path / "lol.xlsx"
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
           '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>')
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            zout.writestr(zi, lol if zi.filename == "xl/workbook.xml" else zin.read(zi.filename))
    assert "entity" in _one_line(verify(p))


def test_many_members(tmp_path):
    p = tmp_path / "many.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        for i in range(20_001):
            z.writestr(f"m/{i}", b"")
    assert "members" in _one_line(verify(p))


def test_xlsx_with_no_known_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "budget"
    wb.active["A1"] = 1
    p = tmp_path / "other.xlsx"
    wb.save(p)
    assert "no sheet xlgd knows" in _one_line(verify(p))


def test_bad_rtol(good):
    assert "--rtol" in _one_line(verify(good, "--rtol", "-1"))


def test_json_on_unreadable_or_unknown_input_is_still_a_json_object(tmp_path):
    import json

    p = tmp_path / "x.xlsx"
    p.write_text("hello, not a workbook\n")
    r = verify(p, "--json")
    assert "not a zip" in _one_line(r)
    d = json.loads(r.stdout)
    assert d["ok"] is False and d["exit_code"] == 2 and "not a zip" in d["error"]
    r = verify(tmp_path / "missing.xlsx", "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False

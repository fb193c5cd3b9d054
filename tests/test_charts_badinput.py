"""Bad input to `xlgd charts`: one line on stderr, exit 2, no traceback."""

import resource
import zipfile

import pytest

from tests.test_charts_helpers import REPO, build_book, cli_main, edit_member
from xlgd.xlsx import package

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def run(capsys, *argv):
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(capsys, path, *words, command="check"):
    extra = ["-o", str(path) + ".out.xlsx"] if command == "fix" else []
    rc, out, err = run(capsys, "charts", command, str(path), *extra)
    assert rc == 2
    assert err.startswith("xlgd: ") and err.count("\n") == 1, err
    assert "Traceback" not in err + out
    for w in words:
        assert w in err.lower(), err
    return err


def ole_file(path, stream_names):
    body = b"".join(n.encode("utf-16-le") + b"\0\0" for n in stream_names)
    path.write_bytes(OLE + b"\0" * 504 + body + b"\0" * 2048)
    return path


@pytest.mark.parametrize("command", ["check", "fix"])
def test_not_a_zip(tmp_path, capsys, command):
    p = tmp_path / "notes.xlsx"
    p.write_text("just text\n")
    assert_one_line(capsys, p, "not a zip", command=command)


@pytest.mark.parametrize("command", ["check", "fix"])
def test_truncated(tmp_path, capsys, command):
    good = build_book(tmp_path / "good.xlsx")
    p = tmp_path / "cut.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_one_line(capsys, p, "truncated", command=command)


def test_old_xls(tmp_path, capsys):
    assert_one_line(capsys, ole_file(tmp_path / "old.xls", ["Workbook", "SummaryInformation"]), ".xls")


def test_password_protected(tmp_path, capsys):
    p = ole_file(tmp_path / "locked.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    assert_one_line(capsys, p, "password")


def test_zip_without_workbook(tmp_path, capsys):
    p = tmp_path / "other.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    assert_one_line(capsys, p, "not an excel workbook")


def test_missing_file_and_directory(tmp_path, capsys):
    assert_one_line(capsys, tmp_path / "nope.xlsx", "no such file")
    assert_one_line(capsys, tmp_path, "directory")


def test_decompression_bomb_is_refused_before_reading(tmp_path, capsys):
    p = tmp_path / "bomb.xlsx"
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        # Written in chunks so building the bomb does not itself raise peak memory.
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            for _ in range(48):
                f.write(chunk)
    assert p.stat().st_size < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert_one_line(capsys, p, "decompression bomb")
    # Nothing was inflated: peak memory (KiB) grew by far less than the 48 MiB member.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 16 * 1024


def test_caps_apply_to_every_member(tmp_path, capsys, monkeypatch):
    good = build_book(tmp_path / "good.xlsx")
    monkeypatch.setattr(package, "MAX_PART_BYTES", 100)
    assert_one_line(capsys, good, "refusing")


def test_hostile_xml_entities_are_not_expanded(tmp_path, capsys):
    good = build_book(tmp_path / "good.xlsx")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart">'
            b'<c:chart><c:title><c:tx><c:v>&b;</c:v></c:tx></c:title></c:chart></c:chartSpace>')
    edit_member(good, "xl/charts/chart3.xml", lambda _: bomb)
    rc, out, err = run(capsys, "charts", "check", str(good))
    assert "aaaaaaaaaa" not in out
    assert "Traceback" not in out + err


def test_real_command_line_has_no_traceback(tmp_path):
    import subprocess
    import sys
    p = tmp_path / "cut.xlsx"
    p.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    proc = subprocess.run([sys.executable, "-m", "xlgd", "charts", "check", str(p)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("xlgd: ") and proc.stderr.count("\n") == 1, proc.stderr

"""`xlgd generate` never destroys an edit: it replaces only its own untouched output.

The hidden record holds a digest of every part as xlgd wrote it; a workbook
edited by openpyxl, by a zip-level change of one cell, or another program's
file is kept byte for byte (exit 2, one line) unless --force.
"""

import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

import xlgd
from xlgd.errors import XlgdError
from xlgd.recipe import record
from xlgd.xlsx.package import Package

ROOT = Path(__file__).resolve().parents[1]


def xlgd_cli(*args):
    return subprocess.run([sys.executable, "-m", "xlgd", *args], capture_output=True, text=True, cwd=ROOT)


def generate(out, *extra):
    return xlgd_cli("generate", "graddesc", "--epochs", "1", "-q", "-o", str(out), *extra)


def refused(r, words):
    lines = r.stderr.strip().splitlines()
    return r.returncode == 2 and len(lines) == 1 and words in lines[0] and "--force" in lines[0]


def unchanged(path) -> bool:
    with Package.open(path) as pkg:
        return record.unchanged(pkg)


def edit_sheet_part(path, sheet, pattern, replacement):
    """Replace one match in a sheet's part, every other member copied as it is (a zip-level edit)."""
    with Package.open(path) as pkg:
        part = pkg.sheet_part(sheet)
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == part:
                data, n = re.subn(pattern, replacement, data)
                assert n == 1
            z.writestr(info, data)


def edit_one_cell_in_zip(path, sheet, cell, value):
    """A zip-level edit of one cell's cached number."""
    edit_sheet_part(path, sheet, rb'(<c r="%s"[^>]*><v>)[^<]*(</v>)' % cell.encode(), rb"\g<1>%s\g<2>" % value.encode())


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "g.xlsx"
    r = generate(out)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


def test_a_fresh_output_is_sealed_and_replaced_by_the_next_generate(tmp_path, fresh):
    out = tmp_path / "g.xlsx"
    out.write_bytes(fresh)
    assert unchanged(out)
    os.chmod(out, 0o640)
    r = generate(out, "--set", "basic.lr=0.0003")
    assert r.returncode == 0, r.stderr
    assert openpyxl.load_workbook(out)["basic"]["A3"].value == 0.0003
    assert unchanged(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_an_openpyxl_edit_is_kept_unless_force(tmp_path, fresh):
    out = tmp_path / "g.xlsx"
    out.write_bytes(fresh)
    wb = openpyxl.load_workbook(out)
    wb["basic"]["A3"] = 0.0005
    wb.save(out)
    edited = out.read_bytes()
    assert not unchanged(out)
    r = generate(out)
    assert refused(r, "was changed since xlgd wrote it"), r.stderr
    assert out.read_bytes() == edited
    r = generate(out, "--force")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == fresh


EDITS = [
    ("one cell", lambda out: edit_one_cell_in_zip(out, "basic", "A3", "0.5"), "was changed since xlgd wrote it"),
    ("the record's note", lambda out: edit_sheet_part(out, record.META_SHEET, rb"Keep it so", b"Keep it, so"),
     "was changed since xlgd wrote it"),
    ("the record's digest row", lambda out: edit_sheet_part(out, record.META_SHEET, b"<t>written</t>", b"<t>notes</t>"),
     "has no digest of what xlgd wrote"),
    ("replaced by notes", lambda out: out.write_text("my notes"), "is not a workbook xlgd wrote"),
    ("replaced by another program's workbook", lambda out: openpyxl.Workbook().save(out), "was not written by xlgd"),
]


@pytest.mark.parametrize("edit,words", [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_an_edit_or_a_foreign_file_is_kept(tmp_path, fresh, edit, words):
    out = tmp_path / "g.xlsx"
    out.write_bytes(fresh)
    edit(out)
    edited = out.read_bytes()
    assert edited != fresh
    r = generate(out)
    assert refused(r, words), r.stderr
    assert out.read_bytes() == edited


def test_the_edited_cell_is_what_a_reader_sees(tmp_path, fresh):
    out = tmp_path / "g.xlsx"
    out.write_bytes(fresh)
    edit_one_cell_in_zip(out, "basic", "A3", "0.5")
    assert openpyxl.load_workbook(out)["basic"]["A3"].value == 0.5


def test_the_api_refuses_too_and_force_writes(tmp_path, fresh):
    out = tmp_path / "g.xlsx"
    out.write_bytes(fresh)
    edit_one_cell_in_zip(out, "basic", "A3", "0.5")
    edited = out.read_bytes()
    with pytest.raises(XlgdError, match="force=True"):
        xlgd.generate("graddesc", out, epochs=1)
    assert out.read_bytes() == edited
    xlgd.generate("graddesc", out, epochs=1, force=True)
    assert out.read_bytes() == fresh


def test_help_says_it():
    r = xlgd_cli("generate", "--help")
    assert "--force" in r.stdout and "edited" in r.stdout

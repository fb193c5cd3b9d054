"""LibreOffice headless, our real spreadsheet peer.

Two ways to ask it:
* `recalc_xlsx(book, outdir)` -- open with a profile that forces a full
  recalculation on load and save as .xlsx (values rounded to 15 digits by
  LibreOffice 7.4's writer);
* `recalc_values(book)` -- recalculate in a running LibreOffice and read
  every cell as an exact double over UNO (needs Debian's python3-uno).

Every call gets its own profile directory: two soffice processes sharing
one block each other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import XlgdError

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def system_python_with_uno() -> str | None:
    for py in ("/usr/bin/python3", shutil.which("python3")):
        if py and os.path.exists(py):
            r = subprocess.run([py, "-c", "import uno"], capture_output=True)
            if r.returncode == 0:
                return py
    return None


def make_profile(root: Path) -> Path:
    """A fresh LibreOffice profile whose Calc recalculates every formula on load."""
    (root / "user").mkdir(parents=True, exist_ok=True)
    (root / "user" / "registrymodifications.xcu").write_text(_XCU)
    return root


def recalc_xlsx(book, outdir, timeout=600) -> Path:
    exe = soffice()
    if not exe:
        raise XlgdError("LibreOffice (soffice) is not installed; apt-get install libreoffice-calc")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlgd-lo-") as prof:
        make_profile(Path(prof))
        try:
            r = subprocess.run([exe, f"-env:UserInstallation=file://{prof}", "--headless", "--calc",
                                "--convert-to", "xlsx", "--outdir", str(outdir), str(book)],
                               capture_output=True, text=True, timeout=timeout, env=dict(os.environ, TMPDIR=prof))
        except subprocess.TimeoutExpired:
            raise XlgdError(f"LibreOffice took longer than {timeout:.0f} s to recalculate {book}") from None
    out = outdir / (Path(book).stem + ".xlsx")
    if r.returncode != 0 or not out.exists():
        raise XlgdError(f"LibreOffice could not recalculate {book}: {r.stderr.strip() or r.stdout.strip()}")
    return out


def recalc_values(book, timeout=900) -> dict:
    """{sheet: {"values": rows of cells (float, str or ''), "errors": {"r,c": code}}} (0-based r, c)."""
    exe, py = soffice(), system_python_with_uno()
    if not exe or not py:
        raise XlgdError("exact LibreOffice values need soffice and python3-uno (apt-get install python3-uno)")
    script = Path(__file__).with_name("_lo_dump.py")
    with tempfile.TemporaryDirectory(prefix="xlgd-lo-") as tmp:
        prof = make_profile(Path(tmp) / "profile")
        out = Path(tmp) / "values.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["TMPDIR"] = str(Path(tmp))  # LibreOffice's own temporary files go where we clean up
        try:
            r = subprocess.run([py, str(script), exe, str(prof), str(Path(book).resolve()), str(out)],
                               capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise XlgdError(f"LibreOffice took longer than {timeout:.0f} s to recalculate {book}") from None
        if r.returncode != 0 or not out.exists():
            raise XlgdError(f"LibreOffice could not recalculate {book}: {(r.stderr or r.stdout).strip()[-300:]}")
        return json.loads(out.read_text())

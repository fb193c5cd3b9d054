"""Render each chart of a workbook to PNG with LibreOffice headless.

LibreOffice draws the chart itself (axes, labels, deleted axes and all), so
the picture is what a spreadsheet shows, not a re-plot. A private soffice
profile per call keeps concurrent runs from blocking each other; the UNO
client runs under the system Python that ships the `uno` module and exports
every chart shape with `GraphicExportFilter`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from ..xlsx.package import Package
from .model import NS
from ..errors import XlgdError

# Runs under the system python3 (it has `uno`); argv: book, outdir, pipe, jobs json.
UNO_CLIENT = r'''
import json, re, sys, time
import uno
from com.sun.star.beans import PropertyValue

def pv(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p

book, outdir, pipe, jobs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
ctx = None
for _ in range(600):
    try:
        ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
        break
    except Exception:
        time.sleep(0.1)
if ctx is None:
    sys.exit("LibreOffice did not start")
smgr = ctx.ServiceManager
desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(book), "_blank", 0,
                                   (pv("Hidden", True), pv("ReadOnly", True), pv("MacroExecutionMode", 0)))
if doc is None:
    sys.exit("LibreOffice could not open the workbook")
CHART_CLSID = "12DCAE26-281F-416F-A234-C3086127382E"
written = []
try:
    sheets = doc.Sheets
    for i in range(sheets.Count):
        sheet = sheets.getByIndex(i)
        names = jobs.get(sheet.Name, [])
        page = sheet.DrawPage
        k = 0
        for j in range(page.Count):
            shape = page.getByIndex(j)
            if shape.ShapeType != "com.sun.star.drawing.OLE2Shape":
                continue
            if str(getattr(shape, "CLSID", "")).upper() != CHART_CLSID:
                continue
            # a name of our own, or one made safe here: a sheet name must not become a path
            name = names[k] if k < len(names) else re.sub(r"[^A-Za-z0-9_.-]+", "_", sheet.Name) + "-chart%d" % (k + 1)
            k += 1
            size = shape.Size
            # 1/100 mm -> pixels at 150 dpi
            w = max(200, int(size.Width / 2540.0 * 150))
            h = max(150, int(size.Height / 2540.0 * 150))
            url = uno.systemPathToFileUrl(outdir + "/" + name + ".png")
            fd = uno.Any("[]com.sun.star.beans.PropertyValue",
                         (pv("PixelWidth", w), pv("PixelHeight", h)))
            exporter = smgr.createInstanceWithContext("com.sun.star.drawing.GraphicExportFilter", ctx)
            exporter.setSourceDocument(shape)
            exporter.filter((pv("URL", url), pv("MediaType", "image/png"), pv("FilterData", fd)))
            written.append(name + ".png")
finally:
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
print(json.dumps(written))
'''


def _uno_python() -> str:
    for cand in (os.environ.get("XLGD_UNO_PYTHON"), "/usr/bin/python3", shutil.which("python3")):
        if not cand or not os.path.exists(cand):
            continue
        try:
            ok = subprocess.run([cand, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return cand
    raise XlgdError("charts render needs LibreOffice's Python bridge (Debian: apt-get install python3-uno)")


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "chart"


def chart_names(book: Package) -> dict:
    """{sheet name: [png base name, …]} in the drawing's anchor order."""
    out = {}
    for s in book.sheets:
        sheet, part = s.name, s.part
        names = []
        for rtype, drawing in book.rels(part).values():
            if rtype != "drawing" or not book.has(drawing):
                continue
            rels = book.rels(drawing)
            root = book.xml(drawing, root="{%s}wsDr" % NS["xdr"])
            for chart in root.iter("{%s}chart" % NS["c"]):
                rid = chart.get("{%s}id" % NS["r"])
                if rid in rels:
                    base = rels[rid][1].rsplit("/", 1)[-1].rsplit(".", 1)[0]
                    names.append(f"{_safe(sheet)}-{base}")
        if names:
            out[sheet] = names
    return out


def render_book(book_path, outdir, timeout: float = 120) -> list:
    book_path = Path(book_path)
    with Package.open(book_path) as book:
        jobs = chart_names(book)
    if not jobs:
        return []
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise XlgdError("charts render needs LibreOffice (soffice) on PATH")
    py = _uno_python()
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise XlgdError(f"-o {outdir} is a file; give a folder for the PNGs")
    created = [p for p in (outdir, *outdir.parents) if not p.exists()]
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        # Drawn into a scratch folder and moved in at the end: a failure leaves no half set of PNGs.
        with tempfile.TemporaryDirectory(prefix=".xlgd-render-", dir=outdir) as scratch:
            drawn = _render_retrying(soffice, py, book_path, Path(scratch), jobs, timeout)
            for p in drawn:
                os.replace(p, outdir / p.name)
            return [outdir / p.name for p in drawn]
    except BaseException:
        for d in created:  # the folders this call made, deepest first
            shutil.rmtree(d, ignore_errors=True)
        raise


def _render_retrying(soffice, py, book_path, outdir, jobs, timeout) -> list:
    # A fresh profile can make soffice restart itself once while the bridge
    # is connecting; one retry with a new profile covers that.
    error = None
    for _ in range(2):
        try:
            return _render_once(soffice, py, book_path, outdir, jobs, timeout)
        except _Failed as e:
            error = e
    raise XlgdError(f"LibreOffice could not render {book_path}: {error}")


class _Failed(Exception):
    pass


def _render_once(soffice, py, book_path, outdir, jobs, timeout) -> list:
    tag = uuid.uuid4().hex
    profile = Path(tempfile.gettempdir()) / f"xlgd-lo-{tag}"
    pipe = f"xlgd-{tag}"
    scratch = profile / "tmp"  # LibreOffice's own temporary files, removed with the profile
    try:
        scratch.mkdir(parents=True)
        office = subprocess.Popen(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--nologo",
             "--norestore", "--nodefault", "--nolockcheck",
             f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env=dict(os.environ, TMPDIR=str(scratch)))
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        try:
            proc = subprocess.run([py, "-c", UNO_CLIENT, str(book_path.resolve()), str(outdir.resolve()), pipe,
                                   json.dumps(jobs)], capture_output=True, timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            raise _Failed(f"took longer than {timeout:.0f}s") from None
        if proc.returncode != 0:
            raise _Failed((proc.stderr.strip().splitlines() or ["unknown error"])[-1])
        try:
            return [outdir / n for n in json.loads(proc.stdout.strip().splitlines()[-1])]
        except (ValueError, IndexError):
            raise _Failed("no list of written images") from None
    finally:
        _stop(office)
        shutil.rmtree(profile, ignore_errors=True)


def _stop(office: subprocess.Popen):
    try:
        office.wait(timeout=15)
        return
    except subprocess.TimeoutExpired:
        pass
    # Only the process group this call started (start_new_session above).
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(office.pid, sig)
        except ProcessLookupError:
            return
        try:
            office.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            time.sleep(0.1)

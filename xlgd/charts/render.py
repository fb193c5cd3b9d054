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
from dataclasses import dataclass, field
from pathlib import Path

from ..xlsx.package import Package
from .model import NS, read_chart
from ..errors import XlgdError

# Runs under the system python3 (it has `uno`); argv: book, outdir, pipe, jobs json, media type.
# Prints one JSON line: the images written, the series count of every chart LibreOffice loaded (per
# sheet, in draw-page order), and every question LibreOffice asked while loading (an interaction
# request: a broken package it offers to repair, a format warning). Measured with LibreOffice 7.4 on
# damaged files: a bad CRC or a missing chart part loads without any question -- the chart is just
# empty -- and a malformed sheet loads without its charts, so the counts are what tell.
UNO_CLIENT = r'''
import json, re, sys, time
import uno, unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.task import XInteractionHandler

def pv(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p

class Handler(unohelper.Base, XInteractionHandler):
    """Answers every question as a person clicking "repair" / "OK" would, and writes it down."""
    def __init__(self):
        self.asked = []
    def handle(self, request):
        r = request.getRequest()
        what = getattr(r, "typeName", "") or type(r).__name__
        msg = getattr(r, "Message", "") or ""
        code = getattr(r, "ErrCode", None)
        self.asked.append((what + (" %s" % hex(code) if code is not None else "") + (": " + msg if msg else "")).strip())
        conts = request.getContinuations()
        pick = [c for c in conts if "Approve" in str(c)] or list(conts)
        if pick:
            pick[0].select()

def series_count(shape):
    try:
        n = 0
        for cs in shape.Model.getFirstDiagram().getCoordinateSystems():
            for ct in cs.getChartTypes():
                n += len(ct.getDataSeries())
        return n
    except Exception:
        return 0

book, outdir, pipe, jobs, media = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
ext = {"image/png": "png", "image/x-emf": "emf"}[media]
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
handler = Handler()
doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(book), "_blank", 0,
                                   (pv("Hidden", True), pv("ReadOnly", True), pv("MacroExecutionMode", 0),
                                    pv("InteractionHandler", handler)))
if doc is None:
    sys.exit("LibreOffice could not open the workbook" + ("".join("; it asked: " + a for a in handler.asked)))
CHART_CLSID = "12DCAE26-281F-416F-A234-C3086127382E"
written, loaded = [], {}
try:
    sheets = doc.Sheets
    for i in range(sheets.Count):
        sheet = sheets.getByIndex(i)
        names = jobs.get(sheet.Name, [])
        page = sheet.DrawPage
        counts = loaded.setdefault(sheet.Name, [])
        for j in range(page.Count):
            shape = page.getByIndex(j)
            if shape.ShapeType != "com.sun.star.drawing.OLE2Shape":
                continue
            if str(getattr(shape, "CLSID", "")).upper() != CHART_CLSID:
                continue
            k = len(counts)
            counts.append(series_count(shape))
            # a name of our own, or one made safe here: a sheet name must not become a path
            name = names[k] if k < len(names) else re.sub(r"[^A-Za-z0-9_.-]+", "_", sheet.Name) + "-chart%d" % (k + 1)
            size = shape.Size
            # 1/100 mm -> pixels at 150 dpi
            w = max(200, int(size.Width / 2540.0 * 150))
            h = max(150, int(size.Height / 2540.0 * 150))
            url = uno.systemPathToFileUrl(outdir + "/" + name + "." + ext)
            fd = uno.Any("[]com.sun.star.beans.PropertyValue",
                         (pv("PixelWidth", w), pv("PixelHeight", h)))
            exporter = smgr.createInstanceWithContext("com.sun.star.drawing.GraphicExportFilter", ctx)
            exporter.setSourceDocument(shape)
            exporter.filter((pv("URL", url), pv("MediaType", media), pv("FilterData", fd)))
            written.append(name + "." + ext)
finally:
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
print(json.dumps({"written": written, "loaded": loaded, "asked": handler.asked}))
'''
MEDIA = {"png": "image/png", "emf": "image/x-emf"}


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


@dataclass(frozen=True)
class Declared:
    """A chart the file declares: its image name, part, and series count (None: missing or unreadable)."""

    name: str
    part: str
    series: int | None
    why: str = ""


def _declared(book: Package, sheet: str, rels: dict, rid: str) -> Declared:
    part = rels[rid][1] if rid in rels else f"(relationship {rid})"
    name = f"{_safe(sheet)}-{part.rsplit('/', 1)[-1].rsplit('.', 1)[0]}"
    if rid not in rels or not book.has(part):
        return Declared(name, part, None, "the chart part is missing")
    try:
        return Declared(name, part, len(read_chart(book.xml(part), part).series))
    except XlgdError as e:
        return Declared(name, part, None, f"the chart part is not readable ({e})")


def declared_charts(book: Package) -> dict:
    """{sheet name: [Declared, …]} in each drawing's anchor order (LibreOffice's draw-page order)."""
    out = {}
    for s in book.sheets:
        charts = []
        for rtype, drawing in book.rels(s.part).values() if s.part else ():
            if rtype != "drawing" or not book.has(drawing):
                continue
            rels = book.rels(drawing)
            for chart in book.xml(drawing, root="{%s}wsDr" % NS["xdr"]).iter("{%s}chart" % NS["c"]):
                charts.append(_declared(book, s.name, rels, chart.get("{%s}id" % NS["r"])))
        if charts:
            out[s.name] = charts
    return out


def repairs(declared: dict, loaded: dict, asked: list) -> list:
    """What LibreOffice did not load as the file says, one line each (empty: it loaded it all)."""
    out = [f"LibreOffice asked while loading: {a}" for a in asked]
    for sheet, charts in declared.items():
        got = loaded.get(sheet, [])
        if len(got) < len(charts):
            out.append(f"sheet {sheet!r}: LibreOffice loaded {len(got)} of the {len(charts)} charts the file has")
        for d, n in zip(charts, got):
            if d.series is None:
                out.append(f"{sheet}: {d.part}: {d.why}; LibreOffice drew "
                           + ("an empty chart" if n == 0 else f"what it could read of it ({n} series)"))
            elif n < d.series:
                out.append(f"{sheet}: {d.part}: LibreOffice loaded {n} of its {d.series} series")
    return out


@dataclass
class Rendered:
    paths: list                                   # the images written
    repairs: list = field(default_factory=list)   # what LibreOffice had to repair or leave out


def render_book(book_path, outdir, timeout: float = 120, fmt: str = "png") -> Rendered:
    book_path = Path(book_path)
    with Package.open(book_path) as book:
        declared = declared_charts(book)
    if not declared:
        return Rendered([])
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise XlgdError("charts render needs LibreOffice (soffice) on PATH")
    py = _uno_python()
    jobs = {sheet: [d.name for d in charts] for sheet, charts in declared.items()}
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise XlgdError(f"-o {outdir} is a file; give a folder for the images")
    created = [p for p in (outdir, *outdir.parents) if not p.exists()]
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        # Drawn into a scratch folder and moved in at the end: a failure leaves no half set of images.
        with tempfile.TemporaryDirectory(prefix=".xlgd-render-", dir=outdir) as scratch:
            got = _render_retrying(soffice, py, book_path, Path(scratch), jobs, timeout, MEDIA[fmt])
            for n in got["written"]:
                os.replace(Path(scratch) / n, outdir / n)
            return Rendered([outdir / n for n in got["written"]], repairs(declared, got["loaded"], got["asked"]))
    except BaseException:
        for d in created:  # the folders this call made, deepest first
            shutil.rmtree(d, ignore_errors=True)
        raise


def _render_retrying(soffice, python, book_path, outdir, jobs, timeout, media) -> dict:
    # A fresh profile can make soffice restart itself once while the bridge
    # is connecting; one retry with a new profile covers that.
    error = None
    for _ in range(2):
        try:
            return _render_once(soffice, python, book_path, outdir, jobs, timeout, media)
        except _Failed as e:
            error = e
    raise XlgdError(f"LibreOffice could not render {book_path}: {error}")


class _Failed(Exception):
    pass


def _render_once(soffice, python, book_path, outdir, jobs, timeout, media) -> dict:
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
            proc = subprocess.run([python, "-c", UNO_CLIENT, str(book_path.resolve()), str(outdir.resolve()), pipe,
                                   json.dumps(jobs), media], capture_output=True, timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            raise _Failed(f"took longer than {timeout:.0f}s") from None
        if proc.returncode != 0:
            raise _Failed((proc.stderr.strip().splitlines() or ["unknown error"])[-1])
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
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

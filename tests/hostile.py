"""Hostile and damaged inputs, and the contract every xlgd command keeps on them.

The contract, checked by `Run.problems` for one command on one input:

* the exit code is one the case allows (0 ok, 1 problems/differences, 2 error; never 3, the
  CLI's "internal error", and never an exception out of `xlgd.cli.main`);
* on exit 2 stderr is exactly one line `xlgd: ...` of at most MAX_LINE characters, with no
  Python internals in it (no traceback, no exception class names);
* no Python warning was raised: `run_cli` sets XLGD_DEBUG=1, under which the CLI prints the
  warnings it otherwise keeps from the user (and the traceback of an internal error);
* it took at most SECONDS of CPU time (wall time on a shared machine measures the neighbours;
  a hang is caught by the callers' watchdog) and its peak resident memory grew by at most PEAK_MB;
* the input's bytes are unchanged and the folder holds nothing new except the outputs the
  command was asked for (no temp files, no half-written outputs, no LibreOffice profiles).

Commands run in-process (`xlgd.cli.main(argv)` with stdout/stderr captured): a subprocess per run
costs ~0.4 s of start-up, which would leave room for a tenth of the inputs in CI's minute.
Peak memory is the kernel's high-water mark (VmHWM, reset per run through /proc/self/clear_refs),
so lxml's and numpy's C allocations count as well as Python's.

The damage (truncate, flip, MALFORMED, ATTACKS, the *_EDITS tables, bombs, record_edit, hostile
names, template_variants, CSV_VARIANTS) is applied to two workbooks made inside the tests: a small
generated xlgd workbook (two sheets, charts, the hidden record) and a graddesc-style macro
workbook like Jeremy Howard's (sheet `basic`, shared formulas, sheet-local names, a chart with no
categories, a vbaProject part).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

SECONDS = 2.0
PEAK_MB = 200
MAX_LINE = 300
INTERNALS = re.compile(r"Traceback|File \"|line \d+, in |\b[A-Z]\w*(Error|Exception|Warning)\b|object at 0x|<class '"
                       r"|\blxml\.|\bzipfile\.|\bnumpy\.")

# --------------------------------------------------------------------------------------------
# Running one command and checking the contract


def _rss_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (the peak) to the current resident size
        return True
    except OSError:
        return False


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def private_tmp():
    """A fresh temporary folder that `tempfile` hands out while the command runs, so whatever
    the command leaves there (its own temp files, LibreOffice profiles) is seen; other
    processes' files in /tmp are not."""
    old = tempfile.tempdir
    tmp = Path(tempfile.mkdtemp(prefix="hostile-tmp-"))
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        tempfile.tempdir = old


def digest(path: Path) -> str | None:
    try:
        if path.is_file() and not path.is_symlink():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    return None


@dataclass
class Run:
    argv: list
    rc: int | None
    out: str
    err: str
    seconds: float  # CPU time of this process (threads included): what load on a shared machine does not inflate
    peak_mb: float
    crash: str | None = None  # a traceback that escaped main()
    warned: list = field(default_factory=list)
    changed_inputs: list = field(default_factory=list)
    leftovers: list = field(default_factory=list)

    def problems(self, allowed=(0, 1, 2), seconds=SECONDS, peak_mb=PEAK_MB) -> list:
        """What broke the contract (empty when the run kept it)."""
        p = []
        if self.crash:
            p.append("exception escaped main():\n" + self.crash)
        if self.rc not in allowed:
            p.append(f"exit code {self.rc}, allowed {allowed}")
        if self.rc == 2 or self.rc == 3:
            lines = self.err.splitlines()
            if len(lines) != 1 or not lines[0].startswith("xlgd: "):
                p.append(f"stderr is not one 'xlgd: ' line ({len(lines)} lines)")
            elif len(lines[0]) > MAX_LINE:
                p.append(f"stderr line has {len(lines[0])} characters (> {MAX_LINE}): {lines[0][:400]!r}")
            m = INTERNALS.search(self.err)
            if m:
                p.append(f"stderr shows Python internals ({m.group(0)!r})")
        elif "Traceback" in self.err:
            p.append(f"traceback on stderr: {self.err[:2000]}")
        if re.search(r"\b[A-Z]\w*Warning\b", self.err):
            p.append(f"a warning reached stderr: {self.err[:1000]}")
        if self.warned:
            p.append(f"warnings raised: {self.warned[:3]}")
        if self.seconds > seconds:
            p.append(f"took {self.seconds:.2f} s of CPU (> {seconds} s)")
        if self.peak_mb > peak_mb:
            p.append(f"peak memory grew {self.peak_mb:.0f} MB (> {peak_mb} MB)")
        if self.changed_inputs:
            p.append(f"input changed: {self.changed_inputs}")
        if self.leftovers:
            p.append(f"left behind: {self.leftovers}")
        return p

    def describe(self) -> str:
        err = self.err
        if "Traceback" in err:  # the exception and where it was raised say the most
            frames = re.findall(r'File "([^"]+)", line (\d+)', err)
            last = [ln for ln in err.strip().splitlines() if ln and not ln.startswith(" ")]
            err = f"{' | '.join(last[-2:])} at {frames[-1][0].rsplit('/', 2)[-1]}:{frames[-1][1]}" if frames else err
        return f"xlgd {' '.join(map(str, self.argv))} -> {self.rc}; stderr {err[:500]!r}"


def run_cli(argv, inputs=(), folder: Path | None = None, outputs=(), cwd: Path | None = None) -> Run:
    """Run `xlgd argv` in-process and measure it (see the module doc).

    inputs: paths whose bytes must not change; folder: where nothing may be left except `outputs`."""
    from xlgd.cli import main

    argv = [str(a) for a in argv]
    return _measured(argv, lambda: main(argv), inputs, folder, outputs, cwd)


def run_api(fn, *args, inputs=(), folder: Path | None = None, name: str = "") -> Run:
    """Call a notebook API file function (xlgd.read ...) in-process, measured like a command: an
    XlgdError counts as exit 2 with its message as the one line, any other exception escapes
    (Run.crash), a return is exit 0."""
    from xlgd.errors import XlgdError

    def call():
        try:
            fn(*args)
        except XlgdError as e:
            print(f"xlgd: {e}", file=sys.stderr)
            return 2
        return 0

    return _measured([name or fn.__name__, *map(str, args)], call, inputs, folder, (), None)


def _measured(argv, call, inputs, folder, outputs, cwd) -> Run:
    before = {Path(p): digest(Path(p)) for p in inputs}
    listing = set(os.listdir(folder)) if folder else set()
    out, err = io.StringIO(), io.StringIO()
    crash, rc = None, None
    measured = _rss_reset()
    base_kb = _status_kb("VmRSS")
    old_cwd = os.getcwd()
    debug = os.environ.get("XLGD_DEBUG")
    os.environ["XLGD_DEBUG"] = "1"  # internal errors show their traceback, warnings are printed
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as caught, private_tmp() as tmp:
        warnings.simplefilter("always")
        try:
            if cwd:
                os.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = call()
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        except BaseException:  # noqa: BLE001 -- the point is to see any escape
            crash = traceback.format_exc()
        finally:
            seconds = time.process_time() - t0
            os.chdir(old_cwd)
            if debug is None:
                del os.environ["XLGD_DEBUG"]
            else:
                os.environ["XLGD_DEBUG"] = debug
        left_in_tmp = sorted(p.name for p in tmp.iterdir())
        shutil.rmtree(tmp, ignore_errors=True)
    peak = (_status_kb("VmHWM") - base_kb) / 1024 if measured else 0.0
    run = Run(argv, rc, out.getvalue(), err.getvalue(), seconds, peak, crash,
              [f"{w.category.__name__}: {w.message}" for w in caught])
    run.changed_inputs = [str(p) for p, h in before.items() if h is not None and digest(p) != h]
    if folder:
        allowed = {Path(o).name for o in outputs}
        run.leftovers = sorted(set(os.listdir(folder)) - listing - allowed)
    run.leftovers += [f"$TMPDIR/{n}" for n in left_in_tmp]
    return run


# --------------------------------------------------------------------------------------------
# The two workbooks the damage starts from

SMALL_TEMPLATE = """\
name = "fuzz"
title = "a small xlgd workbook for the hostile-input tests"
epochs = 2
[data]
source = "list"
x = [1, 2, 3, 4, 5]
[[sheets]]
name = "sgd"
optimizer = "sgd"
knobs = { lr = 0.01 }
[[sheets]]
name = "adam"
optimizer = "adam"
stability = true
knobs = { lr = 0.05 }
"""


def build_xlgd_book(folder: Path) -> Path:
    """A generated workbook: intro, data, two step sheets with charts, the hidden record."""
    from xlgd.pipeline import build
    from xlgd.recipe.template import load_recipe

    tpl = folder / "fuzz.toml"
    tpl.write_text(SMALL_TEMPLATE)
    out = folder / "fuzz.xlsx"
    build(load_recipe(str(tpl)), out)
    return out


GX = (14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21, 28, 20, 8, 64, 99, 70, 27,
      17, 8)
# Jeremy's `basic` sheet (../shared/reference/graddesc-layout.md, section 7.1): columns C..N of rows 4-32.
BASIC = {"C": "N{p}", "D": "M{p}", "E": "C{r}+D{r}*A{r}", "F": "(B{r}-E{r})^2",
         "G": "(((C{r}+0.01)+A{r}*D{r})-B{r})^2", "H": "(G{r}-F{r})/0.01", "I": "(((D{r}+0.01)*A{r}+C{r})-B{r})^2",
         "J": "(I{r}-F{r})/0.01", "K": "2*(E{r}-B{r})", "L": "K{r}*A{r}", "M": "D{r}-L{r}*$F$1",
         "N": "C{r}-K{r}*$F$1"}


def _basic_values(lr=0.0001):
    """The cached values, computed in each formula's own association."""
    rows, b, a = [], 1.0, 1.0
    for x in GX:
        y = 2.0 * x + 30.0
        pred = b + a * x
        err = (y - pred) ** 2
        g_ = (((b + 0.01) + x * a) - y) ** 2
        i_ = (((a + 0.01) * x + b) - y) ** 2
        k = 2 * (pred - y)
        l_ = k * x
        na, nb = a - l_ * lr, b - k * lr
        rows.append({"A": float(x), "B": y, "C": b, "D": a, "E": pred, "F": err, "G": g_, "H": (g_ - err) / 0.01,
                     "I": i_, "J": (i_ - err) / 0.01, "K": k, "L": l_, "M": na, "N": nb})
        b, a = nb, na
    return rows


def build_graddesc_book(folder: Path) -> Path:
    """A graddesc-style macro workbook: sheet `basic` as Jeremy laid it out, its formulas stored
    as shared formulas (as Excel saves them), sheet-local defined names, an 'Error by epoch' line
    chart with no categories, and a vbaProject part (bytes xlgd only ever copies)."""
    import xlsxwriter

    path = folder / "graddesc-style.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_vba_project(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"macros".ljust(504, b"\0")),
                       is_stream=True)
    intro = wb.add_worksheet("Sheet1")
    intro.write("A1", "graddesc-style workbook built by the hostile-input tests")
    ws = wb.add_worksheet("basic")
    ws.write("B1", "b")
    ws.write_number("C1", 1.0)
    ws.write("B2", "a")
    ws.write_number("C2", 1.0)
    ws.write("E1", "learn")
    ws.write_number("F1", 0.0001)
    for col, head in zip("ABCDEFGHIJKLMN", ["x", "y", "b", "a", "pred", "err^2", "errb1", "est de/db", "erra1",
                                            "est de/da", "de/db", "de/da", "new a", "new b"]):
        ws.write(f"{col}3", head)
    for i, row in enumerate(_basic_values()):
        r = 4 + i
        ws.write_number(f"A{r}", row["A"])
        ws.write_number(f"B{r}", row["B"])
        for col, f in BASIC.items():
            text = f.format(r=r, p=r - 1)
            if r == 4 and col in "CD":
                text = "C1" if col == "C" else "C2"
            ws.write_formula(f"{col}{r}", "=" + text, None, row[col])
    for name, ref in (("const", "$C$1"), ("slope", "$C$2"), ("lr", "$F$1"), ("lastconst", "$C$32"), ("lastslope", "$D$32"),
                      ("gradtarget", "#REF!")):
        wb.define_name(f"basic!{name}", f"=basic!{ref}" if ref[0] == "$" else f"={ref}")
    for i in range(25):
        ws.write_number(f"C{38 + i}", 1000.0 / (i + 1))
    ch = wb.add_chart({"type": "line"})
    ch.add_series({"values": "=basic!$C$38:$C$62", "marker": {"type": "circle"}})
    ch.set_title({"name": "Error by epoch"})
    ch.set_legend({"none": True})
    ws.insert_chart("E36", ch)
    wb.close()
    _share_formulas(path, "xl/worksheets/sheet2.xml")
    return path


def _share_formulas(path: Path, part: str):
    """Store each column's formulas of rows 5..32 as one shared formula, the way Excel does."""
    def share(xml: bytes) -> bytes:
        text = xml.decode()
        for col in BASIC:
            master = re.search(r'<c r="%s5"([^>]*)><f>([^<]*)</f>' % col, text)
            if not master:
                continue
            text = text.replace(master.group(0),
                                f'<c r="{col}5"{master.group(1)}><f t="shared" ref="{col}5:{col}32" si="{col}">'
                                f'{master.group(2)}</f>', 1)
            text = re.sub(r'(<c r="%s(?:[6-9]|[12][0-9]|3[0-2])"[^>]*>)<f>[^<]*</f>' % col,
                          r'\1<f t="shared" si="%s"/>' % col, text)
        return text.encode()

    rewrite(path, {part: share})


# --------------------------------------------------------------------------------------------
# Zip surgery


def members(data: bytes) -> list:
    """[(ZipInfo, bytes)] of a zip held in memory."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def zip_bytes(items, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of [(name or ZipInfo, bytes)], duplicates allowed (zipfile warns; we mean it)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", compression) as z:
            for info, data in items:
                name = info.filename if isinstance(info, zipfile.ZipInfo) else info
                zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                zi.compress_type = compression
                z.writestr(zi, data)
    return buf.getvalue()


def rewrite(path: Path, edits: dict):
    """Rewrite members of the zip at path in place: {name: fn(bytes) -> bytes}."""
    items = members(path.read_bytes())
    path.write_bytes(zip_bytes([(i, edits[i.filename](d) if i.filename in edits else d) for i, d in items]))


def with_part(data: bytes, name: str, new: bytes | None) -> bytes:
    """The zip with member `name` replaced (None: deleted; a new name is added at the end)."""
    items = members(data)
    out = [(i, new if i.filename == name else d) for i, d in items if i.filename != name or new is not None]
    if new is not None and all(i.filename != name for i, _ in items):
        out.append((name, new))
    return zip_bytes(out)


def add_record_sheet(src: Path, dest: Path, sheet_xml: bytes) -> Path:
    """A copy of the workbook at src with one more, hidden sheet `_xlgd` whose part is sheet_xml
    (a record sheet taken from a generated workbook, damaged or not)."""
    part, rid = "xl/worksheets/sheet99.xml", "rId99"
    edits = {
        "xl/workbook.xml": lambda x: x.replace(b"</sheets>", b'<sheet name="_xlgd" sheetId="99" state="hidden" r:id="'
                                               + rid.encode() + b'"/></sheets>'),
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(b"</Relationships>", b'<Relationship Id="' + rid.encode()
                                                          + b'" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                                          b'relationships/worksheet" Target="worksheets/sheet99.xml"/>'
                                                          b"</Relationships>"),
        "[Content_Types].xml": lambda x: x.replace(b"</Types>", b'<Override PartName="/' + part.encode() + b'" ContentType='
                                                   b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                                   b'worksheet+xml"/></Types>'),
    }
    items = [(i, edits[i.filename](d) if i.filename in edits else d) for i, d in members(src.read_bytes())]
    dest.write_bytes(zip_bytes(items + [(part, sheet_xml)]))
    return dest


def part_names(data: bytes) -> list:
    return [i.filename for i, _ in members(data)]


def xml_part_names(data: bytes) -> list:
    return [n for n in part_names(data) if n.endswith((".xml", ".rels", ".vml"))]


# --------------------------------------------------------------------------------------------
# The damage: each function takes a workbook's bytes (and what Hypothesis drew) and returns bytes


def truncate(data: bytes, frac: float) -> bytes:
    return data[: int(len(data) * frac)]


def flip(data: bytes, pos: float, xor: int, count: int = 1) -> bytes:
    b = bytearray(data)
    step = max(1, len(b) // (count + 1))
    start = int(len(b) * pos)
    for k in range(count):
        b[(start + k * step) % len(b)] ^= xor or 1
    return bytes(b)


def delete_member(data: bytes, name: str) -> bytes:
    return with_part(data, name, None)


def duplicate_member(data: bytes, name: str, other: bytes | None = None) -> bytes:
    items = members(data)
    extra = [(i, other if other is not None else d) for i, d in items if i.filename == name]
    return zip_bytes(items + extra)


# Malformed or odd XML for a part: each (label, fn(original bytes) -> bytes).
def _truncate_xml(x):
    return x[: max(1, len(x) * 2 // 3)]


def _swap_ns(x):
    return x.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                     b'xmlns="http://example.com/not-spreadsheetml"', 1)


def prefix_spreadsheetml(x: bytes) -> bytes:
    """The same part with SpreadsheetML written under the prefix x: (valid XML, the same content)."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    if ns not in x:
        return x
    head, sep, body = x.partition(b"?>") if x.startswith(b"<?xml") else (b"", b"", x)
    body = re.sub(rb"<(/?)([A-Za-z][\w]*)([\s/>])", lambda m: b"<" + m.group(1) + b"x:" + m.group(2) + m.group(3),
                  body)
    body = body.replace(ns, b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"', 1)
    return head + sep + body


MALFORMED = [
    ("truncated", _truncate_xml),
    ("empty", lambda x: b""),
    ("whitespace", lambda x: b"  \n"),
    ("json", lambda x: b'{"sheetData": [1, 2, 3]}'),
    ("nul bytes", lambda x: b"\0" * 64),
    ("nul inside", lambda x: x[: len(x) // 2] + b"\0" + x[len(x) // 2:]),
    ("garbage tag", lambda x: x.replace(b"><", b"><<", 1)),
    ("unclosed root", lambda x: re.sub(rb"</[^>]+>\s*$", b"", x)),
    ("second root", lambda x: x + b"<again/>"),
    ("wrong namespace", _swap_ns),
    ("not utf-8", lambda x: x.replace(b">", b">\xff\xfe\xfa", 3)),
    ("declared utf-16, is utf-8", lambda x: re.sub(rb'encoding="[^"]*"', b'encoding="UTF-16"', x, 1)
     if b"encoding=" in x[:100] else b'<?xml version="1.0" encoding="UTF-16"?>' + x),
    ("utf-16 with bom", lambda x: b"\xff\xfe" + x.decode("utf-8", "replace").replace('encoding="UTF-8"',
                                                                                       'encoding="UTF-16"').encode("utf-16-le")),
    ("prefixed spreadsheetml", prefix_spreadsheetml),
    ("huge attribute", lambda x: x.replace(b"<", b'<x:y xmlns:x="u" a="' + b"A" * 300_000 + b'"/><', 1)
     if x.count(b"<") > 2 else x),
    ("deep nesting", lambda x: re.sub(rb"(<[A-Za-z][^>]*[^/]>)", lambda m: m.group(1) + b"<d>" * 5000 + b"</d>" * 5000,
                                      x, count=1)),
]

LOL = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
       b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                for i in range(1, 10)) + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _after_decl(x: bytes, insert: bytes) -> bytes:
    if x.startswith(b"<?xml"):
        end = x.index(b"?>") + 2
        return x[:end] + insert + x[end:]
    return insert + x


ATTACKS = [
    ("billion laughs", lambda x: LOL + re.sub(rb"^<\?xml[^>]*\?>", b"", x).replace(b"><", b">&lol9;<", 1)),
    ("external entity", lambda x: XXE + re.sub(rb"^<\?xml[^>]*\?>", b"", x).replace(b"><", b">&x;<", 1)),
    ("doctype, no entities", lambda x: _after_decl(x, b"<!DOCTYPE worksheet>")),
    ("doctype after a long comment", lambda x: _after_decl(x, b"<!--" + b" " * 9000 + b"--><!DOCTYPE w [<!ENTITY e 'e'>]>")),
    ("doctype in utf-16", lambda x: b"\xff\xfe" + (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e "eeeeeeee">]>'
        + re.sub(r"^<\?xml[^>]*\?>", "", x.decode("utf-8", "replace"))).encode("utf-16-le")),
    ("parameter entity", lambda x: _after_decl(x, b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>')),
    ("xinclude", lambda x: x.replace(b"><", b'><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                            b'href="file:///etc/passwd" parse="text"/><', 1)),
]


BOMB = 64 << 20  # zeros that deflate ~1000x: four times the ratio limit (refused by ratio, not size)


@functools.lru_cache(maxsize=4)
def bomb_member(ratio_bytes: int = BOMB) -> bytes:
    """Deflate that inflates ~1000x to `ratio_bytes` of zeros (built once per size)."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    out = [z.compress(chunk) for _ in range(ratio_bytes >> 20)]
    out.append(z.flush())
    return b"".join(out)


@functools.lru_cache(maxsize=4)
def _zeros_crc(size: int) -> int:
    crc, chunk = 0, b"\0" * (1 << 20)
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return zlib.crc32(b"\0" * (size & ((1 << 20) - 1)), crc)


def zip_with_raw_member(data: bytes, name: str, deflated: bytes, size: int) -> bytes:
    """The zip plus one member of `size` zero bytes whose deflate stream is given (a bomb),
    with honest sizes and CRC."""
    crc = _zeros_crc(size)
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.file_size, zi.compress_size, zi.CRC = size, len(deflated), crc
        # zipfile has no public way to add pre-compressed bytes: write the records ourselves.
        z.fp.seek(z.start_dir)
        zi.header_offset = z.fp.tell()
        z.fp.write(zi.FileHeader(zip64=size > 0xFFFFFFFF))
        z.fp.write(deflated)
        z.start_dir = z.fp.tell()
        z.filelist.append(zi)
        z.NameToInfo[name] = zi
        z._didModify = True
    return buf.getvalue()


def hostile_names(data: bytes, kind: str) -> bytes:
    """A member with a dangerous or clashing name."""
    items = members(data)
    name = {"dotdot": "../../evil.xml", "absolute": "/etc/evil.xml", "backslash": "..\\..\\evil.xml",
            "case-duplicate": "XL/WORKBOOK.XML", "drive": "C:/evil.xml", "control": "xl/a\x01b.xml"}[kind]
    body = items[0][1] if kind != "case-duplicate" else next(d for i, d in items if i.filename == "xl/workbook.xml")
    return zip_bytes(items + [(name, body)])


def many_members(n: int = 25_000) -> bytes:
    return zip_bytes([(f"m/{i}", b"") for i in range(n)], zipfile.ZIP_STORED)


# Content that parses but asks for too much or points nowhere: applied to a part's text.
CHART_EDITS = [
    ("ptCount 1e9", lambda x: re.sub(rb'<c:ptCount val="\d+"/>', b'<c:ptCount val="1000000000"/>', x)),
    ("pt idx 1e9", lambda x: re.sub(rb'<c:pt idx="\d+">', b'<c:pt idx="999999999">', x, count=1)),
    ("whole column", lambda x: re.sub(rb"<c:f>([^<!]*!)[^<]*</c:f>", rb"<c:f>\1$A:$A</c:f>", x)),
    ("whole sheet", lambda x: re.sub(rb"<c:f>([^<!]*!)[^<]*</c:f>", rb"<c:f>\1$A$1:$XFD$1048576</c:f>", x)),
    ("whole rows", lambda x: re.sub(rb"<c:f>([^<!]*!)[^<]*</c:f>", rb"<c:f>\1$1:$1048576</c:f>", x)),
    ("past the last row", lambda x: re.sub(rb"<c:f>([^<!]*!)[^<]*</c:f>", rb"<c:f>\1$A$1:$A$99999999</c:f>", x)),
    ("bad references", lambda x: re.sub(rb"<c:f>[^<]*</c:f>", b"<c:f>(((</c:f>", x, count=1)),
    ("empty reference", lambda x: re.sub(rb"<c:f>[^<]*</c:f>", b"<c:f></c:f>", x, count=1)),
    ("three-part range", lambda x: re.sub(rb"<c:f>[^<]*</c:f>", b"<c:f>Sheet1!A1:B2:C3</c:f>", x, count=1)),
    ("union", lambda x: re.sub(rb"<c:f>([^<]*)</c:f>", rb"<c:f>(\1,\1)</c:f>", x, count=1)),
    ("missing sheet", lambda x: re.sub(rb"<c:f>[^<!]*!", b"<c:f>'no such sheet'!", x)),
    ("non-number cache", lambda x: re.sub(rb"<c:v>[^<]*</c:v>", b"<c:v>1e999999</c:v>", x)),
    ("huge number cache", lambda x: re.sub(rb"<c:v>[^<]*</c:v>", b"<c:v>" + b"9" * 5000 + b"</c:v>", x, count=3)),
    ("negative ptCount", lambda x: re.sub(rb'<c:ptCount val="\d+"/>', b'<c:ptCount val="-5"/>', x)),
]

SHEET_EDITS = [
    ("row 1e9", lambda x: re.sub(rb'<c r="([A-Z]+)\d+"', rb'<c r="\g<1>999999999"', x, count=1)),
    ("column past XFD", lambda x: re.sub(rb'<c r="[A-Z]+(\d+)"', rb'<c r="ZZZZ\1"', x, count=1)),
    ("lowercase address", lambda x: re.sub(rb'<c r="([A-Z]+)(\d+)"', lambda m: b'<c r="' + m.group(1).lower()
                                           + m.group(2) + b'"', x, count=1)),
    ("no address", lambda x: re.sub(rb'<c r="[A-Z]+\d+"', b"<c", x, count=3)),
    ("number 1e400", lambda x: re.sub(rb"<v>[^<]*</v>", b"<v>1e400</v>", x, count=5)),
    ("number nan", lambda x: re.sub(rb"<v>[^<]*</v>", b"<v>nan</v>", x, count=5)),
    ("number text", lambda x: re.sub(rb"<c ([^>]*)><v>[^<]*</v>", rb"<c \1><v>twelve</v>", x, count=5)),
    ("huge number text", lambda x: re.sub(rb"<v>[^<]*</v>", b"<v>" + b"9" * 5000 + b"</v>", x, count=3)),
    ("deep formula", lambda x: re.sub(rb"<f>[^<]*</f>", b"<f>" + b"(" * 20000 + b"1" + b")" * 20000 + b"</f>", x,
                                      count=1)),
    ("long formula", lambda x: re.sub(rb"<f>[^<]*</f>", b"<f>" + b"+".join([b"A1"] * 30000) + b"</f>", x, count=1)),
    ("deep unary", lambda x: re.sub(rb"<f>[^<]*</f>", b"<f>" + b"-" * 50000 + b"1</f>", x, count=1)),
    ("deep function", lambda x: re.sub(rb"<f>[^<]*</f>", b"<f>" + b"SQRT(" * 5000 + b"4" + b")" * 5000 + b"</f>", x,
                                       count=1)),
    ("whole-column formula", lambda x: re.sub(rb"<f>[^<]*</f>", b"<f>SUM(A:A)+SUM($1:$1048576)</f>", x, count=3)),
    ("shared formula never defined", lambda x: re.sub(rb"<f>[^<]*</f>", b'<f t="shared" si="77"/>', x, count=2)),
    ("shared formula with huge ref", lambda x: re.sub(rb'<f t="shared" ref="[^"]*"', b'<f t="shared" ref="A1:XFD1048576"',
                                                      x, count=1)),
    ("shared string out of range", lambda x: re.sub(rb'<c r="([A-Z]+\d+)"([^>]*) t="s"><v>\d+</v>',
                                                    rb'<c r="\1"\2 t="s"><v>99999999</v>', x, count=1)),
    ("shared string negative", lambda x: re.sub(rb'(t="s"[^>]*>)<v>\d+</v>', rb"\1<v>-1</v>", x, count=1)),
    ("error code garbage", lambda x: re.sub(rb"<c ([^>]*)><f>([^<]*)</f><v>[^<]*</v>",
                                            rb'<c \1 t="e"><f>\2</f><v>#WHAT?!</v>', x, count=3)),
    ("boolean garbage", lambda x: re.sub(rb"<c ([^>]*)><v>([^<]*)</v>", rb'<c \1 t="b"><v>maybe</v>', x, count=3)),
    ("row number of 5000 digits", lambda x: re.sub(rb'<row r="\d+"', b'<row r="' + b"7" * 5000 + b'"', x, count=1)),
    ("cell row of 5000 digits", lambda x: re.sub(rb'<c r="([A-Z]+)\d+"', b'<c r="\\g<1>' + b"7" * 5000 + b'"', x, count=1)),
    ("rows out of order", lambda x: re.sub(rb'<row r="(\d+)"', lambda m: b'<row r="' + str(10**6 - int(m.group(1))).encode()
                                           + b'"', x)),
    ("sheetData twice", lambda x: x.replace(b"</sheetData>", b"</sheetData><sheetData/>", 1)),
]

WORKBOOK_EDITS = [
    ("sheet without part", lambda x: re.sub(rb'r:id="rId\d+"', b'r:id="rId999"', x, count=1)),
    ("sheet name too long", lambda x: re.sub(rb'<sheet name="[^"]*"', b'<sheet name="' + b"s" * 5000 + b'"', x, count=1)),
    ("two sheets one name", lambda x: re.sub(rb'<sheet name="[^"]*"', b'<sheet name="same"', x, count=2)),
    ("name to #REF!", lambda x: re.sub(rb"(<definedName[^>]*>)[^<]*", rb"\1#REF!", x)),
    ("name to a whole column", lambda x: re.sub(rb"(<definedName[^>]*>)[^<]*", rb"\1data!$A:$A", x)),
    ("localSheetId huge", lambda x: re.sub(rb'localSheetId="\d+"', b'localSheetId="99999999999999999999"', x)),
    ("calcPr garbage", lambda x: re.sub(rb"<calcPr[^>]*/>", b'<calcPr calcId="x" calcMode="sideways"/>', x)),
    ("no sheets", lambda x: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", x, flags=re.DOTALL)),
]

RELS_EDITS = [
    ("target outside", lambda x: re.sub(rb'Target="[^"]*"', b'Target="../../../../etc/passwd"', x, count=1)),
    ("absolute target", lambda x: re.sub(rb'Target="[^"]*"', b'Target="/xl/missing.xml"', x, count=1)),
    ("self target", lambda x: re.sub(rb'Target="[^"]*"', b'Target="_rels/workbook.xml.rels"', x, count=1)),
    ("external target", lambda x: re.sub(rb'(Target="[^"]*")', rb'\1 TargetMode="External"', x, count=1)),
    ("empty target", lambda x: re.sub(rb'Target="[^"]*"', b'Target=""', x)),
]


def edits_for(name: str) -> list:
    """The content edits that fit a part (CHART_EDITS for a chart, ...; none for most parts)."""
    if "charts/chart" in name:
        return CHART_EDITS
    if "worksheets/sheet" in name:
        return SHEET_EDITS
    if name == "xl/workbook.xml":
        return WORKBOOK_EDITS
    if name.endswith(".rels"):
        return RELS_EDITS
    return []


def record_part(data: bytes) -> str | None:
    """The member holding the hidden _xlgd record's JSON (an inline string of the record sheet)."""
    return next((i.filename for i, d in members(data) if re.search(rb'(&quot;|")resolved(&quot;|")', d)), None)


def record_edit(kind: str):
    """Damage the hidden _xlgd record's JSON (apply to the bytes of `record_part`)."""
    def edit(x: bytes) -> bytes:
        m = re.search(rb'<t[^>]*>(\{[^<]*?(?:&quot;|")resolved(?:&quot;|")[^<]*)</t>', x, re.DOTALL)
        if not m:
            return x
        from html import escape, unescape

        text = unescape(m.group(1).decode())
        try:
            rec = json.loads(text)
        except ValueError:
            return x
        if kind == "truncated":
            new = text[: len(text) // 2]
        elif kind == "epochs 1e9":
            rec["resolved"]["epochs"] = 10 ** 9
            for s in rec["resolved"].get("sheets", []):
                s.pop("epochs", None)
            new = json.dumps(rec)
        elif kind == "deep json":
            new = json.dumps(dict(rec, extra=None))[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
        elif kind == "wrong types":
            rec["resolved"]["sheets"] = [{"name": 5, "knobs": "lr"}, 7]
            new = json.dumps(rec)
        elif kind == "nan knob":
            for s in rec["resolved"].get("sheets", []):
                s.setdefault("knobs", {})["lr"] = float("nan")
            new = json.dumps(rec)
        elif kind == "huge data":
            rec["resolved"]["data"] = {"source": "random", "n": 10 ** 12}
            new = json.dumps(rec)
        elif kind == "resolved not a dict":
            rec["resolved"] = [1, 2]
            new = json.dumps(rec)
        elif kind == "x is a string":
            rec["resolved"]["data"]["x"] = "123"
            new = json.dumps(rec)
        else:
            raise ValueError(kind)
        return x[: m.start(1)] + escape(new, quote=False).encode() + x[m.end(1):]

    return edit


RECORD_KINDS = ["truncated", "epochs 1e9", "deep json", "wrong types", "nan knob", "huge data",
                "resolved not a dict", "x is a string"]


# --------------------------------------------------------------------------------------------
# Hostile templates (for `xlgd generate`)

def template_variants() -> list:
    """(label, TOML text, extra argv) that `generate` must refuse with one line (or accept cleanly)."""
    t = SMALL_TEMPLATE
    v = [
        ("nan knob", t.replace("lr = 0.01", "lr = nan"), []),
        ("inf knob", t.replace("lr = 0.01", "lr = inf"), []),
        ("-inf knob", t.replace("lr = 0.01", "lr = -inf"), []),
        ("string knob", t.replace("lr = 0.01", 'lr = "fast"'), []),
        ("numeric string knob", t.replace("lr = 0.01", 'lr = "0.01"'), []),
        ("bool knob", t.replace("lr = 0.01", "lr = true"), []),
        ("list knob", t.replace("lr = 0.01", "lr = [0.01]"), []),
        ("table knob", t.replace("lr = 0.01", "lr = { a = 1 }"), []),
        ("huge knob", t.replace("lr = 0.01", "lr = 1e308"), []),
        ("knobs a string", t.replace("knobs = { lr = 0.01 }", 'knobs = "lr=0.01"'), []),
        ("x a string", t.replace("x = [1, 2, 3, 4, 5]", 'x = "123"'), []),
        ("x a number", t.replace("x = [1, 2, 3, 4, 5]", "x = 123"), []),
        ("x strings", t.replace("x = [1, 2, 3, 4, 5]", 'x = ["1", "a"]'), []),
        ("x nested", t.replace("x = [1, 2, 3, 4, 5]", "x = [[1, 2], [3]]"), []),
        ("x nan", t.replace("x = [1, 2, 3, 4, 5]", "x = [1, nan, 3]"), []),
        ("x huge", t.replace("x = [1, 2, 3, 4, 5]", "x = [1e308, 1e308]"), []),
        ("x empty", t.replace("x = [1, 2, 3, 4, 5]", "x = []"), []),
        ("y wrong length", t.replace("x = [1, 2, 3, 4, 5]", "x = [1, 2]\ny = [1]"), []),
        ("epochs 1e9", t.replace("epochs = 2", "epochs = 1000000000"), []),
        ("epochs past the last row", t.replace("epochs = 2", "epochs = 300000"), []),
        ("epochs float", t.replace("epochs = 2", "epochs = 2.5"), []),
        ("epochs string", t.replace("epochs = 2", 'epochs = "2"'), []),
        ("epochs negative", t.replace("epochs = 2", "epochs = -1"), []),
        ("epochs huge int", t.replace("epochs = 2", "epochs = 9223372036854775807"), []),
        ("--epochs huge", t, ["--epochs", "999999999"]),
        ("--epochs 0", t, ["--epochs", "0"]),
        ("--set nan", t, ["--set", "lr=nan"]),
        ("--set inf", t, ["--set", "sgd.lr=inf"]),
        ("--set empty", t, ["--set", "lr="]),
        ("--set no knob", t, ["--set", "nope=1"]),
        ("-o empty", t, ["-o", ""]),
        ("-o not xlsx", t, ["-o", "out.txt"]),
        ("-o a directory", t, ["-o", "."]),
        ("-o in a missing folder", t, ["-o", "no/such/folder/out.xlsx"]),
        ("random n huge", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "random"\nn = 1000000000000'), []),
        ("random n negative", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "random"\nn = -3'), []),
        ("random low > high", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]',
                                        'source = "random"\nlow = 10\nhigh = 1'), []),
        ("random seed huge", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "random"\nseed = 1e300'), []),
        ("range tiny step", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]',
                                      'source = "range"\nstart = 0\nstop = 1\nstep = 1e-300'), []),
        ("range inf", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "range"\nstop = inf'), []),
        ("data a string", t.replace('[data]\nsource = "list"\nx = [1, 2, 3, 4, 5]', 'data = "graddesc"'), []),
        ("unknown source", t.replace('source = "list"', 'source = "excel"'), []),
        ("source a list", t.replace('source = "list"', 'source = ["list"]'), []),
        ("sheet name too long", t.replace('name = "sgd"', 'name = "' + "s" * 40 + '"'), []),
        ("sheet name with [", t.replace('name = "sgd"', 'name = "a[1]"'), []),
        ("sheet name blank", t.replace('name = "sgd"', 'name = "   "'), []),
        ("sheet name quote first", t.replace('name = "sgd"', "name = \"'sgd\""), []),
        ("sheet name a number", t.replace('name = "sgd"', "name = 5"), []),
        ("sheet name History", t.replace('name = "sgd"', 'name = "History"'), []),
        ("sheet name control char", t.replace('name = "sgd"', 'name = "a\\u0001b"'), []),
        ("duplicate sheet names", t.replace('name = "adam"', 'name = "SGD"'), []),
        ("sheets a table", t.replace("[[sheets]]", "[sheets.x]", 1).replace("[[sheets]]", "[sheets.y]"), []),
        ("sheets a string", 'name = "x"\nsheets = "sgd"\n', []),
        ("sheets numbers", 'name = "x"\nsheets = [1, 2]\n', []),
        ("model unknown", t.replace('optimizer = "sgd"', 'optimizer = "sgd"\nmodel = "transformer"'), []),
        ("model a number", t.replace('optimizer = "sgd"', 'optimizer = "sgd"\nmodel = 3'), []),
        ("optimizer a table", t.replace('optimizer = "sgd"', "optimizer = { name = 'sgd' }"), []),
        ("convention bad", t.replace('epochs = 2', 'epochs = 2\nconvention = "keras"'), []),
        ("title a table", t.replace('title = "a small', 'title = { x = 1 }\ndescription = "a small'), []),
        ("stability a string", t.replace("stability = true", 'stability = "yes"'), []),
        ("grad unknown", t.replace("epochs = 2", 'epochs = 2\ngrad = "magic"'), []),
        ("fd a string", t.replace("epochs = 2", 'epochs = 2\nfd = "no"'), []),
        ("unknown top key", t + "\nsurprise = 1\n", []),
        ("not toml", "this is [not toml\n", []),
        ("deep arrays", "x = " + "[" * 5000 + "]" * 5000 + "\n", []),
        ("deep tables", "x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n", []),
        ("binary", "\0\xff\xfe garbage", []),
        ("huge string", 'name = "' + "n" * 2_000_000 + '"\n' + t.split("\n", 1)[1], []),
        ("empty", "", []),
        ("csv missing", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "csv"\npath = "nope.csv"'), []),
        ("csv is a directory", t.replace('source = "list"\nx = [1, 2, 3, 4, 5]', 'source = "csv"\npath = "."'), []),
    ]
    return v + extras_variants()


SWEEP_TEMPLATE = SMALL_TEMPLATE + """
[[extras]]
kind = "sweep"
sheet = "sgd"
name = "summary"
lr = [0.001, 0.01]

[[extras]]
kind = "sine"
name = "sine"
start = 0
stop = 2
step = 0.5
beta = 0.9

[[extras]]
kind = "comparison"
name = "compare"
sheets = ["sgd_1", "adam"]

[[extras]]
kind = "derivatives"
name = "derivs"
weight = "a"
series = [["sgd", "sgd_1", "g_a"]]
"""


def extras_variants() -> list:
    """Hostile [[extras]] tables (the experiment sheets of recipe/experiments.py)."""
    t = SWEEP_TEMPLATE
    return [
        ("extras fine", t, []),
        ("sine stop inf", t.replace("stop = 2", "stop = inf"), []),
        ("sine step nan", t.replace("step = 0.5", "step = nan"), []),
        ("sine start text", t.replace("start = 0\n", 'start = "a"\n'), []),
        ("sine beta a list", t.replace("beta = 0.9", "beta = [0.9]"), []),
        ("sine step zero", t.replace("step = 0.5", "step = 0"), []),
        ("sine rows 1e9", t.replace("step = 0.5", "step = 1e-9"), []),
        ("extra name with :", t.replace('name = "sine"', 'name = "s:x"'), []),
        ("extra name a number", t.replace('name = "sine"', "name = 5"), []),
        ("extra name taken", t.replace('name = "sine"', 'name = "adam"'), []),
        ("series a string", t.replace('series = [["sgd", "sgd_1", "g_a"]]', 'series = "sgd"'), []),
        ("series sheet a list", t.replace('["sgd", "sgd_1", "g_a"]', '["sgd", ["sgd_1"], "g_a"]'), []),
        ("series label a number", t.replace('["sgd", "sgd_1", "g_a"]', '[5, "sgd_1", "g_a"]'), []),
        ("series column missing", t.replace('["sgd", "sgd_1", "g_a"]', '["sgd", "sgd_1", "nope"]'), []),
        ("lr a string", t.replace("lr = [0.001, 0.01]", 'lr = "0.01"'), []),
        ("lr inf", t.replace("lr = [0.001, 0.01]", "lr = [inf]"), []),
        ("lr negative", t.replace("lr = [0.001, 0.01]", "lr = [-1]"), []),
        ("lr 3000 of them", t.replace("lr = [0.001, 0.01]", "lr = [" + ", ".join(["0.01"] * 3000) + "]"), []),
        ("sweep sheet a list", t.replace('sheet = "sgd"', 'sheet = ["sgd"]'), []),
        ("sweep summary past the last row", t.replace("x = [1, 2, 3, 4, 5]", "x = [1]").replace(
            "epochs = 2", "epochs = 1048570"), []),
        ("comparison sheets a string", t.replace('sheets = ["sgd_1", "adam"]', 'sheets = "adam"'), []),
        ("comparison sheets numbers", t.replace('sheets = ["sgd_1", "adam"]', "sheets = [1, 2]"), []),
        ("extras kind a list", t.replace('kind = "sine"', 'kind = ["sine"]'), []),
        ("extras a string", 'extras = "sweep"\n' + t.split("[[extras]]")[0], []),
    ]


CSV_VARIANTS = [
    ("latin-1", b"x,y\n1,2\n\xe9,3\n"),
    ("binary", b"\0\0\xff\xfe\x00garbage\n"),
    ("non-numeric", b"x,y\n1,2\nthree,4\n"),
    ("missing column", b"x,y\n1,2\n3\n5,6\n"),
    ("empty", b""),
    ("header only", b"x,y\n"),
    ("nan", b"x,y\n1,nan\n2,3\n"),
    ("inf", b"x\ninf\n2\n"),
    ("utf-16", "x,y\n1,2\n3,4\n".encode("utf-16")),
    ("bom", b"\xef\xbb\xbfx,y\n1,2\n3,4\n"),
    ("huge field", b"x\n" + b"1" * 200_000 + b"\n"),
    ("too many rows", b"x\n" + b"1\n" * 1_100_000),
    ("nul", b"x\n1\n2\0\n"),
    ("ragged", b"1,2,3,4\n5\n"),
]


def csv_template(name: str) -> str:
    return SMALL_TEMPLATE.replace('source = "list"\nx = [1, 2, 3, 4, 5]', f'source = "csv"\npath = "{name}"')


# --------------------------------------------------------------------------------------------
# Which commands run on a workbook


def book_commands(book: Path, good: Path, out_dir: Path) -> list:
    """(argv, outputs it may write) for every command that reads a workbook."""
    fixed = out_dir / "fixed.xlsm" if book.suffix == ".xlsm" else out_dir / "fixed.xlsx"
    regen = out_dir / ("regen" + (book.suffix or ".xlsx"))
    html = out_dir / "report.html"
    return [
        (["verify", book], ()),
        (["verify", "--json", book], ()),
        (["diff", book, good, "--html", html], (html,)),
        (["diff", good, book, "--json"], ()),
        (["diff", book], ()),
        (["diff", "--textconv", book], ()),
        (["charts", "check", book], ()),
        (["charts", "check", "--json", book], ()),
        (["charts", "fix", book, "-o", fixed], (fixed,)),
        (["charts", "regenerate", book, "-o", regen], (regen,)),
        (["xlgd.read", _read_sgd], ()),  # the notebook API's file function, not a command
    ]


def _read_sgd(book):
    """xlgd.read of the fuzz workbook's first step table (its only sheet name the API needs)."""
    import xlgd

    return xlgd.read(book, "sgd")


def write_case(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(data)
    return p


def run_book_commands(book: Path, good: Path, folder: Path, allowed=(0, 1, 2), only=None, keep_all=False) -> list:
    """Every workbook command on `book`; returns [(Run, problems)] of the runs that broke the contract
    (of every run with keep_all, for benchmarks/hostile.py's counts).

    Outputs go to a sub-folder that is emptied after each run (an output is allowed to exist)."""
    bad = []
    outs = folder / "out"
    outs.mkdir(exist_ok=True)
    for argv, outputs in book_commands(book, good, outs):
        if only and argv[0] not in only and " ".join(map(str, argv[:2])) not in only:
            continue
        r = run_cli(argv, inputs=[book, good], folder=folder) if argv[0] != "xlgd.read" else \
            run_api(argv[1], book, inputs=[book, good], folder=folder, name=argv[0])
        extra = sorted(set(os.listdir(outs)) - {Path(o).name for o in outputs})
        if extra:
            r.leftovers.append(f"out/{extra}")
        probs = r.problems(allowed)
        if probs or keep_all:
            bad.append((r, probs))
        shutil.rmtree(outs)
        outs.mkdir()
    return bad

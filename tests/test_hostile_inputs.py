"""Hostile and damaged input, case by case.

The fuzz test (test_hostile_fuzz.py) samples damage at random; these are the cases the issues
name, each asserted for what it must say, not only for its exit code. All run in-process
through `tests/hostile.py` (contract: exit code, one line, CPU time and memory, input
unchanged, nothing left behind).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import zipfile

import pytest

from tests import hostile as H

PART = {"intro": "xl/worksheets/sheet1.xml", "sgd": "xl/worksheets/sheet3.xml"}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-base")
    return {"xlgd": H.build_xlgd_book(folder), "graddesc": H.build_graddesc_book(folder)}


@pytest.fixture
def watchdog():
    """A command that blocks (a FIFO opened for reading) fails the test instead of hanging it."""
    def _alarm(*_):
        raise TimeoutError("the command blocked for 30 s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def one_line(run, *words, allowed=(2,)):
    problems = run.problems(allowed)
    assert not problems, run.describe() + "\n  " + "\n  ".join(problems)
    line = run.err.strip()
    for w in words:
        assert w.lower() in line.lower(), (w, line)
    return line


def book_argvs(path, good, out):
    return [["verify", path], ["verify", path, "--recalc", "libreoffice"], ["verify", path, "--recalc"], ["diff", path], ["diff", path, good],
            ["diff", good, path], ["diff", "--textconv", path], ["charts", "check", path],
            ["charts", "fix", path, "-o", out / "f.xlsx"], ["charts", "render", path, "-o", out / "png"],
            ["charts", "regenerate", path, "-o", out / "r.xlsx"]]


# ------------------------------------------------------------------ not a workbook file


def _specials(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to(loop)
    sock_path = tmp_path / "sock.xlsx"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    return sock, [(fifo, "named pipe"), (tmp_path, "directory"), ("/dev/zero", "character device"),
                  ("/dev/null", "character device"), (sock_path, "socket"), (loop, "symbolic links"),
                  (tmp_path / "missing.xlsx", "no such file")]


@pytest.mark.slow
def test_not_a_regular_file_is_refused_at_once_by_every_command(base, tmp_path, watchdog):
    sock, cases = _specials(tmp_path)
    try:
        for path, words in cases:
            for argv in book_argvs(path, base["xlgd"], tmp_path):
                one_line(H.run_cli(argv, folder=tmp_path), words)
    finally:
        sock.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permission bits")
def test_unreadable_file(base, tmp_path):
    p = tmp_path / "secret.xlsx"
    p.write_bytes(base["xlgd"].read_bytes())
    p.chmod(0)
    one_line(H.run_cli(["verify", p]), "permission denied")


# ------------------------------------------------------------------ hostile packages


@pytest.mark.parametrize("part", ["xl/theme/theme1.xml", "docProps/core.xml", "[Content_Types].xml"])
@pytest.mark.parametrize("attack", ["billion laughs", "external entity", "doctype in utf-16",
                                    "doctype after a long comment"])
def test_a_dtd_in_any_part_is_refused(base, tmp_path, part, attack):
    """OPC forbids DTDs: refused even in a part no command reads (the theme, the core properties)."""
    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))[part]
    p = H.write_case(tmp_path, "dtd.xlsx", H.with_part(data, part, dict(H.ATTACKS)[attack](x)))
    for argv in (["verify", p], ["verify", p, "--recalc", "libreoffice"], ["diff", "--textconv", p], ["charts", "check", p],
                 ["charts", "render", p, "-o", tmp_path / "png"]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), part, "DTD")


@pytest.mark.parametrize("kind,words", [("dotdot", "outside the package"), ("absolute", "outside the package"),
                                        ("drive", "outside the package"), ("case-duplicate", "two zip members"),
                                        ("control", "control characters")])
def test_member_names(base, tmp_path, kind, words):
    p = H.write_case(tmp_path, "names.xlsx", H.hostile_names(base["xlgd"].read_bytes(), kind))
    one_line(H.run_cli(["verify", p], inputs=[p], folder=tmp_path), words)


def test_exact_duplicate_member(base, tmp_path):
    p = H.write_case(tmp_path, "dup.xlsx", H.duplicate_member(base["xlgd"].read_bytes(), "xl/workbook.xml"))
    one_line(H.run_cli(["charts", "check", p], inputs=[p], folder=tmp_path), "two zip members", "workbook.xml")


@pytest.mark.parametrize("method", [99, 14, 12])  # AES (unknown to zipfile), LZMA and bzip2 with bad data
def test_a_compression_method_zipfile_cannot_or_should_not_read(base, tmp_path, method):
    data = bytearray(base["xlgd"].read_bytes())
    cd = data.find(b"PK\x01\x02")
    while data[cd + 46:cd + 46 + 15] != b"xl/workbook.xml":
        cd = data.find(b"PK\x01\x02", cd + 4)
    data[cd + 10:cd + 12] = method.to_bytes(2, "little")  # the central directory's compression method
    p = H.write_case(tmp_path, "method.xlsx", bytes(data))
    for argv in (["verify", p], ["charts", "fix", p, "-o", tmp_path / "f.xlsx"]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), "workbook.xml")


@pytest.mark.slow
def test_bombs(base, tmp_path):
    data = base["xlgd"].read_bytes()
    bomb = H.bomb_member(H.BOMB)
    one = H.write_case(tmp_path, "one.xlsx", H.zip_with_raw_member(data, "xl/media/x.bin", bomb, H.BOMB))
    one_line(H.run_cli(["verify", one], inputs=[one], folder=tmp_path), "decompression bomb")
    # 40 members of 3 MB of zeros: each under the per-member floor, together 120 MB from ~150 KB.
    small = H.bomb_member(3 << 20)
    many = data
    for i in range(40):
        many = H.zip_with_raw_member(many, f"xl/media/m{i}.bin", small, 3 << 20)
    p = H.write_case(tmp_path, "many.xlsx", many)
    one_line(H.run_cli(["charts", "fix", p, "-o", tmp_path / "o.xlsx"], inputs=[p], folder=tmp_path),
             "in all", "decompression bomb")
    members = H.write_case(tmp_path, "members.xlsx", H.many_members(25_000))
    one_line(H.run_cli(["diff", "--textconv", members], folder=tmp_path), "zip members")


def test_a_nested_zip_is_never_opened(base, tmp_path):
    """A zip bomb inside the package (an embedded object) is bytes xlgd does not inflate."""
    inner = H.zip_with_raw_member(H.zip_bytes([("a.txt", b"a")]), "bomb.bin", H.bomb_member(H.BOMB), H.BOMB)
    p = H.write_case(tmp_path, "nested.xlsx", H.with_part(base["xlgd"].read_bytes(), "xl/embeddings/o.zip", inner))
    r = H.run_cli(["verify", p], inputs=[p], folder=tmp_path)
    assert not r.problems((0,)), r.describe()
    assert r.peak_mb < 100


@pytest.mark.parametrize("edit", ["ptCount 1e9", "pt idx 1e9"])
def test_a_chart_claiming_a_billion_points(base, tmp_path, edit):
    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))["xl/charts/chart1.xml"]
    p = H.write_case(tmp_path, "pts.xlsx", H.with_part(data, "xl/charts/chart1.xml", dict(H.CHART_EDITS)[edit](x)))
    for argv in (["charts", "check", p], ["charts", "fix", p, "-o", tmp_path / "f.xlsx"], ["diff", "--textconv", p]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), "xl/charts/chart1.xml", "points")


@pytest.mark.parametrize("edit", ["whole sheet", "whole column", "whole rows", "past the last row"])
def test_whole_column_and_sheet_ranges_in_charts(base, tmp_path, edit):
    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))["xl/charts/chart1.xml"]
    p = H.write_case(tmp_path, "cols.xlsx", H.with_part(data, "xl/charts/chart1.xml", dict(H.CHART_EDITS)[edit](x)))
    r = H.run_cli(["charts", "check", p], inputs=[p], folder=tmp_path)
    # Within the CPU and memory bounds; whether $A:$A is flagged is `charts check`'s business.
    assert not r.problems((0, 1)), r.describe()
    if edit == "whole sheet":
        assert "spans 17,179,869,184 cells" in r.out


# ------------------------------------------------------------------ damaged parts are named


@pytest.mark.parametrize("how", ["truncated", "empty", "json", "nul bytes", "wrong namespace", "not utf-8",
                                 "declared utf-16, is utf-8", "second root"])
def test_a_damaged_sheet_is_an_error_naming_it(base, tmp_path, how):
    """Never an empty sheet: garbage, JSON, NUL bytes or the wrong namespace in a sheet part is an error naming it."""
    data = base["xlgd"].read_bytes()
    part = PART["sgd"]
    x = dict((i.filename, d) for i, d in H.members(data))[part]
    p = H.write_case(tmp_path, "bad.xlsx", H.with_part(data, part, dict(H.MALFORMED)[how](x)))
    for argv in (["verify", p], ["diff", p, base["xlgd"]], ["diff", "--textconv", p], ["charts", "check", p]):
        one_line(H.run_cli(argv, inputs=[p], folder=tmp_path), part)


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/charts/chart1.xml",
                                  "[Content_Types].xml"])
@pytest.mark.parametrize("how", ["truncated", "wrong namespace", "empty"])
def test_other_damaged_parts_are_named(base, tmp_path, part, how):
    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))[part]
    new = dict(H.MALFORMED)[how](x)
    if how == "wrong namespace" and new == x:  # a part whose namespace is not SpreadsheetML's
        new = x.replace(b"http://schemas.openxmlformats.org/", b"http://example.com/", 1)
    p = H.write_case(tmp_path, "bad.xlsx", H.with_part(data, part, new))
    one_line(H.run_cli(["charts", "check", p], inputs=[p], folder=tmp_path), part)


def _prefixed(data: bytes) -> bytes:
    items = [(i, H.prefix_spreadsheetml(d) if i.filename.endswith(".xml") else d) for i, d in H.members(data)]
    return H.zip_bytes(items)


@pytest.mark.parametrize("book", ["xlgd", "graddesc"])
def test_prefixed_spreadsheetml_reads_the_same_cells(base, tmp_path, book):
    """`<x:worksheet>`/`<x:c>` is the same SpreadsheetML: the same cells as the unprefixed sheet, never none."""
    from xlgd.xlsx.package import Package

    src = base[book]
    p = H.write_case(tmp_path, "prefixed" + src.suffix, _prefixed(src.read_bytes()))
    with zipfile.ZipFile(p) as z:
        assert b"<x:c " in z.read(PART["sgd"] if book == "xlgd" else "xl/worksheets/sheet2.xml")
    with Package.open(src) as a, Package.open(p) as b:
        assert a.sheet_names == b.sheet_names and a.defined_names == b.defined_names
        for name in a.worksheet_names:
            want = list(a.cells(name))
            assert want and list(b.cells(name)) == want, name
    plain = H.run_cli(["verify", src])
    pref = H.run_cli(["verify", p], inputs=[p], folder=tmp_path)
    assert plain.rc == pref.rc == 0, pref.describe()
    checked = lambda out: [ln.split(":")[1] for ln in out.splitlines() if "cells checked" in ln]  # noqa: E731
    assert checked(pref.out) == checked(plain.out)
    same = H.run_cli(["diff", p, src], inputs=[p, src], folder=tmp_path)
    assert same.rc == 0, same.describe() + same.out


@pytest.mark.parametrize("row", ["7" * 5000, "1048577", "0"])
@pytest.mark.parametrize("prefixed", [False, True], ids=["scanner", "lxml"])
def test_a_row_outside_excels_rows_is_damage(base, tmp_path, row, prefixed):
    """The cells keep their addresses, but Excel calls such a file damaged: not OK (it was)."""
    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))[PART["sgd"]]
    x = re.sub(rb'<row r="\d+"', b'<row r="' + row.encode() + b'"', x, count=1)
    p = H.write_case(tmp_path, "row.xlsx", H.with_part(data, PART["sgd"], H.prefix_spreadsheetml(x) if prefixed else x))
    one_line(H.run_cli(["verify", p], inputs=[p], folder=tmp_path), PART["sgd"], "a row numbered", row[:5])


def _edit(book: bytes, part: str, fn) -> bytes:
    return H.with_part(book, part, fn(dict((i.filename, d) for i, d in H.members(book))[part]))


def _central_dir(book: bytes, part: str, offset: int, value: bytes) -> bytes:
    """The zip with a field of `part`'s central directory entry overwritten."""
    data = bytearray(book)
    cd = data.find(b"PK\x01\x02")
    while data[cd + 46:cd + 46 + len(part)] != part.encode():
        cd = data.find(b"PK\x01\x02", cd + 4)
    data[cd + offset:cd + offset + len(value)] = value
    return bytes(data)


def _flip_inside(book: bytes, part: str) -> bytes:
    data = bytearray(book)
    i = data.find(part.encode()) + len(part) + 30  # into the member's deflated bytes
    data[i] ^= 0xFF
    return bytes(data)


def _record(book: bytes, kind: str) -> bytes:
    return _edit(book, H.record_part(book), H.record_edit(kind))


M, C, S, W = (dict(t) for t in (H.MALFORMED, H.CHART_EDITS, H.SHEET_EDITS, H.WORKBOOK_EDITS))
CHART, SGD, SST, BASIC = "xl/charts/chart1.xml", PART["sgd"], "xl/sharedStrings.xml", "xl/worksheets/sheet2.xml"
# Damages that reach a reader deep inside a command, each with the command run on it:
# (what is damaged, book, damage, command, exit codes allowed, words of the one line on exit 2).
DEEP_DAMAGES = [
    ("truncated chart part: charts check", "xlgd", lambda b: _edit(b, CHART, M["truncated"]), ["charts", "check"],
     (2,), [CHART, "not well-formed"]),
    ("truncated shared strings: charts check", "graddesc", lambda b: _edit(b, SST, M["truncated"]), ["charts", "check"],
     (2,), [SST, "not well-formed"]),
    ("unknown compression of a chart: charts check", "xlgd", lambda b: _central_dir(b, CHART, 10, (99).to_bytes(2, "little")),
     ["charts", "check"], (2,), [CHART, "compression method"]),
    ("zip cut in half: charts check", "xlgd", lambda b: H.truncate(b, 0.5), ["charts", "check"], (2,), ["truncated"]),
    ("byte flipped inside a chart: charts fix", "xlgd", lambda b: _flip_inside(b, CHART), ["charts", "fix", "-o", "o.xlsx"],
     (2,), [CHART]),
    ("chart of 1e9 points: charts check", "xlgd", lambda b: _edit(b, CHART, C["ptCount 1e9"]), ["charts", "check"],
     (2,), [CHART, "1,048,576 points"]),
    ("sheet not UTF-8: verify", "xlgd", lambda b: _edit(b, SGD, M["not utf-8"]), ["verify"], (2,),
     [SGD, "not UTF-8 (byte 0xff"]),
    ("truncated shared strings: verify", "graddesc", lambda b: _edit(b, SST, M["truncated"]), ["verify"], (2,), [SST]),
    ("cell row of 5000 digits: verify", "xlgd", lambda b: _edit(b, SGD, S["cell row of 5000 digits"]), ["verify"],
     (2,), [SGD, "outside Excel's rows"]),
    ("huge localSheetId: verify", "graddesc", lambda b: _edit(b, "xl/workbook.xml", W["localSheetId huge"]),
     ["verify"], (2,), ["xl/workbook.xml", "does not exist"]),
    ("zip tail cut: verify", "xlgd", lambda b: H.truncate(b, 0.995), ["verify"], (2,),
     ["truncated"]),
    ("record of wrong types: diff", "xlgd", lambda b: _record(b, "wrong types"), ["diff"], (2,),
     ["record", "name must be text"]),
    ("deeply nested record: charts regenerate", "xlgd", lambda b: _record(b, "deep json"),
     ["charts", "regenerate", "-o", "o.xlsx"], (2,), ["record is damaged"]),
    ("deeply nested record: verify", "xlgd", lambda b: _record(b, "deep json"), ["verify"], (0,), []),
    ("record of 1e9 epochs: diff", "xlgd", lambda b: _record(b, "epochs 1e9"), ["diff"], (2,),
     ["epochs must be at most"]),
    ("formula too deep to evaluate: verify", "graddesc", lambda b: _edit(b, BASIC, S["deep formula"]), ["verify"], (1,), []),
    ("function calls nested deep: diff --textconv", "graddesc", lambda b: _edit(b, BASIC, S["deep function"]), ["diff", "--textconv"],
     (0,), []),
    ("number 1e400: verify", "xlgd", lambda b: _edit(b, SGD, S["number 1e400"]), ["verify"], (1,), []),
    ("huge number text: diff --textconv", "xlgd", lambda b: _edit(b, SGD, S["huge number text"]), ["diff", "--textconv"],
     (0,), []),
]


@pytest.mark.parametrize("case", DEEP_DAMAGES, ids=[c[0] for c in DEEP_DAMAGES])
def test_a_damage_deep_inside_is_one_line(base, tmp_path, case):
    """A damage a reader deep inside a command meets: exit 2 with one line naming the part
    (or, where the book is readable, a verdict: a formula too deep to evaluate is a cause, exit 1)."""
    _, book, damage, argv, allowed, words = case
    src = base[book]
    p = H.write_case(tmp_path, "in" + src.suffix, damage(src.read_bytes()))
    if "-o" in argv:
        argv = argv[:-1] + [tmp_path / ("o" + src.suffix)]
    r = H.run_cli(argv[:2] + [p] + argv[2:] if argv[0] == "charts" else argv + [p], inputs=[p], folder=tmp_path)
    if allowed == (2,):
        one_line(r, *words)
    else:
        assert not r.problems(allowed), r.describe() + r.out[-500:]


# Damages from the long run (`python benchmarks/hostile.py --every 3`): the workbook evaluator's own
# fast reader keeps the one reader's checks on odd values (exit 2, one line), and a group of cells
# ordered one by one does not walk every row of a whole-column reference.
SHEET1 = "xl/worksheets/sheet1.xml"
LONG_RUN_FINDS = [
    ("evaluator reader: a number cell holding a word", lambda b: _edit(b, SHEET1, S["number text"]), (2,),
     ["shared string twelve"]),
    ("evaluator reader: a shared string out of range", lambda b: _edit(b, SHEET1, S["shared string out of range"]),
     (2,), ["shared string 99999999"]),
    ("evaluator reader: boolean garbage", lambda b: _edit(b, BASIC, S["boolean garbage"]), (2,), [BASIC]),
    ("cycles: whole-column formulas", lambda b: _edit(b, BASIC, S["whole-column formula"]), (0, 1), []),
]


@pytest.mark.parametrize("case", LONG_RUN_FINDS, ids=[c[0] for c in LONG_RUN_FINDS])
@pytest.mark.parametrize("argv", [["verify"], ["verify", "--json"], ["diff"]])
def test_what_the_long_hostile_run_found(base, tmp_path, case, argv):
    _, damage, allowed, words = case
    src = base["graddesc"]
    p = H.write_case(tmp_path, "in" + src.suffix, damage(src.read_bytes()))
    argv = argv + [src] if argv == ["diff"] else argv  # diff the good book against the damaged one
    r = H.run_cli(argv + [p], inputs=[p], folder=tmp_path)
    assert not r.problems(allowed), r.describe() + r.out[-500:]  # within 2 s of CPU, no traceback
    if r.rc == 2:
        one_line(r, *words)


@pytest.mark.slow
def test_a_word_in_a_number_cell_names_its_sheet(base, tmp_path):
    """The evaluator's fast reader meets the word first on the intro sheet: one line naming the
    word and the sheet, as the one reader's slow path names the part and cell."""
    data = base["xlgd"].read_bytes()

    def word(x):
        return re.sub(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?>(?:<f>[^<]*</f>)?<v>)[^<]*(</v>)', rb"\1twelve\2", x, count=2)

    p = H.write_case(tmp_path, "in.xlsx", _edit(data, PART["intro"], word))
    one_line(H.run_cli(["verify", p], inputs=[p], folder=tmp_path), "'twelve'", "intro")


@pytest.fixture(scope="module")
def long_book(tmp_path_factory):
    """The hostile tests' small workbook with 60 epochs: 300 step rows, most taken whole by the fast reader."""
    from xlgd.pipeline import build
    from xlgd.recipe.template import load_recipe

    folder = tmp_path_factory.mktemp("long")
    tpl = folder / "long.toml"
    tpl.write_text(H.SMALL_TEMPLATE.replace("epochs = 2", "epochs = 60"))
    build(load_recipe(str(tpl)), folder / "long.xlsx")
    return (folder / "long.xlsx").read_bytes()


@pytest.mark.parametrize("args", [["verify"], pytest.param(["verify", "--recalc"], marks=pytest.mark.slow)])
def test_a_word_deep_in_a_step_table_is_named_when_its_value_is_read(long_book, tmp_path, args):
    """The fast reader hands a step table's cached values over unparsed (parsed when first read): a word
    in one, far down the table where rows are taken whole, is still one line naming it and the sheet."""
    def word(x):
        x, n = re.subn(rb'(<c r="H200" s="\d+"><f[^<]*(?:</f>)?<v>)[^<]*(</v>)', rb"\1twelve\2", x, count=1)
        assert n == 1
        return x

    p = H.write_case(tmp_path, "in.xlsx", _edit(long_book, PART["sgd"], word))
    one_line(H.run_cli(args[:1] + [p] + args[1:], inputs=[p], folder=tmp_path), "'twelve'", "sgd")


@pytest.mark.parametrize("part", ["docProps/app.xml", "xl/workbook.xml"])
def test_xlgd_read_says_a_damaged_part_in_one_line(base, tmp_path, part):
    """The long run's last find: lxml's message for a NUL inside a part holds a newline, and
    `xlgd.read` callers print str(e) -- an XlgdError is one line whatever it quotes."""
    import xlgd

    data = base["xlgd"].read_bytes()
    x = dict((i.filename, d) for i, d in H.members(data))[part]
    p = H.write_case(tmp_path, "in.xlsx", H.with_part(data, part, M["nul inside"](x)))
    r = H.run_api(xlgd.read, p, inputs=[p], folder=tmp_path, name="xlgd.read")
    one_line(r, part, "not well-formed")


# ------------------------------------------------------------------ the xlgd record


def test_a_damaged_record_is_named_where_it_is_needed(base, tmp_path):
    data = base["xlgd"].read_bytes()
    part = H.record_part(data)
    x = dict((i.filename, d) for i, d in H.members(data))[part]
    p = H.write_case(tmp_path, "rec.xlsx", H.with_part(data, part, H.record_edit("truncated")(x)))
    one_line(H.run_cli(["diff", p], inputs=[p], folder=tmp_path), "record is damaged")
    one_line(H.run_cli(["charts", "regenerate", p, "-o", tmp_path / "r.xlsx"], inputs=[p], folder=tmp_path),
             "record is damaged")
    # verify warns and checks every formula cell without it, with the workbook evaluator
    r = H.run_cli(["verify", p], inputs=[p], folder=tmp_path)
    assert not r.problems((0,)), r.describe() + r.out
    assert "warning: the hidden _xlgd record is damaged" in r.out and "checked without it" in r.out
    assert "formula cells check out" in r.out.splitlines()[-1]


@pytest.mark.parametrize("kind", ["truncated", "epochs 1e9", "deep json", "nan knob", "x is a string"])
def test_a_damaged_record_is_a_warning_and_the_book_is_still_checked(base, tmp_path, kind):
    """A graddesc-style book that also carries a damaged _xlgd record: checked without the record."""
    good = H.build_xlgd_book(tmp_path)
    rec = dict((i.filename, d) for i, d in H.members(good.read_bytes()))[H.record_part(good.read_bytes())]
    record_xml = H.record_edit(kind)(rec)
    p = H.add_record_sheet(base["graddesc"], tmp_path / "with-record.xlsm", record_xml)
    r = H.run_cli(["verify", p], inputs=[p], folder=tmp_path)
    assert not r.problems((0,)), r.describe() + r.out
    assert "warning: " in r.out and "checked without it" in r.out and "basic (graddesc:basic)" in r.out


@pytest.mark.slow
def test_a_long_record_is_split_over_cells_and_read_back(tmp_path):
    """5,000 data rows made a record longer than a cell holds (32,767): it was cut and read as damaged."""
    from xlgd.recipe import record
    from xlgd.xlsx.package import Package

    # 15 significant digits each (XlsxWriter writes numbers with 16), ~19 characters in the JSON
    xs = ", ".join(f"0.{i:04d}56789012345" for i in range(2000))
    tpl = tmp_path / "long.toml"
    tpl.write_text(f'name = "long"\n[data]\nsource = "list"\nx = [{xs}]\n[[sheets]]\nname = "s"\noptimizer = "sgd"\n')
    out = tmp_path / "long.xlsx"
    assert H.run_cli(["generate", tpl, "-o", out]).rc == 0
    with Package.open(out) as pkg:
        assert len(pkg.values(record.META_SHEET, (2, 2), None)) > 2  # the JSON spans several cells
        rec = record.read(pkg)
    assert len(rec["resolved"]["data"]["x"]) == 2000
    r = H.run_cli(["verify", out])
    assert r.rc == 0 and "damaged" not in r.out, r.describe()


# ------------------------------------------------------------------ templates and knobs


TEMPLATE_CASES = [
    ("nan knob", "knob lr", "finite"), ("inf knob", "knob lr", "finite"), ("-inf knob", "knob lr", "finite"),
    ("numeric string knob", "knob lr", "must be a number"), ("bool knob", "knob lr", "must be a number"),
    ("x a string", "data.x", "list of numbers"), ("x nan", "data.x", "finite"),
    ("epochs past the last row", "sheet sgd", "past excel's last row"), ("epochs 1e9", "epochs", "at most"),
    ("epochs float", "epochs", "whole number"), ("--epochs huge", "--epochs", "at most"),
    ("--set nan", "knob lr", "finite"), ("-o empty", "-o", "empty"),
    ("sheet name too long", "sheet name", "31"), ("sheet name with [", "sheet name", "[]"),
    ("sheet name blank", "sheet name", "blank"), ("sheet name History", "sheet name", "history"),
    ("sheet name quote first", "sheet name", "quote"), ("sheet name control char", "sheet name", "control"),
    ("sheets a string", "sheets", "a list"), ("model a number", "model", "text"),
    ("stability a string", "stability", "true or false"), ("random n huge", "data.n", "at most"),
    ("range tiny step", "data range", "rows"), ("deep arrays", "t.toml", "nests"),
    ("huge string", "name", "characters"),
    ("sine stop inf", "extras[2] (sine): stop", "finite"), ("sine start text", "extras[2] (sine): start", "number"),
    ("series sheet a list", "extras[4] (derivatives): each of series", "['sgd_1']"),
    ("comparison sheets a string", "extras[3] (comparison): sheets", "a list"),
    ("lr inf", "extras[1] (sweep): lr", "finite"), ("extra name with :", "extras[2] (sine): name", "[]"),
    ("sweep summary past the last row", "sweep of sheet sgd", "past excel's last row"),
    ("extras a string", "extras", "a list"),
]


@pytest.mark.parametrize("label,key,words", TEMPLATE_CASES, ids=[c[0] for c in TEMPLATE_CASES])
def test_bad_templates_and_knobs_name_the_key(tmp_path, label, key, words):
    label, text, extra = next(v for v in H.template_variants() if v[0] == label)
    (tmp_path / "t.toml").write_text(text)
    out = tmp_path / "out.xlsx"
    argv = ["generate", tmp_path / "t.toml"] + (extra if "-o" in extra else ["-o", out] + extra)
    one_line(H.run_cli(argv, inputs=[tmp_path / "t.toml"], folder=tmp_path, cwd=tmp_path), key, words)
    assert not out.exists() and not (tmp_path / "output").exists()


@pytest.mark.parametrize("label,words", [("latin-1", "not UTF-8"), ("non-numeric", "data row 2"),
                                         ("missing column", "has no y"), ("binary", "not UTF-8"),
                                         ("too many rows", "more than 1,048,570 rows"), ("nan", "finite")])
def test_bad_csv_data(tmp_path, label, words):
    (tmp_path / "t.toml").write_text(H.csv_template("d.csv"))
    (tmp_path / "d.csv").write_bytes(dict(H.CSV_VARIANTS)[label])
    one_line(H.run_cli(["generate", tmp_path / "t.toml", "-o", tmp_path / "o.xlsx"], folder=tmp_path), "d.csv", words)


def test_the_row_limit_is_the_layouts():
    """recipe/validate.py may not import the book's Layout; this keeps the two in step."""
    from xlgd.core.sheet import build_sheet
    from xlgd.layout import Layout
    from xlgd.recipe import validate

    spec = build_sheet("linear", "sgd", "graddesc", n_data=1, epochs=1)
    assert Layout(spec).step_row(validate.MAX_STEPS - 1) == validate.EXCEL_ROWS
    validate.check_rows("s", 1, validate.MAX_STEPS)
    with pytest.raises(Exception, match="past Excel's last row"):
        validate.check_rows("s", 2, validate.MAX_STEPS // 2 + 1)


def test_the_notebook_api_raises_xlgd_errors(tmp_path):
    import xlgd
    from xlgd.errors import XlgdError

    with pytest.raises(XlgdError, match="finite"):
        xlgd.run(lr=float("nan"))
    bad = tmp_path / "bad.toml"
    bad.write_text(next(v for v in H.template_variants() if v[0] == "x a string")[1])
    with pytest.raises(XlgdError, match="data.x"):
        xlgd.generate(str(bad), tmp_path / "x.xlsx")


# ------------------------------------------------------------------ outputs: never the input, all or nothing


def test_an_output_that_is_the_input_is_refused(base, tmp_path):
    src = tmp_path / "in.xlsx"
    src.write_bytes(base["xlgd"].read_bytes())
    (tmp_path / "link.xlsx").symlink_to(src)
    os.link(src, tmp_path / "hard.xlsx")
    for target in (src, tmp_path / "link.xlsx", tmp_path / "hard.xlsx"):
        for argv in (["charts", "fix", src, "-o", target], ["charts", "regenerate", src, "-o", target],
                     ["diff", src, base["xlgd"], "--html", target]):
            one_line(H.run_cli(argv, inputs=[src], folder=tmp_path), "same file")


def test_outputs_keep_their_permission_bits(base, tmp_path):
    out = tmp_path / "out.xlsx"
    tpl = tmp_path / "t.toml"
    tpl.write_text(H.SMALL_TEMPLATE)
    assert H.run_cli(["generate", tpl, "-o", out], folder=tmp_path, outputs=[out]).rc == 0
    out.chmod(0o640)
    inode = out.stat().st_ino
    r = H.run_cli(["generate", tpl, "-o", out, "--set", "lr=0.001"], folder=tmp_path, outputs=[out])
    assert r.rc == 0 and not r.problems((0,)), r.describe()
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.stat().st_ino != inode  # replaced by a rename


def test_a_failed_generate_leaves_nothing(tmp_path, monkeypatch):
    import xlgd.book.write as write

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write, "write_sheet", full_disk)
    tpl = tmp_path / "t.toml"
    tpl.write_text(H.SMALL_TEMPLATE)
    out = tmp_path / "out.xlsx"
    one_line(H.run_cli(["generate", tpl, "-o", out], folder=tmp_path), "no space left")
    assert not out.exists()  # and run_cli saw no temp file here nor in $TMPDIR (XlsxWriter's included)


def test_a_failed_render_leaves_nothing(base, tmp_path, monkeypatch):
    from xlgd.charts import render
    from xlgd.errors import XlgdError

    def half_then_fail(soffice, py, book, outdir, jobs, timeout, media):
        (outdir / "basic-chart1.png").write_bytes(b"\x89PNG half")
        raise XlgdError("LibreOffice could not render it")

    monkeypatch.setattr(render, "_render_retrying", half_then_fail)
    monkeypatch.setattr(render, "_uno_python", lambda: "python3")
    monkeypatch.setattr(render.shutil, "which", lambda name: "/usr/bin/true")
    one_line(H.run_cli(["charts", "render", base["graddesc"], "-o", tmp_path / "pngs" / "deep"], folder=tmp_path),
             "could not render")
    assert not (tmp_path / "pngs").exists()


# ------------------------------------------------------------------ the CLI's boundary


def _main(argv, capsys):
    from xlgd.cli import main

    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_an_unexpected_exception_is_one_line_and_exit_3(base, capsys, monkeypatch):
    import xlgd.check.verify as verify

    def boom(*a, **k):
        raise ValueError("an xlgd bug")

    monkeypatch.delenv("XLGD_DEBUG", raising=False)
    monkeypatch.setattr(verify, "verify_book", boom)
    rc, _, err = _main(["verify", base["xlgd"]], capsys)
    assert rc == 3 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("xlgd: internal error (ValueError at ") and "report it" in err
    monkeypatch.setenv("XLGD_DEBUG", "1")
    rc, _, err = _main(["verify", base["xlgd"]], capsys)
    assert rc == 3 and "Traceback" in err and "an xlgd bug" in err


def test_messages_are_shortened_to_one_line(base, capsys, monkeypatch, tmp_path):
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    deep.mkdir(parents=True)
    p = deep / "not-a-book.xlsx"
    p.write_text("line one\nline two\n" * 100)
    rc, _, err = _main(["verify", p], capsys)
    assert rc == 2 and err.count("\n") == 1 and len(err.rstrip("\n")) <= 300, err
    assert "…" in err and err.rstrip().endswith("(not a zip file)")


def test_library_warnings_do_not_reach_the_user(base, capsys, monkeypatch):
    import warnings

    import xlgd.check.verify as verify

    real = verify.verify_book

    def noisy(*a, **k):
        warnings.warn("something internal", UserWarning)
        return real(*a, **k)

    monkeypatch.delenv("XLGD_DEBUG", raising=False)
    monkeypatch.setattr(verify, "verify_book", noisy)
    rc, _, err = _main(["verify", base["xlgd"]], capsys)
    assert rc == 0 and err == ""

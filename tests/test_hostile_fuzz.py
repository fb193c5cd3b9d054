"""Fuzz every command with damaged and hostile workbooks and templates.

Hypothesis draws a damage -- a truncation, byte flips in the zip or inside one part's XML,
a deleted or duplicated member, malformed XML in one part, an XML attack, a decompression
bomb, hostile member names, content that asks for too much (a chart of 1e9 points, a formula
nested 20,000 deep, a cell in row 1e9), a damaged xlgd record -- applied to one of two
workbooks built here (`tests/hostile.py`), then runs the workbook commands on the result
in-process and checks the contract (`hostile.Run.problems`): exit 0/1/2 and never 3 or an
escaped exception, one `xlgd: ` line of <= 300 characters on exit 2, no warnings, CPU time
and peak memory bounded, the input unchanged, nothing left in the folder or in $TMPDIR.

The suite runs a fixed, derandomized set (XLGD_FUZZ_EXAMPLES examples per test, 25 and 30 by
default: 275 workbook runs and 30 templates, ~20 s on two shared cores); XLGD_FUZZ_EXAMPLES=3000
draws more. The long run is `python benchmarks/hostile.py`: every damage enumerated, not drawn,
with the counts (cases, runs, exit codes, broken runs, the largest CPU time and memory).
"""

from __future__ import annotations

import os
import signal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import hostile as H

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("XLGD_FUZZ_EXAMPLES", "0")) or None
# No shrinking: each example runs ten commands, and the label of a failing damage already says
# exactly what was done (Hypothesis would spend minutes re-running near variants).
SETTINGS = dict(derandomize=True, deadline=None, database=None, print_blob=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
WATCHDOG = 60  # seconds of wall clock before a run counts as hung (CPU time is what is bounded)
DAMAGE = ["truncate", "flip", "xml flip", "delete", "duplicate", "malformed", "attack", "content", "names",
          "bomb", "record"]


class Hung(BaseException):
    """Raised in the command by the watchdog: the CLI reports it as an internal error (exit 3)."""


class Books(dict):
    """{name: (path, bytes)} of the undamaged workbooks; a short repr for Hypothesis' reports."""

    def __repr__(self):
        return f"Books({', '.join(str(p) for p, _ in self.values())})"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-base")
    paths = {"xlgd": H.build_xlgd_book(folder), "graddesc": H.build_graddesc_book(folder)}
    return Books({k: (p, p.read_bytes()) for k, p in paths.items()})


def draw_damage(data, base: str, raw: bytes):
    """(label, damaged bytes) for one drawn damage of a workbook's bytes."""
    kind = data.draw(st.sampled_from(DAMAGE), "damage")
    parts = dict((i.filename, d) for i, d in H.members(raw))
    names = sorted(parts)
    xml_names = [n for n in names if n.endswith((".xml", ".rels", ".vml"))]
    if kind == "truncate":
        f = data.draw(st.floats(0, 1), "fraction")
        return f"truncated at {f:.4f}", H.truncate(raw, f)
    if kind == "flip":
        pos, xor, n = data.draw(st.tuples(st.floats(0, 1), st.integers(1, 255), st.integers(1, 8)), "flip")
        return f"{n} byte(s) flipped from {pos:.4f} (xor {xor})", H.flip(raw, pos, xor, n)
    if kind == "xml flip":
        name = data.draw(st.sampled_from(xml_names), "part")
        pos, xor, n = data.draw(st.tuples(st.floats(0, 1), st.integers(1, 255), st.integers(1, 4)), "flip")
        return f"{name}: {n} byte(s) flipped from {pos:.4f}", H.with_part(raw, name, H.flip(parts[name], pos, xor, n))
    if kind == "delete":
        name = data.draw(st.sampled_from(names), "part")
        return f"{name} deleted", H.delete_member(raw, name)
    if kind == "duplicate":
        name = data.draw(st.sampled_from(names), "part")
        other = data.draw(st.sampled_from([None, b"", b"<x/>"]), "copy")
        return f"{name} duplicated ({other!r})", H.duplicate_member(raw, name, other)
    if kind in ("malformed", "attack"):
        name = data.draw(st.sampled_from(xml_names), "part")
        label, fn = data.draw(st.sampled_from(H.MALFORMED if kind == "malformed" else H.ATTACKS), "how")
        return f"{name}: {label}", H.with_part(raw, name, fn(parts[name]))
    if kind == "content":
        name = data.draw(st.sampled_from([n for n in xml_names if H.edits_for(n)]), "part")
        label, fn = data.draw(st.sampled_from(H.edits_for(name)), "edit")
        return f"{name}: {label}", H.with_part(raw, name, fn(parts[name]))
    if kind == "names":
        how = data.draw(st.sampled_from(["dotdot", "absolute", "backslash", "case-duplicate", "drive", "control"]), "name")
        return f"member name {how}", H.hostile_names(raw, how)
    if kind == "bomb":
        where = data.draw(st.sampled_from(["xl/media/bomb.bin", "xl/worksheets/sheet2.xml", "docProps/app.xml"]))
        items = [(i, d) for i, d in H.members(raw) if i.filename != where]
        return f"bomb as {where}", H.zip_with_raw_member(H.zip_bytes(items), where, H.bomb_member(H.BOMB), H.BOMB)
    how = data.draw(st.sampled_from(H.RECORD_KINDS), "record")
    part = H.record_part(raw)
    if part is None:
        return "record (none to damage)", raw
    damaged = H.record_edit(how)(parts[part])
    assert damaged != parts[part], how
    return f"record: {how}", H.with_part(raw, part, damaged)


def _alarm(*_):
    raise Hung(f"no answer within {WATCHDOG} s")


@pytest.fixture
def watchdog():
    old = signal.signal(signal.SIGALRM, _alarm)
    yield
    signal.signal(signal.SIGALRM, old)


def _run_all(path, good, folder, commands=None):
    signal.alarm(WATCHDOG)
    try:
        return H.run_book_commands(path, good, folder, only=commands)
    finally:
        signal.alarm(0)


@settings(max_examples=EXAMPLES or 25, **SETTINGS)
@given(data=st.data())
def test_damaged_workbooks_keep_the_contract(books, data, tmp_path_factory, watchdog):
    base = data.draw(st.sampled_from(sorted(books)), "workbook")
    src, raw = books[base]
    label, damaged = draw_damage(data, base, raw)
    folder = tmp_path_factory.mktemp("case")
    path = H.write_case(folder, "in" + src.suffix, damaged)
    broken = _run_all(path, books["xlgd"][0], folder)
    assert not broken, f"{base} workbook, {label}:\n" + "\n".join(
        f"  {r.describe()}\n    " + "\n    ".join(p) for r, p in broken)


@settings(max_examples=EXAMPLES or 30, **SETTINGS)
@given(data=st.data())
def test_hostile_templates_keep_the_contract(data, tmp_path_factory, watchdog):
    """generate on a hostile template or knob: exit 0 or 2, one line, nothing left behind."""
    variants = H.template_variants() + [(f"csv {k}", H.csv_template("d.csv"), [], b) for k, b in H.CSV_VARIANTS]
    case = data.draw(st.sampled_from(variants), "template")
    label, text, extra = case[:3]
    folder = tmp_path_factory.mktemp("tpl")
    (folder / "t.toml").write_text(text)
    if len(case) > 3:
        (folder / "d.csv").write_bytes(case[3])
    out = folder / "out.xlsx"
    argv = ["generate", folder / "t.toml"] + (extra if "-o" in extra else ["-o", out] + extra)
    signal.alarm(WATCHDOG)
    try:
        r = H.run_cli(argv, inputs=[folder / "t.toml", folder / "d.csv"], folder=folder, outputs=[out], cwd=folder)
    finally:
        signal.alarm(0)
    made = {"-o in a missing folder": ["no"]}.get(label, [])
    r.leftovers = [x for x in r.leftovers if x not in made]
    problems = r.problems((0, 2))
    assert not problems, f"template {label}: {r.describe()}\n  " + "\n  ".join(problems)
    if r.rc == 2:
        assert not out.exists()


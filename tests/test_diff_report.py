"""The diff's faces: terminal text, HTML in a real browser, textconv for git, bad input."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tests import diffedits as E
from xlgd import cli
from xlgd.pipeline import build
from xlgd.recipe.template import load_recipe

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("diffreport")
    base = d / "graddesc.xlsx"
    build(load_recipe("graddesc"), base)
    part = E.sheet_part(base, "basic")

    def three_edits(data):
        data = E.set_value("A3", 0.0003)(data)           # lr
        data = E.set_formula("G50", "E50*C50-F50")(data)  # a formula
        return E.set_value("H80", 5)(data)                # a constant over a formula

    mine = E.rewrite(base, d / "mine.xlsx", {part: three_edits})
    return base, mine, d


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main([str(a) for a in args])
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_text_report_names_each_cause_once(books):
    base, mine, _ = books
    rc, out, err = run("diff", mine, base)
    assert rc == 1 and err == ""
    assert "\x1b[" not in out  # not a terminal: no colour
    lines = [l.strip() for l in out.splitlines() if l.startswith("  ")]
    assert lines == [
        "basic!A3: input lr changed: 0.0001 -> 0.0003",
        "basic!G50: formula changed: =E50*C50+F50 -> =E50*C50-F50  [+ -> -]",
        lines[2],
    ]
    assert lines[2].startswith("basic!H80: constant 5 typed over =(G80-D80)*(G80-D80)")
    rc, out, _ = run("diff", mine, base, "--color", "always")
    assert "\x1b[33m" in out  # inputs in yellow


@pytest.mark.slow
def test_options_filter(books):
    base, mine, _ = books
    _, out, _ = run("diff", mine, base, "--json", "--formulas-only")
    assert {c["kind"] for c in json.loads(out)["changes"]} == {"formula_changed", "formula_to_constant"}
    _, out, _ = run("diff", mine, base, "--json", "--values-only")
    kinds = {c["kind"] for c in json.loads(out)["changes"]}
    assert "formula_changed" not in kinds and "input_changed" in kinds
    rc, out, _ = run("diff", mine, base, "--json", "--sheet", "momentum")
    assert rc == 0 and json.loads(out)["changes"] == []
    # A loose enough tolerance swallows the lr change (0.0001 -> 0.0003 is 2e-4 apart).
    _, out, _ = run("diff", mine, base, "--json", "--atol", "1e-3", "--values-only")
    assert "input_changed" not in {c["kind"] for c in json.loads(out)["changes"]}


def _chromium(args, tmp):
    prof = tmp / f"profile-{len(list(tmp.iterdir()))}"
    prof.mkdir()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={prof}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package: chromium)")
def test_html_report_highlights_changed_cells_in_a_browser(books, tmp_path):
    base, mine, _ = books
    page = tmp_path / "report.html"
    rc, _, _ = run("diff", mine, base, "--html", page)
    assert rc == 1 and page.exists()
    # Ask the browser what it drew: computed background and hover text of
    # the three edited cells and of an unchanged one, written into the DOM.
    probe = tmp_path / "probe.html"
    script = """<script>
    for (const id of ['basic!A3', 'basic!G50', 'basic!H80', 'basic!G49']) {
      const td = document.getElementById(id);
      const p = document.createElement('p');
      p.className = 'probe';
      p.textContent = id + '|' + (td ? getComputedStyle(td).backgroundColor : 'missing') + '|' +
                      (td ? (td.title || '').split('\\n')[0] : '');
      document.body.appendChild(p);
    }</script>"""
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    r = _chromium(["--dump-dom", probe.as_uri()], tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    import html

    got = {m[0]: (m[1], html.unescape(m[2])) for m in re.findall(r"<p class=\"probe\">([^|]+)\|([^|]*)\|([^<]*)</p>", r.stdout)}
    assert got["basic!A3"][0] == "rgb(255, 224, 102)" and "lr: 0.0001 -> 0.0003" in got["basic!A3"][1]
    assert got["basic!G50"][0] == "rgb(229, 153, 247)" and "=E50*C50+F50 -> =E50*C50-F50" in got["basic!G50"][1]
    assert got["basic!H80"][0] == "rgb(255, 135, 135)" and "constant 5" in got["basic!H80"][1]
    assert got["basic!G49"][0] == "rgba(0, 0, 0, 0)"  # context, not highlighted
    # And a screenshot really has those colours on it.
    shot = tmp_path / "shot.png"
    r = _chromium(["--window-size=1400,1000", f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert shot.exists(), r.stderr[-500:]
    import numpy as np
    from PIL import Image

    px = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours = set(map(tuple, np.unique(px, axis=0).tolist()))
    assert {(255, 224, 102), (229, 153, 247), (255, 135, 135)} <= colours


@pytest.mark.slow
@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package: chromium)")
def test_html_report_of_a_resaved_edit_in_a_browser(books, tmp_path):
    # lr typed and a row inserted, then saved by openpyxl (no cached values): the page says the
    # values were recomputed, shows the inserted row and the input, and colours what followed.
    import openpyxl

    base, _, _ = books
    part = E.sheet_part(base, "basic")
    zipped = E.rewrite(base, tmp_path / "zipped.xlsx", {
        part: E.chain(E.insert_row(8), E.set_value("A3", 0.0002)),
        E.chart_parts(base, "basic"): E.chart_refs(lambda t: E.move_refs(t, lambda s: s == "basic", rows=(8, 1)))})
    mine = tmp_path / "mine.xlsx"
    openpyxl.load_workbook(zipped).save(mine)
    page = tmp_path / "report.html"
    rc, _, _ = run("diff", mine, base, "--html", page)
    assert rc == 1
    probe = tmp_path / "probe.html"
    script = """<script>
    const out = [];
    const note = document.querySelector('ul.notes li');
    out.push('note|' + (note ? note.textContent : 'missing'));
    const first = document.querySelector('ul.changes li');
    out.push('first|' + first.dataset.kind + ' ' + first.textContent);
    const row = [...document.querySelectorAll('table.grid tr.inserted th')].map(th => th.textContent);
    out.push('inserted|' + row.join(',') + '|' +
             getComputedStyle(document.querySelector('table.grid tr.inserted td')).backgroundColor);
    for (const id of ['basic!A3', 'basic!E9']) {
      const td = document.getElementById(id);
      out.push(id + '|' + (td ? getComputedStyle(td).backgroundColor + '|' + td.title.split('\\n')[0] : 'missing'));
    }
    for (const line of out) { const p = document.createElement('p'); p.className = 'probe';
                              p.textContent = line; document.body.appendChild(p); }</script>"""
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    r = _chromium(["--dump-dom", probe.as_uri()], tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    import html

    got = dict(html.unescape(m).split("|", 1) for m in re.findall(r'<p class="probe">([^<]*)</p>', r.stdout))
    n = sum(isinstance(c.value, str) and c.value.startswith("=") for ws in openpyxl.load_workbook(base).worksheets
            if ws.title != "_xlgd" for row in ws.iter_rows() for c in row)
    assert f"holds no cached value for {n:,} formula cell(s): {n:,} recomputed" in got["note"]
    assert got["first"].startswith("input_changed basic!A3: input lr changed: 0.0001 -> 0.0002")
    assert got["inserted"] == "8|rgb(211, 249, 216)"
    assert got["basic!A3"].startswith("rgb(255, 224, 102)|lr: 0.0001 -> 0.0002")
    assert got["basic!E9"].startswith("rgb(208, 235, 255)|value ") and "(upstream change)" in got["basic!E9"]


@pytest.mark.slow
def test_textconv_is_stable_and_shows_an_edit_as_a_line(books):
    base, mine, _ = books
    rc, a, _ = run("diff", "--textconv", base)
    rc2, a2, _ = run("diff", "--textconv", base)
    assert rc == rc2 == 0 and a == a2
    _, b, _ = run("diff", "--textconv", mine)
    la, lb = a.splitlines(), b.splitlines()
    assert len(la) == len(lb)
    changed = [(x, y) for x, y in zip(la, lb) if x != y]
    assert len(changed) == 3  # the lr row, row 50 and row 80
    # Formulas in relative form: the same column formula reads the same on every row.
    start = la.index("=== sheet basic")
    basic = la[start:la.index("=== sheet momentum")]
    assert sum("G =RC[-2]*RC[-4]+RC[-1]" in l for l in basic) == 145


@pytest.mark.slow
def test_textconv_through_git(books, tmp_path):
    if not shutil.which("git"):
        pytest.skip("git not installed")
    base, mine, _ = books
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}

    def git(*a):
        return subprocess.run(["git", *a], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (repo / ".gitattributes").write_text("*.xlsx diff=xlgd\n")
    git("config", "diff.xlgd.textconv", f"{sys.executable} -m xlgd diff --textconv")
    shutil.copy(base, repo / "book.xlsx")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    shutil.copy(mine, repo / "book.xlsx")
    out = subprocess.run(["git", "diff"], cwd=repo, env={**env, "PYTHONPATH": str(Path(__file__).parents[1])},
                         capture_output=True, text=True, check=True).stdout
    plus = [l for l in out.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert len(plus) == 3 and any("A 0.0003" in l for l in plus)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"hello, not a workbook", "not a zip"),
    (b"PK\x03\x04" + b"\0" * 100, "truncated or damaged"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, books, content, message):
    base, _, _ = books
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(content)
    for args in (("diff", bad, base), ("diff", base, bad), ("diff", bad), ("diff", "--textconv", bad)):
        rc, out, err = run(*args)
        assert rc == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)


@pytest.mark.slow
def test_missing_record_and_missing_file(tmp_path, books):
    base, _, _ = books

    def drop_record(data):
        return data  # keep the sheet part; the workbook loses the sheet entry below

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    rc, _, err = run("diff", plain)
    assert rc == 2 and "no xlgd record" in err
    rc, _, err = run("diff", tmp_path / "nope.xlsx", base)
    assert rc == 2 and err.startswith("xlgd: ") and err.count("\n") == 1
    rc, _, err = run("diff", base, base, "--rtol", "-1")
    assert rc == 2 and "--rtol" in err
    rc, _, err = run("diff", base, base, "--sheet", "nosuch")
    assert rc == 2 and "nosuch" in err
    # The inputs are never modified.
    before = base.read_bytes()
    run("diff", base)
    assert base.read_bytes() == before

"""verify's report fits on a screen: grouped by reason when it would not, every fact still counted, and
`--verbose` lists every line.

The long book is a learner's workbook of many sheets, typed with openpyxl, whose cells call functions
xlgd does not evaluate (user-defined functions of a macro book), one sheet after another.
"""

import os
import subprocess
import sys
from pathlib import Path

import openpyxl

from xlgd.check.report import Cause, Report, SheetReport, Unchecked
from xlgd.check.report_text import screen_text

ROOT = Path(__file__).resolve().parents[1]


def screen_rows(text: str) -> int:
    return sum(max(1, -(-len(line) // 120)) for line in text.split("\n"))


def verify(*args):
    return subprocess.run([sys.executable, "-m", "xlgd", "verify", *map(str, args)], capture_output=True,
                          text=True, timeout=300, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_a_book_of_many_sheets_and_reasons_fits_on_a_screen_and_verbose_lists_all(tmp_path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for k in range(30):
        ws = wb.create_sheet(f"part{k}")
        for r in range(1, 21):
            ws[f"A{r}"], ws[f"B{r}"] = r, f"=A{r}*2"
        ws["C1"], ws["D1"] = f"=MYUDF{k}(A1)", f"=OTHERUDF{k}(A2)"
    wb.save(tmp_path / "long.xlsx")
    short, full = verify(tmp_path / "long.xlsx"), verify(tmp_path / "long.xlsx", "--verbose")
    assert short.returncode == full.returncode == 0, short.stderr
    assert screen_rows(short.stdout.rstrip("\n")) <= 40, short.stdout
    assert screen_rows(full.stdout.rstrip("\n")) > 40
    assert short.stdout.splitlines()[-1] == full.stdout.splitlines()[-1]
    assert "600 of 660 formula cells check out" in short.stdout.splitlines()[-1]
    for k in range(30):
        assert f"part{k} 20/22" in short.stdout, short.stdout
        assert f"part{k}!C1 uses MYUDF{k}" in full.stdout and f"part{k}!D1 uses OTHERUDF{k}" in full.stdout
    assert "unchecked, by reason:" in short.stdout
    assert "and 52 cell(s) for 52 other reason(s) (xlgd verify --verbose lists them)" in short.stdout


def test_one_reason_over_many_ranges_is_one_line():
    sheet = SheetReport("grid", "unknown", checked=10, formula_cells=70)
    sheet.unchecked = [Unchecked("grid", f"grid!C{2 * r}", "uses DEC2BIN, which xlgd does not evaluate", 1)
                       for r in range(60)]
    text = screen_text(Report("b.xlsx", "Microsoft Excel", "excel", "cached values", sheets=[sheet]))
    assert "  60 cell(s) use DEC2BIN, which xlgd does not evaluate (grid!C0 and 59 more range(s))" in text, text
    assert screen_rows(text) <= 40


def test_many_causes_on_a_sheet_are_counted_past_the_screen():
    sheet = SheetReport("table", "unknown", checked=50, failed=50, formula_cells=50)
    sheet.causes = [Cause("table", f"B{r}", "stale", f"values are stale: B{r} holds 1, its formula gives 2")
                    for r in range(50)]
    report = Report("b.xlsx", "Microsoft Excel", "excel", "cached values", sheets=[sheet])
    text = screen_text(report)
    assert screen_rows(text) <= 40, text
    assert "... and 42 more root cause(s) here (xlgd verify --verbose lists them)" in text
    assert text.splitlines()[-1] == report.verdict() and report.verdict().startswith("FAILED: 50 root cause(s)")


def test_a_report_that_fits_is_the_whole_report():
    sheet = SheetReport("s", "unknown", checked=3, formula_cells=3)
    report = Report("b.xlsx", "Microsoft Excel", "excel", "cached values", sheets=[sheet])
    assert screen_text(report) == report.text()

"""The README's example outputs are what its commands print (tests/readme_examples.py runs them).

A block that no longer matches fails with the difference; `python3 tests/readme_examples.py --update`
rewrites every block from a fresh run.
"""

from __future__ import annotations

import re

import pytest

from tests import readme_examples as rx

LEARNER_START, LEARNER_LINES = 40, 200


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    return folder, rx.run_all(folder)


@pytest.mark.slow
def test_every_example_block_prints_what_the_readme_shows(ran):
    folder, outcomes = ran
    kinds = {o.block.kind for o in outcomes}
    assert kinds == {"example", "python"}, kinds
    problems = rx.differences(outcomes, folder)
    assert not problems, "\n\n".join(problems) + "\n\nrefresh with: python3 tests/readme_examples.py --update"


@pytest.mark.slow
def test_a_changed_number_in_a_block_is_caught_and_update_restores_it(ran):
    """The comparison masks timings and sizes only: one digit changed in a count is a difference."""
    folder, outcomes = ran
    text = rx.README.read_text(encoding="utf-8")
    verdict = next(o for o in outcomes if any(line.startswith("FAILED:") for line in o.lines))
    line = next(i for i, s in enumerate(verdict.block.lines) if s.startswith("FAILED:"))
    tampered = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), verdict.block.lines[line], count=1)
    lines = text.split("\n")
    lines[verdict.block.start + line] = tampered
    blocks = {b.start: b for b in rx.parse("\n".join(lines))}
    outcomes_on_tampered = [rx.Outcome(blocks[o.block.start], o.lines, o.exits) for o in outcomes]
    problems = rx.differences(outcomes_on_tampered, folder)
    assert len(problems) == 1 and verdict.block.where in problems[0], problems
    assert rx.rewrite("\n".join(lines), outcomes_on_tampered, folder).split("\n")[verdict.block.start + line] \
        == verdict.lines[line]


def test_normalise_masks_timings_sizes_and_the_folder_only():
    a = "wrote /tmp/x/output/g.xlsx (392.5 kB, 5 sheets, 725 step rows, 0.4s)"
    b = "wrote /tmp/y/output/g.xlsx (401.0 kB, 5 sheets, 725 step rows, 12s)"
    assert rx.normalise(a, "/tmp/x") == rx.normalise(b, "/tmp/y")
    assert rx.normalise(a) != rx.normalise(a.replace("725", "726"))
    assert rx.normalise("OK: 18,276 of 18,276") != rx.normalise("OK: 18,277 of 18,276")


def test_the_learner_part_comes_first_and_is_short():
    lines = rx.README.read_text(encoding="utf-8").split("\n")
    headings = [i for i, s in enumerate(lines) if s.startswith("## ")]
    maintainers = next(i for i in headings if lines[i].startswith("## For maintainers"))
    assert headings[0] < LEARNER_START, lines[headings[0]]
    assert maintainers - headings[0] <= LEARNER_LINES, (headings[0] + 1, maintainers + 1)


def test_every_linked_file_and_image_exists_and_images_are_small():
    text = rx.README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)\)", text)
    assert targets
    for target in targets:
        path = rx.ROOT / target
        assert path.is_file(), target
        if path.suffix == ".png":
            assert path.stat().st_size < rx.IMAGE_LIMIT, (target, path.stat().st_size)
    images = [b for b in rx.parse(text) if b.kind == "image"]
    assert len(images) >= 4 and all(re.search(r"\]\(docs/images/[\w-]+\.png\)", b.lines[0]) for b in images)


def test_the_function_table_lists_every_function_the_evaluator_computes():
    from xlgd.core.functions import FUNCTIONS

    listed = set(re.findall(r"^\| `([A-Z0-9.]+)` \|", (rx.ROOT / "docs" / "functions.md").read_text(encoding="utf-8"),
                            re.MULTILINE))
    assert listed == set(FUNCTIONS), (sorted(set(FUNCTIONS) - listed), sorted(listed - set(FUNCTIONS)))
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([A-Z0-9.]+)` \|.*$",
                                                       (rx.ROOT / "docs" / "functions.md").read_text(encoding="utf-8"),
                                                       re.MULTILINE)}
    linked = {name: f.page for name, f in FUNCTIONS.items() if f.page}
    assert len(linked) >= 100 and all(page in rows[name] for name, page in linked.items()), \
        sorted(name for name, page in linked.items() if page not in rows[name])


def test_update_refuses_to_write_a_command_that_failed(tmp_path, capsys):
    """An internal error (exit 3) where the marker expects 0 or 1 is never written into the README."""
    text = rx.README.read_text(encoding="utf-8")
    block = next(b for b in rx.parse(text) if b.kind == "example")
    crashed = rx.Outcome(block, [block.lines[0], "xlgd: internal error (ValueError at x.py:1)"], [3])
    assert rx.update(text, [crashed], tmp_path, []) == 1
    assert "not updated" in capsys.readouterr().out
    assert rx.README.read_text(encoding="utf-8") == text

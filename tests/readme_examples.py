"""The README's example blocks: run them as a reader would, compare what they print, or rewrite them.

Each marker is an HTML comment on the line before a fenced block of README.md:

    <!-- readme-run -->            a python block, run as a script (an edit a learner makes)
    <!-- readme-example exit=0 --> `$ command` lines, each followed by what it prints (stdout and stderr);
                                   exit= lists each command's exit code, comma-separated
    <!-- readme-python -->         `>>> ` statements (`... ` continues one), each followed by what it prints
    <!-- readme-image: TEMPLATE CHART -->  the image on the line below is `xlgd charts render`'s CHART.png
                                   of `xlgd generate TEMPLATE` (refreshed by --images)

The blocks run in README order in one fresh folder holding a copy of docs/examples, as a clone's
root would; `xlgd` runs this checkout's package. Outputs are compared after `normalise`, which masks
only what differs from run to run: timings, file sizes, the folder's path, openpyxl's version.

    python3 tests/readme_examples.py            # compare; exit 1 naming each block that differs
    python3 tests/readme_examples.py --update   # rewrite every example block (and exit=) from a fresh run
    python3 tests/readme_examples.py --images   # render the README's chart images again
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- readme-(run|example|python|image)(?::? ?(.*?))? -->$")
VARYING = [
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?s\b"), "<seconds>"),
    (re.compile(r"\b\d+(?:\.\d+)? (?:B|kB|MB|GB)\b"), "<size>"),
    (re.compile(r"Openpyxl \d[\w.]*"), "Openpyxl <version>"),
]
IMAGE_LIMIT = 150_000


@dataclass
class Block:
    """One marked block: its kind, the marker's argument, and the lines of README.md it spans."""
    kind: str
    argument: str
    marker_line: int  # index of the marker comment
    start: int  # index of the first line inside the fence (or of the image line)
    end: int  # index of the closing fence (or start + 1 for an image)
    lines: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"README.md:{self.marker_line + 1}"


def parse(text: str) -> list[Block]:
    """Every marked block of the README text, in order."""
    lines = text.split("\n")
    blocks = []
    for i, line in enumerate(lines):
        m = MARKER.match(line.strip())
        if not m:
            continue
        kind, argument = m.group(1), (m.group(2) or "").strip()
        if kind == "image":
            blocks.append(Block(kind, argument, i, i + 1, i + 2, lines[i + 1:i + 2]))
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise ValueError(f"README.md:{i + 1}: a readme-{kind} marker must be followed by a fenced block")
        end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"README.md:{i + 2}: unclosed fenced block")
        blocks.append(Block(kind, argument, i, i + 2, end, lines[i + 2:end]))
    return blocks


def normalise(text: str, folder: str | None = None) -> str:
    """Mask what varies from run to run; keep everything else, whitespace included (trailing spaces aside)."""
    if folder:
        text = text.replace(folder, "<folder>")
    for pattern, mask in VARYING:
        text = pattern.sub(mask, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def commands(block: Block) -> list[tuple[str, str]]:
    """[(command, the output shown under it)] of an example block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"{block.where}: output before the first `$ ` command")
    return [(cmd, "\n".join(out)) for cmd, out in pairs]


def statements(block: Block) -> list[tuple[str, str]]:
    """[(statement, the output shown under it)] of a python block of `>>> ` lines."""
    pairs: list[tuple[list[str], list[str]]] = []
    for line in block.lines:
        if line.startswith(">>> "):
            pairs.append(([line[4:]], []))
        elif line.startswith("... ") and pairs and not pairs[-1][1]:
            pairs[-1][0].append(line[4:])
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"{block.where}: output before the first `>>> ` statement")
    return [("\n".join(code), "\n".join(out)) for code, out in pairs]


def environment() -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("XLGD_DEBUG", None)
    return env


def run_command(command: str, folder: Path) -> tuple[int, str]:
    """Run one `$` command as the README shows it: `xlgd` is this checkout's, `python3` this interpreter."""
    argv = shlex.split(command, comments=True)
    if argv[0] == "xlgd":
        argv = [sys.executable, "-m", "xlgd", *argv[1:]]
    elif argv[0] in ("python", "python3"):
        argv = [sys.executable, *argv[1:]]
    done = subprocess.run(argv, cwd=folder, env=environment(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    return done.returncode, done.stdout


def run_script(code: str, folder: Path) -> None:
    """A readme-run block: python code run in the folder; it must succeed."""
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, env=environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"a readme-run block failed (exit {done.returncode}):\n{done.stdout}")


def run_session(blocks: list[Block], folder: Path) -> list[list[str]]:
    """Every readme-python block's statements in one interpreter (a notebook): what each prints."""
    payload = json.dumps([[code for code, _ in statements(b)] for b in blocks])
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--session"], input=payload,
                          cwd=folder, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"the readme-python session failed:\n{done.stderr}")
    return json.loads(done.stdout)


def session_main() -> int:
    """Run statements read as JSON on stdin like an interactive interpreter; print each one's output as JSON."""
    import contextlib
    import io

    namespace: dict = {"__name__": "__main__"}
    outputs = []
    for block in json.load(sys.stdin):
        outputs.append([])
        for code in block:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code + "\n", "<readme>", "single"), namespace)  # noqa: S102 - the README's own code
            outputs[-1].append(buffer.getvalue())
    sys.stdout.write(json.dumps(outputs))
    return 0


@dataclass
class Outcome:
    """What a fresh run printed for one block: the lines to write back, and the exit codes."""
    block: Block
    lines: list[str]
    exits: list[int]


def run_all(folder: Path, text: str | None = None) -> list[Outcome]:
    """Run the README's blocks in order in `folder`; one Outcome per example and python block."""
    text = README.read_text(encoding="utf-8") if text is None else text
    blocks = parse(text)
    shutil.copytree(ROOT / "docs" / "examples", folder / "docs" / "examples", dirs_exist_ok=True)
    pending_python = [b for b in blocks if b.kind == "python"]
    outcomes = []
    for block in blocks:
        if block.kind == "run":
            run_script("\n".join(block.lines), folder)
        elif block.kind == "example":
            lines, exits = [], []
            for cmd, _ in commands(block):
                code, out = run_command(cmd, folder)
                lines += [f"$ {cmd}", *out.rstrip("\n").split("\n")] if out.strip() else [f"$ {cmd}"]
                exits.append(code)
            outcomes.append(Outcome(block, lines, exits))
    if pending_python:
        printed = run_session(pending_python, folder)
        for block, outs in zip(pending_python, printed):
            lines = []
            for (code, _), out in zip(statements(block), outs):
                code_lines = code.split("\n")
                lines += [">>> " + code_lines[0], *("... " + c for c in code_lines[1:])]
                lines += out.rstrip("\n").split("\n") if out.strip() else []
            outcomes.append(Outcome(block, lines, []))
    return outcomes


def expected_exits(block: Block) -> list[int] | None:
    m = re.search(r"exit=([\d,]+)", block.argument)
    return [int(x) for x in m.group(1).split(",")] if m else None


def differences(outcomes: list[Outcome], folder: Path) -> list[str]:
    """One message per block whose README text or exit codes differ from what the run printed."""
    problems = []
    for o in outcomes:
        want, got = normalise("\n".join(o.block.lines)), normalise("\n".join(o.lines), str(folder))
        if want != got:
            diff = difflib.unified_diff(want.split("\n"), got.split("\n"), "README.md", "printed now", lineterm="")
            problems.append(f"{o.block.where}: the example differs from what it prints\n" + "\n".join(diff))
        if o.block.kind == "example" and expected_exits(o.block) != o.exits:
            problems.append(f"{o.block.where}: exit codes {o.exits}, the marker says {expected_exits(o.block)}")
    return problems


def rewrite(text: str, outcomes: list[Outcome], folder: Path) -> str:
    """The README text with every example and python block replaced by what the run printed."""
    lines = text.split("\n")
    for o in sorted(outcomes, key=lambda o: o.block.start, reverse=True):
        shown = [line.replace(str(folder), "<folder>").rstrip() for line in o.lines]
        if normalise("\n".join(shown)) != normalise("\n".join(o.block.lines)):
            lines[o.block.start:o.block.end] = shown  # a block that differs only in timings stays
        if o.block.kind == "example":
            lines[o.block.marker_line] = f"<!-- readme-example exit={','.join(map(str, o.exits))} -->"
    return "\n".join(lines)


def images(text: str, folder: Path) -> list[str]:
    """Render each readme-image chart again into the path its image line names; returns the paths."""
    written, rendered = [], set()
    for block in (b for b in parse(text) if b.kind == "image"):
        template, chart = block.argument.split()
        target = re.search(r"\]\(([^)]+\.png)\)", block.lines[0]).group(1)
        if template not in rendered:
            for cmd in (f"xlgd generate {template} -o {template}.xlsx",
                        f"xlgd charts render {template}.xlsx -o charts-{template}"):
                code, out = run_command(cmd, folder)
                if code:
                    raise RuntimeError(f"{cmd}: exit {code}\n{out}")
            rendered.add(template)
        source = folder / f"charts-{template}" / f"{chart}.png"
        shutil.copyfile(source, ROOT / target)
        written.append(f"{target} ({(ROOT / target).stat().st_size:,} bytes)")
    return written


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def update(text: str, outcomes: list[Outcome], folder: Path, problems: list[str]) -> int:
    """Rewrite the README from the run, unless a command failed in a way its marker does not say."""
    failed = [f"{o.block.where}: exit codes {o.exits}" for o in outcomes if o.block.kind == "example"
              and any(code >= 2 for code in o.exits) and o.exits != expected_exits(o.block)]
    if failed:
        print("not updated: a command failed (exit 2 or 3) where its marker expects otherwise\n" + "\n".join(failed))
        return 1
    new = rewrite(text, outcomes, folder)
    if new != text:
        write_atomically(README, new)
    changed = list(dict.fromkeys(":".join(p.split(":")[:2]) for p in problems))
    print(f"README.md: {len(outcomes)} example block(s); rewritten: {', '.join(changed) if changed else 'none'}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--session"]:
        return session_main()
    text = README.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="xlgd-readme-") as name:
        folder = Path(name)
        if argv[:1] == ["--images"]:
            print("\n".join(images(text, folder)))
            return 0
        outcomes = run_all(folder, text)
        problems = differences(outcomes, folder)
        if argv[:1] == ["--update"]:
            return update(text, outcomes, folder, problems)
    print("\n\n".join(problems) if problems else f"README.md: {len(outcomes)} example block(s) match")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

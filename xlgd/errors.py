"""One exception type for everything a user can get wrong, and how it is said.

The CLI turns an `XlgdError` into one line on stderr and exit code 2, and so
an ImportError of a package xlgd needs (`dependency_error` gives the
`MissingDependency` that names the package and the pip command); anything
else that escapes a command is a bug in xlgd, not in the user's input, and
the CLI says so on one line with exit code 3 (README, "Bad input").
"""

from __future__ import annotations

import os
import re

MAX_LINE = 300  # characters of the one stderr line, "xlgd: " included
LONG_WORD = 72  # a path or value longer than this is shortened in the middle


class XlgdError(Exception):
    """Bad input: a template, a knob, a file. The message is the whole story."""

    exit_code = 2

    def __init__(self, message: str = ""):
        # One line whatever it quotes: lxml's messages carry newlines ("Char 0x0 out of allowed
        # range\n, line 2"), and `xlgd.read` callers print str(e) as the CLI prints its line.
        super().__init__(" ".join(str(message).split()))


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut in the middle to at most `limit` characters (both ends say the most)."""
    text = str(text)
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 5
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def one_line(message: str, limit: int = MAX_LINE - len("xlgd: ")) -> str:
    """A message as one line of at most `limit` characters: whitespace runs (newlines too)
    become one space, words longer than LONG_WORD (paths, values) are shortened in the middle,
    and what is still too long is cut in the middle."""
    text = " ".join(str(message).split())
    text = re.sub(r"\S{%d,}" % (LONG_WORD + 1), lambda m: shorten(m.group(0), LONG_WORD), text)
    return shorten(text, limit)


# The distributions pyproject names as dependencies (tests/test_environment.py keeps them
# equal), and matplotlib, which only plotting needs: the [plot] extra.
DEPENDENCIES = ("openpyxl", "numpy", "pandas", "xlsxwriter", "lxml", "orjson")
PLOT_EXTRA = ("matplotlib",)


class MissingDependency(XlgdError):
    """A package xlgd needs is not installed or does not import: the user's environment, not
    their input and not a bug. The message names the package and the command that installs it."""


def dependency_error(error: ImportError, needed_for: str = "") -> MissingDependency | None:
    """The MissingDependency an ImportError means, or None when no dependency is to blame (an
    ImportError among xlgd's own modules is a bug). A dependency is missing when Python cannot
    find it, broken when it is there but does not import (a module of its own, or a package it
    needs, is missing or of the wrong version)."""
    name = _culprit(error)
    if name is None:
        return None
    why = f"{needed_for} needs {name}" if needed_for else f"xlgd needs {name}"
    if name in PLOT_EXTRA:
        why += " (the [plot] extra)"
    if not _installed(name):
        return MissingDependency(f"{why}, which is not installed: {_pip()} install '{_requirement(name)}'")
    return MissingDependency(f"{why}, which is installed but does not import ({error}): "
                             f"{_pip()} install --force-reinstall '{_requirement(name)}'")


def _culprit(error: ImportError) -> str | None:
    """The dependency to blame: the deepest ImportError of the chain (pandas raises its own from
    numpy's) that names one, else the innermost frame of the traceback that runs one's code."""
    known = DEPENDENCIES + PLOT_EXTRA
    chain = []
    while isinstance(error, ImportError) and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    named = [top for err in chain if (top := (err.name or "").split(".")[0]) in known]
    if named:
        return named[-1]
    frames, tb = [], chain[0].__traceback__
    while tb is not None:
        frames.append(str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0])
        tb = tb.tb_next
    return next((m for m in reversed(frames) if m in known), None)


def _installed(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules: not importable at all
        return False


def _requirement(name: str) -> str:
    """`name` with the version pyproject asks for, as the installed xlgd's metadata says it."""
    import importlib.metadata

    try:
        requires = importlib.metadata.requires("xlgd") or []
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        requires = []
    for req in requires:
        spec = req.split(";")[0].strip()
        if re.match(rf"{name}\b(?![-.])", spec, re.IGNORECASE):
            return spec
    return name


def _pip() -> str:
    """How to run pip for the interpreter running xlgd: `python3 -m pip` when the `python3` on
    PATH is in the same directory (the same venv), else that interpreter's own path."""
    import shlex
    import shutil
    import sys

    on_path = shutil.which("python3")
    here = os.path.dirname(os.path.abspath(sys.executable))
    if on_path and os.path.dirname(os.path.abspath(on_path)) == here or len(sys.executable) > LONG_WORD:
        return "python3 -m pip"
    return f"{shlex.quote(sys.executable)} -m pip"

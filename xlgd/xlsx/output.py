"""Writing an output file atomically: all of it, or nothing.

Every file xlgd writes (a generated workbook, a chart-fixed copy, an HTML
report) goes through `atomic_output`: the bytes go to a temporary file in
the target's own folder (so the final rename never crosses a file system),
are flushed to disk, get their permission bits -- `mode` when the caller
passes one (a chart-fixed copy takes its input's bits: it is that workbook),
else the bits the target had, or, for a new file, what the umask gives a
new file (mkstemp's 0600 would surprise whoever shares the folder) -- and
only then replace the target in one rename. If anything fails on the way the temporary file is removed and the
target is untouched; the input of a command is never the file written.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ..errors import XlgdError


def check_not_input(out, inputs, what: str = "the output", hint: str = "choose another path") -> None:
    """Refuse an output path that is one of the inputs -- the same file by another name, a
    symbolic or a hard link included (same device and inode): a command never writes over
    what it reads (charts' --in-place is the one explicit exception)."""
    out = Path(out)
    try:
        o = os.stat(out)
    except OSError:
        return  # does not exist yet (or cannot be looked at: the write will say why)
    for i in inputs:
        try:
            s = os.stat(i)
        except OSError:
            continue
        if (o.st_dev, o.st_ino) == (s.st_dev, s.st_ino):
            raise XlgdError(f"{what} {out} is the input {i} (the same file); {hint}")


def file_mode(path) -> int:
    """The permission bits of an existing file (what a copy of it should get)."""
    return stat.S_IMODE(os.stat(path).st_mode)


def _mode_for(path: Path) -> int:
    try:
        return file_mode(path)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path, suffix: str = ".tmp", mode: int | None = None):
    """Yield a temporary path beside `path`; on a clean exit it becomes `path` (see the module doc)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path) if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _sync_folder(folder):
    # The rename is durable once the folder's entry is on disk; not every file system lets us ask.
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

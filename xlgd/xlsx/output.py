"""Writing an output file atomically: all of it, or nothing.

`atomic_output` writes the bytes to a temporary file in the target's own folder, flushes them, gives
them their permission bits (`mode` when given, else the target's, else what the umask gives a new
file) and only then replaces the target in one rename; on any failure the temporary file is removed
and the target is untouched.
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

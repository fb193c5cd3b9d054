"""The `xlgd` command line: one sub-command per module, errors as one line.

Each sub-command module exposes `add_parser(subparsers)` (which sets
`func` on its parser) so a new command is one import and one list entry.
Exit codes: 0 ok, 1 problems or differences found, 2 bad input (one line on stderr), 3 a bug in
xlgd (one line; XLGD_DEBUG=1 shows the traceback).
"""

import argparse
import os
import sys
import traceback
import warnings

from .. import __version__
from ..errors import XlgdError, dependency_error, one_line


def _commands():
    # Imported when the parser is built, not with the package: each command
    # module imports its room (pandas, lxml, numpy) only when it runs.
    from . import charts, diff, generate, verify

    return [generate, verify, diff, charts]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse's own usage errors: one line and exit 2, like ours.
        sys.stderr.write(f"xlgd: {one_line(f'{message} (try: {self.prog} --help)')}\n")
        sys.exit(2)


def build_parser():
    parser = _Parser(
        prog="xlgd",
        description=(
            "Gradient descent in a spreadsheet. `xlgd generate` writes graddesc-style "
            "workbooks: one row per SGD step, every number a live formula you can click on."
        ),
        epilog="Exit codes: 0 ok, 1 problems or differences found, 2 bad input (one line on stderr), "
               "3 a bug in xlgd. `xlgd COMMAND --help` explains each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xlgd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _commands():
        mod.add_parser(sub)
    return parser


def main(argv=None):
    """Run one command; every failure becomes one line on stderr (see `_failure`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    with warnings.catch_warnings(record=True) as caught:
        # A library's warning (numpy, lxml, zipfile) is not the user's business: xlgd says
        # what matters itself. XLGD_DEBUG=1 shows them, and the tracebacks of internal errors.
        warnings.simplefilter("always")
        try:
            code = int(args.func(args) or 0)
        except BaseException as e:  # noqa: BLE001 -- the one boundary: nothing passes as a traceback
            code = _failure(e)
        finally:
            _flush_stdout()
    if caught and os.environ.get("XLGD_DEBUG"):
        for w in caught:
            sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    return code


def _failure(error: BaseException) -> int:
    """One line on stderr and the exit code: 2 for bad input or the user's environment (a full
    disk, a dependency missing or broken), 3 for a bug.

    Exit 3 keeps "your file is bad" (2) apart from "xlgd failed" (3): the user can report the
    second, and the fuzz test (tests/test_hostile_fuzz.py) fails on it, so a bug is found, not
    hidden behind a polite line."""
    if isinstance(error, SystemExit):
        raise error
    if isinstance(error, XlgdError):
        return _say(str(error), 2)
    if isinstance(error, KeyboardInterrupt):
        return _say("interrupted", 2)
    if isinstance(error, BrokenPipeError):
        return _quiet_pipe()
    if isinstance(error, OSError):
        # Unwritable paths, missing files, a full disk: the user's environment, not a bug.
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        return _say(f"{error.strerror or error}{where}", 2)
    missing = dependency_error(error) if isinstance(error, ImportError) else None
    if missing is not None:
        return _say(str(missing), 2)
    if os.environ.get("XLGD_DEBUG"):
        traceback.print_exc()
    return _say(f"internal error ({type(error).__name__} at {_where(error)}): a bug in xlgd, not in your input; "
                f"please report it (XLGD_DEBUG=1 shows the traceback)", 3)


def _say(message: str, code: int) -> int:
    sys.stderr.write(f"xlgd: {one_line(message)}\n")
    return code


def _where(error: BaseException) -> str:
    tb = traceback.extract_tb(error.__traceback__)
    own = [f for f in tb if f"{os.sep}xlgd{os.sep}" in f.filename] or tb
    if not own:
        return "?"
    f = own[-1]
    return f"{os.path.basename(f.filename)}:{f.lineno}"


def _flush_stdout():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    except (OSError, ValueError):
        pass


def _quiet_pipe() -> int:
    # `xlgd ... | head`: the reader has what it wanted; Python must not complain at exit.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a file (captured in tests)
    return 0


if __name__ == "__main__":
    sys.exit(main())

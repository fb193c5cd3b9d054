"""The `xlgd` command line: one sub-command per module, errors as one line.

Each sub-command module exposes `add_parser(subparsers)` (which sets
`func` on its parser) so a new command is one import and one list entry.
Exit codes: 0 ok, 1 differences found, 2 bad input or error.
"""

import argparse
import sys

from .. import __version__
from ..errors import XlgdError


def _commands():
    # Imported when the parser is built, not with the package: each command
    # module imports its room (pandas, lxml, numpy) only when it runs.
    from . import charts, diff, generate, verify

    return [generate, verify, diff, charts]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse's own usage errors: one line and exit 2, like ours.
        sys.stderr.write(f"xlgd: {message} (try: {self.prog} --help)\n")
        sys.exit(2)


def build_parser():
    parser = _Parser(
        prog="xlgd",
        description=(
            "Gradient descent in a spreadsheet. `xlgd generate` writes graddesc-style "
            "workbooks: one row per SGD step, every number a live formula you can click on."
        ),
        epilog="Exit codes: 0 ok, 1 differences found, 2 error. `xlgd COMMAND --help` explains each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xlgd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _commands():
        mod.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except XlgdError as e:
        sys.stderr.write(f"xlgd: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("xlgd: interrupted\n")
        return 2
    except OSError as e:
        # Unwritable paths, missing files: the user's environment, not a bug.
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        sys.stderr.write(f"xlgd: {e.strerror or e}{where}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())

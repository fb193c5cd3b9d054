"""One exception type for everything a user can get wrong, and how it is said.

The CLI turns an `XlgdError` into one line on stderr and exit code 2;
anything else that escapes a command is a bug in xlgd, not in the user's
input, and the CLI says so on one line with exit code 3 (README, "Bad input").
"""

from __future__ import annotations

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

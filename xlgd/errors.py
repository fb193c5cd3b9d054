"""One exception type for everything a user can get wrong.

The CLI turns it into one line on stderr and exit code 2; anything else
that escapes is a bug in xlgd, not in the user's input.
"""


class XlgdError(Exception):
    """Bad input: a template, a knob, a file. The message is the whole story."""

    exit_code = 2

"""Excel's text functions (FIND, SEARCH, SUBSTITUTE, REPLACE, REPT, VALUE, N, CHAR, CODE ...), registered in the
one function table (`functions.FUNCTIONS`); each entry names Microsoft's reference page beside it.

Positions count characters from 1. FIND is case-sensitive without wildcards; SEARCH ignores case and takes
`?`, `*` and `~` as Excel does. What depends on the machine's code page or locale (CHAR and CODE past 127,
VALUE of a currency, a percentage or a date) is left unchecked with the reason (`NotEvaluated`).
"""

from __future__ import annotations

import re

from .functions import MS, Function, register
from .values import (
    Block,
    NotEvaluated,
    SheetError,
    Text,
    intersect,
    is_error,
    number,
    text,
)


def _start(args, within) -> int:
    start = int(number(args[2])) if len(args) > 2 else 1  # a blank cell is 0: #VALUE!
    if start < 1 or start > len(within) + 1:
        raise SheetError("#VALUE!")
    return start - 1


def _find(args, dialect):
    """FIND(find_text, within_text, [start_num]): where find_text first starts, case-sensitive."""
    wanted, within = text(args[0]), text(args[1])
    i = within.find(wanted, _start(args, within))
    if i < 0:
        raise SheetError("#VALUE!")
    return float(i + 1)


def wildcard(pattern: str) -> re.Pattern:
    """Excel's `?` (one character), `*` (any run) and `~` (the next character as it is), without case."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _search(args, dialect):
    """SEARCH(find_text, within_text, [start_num]): like FIND without case, with wildcards."""
    wanted, within = text(args[0]), text(args[1])
    m = wildcard(wanted).search(within, _start(args, within))
    if m is None:
        raise SheetError("#VALUE!")
    return float(m.start() + 1)


def _substitute(args, dialect):
    """SUBSTITUTE(text, old_text, new_text, [instance_num]): every occurrence, or only the instance_num-th."""
    t, old, new = text(args[0]), text(args[1]), text(args[2])
    if len(args) < 4:
        return Text(t.replace(old, new) if old else t)
    if isinstance(args[3], bool):
        raise SheetError("#VALUE!")
    n = int(number(args[3]))  # a blank cell is 0: #VALUE!
    if n < 1:
        raise SheetError("#VALUE!")
    at = -1
    for _ in range(n):
        at = t.find(old, at + 1) if old else -1
        if at < 0:
            return Text(t)
    return Text(t[:at] + new + t[at + len(old):])


def _replace(args, dialect):
    """REPLACE(old_text, start_num, num_chars, new_text)."""
    t, start, count, new = text(args[0]), number(args[1]), number(args[2]), text(args[3])
    if start < 1 or count < 0:
        raise SheetError("#VALUE!")
    i = int(start) - 1
    return Text(t[:i] + new + t[i + int(count):])


def _rept(args, dialect):
    t, n = text(args[0]), number(args[1])
    if n < 0 or len(t) * int(n) > 32767:
        raise SheetError("#VALUE!")
    return Text(t * int(n))


_LOCALE_NUMBER = re.compile(r"[$€£¥%,()]")


def _value(args, dialect):
    """VALUE(text): the number a text spells; a boolean is #VALUE!; currency, percentages, thousands
    separators and dates depend on the locale and are left unchecked."""
    v = args[0]
    if isinstance(v, bool):
        raise SheetError("#VALUE!")
    if isinstance(v, Text) and _LOCALE_NUMBER.search(v):
        raise NotEvaluated(f'uses VALUE of the text "{v}", which Excel reads by the locale')
    return number(v)


def _n(args, dialect):
    """N(value): a number as it is, TRUE 1, FALSE 0, an error as it is, anything else 0; given a range or an
    array in an array formula, its first value (Excel's `{=N(C19:Q19)}` is C19's in every cell)."""
    v = intersect(args[0])
    if isinstance(v, Block):
        v = v.values[0][0] if v.values and v.values[0] else None
    if is_error(v):
        raise SheetError(v)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return v if isinstance(v, float) else 0.0


def _char(args, dialect):
    n = int(number(args[0]))
    if not 1 <= n <= 255:
        raise SheetError("#VALUE!")
    if n > 127:
        raise NotEvaluated(f"uses CHAR({n}), a character of the machine's code page")
    return Text(chr(n))


def _code(args, dialect):
    t = text(args[0])
    if not t:
        raise SheetError("#VALUE!")
    if ord(t[0]) > 127:
        raise NotEvaluated(f'uses CODE of "{t[0]}", a character of the machine\'s code page')
    return float(ord(t[0]))


def _unichar(args, dialect):
    n = int(number(args[0]))
    if not 1 <= n <= 0x10FFFF or 0xD800 <= n <= 0xDFFF:
        raise SheetError("#VALUE!")
    return Text(chr(n))


def _unicode(args, dialect):
    t = text(args[0])
    if not t:
        raise SheetError("#VALUE!")
    return float(ord(t[0]))


def _reg(name, lo, hi, page, **kw):
    register(Function(name, lo, hi, page=MS + page, magnitude="exact", **kw))


_VALUES = ("value", "value", "value", "value")
_reg("FIND", 2, 3, "find-findb-functions-c7912941-af2a-4bdf-a553-d0d89b0a0628", exact=_find, args=_VALUES)
_reg("SEARCH", 2, 3, "search-searchb-functions-9ab04538-0e55-4719-a72e-b6f54513b495", exact=_search,
     args=_VALUES)
_reg("SUBSTITUTE", 3, 4, "substitute-function-6434944e-a904-4336-a9b0-1e58df3bc332", exact=_substitute,
     args=_VALUES)
_reg("REPLACE", 4, 4, "replace-replaceb-functions-8d799074-2425-4a8a-84bc-82472868878a", exact=_replace,
     args=_VALUES)
_reg("REPT", 2, 2, "rept-function-04c4d778-e712-43b4-9c15-d656582bb061", exact=_rept, args=_VALUES)
_reg("VALUE", 1, 1, "value-function-257d0108-07dc-437d-ae1c-bc2d3953d8c2", exact=_value, args=_VALUES)
_reg("N", 1, 1, "n-function-a624cad1-3635-4208-b54a-29733d1278c9", exact=_n, args=("range",))
_reg("CHAR", 1, 1, "char-function-bbd249c8-b36e-4a91-8017-1c133f9b837a", exact=_char)
_reg("CODE", 1, 1, "code-function-c32b692b-2ed0-4a04-bdd9-75640144b928", exact=_code, args=_VALUES)
_reg("UNICHAR", 1, 1, "unichar-function-ffeb64f5-f131-44c6-b332-5cd72f0659b8", exact=_unichar)
_reg("UNICODE", 1, 1, "unicode-function-adb74aaa-a2a5-4dde-aff6-966e4e81f16f", exact=_unicode, args=_VALUES)

"""Cached values' texts (`<v>` of number cells) as doubles, read in bulk.

The texts are joined as one JSON array and read by orjson, which gives float()'s doubles bit for
bit (correctly rounded); texts JSON reads otherwise (true, null, -0) or not at all (inf, .5, 1.) go
to numpy. Used by verify's step-table reader and the workbook evaluator's row reader.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

_NUMBER_CHARS = b"0123456789eE+-.,"
_MINUS_ZERO = re.compile(r"-0(?![.eE0-9])")  # JSON reads -0 as the integer 0: float() as -0.0


def numbers(texts):
    """Cached values' texts as a float64 array, as float() reads them; None if one is not a number."""
    return joined_numbers(",".join(texts), len(texts))


def joined_numbers(joined: str, count: int):
    """numbers() of `count` texts joined by commas (a text holding a comma is not a number: None)."""
    if joined.isascii() and not joined.encode().translate(None, _NUMBER_CHARS) and not _MINUS_ZERO.search(joined):
        try:
            arr = np.array(orjson.loads("[" + joined + "]"), dtype=np.float64)  # (twice fromiter's speed)
            if arr.shape == (count,):
                return arr
        except (orjson.JSONDecodeError, ValueError, TypeError, OverflowError):
            pass
    try:
        arr = np.array(joined.split(",") if count else [], dtype=np.float64)
    except ValueError:
        return None
    return arr if arr.shape == (count,) else None

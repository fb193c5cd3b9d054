"""Doubles as the text of a cell's value: the shortest decimal that reads back as the same bits.

orjson (Ryu) formats a whole numpy array in one call, each value the shortest round-trip text;
its spelling differs from repr's only in exponents and small numbers ('1e16', '0.00001'), both
xsd:double, which Excel, LibreOffice, openpyxl and float() read (tests/test_workbook.py checks
every cached value bit for bit).
"""

from __future__ import annotations

import numpy as np
import orjson


def texts(values) -> list[str]:
    """Each double of a 1-D array as cell text; nan and inf come out as 'null' (error cells say their code)."""
    arr = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if not len(arr):
        return []
    return orjson.dumps(arr, option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")


def text(value: float) -> str:
    """One double as cell text (the same spelling as `texts`)."""
    return orjson.dumps(float(value)).decode()

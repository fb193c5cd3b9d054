"""Excel's base conversions (DEC2BIN, BIN2DEC, HEX2OCT ... all twelve), registered in the one function table.

A binary, octal or hexadecimal number is text of at most 10 digits (a number given is read as its digits);
ten digits with the top bit set are negative, in two's complement (`FFFFFFFFFF` is -1). A result fits the
target's ten digits or is #NUM!; a negative result is ten digits whatever `places` asks; a positive one is
padded with zeros to `places` (1-10, checked first), #NUM! when it needs more; "" is 0. A boolean argument is #VALUE! (the Analysis
ToolPak's rule). Each entry names Microsoft's reference page beside it.
"""

from __future__ import annotations

import math

from .functions import MS, TOOLPAK, Function, register
from .values import SheetError, Text, is_error, number, text

BASES = {"BIN": 2, "OCT": 8, "DEC": 10, "HEX": 16}
_DIGITS = "0123456789ABCDEF"


def _value_of(v, base: int) -> int:
    """The integer a BIN/OCT/HEX argument spells (two's complement at ten digits)."""
    if is_error(v):
        raise SheetError(v)
    if isinstance(v, bool):
        raise SheetError("#VALUE!")
    digits = text(v).strip().upper() if v is not None else ""
    if len(digits) > 10 or any(ch not in _DIGITS[:base] for ch in digits):
        raise SheetError("#NUM!")
    n = int(digits, base) if digits else 0  # "" is 0
    return n - base**10 if len(digits) == 10 and n >= base**10 // 2 else n


def _decimal_of(v) -> int:
    if isinstance(v, bool):
        raise SheetError("#VALUE!")
    x = number(v)
    return math.trunc(x) if abs(x) < 2.0**53 else _too_big()


def _too_big():
    raise SheetError("#NUM!")


def _width(places) -> int | None:
    """`places` as a whole number 1-10 (checked before the number is read), or None when not given."""
    if places is None:
        return None
    if isinstance(places, bool):
        raise SheetError("#VALUE!")
    width = math.trunc(number(places))
    if not 1 <= width <= 10:
        raise SheetError("#NUM!")
    return width


def _written(n: int, base: int, width: int | None) -> Text:
    """n in `base` within ten digits: negative as two's complement, positive padded to `width`."""
    half = base**10 // 2
    if not -half <= n < half:
        raise SheetError("#NUM!")
    if n < 0:
        return Text(_digits(n + base**10, base))
    out = _digits(n, base)
    if width is not None:
        if width < len(out):
            raise SheetError("#NUM!")
        out = out.rjust(width, "0")
    return Text(out)


def _digits(n: int, base: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, base)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def _converter(source: str, target: str):
    def f(args, dialect):
        width = _width(args[1] if len(args) > 1 else None)
        v = args[0]
        n = _decimal_of(v) if source == "DEC" else _value_of(v, BASES[source])
        if target == "DEC":
            return float(n)
        return _written(n, BASES[target], width)

    return f


_PAGE_IDS = {
    "DEC2BIN": "dec2bin-function-0f63dd0e-5d1a-42d8-b511-5bf5c6d43838",
    "DEC2OCT": "dec2oct-function-c9d835ca-20b7-40c4-8a9e-d3be351ce00f",
    "DEC2HEX": "dec2hex-function-6344ee8b-b6b5-4c6a-a672-f64666704619",
    "BIN2DEC": "bin2dec-function-63905b57-b3a0-453d-99f4-647bb519cd6c",
    "BIN2OCT": "bin2oct-function-0a4e01ba-ac8d-4158-9b29-16c25c4c23fd",
    "BIN2HEX": "bin2hex-function-0375e507-f5e5-4077-9af8-28d84f9f41cc",
    "OCT2BIN": "oct2bin-function-55383471-3c56-4d27-9522-1a8ec646c589",
    "OCT2DEC": "oct2dec-function-87606014-cb98-44b2-8dbb-e48f8ced1554",
    "OCT2HEX": "oct2hex-function-912175b4-d497-41b4-a029-221f051b858f",
    "HEX2BIN": "hex2bin-function-a13aafaa-5737-4920-8424-643e581828c1",
    "HEX2OCT": "hex2oct-function-54d52808-5d19-4bd0-8a63-1096a5d11912",
    "HEX2DEC": "hex2dec-function-8c8c3155-9f37-45a5-a3ee-ee5379ef106e",
}
for _name, _page in _PAGE_IDS.items():
    _source, _target = _name.split("2")
    register(Function(_name, 1, 1 if _target == "DEC" else 2, exact=_converter(_source, _target),
                      args=("value",), magnitude="exact", page=MS + _page))
    TOOLPAK.add(_name)

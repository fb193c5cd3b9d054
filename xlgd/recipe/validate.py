"""A template checked ahead of any work: every setting of the right type, numbers finite, sizes sane.

A template or an edited record inside a workbook can say `lr = nan`, `x = "123"` or `epochs =
1000000000`; each is refused here in one line naming the setting and its value. This module checks
the template as a whole (`check_template`), single values (`number`, `whole`, `sheet_name`) and
the sheet-name rules (`unique_sheet_name`, `RESERVED`); `data.py` checks its data with the same
helpers; the core checks models, optimisers, conventions and knobs (`resolve_knobs`).
"""

from __future__ import annotations

import math
import re

from ..errors import XlgdError, shorten
from .record import META_SHEET

EXCEL_ROWS = 1_048_576
# Above a step sheet's first step: title, labels, inputs, hints, headers, start row
# (layout.py START_ROW = 6; tests/test_hostile_inputs.py checks the two agree).
ROWS_ABOVE_STEPS = 6
MAX_STEPS = EXCEL_ROWS - ROWS_ABOVE_STEPS
MAX_DATA_ROWS = MAX_STEPS  # every sheet runs at least one epoch over the data
MAX_SHEETS = 250  # sheets of one workbook, sweeps included: far beyond any lesson
MAX_TITLE = 255  # Excel's limit for document properties (XlsxWriter warns past it)
MAX_TEXT = 32_767  # characters in one cell
MAX_TEMPLATE_BYTES = 16 << 20
# Sheet names a template may not use: the intro, the data and the record.
RESERVED = ("data", "intro", META_SHEET)

TOP_TYPES = {"name": str, "title": str, "description": str, "hint": str, "epochs": int, "convention": str, "grad": str,
             "fd": bool, "data": dict, "knobs": dict, "sheets": list, "extras": (list, dict)}
SHEET_TYPES = {"name": str, "model": str, "optimizer": str, "convention": str, "grad": str, "fd": bool,
               "epochs": int, "knobs": dict, "title": str, "stability": bool}
EXTRA_TYPES = {"kind": str, "name": str, "sheet": str, "sheets": list, "one_neuron": str, "two_neuron": str,
               "lr": list, "weight": str, "series": list}
_TYPE_WORDS = {str: "text", int: "a whole number", bool: "true or false", dict: "a table", list: "a list",
               float: "a number"}
# Excel refuses these sheet names: History is its own, a quote may not start or end a name.
_SHEET_FORBIDDEN = set("[]:*?/\\")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")
_FILE_NAME = re.compile(r"[^./\\][^/\\]*")  # no folder in it, not hidden: output/NAME.xlsx stays in output/


def show(value) -> str:
    """A value as a message shows it: repr, shortened in the middle."""
    return shorten(repr(value), 40)


def number(value, what: str) -> float:
    """A finite number (int or float, not true/false, not text); else one line naming `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise XlgdError(f"{what} must be a number, got {show(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond the largest double
        raise XlgdError(f"{what} must be a finite number, got {show(value)}") from None
    if not math.isfinite(v):
        raise XlgdError(f"{what} must be a finite number, got {show(value)}")
    return v


def number_text(text: str, what: str) -> float:
    """A finite number written as text (`--set lr=0.001`, a CSV field)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise XlgdError(f"{what} must be a number, got {show(text)}") from None
    if not math.isfinite(v):
        raise XlgdError(f"{what} must be a finite number, got {show(text)}")
    return v


def whole(value, what: str, low: int, high: int) -> int:
    """A whole number in lo..hi (a float with no fraction counts, as TOML writes 1e3)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise XlgdError(f"{what} must be a whole number, got {show(value)}")
    if value < low:
        raise XlgdError(f"{what} must be at least {low:,}, got {show(value)}")
    if value > high:
        raise XlgdError(f"{what} must be at most {high:,}, got {show(value)}")
    return value


def utf16_units(text: str) -> int:
    """The length of text as Excel counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sheet_name(name, what: str = "sheet name") -> str:
    """A name Excel accepts for a sheet (1-31 UTF-16 units, none of []:*?/\\, no quote at either end)."""
    if not isinstance(name, str):
        raise XlgdError(f"{what} must be text, got {show(name)}")
    why = None
    if not name.strip():
        why = "it is blank"
    elif utf16_units(name) > 31:
        why = (f"it has {len(name)} characters (Excel allows 31)" if utf16_units(name) == len(name) else
               f"it is {utf16_units(name)} characters long as Excel counts them (an emoji counts as two; "
               f"Excel allows 31)")
    elif _SHEET_FORBIDDEN & set(name):
        why = "it contains one of []:*?/\\"
    elif name.startswith("'") or name.endswith("'"):
        why = "it starts or ends with a quote"
    elif _CONTROL.search(name):
        why = "it contains a control character"
    elif name.lower() == "history":
        why = "Excel keeps the name History for itself"
    if why:
        raise XlgdError(f"{what} {show(name)} is not allowed: {why}")
    return name


def unique_sheet_name(name: str, seen: set) -> None:
    """A step sheet's name: one Excel accepts, none xlgd writes itself, none already in `seen` (lower case)."""
    sheet_name(name)
    if name.lower() in RESERVED:
        raise XlgdError(f"sheet name {name!r} is not allowed: xlgd writes {', '.join(RESERVED)} itself")
    if name.lower() in seen:
        raise XlgdError(f"two sheets are named {name!r}")
    seen.add(name.lower())


def _typed(table: dict, types: dict, where: str):
    for key, want in types.items():
        if key in table:
            v = table[key]
            ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
            if not ok:
                words = " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in (want if isinstance(want, tuple) else (want,)))
                raise XlgdError(f"{where}{key} must be {words}, got {show(v)}")


def _text(value, what, limit, pattern=None):
    if len(value) > limit:
        raise XlgdError(f"{what} has {len(value):,} characters (at most {limit:,})")
    if pattern is not None and not pattern.fullmatch(value):
        raise XlgdError(f"{what} {show(value)} must be usable as a file name (no / or \\, not starting with .)")
    if _CONTROL.search(value.replace("\n", "").replace("\t", "").replace("\r", "")):
        raise XlgdError(f"{what} contains a control character")


def check_template(tpl) -> None:
    """Types, finiteness and sizes of a whole template (a dict from TOML or from a record)."""
    if not isinstance(tpl, dict):
        raise XlgdError(f"a template must be a table of settings, got {show(tpl)}")
    _typed(tpl, TOP_TYPES, "")
    if "name" in tpl:
        _text(tpl["name"], "name", 100, _FILE_NAME)  # the default output is output/NAME.xlsx
    for key, limit in (("title", MAX_TITLE), ("description", MAX_TEXT), ("hint", MAX_TEXT)):
        if key in tpl:
            _text(tpl[key], key, limit)
    if "epochs" in tpl:
        whole(tpl["epochs"], "epochs", 1, MAX_STEPS)
    for k, v in (tpl.get("knobs") or {}).items():
        number(v, f"knobs.{k}")
    sheets = tpl.get("sheets") or []
    if len(sheets) > MAX_SHEETS:
        raise XlgdError(f"the template has {len(sheets)} sheets (at most {MAX_SHEETS})")
    for i, s in enumerate(sheets):
        where = f"sheets[{i + 1}]"
        if not isinstance(s, dict):
            raise XlgdError(f"{where} must be a table ([[sheets]] with a model and an optimizer), got {show(s)}")
        label = f"sheet {s['name']}" if isinstance(s.get("name"), str) else where
        _typed(s, SHEET_TYPES, f"{label}: ")
        if "name" in s:
            sheet_name(s["name"])
        if "title" in s:
            _text(s["title"], f"{label}: title", MAX_TITLE)
        if "epochs" in s:
            whole(s["epochs"], f"{label}: epochs", 1, MAX_STEPS)
        for k, v in (s.get("knobs") or {}).items():
            number(v, f"{label}: knob {k}")
    extras = tpl.get("extras") or []
    for i, e in enumerate([extras] if isinstance(extras, dict) else extras):
        if isinstance(e, dict):
            _check_extra(e, f"extras[{i + 1}]")


def _check_extra(e: dict, where: str) -> None:
    """An [[extras]] table: each setting of its type (which settings a kind reads is
    recipe/experiments.py's business; a string where a list of sheets belongs would be read
    letter by letter, a text start of a sine grid would fail half-way through the writing)."""
    label = f"{where} ({e['kind']})" if isinstance(e.get("kind"), str) else where
    _typed(e, EXTRA_TYPES, f"{label}: ")
    if "name" in e:
        sheet_name(e["name"], f"{label}: name")
    for key in ("start", "stop", "step", "beta"):
        if key in e:
            number(e[key], f"{label}: {key}")
    for v in e.get("lr", ()):
        number(v, f"{label}: lr")
    for v in e.get("sheets", ()):
        if not isinstance(v, str):
            raise XlgdError(f"{label}: sheets must be a list of sheet names, got {show(v)}")
    for v in e.get("series", ()):
        if not (isinstance(v, list) and len(v) == 3 and all(isinstance(t, str) for t in v)):
            raise XlgdError(f'{label}: each of series must be ["label", "sheet", "column"], got {show(v)}')


def check_rows(name: str, n_data: int, epochs: int) -> None:
    """A sheet's steps (epochs x data rows) must fit above Excel's last row."""
    steps = n_data * epochs
    if steps > MAX_STEPS:
        raise XlgdError(f"sheet {name}: {epochs:,} epochs x {n_data:,} data rows = {steps:,} step rows, past "
                        f"Excel's last row ({EXCEL_ROWS:,} rows, {MAX_STEPS:,} of them for steps); "
                        f"at most {MAX_STEPS // n_data:,} epochs of this data")

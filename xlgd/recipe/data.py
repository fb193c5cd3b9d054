"""The data every sheet learns from: x values, and y from the true line.

y is written as the formula =true_a*x+true_b on the data sheet, so a learner
who changes the true line sees every sheet retrain; the engine computes it
in the same association. A CSV may bring its own y; then y is data.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import XlgdError
from .validate import MAX_DATA_ROWS, number, number_text, show, whole

# The 29 x values pasted on every optimiser sheet of graddesc.xlsm (y = 2x + 30).
SOURCES = ("graddesc", "list", "range", "random", "csv")
MAX_CSV_BYTES = 64 << 20  # a million rows of x and y are ~40 MB
_NONBLANK = re.compile(rb"^[ \t\r,]*[^ \t\r,\n]", re.MULTILINE)
GRADDESC_X = (14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21, 28, 20, 8, 64,
              99, 70, 27, 17, 8)


@dataclass
class Dataset:
    x: np.ndarray
    true_a: float = 2.0
    true_b: float = 30.0
    y_given: np.ndarray | None = None
    source: str = "graddesc"

    @property
    def y(self) -> np.ndarray:
        if self.y_given is not None:
            return self.y_given
        return np.float64(self.true_a) * self.x + np.float64(self.true_b)

    def __len__(self):
        return len(self.x)


def _numbers(value, what) -> np.ndarray:
    if not isinstance(value, list):
        raise XlgdError(f"{what} must be a list of numbers, got {show(value)}")
    if len(value) > MAX_DATA_ROWS:
        raise XlgdError(f"{what} has {len(value):,} values (at most {MAX_DATA_ROWS:,} rows fit a sheet)")
    return np.array([number(x, what) for x in value], dtype=np.float64)


def load_data(cfg: dict, base: Path | None = None) -> Dataset:
    """Build the data from a template's [data] table (every value checked: see recipe/validate.py)."""
    if not isinstance(cfg, dict):
        raise XlgdError(f"data must be a table ([data] with a source), got {show(cfg)}")
    cfg = dict(cfg or {})
    source = cfg.pop("source", "graddesc")
    true_a = number(cfg.pop("true_a", 2), "data.true_a")
    true_b = number(cfg.pop("true_b", 30), "data.true_b")
    y_given = None
    if not isinstance(source, str) or source not in SOURCES:
        raise XlgdError(f"unknown data source {show(source)}; choose graddesc, list, range, random or csv")
    if source == "graddesc":
        x = np.array(GRADDESC_X, dtype=np.float64)
    elif source == "list":
        x = _numbers(cfg.pop("x", []), "data.x")
        if "y" in cfg:
            y_given = _numbers(cfg.pop("y"), "data.y")
            if len(y_given) != len(x):
                raise XlgdError(f"data: x has {len(x)} values but y has {len(y_given)}")
    elif source == "range":
        x = _range(cfg)
    elif source == "random":
        x = _random(cfg)
    else:
        path = cfg.pop("path", "")
        if not isinstance(path, str) or not path:
            raise XlgdError(f"data.path must name a CSV file, got {show(path)}")
        x, y_given = _read_csv(Path(path) if base is None else base / path)
    if cfg:
        raise XlgdError(f"unknown data setting(s) for source {source!r}: {', '.join(sorted(cfg))}")
    if len(x) == 0:
        raise XlgdError("the data has no rows")
    data = Dataset(x, true_a, true_b, y_given, source)
    with np.errstate(all="ignore"):
        y = data.y
    if not np.isfinite(y).all():
        i = int(np.argmin(np.isfinite(y)))
        raise XlgdError(f"data: y = true_a*x + true_b overflows at x = {show(float(x[i]))}")
    return data


def _range(cfg) -> np.ndarray:
    start, stop, step = (number(cfg.pop(k, d), f"data.{k}") for k, d in
                         (("start", -80), ("stop", 120), ("step", 10)))
    if step == 0 or (stop - start) / step < 0:
        raise XlgdError("data range: step must move from start towards stop")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_DATA_ROWS:
        raise XlgdError(f"data range: {start:g} to {stop:g} in steps of {step:g} is {count:.4g} rows "
                        f"(at most {MAX_DATA_ROWS:,} fit a sheet)")
    return start + step * np.arange(count, dtype=np.float64)


def _random(cfg) -> np.ndarray:
    n = whole(cfg.pop("n", 29), "data.n", 1, MAX_DATA_ROWS)
    lo = whole(cfg.pop("low", 1), "data.low", -10**15, 10**15)
    hi = whole(cfg.pop("high", 100), "data.high", -10**15, 10**15)
    if lo > hi:
        raise XlgdError(f"data.low ({lo}) must not be above data.high ({hi})")
    seed = whole(cfg.pop("seed", 0), "data.seed", 0, 2**63 - 1)
    return np.random.default_rng(seed).integers(lo, hi + 1, size=n).astype(np.float64)


def _read_csv(path: Path):
    """x (and y, when there is a second column) from a UTF-8 CSV; a header line is skipped."""
    rows = _csv_rows(path)
    if rows and not _isnum(rows[0][0]):
        rows = rows[1:]  # a header line
    has_y = bool(rows) and len(rows[0]) > 1
    xs, ys = [], []
    for k, r in enumerate(rows, 1):
        if has_y and len(r) < 2:
            raise XlgdError(f"data CSV {path.name}: data row {k} has no y (the first row has x and y)")
        xs.append(number_text(r[0], f"{path.name} x (data row {k})"))
        if has_y:
            ys.append(number_text(r[1], f"{path.name} y (data row {k})"))
    return np.array(xs, dtype=np.float64), (np.array(ys, dtype=np.float64) if has_y else None)


def _csv_rows(path: Path) -> list:
    """The non-blank rows of a CSV file, after checking its size, its rows and its encoding."""
    if path.exists() and not path.is_file():
        raise XlgdError(f"data CSV {path} is not a regular file")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CSV_BYTES + 1)
    except OSError as e:
        raise XlgdError(f"cannot read data CSV {path}: {e.strerror}") from None
    if len(raw) > MAX_CSV_BYTES:
        raise XlgdError(f"data CSV {path.name} is larger than {MAX_CSV_BYTES >> 20} MB; not data for one sheet")
    # Counted in C, ahead of the csv module building a list per row.
    if raw.count(b"\n") > MAX_DATA_ROWS + 1 and len(_NONBLANK.findall(raw)) > MAX_DATA_ROWS + 1:
        raise XlgdError(f"data CSV {path.name} has more than {MAX_DATA_ROWS:,} rows (what fits a sheet)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise XlgdError(f"data CSV {path.name} is not UTF-8 text (byte {e.object[e.start:e.start + 1]!r} "
                        f"at offset {e.start}); save it as CSV UTF-8") from None
    try:
        return [r for r in csv.reader(io.StringIO(text, newline="")) if r and any(c.strip() for c in r)]
    except csv.Error as e:
        raise XlgdError(f"data CSV {path.name} is not readable CSV ({e})") from None


def _isnum(s):
    try:
        float(s)
        return True
    except ValueError:
        return False

"""The data every sheet learns from: x values, and y from the true line.

y is written as the formula =true_a*x+true_b on the data sheet, so a learner
who changes the true line sees every sheet retrain; the engine computes it
in the same association. A CSV may bring its own y; then y is data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import XlgdError

# The 29 x values pasted on every optimiser sheet of graddesc.xlsm (y = 2x + 30).
GRADDESC_X = (14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21, 28, 20, 8, 64,
              99, 70, 27, 17, 8)


@dataclass
class Data:
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


def _num(v, what):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise XlgdError(f"{what} must be a number, got {v!r}") from None
    if not np.isfinite(f):
        raise XlgdError(f"{what} must be a finite number, got {v!r}")
    return f


def load_data(cfg: dict, base: Path | None = None) -> Data:
    """Build the data from a template's [data] table."""
    cfg = dict(cfg or {})
    source = cfg.pop("source", "graddesc")
    true_a = _num(cfg.pop("true_a", 2), "data.true_a")
    true_b = _num(cfg.pop("true_b", 30), "data.true_b")
    y_given = None
    if source == "graddesc":
        x = np.array(GRADDESC_X, dtype=np.float64)
    elif source == "list":
        x = np.array([_num(v, "data.x") for v in cfg.pop("x", [])], dtype=np.float64)
        if "y" in cfg:
            y_given = np.array([_num(v, "data.y") for v in cfg.pop("y")], dtype=np.float64)
            if len(y_given) != len(x):
                raise XlgdError("data: x and y have different lengths")
    elif source == "range":
        start, stop, step = (_num(cfg.pop(k, d), f"data.{k}") for k, d in
                             (("start", -80), ("stop", 120), ("step", 10)))
        if step == 0 or (stop - start) / step < 0:
            raise XlgdError("data range: step must move from start towards stop")
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        x = start + step * np.arange(count, dtype=np.float64)
    elif source == "random":
        n = int(_num(cfg.pop("n", 29), "data.n"))
        lo, hi = int(_num(cfg.pop("low", 1), "data.low")), int(_num(cfg.pop("high", 100), "data.high"))
        seed = int(_num(cfg.pop("seed", 0), "data.seed"))
        x = np.random.default_rng(seed).integers(lo, hi + 1, size=n).astype(np.float64)
    elif source == "csv":
        x, y_given = _read_csv(Path(cfg.pop("path", "")) if base is None else base / cfg.pop("path", ""))
    else:
        raise XlgdError(f"unknown data source {source!r}; choose graddesc, list, range, random or csv")
    if cfg:
        raise XlgdError(f"unknown data setting(s) for source {source!r}: {', '.join(sorted(cfg))}")
    if len(x) == 0:
        raise XlgdError("the data has no rows")
    return Data(x, true_a, true_b, y_given, source)


def _read_csv(path: Path):
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except OSError as e:
        raise XlgdError(f"cannot read data CSV {path}: {e.strerror}") from None
    if rows and not _isnum(rows[0][0]):
        rows = rows[1:]  # a header line
    xs = [_num(r[0], f"{path.name} x") for r in rows]
    ys = [_num(r[1], f"{path.name} y") for r in rows] if rows and len(rows[0]) > 1 else None
    return np.array(xs, dtype=np.float64), (np.array(ys, dtype=np.float64) if ys else None)


def _isnum(s):
    try:
        float(s)
        return True
    except ValueError:
        return False

"""Which cells are a series' x: chosen by evidence, the way a reader of the sheet would.

A chart with no category (or x) reference numbers its points 1..n. Whether
that is wrong, and which column should replace it, depends on what the
series is, and the sheet says so in words:

* **what the series is** (`series_kind`): a *progress* series is a quantity
  per SGD step or epoch (an error, a loss, a weight), whose x is the step or
  epoch counter; a *fit* series is a function of the data (a prediction, y,
  sin(x)), whose x is the data x. The words come from the category axis
  title, the series name, the chart title and the values' column header, in
  that order (the axis title names the x itself); "per step", "by epoch",
  "against x" are strong evidence, words such as err/loss/weight or
  pred/y/fit weak evidence, read only when no source has strong evidence.
  A scatter series with no words is a fit.
* **which columns could be its x** (`candidates`): a column whose header,
  found above the first value row (past a start row holding 0 or "start",
  as xlgd's step tables have), says step/epoch/iteration/t/x...; that has a
  number on every row the values have one; and that is not a slice of a
  longer column (it must not continue below the values' last row nor
  above its start row). "The rows of the values" are the run of values
  around the chart's rows in their own column, so a chart of the last epoch
  of a step table (a slice of the values column) still finds the x column
  of that table and links the same slice of it.
* **the choice** (`choose_x`): a progress series takes a counter that rises
  (an epoch column repeated on every step row is not a step axis) and never
  the data x -- a learning curve against x would draw a wrong picture; a fit
  series takes an x column, never a counter. A header that names the word
  the evidence used ("per epoch" -> epoch) and a column in the values' own
  table (no empty column between) beat the others. Two candidates left that
  hold different numbers: link none and name both as `--x`; candidates with
  the same numbers (a step column and Adam's `t`) are one axis, and the
  nearest is linked.

When nothing qualifies the implicit 1..n stays: for a per-step series those
are its step numbers, so `charts check` gives a note, not a problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..xlsx.package import UNKNOWN, Package
from .model import NS, Area, C, Chart, Series, area_values, is_number
from .written import written_x

LOOKUP = 4           # rows above the first value searched for a header
MAX_ROW = 1048576    # Excel's last row: the values column is read to its end once

STEP_WORDS = {"step", "steps", "step no", "step number", "iteration", "iterations", "iter", "iters", "it", "t",
              "batch", "batches", "update", "updates"}
EPOCH_WORDS = {"epoch", "epochs", "epoch no", "epoch number"}
X_HEADER = re.compile(r"x(\d+|_\w+| values?| \(.*\)|_?grid)?|inputs?")
START_WORDS = {"start", "init", "initial", "begin", "before", "start row"}

_UNIT = r"(step|epoch|iteration|iter|batch|update)s?"
STRONG = (
    ("progress", re.compile(r"\b(per|by|each|every|vs\.?|versus|over|against|after)\s+" + _UNIT + r"\b")),
    ("fit", re.compile(r"\b(per|by|vs\.?|versus|over|against|of)\s+x\b|\bf\(x\)|\bfit\b")),
)
WEAK = (
    ("progress", re.compile(r"\b(err|errs|error|errors|loss|losses|cost|mse|rmse|weights?|grad|gradient|"
                            r"learning curve|" + _UNIT + r")\b")),
    ("fit", re.compile(r"\b(pred|preds|prediction|predictions|predicted|y|data|model|sin|cos|function|target|"
                       r"output|fitted)\b")),
)


def header_word(text) -> str | None:
    """'step' / 'epoch' / 'x' for a header that names one, else None ("Step #:" -> 'step')."""
    if not isinstance(text, str):
        return None
    t = re.sub(r"\s+", " ", text.strip().lower()).rstrip(":#. ").strip()
    if t in STEP_WORDS:
        return "step"
    if t in EPOCH_WORDS:
        return "epoch"
    return "x" if X_HEADER.fullmatch(t) else None


ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


def is_value(value) -> bool:
    """A cell a chart plots: a number, a boolean, an error code or a formula not yet calculated."""
    if isinstance(value, str):
        return value is UNKNOWN or value.strip() in ERRORS
    return value is UNKNOWN or isinstance(value, (float, bool))


# --------------------------------------------------------------------------
# What the series is


def axis_title(chart: Chart) -> str:
    """The category axis title (else the horizontal axis's), lower case. openpyxl writes axPos "l"
    on its category axes, so the kind of axis comes first."""
    axes = sorted(chart.axes, key=lambda a: (a.kind not in ("catAx", "dateAx"), a.position not in ("b", "t")))
    for ax in axes:
        if (ax.kind in ("catAx", "dateAx") or ax.position in ("b", "t")) and ax.elem is not None:
            t = ax.elem.find(C + "title")
            if t is not None:
                return "".join(x.text or "" for x in t.iter("{%s}t" % NS["a"])).strip().lower()
    return ""


def series_kind(sources: list, scatter: bool) -> tuple:
    """('progress' | 'fit' | 'unknown', the evidence) from [(where, text)] in order of weight."""
    for patterns in (STRONG, WEAK):
        for where, text in sources:
            t = (text or "").lower().replace("²", "^2")
            found = {kind for kind, rx in patterns if rx.search(t)}
            if len(found) == 1:
                return found.pop(), f"{where} {text!r}"
    if scatter:
        return "fit", "a scatter chart"
    return "unknown", "no words saying what it is"


def series_name(book: Package, series: Series) -> str:
    """The series name as a reader sees it: the named cell's text for a reference (openpyxl
    writes the reference with no cached text), else the typed or cached name."""
    label = series.label
    if label is not None and label.is_ref and label.area is not None:
        vals = area_values(book, label.area)
        if vals and isinstance(vals[0], str):
            return vals[0]
    return series.name


def evidence(chart: Chart, name: str, value_header) -> list:
    """[(where, text)] the sheet offers about a series, strongest source first."""
    out = []
    title = axis_title(chart)
    if title:
        word = header_word(title)
        # An axis titled just "step" or "x" names the x outright.
        out.append(("axis title", {"step": "per step", "epoch": "per epoch", "x": "against x"}.get(word, title)))
    out += [("series name", name), ("chart title", chart.title)]
    if isinstance(value_header, str):
        out.append(("values header", value_header))
    return [(w, t) for w, t in out if t]


# --------------------------------------------------------------------------
# Which columns could be its x


@dataclass(frozen=True)
class Candidate:
    area: Area           # the cells to link: the chart's rows of this column
    header: str          # as the sheet writes it
    word: str            # 'step' | 'epoch' | 'x'
    rising: bool | None  # strictly increasing numbers; None = formulas nobody calculated
    table: bool          # in the values' own table (no empty column between)
    distance: int
    numbers: tuple       # the linked cells' values, to tell two candidates apart


@dataclass
class XChoice:
    kind: str                                 # 'progress' | 'fit' | 'unknown'
    because: str                              # the evidence for the kind
    candidates: list = field(default_factory=list)   # the best group, nearest first
    searched: bool = True                     # False: values not a column, nothing searched

    @property
    def chosen(self) -> Candidate | None:
        c = self.candidates
        if c and all(x.numbers == c[0].numbers for x in c[1:]):
            return c[0]
        return None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1 and self.chosen is None


@dataclass(frozen=True)
class Window:
    """The values' rows: the run of values in their column around the chart's rows."""

    values: Area
    top: int              # first row of the run (or of the chart's rows, if higher)
    bottom: int
    cells: dict           # {(row, col): value} of every column, rows top - LOOKUP .. bottom + 1
    filled: frozenset     # the columns with anything in those rows


def window(book: Package, values: Area) -> Window:
    col = values.c1
    column = book.values(values.sheet, (1, MAX_ROW), [col])
    top, bottom = values.r1, values.r2
    while top > 1 and is_value(column.get((top - 1, col))):
        top -= 1
    while is_value(column.get((bottom + 1, col))):
        bottom += 1
    lo, hi = max(1, top - LOOKUP), bottom + 1
    cells = {rc: v for rc, v in book.values(values.sheet, (lo, hi)).items() if lo <= rc[0] <= hi}
    return Window(values, top, bottom, cells, frozenset(c for (_, c), v in cells.items() if v is not None))


def label_above(cells, col, top):
    """The first label above `top` in a column, past blank rows and at most one start row (0, "start");
    None when there is none or the column goes on above (a slice of a longer column)."""
    start_seen = False
    for r in range(top - 1, max(0, top - 1 - LOOKUP), -1):
        v = cells.get((r, col))
        if v is None:
            continue
        if not (is_value(v) or (isinstance(v, str) and v.strip().lower() in START_WORDS)):
            return v
        if start_seen:
            return None
        start_seen = True
    return None


def _rising(xs) -> bool | None:
    nums = [x for x in xs if x is not None]
    if any(x is UNKNOWN for x in nums):
        return None
    return all(b > a for a, b in zip(nums, nums[1:]))


def candidate(window: Window, col: int) -> Candidate | None:
    vc, sheet = window.values.c1, window.values.sheet
    header = label_above(window.cells, col, window.top)
    if header_word(header) is None:
        return None
    rows = range(window.top, window.bottom + 1)
    xs = [window.cells.get((r, col)) for r in rows]
    ys = [window.cells.get((r, vc)) for r in rows]
    if any(x is not None and not (is_number(x) or x is UNKNOWN) for x in xs):
        return None           # text or errors: not an axis of numbers
    if not any(x is not None for x in xs) or any(is_value(y) and x is None for x, y in zip(xs, ys)):
        return None           # a point without its x
    if is_value(window.cells.get((window.bottom + 1, col))):
        return None           # goes on below the values: a slice of a longer column
    lo, hi = sorted((col, vc))
    between = [c for c in window.filled if lo < c < hi]
    linked = tuple(window.cells.get((r, col)) for r in range(window.values.r1, window.values.r2 + 1))
    return Candidate(Area(sheet, window.values.r1, col, window.values.r2, col), header, header_word(header),
                     _rising(xs), len(between) == hi - lo - 1, abs(col - vc), linked)


def candidates(window: Window) -> list:
    cols = {c for (_, c) in window.cells} - {window.values.c1}
    return [c for c in (candidate(window, col) for col in sorted(cols)) if c is not None]


# --------------------------------------------------------------------------
# The choice


def _unit(because: str) -> str | None:
    m = re.search(r"\b(epoch)s?\b|\b(step|iteration|iter|batch|update)s?\b", because.lower())
    return None if m is None else ("epoch" if m.group(1) else "step")


def best_group(kind: str, because: str, found: list) -> list:
    """The candidates a series of this kind may take, best first; ties kept together."""
    if kind == "progress":
        found = [c for c in found if c.word != "x" and c.rising is not False]
    elif kind == "fit":
        found = [c for c in found if c.word == "x"]
    else:  # a counter that does not rise is no axis for anything
        found = [c for c in found if c.word == "x" or c.rising is not False]
    unit = _unit(because) if kind == "progress" else None

    def rank(c):
        return (c.word != unit if unit else False, c.rising is None, not c.table)

    if not found:
        return []
    best = min(rank(c) for c in found)
    return sorted((c for c in found if rank(c) == best), key=lambda c: c.distance)


def choose_x(book: Package, chart: Chart, series: Series) -> XChoice:
    """The x a series with no usable category/x reference should get, and why."""
    values, name, scatter = series.values.area, series_name(book, series), series.cats.role == "xVal"
    if values is None or not values.is_column:
        return XChoice(*series_kind(evidence(chart, name, None), scatter), searched=False)
    w = window(book, values)
    kind, because = series_kind(evidence(chart, name, label_above(w.cells, values.c1, w.top)), scatter)
    return XChoice(kind, because, best_group(kind, because, candidates(w)))



# --------------------------------------------------------------------------
# Judging an x that is there


@dataclass(frozen=True)
class XVerdict:
    """A linked x the evidence says is wrong: why, and the x it should be (None when fix cannot
    tell which: `left` says why)."""

    why: str
    should: Area | None
    left: str = ""


def judge_x(book: Package, chart: Chart, series: Series) -> XVerdict | None:
    """The verdict on a series' linked x, or None when it is right or nothing says otherwise.

    xlgd's record of the links it wrote is the first evidence (a series xlgd wrote, values where
    it put them); then the sheet: a series against its own values, a per-step series against the
    data x, a fit against a counter, an x in the right column but other rows. The columns around
    the values are read only once something looks wrong."""
    have, values = series.cats.area, series.values.area
    if have is None or values is None or not values.is_column or not have.is_column:
        return None
    if have.length != values.length:
        return None   # length-mismatch says so, and relinks
    written = written_x(book, chart, series)
    if written is not None:
        return None if have == written else _against_record(book, choose_x(book, chart, series), written)
    if not _suspect(book, chart, series, have, values):
        return None
    choice = choose_x(book, chart, series)
    why = contradiction(book, choice, have, values)
    if why is None:
        return None
    chosen = choice.chosen
    if chosen is not None:
        return XVerdict(why, chosen.area) if chosen.area != have else None
    if choice.ambiguous:
        opts = " or ".join(f'--x "{c.area.formula()}" ({c.header!r})' for c in choice.candidates)
        return XVerdict(why, None, f"{len(choice.candidates)} columns could be its x and hold different "
                                   f"numbers: pass {opts}")
    return XVerdict(why, None, "no step, epoch or x column runs along its rows: pass --x")


def column_header(book: Package, area: Area):
    """The label above the run of values an area sits in (one column read, not the table around it)."""
    col = area.c1
    column = book.values(area.sheet, (1, MAX_ROW), [col])
    top = area.r1
    while top > 1 and is_value(column.get((top - 1, col))):
        top -= 1
    return label_above(column, col, top)


def _suspect(book: Package, chart: Chart, series: Series, have: Area, values: Area) -> bool:
    """Whether the linked x may be wrong, from the two columns' own headers: worth the full look."""
    if have.sheet != values.sheet:
        return False
    if have.c1 == values.c1 or (have.r1, have.r2) != (values.r1, values.r2):
        return True
    kind, _ = series_kind(evidence(chart, series_name(book, series), column_header(book, values)),
                          series.cats.role == "xVal")
    word = header_word(column_header(book, have))
    return (kind == "progress" and word == "x") or (kind == "fit" and word in ("step", "epoch"))


def _against_record(book: Package, choice: XChoice, written: Area) -> XVerdict:
    why = f"xlgd wrote this series against {written.formula()}"
    chosen = choice.chosen
    if chosen is not None and chosen.area != written and chosen.numbers != tuple(area_values(book, written)):
        return XVerdict(why, None, f"but the sheet's words point at {chosen.area.formula()} "
                                   f"({chosen.header!r}; {choice.because}): pass --x with the one you mean")
    return XVerdict(why, written)


def contradiction(book: Package, choice: XChoice, have: Area, values: Area) -> str | None:
    """Why the sheet says a linked x is wrong for a series of this kind, or None."""
    if have.sheet == values.sheet and have.c1 == values.c1:
        return "its x is its own values' column: it draws the values against themselves"
    chosen = choice.chosen
    if chosen is not None and have.sheet == chosen.area.sheet and have.c1 == chosen.area.c1:
        return (None if (have.r1, have.r2) == (chosen.area.r1, chosen.area.r2)
                else f"its x is rows {have.r1}-{have.r2} but its values are rows {values.r1}-{values.r2}")
    if have.sheet != values.sheet:
        return None
    w = window(book, values)
    word = header_word(label_above(w.cells, have.c1, w.top))
    if choice.kind == "progress" and word == "x":
        return f"a per-step series ({choice.because}) drawn against the data x: a learning curve needs the step"
    if choice.kind == "fit" and word in ("step", "epoch"):
        return f"a function of x ({choice.because}) drawn against the {word} counter"
    return None

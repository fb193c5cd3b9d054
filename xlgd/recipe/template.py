"""Templates: an experiment as a small TOML file, plus command-line overrides.

    name = "graddesc"
    epochs = 5
    convention = "graddesc"        # or "torch"
    [data]                         # see data.py: graddesc, list, range, random, csv
    source = "graddesc"
    [knobs]                        # defaults for every sheet they apply to
    h = 0.01
    [[sheets]]
    name = "momentum"
    model = "linear"               # linear, linear2, relu2
    optimizer = "momentum"         # sgd, momentum, adagrad, rmsprop, adam, adam_ann
    knobs = { lr = 0.0001, beta1 = 0.9 }

`--set lr=0.001` changes a knob on every sheet that has it, `--set momentum.lr=0.001` on one sheet
(`Overrides`). The resolved template is what a workbook records about itself; `rebuild` turns that
record back into the same `Recipe`.
"""

from __future__ import annotations

import copy
import difflib
import importlib.util
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.sheet import build_sheet, resolve_knobs
from ..core.table import SheetSpec
from ..errors import XlgdError
from . import validate
from .data import Dataset, load_data
from .experiments import check_rows as check_extra_rows
from .experiments import expand_sheets

SHEET_KEYS = {"name", "model", "optimizer", "convention", "grad", "fd", "epochs", "knobs", "title", "stability"}
TOP_KEYS = {"name", "title", "description", "hint", "epochs", "convention", "grad", "fd", "data", "knobs", "sheets",
            "extras"}


@dataclass
class Recipe:
    name: str
    title: str
    description: str
    data: Dataset
    sheets: list[SheetSpec]
    resolved: dict  # the template after overrides: enough to rebuild the workbook
    hint: str = ""  # what to try when a sheet explodes, shown beside the inputs and on intro


def template_dirs() -> list[Path]:
    """Where a template name is looked up, first match first.

    ./templates (the user's own, from the working directory), then the
    templates shipped with xlgd: package data `xlgd.templates` in a wheel
    (pyproject maps the top-level templates/ onto it, so there is one copy),
    else templates/ beside the package in a source checkout (PYTHONPATH, or
    an editable install: setuptools' editable finder does not resolve the
    mapped xlgd.templates).
    """
    dirs = [Path.cwd() / "templates"]
    # find_spec, not resources.files: a data-only (namespace) package has no single path.
    shipped = importlib.util.find_spec("xlgd.templates")
    if shipped:
        dirs += [Path(p) for p in shipped.submodule_search_locations]
    checkout = Path(importlib.util.find_spec("xlgd").origin).parents[1]
    if (checkout / "pyproject.toml").is_file():  # not whatever `templates` sits in site-packages
        dirs.append(checkout / "templates")
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def known_templates() -> dict[str, Path]:
    """{name: file} of every template a bare name can reach (the first directory wins)."""
    found = {}
    for d in reversed(template_dirs()):
        found.update((f.stem, f) for f in sorted(d.glob("*.toml")))
    return dict(sorted(found.items()))


def find_template(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if p.exists() and not p.is_file():
            raise XlgdError(f"template {name_or_path} is not a regular file")
        if not p.is_file():
            raise XlgdError(f"template {name_or_path} not found")
        return p
    known = known_templates()
    if name_or_path in known:
        return known[name_or_path]
    raise XlgdError(f"no template named {name_or_path!r}; known templates: {', '.join(known) or 'none'}")


def read_template(path: Path) -> dict:
    """The TOML file as a dict; a file too big, not UTF-8, not TOML or nested past reason is one line."""
    try:
        with open(path, "rb") as f:
            raw = f.read(validate.MAX_TEMPLATE_BYTES + 1)
    except OSError as e:
        raise XlgdError(f"cannot read template {path}: {e.strerror}") from None
    if len(raw) > validate.MAX_TEMPLATE_BYTES:
        raise XlgdError(f"template {path.name} is larger than {validate.MAX_TEMPLATE_BYTES >> 20} MB; not a template")
    try:
        text = raw.decode("utf-8")
        _refuse_long_lists(text, path)
        return tomllib.loads(text)
    except UnicodeDecodeError as e:
        raise XlgdError(f"template {path.name} is not UTF-8 text (byte {e.object[e.start:e.start + 1]!r} "
                        f"at offset {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise XlgdError(f"template {path.name} is not valid TOML: {e}") from None
    except RecursionError:
        raise XlgdError(f"template {path.name} nests arrays or tables too deeply to be a template") from None


# A list of plain numbers, as TOML writes one (no comments, no strings, no nested lists).
_NUMBER_LIST = re.compile(r"\[[-+0-9.eE_,\s]*\]")


def _refuse_long_lists(text: str, path: Path) -> None:
    """A list of numbers longer than a sheet has rows fits nowhere in a workbook: refused from the
    text, ahead of the TOML parser. Text shorter than such a list passes at once."""
    if len(text) < 2 * validate.MAX_DATA_ROWS:
        return
    for m in _NUMBER_LIST.finditer(text):
        inner = m.group()[1:-1].rstrip()
        count = inner.count(",") + (0 if inner.endswith(",") or not inner.strip() else 1)
        if count > validate.MAX_DATA_ROWS:
            line = text.count("\n", 0, m.start()) + 1
            raise XlgdError(f"template {path.name} line {line}: a list of {count:,} numbers "
                            f"(at most {validate.MAX_DATA_ROWS:,} rows fit a sheet)")


@dataclass
class Overrides:
    """Knob and epoch changes on top of a template, as numbers.

    knobs: knob -> value on every sheet that has the knob; sheet_knobs:
    (sheet, knob) -> value on that sheet (it wins over `knobs`); epochs: on
    every sheet. The command line parses `--set` text into one
    (`Overrides.parse`); the notebook API passes floats straight in."""

    knobs: dict = field(default_factory=dict)
    sheet_knobs: dict = field(default_factory=dict)
    epochs: int | None = None

    @classmethod
    def parse(cls, sets=(), epochs: int | None = None) -> "Overrides":
        """From `--set KNOB=VALUE` / `--set SHEET.KNOB=VALUE` texts and `--epochs`."""
        out = cls(epochs=epochs)
        for item in sets:
            if "=" not in item:
                raise XlgdError(f"--set takes KNOB=VALUE (e.g. lr=0.001), got {item!r}")
            key, text = (t.strip() for t in item.split("=", 1))
            value = validate.number_text(text, f"knob {key}")
            if "." in key:
                sheet, knob = key.rsplit(".", 1)
                out.sheet_knobs[(sheet, knob)] = value
            else:
                out.knobs[key] = value
        return out


def apply_overrides(tpl: dict, over: Overrides | None = None) -> dict:
    """Return a copy of the template with the overrides applied (every knob must apply somewhere)."""
    tpl = copy.deepcopy(tpl)
    over = over or Overrides()
    sheets = tpl.get("sheets") or []
    if over.epochs is not None:
        tpl["epochs"] = validate.whole(over.epochs, "--epochs", 1, validate.MAX_STEPS)
        for s in sheets:
            s.pop("epochs", None)
    for knob, value in over.knobs.items():
        hit = [s for s in sheets if knob in _knobs_of(tpl, s)]
        if not hit:
            names = [s.get("name") for s in sheets]
            raise XlgdError(f"knob {knob!r} does not apply to any sheet of this template "
                            f"(sheets: {', '.join(map(str, names))})")
        for s in hit:
            s.setdefault("knobs", {})[knob] = _number(value, knob)
    for (sheet, knob), value in over.sheet_knobs.items():
        hit = [s for s in sheets if s.get("name") == sheet]
        if not hit:
            names = [s.get("name") for s in sheets]
            close = difflib.get_close_matches(str(sheet), list(map(str, names)), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise XlgdError(f"no sheet {sheet!r}{hint}; sheets: {', '.join(map(str, names))}")
        for s in hit:
            if knob not in _knobs_of(tpl, s):
                raise XlgdError(f"sheet {sheet!r} has no knob {knob!r}; its knobs: {', '.join(_knobs_of(tpl, s))}")
            s.setdefault("knobs", {})[knob] = _number(value, knob)
    return tpl


def _number(value, knob) -> float:
    return validate.number(value, f"knob {knob}")


def _choices(tpl, s) -> tuple:
    """(model, optimizer, convention, stability) of one [[sheets]] table, template defaults filled in."""
    return (s.get("model", "linear"), s.get("optimizer", "sgd"), s.get("convention", tpl.get("convention", "graddesc")),
            bool(s.get("stability", False)))


def _knobs_of(tpl, s) -> dict:
    model, opt, conv, stab = _choices(tpl, s)
    return resolve_knobs(model, opt, conv, {}, stability=stab)


def build_recipe(tpl: dict, base: Path | None = None) -> Recipe:
    """The Recipe of a template (after overrides); every setting is checked ahead of any work."""
    validate.check_template(tpl)
    unknown = set(tpl) - TOP_KEYS
    if unknown:
        raise XlgdError(f"unknown template setting(s): {', '.join(sorted(unknown))}")
    sheets_cfg = expand_sheets(tpl)
    if not sheets_cfg:
        raise XlgdError("the template defines no [[sheets]]")
    if len(sheets_cfg) > validate.MAX_SHEETS:
        raise XlgdError(f"the template makes {len(sheets_cfg)} sheets (at most {validate.MAX_SHEETS})")
    data = load_data(tpl.get("data", {}), base)
    seen = {n.lower() for n in _extra_names(tpl)}
    specs = [_sheet_spec(tpl, s, i, data, seen) for i, s in enumerate(sheets_cfg)]
    recipe = Recipe(tpl.get("name", "xlgd"), tpl.get("title", tpl.get("name", "xlgd")),
                    tpl.get("description", ""), data, specs, tpl, tpl.get("hint", ""))
    check_extra_rows(recipe)
    return recipe


def _sheet_spec(tpl, s, i, data, seen):
    bad = set(s) - SHEET_KEYS
    if bad:
        raise XlgdError(f"sheet {i + 1}: unknown setting(s) {', '.join(sorted(bad))}")
    model, opt, conv, stab = _choices(tpl, s)
    applicable = _knobs_of(tpl, s)
    knobs = {k: v for k, v in tpl.get("knobs", {}).items() if k in applicable}
    knobs.update(s.get("knobs", {}))
    knobs = {k: validate.number(v, f"knob {k}") for k, v in knobs.items()}
    name = s.get("name") or f"{model}_{opt}"
    validate.unique_sheet_name(name, seen)
    epochs = validate.whole(s.get("epochs", tpl.get("epochs", 1)), f"sheet {name}: epochs", 1, validate.MAX_STEPS)
    validate.check_rows(name, len(data), epochs)
    spec = build_sheet(model, opt, conv, n_data=len(data), epochs=epochs, knobs=knobs,
                       grad=s.get("grad", tpl.get("grad", "analytic")), fd=s.get("fd", tpl.get("fd", True)),
                       name=name, stability=stab)
    if s.get("title"):
        spec.title = s["title"]
    return spec


def _extra_names(tpl) -> list:
    """Sheet names the [[extras]] give themselves (checked with the step sheets' for clashes)."""
    extras = tpl.get("extras") or []
    return [e["name"] for e in ([extras] if isinstance(extras, dict) else extras)
            if isinstance(e, dict) and isinstance(e.get("name"), str)]


def load_recipe(name_or_path: str = "graddesc", overrides: Overrides | None = None) -> Recipe:
    path = find_template(name_or_path)
    tpl = read_template(path)
    tpl.setdefault("name", path.stem)
    validate.check_template(tpl)  # the overrides look at sheets and knobs next
    tpl = apply_overrides(tpl, overrides)
    return build_recipe(tpl, path.parent)


def rebuild(rec: dict) -> Recipe:
    """The Recipe a workbook's record (`record.read`) describes, to regenerate or compare.

    A record this xlgd cannot rebuild is an XlgdError."""
    try:
        return _rebuild(rec)
    except XlgdError as e:
        raise XlgdError(f"its xlgd record cannot be rebuilt ({e})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise XlgdError(f"its xlgd record does not describe a workbook this xlgd can rebuild ({e!r})") from None


def _rebuild(rec: dict) -> Recipe:
    tpl = dict(rec["resolved"])
    recipe = build_recipe(tpl)
    data_y = tpl["data"].get("y")
    if data_y is not None:
        recipe.data.y_given = np.array(data_y, dtype=np.float64)
    return recipe

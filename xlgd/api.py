"""The notebook API: the same experiments, as pandas frames and matplotlib plots.

    import xlgd
    h = xlgd.run(model="linear2", lr=1e-4, epochs=2)    # one sheet, built on the fly
    h = xlgd.run("two-neuron", sheet="relu2")            # a sheet of a template
    h = xlgd.run("graddesc", sheet="adam", lr=0.05)      # knobs are numbers, on every sheet that has them
    h[["a", "b", "c", "d", "err"]].tail()
    h.attrs["first_explosion_step"]                      # 1-based step, or None
    h.plot()                                             # err^2 (log) and the weights per step
    xlgd.generate("lr-sweep", "sweep.xlsx")              # the workbook, every cell a formula
    s = xlgd.sweep(model="linear2", lr=np.logspace(-6, -2, 1000), epochs=5)   # one row per lr
    s.plot()                                             # final error and exploding step against lr

The frame has one column per step-table column of the sheet, with the same
names the engine uses (x, y, a, b, pred, err, g_a, new_a, m_a, stab...),
indexed by step (1, 2, ...). Cells that are errors in the sheet (#NUM!) are
NaN; their codes are in `attrs["errors"]`, the sheet's headers in
`attrs["headers"]`.

`sweep` runs one sheet at many configurations in one vectorised engine run
(`core/engine.py`: errors handled per configuration, bit for bit what each
`run` gives): a frame with one row per configuration -- its knobs, the
final mean err^2 and the first exploding step (NaN: never).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import XlgdError

_SHEET_OPTS = ("optimizer", "convention", "grad", "fd", "stability")


def _two_axes(ax, kw):
    """The two axes a plot draws on, side by side: the ones given, or a new figure's."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, 2, figsize=kw.pop("figsize", (11, 3.8)))
    return ax


class History(pd.DataFrame):
    """A sheet's steps as a DataFrame; .plot() draws error and weights per step."""

    _metadata = ["params"]

    @property
    def _constructor(self):
        return History

    def plot(self, ax=None, log=True, **kw):
        """err^2 per step (log scale) and the weights per step, side by side. Returns the axes."""
        e_ax, w_ax = ax = _two_axes(ax, kw)
        e_ax.plot(self.index, self["err"], lw=1.2)
        if log:
            e_ax.set_yscale("log")
        e_ax.set_xlabel("step")
        e_ax.set_ylabel("err^2")
        boom = self.attrs.get("first_explosion_step")
        title = self.attrs.get("sheet", "")
        if boom:
            e_ax.axvline(boom, color="#D62728", ls="--", lw=1)
            title += f" -- exploded at step {boom}"
        e_ax.set_title(title)
        for p in self.attrs.get("params", ()):
            w_ax.plot(self.index, self[p], lw=1.2, label=p)
        params = list(self.attrs.get("params", ()))
        if params and log and self[params].abs().max().max() > 1e6:
            w_ax.set_yscale("symlog")  # exploded weights span hundreds of decades
        w_ax.set_xlabel("step")
        w_ax.set_ylabel("weight")
        if len(self.attrs.get("params", ())) <= 12:
            w_ax.legend(fontsize=8)
        return ax


def _template(template, model, knobs, sheet_knobs, epochs, data, opts):
    """(the template dict with the overrides applied, the folder its paths are relative to)."""
    from .recipe.template import Overrides, apply_overrides, find_template, read_template

    if model is not None:
        if template not in (None, "graddesc"):
            raise XlgdError("pass either a template or model=..., not both")
        sheet = {"name": model[:31], "model": model, "knobs": {}}
        sheet.update({k: v for k, v in opts.items() if v is not None})
        sheet.setdefault("stability", True)
        if isinstance(data, str):
            data = {"source": data}
        tpl = {"name": "notebook", "epochs": 1, "data": data or {"source": "graddesc"}, "sheets": [sheet]}
        return apply_overrides(tpl, Overrides(dict(knobs), dict(sheet_knobs or {}), epochs)), None
    if any(v is not None for v in opts.values()) or data is not None:
        raise XlgdError("data and sheet options go with model=...; a template's sheets say their own")
    path = find_template(template or "graddesc")
    tpl = read_template(path)
    tpl.setdefault("name", path.stem)
    return apply_overrides(tpl, Overrides(dict(knobs), dict(sheet_knobs or {}), epochs)), path.parent


def recipe(template=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
           convention=None, grad=None, fd=None, stability=None, **knobs):
    """The Recipe the other calls use: a template (name or path) or one sheet built from model=.

    knobs (lr=1e-3, beta1=0.8 ...) apply to every sheet that has them; sheet_knobs={("adam", "lr"): 0.05}
    to one sheet."""
    from .recipe.template import build_recipe

    opts = dict(optimizer=optimizer, convention=convention, grad=grad, fd=fd, stability=stability)
    tpl, base = _template(template, model, knobs, sheet_knobs, epochs, data, opts)
    return build_recipe(tpl, base)


def run(template=None, sheet=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
        convention=None, grad=None, fd=None, stability=None, **knobs) -> History:
    """The step-by-step history of one sheet as a DataFrame (see the module doc)."""
    from .recipe.compute import compute

    rec = recipe(template, model=model, sheet_knobs=sheet_knobs, epochs=epochs, data=data, optimizer=optimizer,
                 convention=convention, grad=grad, fd=fd, stability=stability, **knobs)
    spec = _sheet_of(rec, sheet)
    res = compute(rec)[spec.name]  # the same numbers the workbook caches (a sweep sheet from its batch run)
    return _history(spec, res)


class Sweep(pd.DataFrame):
    """One row per configuration of a sweep; .plot() draws final error and explosion step against the knob."""

    _metadata = ["result"]

    @property
    def _constructor(self):
        return Sweep

    def plot(self, ax=None, knob=None, **kw):
        """Final mean err^2 (log) and the first exploding step against the swept knob (log x). Returns the axes."""
        knob = knob or self.attrs.get("swept", [self.columns[0]])[0]
        e_ax, s_ax = ax = _two_axes(ax, kw)
        e_ax.plot(self[knob], self["final_mse"], lw=1.2, marker=".", ms=3)
        e_ax.set_yscale("log")
        e_ax.set_ylabel("final mean err^2")
        s_ax.plot(self[knob], self["explosion_step"], lw=0, marker=".", ms=3, color="#D62728")
        s_ax.set_ylabel("first exploding step")
        for a, title in ((e_ax, "final error"), (s_ax, "where it explodes (none: no point)")):
            a.set_xscale("log")
            a.set_xlabel(knob)
            a.set_title(f"{self.attrs.get('sheet', '')}: {title}")
        e_ax.figure.tight_layout()
        return ax


def sweep(template=None, sheet=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
          convention=None, grad=None, fd=None, stability=None, dialect="excel", **knobs) -> Sweep:
    """One sheet at many configurations, one vectorised engine run: a frame, one row per configuration.

    Knobs given as sequences (lr=np.logspace(-6, -2, 1000)) are swept together, one
    configuration per position (so they must have one length); the others are fixed. Columns:
    the swept knobs, final_mse (the last epoch's mean err^2, NaN if it is an error) and
    explosion_step (the first step whose err^2 is an error or passes explode_at, NaN: never).
    The engine's batch Result is `.result`."""
    import numpy as np

    from .core.engine import run as run_engine

    swept = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in knobs.items() if np.ndim(v) > 0}
    sizes = {len(v) for v in swept.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise XlgdError("sweep: give at least one knob as a non-empty sequence, all of one length"
                        + (f" (got lengths {sorted(sizes)})" if len(sizes) > 1 else ""))
    fixed = {k: v for k, v in knobs.items() if k not in swept}
    rec = recipe(template, model=model, sheet_knobs=sheet_knobs, epochs=epochs, data=data, optimizer=optimizer,
                 convention=convention, grad=grad, fd=fd, stability=stability,
                 **fixed, **{k: float(v[0]) for k, v in swept.items()})
    spec = _sheet_of(rec, sheet)
    for k in swept:
        if k not in spec.input_values():
            raise XlgdError(f"sheet {spec.name} has no knob {k!r}; its knobs: {', '.join(spec.input_values())}")
    n = sizes.pop()
    res = run_engine(spec, rec.data.x, rec.data.y, inputs={k: (v if n > 1 else v[0]) for k, v in swept.items()},
                     dialect=dialect)
    booms = res.first_explosion_step()
    frame = Sweep({**swept,
                   "final_mse": np.atleast_1d(res.epochs["mse"][-1]),
                   "explosion_step": [np.nan if s is None else s + 1.0 for s in np.atleast_1d(booms).tolist()]})
    frame.result = res
    frame.attrs.update({"sheet": spec.name, "model": spec.model, "optimizer": spec.optimizer,
                        "convention": spec.convention, "epochs": spec.epochs, "steps": spec.n_steps,
                        "swept": list(swept), "inputs": spec.input_values()})
    return frame


def _sheet_of(rec, sheet):
    """The recipe's sheet of that name (its only sheet when None)."""
    names = [s.name for s in rec.sheets]
    if sheet is None:
        if len(names) > 1:
            raise XlgdError(f"template {rec.name} has sheets {', '.join(names)}: pass sheet=...")
        sheet = names[0]
    if sheet not in names:
        raise XlgdError(f"no sheet {sheet!r} in {rec.name}; its sheets: {', '.join(names)}")
    return next(s for s in rec.sheets if s.name == sheet)


def _history(spec, res) -> History:
    frame = History(res.frame())
    frame.index = pd.RangeIndex(1, spec.n_steps + 1, name="step")
    boom = res.first_explosion_step()
    bad = res.first_error_step()
    frame.attrs.update({
        "sheet": spec.name, "model": spec.model, "optimizer": spec.optimizer, "convention": spec.convention,
        "params": tuple(spec.params), "inputs": spec.input_values(),
        "headers": {c.name: c.header for c in spec.columns},
        "errors": {(c, i + 1): code for (c, i), code in res.errors.items() if not c.startswith("@")},
        "epoch_mse": [res.value("@mse", k) for k in range(spec.epochs)],
        "first_explosion_step": None if boom is None else boom + 1,
        "first_error_step": None if bad is None else bad + 1,
    })
    return frame


def generate(template=None, path=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
             convention=None, grad=None, fd=None, stability=None, **knobs) -> Path:
    """Write the workbook (default output/NAME.xlsx); returns its path."""
    from .pipeline import build

    rec = recipe(template, model=model, sheet_knobs=sheet_knobs, epochs=epochs, data=data, optimizer=optimizer,
                 convention=convention, grad=grad, fd=fd, stability=stability, **knobs)
    out = Path(path) if path else Path("output") / f"{rec.name}.xlsx"
    if out.suffix.lower() != ".xlsx":
        raise XlgdError(f"output must be an .xlsx file, got {out.name}")
    build(rec, out)
    return out

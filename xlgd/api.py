"""The notebook API: the same experiments, as pandas frames and matplotlib plots.

    import xlgd
    h = xlgd.run(model="linear2", lr=1e-4, epochs=2)    # one sheet, built on the fly
    h = xlgd.run("two-neuron", sheet="relu2")            # a sheet of a template
    h = xlgd.run("graddesc", sheet="adam", lr=0.05)      # knobs are numbers, on every sheet that has them
    h[["a", "b", "c", "d", "err"]].tail()
    h.attrs["first_explosion_step"]                      # 1-based step, or None
    h.plot()                                             # err^2 (log) and the weights per step
    xlgd.generate("lr-sweep", "sweep.xlsx")              # the workbook, every cell a formula
    xlgd.read("sweep.xlsx", "sweep_3")                   # a step table back from the file, as run gives it
    s = xlgd.sweep(model="linear2", lr=np.logspace(-6, -2, 1000), epochs=5)   # one row per lr
    s.plot()                                             # final error and exploding step against lr

The frame has one column per step-table column of the sheet, with the same
names the engine uses (x, y, a, b, pred, err, g_a, new_a, m_a, stab...),
indexed by step (1, 2, ...). Cells that are errors in the sheet (#NUM!) are
NaN; their codes are in `attrs["errors"]`, the sheet's headers in
`attrs["headers"]`; `headers=True` names the columns as the sheet's header
row does instead ("err^2", "de/da", "new a"). `optimizer=` may be spelt
`optimiser=`.

`sweep` runs one sheet at many configurations in one vectorised engine run
(`core/engine.py`: errors handled per configuration, bit for bit what each
`run` gives): a frame with one row per configuration -- its knobs, the
final mean err^2 and the first exploding step (NaN: never).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import XlgdError, dependency_error


def _two_axes(ax, kw):
    """The two axes a plot draws on, side by side: the ones given, or a new figure's."""
    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise (dependency_error(e, "plot()") or e) from e

        _, ax = plt.subplots(1, 2, figsize=kw.pop("figsize", (11, 3.8)))
    return ax


class History(pd.DataFrame):
    """A sheet's steps as a DataFrame; .plot() draws error and weights per step."""

    _metadata = ["params"]

    @property
    def _constructor(self):
        return History

    def column(self, name):
        """The column xlgd calls `name` (err, g_a, new_a), whether the frame is named by xlgd's
        names or by the sheet's headers (`headers=True`)."""
        if name in self.columns:
            return self[name]
        return self[self.attrs.get("headers", {}).get(name, name)]

    def plot(self, ax=None, log=True, **kw):
        """err^2 per step (log scale) and the weights per step, side by side. Returns the axes."""
        e_ax, w_ax = ax = _two_axes(ax, kw)
        e_ax.plot(self.index, self.column("err"), lw=1.2)
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
        params = list(self.attrs.get("params", ()))
        for p in params:
            w_ax.plot(self.index, self.column(p), lw=1.2, label=p)
        if params and log and max(self.column(p).abs().max() for p in params) > 1e6:
            w_ax.set_yscale("symlog")  # exploded weights span hundreds of decades
        w_ax.set_xlabel("step")
        w_ax.set_ylabel("weight")
        if len(self.attrs.get("params", ())) <= 12:
            w_ax.legend(fontsize=8)
        return ax


def _template(template, model, knobs, sheet_knobs, epochs, data, opts):
    """(the template dict with the overrides applied, the folder its paths are relative to)."""
    from .recipe.template import (
        Overrides,
        apply_overrides,
        find_template,
        read_template,
    )

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
    to one sheet; optimiser= is optimizer= spelt the British way."""
    from .recipe.template import build_recipe

    optimizer = _optimizer(optimizer, knobs.pop("optimiser", None))
    opts = dict(optimizer=optimizer, convention=convention, grad=grad, fd=fd, stability=stability)
    tpl, base = _template(template, model, knobs, sheet_knobs, epochs, data, opts)
    return build_recipe(tpl, base)


def _optimizer(optimizer, optimiser):
    """The optimizer asked for under either spelling (both given: they must agree)."""
    if optimizer is not None and optimiser is not None and optimizer != optimiser:
        raise XlgdError(f"optimizer={optimizer!r} and optimiser={optimiser!r} disagree; give one")
    return optimizer if optimizer is not None else optimiser


def run(template=None, sheet=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
        convention=None, grad=None, fd=None, stability=None, headers=False, **knobs) -> History:
    """The step-by-step history of one sheet, computed without writing a workbook.

    Parameters
    ----------
    template : str or path, optional
        A template name ("graddesc", "two-neuron", "momentum-sine", "lr-sweep") or a .toml file.
    sheet : str, optional
        The template's sheet to run (needed when it has several).
    model : str, optional
        Instead of a template, one sheet built here: "linear", "linear2", "relu2", ... with
        optimizer= (or optimiser=) "sgd", "momentum", "rmsprop", "adam", ..., and data=.
    epochs : int, optional
        Passes over the data.
    headers : bool
        Name the columns as the sheet's header row ("err^2", "de/da") instead of err, g_a.
    **knobs : float
        lr=1e-3, beta1=0.9, ...: on every sheet that has the knob (sheet_knobs={(sheet, knob): v}
        for one sheet).

    Returns
    -------
    History
        A DataFrame, one row per step (index 1, 2, ...), one column per step-table column; error
        cells NaN, their codes in attrs["errors"]; attrs["first_explosion_step"] (or None).

    Examples
    --------
    >>> h = xlgd.run("graddesc", sheet="adam", lr=0.05, epochs=2)
    >>> h[["a", "b", "err"]].tail(3)
    >>> h.plot()
    """
    from .recipe.compute import compute

    rec = recipe(template, model=model, sheet_knobs=sheet_knobs, epochs=epochs, data=data, optimizer=optimizer,
                 convention=convention, grad=grad, fd=fd, stability=stability, **knobs)
    spec = _sheet_of(rec, sheet)
    res = compute(rec)[spec.name]  # the same numbers the workbook caches (a sweep sheet from its batch run)
    return _named(_history(spec, res), headers)


def _named(frame: History, headers: bool) -> History:
    """The frame with its columns named as the sheet's headers when asked (attrs["headers"] maps them)."""
    return frame.rename(columns=frame.attrs["headers"]) if headers else frame


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
    """One sheet at many configurations in one vectorised engine run: one row per configuration.

    Parameters
    ----------
    template, sheet, model, epochs, data, optimizer (or optimiser) :
        As for `run`.
    **knobs : float or sequence of floats
        Knobs given as sequences (lr=np.logspace(-6, -2, 1000)) are swept together, one
        configuration per position (so all of one length); the others are fixed.

    Returns
    -------
    Sweep
        A DataFrame with the swept knobs, final_mse (the last epoch's mean err^2, NaN if it is an
        error) and explosion_step (the first step whose err^2 is an error or passes explode_at,
        NaN: never); the engine's batch Result is `.result`; .plot().

    Examples
    --------
    >>> s = xlgd.sweep(model="linear2", lr=np.logspace(-6, -2, 200), epochs=5)
    >>> s[s.explosion_step.isna()].lr.max()     # the largest lr that does not explode
    """
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
    errors = {(c, i + 1): code for (c, i), code in res.errors.items() if not c.startswith("@")}
    boom, bad = res.first_explosion_step(), res.first_error_step()
    return _frame(spec, res.frame(), errors, [res.value("@mse", k) for k in range(spec.epochs)],
                  spec.input_values(), None if boom is None else boom + 1, None if bad is None else bad + 1)


def _frame(spec, data, errors, epoch_mse, inputs, boom, bad) -> History:
    """The History of one sheet from its values: engine results (`run`) or a workbook's cells (`read`).

    errors: {(column, 1-based step): code}; boom, bad: 1-based steps or None."""
    frame = History(data)
    frame.index = pd.RangeIndex(1, spec.n_steps + 1, name="step")
    frame.attrs.update({
        "sheet": spec.name, "model": spec.model, "optimizer": spec.optimizer, "convention": spec.convention,
        "params": tuple(spec.params), "inputs": inputs,
        "headers": {c.name: c.header for c in spec.columns},
        "errors": errors, "epoch_mse": epoch_mse,
        "first_explosion_step": boom, "first_error_step": bad,
    })
    return frame


def read(book, sheet=None, headers=False) -> History:
    """A step table of a workbook xlgd generated, read from its cells, as `run` gives it.

    The values are those the file holds now: Excel's or LibreOffice's after an edit, xlgd's as
    generated. The hidden record says what each sheet is; a sheet that is not a step table, or
    whose rows or columns were moved, is an XlgdError saying so.

    Parameters
    ----------
    book : str or path
        An .xlsx that `xlgd generate` wrote (and anyone may have edited since).
    sheet : str, optional
        The step sheet to read (needed when the workbook has several).
    headers : bool
        Name the columns as the sheet's header row instead of xlgd's names.

    Returns
    -------
    History
        The same columns, index and attrs as `run`'s.

    Examples
    --------
    >>> h = xlgd.read("output/graddesc.xlsx", "adam")
    >>> (h["a"] - xlgd.run("graddesc", sheet="adam")["a"]).abs().max()   # what an edit changed
    """
    from .layout import Layout
    from .recipe import record
    from .recipe.template import rebuild
    from .xlsx.package import Package

    with Package.open(book) as pkg:
        rec = record.read(pkg)
        if rec is None:
            raise XlgdError(f"{book} was not generated by xlgd (it has no {record.META_SHEET} record): "
                            "xlgd.read reads the step tables of workbooks xlgd wrote")
        specs = {s.name: s for s in rebuild(rec).sheets}
        if sheet is None:
            if len(specs) > 1:
                raise XlgdError(f"{book} has step tables on sheets {', '.join(specs)}: pass sheet=...")
            sheet = next(iter(specs))
        if sheet not in specs:
            what = (f"sheet {sheet!r} of {book} is not an xlgd step table" if sheet in pkg.sheet_names
                    else f"{book} has no sheet {sheet!r}")
            raise XlgdError(f"{what}; its step tables: {', '.join(specs)}")
        return _named(_read_sheet(pkg, Layout(specs[sheet]), book), headers)


def _read_sheet(pkg, lay, book) -> History:
    """One step table from a workbook's cells, checked against its Layout first."""
    import numpy as np

    from .layout import HEADER_ROW, INPUT_ROW
    from .xlsx.package import UNKNOWN

    spec = lay.spec
    cells = pkg.values(spec.name, (1, lay.last_row))
    for c in spec.columns:
        got = cells.get((HEADER_ROW, lay.col_index[c.name] + 1))
        if got != c.header:
            raise XlgdError(f"{spec.name}!{lay.letter(c.name)}{HEADER_ROW} holds {got!r} where xlgd wrote the "
                            f"header {c.header!r}: columns were moved; `xlgd diff {book}` shows what changed")
    n, first = spec.n_steps, lay.step_row(0)
    data, errors = {}, {}
    for c in spec.columns:
        col = lay.col_index[c.name] + 1
        values = [cells.get((first + i, col)) for i in range(n)]
        if any(v is UNKNOWN for v in values):
            raise XlgdError(f"{spec.name} holds formulas nobody calculated (the file was saved by a program "
                            "that does not calculate, such as openpyxl): open and save it in Excel or LibreOffice")
        errors.update({(c.name, i + 1): v for i, v in enumerate(values) if isinstance(v, str)})
        data[c.name] = np.array([v if isinstance(v, float) else np.nan for v in values])
    if not np.array_equal(data["step"], np.arange(1, n + 1)):
        raise XlgdError(f"the steps of {spec.name} are not 1 ... {n} in rows {first} ... {lay.last_row}: rows were "
                        f"inserted or deleted; `xlgd diff {book}` shows what changed")
    inputs = {i.name: cells.get((INPUT_ROW, lay.input_index[i.name] + 1)) for i in spec.inputs}
    mse = [cells.get((lay.epoch_row(k), lay.epoch_index["mse"] + 1)) for k in range(spec.epochs)]
    err = data["err"]
    limit = inputs.get("explode_at") if isinstance(inputs.get("explode_at"), float) else spec.input_values().get(
        "explode_at", 1e10)
    with np.errstate(invalid="ignore"):
        boom = np.nonzero(~np.isfinite(err) | (err > limit))[0]
    bad = sorted(i for (c, i), code in errors.items() if code != "#N/A")
    return _frame(spec, data, errors, mse, inputs,
                  int(boom[0]) + 1 if len(boom) else None, bad[0] if bad else None)


def generate(template=None, path=None, *, model=None, sheet_knobs=None, epochs=None, data=None, optimizer=None,
             convention=None, grad=None, fd=None, stability=None, force=False, **knobs) -> Path:
    """Write the workbook, every computed cell a live formula with its value cached.

    Parameters
    ----------
    template, model, epochs, data, optimizer (or optimiser), **knobs :
        As for `run`; every sheet of the template is written.
    path : str or path, optional
        Where to write it (default output/NAME.xlsx).
    force : bool
        Replace `path` even if someone edited it since xlgd wrote it, or it is not xlgd's (without
        force that is an XlgdError and the file is kept).

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> xlgd.generate("graddesc", "my.xlsx", lr=1e-3, epochs=2)
    PosixPath('my.xlsx')
    """
    from .pipeline import build, refuse_edited

    rec = recipe(template, model=model, sheet_knobs=sheet_knobs, epochs=epochs, data=data, optimizer=optimizer,
                 convention=convention, grad=grad, fd=fd, stability=stability, **knobs)
    out = Path(path) if path else Path("output") / f"{rec.name}.xlsx"
    if out.suffix.lower() != ".xlsx":
        raise XlgdError(f"output must be an .xlsx file, got {out.name}")
    if not force:
        refuse_edited(out, "force=True replaces it; pass another path to write elsewhere")
    build(rec, out)
    return out

"""The one way from a recipe to a workbook: compute, then write.

    recipe = load_recipe("graddesc", Overrides(knobs={"lr": 1e-3}))
    results = build(recipe, "output/graddesc.xlsx")

`xlgd generate`, `xlgd.generate`, `charts regenerate` and `diff`'s "what
xlgd would generate" all call `build`; `xlgd.run` calls `compute` alone.
It sits above the rooms because it is the only place that both runs the
engine (`recipe.compute`) and writes a file (`book.write`).
"""

from __future__ import annotations

from pathlib import Path

from .book.charts import LOG_FORMAT, log_axis  # noqa: F401  (charts fix labels a learner's log axis alike)
from .book.write import write
from .errors import XlgdError
from .recipe import record
from .recipe.compute import Results, stream


def build(recipe, path, progress=None, dialect: str = "excel") -> Results:
    """Compute every value of the recipe and write the workbook to path; returns the Results.

    Sheets stream from the engine into the file epoch by epoch (`compute.stream`), so memory
    stays flat in rows; the Results keep each sheet's summary, and the values of the sheets an
    experiment grid reads (`compute(recipe)` gives every value)."""
    results = stream(recipe, dialect)
    write(recipe, results, path, progress)
    return results


def refuse_edited(path, hint: str) -> None:
    """An XlgdError if writing `path` would destroy work: it exists and is not a workbook xlgd wrote
    and nobody changed since (the digest in its record, `record.unchanged`). Nothing there, or an
    untouched xlgd output, passes. hint: how the caller replaces it anyway, or writes elsewhere."""
    from .xlsx.package import Package

    path = Path(path)
    if not path.is_file():
        return  # nothing to lose (a directory or a device is refused when written)
    try:
        with Package.open(path) as pkg:
            if record.unchanged(pkg):
                return
            if record.written(pkg):
                why = "was changed since xlgd wrote it"
            elif record.META_SHEET in pkg.sheet_names:
                why = "has no digest of what xlgd wrote (cannot tell whether it was edited)"
            else:
                why = "was not written by xlgd"
    except (XlgdError, OSError):
        why = "is not a workbook xlgd wrote, or is damaged"
    raise XlgdError(f"{path} {why}; not overwriting it ({hint})")


def chart_links(recipe) -> dict:
    """{sheet: {chart title: [(x formula, values formula) per series]}}: the links `build` writes
    on each training sheet, read from the chart descriptions (no values computed)."""
    from .book.charts import chart_specs
    from .layout import Layout

    out = {}
    for spec in recipe.sheets:
        out[spec.name] = {c["title"]: [(s["cat"], s["val"]) for s in c["series"]]
                          for c in chart_specs(Layout(spec))}
    return out

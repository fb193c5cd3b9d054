"""xlgd: gradient descent in a spreadsheet, every number a formula you can click on."""

__version__ = "0.1.0"


def __getattr__(name):
    # The notebook API (xlgd.run, xlgd.sweep, xlgd.generate, xlgd.read) pulls in pandas: ~0.5 s that
    # command-line runs (verify of a big workbook aims at a few seconds) need not pay.
    if name in ("generate", "run", "sweep", "read"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'xlgd' has no attribute {name!r}")

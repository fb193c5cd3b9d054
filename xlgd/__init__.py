"""xlgd: gradient descent in a spreadsheet, every number a formula you can click on."""

__version__ = "0.1.0"

from .api import generate, run  # noqa: E402,F401  (the notebook API)

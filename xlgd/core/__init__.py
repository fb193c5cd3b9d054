"""The core: one expression tree gives the formula, the numpy step and the exact value."""

from . import lookups  # noqa: F401 -- registers VLOOKUP, ROW, CHOOSE ... in functions.FUNCTIONS

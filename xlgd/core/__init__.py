"""The core: one expression tree gives the formula, the numpy step and the exact value."""

from . import info, lookups  # noqa: F401 -- register ISTEXT, VLOOKUP, ROW, CHOOSE ... in functions.FUNCTIONS

"""The core: one expression tree gives the formula, the numpy step and the exact value."""

from . import bases, conditional, dates, finance, info, logic, lookups, numbers, text, xlookups  # noqa: F401 -- register DATE, ISTEXT, FIND, VLOOKUP ... in functions.FUNCTIONS

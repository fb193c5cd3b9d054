"""The core: one expression tree gives the formula, the numpy step and the exact value."""

from . import (  # noqa: F401 -- register DATE, ISTEXT, FIND, VLOOKUP ... in functions.FUNCTIONS
    bases,
    conditional,
    dates,
    finance,
    info,
    logic,
    lookups,
    numbers,
    regression,
    text,
    xlookups,
)

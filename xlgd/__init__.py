"""xlgd: gradient descent in a spreadsheet, every number a formula you can click on."""

__version__ = "0.1.0"

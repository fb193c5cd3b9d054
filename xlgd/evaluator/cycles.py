"""A group that cannot be evaluated row by row, taken apart cell by cell.

When some reference inside a group may read a later row (or another sheet
of the group), the runs are split into their cells, the cells' own
references give the edges, and Tarjan's algorithm on cells orders them. A
component of more than one cell, or a cell that reads itself, is a real
circular reference: its cells get no value (the reason says so, and the
report names the first of them) -- nothing is ever evaluated in a loop.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from ..core.expr import CellRef
from . import graph
from .prepare import value_leaves

MAX_EDGES = 2_000_000  # cell-to-cell dependencies ordered at most: 300 cells each reading a whole
# column of the group are 90,000; past the bound the group is unchecked rather than minutes long


def by_cells(evaluator, group):
    nodes, where = [], {}
    for p in group:
        for r in range(p.run.r0, p.run.r1 + 1):
            where[(p.run.sheet, r, p.run.col)] = len(nodes)
            nodes.append((p, r))
    cells, deps, edges = GroupCells(where), [], 0
    for p, r in nodes:
        deps.append(set(cells.read_by(p, r)))
        edges += len(deps[-1])
        if edges > MAX_EDGES:
            return _too_wide(evaluator, nodes)
    for comp in graph.strongly_connected(len(nodes), deps):
        if len(comp) == 1 and comp[0] not in deps[comp[0]]:
            p, r = nodes[comp[0]]
            evaluator.exact(p, r)
            continue
        cycle = sorted((nodes[i][0].run.sheet, nodes[i][1], nodes[i][0].run.col) for i in comp)
        evaluator.outcome.circular.append(cycle)
        for cell in cycle:
            evaluator.unknown_cell(cell, cycle[0], "is on a circular reference")


def _too_wide(evaluator, nodes):
    """Cells reading ranges of each other too widely to order one by one: unchecked, the reason named."""
    group = sorted((p.run.sheet, r, p.run.col) for p, r in nodes)
    for cell in group:
        evaluator.unknown_cell(cell, group[0], "read ranges of their own group too widely to be ordered cell by "
                               f"cell (more than {MAX_EDGES:,} cell-to-cell dependencies)")


class GroupCells:
    """The group's cells by (sheet, column), rows sorted: a range finds the cells it covers by
    bisection, never by walking its area (a whole-column reference is 1,048,576 rows)."""

    def __init__(self, where):
        cols = {}
        for (sheet, r, c), i in where.items():
            cols.setdefault((sheet, c), []).append((r, i))
        self.cols = {k: ([r for r, _ in v], [i for _, i in v]) for k, v in ((k, sorted(v)) for k, v in cols.items())}

    def covered(self, sheet, first_row, last_row, first_col, last_col):
        for (s, c), (rows, ids) in self.cols.items():
            if s == sheet and first_col <= c <= last_col:
                yield from ids[bisect_left(rows, first_row):bisect_right(rows, last_row)]

    def read_by(self, prepared, row):
        """The group's cells that run `prepared`'s cell on row `row` reads."""
        dr = row - prepared.run.r0
        for leaf in value_leaves(prepared.expr):
            lo = leaf.row if leaf.row_abs else leaf.row + dr
            if isinstance(leaf, CellRef):
                yield from self.covered(leaf.sheet, lo, lo, leaf.col, leaf.col)
                continue
            hi = leaf.row2 if leaf.row2_abs else leaf.row2 + dr
            yield from self.covered(leaf.sheet, lo, hi, leaf.col, leaf.col2)

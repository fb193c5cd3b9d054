"""A group that cannot be evaluated row by row, taken apart cell by cell.

When some reference inside a group may read a later row (or another sheet
of the group), the runs are split into their cells, the cells' own
references give the edges, and Tarjan's algorithm on cells orders them. A
component of more than one cell, or a cell that reads itself, is a real
circular reference: its cells get no value (the reason says so, and the
report names the first of them) -- nothing is ever evaluated in a loop.
"""

from __future__ import annotations

from ...core.expr import CellRef
from . import graph
from .prepare import value_leaves


def by_cells(ev, group):
    nodes, where = [], {}
    for p in group:
        for r in range(p.run.r0, p.run.r1 + 1):
            where[(p.run.sheet, r, p.run.col)] = len(nodes)
            nodes.append((p, r))
    deps = [set() for _ in nodes]
    for i, (p, r) in enumerate(nodes):
        for cell in _reads(p, r):
            j = where.get(cell)
            if j is not None:
                deps[i].add(j)
    for comp in graph.strongly_connected(len(nodes), deps):
        if len(comp) == 1 and comp[0] not in deps[comp[0]]:
            p, r = nodes[comp[0]]
            ev.exact(p, r)
            continue
        cells = sorted((nodes[i][0].run.sheet, nodes[i][1], nodes[i][0].run.col) for i in comp)
        ev.outcome.circular.append(cells)
        for cell in cells:
            ev.unknown_cell(cell, cells[0], "is on a circular reference")


def _reads(p, r):
    dr = r - p.run.r0
    for leaf in value_leaves(p.expr):
        if isinstance(leaf, CellRef):
            yield (leaf.sheet, leaf.row if leaf.row_abs else leaf.row + dr, leaf.col)
            continue
        lo = leaf.row if leaf.row_abs else leaf.row + dr
        hi = leaf.row2 if leaf.row2_abs else leaf.row2 + dr
        for rr in range(lo, hi + 1):
            for cc in range(leaf.col, leaf.col2 + 1):
                yield (leaf.sheet, rr, cc)

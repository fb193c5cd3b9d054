"""A group that cannot be evaluated row by row, taken apart cell by cell.

When some reference inside a group may read a later row (or another sheet
of the group), the runs are split into their cells, the cells' own
references give the edges, and Tarjan's algorithm on cells orders them. A
component of more than one cell, or a cell that reads itself, reads itself
through some branch; evaluated as Excel evaluates (the branch an IF takes),
its cells that never read one another get their values, and the rest are a
real circular reference: their cells get no value (the reason says so, and
the report names the first of them) -- nothing is ever evaluated in a loop.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from ..core.expr import CellRef
from . import graph
from .graph import cells_of_row
from .prepare import value_leaves
from .store import UNKNOWN_VALUE

MAX_EDGES = 2_000_000  # cell-to-cell dependencies ordered at most: 300 cells each reading a whole
# column of the group are 90,000; past the bound the group is unchecked rather than minutes long


def by_cells(evaluator, group):
    nodes, where = [], {}
    for p in group:
        for r in range(p.run.r0, p.run.r1 + 1):
            where[(p.run.sheet, r, p.run.col)] = len(nodes)
            nodes.append((p, r))
    for i, (p, r) in enumerate(nodes):
        if p.run.array is not None:  # a cell of an array formula's range is computed by its first cell
            where.update((cell, i) for cell in cells_of_row(p.run, r))
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
        stuck = taken_branches(evaluator, nodes, comp)
        if stuck:
            _circular(evaluator, nodes, deps, stuck)


def taken_branches(evaluator, nodes: list, comp: list) -> list:
    """The cells of a loop of references (`comp`, indices into `nodes`, each a (Prepared, row)) that still
    wait on one another when evaluated as Excel evaluates: IF, CHOOSE and the like read only the branch
    taken, so `=IF(A6,B6,1)` with A6 FALSE does not read B6. Every other member is evaluated (and stored)
    in the order it becomes computable; the indices returned are the cells left."""
    mine = set()
    for i in comp:
        p, r = nodes[i]
        for cell in cells_of_row(p.run, r):
            mine.add(cell)
            evaluator.outcome.unknown.pop(cell, None)
            evaluator.out[cell[0]].put(cell[1], cell[2], UNKNOWN_VALUE)
    left, progress = list(comp), True
    while progress and left:
        progress, waiting = False, []
        for i in left:
            p, r = nodes[i]
            if evaluator.waits(p, r, mine):
                waiting.append(i)
                continue
            evaluator.exact(p, r)
            mine.difference_update(cells_of_row(p.run, r))
            progress = True
        left = waiting
    return left


def _circular(evaluator, nodes, deps, stuck: list):
    """The cells left waiting: the loops among them are circular references (reported); a cell that only
    reads a loop gets no value either, its root the loop's first cell."""
    local = {i: k for k, i in enumerate(stuck)}
    sub = [{local[j] for j in deps[i] if j in local} for i in stuck]
    loops, readers = [], []
    for comp in graph.strongly_connected(len(stuck), sub):
        if len(comp) > 1 or comp[0] in sub[comp[0]]:
            loops.append(sorted(stuck[k] for k in comp))
        else:
            readers.append(stuck[comp[0]])
    if not loops:
        loops, readers = [sorted(stuck)], []

    def anchor(i):
        p, r = nodes[i]
        return p.run.sheet, r, p.run.col

    for loop in loops:
        cycle = sorted(anchor(i) for i in loop)
        evaluator.outcome.circular.append(cycle)
        for i in loop:
            for cell in cells_of_row(nodes[i][0].run, nodes[i][1]):
                evaluator.unknown_cell(cell, cycle[0], "is on a circular reference")
    root = min(anchor(i) for i in loops[0])
    for i in readers:
        for cell in cells_of_row(nodes[i][0].run, nodes[i][1]):
            evaluator.unknown_cell(cell, root, "is on a circular reference")


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

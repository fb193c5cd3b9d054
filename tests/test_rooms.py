"""The package's rooms and who may import whom (README "Code map"), read from the source.

Every import counts, the ones inside functions too: a rule that only held at
module level would let the writer start the engine from a lazy import.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "xlgd"

# room -> rooms (or single modules) it may import besides itself and xlgd.errors
ALLOWED = {
    "core": set(),
    "xlsx": {"core.expr", "core.functions", "core.values"},  # formula.py parses formula text into the core's tree
    "recipe": {"core", "xlgd"},  # record.py writes xlgd's version
    "book": {"core", "recipe", "xlsx.output", "xlsx.refs"},
    "evaluator": {"core", "xlsx"},  # evaluates any workbook as its spreadsheet would
    "check": {"core", "recipe", "book.layout", "xlsx", "evaluator"},
    "diff": {"recipe.record", "xlsx", "charts.model",  # charts.model: chart series are compared too
             "evaluator", "core.values", "core.functions"},  # values a file doesn't hold, recomputed
    "charts": {"recipe.record", "xlsx", "pipeline"},  # pipeline: charts regenerate writes a fresh copy
    "cli": None,  # the command line may use every room
}
NEVER = {
    "book": {"core.engine", "recipe.compute"},  # writing never computes
}


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), p


def _imports(name, path):
    """(imported module relative to xlgd, imported names) of every import in a module."""
    pkg = name.split(".")[:-1] if not path.name == "__init__.py" else name.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "xlgd" or node.module.startswith("xlgd.")):
                mod = node.module[5:]
            else:
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}" if mod else a.name
                target = sub if (PKG / (sub.replace(".", "/") + ".py")).exists() or \
                    (PKG / sub.replace(".", "/")).is_dir() else mod
                yield target or "xlgd", a.name if target == mod else None
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("xlgd."):
                    yield a.name[5:], None


def _allowed(room, target, allowed):
    if target in ("errors", "xlgd") and room != "core" or target == "errors":
        return True
    if target.split(".")[0] == room:
        return True
    return any(target == a or target.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("name,path", list(_modules()), ids=[n for n, _ in _modules()])
def test_each_module_imports_only_what_its_room_may(name, path):
    room = name.split(".")[0] if "." in name else None
    bad = []
    for target, imported in _imports(name, path):
        if room in ALLOWED and ALLOWED[room] is not None and not _allowed(room, target, ALLOWED[room]):
            bad.append(target)
        if any(target == n or target.startswith(n + ".") for n in NEVER.get(room, ())):
            bad.append(target)
        if imported and imported.startswith("_") and not imported.startswith("__"):
            bad.append(f"{target}.{imported} (a private name of another module)")
    assert not bad, f"xlgd.{name} imports {', '.join(sorted(set(bad)))}"


@pytest.mark.slow
def test_rooms_have_no_import_cycles():
    edges = {}
    for name, path in _modules():
        room = name.split(".")[0] if "." in name else name
        for target, _ in _imports(name, path):
            other = target.split(".")[0]
            if other not in (room, "errors", "xlgd"):
                edges.setdefault(room, set()).add(other)
    seen, stack = set(), []

    def visit(r):
        assert r not in stack, f"import cycle between rooms: {' -> '.join(stack + [r])}"
        if r in seen:
            return
        stack.append(r)
        for o in sorted(edges.get(r, ())):
            visit(o)
        stack.pop()
        seen.add(r)

    for r in sorted(edges):
        visit(r)

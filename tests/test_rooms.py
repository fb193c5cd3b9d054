"""The package's rooms and who may import whom (docs/architecture.md), read from the source.

Every import counts, the ones inside functions too: a rule that only held at
module level would let the writer start the engine from a lazy import.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "xlgd"

# room -> rooms (or single modules) it may import besides itself and xlgd.errors;
# a module at the top of the package (layout.py) is a room of its own
ALLOWED = {
    "core": set(),
    "layout": {"core.expr", "core.table", "xlsx.refs"},  # addresses: below both the writer and the checker
    "xlsx": {"core.expr", "core.functions", "core.values"},  # formula.py parses formula text into the core's tree
    "recipe": {"core", "xlgd"},  # record.py writes xlgd's version
    "book": {"core", "recipe", "layout", "xlsx.output", "xlsx.refs"},
    "evaluator": {"core", "xlsx"},  # evaluates any workbook as its spreadsheet would
    "check": {"core", "recipe", "layout", "xlsx", "evaluator"},  # never book: the checker reads, the writer writes
    "diff": {"recipe.record", "xlsx", "charts.model",  # charts.model: chart series are compared too
             "evaluator", "core.values", "core.functions",  # values a file doesn't hold, recomputed
             "core.stability"},  # EXPLODE_AT: when a training sheet's effects say it explodes
    "charts": {"recipe.record", "recipe.template", "xlsx", "pipeline"},  # regenerate: a fresh copy from the record
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
    room = name.split(".")[0]
    bad = []
    for target, imported in _imports(name, path):
        if room in ALLOWED and ALLOWED[room] is not None and not _allowed(room, target, ALLOWED[room]):
            bad.append(target)
        if any(target == n or target.startswith(n + ".") for n in NEVER.get(room, ())):
            bad.append(target)
        if imported and imported.startswith("_") and not imported.startswith("__"):
            bad.append(f"{target}.{imported} (a private name of another module)")
    assert not bad, f"xlgd.{name} imports {', '.join(sorted(set(bad)))}"


def _circle(edges):
    """The first import circle of a graph {node: nodes it imports} as a path, or None."""
    done, stack = set(), []

    def visit(node):
        if node in stack:
            return stack[stack.index(node):] + [node]
        if node in done:
            return None
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if (found := visit(other)):
                return found
        stack.pop()
        done.add(node)
        return None

    return next((found for node in sorted(edges) if (found := visit(node))), None)


def test_rooms_have_no_import_cycles():
    edges = {}
    for name, path in _modules():
        room = name.split(".")[0] if "." in name else name
        for target, _ in _imports(name, path):
            other = target.split(".")[0]
            if other not in (room, "errors", "xlgd"):
                edges.setdefault(room, set()).add(other)
    circle = _circle(edges)
    assert circle is None, f"import cycle between rooms: {' -> '.join(circle)}"


def test_every_room_and_the_layout_have_a_rule():
    rooms = {p.parent.name for p in PKG.glob("*/__init__.py")} | {"layout"}
    assert rooms <= set(ALLOWED), f"rooms without import rules: {sorted(rooms - set(ALLOWED))}"
    assert (PKG / "layout.py").exists() and not (PKG / "book" / "layout.py").exists()


def _module_of(target, names):
    while target not in names and "." in target:
        target = target.rsplit(".", 1)[0]
    return target if target in names else None


def test_modules_import_each_other_without_a_circle():
    """Inside a room too: recipe's template, experiments, record and validate read one way."""
    mods = dict(_modules())
    edges = {name: {m for t, _ in _imports(name, path) if (m := _module_of(t, mods)) not in (None, name)}
             for name, path in mods.items()}
    circle = _circle(edges)
    assert circle is None, f"import circle: {' -> '.join(circle)}"


def test_class_names_are_unique_in_the_package():
    """Every class of the package has one name no other module defines."""
    where = {}
    for name, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(name)
    twice = {c: ms for c, ms in where.items() if len(ms) > 1}
    assert not twice, f"class names defined in two modules: {twice}"

"""The house has no import circles and no import from a lower layer up to a higher one.

Every project ``.py`` file is parsed with :mod:`ast`; its imports, at module level and inside functions and
methods alike, make the edges of a graph of the project's modules. Two rules hold over that graph:

* no circle: its strongly connected components are single modules (a circle hidden behind a function-local
  import is still a circle: the two modules cannot be understood, tested or moved apart);
* the layers, lowest first (see ``adplatform/LAYOUT.md``)::

      adplatform.core       the platform library (Redis, database, crypto, middleware, the API's pieces...)
      adplatform.accounts   people, tokens, notifications
      integrations          Roblox clients, no models
      games                 games, containers, API keys, syncs
      ads | scoreboard      side by side: neither imports the other
      adplatform.project    settings, URLs, ASGI/WSGI, Celery: gathers the apps
      adplatform.tools      the simulator, the demo data, the runplatform supervisor

  A module imports only from its own layer or a lower one. Tests, migrations, ``conftest.py``, ``bench/``,
  ``sdk/`` and ``manage.py`` stand outside the layers (they may import anything) but not outside the circle
  rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", ".venv-sdk", "node_modules", "staticfiles", "__pycache__", ".ci"}

LAYERS: list[tuple[str, ...]] = [
    ("adplatform.core",),
    ("adplatform.accounts",),
    ("integrations",),
    ("games",),
    ("ads", "scoreboard"),
    ("adplatform.project",),
    ("adplatform.tools",),
]

# Circles only inside the apps (ads, scoreboard, games, integrations), each as the sorted modules of its
# strongly connected component. Another branch takes them apart; delete an entry once it is gone.


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.startswith(".venv") for part in rel.parts[:-1]):
            continue
        found[_module_name(path)] = path
    return found


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The project modules ``module`` imports anywhere in its body (``from p import name`` counts as an import
    of ``p.name`` when that is a module, else of ``p``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:  # ``import a.b.c`` of a package ``a.b`` holding no module ``c``
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


def import_graph() -> dict[str, set[str]]:
    sources = project_sources()
    known = set(sources)
    return {module: imports_of(path, module, known) for module, path in sources.items()}


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def layer_of(module: str) -> int | None:
    """The layer's index, None for what stands outside the layers (tests, migrations, bench...)."""
    parts = module.split(".")
    if "tests" in parts or "migrations" in parts or parts[-1] == "conftest":
        return None
    for level, roots in enumerate(LAYERS):
        if any(module == root or module.startswith(root + ".") for root in roots):
            return level
    return None


def _root_of(module: str) -> str | None:
    for roots in LAYERS:
        for root in roots:
            if module == root or module.startswith(root + "."):
                return root
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs that go from a lower layer up, or across between side-by-side apps; and any
    import of a test module by production code."""
    wrong = []
    for module, names in graph.items():
        level = layer_of(module)
        if level is None:
            continue
        for name in names:
            if "tests" in name.split("."):
                wrong.append((module, name))
                continue
            target = layer_of(name)
            if target is None:
                continue
            if target > level or (target == level and _root_of(name) != _root_of(module)):
                wrong.append((module, name))
    return sorted(wrong)


def test_no_import_circle():
    assert [sorted(c) for c in circles(import_graph())] == [], "import circles (strongly connected components)"


def test_no_import_from_a_lower_layer_to_a_higher_one():
    assert upward_imports(import_graph()) == []


def test_every_project_module_has_a_layer_or_stands_outside_on_purpose():
    outside = {"manage", "conftest"}
    for module in import_graph():
        top = module.split(".")[0]
        if layer_of(module) is None and top not in ("bench", "sdk") and module not in outside:
            assert "tests" in module.split(".") or "migrations" in module.split(".") or module == "adplatform", module


def test_the_checker_sees_circles_function_local_imports_and_upward_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [frozenset({"a", "b", "c"})]

    source = tmp_path / "mod.py"
    source.write_text("import games.models\n\ndef later():\n    from ads import services\n    from . import sibling\n")
    known = {"games.models", "ads.services", "ads", "ads.sibling", "ads.mod"}
    assert imports_of(source, "ads.mod", known) == {"games.models", "ads.services", "ads.sibling"}

    assert upward_imports({"games.services": {"ads.services"}, "ads.services": {"games.services"}}) == [
        ("games.services", "ads.services")
    ]
    assert upward_imports({"ads.views": {"scoreboard.services"}}) == [("ads.views", "scoreboard.services")]
    assert upward_imports({"adplatform.core.redis": {"adplatform.project.settings"}}) != []
    assert upward_imports({"ads.tests.test_x": {"adplatform.tools.demo"}}) == []

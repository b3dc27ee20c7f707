"""The integrations and games layers import without circles, function-local imports included.

Layers, lowest first: the platform library (``adplatform.core.serving``, ``adplatform.core.redis``...), ``integrations``
(Roblox clients, no models), ``games``. A lower layer never imports a higher one; the serving-version bump
reaches the Open Cloud publisher through a signal the games app subscribes to.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["integrations", "games", "adplatform/core/serving.py"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for entry in CHECKED:
        base = ROOT / entry
        paths = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in paths:
            if "tests" in path.relative_to(ROOT).parts or "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at module level or inside a function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known and name != module}


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    known = set(sources)
    return {module: _imports(path, module, known) for module, path in sources.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_integrations_import_nothing_above_them():
    offending = {
        module: sorted(name for name in names if not name.startswith("integrations"))
        for module, names in _graph().items()
        if module.startswith("integrations")
    }
    assert {m: n for m, n in offending.items() if n} == {}
    for path in (ROOT / "integrations").rglob("*.py"):
        if "tests" in path.parts:
            continue
        source = path.read_text()
        assert "from games" not in source and "import games" not in source, path
        assert "from ads" not in source and "from scoreboard" not in source, path


def test_games_import_nothing_from_ads_or_scoreboard():
    for path in (ROOT / "games").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("ads", "scoreboard"), (path, node.module)
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] not in ("ads", "scoreboard") for a in node.names), path


def test_the_serving_version_imports_none_of_its_listeners():
    assert _graph()["adplatform.core.serving"] == set()
    source = (ROOT / "adplatform" / "core" / "serving.py").read_text()
    assert "from integrations" not in source and "from games" not in source


def test_no_import_circle_in_games_and_integrations():
    assert _cycles(_graph()) == []


def test_the_checker_sees_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_every_task_queued_by_name_is_registered():
    from celery import current_app

    from games import jobs

    for name in (jobs.GAME_SYNC, jobs.ASSET_SYNC, jobs.PUBLISH_SERVING_CHANGE):
        assert jobs.task(name) is current_app.tasks[name]
        assert name.startswith("games.tasks.")

"""The package's shape: no module imports another at load time in a circle, except model modules (whose
relationships name each other); no view builds a query; no file grows past 600 lines without its docstring
saying why it is one idea.

Read from the source (the imports a module runs when it loads: top level, not under ``if TYPE_CHECKING``, not
inside a function), so the check needs no database and names the modules of a circle when it finds one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tracker"
LONG = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _load_time_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports when it loads."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def resolve(module: str | None, level: int) -> str | None:
        if level == 0:
            return module
        base = package.split(".")
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = resolve(node.module, node.level)
                if base is None:
                    continue
                for alias in node.names:
                    # `from . import audit` imports a module; `from .audit import record` the module itself
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if m in known and m != name}


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def _is_model_module(name: str) -> bool:
    return name.endswith(".models") or name in ("tracker.models", "tracker.db")


def test_no_module_imports_another_in_a_circle_at_load_time() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _load_time_imports(name, path, known) for name, path in modules.items()}
    # a package's __init__ that re-exports its parts is not a circle of ideas: follow the modules themselves
    circles = [sorted(c) for c in _circles(graph) if not all(_is_model_module(m) for m in c)]
    assert circles == []


def test_the_check_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _circles({"a": {"b"}, "b": set()}) == []



def test_no_view_builds_a_query() -> None:
    """Views load a record by id, check access and call a service: the queries live in services and
    queries modules (one function serves the page, its export and the API)."""
    builders = {"select", "insert", "update", "delete", "text", "or_", "and_", "func"}
    offenders = []
    for path in sorted(PACKAGE.rglob("*views.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
                used = {a.name for a in node.names} & builders
                if used:
                    offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(used)} from {node.module}")
    assert offenders == []


def test_long_files_say_why_they_are_one_idea() -> None:
    unexplained = []
    for name, path in sorted(_modules().items()):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= LONG:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "one idea" not in docstring.lower():
            unexplained.append(f"{name}: {text.count(chr(10))} lines")
    assert unexplained == []


def test_the_readme_says_which_blueprint_serves_each_url(app) -> None:  # type: ignore[no-untyped-def]
    """Every route is listed under its blueprint in the README's URL table (a new area or a moved route
    that the table does not show fails here)."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`/.*?) \| `(\w+)` \| `[\w/]+\.py` \|$", readme, re.M)
    assert rows, "the README has no URL → blueprint table"
    patterns: dict[str, list[re.Pattern[str]]] = {}
    for cell, blueprint in rows:
        for url in re.findall(r"`(/[^`]*)`", cell):
            body = re.escape(url.rstrip("…")).replace(re.escape("<id>"), "[^/]+")
            patterns.setdefault(blueprint, []).append(re.compile(body + (".*" if url.endswith("…") else "") + "$"))
    missing = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        if not any(p.match(url) for p in patterns.get(blueprint, [])):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert missing == []

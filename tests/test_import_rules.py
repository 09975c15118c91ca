"""Dependencies point one way (DESIGN.md): plugins -> the public plugin API -> the runtime.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the top;
imports under `if TYPE_CHECKING:` never run and do not count for cycles (they still may not name a
private module from a plugin).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "oneapi_mcp"
PLUGINS = ROOT / "plugins"
EXAMPLES = ROOT / "examples"
# the composition root and the access review import each other lazily (cli builds the servers the
# review lists); not part of the runtime the plugins see
KNOWN_CYCLES = {frozenset({"oneapi_mcp.cli", "oneapi_mcp._access_review"})}


def _imports(path: Path, package: str, *, type_checking: bool = True) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in `path` (a module of `package`), names included
    (`from a import b` yields a and a.b: b may be a module)."""
    out: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test) and not type_checking:
                for other in child.orelse:
                    visit_node(other)
                continue
            visit_node(child)

    def visit_node(child: ast.AST) -> None:
        if isinstance(child, ast.ImportFrom):
            if child.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - child.level + 1] + ([child.module] if child.module else []))
            else:
                base = child.module or ""
            out.append((child.lineno, base))
            out.extend((child.lineno, f"{base}.{alias.name}") for alias in child.names)
        elif isinstance(child, ast.Import):
            out.extend((child.lineno, alias.name) for alias in child.names)
        visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return out


def _package_of(path: Path, root: Path, name: str) -> str:
    rel = path.relative_to(root).with_suffix("").parts
    return ".".join((name, *rel[:-1])) if rel[-1] != "__init__" else ".".join((name, *rel[:-1]))


def _private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "oneapi_mcp" and any(p.startswith("_") and p != "__init__" for p in parts[1:])


def _plugin_side_files() -> list[tuple[Path, str]]:
    files = [(p, _package_of(p, PLUGINS, "oneapi_mcp.plugins")) for p in sorted(PLUGINS.rglob("*.py"))]
    for p in sorted(EXAMPLES.rglob("*.py")):
        package = ".".join(p.relative_to(EXAMPLES).with_suffix("").parts[1:-1]) or "example"
        files.append((p, package))
    return files


def test_no_plugin_or_example_imports_a_private_runtime_module():
    bad = [f"{path.relative_to(ROOT)}:{line}: {module}"
           for path, package in _plugin_side_files()
           for line, module in _imports(path, package)
           if _private(module) and not module.startswith("oneapi_mcp.plugins.")]
    assert not bad, "plugins use oneapi_mcp.plugin_api (docs/plugin_api.md), not private modules:\n" + "\n".join(bad)


def test_the_runtime_imports_no_plugin_module_but_the_hook_specs():
    bad = []
    for path in sorted(RUNTIME.rglob("*.py")):
        for line, module in _imports(path, _package_of(path, RUNTIME, "oneapi_mcp")):
            if module.startswith("oneapi_mcp.plugins.") and module not in ("oneapi_mcp.plugins.hookspecs",) \
                    and not module.startswith("oneapi_mcp.plugins.hookspecs."):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert not bad, "the runtime must not depend on a plugin (hand values over through a hook):\n" + "\n".join(bad)


def _runtime_graph() -> dict[str, set[str]]:
    modules = {_package_of(p, RUNTIME, "oneapi_mcp") + ("" if p.name == "__init__.py" else f".{p.stem}"): p
               for p in RUNTIME.glob("*.py")}
    modules = {m.removesuffix(".__init__"): p for m, p in modules.items()}
    return {m: {dep for _line, dep in _imports(p, "oneapi_mcp", type_checking=False)
                if dep in modules and dep != m}
            for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                connect(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return out


def test_the_runtime_modules_form_no_import_cycle():
    cycles = [sorted(c) for c in _cycles(_runtime_graph()) if c not in KNOWN_CYCLES]
    assert not cycles, f"import cycles in oneapi_mcp/ (Runtime and its neighbours must import downward): {cycles}"


def test_runtime_and_the_plugin_api_import_nothing_that_imports_them_back():
    graph = _runtime_graph()
    for start in ("oneapi_mcp._runtime", "oneapi_mcp.plugin_api", "oneapi_mcp._hooktypes"):
        seen, todo = set(), [start]
        while todo:
            for dep in graph[todo.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        assert start not in seen, f"{start} reaches itself through {sorted(seen)}"


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The rules above are only as good as the parser: a private import, relative or absolute, lazy or
    under TYPE_CHECKING, is found; a cycle through a lazy import is found."""
    source = tmp_path / "plugin.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from oneapi_mcp._settings import X\n"
                      "def f():\n    from .. import _server\n    import oneapi_mcp.plugin_api\n")
    modules = [m for _line, m in _imports(source, "oneapi_mcp.plugins")]
    assert [m for m in modules if _private(m)] == ["oneapi_mcp._settings", "oneapi_mcp._settings.X",
                                                   "oneapi_mcp._server"]
    assert [m for _l, m in _imports(source, "oneapi_mcp.plugins", type_checking=False) if _private(m)] == [
        "oneapi_mcp._server"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


@pytest.mark.parametrize("name", ["Runtime", "ToolCall", "CompositeTool", "CompositeContext", "CallResult",
                                  "ServerSettings", "Credentials", "Catalog", "ToolDef", "Workflow", "Refusal",
                                  "plan_schema", "refusal_result", "report_result", "Table", "tool_result",
                                  "tool_error", "hookimpl"])
def test_the_plugin_api_offers_what_the_issue_lists_and_oneapi_mcp_plugins_re_exports_it(name):
    from oneapi_mcp import plugin_api, plugins

    assert name in plugin_api.__all__
    assert getattr(plugins, name) is getattr(plugin_api, name)


def test_importing_the_plugin_api_loads_no_settings_executor_or_plugin_module():
    import subprocess
    import sys

    code = ("import sys, oneapi_mcp.plugin_api; print(sorted(m for m in sys.modules if m.startswith("
            "('oneapi_mcp._settings', 'oneapi_mcp._executor', 'oneapi_mcp.plugins', 'pydantic_settings', 'httpx'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_the_plugin_docs_teach_only_the_public_api_and_document_every_name_of_it():
    import re

    from oneapi_mcp import plugin_api

    docs = {name: (ROOT / "docs" / name).read_text() for name in ("plugin_api.md", "plugin_hooks.md")}
    for name, text in docs.items():
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
            assert not re.search(r"^\s*(from|import) oneapi_mcp\._", block, flags=re.M), (name, block)
            for imported in re.findall(r"^from oneapi_mcp\.plugin_api import (.+)$", block, flags=re.M):
                assert all(hasattr(plugin_api, n.strip()) for n in imported.split(",")), (name, imported)
    undocumented = [n for n in plugin_api.__all__ if not re.search(rf"\b{re.escape(n)}\b", docs["plugin_api.md"])]
    assert undocumented == []

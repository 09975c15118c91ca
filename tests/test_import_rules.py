"""Dependencies point one way (DESIGN.md): plugins -> the public plugin API -> the runtime.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the top;
imports under `if TYPE_CHECKING:` never run and do not count for cycles (they still may not name a
private module from a plugin).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "oneapi_mcp"
PLUGINS = ROOT / "plugins"
EXAMPLES = ROOT / "examples"


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


# -- the layout of plugins/ (issue 16): roles, and families that do not import each other -----------------------
COMPOSITE = "oneapi_mcp.plugins.composite"
KIT = f"{COMPOSITE}._kit"
# public runtime packages a family may use besides the plugin API: the embedded mock (policy_automation's
# sandbox, analytics' docs picture) and the services table generated from the specs (discovery)
PUBLIC_RUNTIME = ("oneapi_mcp.mock", "oneapi_mcp.generated.services")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_of(path: Path, root: Path, name: str) -> str:
    package = _package_of(path, root, name)
    return package if path.name == "__init__.py" else f"{package}.{path.stem}"


def _plugin_files(root: Path = PLUGINS, name: str = "oneapi_mcp.plugins") -> list[tuple[Path, str, str]]:
    """(path, its package, its module) of every file under plugins/."""
    return [(p, _package_of(p, root, name), _module_of(p, root, name)) for p in sorted(root.rglob("*.py"))]


def _owner_module(module: str) -> str:
    """The plugin module a `<module>_inputs` or `<module>_settings` module belongs to (its tools' input models
    or its settings model, kept apart so they are defined on first use, not at start: issue 16)."""
    return module.removesuffix("_inputs").removesuffix("_settings")


def _family_of(module: str) -> str | None:
    """`oneapi_mcp.plugins.composite.<family>` for a module of a composite family (not of the kit); a
    `<family>_inputs` or `<family>_settings` module (its input or settings models, imported on first use,
    issue 16) is the family's."""
    parts = module.split(".")
    if len(parts) > 3 and parts[:3] == COMPOSITE.split(".") and parts[3] != "_kit":
        return ".".join([*parts[:3], _owner_module(parts[3])])
    return None


def _family_import_problems(files: list[tuple[Path, str, str]]) -> list[str]:
    """Imports of `oneapi_mcp` modules a family may not use: anything but the plugin API, the hook specs,
    its own package, the kit and PUBLIC_RUNTIME."""
    bad = []
    for path, package, module in files:
        family = _family_of(module)
        if family is None:
            continue
        for line, imported in _imports(path, package):
            allowed = (not _within(imported, "oneapi_mcp") or imported == "oneapi_mcp.plugins"
                       or any(_within(imported, ok) for ok in ("oneapi_mcp.plugin_api", "oneapi_mcp.plugins.hookspecs",
                                                              family, KIT, *PUBLIC_RUNTIME))
                       or (imported.startswith("oneapi_mcp.plugins.") and imported.count(".") == 2
                           and imported.rsplit(".", 1)[1] in _public_plugin_names()))
            if not allowed:
                bad.append(f"{path.name}:{line}: {module} imports {imported}")
    return bad


def _public_plugin_names() -> set[str]:
    from oneapi_mcp import plugin_api

    return {*plugin_api.__all__, "hookimpl"}


def _plugin_import_problems(files: list[tuple[Path, str, str]], plugins: tuple[str, ...]) -> list[str]:
    """Imports of a plugin module (a DEFAULT_PLUGINS entry, module or package) from anywhere under plugins/
    but that plugin itself; builtin and ops may use the kit, never a family."""
    bad = []
    for path, package, module in files:
        owner = next((p for p in plugins if _within(_owner_module(module), p)), None)
        for line, imported in _imports(path, package):
            other = next((p for p in plugins if _within(imported, p) and p != owner), None)
            if other is not None:  # no exception: a plugin that needs another's help asks through a hook
                bad.append(f"{path.name}:{line}: {module} imports the plugin {other}")
            if module.startswith(("oneapi_mcp.plugins.builtin", "oneapi_mcp.plugins.ops")) and _family_of(imported):
                bad.append(f"{path.name}:{line}: {module} imports the composite family {_family_of(imported)}")
    return bad


def test_a_composite_family_imports_only_the_plugin_api_its_own_package_and_the_kit():
    bad = _family_import_problems(_plugin_files())
    assert not bad, "a family shares through composite/_kit or the plugin API:\n" + "\n".join(bad)


def test_no_plugin_imports_another_plugin_and_builtin_and_ops_import_no_family():
    from oneapi_mcp._plugins import DEFAULT_PLUGINS

    bad = sorted(set(_plugin_import_problems(_plugin_files(), DEFAULT_PLUGINS)))
    assert not bad, "plugins meet through hooks, the plugin API and shared helper modules:\n" + "\n".join(bad)


def test_every_default_plugin_lives_in_its_role_and_every_plugin_file_belongs_to_a_role():
    from oneapi_mcp._plugins import DEFAULT_PLUGINS

    roles = ("oneapi_mcp.plugins.builtin.", "oneapi_mcp.plugins.ops.", f"{COMPOSITE}.")
    assert [p for p in DEFAULT_PLUGINS if not p.startswith(roles) or p.startswith(KIT)] == []
    top = sorted(p.name for p in PLUGINS.glob("*.py"))
    assert top == ["__init__.py", "hookspecs.py"], "plugins/ holds the hook specs; plugins go in builtin/, ops/ " \
        "or composite/"


def test_the_layout_checks_catch_a_family_importing_a_sibling(tmp_path):
    root = tmp_path / "plugins"
    for rel, text in {"composite/a.py": "from .b import x\nfrom ._kit.k import y\nfrom ..hookspecs import hookimpl\n",
                      "composite/b/__init__.py": "from oneapi_mcp.plugin_api import tool_result\n",
                      "composite/b/part.py": "from ..a import z\nfrom oneapi_mcp.mock import NOW\n",
                      "composite/_kit/k.py": "from ..b import w\n",
                      "ops/o.py": "from ..composite._kit.k import y\nfrom ..composite.b import part\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    files = _plugin_files(root)
    plugins = (f"{COMPOSITE}.a", f"{COMPOSITE}.b", "oneapi_mcp.plugins.ops.o")
    assert [p.split(": ", 1)[1] for p in _family_import_problems(files)] == [
        f"{COMPOSITE}.a imports {COMPOSITE}.b", f"{COMPOSITE}.a imports {COMPOSITE}.b.x",
        f"{COMPOSITE}.b.part imports {COMPOSITE}.a", f"{COMPOSITE}.b.part imports {COMPOSITE}.a.z"]
    assert sorted({p.split(": ", 1)[1] for p in _plugin_import_problems(files, plugins)}) == [
        f"{COMPOSITE}._kit.k imports the plugin {COMPOSITE}.b",
        f"{COMPOSITE}.a imports the plugin {COMPOSITE}.b",
        f"{COMPOSITE}.b.part imports the plugin {COMPOSITE}.a",
        f"oneapi_mcp.plugins.ops.o imports the composite family {COMPOSITE}.b",
        f"oneapi_mcp.plugins.ops.o imports the plugin {COMPOSITE}.b"]

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
    cycles = [sorted(c) for c in _cycles(_runtime_graph())]
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


# -- module-level import cycles anywhere in oneapi_mcp (subpackages too) ---------------------------
def _module_files() -> dict[str, Path]:
    return {".".join(("oneapi_mcp", *p.relative_to(RUNTIME).with_suffix("").parts)).removesuffix(".__init__"): p
            for p in sorted(RUNTIME.rglob("*.py"))}


def _module_level_imports(path: Path, package: str, modules: Iterable[str]) -> set[str]:
    """The modules `path` imports when it is imported: statements at the top level (inside if/try too),
    not in functions, not under TYPE_CHECKING. `from pkg import mod` depends on pkg.mod, not on pkg."""
    known, out = set(modules), set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                visit(node.orelse if "TYPE_CHECKING" in ast.unparse(node.test) else [*node.body, *node.orelse])
            elif isinstance(node, ast.Try):
                visit([*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)])
            elif isinstance(node, ast.ImportFrom):
                parts = package.split(".")
                base = (".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                        if node.level else node.module or "")
                submodules = {f"{base}.{alias.name}" for alias in node.names} & known
                out.update(submodules)
                if len(submodules) < len(node.names):
                    out.add(base)
            elif isinstance(node, ast.Import):
                out.update(alias.name for alias in node.names)

    visit(ast.parse(path.read_text(), str(path)).body)
    return out & known


def _module_level_graph() -> dict[str, set[str]]:
    files = _module_files()
    return {module: _module_level_imports(path, module if path.name == "__init__.py" else module.rpartition(".")[0],
                                          files) - {module}
            for module, path in files.items()}


def _cycle_path(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One concrete cycle inside a strongly connected component: [a, b, ..., a]."""
    start = min(component)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for dep in sorted(graph[node] & component):
            if dep == start:
                return [*paths[node], start]
            if dep not in paths:
                paths[dep] = [*paths[node], dep]
                todo.append(dep)
    raise AssertionError(f"{sorted(component)} is not a cycle")


def test_no_module_of_oneapi_mcp_imports_itself_back_at_import_time():
    graph = _module_level_graph()
    cycles = [" -> ".join(_cycle_path(graph, c)) for c in _cycles(graph)]
    assert not cycles, "module-level import cycles in oneapi_mcp/:\n" + "\n".join(cycles)


def test_the_module_level_cycle_check_finds_a_cycle_and_names_it(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom typing import TYPE_CHECKING\nfrom . import b, helper_name\n"
                      "if TYPE_CHECKING:\n    from . import c\ntry:\n    from .d import x\nexcept ImportError:\n"
                      "    pass\ndef f():\n    from . import e\n")
    modules = ["p.a", "p.b", "p.c", "p.d", "p.e", "p"]
    assert _module_level_imports(source, "p", modules) == {"p.b", "p", "p.d"}  # helper_name: a name of p
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a", "p.d"}, "p.d": set()}
    (component,) = _cycles(graph)
    assert _cycle_path(graph, component) == ["p.a", "p.b", "p.c", "p.a"]

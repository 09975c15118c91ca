"""Packaging: every generated package is listed in pyproject, and public names are guarded."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_lists_every_package_directory_of_the_tree():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    mapping = cfg["package-dir"]
    found = set()
    for package, directory in mapping.items():
        for init in (ROOT / directory).rglob("__init__.py"):
            if "__pycache__" in init.parts or "templates" in init.parts:
                continue
            rel = init.parent.relative_to(ROOT / directory).parts
            found.add(".".join((package, *rel)))
    assert found == listed


def test_the_package_root_exports_exactly_its_public_names():
    import oneapi_mcp.codegen as codegen

    import oneapi_mcp

    assert sorted(oneapi_mcp.__all__) == ["Catalog", "ToolDef", "ToolsetDef", "__version__", "load_catalog"]
    for module in (oneapi_mcp, codegen):
        for name in module.__all__:
            assert hasattr(module, name), name

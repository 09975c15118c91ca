"""Every tool's definition is snapshotted under tests/__toolsnaps__/ (sorted-key JSON, one file per
tool). A missing, extra or changed snapshot fails, so renames and schema changes never slip
through unseen. `UPDATE_TOOLSNAPS=1` (or `make toolsnaps`) rewrites them (refused when CI is set).

Two views: the generator's (`<name>.json`, what `make generate`'s surface diff compares against)
and the client's (`listed/<name>.json`): exactly what tools/list returns to an MCP client for every
tool, generated, composite and discovery, with the control arguments, confirmation token and
annotation titles the server adds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import updating
from mcp import Client
from oneapi_mcp.codegen._surface import (
    diff_surfaces,
    dumps_snapshot,
    read_generated_surface,
    read_snapshots,
    write_snapshots,
)

ROOT = Path(__file__).resolve().parent.parent
SNAPS = ROOT / "tests" / "__toolsnaps__"
LISTED = SNAPS / "listed"


def test_generated_tools_match_their_snapshots():
    surface = read_generated_surface(ROOT / "generated")
    if updating("UPDATE_TOOLSNAPS"):
        write_snapshots(SNAPS, surface)
    diff = diff_surfaces(read_snapshots(SNAPS), surface)
    assert diff.empty, diff.render() + "\n(run `make toolsnaps` to accept the new surface)"


def test_snapshots_are_sorted_key_json_one_file_per_tool():
    from oneapi_mcp.codegen._surface import dumps_snapshot
    from oneapi_mcp.generated.services import SERVICES

    files = sorted(SNAPS.glob("*.json"))
    # one per operation of every service's spec (specs/SOURCES.md: the wheel's 1,291 + 4 kept on recorded
    # evidence, and the services converted from the SDK's source, REST and GraphQL)
    assert len(files) == sum(row.operations for row in SERVICES.values()) >= 1295 + 173 + 34
    snaps = read_snapshots(SNAPS)
    for path in files:
        assert path.read_text() == dumps_snapshot(snaps[path.stem])
        assert snaps[path.stem]["name"] == path.stem


def _composite_surface() -> dict[str, dict]:
    """Every built-in composite tool as an admin server lists it (the widest surface)."""
    from oneapi_mcp._server import Runtime, ToolSurface
    from oneapi_mcp._settings import ServerSettings

    surface = ToolSurface(Runtime(settings=ServerSettings(profile="admin"), executor_factory=lambda catalog: None))
    out = {}
    for name, tool in surface.composites.items():
        listed = surface.mcp_tool(name)
        out[name] = {"name": name, "title": listed.title, "description": listed.description, "scope": tool.scope,
                     "toolset": tool.toolset, "operations": sorted(tool.operations),
                     "annotations": dict(tool.annotations), "inputSchema": listed.input_schema}
    return out


def test_composite_tools_match_their_snapshots():
    snaps = SNAPS / "composite"
    surface = _composite_surface()
    if updating("UPDATE_TOOLSNAPS"):
        write_snapshots(snaps, surface)
    old = read_snapshots(snaps)
    problems = [f"new composite tool {n}" for n in sorted(set(surface) - set(old))]
    problems += [f"composite tool {n} is gone" for n in sorted(set(old) - set(surface))]
    problems += [f"composite tool {n} changed: " + ", ".join(k for k in surface[n] if surface[n][k] != old[n].get(k))
                 for n in sorted(set(surface) & set(old)) if surface[n] != old[n]]
    assert not problems, "\n".join(problems) + "\n(run `make toolsnaps` to accept the new surface)"


async def _listed(tools_mode: str) -> dict[str, dict]:
    """tools/list as an MCP client receives it (every page) from the server `oneapi-mcp serve --profile
    admin --tools-mode <mode>` builds with no ONEAPI_MCP_*/ZSCALER_*/ZPA_* variable set."""
    from oneapi_mcp._server import build_server
    from oneapi_mcp._settings import Credentials, load_servers
    from oneapi_mcp.cli import make_runtime

    settings = load_servers(None, profile="admin", tools_mode=tools_mode)["default"]
    server = build_server(make_runtime(settings, Credentials()))
    listed: dict[str, dict] = {}
    async with Client(server, cache=None) as client:
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                assert tool.name not in listed, f"{tool.name} listed twice"
                listed[tool.name] = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
            cursor = page.next_cursor
            if not cursor:
                return listed


@pytest.fixture
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_")):
            monkeypatch.delenv(key)


@pytest.mark.anyio
async def test_every_tool_as_tools_list_returns_it_matches_its_listed_snapshot(clean_environment):
    # full mode lists every generated and composite tool; discovery mode adds the four discovery tools
    surface = await _listed("full")
    surface.update(await _listed("discovery"))
    assert len(surface) > 1295 + 4, "the admin surface should list every generated, composite and discovery tool"
    if updating("UPDATE_TOOLSNAPS"):
        write_snapshots(LISTED, surface)
    old = {p.stem: p.read_text() for p in sorted(LISTED.glob("*.json"))}
    problems = [f"new tool {n} (no listed snapshot)" for n in sorted(set(surface) - set(old))]
    problems += [f"tool {n} is no longer listed" for n in sorted(set(old) - set(surface))]
    problems += [f"tool {n}: its listed definition changed" for n in sorted(set(surface) & set(old))
                 if dumps_snapshot(surface[n]) != old[n]]
    shown = problems[:40] + ([f"... and {len(problems) - 40} more"] if len(problems) > 40 else [])
    assert not problems, "\n".join(shown) + "\n(run `make toolsnaps` to accept the new surface; review " \
        "`git diff tests/__toolsnaps__/listed`)"


@pytest.mark.parametrize("variable", ["UPDATE_TOOLSNAPS", "UPDATE_GOLDEN"])
def test_an_update_variable_is_refused_with_its_name_when_ci_is_set(monkeypatch, variable):
    from conftest import UPDATE_VARIABLES, refuse_updates_in_ci

    for other in UPDATE_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(variable, "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.UsageError, match=f"{variable} set with CI=true: CI checks expected files"):
        refuse_updates_in_ci()
    monkeypatch.delenv("CI")
    refuse_updates_in_ci()  # locally the same variable rewrites the files


def test_every_update_variable_the_repo_uses_is_one_ci_refuses():
    import re

    from conftest import UPDATE_VARIABLES

    used = set()  # VAR=1 on a command line, or a test asking ...("VAR")
    for path in [ROOT / "Makefile", ROOT / "README.md", *sorted((ROOT / "tests").glob("*.py"))]:
        used |= set(re.findall(r"\b(UPDATE_[A-Z_]+)=[^\s=]", text := path.read_text()))
        used |= set(re.findall(r"\(\"(UPDATE_[A-Z_]+)\"\)", text))
    assert "UPDATE_TOOLSNAPS" in used and used <= set(UPDATE_VARIABLES), sorted(used - set(UPDATE_VARIABLES))

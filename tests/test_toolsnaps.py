"""Every tool's definition is snapshotted under tests/__toolsnaps__/ (sorted-key JSON, one file per
tool). A missing, extra or changed snapshot fails, so renames and schema changes never slip
through unseen. `UPDATE_TOOLSNAPS=1` (or `make toolsnaps`) rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

from oneapi_mcp.codegen._surface import diff_surfaces, read_generated_surface, read_snapshots, write_snapshots

ROOT = Path(__file__).resolve().parent.parent
SNAPS = ROOT / "tests" / "__toolsnaps__"


def test_generated_tools_match_their_snapshots():
    surface = read_generated_surface(ROOT / "generated")
    if os.environ.get("UPDATE_TOOLSNAPS"):
        write_snapshots(SNAPS, surface)
    diff = diff_surfaces(read_snapshots(SNAPS), surface)
    assert diff.empty, diff.render() + "\n(run `make toolsnaps` to accept the new surface)"


def test_snapshots_are_sorted_key_json_one_file_per_tool():
    from oneapi_mcp.codegen._surface import dumps_snapshot
    from oneapi_mcp.generated.services import SERVICES

    files = sorted(SNAPS.glob("*.json"))
    # one per operation of every service's spec (specs/SOURCES.md: the wheel's 1,291 + 4 kept on recorded
    # evidence, and the services converted from the SDK's source)
    assert len(files) == sum(row.operations for row in SERVICES.values()) >= 1295 + 173
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
    if os.environ.get("UPDATE_TOOLSNAPS"):
        write_snapshots(snaps, surface)
    old = read_snapshots(snaps)
    problems = [f"new composite tool {n}" for n in sorted(set(surface) - set(old))]
    problems += [f"composite tool {n} is gone" for n in sorted(set(old) - set(surface))]
    problems += [f"composite tool {n} changed: " + ", ".join(k for k in surface[n] if surface[n][k] != old[n].get(k))
                 for n in sorted(set(surface) & set(old)) if surface[n] != old[n]]
    assert not problems, "\n".join(problems) + "\n(run `make toolsnaps` to accept the new surface)"

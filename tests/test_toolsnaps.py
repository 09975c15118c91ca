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

    files = sorted(SNAPS.glob("*.json"))
    assert len(files) == 1147
    snaps = read_snapshots(SNAPS)
    for path in files:
        assert path.read_text() == dumps_snapshot(snaps[path.stem])
        assert snaps[path.stem]["name"] == path.stem

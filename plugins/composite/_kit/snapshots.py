"""A way back: what a composite tool changed, stored when it applies, for the reverse tools.

When a forward tool (block domains, isolate an account, block IPs, enhanced scanning) applies its
plan, `record_run` stores one snapshot per run in a SQLite file in the server's data directory:
each step that took effect, with the call that reverses it (the previous values of what it updated,
the id of what it created) as the step's own `undo` computed it. The run id goes back in the tool's
result (`run_id`); a reverse tool takes it, or finds the latest run of the same tool for the same
target (`targets`), and plans from the tenant's current state.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import Ref, tool_result

if TYPE_CHECKING:
    import mcp_types as t

    from oneapi_mcp.plugin_api import Workflow

__all__ = ["SnapshotStore", "record_run", "snapshot_store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    target TEXT NOT NULL,            -- canonical: an email, sorted domains or addresses, "tenant"
    created_at REAL NOT NULL,
    changes TEXT NOT NULL,           -- JSON list: operation, arguments, created_id, undo {operation, arguments}
    reversed_by TEXT,                -- the reverse tool that last applied from this run
    reversed_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (tool, target, created_at);
"""


class SnapshotStore:
    """One SQLite file of forward runs' snapshots; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        if not self.path.exists():  # previous values of tenant settings: owner only
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def add(self, tool: str, target: str, changes: list[dict[str, Any]], now: float | None = None) -> str:
        run_id = "run_" + secrets.token_hex(8)
        with self._lock:
            self._db.execute("INSERT INTO runs (id, tool, target, created_at, changes) VALUES (?, ?, ?, ?, ?)",
                             (run_id, tool, target, time.time() if now is None else now,
                              json.dumps(changes, sort_keys=True, default=str)))
        return run_id

    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row)

    def latest(self, tools: tuple[str, ...], target: str) -> dict[str, Any] | None:
        """The newest run of any of `tools` for `target`."""
        marks = ", ".join("?" * len(tools))
        with self._lock:
            row = self._db.execute(f"SELECT * FROM runs WHERE tool IN ({marks}) AND target = ? "
                                   "ORDER BY created_at DESC, rowid DESC LIMIT 1", (*tools, target)).fetchone()
        return _run(row)

    def mark_reversed(self, run_id: str, by: str, now: float | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET reversed_by = ?, reversed_at = ? WHERE id = ?",
                             (by, time.time() if now is None else now, run_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _run(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**dict(row), "changes": json.loads(row["changes"])}


_stores: dict[Path, SnapshotStore] = {}
_stores_lock = threading.Lock()


def snapshot_store(settings: Any) -> SnapshotStore:
    """The named server's snapshot store (one per file in this process), in its data directory."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in settings.name)
    path = settings.state_dir() / f"snapshots-{safe}.sqlite3"  # per name: data_dir may be shared
    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = SnapshotStore(path)
        return store


def _plain(value: Any) -> Any:
    """`value` with each Ref replaced by what its step returned (the id of the object it created)."""
    if isinstance(value, Ref):
        return value.step.result.get(value.key) if isinstance(value.step.result, dict) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def record_run(wf: Workflow, result: t.CallToolResult, target: str) -> t.CallToolResult:
    """Store what an applied run changed (steps in effect, each with its reverse call) and add its
    `run_id` to the result; a dry run, or a run that changed nothing, is returned as it is."""
    if wf.dry_run or not isinstance(result.structured_content, dict):
        return result
    changes = []
    for step in wf.steps:
        if step.status != "done":
            continue
        entry: dict[str, Any] = {"operation": step.operation, "why": step.why, "arguments": _plain(step.arguments)}
        if isinstance(step.result, dict) and step.result.get("id") is not None:
            entry["created_id"] = step.result["id"]
        reverse = step.undo(step.result) if step.undo is not None else None
        if reverse is not None:
            operation, arguments, why = reverse
            entry["undo"] = {"operation": operation, "arguments": _plain(arguments), "why": why}
        elif step.manual:
            entry["manual"] = step.manual
        changes.append(entry)
    if not changes:
        return result
    try:
        run_id = snapshot_store(wf.ctx.settings).add(wf.tool, target, changes)
    except (OSError, sqlite3.Error) as exc:  # the change is made: say the way back is not stored, never hide it
        data = {**result.structured_content, "snapshot_error": f"what this run changed could not be stored for the "
                f"reverse tools ({type(exc).__name__}: {exc}); the steps above say what to reverse by hand"}
        return tool_result(data, is_error=bool(result.is_error))
    data = {**result.structured_content, "run_id": run_id}
    return tool_result(data, is_error=bool(result.is_error))

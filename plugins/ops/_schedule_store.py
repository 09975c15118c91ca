"""The durable store of scheduled changes: one SQLite file (WAL) per named server, in its data directory.

A change moves through these states, each move one transaction that also appends to `history`:

    pending --claim--> running --finish--> done | failed
    pending --cancel--> cancelled
    pending --(found too late: the server was down past the lateness window)--> missed
    running --(its process stopped or died: no heartbeat for the claim timeout)--> interrupted:
        a composite tool (idempotent: it looks before it writes) goes back to pending and runs again;
        anything else becomes failed, because running one upstream write twice is not safe to assume.

Claims are a single `UPDATE ... WHERE id = ? AND status = 'pending'`, so two replicas sharing the file,
or a process restarted while another still runs, never run one change twice. Every method takes `now`
(epoch seconds) from the caller, so the rules are tested with a fake clock.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MAX_ATTEMPTS", "STATUSES", "SCHEMA_VERSION", "ScheduleStore", "StateError", "due_action"]

STATUSES = ("pending", "running", "done", "failed", "cancelled", "missed")
MAX_ATTEMPTS = 3  # runs of one interrupted composite change before it is given up as failed

# Each entry upgrades the schema by one version (PRAGMA user_version); append, never edit.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE changes (
        id TEXT PRIMARY KEY,
        tool TEXT NOT NULL,
        kind TEXT NOT NULL,              -- generated | composite
        scope TEXT NOT NULL,             -- the target's scope when scheduled
        arguments TEXT NOT NULL,         -- JSON, exactly as the run passes them
        arguments_sha256 TEXT NOT NULL,
        run_at REAL NOT NULL,            -- epoch seconds
        requested TEXT NOT NULL,         -- the time as given
        time_zone TEXT,                  -- the IANA zone given with it, if any
        note TEXT,
        created_at REAL NOT NULL,
        created_by TEXT,
        confirmed TEXT,                  -- how a destructive target was confirmed when scheduled
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT,
        claimed_at REAL,                 -- refreshed by the runner's heartbeat while it runs
        started_at REAL,
        finished_at REAL,
        result TEXT,                     -- JSON summary of the run's result
        error TEXT
    );
    CREATE INDEX changes_by_status ON changes (status, run_at);
    CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id TEXT NOT NULL REFERENCES changes (id),
        at REAL NOT NULL,
        event TEXT NOT NULL,
        actor TEXT,
        detail TEXT
    );
    CREATE INDEX history_by_change ON history (change_id, seq);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


class StateError(Exception):
    """The change is not in a state that allows this (`status` says which it is in)."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


def due_action(run_at: float, now: float, lateness: float) -> str:
    """What the runner does with a pending change now: "wait", "run", or "miss" (later than `lateness`)."""
    if run_at > now:
        return "wait"
    return "miss" if now - run_at > lateness else "run"


class ScheduleStore:
    """One SQLite file of scheduled changes and their history; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        if not self.path.exists():  # arguments may hold what the target needs (a new password): owner only
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a scheduled or claimed change survives a power cut
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path}: schedule store schema version {version} was written by a newer "
                                   f"oneapi-mcp (this one knows up to {SCHEMA_VERSION})")
            while version < SCHEMA_VERSION:
                # statement by statement (executescript would commit the open transaction first), with the
                # version read again under the write lock: another process may have just migrated
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    version = self._db.execute("PRAGMA user_version").fetchone()[0]
                    if version < SCHEMA_VERSION:
                        for statement in _MIGRATIONS[version].split(";"):
                            if statement.strip():
                                self._db.execute(statement)
                        version += 1
                        self._db.execute(f"PRAGMA user_version = {version}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    # -- one transaction, with its history lines --------------------------------------------------
    def _write(self, work) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = work(self._db)
                self._db.execute("COMMIT")
                return out
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _event(db: sqlite3.Connection, change_id: str, now: float, event: str, actor: str | None,
               detail: dict[str, Any] | None = None) -> None:
        db.execute("INSERT INTO history (change_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
                   (change_id, now, event, actor, json.dumps(detail, default=str) if detail else None))

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, tuple(params)).fetchall()]

    # -- scheduling and cancelling ----------------------------------------------------------------
    def add(self, *, tool: str, kind: str, scope: str, arguments: dict[str, Any], arguments_sha256: str,
            run_at: float, requested: str, time_zone: str | None, note: str | None, now: float,
            actor: str | None, confirmed: str | None = None) -> dict[str, Any]:
        change_id = "chg_" + secrets.token_hex(6)

        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO changes (id, tool, kind, scope, arguments, arguments_sha256, run_at, requested, "
                       "time_zone, note, created_at, created_by, confirmed) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (change_id, tool, kind, scope, json.dumps(arguments, sort_keys=True), arguments_sha256, run_at,
                        requested, time_zone, note, now, actor, confirmed))
            self._event(db, change_id, now, "scheduled", actor, {"tool": tool, "run_at": run_at,
                                                                 "confirmed": confirmed})

        self._write(work)
        return self.get(change_id)  # type: ignore[return-value]

    def find_pending(self, tool: str, arguments_sha256: str, run_at: float) -> dict[str, Any] | None:
        """The pending change that would run the same tool with the same arguments at the same time."""
        rows = self._read("SELECT * FROM changes WHERE status = 'pending' AND tool = ? AND arguments_sha256 = ? "
                          "AND run_at = ? ORDER BY created_at LIMIT 1", (tool, arguments_sha256, run_at))
        return rows[0] if rows else None

    def cancel(self, change_id: str, now: float, actor: str | None) -> tuple[dict[str, Any], bool]:
        """Cancel a pending change: (the change, True), or (it, False) when it was cancelled already.
        Raises KeyError for an unknown id and StateError for any other state."""
        def work(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT status FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                raise KeyError(change_id)
            if row["status"] == "cancelled":
                return False
            if row["status"] != "pending":
                raise StateError(f"scheduled change {change_id} cannot be cancelled: it is {row['status']}",
                                 row["status"])
            db.execute("UPDATE changes SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'pending'",
                       (now, change_id))
            self._event(db, change_id, now, "cancelled", actor)
            return True

        changed = self._write(work)
        return self.get(change_id), changed  # type: ignore[return-value]

    # -- reading ----------------------------------------------------------------------------------
    def get(self, change_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM changes WHERE id = ?", (change_id,))
        return rows[0] if rows else None

    def list(self, statuses: Iterable[str] = (), limit: int = 50) -> list[dict[str, Any]]:
        """Changes, the next to run first, then the most recent of the rest."""
        wanted = [s for s in statuses if s in STATUSES] or list(STATUSES)
        marks = ", ".join("?" for _ in wanted)
        return self._read(f"SELECT * FROM changes WHERE status IN ({marks}) ORDER BY "
                          "CASE status WHEN 'running' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, "
                          "CASE WHEN status IN ('running', 'pending') THEN run_at ELSE -COALESCE(finished_at, run_at) "
                          "END, created_at LIMIT ?", [*wanted, limit])

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) AS n FROM changes GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def history(self, change_id: str) -> list[dict[str, Any]]:
        rows = self._read("SELECT at, event, actor, detail FROM history WHERE change_id = ? ORDER BY seq", (change_id,))
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        return rows

    def due(self, now: float) -> list[dict[str, Any]]:
        """Pending changes whose time has come, in the order they were meant to run."""
        return self._read("SELECT * FROM changes WHERE status = 'pending' AND run_at <= ? ORDER BY run_at, created_at",
                          (now,))

    def next_run_at(self) -> float | None:
        rows = self._read("SELECT MIN(run_at) AS t FROM changes WHERE status = 'pending'")
        return rows[0]["t"] if rows else None

    # -- running ----------------------------------------------------------------------------------
    def claim(self, change_id: str, owner: str, now: float) -> bool:
        """Take a pending change to run it; False when someone else took it (or it was cancelled) first."""
        def work(db: sqlite3.Connection) -> bool:
            taken = db.execute("UPDATE changes SET status = 'running', claimed_by = ?, claimed_at = ?, started_at = ?, "
                               "attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
                               (owner, now, now, change_id)).rowcount == 1
            if taken:
                self._event(db, change_id, now, "started", owner)
            return taken

        return self._write(work)

    def heartbeat(self, change_id: str, owner: str, now: float) -> bool:
        with self._lock:
            return self._db.execute("UPDATE changes SET claimed_at = ? WHERE id = ? AND status = 'running' AND "
                                    "claimed_by = ?", (now, change_id, owner)).rowcount == 1

    def finish(self, change_id: str, owner: str, status: str, now: float, result: dict[str, Any] | None,
               error: str | None = None) -> bool:
        """Record the run's outcome (done or failed); False when the claim was lost meanwhile."""
        if status not in ("done", "failed"):
            raise ValueError("a run finishes done or failed")

        def work(db: sqlite3.Connection) -> bool:
            ok = db.execute("UPDATE changes SET status = ?, finished_at = ?, result = ?, error = ? WHERE id = ? AND "
                            "status = 'running' AND claimed_by = ?",
                            (status, now, json.dumps(result, default=str) if result is not None else None, error,
                             change_id, owner)).rowcount == 1
            if ok:
                self._event(db, change_id, now, status, owner, {"error": error} if error else None)
            return ok

        return self._write(work)

    def mark_missed(self, change_id: str, now: float, actor: str, lateness: float) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT run_at, error FROM changes WHERE id = ? AND status = 'pending'",
                             (change_id,)).fetchone()
            if row is None:
                return False
            why = (f"not run: found {now - row['run_at']:.0f} s after its time, later than the "
                   f"{lateness:g} s lateness window (the server was not running)")
            error = f"{row['error']}; then {why}" if row["error"] else why
            db.execute("UPDATE changes SET status = 'missed', finished_at = ?, error = ? WHERE id = ?",
                       (now, error, change_id))
            self._event(db, change_id, now, "missed", actor, {"late_seconds": round(now - row["run_at"], 1)})
            return True

        return self._write(work)

    def interrupt(self, change_id: str, now: float, actor: str, reason: str, *, owner: str | None = None,
                  stale_before: float | None = None) -> str | None:
        """A running change whose run did not finish: back to pending for a composite tool (at most
        MAX_ATTEMPTS runs), else failed. Only when still claimed by `owner`, or its claim is older than
        `stale_before`. Returns the new status, or None when it no longer applied."""
        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT * FROM changes WHERE id = ? AND status = 'running'", (change_id,)).fetchone()
            if row is None or (owner is not None and row["claimed_by"] != owner) or (
                    stale_before is not None and row["claimed_at"] >= stale_before):
                return None
            where = f"interrupted while running on {row['claimed_by']} ({reason})"
            if row["kind"] == "composite" and row["attempts"] < MAX_ATTEMPTS:
                status, error = "pending", f"{where}; run again: composite tools look before they write"
                db.execute("UPDATE changes SET status = 'pending', claimed_by = NULL, claimed_at = NULL, error = ? "
                           "WHERE id = ?", (error, change_id))
            else:
                status = "failed"
                error = (f"{where}; not run again: {row['tool']} may or may not have reached the tenant, check it "
                         "and schedule it again if needed" if row["kind"] != "composite"
                         else f"{where}; gave up after {row['attempts']} runs")
                db.execute("UPDATE changes SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                           (now, error, change_id))
            self._event(db, change_id, now, "interrupted", actor, {"then": status, "reason": reason,
                                                                   "claimed_by": row["claimed_by"]})
            return status

        return self._write(work)

    def stale(self, before: float) -> list[dict[str, Any]]:
        """Running changes whose claim has not been refreshed since `before`."""
        return self._read("SELECT * FROM changes WHERE status = 'running' AND claimed_at < ?", (before,))

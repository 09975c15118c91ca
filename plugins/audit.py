"""Built-in plugin: the audit log, one JSON line per tool call (when `audit_log` is set).

Each record: time, server, client identity, tool (and `via` invoke_operation), scope, the redacted
arguments and the sha256 of their canonical JSON (taken after redaction, so nothing derived from a
secret reaches the log; a guess at a weak secret cannot be checked against it), the upstream requests
(method, path without query, status), duration, outcome and error kind. Written, flushed and
fsynced per record to a file created with mode 0600, rotated by size (`audit_max_bytes`,
`audit_backups`). Secret-named keys and every registered secret value are redacted.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oneapi_mcp._redact import redact, scrub

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from oneapi_mcp._hooktypes import ToolCall
    from oneapi_mcp._server import Runtime
    from oneapi_mcp._settings import ServerSettings

_logs: dict[Path, AuditLog] = {}
_logs_lock = threading.Lock()


class AuditLog:
    """An append-only JSON-lines file: one fsynced write per record, rotated by size."""

    def __init__(self, path: Path, max_bytes: int = 10_000_000, backups: int = 5):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":"), sort_keys=True, default=str, ensure_ascii=False)
                + "\n").encode()
        with self._lock:
            fd = self._open()
            if self.max_bytes and os.fstat(fd).st_size + len(line) > self.max_bytes and os.fstat(fd).st_size:
                self._rotate()
                fd = self._open()
            os.write(fd, line)  # unbuffered: the write is the flush
            os.fsync(fd)

    def _rotate(self) -> None:
        self.close()
        if self.backups <= 0:
            self.path.unlink(missing_ok=True)
            return
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def audit_log_for(settings: ServerSettings) -> AuditLog | None:
    """The shared writer of the server's audit file (one per path in this process), or None."""
    if settings.audit_log is None:
        return None
    path = Path(settings.audit_log).expanduser().resolve()
    with _logs_lock:
        if path not in _logs:
            _logs[path] = AuditLog(path, settings.audit_max_bytes, settings.audit_backups)
        return _logs[path]


def arguments_digest(arguments: dict[str, Any]) -> str:
    args = {k: v for k, v in arguments.items() if k != "confirm_token"}
    return hashlib.sha256(json.dumps(args, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@hookimpl(wrapper=True, tryfirst=True)
def oneapi_mcp_tool_call(call: ToolCall):
    proceed = yield
    log = audit_log_for(call.server)
    if log is None:
        return proceed
    arguments = dict(call.arguments)  # before any wrapper inside consumes confirm_token

    async def audited():
        result = None
        try:
            result = await proceed()
            return result
        finally:
            log.write(record(call, arguments, result))

    return audited


def record(call: ToolCall, arguments: dict[str, Any], result: Any) -> dict[str, Any]:
    error = None
    if result is None:
        outcome = "exception"
    elif getattr(result, "is_error", False):
        error = ((result.structured_content or {}).get("error") or {}).get("kind", "error")
        outcome = {"scope_denied": "denied", "confirmation_required": "confirmation_required",
                   "confirmation_invalid": "denied", "confirmation_declined": "declined"}.get(error, "error")
    else:
        outcome = "ok"
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "server": call.server.name,
        "client": call.client,
        "tool": call.name,
        "via": call.via,
        "scope": call.scope,
        "arguments": redact(arguments),
        "arguments_sha256": arguments_digest(redact(arguments)),
        "upstream": [{"method": u["method"], "path": scrub(u["path"]), "status": u["status"],
                      **({"error": u["error"]} if u.get("error") else {})} for u in call.upstream],
        "duration_ms": round((time.perf_counter() - call.started) * 1000, 1),
        "outcome": outcome,
    }
    if error:
        entry["error_kind"] = error
    if "confirmation" in call.extras:
        entry["confirmation"] = call.extras["confirmation"]
    return entry


@hookimpl
def oneapi_mcp_shutdown(settings: ServerSettings, runtime: Runtime) -> None:
    if settings.audit_log is None:
        return
    path = Path(settings.audit_log).expanduser().resolve()
    with _logs_lock:
        log = _logs.pop(path, None)
    if log is not None:
        log.close()

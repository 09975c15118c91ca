"""Built-in plugin: the audit log, JSON lines per tool call (when `audit_log` is set).

A call that changes the tenant gets two records with the same `call_id`: an intent record
(`"phase": "intent"`: who, what, arguments), written and fsynced just before its first write or
destructive upstream request (from `oneapi_mcp_before_request`, so whatever the tool: generated, or a
composite tool whatever scope it declares; and after the tool registered the secrets it was given,
so they are redacted), and the outcome record (`"phase": "outcome"`) after the call. A server killed
between the two leaves the intent alone: readers (`access-review`, the anomaly plugin) report such a
call as "outcome unknown" and count it as a use of the tool. Reads, refused calls and calls that
stopped before writing (a plan, a confirmation asked for) get the outcome record only.

Each record: time, call id, phase, server, client identity, tool (and `via` invoke_operation), scope, the redacted
arguments and the sha256 of their canonical JSON (taken after redaction, so nothing derived from a
secret reaches the log; a guess at a weak secret cannot be checked against it), the upstream requests
(method, path without query, status), duration, outcome and error kind. Written, flushed and
fsynced per record to a file created with mode 0600, rotated by size (`max_bytes`,
`backups` in `[servers.<name>.plugins.audit]`). Secret-named keys and every registered secret value are redacted.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import redact, scrub

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import Runtime, ServerSettings, ToolCall, ToolDef

    from .audit_settings import AuditSettings

__all__ = ["WRITE_SCOPES", "AuditLog", "arguments_digest", "audit_log_for", "call_arguments", "call_id",
           "intent_for", "intent_record", "record"]

WRITE_SCOPES = ("write", "destructive")
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


@hookimpl
def oneapi_mcp_server_event(settings: ServerSettings, event: dict[str, Any]) -> None:
    log = audit_log_for(settings)
    if log is None:
        return
    try:
        log.write(dict(event))
    except OSError as exc:
        logging.getLogger("oneapi_mcp.audit").error("cannot write the audit log of server '%s': %s", settings.name,
                                                    exc.strerror or exc)


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"audit": f"{__name__}_settings:AuditSettings"}  # by import path: defined when first validated


def audit_log_for(settings: ServerSettings) -> AuditLog | None:
    """The shared writer of the server's audit file (one per path in this process), or None."""
    if settings.audit_log is None:
        return None
    path = Path(settings.audit_log).expanduser().resolve()
    with _logs_lock:
        if path not in _logs:
            own: AuditSettings = settings.plugin_settings("audit")
            _logs[path] = AuditLog(path, own.max_bytes, own.backups)
        return _logs[path]


def arguments_digest(arguments: dict[str, Any]) -> str:
    args = {k: v for k, v in arguments.items() if k != "confirm_token"}
    return hashlib.sha256(json.dumps(args, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def call_id(call: ToolCall) -> str:
    """The id that ties a call's intent and outcome records (and its SIEM events) together."""
    return call.extras.setdefault("call_id", uuid.uuid4().hex)


def call_arguments(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as it came in (taken once, before a wrapper consumes confirm_token)."""
    return call.extras.setdefault("call_arguments", dict(call.arguments))


def intent_for(call: ToolCall | None, tool: ToolDef) -> dict[str, Any] | None:
    """The call's intent record when `tool` (the operation about to be sent) writes, else None; the
    same record for the audit log and the SIEM outbox."""
    if call is None or tool.scope not in WRITE_SCOPES:
        return None
    if "intent" not in call.extras:
        call.extras["intent"] = intent_record(call, call_arguments(call))
    return call.extras["intent"]


@hookimpl(wrapper=True, tryfirst=True)
def oneapi_mcp_tool_call(call: ToolCall):
    proceed = yield
    if call.parent is not None:  # a composite's operation: its composite's call is the one audited, confirmed, fenced
        return proceed
    log = audit_log_for(call.server)
    listeners = _listeners(call)
    if log is None and listeners is None:
        return proceed
    arguments = call_arguments(call)

    async def audited():
        result = None
        try:
            result = await proceed()
            return result
        finally:
            entry = record(call, arguments, result)
            if log is not None:
                log.write(entry)
            if listeners is not None:
                await _hand_over(listeners, call, entry)

    return audited


@hookimpl
def oneapi_mcp_before_request(call: ToolCall | None, tool: ToolDef, request: Any) -> None:
    """Before a call's first write request: its intent, fsynced (a server killed mid-call leaves it behind),
    then handed to the plugins (the SIEM export commits it to its outbox before the request is sent)."""
    intent = intent_for(call, tool)
    if intent is None or call.extras.get("audit_intent_written"):
        return
    call.extras["audit_intent_written"] = True
    log = audit_log_for(call.server)
    if log is not None:
        log.write(intent)
    listeners = _listeners(call)
    if listeners is not None:
        listeners.oneapi_mcp_audit_record(settings=call.server, record=intent, call=call)


def _listeners(call: ToolCall) -> Any:
    """The hook that hands records to other plugins (None outside a runtime)."""
    runtime = call.runtime
    return runtime.plugins.hook if runtime is not None else None


async def _hand_over(hook: Any, call: ToolCall, entry: dict[str, Any]) -> None:
    for outcome in hook.oneapi_mcp_audit_record(settings=call.server, record=entry, call=call):
        if inspect.isawaitable(outcome):
            try:
                await outcome
            except Exception as exc:  # a listener's failure must not cost the call its answer
                logging.getLogger("oneapi_mcp.audit").warning("a plugin failed on the audit record of %s: %s",
                                                              call.name, type(exc).__name__)


def _common(call: ToolCall, arguments: dict[str, Any], phase: str) -> dict[str, Any]:
    redacted = redact(arguments)
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "call_id": call_id(call),
        "phase": phase,
        "server": call.server.name,
        "client": call.client,
        "tool": call.name,
        "via": call.via,
        "scope": call.scope,
        "arguments": redacted,
        "arguments_sha256": arguments_digest(redacted),
    }


def intent_record(call: ToolCall, arguments: dict[str, Any]) -> dict[str, Any]:
    """The record written before a call's first write request: who asks for what, no outcome yet."""
    return _common(call, arguments, "intent")


def record(call: ToolCall, arguments: dict[str, Any], result: Any) -> dict[str, Any]:
    """The outcome record of a finished call (`result` None: it raised)."""
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
        **_common(call, arguments, "outcome"),
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

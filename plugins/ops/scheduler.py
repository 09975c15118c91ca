"""Built-in plugin: schedule a change for later, run by the server itself.

`policy_schedule_change` checks everything it can now (the tool is allowed on this server and changes
something, its arguments are valid, the time is in the future and its time zone exists) and keeps the
change in a SQLite file in the server's data directory (`_schedule_store`). A background task in the
running server sleeps until the next change is due (a new schedule wakes it), claims it atomically and
runs it with `Runtime.call_tool(..., client="scheduler/<id>")`, so the server's filters, confirmation,
audit log and hooks apply exactly as to a person's call. Changes due while the server was down run at
start-up when they are at most `lateness` seconds late ([servers.<name>.plugins.scheduler]), else
they are marked missed.

Destructive targets. Nobody is there when a scheduled change runs, so the confirmation a direct call
would need is asked when the change is scheduled: `policy_schedule_change` with dry_run=false and a destructive
target asks for a person's yes through the `oneapi_mcp_confirm_destructive` hook (the scopes plugin:
MCP elicitation, else a single-use confirm_token bound to these exact arguments); with no plugin to
answer it, scheduling is refused. The store records how it was confirmed; at run time the scheduler
answers the scopes plugin's token request for such a change only (the audit log shows both calls).

Outcomes. A scheduled change finishes `done` only when what it changed is live: a composite tool's
own outcome says so (see `_outcome`), and a raw ZIA/ZTW write, which would otherwise stay staged for
nobody to activate, is activated right after it runs and verified (status ACTIVE), with other admins'
edits that were already pending named. When the activation fails the change is `failed` with the
outcome `staged_not_active` and the operator actions that say what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    ACTIVATE,
    Activation,
    CompositeTool,
    Refusal,
    Table,
    check_arguments,
    redact,
    refusal_result,
    report_result,
    scrub,
    tool_error,
    tool_result,
)

from ..hookspecs import hookimpl
from ._schedule_store import STATUSES, ScheduleStore, StateError, due_action

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from oneapi_mcp.plugin_api import CompositeContext, Runtime, ServerSettings

    from .scheduler_settings import SchedulerSettings

__all__ = ["TOOLS", "Runner", "When", "resolve_time", "store_for"]

_log = logging.getLogger("oneapi_mcp.scheduler")
_clock = time.time  # tests replace it
GRACE_SECONDS = 5.0  # a time this close behind "now" still counts (the request took a moment): it runs at once
MAX_AHEAD = timedelta(days=366)
_OWN_TOOLS = ("policy_schedule_change", "policy_list_scheduled_changes", "policy_cancel_scheduled_change")
_TRANSIENT = ("upstream", "timeout", "unreachable", "rate_limited", "auth", "plugin_error")  # not the input's fault
_STOP_GRACE = 10.0  # seconds a stopping server waits for a change that is running to finish


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"scheduler": f"{__name__}_settings:SchedulerSettings"}  # by import path: defined when first validated


def _own(settings: ServerSettings) -> SchedulerSettings:
    return settings.plugin_settings("scheduler")


# -- when ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class When:
    """A resolved run time: the instant (UTC), the zone it was given in, and notes about it."""

    at: datetime
    time_zone: str | None
    notes: tuple[str, ...] = ()

    @property
    def timestamp(self) -> float:
        return self.at.timestamp()


def resolve_time(text: str, time_zone: str | None, now: datetime) -> When:
    """`text` is ISO 8601 with an offset, or a local date and time plus an IANA `time_zone`.
    Raises `Refusal` for a malformed or past time (beyond a few seconds' grace), an unknown zone,
    a local time that does not exist there, or a time more than a year ahead."""
    text = str(text).strip()
    example = "e.g. 2025-07-01T22:00:00+02:00, or 2025-07-01T22:00 with time_zone Europe/Berlin"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Refusal(f"run_at {text!r} is not an ISO 8601 date and time ({example})", "invalid_time") from None
    if "T" not in text.upper() and " " not in text:
        raise Refusal(f"run_at {text!r} is a date without a time of day ({example})", "invalid_time")
    zone = _zone(time_zone) if time_zone is not None else None
    notes: list[str] = []
    if parsed.tzinfo is None:
        if zone is None:
            raise Refusal(f"run_at {text!r} has no UTC offset: add one (+02:00, or Z for UTC) or give time_zone, an "
                          "IANA name such as Europe/Berlin", "invalid_time")
        at = _localize(parsed, zone, str(time_zone), notes)
    else:
        at = parsed
        if zone is not None and parsed.utcoffset() != parsed.astimezone(zone).utcoffset():
            raise Refusal(f"run_at {text!r} says offset {_offset(parsed)} but {time_zone} is at "
                          f"{_offset(parsed.astimezone(zone))} then: give the offset or time_zone, not both",
                          "invalid_time")
    at = at.astimezone(UTC)
    if at < now - timedelta(seconds=GRACE_SECONDS):
        raise Refusal(f"run_at {text!r} ({iso(at.timestamp())}) is in the past: it is now {iso(now.timestamp())}",
                      "time_in_past", run_at=iso(at.timestamp()), now=iso(now.timestamp()))
    if at > now + MAX_AHEAD:
        raise Refusal(f"run_at {text!r} is more than a year ahead; schedule it nearer the time", "invalid_time")
    return When(at, time_zone, tuple(notes))


@cache
def _known_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo

    known = _known_zones()
    problem = f"unknown time zone {name!r}: give an IANA name such as Europe/Berlin, America/New_York or UTC"
    if not isinstance(name, str) or (known and name not in known):
        raise Refusal(problem, "invalid_time_zone", time_zone=name)
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise Refusal(problem, "invalid_time_zone", time_zone=name) from None


def _localize(naive: datetime, zone: ZoneInfo, name: str, notes: list[str]) -> datetime:
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise Refusal(f"{naive.isoformat(timespec='minutes')} does not exist in {name}: the clocks skip it (daylight "
                      "saving time starts); pick another time", "invalid_time")
    if first.utcoffset() != second.utcoffset():
        notes.append(f"{naive.isoformat(timespec='minutes')} happens twice in {name} (daylight saving time ends); "
                     f"the first, at offset {_offset(first)}, is used")
    return first


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}" if text else "?"


def local_time(timestamp: float, time_zone: str | None, requested: str) -> str:
    """The run time as the person gave it: in their time zone, else at the offset they wrote."""
    if time_zone:
        return iso(timestamp, time_zone)  # type: ignore[return-value]
    try:
        offset = datetime.fromisoformat(requested).tzinfo
    except ValueError:
        offset = None
    moment = datetime.fromtimestamp(timestamp, offset or UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def iso(timestamp: float | None, time_zone: str | None = None) -> str | None:
    """An epoch time as ISO 8601: in UTC (…Z), or in `time_zone` with its offset."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, UTC)
    if time_zone:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo(time_zone)).isoformat(timespec="seconds")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the store of a named server -----------------------------------------------------------------
_stores: dict[Path, ScheduleStore] = {}
_stores_lock = threading.Lock()


def _store_path(settings: ServerSettings, *, create: bool = True) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in settings.name)
    base = settings.state_dir() if create else settings.state_path()
    return base / f"schedules-{safe}.sqlite3"  # per name: data_dir may be shared


def store_for(settings: ServerSettings, *, create: bool = True) -> ScheduleStore | None:
    """The named server's schedule store (one per file in this process); None when it does not exist
    yet and `create` is false (nothing was ever scheduled)."""
    path = _store_path(settings, create=create)
    with _stores_lock:
        store = _stores.get(path)
        if store is None and (create or path.exists()):
            store = _stores[path] = ScheduleStore(path)
        return store


def _close_store(settings: ServerSettings) -> None:
    with _stores_lock:
        store = _stores.pop(_store_path(settings, create=False), None)
    if store is not None:
        store.close()


def arguments_sha256(tool: str, arguments: dict[str, Any]) -> str:
    text = json.dumps({"tool": tool, "arguments": arguments}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def view(row: dict[str, Any], history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A stored change as tools show it: times in ISO 8601, arguments with secrets redacted."""
    out: dict[str, Any] = {
        "id": row["id"], "status": row["status"], "tool": row["tool"], "kind": row["kind"], "scope": row["scope"],
        "arguments": redact(json.loads(row["arguments"])), "run_at": iso(row["run_at"]),
        "run_at_local": local_time(row["run_at"], row["time_zone"], row["requested"]),
        "time_zone": row["time_zone"], "note": row["note"], "created_at": iso(row["created_at"]),
        "created_by": row["created_by"], "confirmed": row["confirmed"], "attempts": row["attempts"],
        "claimed_by": row["claimed_by"], "started_at": iso(row["started_at"]), "finished_at": iso(row["finished_at"]),
        "result": redact(json.loads(row["result"])) if row["result"] else None, "error": row["error"]}
    if history is not None:
        out["history"] = [{**h, "at": iso(h["at"])} for h in history]
    return {k: v for k, v in out.items() if v is not None}


# -- policy_schedule_change ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # generated | composite
    scope: str
    tool: Any


def _target(runtime: Runtime, name: str) -> Target:
    from oneapi_mcp.plugin_api import DISCOVERY_TOOLS

    surface = runtime.surface
    if name in _OWN_TOOLS:
        raise Refusal(f"{name} cannot be scheduled; schedule the change itself", "invalid_arguments")
    if name in DISCOVERY_TOOLS:
        raise Refusal(f"{name} is a discovery tool; schedule the operation itself by its name (tool=...)",
                      "invalid_arguments")
    tool = surface.composites.get(name) or runtime.catalog.tools.get(name)
    if tool is None:
        raise Refusal(f"unknown tool {name!r}; find operations with search_operations", "unknown_tool", tool=name)
    if name in surface.hidden:
        raise Refusal(surface.hidden[name], "scope_denied", tool=name)
    if tool.scope == "read":
        raise Refusal(f"{name} only reads (scope read); policy_schedule_change schedules changes", "invalid_arguments",
                      tool=name)
    return Target(name, "composite" if name in surface.composites else "generated", tool.scope, tool)


def _target_arguments(target: Target, arguments: dict[str, Any]) -> dict[str, Any]:
    arguments = dict(arguments)
    if "confirm_token" in arguments:
        raise Refusal("leave confirm_token out of arguments: policy_schedule_change asks for the confirmation a "
                      "destructive tool needs itself", "invalid_arguments")
    if target.kind == "composite" and "dry_run" in target.tool.input_schema.get("properties", {}):
        if arguments.get("dry_run") is True:
            raise Refusal(f"a scheduled dry run of {target.name} would change nothing: leave dry_run out of "
                          "arguments (the scheduled run applies; policy_schedule_change's own dry_run shows the plan)",
                          "invalid_arguments")
        arguments["dry_run"] = False
    return arguments


def _validate(ctx: CompositeContext, target: Target, arguments: dict[str, Any]) -> dict[str, Any]:
    """The target's arguments checked now, as its own call would check them; what it will send."""
    if target.kind == "generated":
        preview = ctx.preview_operation(target.name, arguments)
        if preview.is_error:
            error = dict(preview.data.get("error", {}))
            message = error.pop("message", str(preview.data))
            raise Refusal(message, error.pop("kind", "invalid_arguments"), **error)
        return {"request": {k: v for k, v in preview.data.items() if v not in (None, {}, [])}}
    checked = check_arguments(target.tool, arguments)  # as its own call will: its input model, else its schema
    if not isinstance(checked, dict):
        error = dict((checked.structured_content or {}).get("error", {}))
        raise Refusal(error.pop("message", f"{target.name}: invalid arguments"), error.pop("kind", "invalid_arguments"),
                      **error)
    return {}


async def _composite_plan(ctx: CompositeContext, target: Target, arguments: dict[str, Any]) -> dict[str, Any]:
    """The target's own dry run, now (reads only): what it would do if it ran at once."""
    runtime = ctx.call.runtime
    result = await runtime.call_tool(target.name, {**arguments, "dry_run": True},
                                     client=f"{ctx.call.client or 'a client'} via policy_schedule_change")
    data = result.structured_content or {}
    if result.is_error:
        error = data.get("error") or {}
        return {"error": {"kind": error.get("kind", "error"), "message": str(error.get("message", "the dry run failed"))
                          .removesuffix("; nothing was changed")}}
    return {k: data[k] for k in ("outcome", "summary", "steps", "unchanged", "api_limits") if k in data}


async def policy_schedule_change(ctx: CompositeContext, args: dict[str, Any]):
    runtime, settings = ctx.call.runtime, ctx.settings
    dry_run = bool(args.get("dry_run", True))
    now = _clock()
    try:
        target = _target(runtime, str(args["tool"]))
        arguments = _target_arguments(target, args.get("arguments") or {})
        checked = _validate(ctx, target, arguments)
        when = resolve_time(args["run_at"], args.get("time_zone"), datetime.fromtimestamp(now, UTC))
    except Refusal as exc:
        return refusal_result(exc)
    digest = arguments_sha256(target.name, arguments)
    store = store_for(settings, create=not dry_run)
    existing = store.find_pending(target.name, digest, when.timestamp) if store is not None else None
    local = local_time(when.timestamp, when.time_zone, str(args["run_at"]).strip())
    data: dict[str, Any] = {
        "tool": "policy_schedule_change", "dry_run": dry_run,
        "target": {"tool": target.name, "kind": target.kind, "scope": target.scope, "arguments": redact(arguments),
                   **checked},
        "when": {"run_at": iso(when.timestamp), "run_at_local": local, "time_zone": when.time_zone,
                 "in_seconds": max(0, round(when.timestamp - now))}}
    if when.notes:
        data["when"]["notes"] = list(when.notes)
    if _activated_service(runtime, target.name, target.kind):
        data["target"]["activation"] = (f"{target.tool.service.upper()} is activated right after the write and "
                                         "verified; activation is tenant-wide, so other admins' pending edits are "
                                         "committed with it")
    what = f"{target.name} at {data['when']['run_at']}" + (f" ({local})" if local != data["when"]["run_at"] else "")
    if existing is not None:
        return tool_result({**data, "outcome": "nothing_to_do", "change": view(existing),
                            "summary": f"{what}: already scheduled as {existing['id']} (pending); nothing changed"})
    if target.kind == "composite":  # its own dry run now: an unknown user or level is refused today, not at run time
        plan = data["target"]["plan_now"] = await _composite_plan(ctx, target, arguments)
        problem = plan.get("error")
        if problem and problem["kind"] not in _TRANSIENT:
            return refusal_result(Refusal(f"{target.name} cannot run with these arguments; its dry run says: "
                                          f"{problem['message']}", problem["kind"], tool=target.name))
        if problem:
            data["warnings"] = [f"{target.name}'s plan could not be checked now ({problem['message']}); it is "
                                "checked again when it runs"]
    if dry_run:
        confirm = " (it is destructive: scheduling it asks for confirmation)" if target.scope == "destructive" else ""
        return tool_result({**data, "outcome": "planned",
                            "summary": f"would schedule {what}{confirm}; nothing was scheduled",
                            "next": "call policy_schedule_change again with the same arguments and dry_run=false to "
                                    "schedule it"})
    confirmed = None
    if target.scope == "destructive":
        answer = await _confirm(ctx, args, data, what)
        if not isinstance(answer, str):
            return answer
        confirmed = answer
    row = store.add(tool=target.name, kind=target.kind, scope=target.scope, arguments=arguments,
                    arguments_sha256=digest, run_at=when.timestamp, requested=str(args["run_at"]).strip(),
                    time_zone=when.time_zone, note=args.get("note"), now=now, actor=ctx.call.client,
                    confirmed=confirmed)
    runner = _RUNNERS.get(id(runtime))
    if runner is not None:
        runner.wake()
    elif not _own(settings).runner:
        data.setdefault("warnings", []).append("this server does not run schedules (plugins.scheduler.runner = false): "
                                               "another replica sharing its data directory must")
    return tool_result({**data, "outcome": "scheduled", "change": view(row),
                        "summary": f"scheduled {what} as {row['id']}; policy_list_scheduled_changes shows it, "
                                   "policy_cancel_scheduled_change cancels it"})


async def _confirm(ctx: CompositeContext, args: dict[str, Any], data: dict[str, Any], what: str):
    """A person's yes for scheduling a destructive call, asked through `oneapi_mcp_confirm_destructive`
    (the scopes plugin: elicitation, else a confirm_token): a str saying how it was confirmed, or the
    result to return (a token to confirm with, a refusal). With no plugin to ask, scheduling is refused:
    nobody will be there to confirm it when it runs."""
    call = ctx.call
    target = data["target"]
    if "request" in target:
        calls = f"{target['request'].get('method')} {target['request'].get('path')}"
    else:  # a composite tool: the calls its plan makes today (they may differ when it runs)
        calls = "; ".join(str(s.get("call")) for s in target.get("plan_now", {}).get("steps", [])) or "its plan"
    plan = {"tool": call.name, "scope": "destructive", "arguments": redact({k: v for k, v in args.items()
                                                                            if k != "confirm_token"}),
            "effect": f"schedule {what}; it is destructive and will run with nobody there to confirm it",
            "steps": [{"step": 1, "scope": "destructive",
                       "call": f"at {data['when']['run_at']}: {target['tool']}: {calls}"}],
            "target": target}
    asked = call.runtime.plugins.hook.oneapi_mcp_confirm_destructive(
        call=call, plan=plan, token=args.get("confirm_token"), what=f"scheduling {what}")
    if asked is None:
        return tool_error(f"scheduling {what} was not done: {target['tool']} is destructive and no loaded plugin "
                          "confirms destructive changes (the built-in scopes plugin does, through "
                          "oneapi_mcp_confirm_destructive); nothing was scheduled", "confirmation_unavailable",
                          tool=call.name)
    return await asked


# -- listing and cancelling -----------------------------------------------------------------------
async def policy_list_scheduled_changes(ctx: CompositeContext, args: dict[str, Any]):
    store = store_for(ctx.settings, create=False)
    wanted = list(args.get("status") or ())
    if args.get("id"):
        row = store.get(str(args["id"])) if store is not None else None
        if row is None:
            return tool_error(f"no scheduled change {args['id']!r} on server '{ctx.settings.name}'", "not_found",
                              id=args["id"])
        changes = [view(row, store.history(row["id"]))]
    else:
        changes = [view(r) for r in store.list(wanted, int(args.get("limit", 50)))] if store is not None else []
    counts = store.counts() if store is not None else {}
    rows = [{"id": c["id"], "status": c["status"], "run_at": c["run_at"], "local": c["run_at_local"],
             "tool": c["tool"], "arguments": json.dumps(c["arguments"], sort_keys=True)[:200],
             "outcome": _outcome(c), "note": c.get("note")}
            for c in changes]
    tables = [Table("Scheduled changes", ["id", "status", "run_at", "local", "tool", "arguments", "outcome", "note"],
                    rows)]
    if args.get("id"):
        tables.append(Table("History", ["at", "event", "actor", "detail"],
                            [{**h, "detail": json.dumps(h["detail"]) if h["detail"] else ""}
                             for h in changes[0]["history"]]))
    counted = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s))
    sections = [f"Server '{ctx.settings.name}', now {iso(_clock())}: {counted or 'nothing scheduled yet'}."
                + (f" Showing {', '.join(wanted)}." if wanted else "")]
    return report_result("Scheduled changes", {"now": iso(_clock()), "counts": counts, "changes": changes},
                         sections=sections, tables=tables)


def _outcome(change: dict[str, Any]) -> str:
    if change.get("error"):
        return str(change["error"])[:200]
    result = change.get("result") or {}
    return str(result.get("outcome") or ("ok" if change["status"] == "done" else ""))


async def policy_cancel_scheduled_change(ctx: CompositeContext, args: dict[str, Any]):
    change_id = str(args["id"])
    store = store_for(ctx.settings, create=False)
    try:
        if store is None:
            raise KeyError(change_id)
        row, changed = store.cancel(change_id, _clock(), ctx.call.client)
    except KeyError:
        return tool_error(f"no scheduled change {change_id!r} on server '{ctx.settings.name}'", "not_found",
                          id=change_id)
    except StateError as exc:
        row = store.get(change_id) or {}
        when = {"running": f" since {iso(row.get('started_at'))} on {row.get('claimed_by')}",
                "done": f" (ran at {iso(row.get('started_at'))})", "failed": f" ({row.get('error') or 'it failed'})",
                "missed": f" ({row.get('error')})"}.get(exc.status, "")
        return tool_error(f"{exc}{when}; only a pending change can be cancelled", "invalid_state", id=change_id,
                          status=exc.status)
    runner = _RUNNERS.get(id(ctx.call.runtime))
    if runner is not None:
        runner.wake()
    outcome = "cancelled" if changed else "nothing_to_do"
    summary = (f"cancelled {change_id} ({row['tool']} at {iso(row['run_at'])}); it will not run" if changed
               else f"{change_id} was already cancelled; nothing changed")
    return tool_result({"tool": "policy_cancel_scheduled_change", "outcome": outcome, "summary": summary,
                        "change": view(row)})


# -- running due changes --------------------------------------------------------------------------
_RUNNERS: dict[int, Runner] = {}  # id(runtime) -> its runner (a process may serve several named servers)


class Runner:
    """The background task of one named server: sleep until the next change is due (or a wake), run it."""

    def __init__(self, runtime: Runtime, settings: ServerSettings, *, clock=None):
        self.runtime, self.settings = runtime, settings
        self.clock = clock or (lambda: _clock())
        self.owner = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"scheduler:{self.settings.name}")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Let a change that is running finish (a few seconds at most), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=_STOP_GRACE)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        _close_store(self.settings)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before looking: a schedule made while we look wakes the wait below
            try:
                delay = await self.tick()
            except Exception as exc:  # a locked or broken store: try again later, keep serving
                _log.warning("scheduler of server %s: %s", self.settings.name, scrub(f"{type(exc).__name__}: {exc}"))
                delay = _own(self.settings).poll
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def tick(self) -> float:
        """One look: recover dead runs, run (or mark missed) what is due; seconds until the next look."""
        settings, own = self.settings, _own(self.settings)
        store = await asyncio.to_thread(store_for, settings, create=False)
        if store is None:
            return own.poll
        timeout = own.claim_timeout
        now = self.clock()
        for row in await asyncio.to_thread(store.stale, now - timeout):
            then = await asyncio.to_thread(store.interrupt, row["id"], now, self.owner,
                                           f"no heartbeat for {timeout:g} s", stale_before=now - timeout)
            if then:
                _log.warning("scheduled change %s (%s) was interrupted on %s; now %s", row["id"], row["tool"],
                             row["claimed_by"], then)
        for row in await asyncio.to_thread(store.due, now):
            if self._stopping:
                break
            now = self.clock()
            action = due_action(row["run_at"], now, own.lateness)
            if action == "miss":
                if await asyncio.to_thread(store.mark_missed, row["id"], now, self.owner, own.lateness):
                    _log.warning("scheduled change %s (%s) missed: %.0f s late", row["id"], row["tool"],
                                 now - row["run_at"])
            elif action == "run" and await asyncio.to_thread(store.claim, row["id"], self.owner, now):
                await self._execute(store, row)
        upcoming = await asyncio.to_thread(store.next_run_at)
        wait = own.poll if upcoming is None else upcoming - self.clock()
        return max(0.0, min(own.poll, wait))

    async def _execute(self, store: ScheduleStore, row: dict[str, Any]) -> None:
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(store, row["id"]))
        try:
            status, summary, error = await self._run(row)
        except asyncio.CancelledError:  # the server stopped mid-run: say so now rather than after the timeout
            store.interrupt(row["id"], self.clock(), self.owner, "the server stopped during the run", owner=self.owner)
            raise
        except Exception as exc:
            status, summary, error = "failed", None, scrub(f"{type(exc).__name__}: {exc}")
        finally:
            heartbeat.cancel()
        await asyncio.to_thread(store.finish, row["id"], self.owner, status, self.clock(), summary, error)
        _log.log(logging.INFO if status == "done" else logging.WARNING, "scheduled change %s (%s): %s%s", row["id"],
                 row["tool"], status, f": {error}" if error else "")

    async def _heartbeat(self, store: ScheduleStore, change_id: str) -> None:
        every = max(0.5, _own(self.settings).claim_timeout / 5)
        while True:
            await asyncio.sleep(every)
            await asyncio.to_thread(store.heartbeat, change_id, self.owner, self.clock())

    async def _run(self, row: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
        arguments = json.loads(row["arguments"])
        client = f"scheduler/{row['id']}"
        service = _activated_service(self.runtime, row["tool"], row["kind"])
        activation = Activation()
        call = _caller(self.runtime, client)
        if service:
            await activation.check_before(call, [service])
        result = await self.runtime.call_tool(row["tool"], arguments, client=client)
        error = (result.structured_content or {}).get("error") if result.is_error else None
        if isinstance(error, dict) and error.get("kind") == "confirmation_required":
            if not row["confirmed"] or not error.get("confirm_token"):
                return "failed", {}, (f"{row['tool']} needs confirmation and this change was not confirmed when it was "
                                      "scheduled; schedule it again (policy_schedule_change asks for it)")
            # confirmed by a person when it was scheduled (see the history): answer the token request
            result = await self.runtime.call_tool(row["tool"], {**arguments, "confirm_token": error["confirm_token"]},
                                                  client=client)
        status, summary, message = summarize(result)
        if service and status == "done":
            await activation.run(call, [service])
            return _activated(row["tool"], service, activation, summary)
        return status, summary, message


def _activated_service(runtime: Runtime, name: str, kind: str) -> str | None:
    """The service to activate after a scheduled raw write (ZIA or ZTW; not the activation itself)."""
    tool = runtime.catalog.tools.get(name) if kind == "generated" else None
    if tool is None or tool.service not in ACTIVATE or tool.scope == "read" or name in ACTIVATE.values():
        return None
    return tool.service


def _caller(runtime: Runtime, client: str):
    async def call(operation: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        result = await runtime.call_tool(operation, arguments, client=client)
        data = result.structured_content if isinstance(result.structured_content, dict) else {}
        if result.is_error:
            return False, str((data.get("error") or {}).get("message") or "it failed")
        return True, data.get("result")

    return call


def _activated(tool: str, service: str, activation: Activation,
               summary: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """A raw ZIA/ZTW write's outcome once its activation has run: done only when it is live."""
    summary = {**summary, "activation": activation.report()}
    actions = activation.actions()
    if actions:
        summary["operator_actions"] = actions
    if activation.staged():
        summary["outcome"] = "staged_not_active"
        return "failed", summary, (f"{tool} ran, but {service.upper()} is not active afterwards: the change is staged, "
                                   "not live (see operator_actions)")
    summary["outcome"] = "applied"
    summary.pop("notes", None)  # "staged until activated" no longer holds
    return "done", summary, None


def summarize(result: Any) -> tuple[str, dict[str, Any], str | None]:
    """(done | failed, a short summary of the tool's result, the error message)."""
    data = result.structured_content if isinstance(result.structured_content, dict) else {}
    summary: dict[str, Any] = {k: data[k] for k in ("outcome", "summary", "activation", "operator_actions",
                                                   "api_limits", "not_covered", "notes") if k in data}
    if isinstance(data.get("steps"), list):
        summary["steps"] = [{k: s[k] for k in ("step", "operation", "status", "http_status", "error") if k in s}
                            for s in data["steps"] if isinstance(s, dict)]
    if "result" in data:
        text = json.dumps(data["result"], default=str)
        summary["result"] = data["result"] if len(text) <= 2000 else {"truncated": text[:2000]}
    error = None
    if result.is_error:
        problem = data.get("error")
        error = problem.get("message") if isinstance(problem, dict) else None
        if error is None:
            error = " ".join(getattr(c, "text", "") for c in result.content)[:2000] or "the tool returned an error"
        if isinstance(problem, dict) and problem.get("kind"):
            summary["error_kind"] = problem["kind"]
    return ("failed" if result.is_error else "done"), redact(summary), error and scrub(error)


@hookimpl
def oneapi_mcp_startup(settings: ServerSettings, runtime: Runtime):
    if not _own(settings).runner or runtime.surface is None:  # no server built: nothing could run a change
        return None

    async def start() -> None:  # cheap: the task opens the store on its first look
        runner = Runner(runtime, settings)
        _RUNNERS[id(runtime)] = runner
        runner.start()

    return start()


@hookimpl
def oneapi_mcp_shutdown(settings: ServerSettings, runtime: Runtime):
    runner = _RUNNERS.pop(id(runtime), None)
    return runner.stop() if runner is not None else None


# -- definitions -----------------------------------------------------------------------------------
_Bounded = Annotated[str, Field(min_length=1, max_length=64)]


TOOLS = [
    CompositeTool(
        name="policy_schedule_change",
        keywords=("change window", "maintenance window", "run at midnight", "schedule for later", "timed change",
                  "after hours", "defer change", "run tomorrow", "CAB approved change", "delayed execution", "cron",
                  "weekend change", "at 2am"),
        title="Schedule a change for later",
        description=(
            "Run a tool this server allows (a write operation or a composite tool) with the given arguments at a "
            "given time, executed by this server even across restarts (kept in SQLite in its data directory). "
            "The tool, its arguments, the time (not in the past) and the time zone are checked now. Dry run by "
            "default: shows what will run and when. A destructive tool needs the same confirmation now as a "
            "direct call. A change due while the server was down runs at start-up if it is at most "
            "plugins.scheduler.lateness (default 1 hour) late, else it is marked missed. A raw ZIA/ZTW write is "
            "activated right after it runs (tenant-wide) and verified; a change is done only when it is live. "
            "Idempotent."),
        handler=policy_schedule_change, toolset="composite.policy_automation", scope="write",
        input_model=f"{_INPUTS}:_ScheduleInput",
    ),
    CompositeTool(
        name="policy_list_scheduled_changes",
        keywords=("upcoming changes", "change calendar", "pending jobs", "what runs tonight", "scheduled jobs",
                  "change history", "job status", "maintenance window queue", "did change run", "missed jobs",
                  "scheduled change log"),
        title="List scheduled changes",
        description=(
            "Scheduled changes of this server: pending, running, done, failed, cancelled and missed, with their "
            "time, tool, arguments (secrets redacted) and result; with id, one change and its history (scheduled, "
            "started, done or failed, cancelled, missed, interrupted, with who and when). Markdown plus CSV."),
        handler=policy_list_scheduled_changes, toolset="composite.policy_automation", scope="read",
        input_model=f"{_INPUTS}:_ListInput",
    ),
    CompositeTool(
        name="policy_cancel_scheduled_change",
        keywords=("cancel scheduled", "call off change", "abort planned change", "don't run tonight",
                  "withdraw change", "unschedule", "cancel maintenance change", "scrap the job", "kill pending job",
                  "stop planned change"),
        title="Cancel a scheduled change",
        description=(
            "Cancel a pending scheduled change so it never runs. Cancelling one that is already cancelled changes "
            "nothing; one that is running, done, failed or missed cannot be cancelled (the error says which)."),
        handler=policy_cancel_scheduled_change, toolset="composite.policy_automation", scope="write",
        input_model=f"{_INPUTS}:_CancelInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

"""Built-in plugin: this server's own export to a SIEM.

Every tool call's audit records (intent and outcome) and the security events a tool fetches (ZDX alerts,
the ZIA admin audit log) go through a durable outbox (`_outbox.py`, opened per server by `_siem.py`) to
syslog, an HTTP event collector or signed webhooks, delivered at least once by a background task of the
running server. Zscaler's own log export (NSS feeds, LSS streams), the other half of toolset
composite.siem, is the composite family log_feeds: web, firewall and ZPA user-activity transaction logs
reach a SIEM only that way.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import logging
import re
import secrets as _secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    register_secrets,
    tool_error,
    tool_result,
)

from ..composite._kit.receivers import check_url, masked
from ..composite._kit.zdx_windows import DOCUMENTED_DAYS
from ..hookspecs import hookimpl
from ._outbox import (
    EVENT_KINDS,
    Destination,
    make_event,
    stable_event_id,
)
from ._siem import OPEN, Siem, existing_db, own_settings, siem_for, siem_key

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings

__all__ = ["TOOLS", "audit_event", "audit_rows", "oneapi_mcp_register_tools"]

_log = logging.getLogger("oneapi_mcp.siem")
_KEEP_DELIVERED = 7 * 86400  # seconds a delivered event's id is kept (re-exports within it are not re-sent)
_TRANSACTION_LOGS = ("ZIA web, firewall and DNS transaction logs and ZPA user-activity logs cannot be read over the "
                     "REST API: they reach a SIEM only through Cloud NSS feeds (siem_configure_nss_feed) and ZPA "
                     "log streaming (siem_configure_lss_stream)")
_AUDIT_EXPORT = ("the ZIA admin audit log is read by starting an export job (POST /auditlogEntryReport, "
                 "read-scoped although a POST: it replaces the tenant's previous audit-log export, changes no "
                 "configuration and activates nothing), then polling it and downloading its CSV; it holds admin "
                 "changes, not traffic")
_UNAVAILABLE = [
    {"source": "ZWA DLP incidents", "reason": "this export does not read them yet; search them with "
     "zwa_dlp_incident_search"},
    {"source": "Z-Insights (GraphQL) security incidents", "reason": "Z-Insights is not among this server's "
                                                                     "vendored specs"},
    {"source": "ZIA/ZPA transaction logs", "reason": _TRANSACTION_LOGS},
]


# -- settings and the outbox of a running server (_siem.py) --------------------------------------
@hookimpl
def oneapi_mcp_plugin_settings():
    return {"siem": f"{__name__}_settings:SiemSettings"}  # by import path: defined when first validated


@hookimpl
def oneapi_mcp_startup(settings: ServerSettings, runtime: Any):
    if not own_settings(settings).destinations and existing_db(settings) is None:
        return None

    async def start() -> None:
        siem = await asyncio.to_thread(siem_for, settings)
        await asyncio.to_thread(siem.outbox.prune, _KEEP_DELIVERED)
        siem.delivery.start()

    return start()


@hookimpl
def oneapi_mcp_shutdown(settings: ServerSettings, runtime: Any):
    siem = OPEN.pop(siem_key(settings), None)
    return siem.close() if siem is not None else None


@hookimpl
def oneapi_mcp_audit_record(settings: ServerSettings, record: dict[str, Any], call: Any):
    """Every tool call's audit records become audit events in the outbox: the intent (`tool_call_intent`,
    committed before the write request is sent) and the outcome (`tool_call`), with one `call_id`."""
    siem = OPEN.get(siem_key(settings))
    if siem is None or not siem.takes("audit") or record.get("phase") not in ("intent", "outcome"):
        return None
    if record["phase"] == "intent":
        try:
            siem.outbox.enqueue([make_event("audit", "tool_call_intent", dict(record), server=settings.name,
                                            at=record["time"])], siem.destinations())
            siem.delivery.wake()
        except Exception as exc:  # the call matters more than its export
            _log.warning("could not queue the audit intent of %s: %s", record.get("tool"), type(exc).__name__)
        return None

    async def export() -> None:
        try:
            await siem.add([audit_event(record)])
        except Exception as exc:  # the call's answer matters more than its export
            _log.warning("could not queue the audit event of %s: %s", record.get("tool"), type(exc).__name__)

    return export()


def audit_event(entry: dict[str, Any]) -> dict[str, Any]:
    """The outbox event of a call's outcome record (see `oneapi_mcp_audit_record`)."""
    severity = {"ok": "info", "exception": "error"}.get(entry["outcome"], "warning")
    return make_event("audit", "tool_call", dict(entry), server=entry["server"], severity=severity,
                      at=entry["time"])


# -- webhooks (ours) -----------------------------------------------------------------------------
def _no_outbox() -> Any:
    return tool_error("no SIEM export is configured on this server: add destinations to its "
                      "[servers.<name>.plugins.siem] table (formerly siem_destinations; see docs/siem.md) or "
                      "register a webhook with siem_register_webhook", "not_configured")


async def register_webhook(ctx, args: dict[str, Any]):
    name = args["name"]
    try:
        url = check_url(args["url"], "url")
    except ValueError as exc:
        return tool_error(str(exc), "invalid_arguments")
    if any(d.name == name for d in own_settings(ctx.settings).destinations):
        return tool_error(f"{name!r} is a destination in this server's settings; choose another name",
                          "invalid_arguments")
    siem = siem_for(ctx.settings)
    given = args.get("secret")
    if given:
        register_secrets([given])
    current = next((d for d in siem.destinations() if d.name == name), None)
    events = frozenset(args.get("events") or EVENT_KINDS)
    secret = given or (current.secret if current is not None else None) or _secrets.token_urlsafe(32)
    hook = Destination(name=name, type="webhook", url=url, secret=secret, events=events, origin="registered")
    shown = {**hook.describe(), "signature": "X-OneAPI-MCP-Signature: sha256=HMAC-SHA256(secret, "
                                             "'<X-OneAPI-MCP-Timestamp>.' + raw body)"}
    if current is not None and (current.url, current.events, current.secret) == (url, events, secret):
        siem.start()
        return tool_result({"outcome": "nothing_to_do", "summary": f"webhook {name!r} is already registered as "
                            "asked", "webhook": shown})
    await asyncio.to_thread(siem.outbox.put_webhook, hook)
    siem.refresh()
    siem.start()
    data: dict[str, Any] = {"outcome": "updated" if current else "registered",
                            "summary": f"webhook {name!r} {'updated' if current else 'registered'}: "
                                       f"{', '.join(sorted(events))} events are signed and sent to {hook.target()}",
                            "webhook": shown}
    if not given and current is None:
        data["signing_secret"] = secret  # generated here: shown once, never again
        data["note"] = "store signing_secret in the receiver now; it is not shown again"
    return tool_result(data)


async def list_webhooks(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    hooks = siem.webhooks if siem is not None else []
    stats = await asyncio.to_thread(siem.outbox.stats) if siem is not None else {}
    rows = [{**h.describe(), "pending": stats.get(h.name, {}).get("pending", 0),
             "delivered": stats.get(h.name, {}).get("delivered", 0)} for h in hooks]
    return tool_result({"webhooks": rows, "count": len(rows),
                        "summary": f"{len(rows)} webhook(s) registered" if rows else "no webhook is registered"})


async def remove_webhook(ctx, args: dict[str, Any]):
    name = args["name"]
    siem = siem_for(ctx.settings, create=False)
    hooks = [h.name for h in siem.webhooks] if siem is not None else []
    if name not in hooks:
        return tool_error(f"no registered webhook {name!r}; registered: {', '.join(hooks) or 'none'}", "not_found",
                          webhook=name)
    await asyncio.to_thread(siem.outbox.delete_webhook, name)
    dropped = await asyncio.to_thread(siem.outbox.drop, name)
    siem.refresh()
    return tool_result({"outcome": "removed", "summary": f"webhook {name!r} removed; {dropped} undelivered event(s) "
                        "for it were dropped", "dropped_events": dropped})


# -- status and flush ----------------------------------------------------------------------------
def _age(stamp: float | None) -> float | None:
    return round(time.time() - stamp, 1) if stamp else None


def _when(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp else None


async def _rows(siem: Siem) -> list[dict[str, Any]]:
    stats = await asyncio.to_thread(siem.outbox.stats)
    rows = []
    for d in siem.destinations():
        s = stats.get(d.name, {})
        retry = siem.delivery.retry_in(d.name)
        done, failures = s.get("delivered", 0), s.get("failures", 0)
        healthy = not (failures and s.get("last_error"))
        rows.append({**d.describe(), "pending": s.get("pending", 0),
                     "acknowledged": done if d.acknowledges else 0, "sent": 0 if d.acknowledges else done,
                     "healthy": healthy, "state": _state(d, healthy),
                     "oldest_pending_age_s": _age(s.get("oldest_pending")), "failures_in_a_row": failures,
                     "last_error": s.get("last_error"), "last_error_at": _when(s.get("last_error_at")),
                     "last_success_at": _when(s.get("last_success_at")),
                     "next_retry_in_s": round(retry, 1) if retry is not None else None})
    return rows


def _state(dest: Destination, healthy: bool) -> str:
    if not healthy:
        return "unhealthy: not acknowledging; events kept in the outbox" if dest.acknowledges else (
            "unhealthy: sending fails; events kept in the outbox")
    if dest.acknowledges:
        return "healthy: events leave the outbox only when the receiver acknowledges them"
    return (f"best-effort ({dest.syslog_transport}): events are counted sent, never acknowledged; the receiver "
            "cannot confirm it read them (use transport tls or relp)")


async def siem_status(ctx, args: dict[str, Any]):
    from oneapi_mcp.plugin_api import Table, report_result

    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    rows = await _rows(siem)
    pending = sum(r["pending"] for r in rows)
    failing = [r["name"] for r in rows if not r["healthy"]]
    best_effort = [r["name"] for r in rows if r["guarantee"] == "best-effort"]
    summary = (f"{len(rows)} destination(s), {pending} event(s) waiting"
               + (f"; unhealthy: {', '.join(failing)} (events kept in the outbox, retried with backoff)" if failing
                  else "")
               + (f"; best-effort, sent but never acknowledged: {', '.join(best_effort)}" if best_effort else ""))
    data = {"summary": summary, "pending_total": pending, "delivery_running": siem.delivery.running,
            "outbox": str(siem.outbox.path), "destinations": rows, "failing": failing, "best_effort": best_effort}
    table = Table("SIEM destinations", ["name", "type", "target", "guarantee", "healthy", "pending", "acknowledged",
                                        "sent", "oldest_pending_age_s", "failures_in_a_row", "last_error",
                                        "last_success_at", "next_retry_in_s"], rows)
    return report_result("SIEM export status", data, sections=[summary], tables=[table])


async def siem_flush(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    names = [d.name for d in siem.destinations()]
    wanted = args.get("destination")
    if wanted and wanted not in names:
        return tool_error(f"no SIEM destination {wanted!r}; configured: {', '.join(names) or 'none'}", "not_found")
    reports = await siem.delivery.flush([wanted] if wanted else None)
    rows = {r["name"]: r for r in await _rows(siem)}
    out = [{"destination": r["destination"], "acknowledged_now": r["acknowledged"], "sent_now": r["sent"],
            "still_pending": rows.get(r["destination"], {}).get("pending"), "error": r["error"]} for r in reports]
    failed = [r for r in out if r["error"]]
    summary = (f"{_counts(reports)} to {len(out) - len(failed)} of {len(out)} destination(s)")
    if failed:
        summary += ("; unreachable: " + "; ".join(f"{r['destination']} ({r['error']})" for r in failed)
                    + ". Their events stay in the outbox and are retried with backoff")
    return tool_result({"outcome": "partial" if failed else "delivered", "summary": summary, "destinations": out})


def _counts(reports: list[dict[str, Any]]) -> str:
    acked, sent = sum(r["acknowledged"] for r in reports), sum(r["sent"] for r in reports)
    return f"{acked} event(s) acknowledged" + (f", {sent} sent best-effort (not acknowledged)" if sent else "")


# -- security events -----------------------------------------------------------------------------
class _SourceError(Exception):
    pass


async def _read(ctx, operation: str, arguments: dict[str, Any]) -> Any:
    result = await ctx.call_operation(operation, arguments)
    if result.is_error:
        error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
        raise _SourceError(f"{operation} failed: {error.get('message', result.data)}")
    return result.data


_ALERT_HOURS = min(DOCUMENTED_DAYS[op] for op in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts")) * 24
_ZDX_SEVERITY = {"critical": "critical", "major": "error", "high": "error", "warning": "warning", "medium": "warning",
                 "minor": "notice", "low": "notice", "info": "info"}


async def _zdx_alerts(ctx, start: float, end: float, server: str) -> list[dict[str, Any]]:
    events = []
    for operation in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts"):
        data = await _read(ctx, operation, {"from_": int(start), "to": int(end), "all_pages": True,
                                            "max_items": 5000})
        alerts = data.get("items", data.get("alerts", [])) if isinstance(data, dict) else data or []
        for alert in alerts:
            if not isinstance(alert, dict):
                continue
            at = alert.get("ended_on") or alert.get("started_on")
            events.append(make_event(
                "security", "zdx_alert", alert, server=server,
                severity=_ZDX_SEVERITY.get(str(alert.get("severity", "")).lower(), "warning"),
                event_id=stable_event_id("zdx_alert", alert.get("id"), alert.get("alert_status"),
                                         alert.get("ended_on")),
                at=datetime.fromtimestamp(at, UTC) if isinstance(at, (int, float)) and at > 0 else None))
    return events


async def _zia_admin_audit(ctx, start: float, end: float, server: str, wait: float = 60.0) -> list[dict[str, Any]]:
    await _read(ctx, "zia_create_audit_log_report", {"body": {"startTime": int(start * 1000),
                                                              "endTime": int(end * 1000), "page": 1,
                                                              "pageSize": 1000}})
    deadline = time.monotonic() + wait
    while True:
        status = await _read(ctx, "zia_get_audit_log_entry_report_export_status", {})
        state = str((status or {}).get("status", "")).upper() if isinstance(status, dict) else ""
        if state == "COMPLETE":
            break
        if state in ("ERROR", "FAILED", "CANCELLED", "CANCELED") or (isinstance(status, dict) and state not in (
                "EXECUTING", "RUNNING", "IN_PROGRESS", "QUEUED", "PENDING", "") and status.get("errorCode")):
            raise _SourceError(f"the ZIA admin audit log export failed: {status.get('errorMessage') or state}")
        if time.monotonic() > deadline:
            raise _SourceError(f"the ZIA admin audit log export did not finish within {wait:.0f} s (status "
                               f"{state or 'unknown'}); run the export again later")
        await asyncio.sleep(1.0)
    rows = audit_rows(await _read(ctx, "zia_get_audit_log_entry_report_data", {}))
    return [make_event("security", "zia_admin_audit", row, server=server,
                       severity="warning" if str(row.get("Result", "")).upper().startswith("FAIL") else "notice",
                       event_id=stable_event_id("zia_admin_audit", row)) for row in rows]


def audit_rows(data: Any) -> list[dict[str, str]]:
    """The rows of a ZIA admin audit log export (CSV; the download may come as text or base64)."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    text = data if isinstance(data, str) else None
    if isinstance(data, dict):
        if isinstance(data.get("text"), str):
            text = data["text"]
        elif isinstance(data.get("body"), str):
            try:
                text = base64.b64decode(data["body"], validate=True).decode("utf-8-sig")
            except ValueError:
                text = data["body"]
    if not text:
        return []
    lines = text.lstrip("\ufeff").splitlines()
    # the export starts with a few report lines (name, period); the table starts at its header row
    start = next((i for i, line in enumerate(lines) if re.search(r"\bTime", line) and re.search(
        r"\b(Action|Admin)\b", line)), 0)
    rows = []
    for row in csv.DictReader(lines[start:]):
        clean = {str(k).strip(): str(v or "").strip() for k, v in row.items() if k is not None}
        if any(clean.values()):
            rows.append(clean)
    return rows


_SOURCES = {"zdx_alerts": _zdx_alerts, "zia_admin_audit": _zia_admin_audit}


async def export_events(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    targets = [d for d in siem.destinations() if "security" in d.events]
    if args.get("destinations"):
        unknown = sorted(set(args["destinations"]) - {d.name for d in targets})
        if unknown:
            return tool_error(f"unknown SIEM destination(s) {', '.join(unknown)} (or they do not take security "
                              f"events); these do: {', '.join(d.name for d in targets) or 'none'}", "not_found")
        targets = [d for d in targets if d.name in args["destinations"]]
    if not targets:
        return tool_error("no SIEM destination takes security events (events = [\"security\"])", "not_configured")
    end = time.time()
    start = end - float(args.get("hours", 24)) * 3600
    sources = list(dict.fromkeys(args.get("sources") or list(_SOURCES)))
    events: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    problems: list[dict[str, str]] = []
    for n, source in enumerate(sources):
        await ctx.progress(n, len(sources), f"reading {source}")
        try:
            found = await _SOURCES[source](ctx, start, end, ctx.settings.name)
        except _SourceError as exc:
            problems.append({"source": source, "problem": str(exc)})
            continue
        counts[source] = len(found)
        events.extend(found)
    window = {"from": _when(start), "to": _when(end)}
    base = {"window": window, "events_found": counts, "source_problems": problems or None,
            "unavailable_sources": _UNAVAILABLE, "destinations": [d.name for d in targets],
            "notes": [_AUDIT_EXPORT] if "zia_admin_audit" in sources else None}
    if args.get("dry_run", True):
        return tool_result({"outcome": "planned", "dry_run": True, **base,
                            "summary": f"{len(events)} security event(s) found, none queued; call siem_export_events "
                                       "again with dry_run=false to queue and send them",
                            "sample": [masked(e) for e in events[:3]]}, is_error=bool(problems) and not events)
    added = await siem.add(events, targets)
    reports = await siem.delivery.flush([d.name for d in targets])
    failed = [r for r in reports if r["error"]]
    summary = (f"{len(events)} security event(s) found, {added} newly queued "
               f"({len(events) * len(targets) - added} were exported before); "
               f"{_counts(reports)} now")
    if failed:
        summary += ("; unreachable: " + "; ".join(f"{r['destination']} ({r['error']})" for r in failed)
                    + ". The events stay in the outbox and are retried with backoff (see siem_get_status)")
    outcome = "nothing_to_do" if not added and not any(r["acknowledged"] or r["sent"] for r in reports) else (
        "queued" if failed else "delivered")
    actions = None
    if problems:  # a source that could not be read exported nothing: never reported as delivered
        outcome, summary = "partial", summary + "; not exported: " + ", ".join(p["source"] for p in problems)
        actions = [f"{p['source']} could not be read ({p['problem']}): none of its events were exported; run "
                   "siem_export_events again once it can be read (events already exported are not sent twice)"
                   for p in problems]
    return tool_result({"outcome": outcome, "dry_run": False, **base, "queued": added, "summary": summary,
                        "delivery": reports, "operator_actions": actions}, is_error=bool(problems))


# -- definitions ---------------------------------------------------------------------------------
_Str = Annotated[str, Field(min_length=1)]


TOOLS = [
    CompositeTool(
        name="siem_register_webhook",
        keywords=("add webhook", "signed JSON POST", "Splunk SOAR", "SOAR integration", "ServiceNow integration",
                  "HMAC signed events", "event subscription", "callback URL", "push notifications",
                  "PagerDuty alerts", "ticketing integration", "XSOAR", "Tines"),
        title="Register an outbound webhook",
        description=(
            "Register (or update, by name) a webhook this server sends events to: each event is one POST of JSON "
            "signed with HMAC-SHA256 (X-OneAPI-MCP-Signature: sha256=<hex> over '<X-OneAPI-MCP-Timestamp>.<body>'), "
            "queued in a durable outbox and retried until acknowledged (2xx). Without secret, one is generated and "
            "shown once."),
        handler=register_webhook, toolset="composite.siem", scope="write",
        input_model=f"{_INPUTS}:_RegisterWebhookInput",
    ),
    CompositeTool(
        name="siem_list_webhooks",
        keywords=("registered webhooks", "webhook endpoints", "which integrations", "outbound integrations",
                  "callback URLs", "webhook deliveries", "webhook secrets hidden", "SOAR endpoints",
                  "notification endpoints", "pending webhook events"),
        title="List outbound webhooks",
        description="The webhooks registered on this server, with events pending and delivered (secrets not shown).",
        handler=list_webhooks, toolset="composite.siem", scope="read",
        input_model=f"{_INPUTS}:_NoInput",
    ),
    CompositeTool(
        name="siem_remove_webhook",
        keywords=("delete webhook", "unregister webhook", "stop notifications", "decommission integration",
                  "remove callback", "retire webhook", "disconnect SOAR", "stop sending events", "drop integration",
                  "remove endpoint"),
        title="Remove an outbound webhook",
        description="Remove a registered webhook; its undelivered events are dropped.",
        handler=remove_webhook, toolset="composite.siem", scope="write",
        input_model=f"{_INPUTS}:_RemoveWebhookInput",
    ),
    CompositeTool(
        name="siem_export_events",
        keywords=("push alerts SIEM", "send events Splunk", "forward alerts SOAR", "export audit log", "ship events",
                  "ZDX alerts SIEM", "sync alerts SIEM", "SOC integration", "security events export",
                  "feed Sentinel", "event forwarding"),
        title="Export security events to the SIEM",
        description=(
            "Read security events (ZDX alerts, the ZIA admin audit log) for the last hours and queue them in the "
            "durable outbox for every destination that takes security events, then deliver. Event ids are stable: "
            "an event exported before is not sent again. An unreachable SIEM keeps its events queued. ZWA DLP "
            "incidents (not exported yet), Z-Insights and transaction logs are left out (see "
            "unavailable_sources). Dry run by default."),
        handler=export_events, toolset="composite.siem", scope="write",
        operations=("zdx_list_ongoing_alerts", "zdx_list_historical_alerts", "zia_create_audit_log_report",
                    "zia_get_audit_log_entry_report_export_status", "zia_get_audit_log_entry_report_data"),
        input_model=f"{_INPUTS}:_ExportInput",
    ),
    CompositeTool(
        name="siem_get_status",
        keywords=("SIEM health", "is SIEM receiving", "delivery status", "queue depth", "events stuck", "export lag",
                  "SIEM last error", "integration health", "why no events", "outbox status", "backlog size"),
        title="SIEM export status",
        description=("Each SIEM destination's health, guarantee (acknowledged, or best-effort for UDP and plain TCP "
                     "syslog), queue depth, events acknowledged or sent, oldest waiting event, last error and next "
                     "retry, from this server's durable outbox."),
        handler=siem_status, toolset="composite.siem", scope="read",
        input_model=f"{_INPUTS}:_NoInput",
    ),
    CompositeTool(
        name="siem_flush_outbox",
        keywords=("retry delivery", "push queued events", "stuck events", "SIEM backlog", "resend now",
                  "force delivery", "drain queue", "SIEM back online", "deliver pending events", "flush queue"),
        title="Deliver queued SIEM events now",
        description=("Deliver what the outbox holds now, without waiting for the retry backoff; reports what each "
                     "destination acknowledged and which are unreachable (their events stay queued)."),
        handler=siem_flush, toolset="composite.siem", scope="read",
        input_model=f"{_INPUTS}:_FlushInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

"""A person's security events over a window (incident_list_user_events): who the person is in each
service, then ZDX device events and alerts, sandbox verdicts, the ZIA admin audit log, ZWA DLP incidents and
Z-Insights incidents, each source reported as ok, partial, failed or pending."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import time
from typing import Any

from oneapi_mcp.plugin_api import Refusal, Table, refusal_result, report_result

from .._kit.evidence import SOURCES_COLUMNS, Evidence, unavailable_section, unavailable_sources
from .._kit.insights import INCIDENTS_OP, person_incidents
from .._kit.lookups import check_email, checked, find_zid_user
from .._kit.time_windows import Window, epoch, iso, parse_window
from .indicators import check_md5

__all__ = ["AUDIT_RETENTION", "EVENT_COLUMNS", "ZWA_SOURCE", "alert_events", "audit_events", "audit_log", "find_person",
           "insights_events", "list_user_events", "parse_audit_csv", "person_events", "person_summary",
           "sandbox_events", "sandbox_reports", "sandbox_verdict", "zdx_alerts_touching", "zdx_device_events",
           "zwa_dlp_events"]

AUDIT_RETENTION = 180 * 86400  # ZIA keeps the admin audit log for 6 months
_AUDIT_PAGE = 1000
_ALERT_CAP = 50
_ERRORED = ("ERROR", "ERRORED", "FAILED", "CANCELLED", "CANCELED")
_AUDIT_JOB = ("the ZIA admin audit log is read by starting an export job (POST /auditlogEntryReport, read-scoped "
              "although a POST: it replaces the tenant's previous audit-log export and changes no configuration; "
              "nothing is activated), polling it and downloading its CSV; it holds admin changes, not traffic")


# -- a person --------------------------------------------------------------------------------------
async def find_person(ev: Evidence, email: str, window: Window) -> dict[str, Any]:
    """The person's accounts and devices in ZIdentity, ZIA, ZDX and ZCC; Refusal when none has them."""
    person: dict[str, Any] = {"email": email, "zid": None, "zia": None, "zdx": None, "zcc_devices": []}
    failed: list[str] = []
    try:
        person["zid"] = await find_zid_user(ev.wf, email)
        ev.source("ZIdentity")["ok"] += 1
    except Refusal as exc:
        if exc.kind in ("not_found", "ambiguous"):
            ev.source("ZIdentity")["ok"] += 1
        else:
            failed.append(f"ZIdentity: {exc.message}")
            ev.source("ZIdentity")["errors"].append(exc.message)
            ev.source("ZIdentity")["failed"] += 1
    searched = f"zid_list_users ({ev.call_of('zid_list_users')})"
    if searched not in ev.source("ZIdentity")["calls"]:
        ev.source("ZIdentity")["calls"].append(searched)
    ok, users = await ev.fetch("ZIA", "zia_list_users", {"search": email}, many=True)
    person["zia"] = next((u for u in users or [] if str(u.get("email", "")).lower() == email), None)
    if not ok:
        failed.append("ZIA: zia_list_users failed")
    ok, zdx = await ev.fetch("ZDX", "zdx_list_users", {"q": email, "from_": window.start, "to": window.end},
                             many=True)
    person["zdx"] = next((u for u in zdx or [] if str(u.get("email", "")).lower() == email), None)
    if not ok:
        failed.append("ZDX: zdx_list_users failed")
    ok, devices = await ev.fetch("ZCC", "zcc_list_devices", {"username": email}, many=True)
    person["zcc_devices"] = [d for d in devices or [] if str(d.get("user", "")).lower() == email]
    if not ok:
        failed.append("ZCC: zcc_list_devices failed")
    if not (person["zid"] or person["zia"] or person["zdx"] or person["zcc_devices"]):
        searched = ["ZIdentity (zid_list_users by loginName and primaryEmail)", "ZIA (zia_list_users by email)",
                    f"ZDX (zdx_list_users, users active from {iso(window.start)} to {iso(window.end)})",
                    "ZCC (zcc_list_devices by user name)"]
        message = f"no user {email!r} in any service: searched " + ", ".join(searched)
        if failed:
            message += "; some searches failed: " + "; ".join(failed)
        raise Refusal(message, "not_found" if not failed else "upstream", user=email, searched=searched)
    return person


def person_summary(person: dict[str, Any]) -> dict[str, Any]:
    zid, zia, zdx = person["zid"], person["zia"], person["zdx"]
    return {
        "email": person["email"],
        "zidentity": {"id": zid.get("id"), "name": zid.get("displayName"), "active": zid.get("status")}
        if zid else None,
        "zia": {"id": zia.get("id"), "name": zia.get("name"), "disabled": bool(zia.get("disabled")),
                "department": (zia.get("department") or {}).get("name"),
                "risk": zia.get("userRiskScore")} if zia else None,
        "zdx": {"id": zdx.get("id"), "score": zdx.get("score"),
                "devices": [{"id": d.get("id"), "name": d.get("name")} for d in zdx.get("devices") or []]}
        if zdx else None,
        "zcc_devices": [{"udid": d.get("udid"), "hostname": d.get("machineHostname"),
                         "state": d.get("state") or d.get("registrationState"), "os": d.get("osVersion"),
                         "last_seen": iso(epoch(d.get("last_seen_time")))} for d in person["zcc_devices"]],
    }


# -- events ----------------------------------------------------------------------------------------
EVENT_COLUMNS = ("time", "source", "kind", "subject", "detail")


def _event(ts: int | None, source: str, kind: str, subject: str, detail: str, call: str) -> dict[str, Any]:
    return {"time": iso(ts), "ts": ts, "source": source, "kind": kind, "subject": subject, "detail": detail,
            "operation": call}


def _device_blocks(data: Any) -> list[tuple[int | None, dict[str, Any]]]:
    """ZDX device events: the real API answers a list of {timestamp, instances|events}; the spec one."""
    blocks = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    out = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for event in block.get("events") or block.get("instances") or []:
            if isinstance(event, dict):
                out.append((epoch(event.get("timestamp")) or epoch(block.get("timestamp")), event))
    return out


async def zdx_device_events(ev: Evidence, devices: list[dict[str, Any]], window: Window) -> list[dict[str, Any]]:
    out = []
    for device in devices:
        data = await ev.read("ZDX device events", "zdx_list_device_events",
                             {"id": int(device["id"]), "from_": window.start, "to": window.end})
        for ts, event in _device_blocks(data):
            if not window.contains(ts):
                continue
            change = f"{event.get('prev') or '-'} -> {event.get('curr') or '-'}"
            out.append(_event(ts, "ZDX device event", str(event.get("category") or "event"), str(device.get("name")),
                              f"{event.get('display_name') or event.get('name')}: {change}",
                              "zdx_list_device_events"))
    if not devices:
        ev.note("ZDX device events", "ZDX lists no device for this person in the window")
    return out


async def zdx_alerts_touching(ev: Evidence, window: Window, device_ids: set[int], emails: set[str]
                              ) -> list[dict[str, Any]]:
    """ZDX alerts (ongoing and ended) in the window whose affected devices include these devices or people."""
    args = {"from_": window.start, "to": window.end}
    alerts = []
    for operation in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts"):
        alerts += await ev.read("ZDX alerts", operation, args, many=True, cached=True, default=[])
    alerts = [a for a in alerts if window.overlaps(a.get("started_on"), a.get("ended_on"))]
    alerts.sort(key=lambda a: epoch(a.get("started_on")) or 0, reverse=True)
    if len(alerts) > _ALERT_CAP:
        ev.note("ZDX alerts", f"{len(alerts)} alerts in the window; the newest {_ALERT_CAP} were checked for "
                              "affected devices")
    out = []
    for alert in alerts[:_ALERT_CAP]:
        affected = await ev.read("ZDX alerts", "zdx_list_alert_affected_devices", {"id": str(alert["id"])},
                                 many=True, cached=True, default=[])
        touching = [d for d in affected if d.get("id") in device_ids
                    or str(d.get("userEmail", "")).lower() in emails]
        if touching:
            out.append({**alert, "touching": touching})
    return out


def alert_events(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for alert in alerts:
        ended = epoch(alert.get("ended_on"))
        app = (alert.get("application") or {}).get("name")
        detail = (f"{alert.get('rule_name')} ({app or alert.get('alert_type')}); "
                  f"{'ended ' + iso(ended) if ended else 'ongoing'}; affects "
                  f"{alert.get('num_devices', len(alert['touching']))} device(s)")
        subject = ", ".join(str(d.get("name")) for d in alert["touching"])
        out.append(_event(epoch(alert.get("started_on")), "ZDX alert", f"alert {alert.get('severity', '')}".strip(),
                          subject, detail, "zdx_list_alert_affected_devices"))
    return out


def sandbox_verdict(report: Any) -> dict[str, Any]:
    """The verdict in a ZIA sandbox report, nested (real API) or flat (the vendored spec's string map)."""
    flat: dict[str, Any] = {}
    message = None

    def walk(value: Any) -> None:
        nonlocal message
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, (dict, list)):
                    walk(inner)
                else:
                    flat.setdefault(str(key).lower(), inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(report)
    verdict = str(flat.get("type") or "").upper()
    if not verdict:
        texts = [v for v in flat.values() if isinstance(v, str)]
        message = texts[0] if texts else "no report"
    return {"verdict": verdict or "UNKNOWN", "category": flat.get("category"), "score": flat.get("score"),
            "malware": flat.get("detectedmalware") or None, "file_type": flat.get("filetype"),
            "file_name": flat.get("filename"), "status": flat.get("status"),
            "analysed": epoch(flat.get("starttime")), "message": message}


async def sandbox_reports(ev: Evidence, hashes: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for md5 in hashes:
        ok, data = await ev.fetch("ZIA sandbox", "zia_get_verdict_report_by_md5_hash",
                                  {"md5Hash": md5, "details": "SUMMARY"}, cached=True, missing_ok=True)
        if ok:
            out[md5] = sandbox_verdict(data)
    if hashes:
        ev.note("ZIA sandbox", "sandbox reports are per file, not per person: whether this person downloaded the "
                               "file is in the web transaction logs (NSS)")
    return out


def sandbox_events(verdicts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for md5, v in verdicts.items():
        if v["verdict"] == "UNKNOWN":
            detail = f"no verdict: {v['message']}"
        else:
            detail = ", ".join(str(x) for x in (v["category"], f"score {v['score']}" if v["score"] is not None
                                                 else None, v["malware"], v["file_name"]) if x)
        out.append(_event(v["analysed"], "ZIA sandbox", f"verdict {v['verdict']}", md5, detail,
                          "zia_get_verdict_report_by_md5_hash"))
    return out


# -- the admin audit log ---------------------------------------------------------------------------
def _csv_text(data: Any) -> str:
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return ""
    if isinstance(data.get("text"), str):
        return data["text"]
    body = data.get("body")
    if isinstance(body, str) and body and not any(c in body for c in ",\n"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return body
    return body if isinstance(body, str) else ""


def parse_audit_csv(text: str) -> list[dict[str, str]]:
    """Rows of the audit-log CSV keyed by its header (found as the first row naming a time and an action)."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    start = next((n for n, r in enumerate(rows) if any("time" in c.lower() for c in r)
                  and any("action" in c.lower() for c in r)), 0)
    if not rows:
        return []
    header = [c.strip() for c in rows[start]]
    return [dict(zip(header, (c.strip() for c in r), strict=False)) for r in rows[start + 1:] if len(r) >= 2]


def _cell(row: dict[str, str], *names: str) -> str:
    lowered = {k.lower(): v for k, v in row.items()}
    return next((lowered[n] for n in names if lowered.get(n)), "")


async def audit_log(ev: Evidence, window: Window, wait: float) -> list[dict[str, str]] | None:
    """Start the admin audit-log export for the window, poll it, download and parse it; None if it failed
    or is still running (said in the source's notes)."""
    import anyio

    source = "ZIA admin audit log"
    ev.note(source, _AUDIT_JOB)
    if window.start < time.time() - AUDIT_RETENTION:
        ev.note(source, "ZIA keeps the admin audit log for 6 months; older entries are gone")
    body = {"startTime": window.start * 1000, "endTime": window.end * 1000, "page": 1, "pageSize": _AUDIT_PAGE}
    ok, _ = await ev.fetch(source, "zia_create_audit_log_report", {"body": body})
    if not ok:
        return None
    deadline, delay = time.monotonic() + wait, 1.0
    while True:
        ok, status = await ev.fetch(source, "zia_get_audit_log_entry_report_export_status")
        if not ok:
            return None
        state = str((status or {}).get("status") or "").upper()
        if state == "COMPLETE":
            break
        if state in _ERRORED:
            ev.source(source)["failed"] += 1
            ev.source(source)["errors"].append(f"the export ended {state}: {(status or {}).get('errorMessage') or ''}")
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            ev.source(source)["pending"] = True
            ev.note(source, f"the export was still {state or 'running'} ({(status or {}).get('percentage', '?')}%) "
                            f"after {wait:g} s; download it later with zia_get_audit_log_entry_report_data")
            return None
        await anyio.sleep(min(delay, left))
        delay = min(delay * 2, 5.0)
    ok, data = await ev.fetch(source, "zia_get_audit_log_entry_report_data")
    if not ok:
        return None
    rows = parse_audit_csv(_csv_text(data))
    kept = [r for r in rows if window.contains(epoch(_cell(r, "timestamp", "time", "date")))
            or not _cell(r, "timestamp", "time", "date")]
    ev.note(source, f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'} exported (first page of {_AUDIT_PAGE}); "
                    f"{len(kept)} in the window (times without an offset are read as UTC)")
    return kept


def audit_events(rows: list[dict[str, str]], needle: str | None = None) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if needle and not any(needle in str(v).lower() for v in row.values()):
            continue
        ts = epoch(_cell(row, "timestamp", "time", "date"))
        admin = _cell(row, "admin id", "admin", "admin name", "user")
        action = _cell(row, "action", "action type")
        what = "/".join(x for x in (_cell(row, "category"), _cell(row, "sub-category", "subcategory")) if x)
        via = _cell(row, "interface", "action interface") or "?"
        result = _cell(row, "result", "action result") or "?"
        detail = (f"{what}: {_cell(row, 'resource', 'object name', 'object')} via {via} ({result}, from "
                  f"{_cell(row, 'client ip') or '?'})")
        out.append(_event(ts, "ZIA admin audit log", f"admin {action.lower() or 'action'}", admin, detail,
                          "zia_get_audit_log_entry_report_data"))
    return out


# -- ZWA DLP incidents, Z-Insights and all of a person's events ------------------------------------
ZWA_SOURCE = "ZWA DLP incidents"
_ZWA_PAGE = 100  # dlp_incident_search's largest page_size (zscaler/zwa/dlp_incidents.py)


async def zwa_dlp_events(ev: Evidence, email: str, window: Window) -> list[dict[str, Any]]:
    """The DLP incidents of one person created in the window. The search filters by time range and by
    fields such as severity, not by user (zscaler/zwa/dlp_incidents.py dlp_incident_search), so the
    person is matched on each incident's userInfo.email."""
    body = {"timeRange": {"startTime": iso(window.start), "endTime": iso(window.end)}, "fields": []}
    call = ev.call_of("zwa_dlp_incident_search")
    events: list[dict[str, Any]] = []
    for page in range(1, 21):
        data = await ev.read(ZWA_SOURCE, "zwa_dlp_incident_search", {"body": body, "page": page,
                                                                    "page_size": _ZWA_PAGE})
        incidents = data.get("incidents") if isinstance(data, dict) else None
        for inc in incidents or ():
            if str((inc.get("userInfo") or {}).get("email", "")).lower() != email.lower():
                continue
            rules = ", ".join(r.get("name", "") for r in (inc.get("matchingPolicies") or {}).get("rules") or ())
            events.append(_event(epoch(inc.get("createdAt")), "ZWA DLP incident", f"DLP {inc.get('severity')}",
                                 str(inc.get("internalId")),
                                 f"{inc.get('sourceType')}: {inc.get('sourceSubType') or '-'} ({inc.get('status')}; "
                                 f"{rules or 'no rule named'})", call))
        if not incidents or len(incidents) < _ZWA_PAGE:
            break
    else:
        ev.note(ZWA_SOURCE, f"stopped after 20 pages of {_ZWA_PAGE} incidents; later ones were not read")
    return events


async def person_events(ev: Evidence, person: dict[str, Any], window: Window, hashes: list[str], *,
                        include_audit_log: bool, wait: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every event the API offers about one person in the window, newest first, plus what was found."""
    zdx_devices = list((person["zdx"] or {}).get("devices") or [])
    events = await zdx_device_events(ev, zdx_devices, window)
    alerts = await zdx_alerts_touching(ev, window, {d.get("id") for d in zdx_devices}, {person["email"]})
    events += alert_events(alerts)
    verdicts = await sandbox_reports(ev, hashes)
    events += sandbox_events(verdicts)
    events += await insights_events(ev, person["email"], window)
    events += await zwa_dlp_events(ev, person["email"], window)
    rows = await audit_log(ev, window, wait) if include_audit_log else None
    if rows is not None:
        events += audit_events(rows, person["email"])
    events.sort(key=lambda e: e["ts"] or 0, reverse=True)
    return events, {"alerts": alerts, "verdicts": verdicts}


async def insights_events(ev: Evidence, email: str, window: Window) -> list[dict[str, Any]]:
    """One timeline event per day the person had Z-Insights cyber-security incidents (threats blocked)."""
    days, categories = await person_incidents(ev, email, window.start, window.end)
    kinds = f"; categories over the window: {', '.join(categories)}" if categories else ""
    return [_event(ts, "Z-Insights", "cyber-security incidents", email,
                   f"{total} incident(s) (threats blocked) that day{kinds}", f"{INCIDENTS_OP} (POST /zins/graphql)")
            for ts, total in days if total and window.start - 86400 < ts <= window.end]


# -- the tool --------------------------------------------------------------------------------------
def _events_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: e[k] for k in (*EVENT_COLUMNS, "operation")} for e in events]


async def list_user_events(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    try:
        email = checked([args["user"]], check_email, "user email")[0]
        window = parse_window(args)
        hashes = checked(list(args["md5_hashes"]), check_md5, "MD5 hashes") if args.get("md5_hashes") else []
        person = await find_person(ev, email, window)
    except Refusal as exc:
        return refusal_result(exc)
    events, found = await person_events(ev, person, window, hashes, include_audit_log=args.get("audit_log", True),
                                        wait=float(args.get("audit_log_wait_seconds", 30)))
    unavailable = await unavailable_sources(ev)
    sources = ev.table()
    by_source: dict[str, int] = {}
    for e in events:
        by_source[e["source"]] = by_source.get(e["source"], 0) + 1
    why = ev.unknown_why()
    summary = (f"{len(events)} event(s) for {email} from {iso(window.start)} to {iso(window.end)}: "
               + (", ".join(f"{n} from {s}" for s, n in by_source.items()) or (
                   "none in the sources that could be read" if why else "none in the sources the API offers"))
               + (f"; incomplete, unknown where a read failed: {why}" if why else ""))
    data = {"user": person_summary(person), "window": window.report(), "summary": summary, "unknown_why": why,
            "events": _events_rows(events), "sources": sources, "unavailable_sources": unavailable}
    sections = [f"**{summary}**",
                "Times are UTC. ZDX and the audit log are searched for the window; sandbox reports are looked up by "
                "the hashes given.", unavailable_section(unavailable)]
    return report_result(f"Security events for {email}", data, sections=sections, tables=[
        Table("Events", EVENT_COLUMNS, data["events"]), Table("Sources", SOURCES_COLUMNS, sources)])

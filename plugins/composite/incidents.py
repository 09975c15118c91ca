"""Built-in plugin: incident management (a person's security events over a window, where indicators
appear across services, and an incident report).

OneAPI has no incident or event-search API for ZIA/ZPA traffic: web, firewall and DNS transaction
logs leave the cloud through NSS feeds, ZPA user activity through LSS, and neither is queryable
over REST. What the vendored APIs do offer is read here and joined on the email address:
Z-Insights cyber-security incidents per day (GraphQL), ZDX device events and alerts, ZWA DLP incidents,
ZIA sandbox verdicts by MD5, the ZIA admin audit log (an export job: start, poll, download), and
the configuration that names a person, device, domain or hash. Every report lists the sources it
could not query and why.

Reports never stop at the first failed read: each source is reported as ok, partial, failed or
pending, with the calls it made.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import time
from typing import Any

from oneapi_mcp.plugin_api import CompositeTool, Refusal, Table, refusal_result, report_result

from ..hookspecs import hookimpl
from ._kit.accounts import RULE_PREFIX
from ._kit.evidence import SOURCES_COLUMNS, Evidence, unavailable_sources
from ._kit.insights import INCIDENTS_OP, person_incidents
from ._kit.lookups import check_domain, check_email, checked, find_zid_user
from ._kit.time_windows import WINDOW_ARGUMENTS, Window, epoch, iso, parse_window

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

AUDIT_RETENTION = 180 * 86400  # ZIA keeps the admin audit log for 6 months
_MD5 = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,254}")
_AUDIT_PAGE = 1000
_ALERT_CAP = 50
_ERRORED = ("ERROR", "ERRORED", "FAILED", "CANCELLED", "CANCELED")
_REMOVED = ("removal pending", "remove pending", "removed", "unregistered")
_AUDIT_JOB = ("the ZIA admin audit log is read by starting an export job (POST /auditlogEntryReport, read-scoped "
              "although a POST: it replaces the tenant's previous audit-log export and changes no configuration; "
              "nothing is activated), polling it and downloading its CSV; it holds admin changes, not traffic")


# -- indicators ------------------------------------------------------------------------------------
def check_hash(text: str) -> str:
    raw = str(text).strip().lower()
    if _MD5.fullmatch(raw) or _SHA256.fullmatch(raw):
        return raw
    reason = "it contains characters other than 0-9 and a-f" if re.search(r"[^0-9a-f]", raw) else \
        f"it has {len(raw)} hex digits"
    raise ValueError(f"{text!r} is not an MD5 (32 hex digits) or SHA-256 (64 hex digits) hash: {reason}")


def check_md5(text: str) -> str:
    raw = check_hash(text)
    if len(raw) != 32:
        raise ValueError(f"{text!r} is a SHA-256 hash; ZIA sandbox reports are looked up by MD5 only")
    return raw


def check_device(text: str) -> str:
    raw = str(text).strip()
    if not _DEVICE.fullmatch(raw):
        raise ValueError(f"{text!r} is not a device id or hostname (letters, digits, '.', '_', ':' and '-', "
                         "starting with a letter or digit, at most 255 characters)")
    return raw


def _unavailable_section(items: list[dict[str, Any]]) -> str:
    lines = ["## Sources the API cannot query"]
    for item in items:
        where = f" Where they go: {'; '.join(item['where'])}." if item.get("where") else ""
        lines.append(f"- **{item['source']}**: {item['reason']}.{where}")
    return "\n".join(lines)


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


# -- correlating indicators ------------------------------------------------------------------------
HIT_COLUMNS = ("indicator", "kind", "service", "found_in", "object", "detail", "time")


def _hit(indicator: str, kind: str, service: str, found_in: str, obj: Any, detail: str,
         ts: int | None = None) -> dict[str, Any]:
    return {"indicator": indicator, "kind": kind, "service": service, "found_in": found_in, "object": str(obj),
            "detail": detail, "time": iso(ts), "ts": ts}


def _covers(entry: Any, domain: str) -> bool:
    """A list entry (example.com, or .example.com for it and its subdomains) covers `domain`."""
    text = str(entry).strip().lower()
    bare = domain.lstrip(".")
    if text.startswith("."):
        return bare == text[1:] or bare.endswith(text)
    return bare == text


def _rule_refs(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for cond in rule.get("conditions") or [] for op in cond.get("operands") or []]


def _rule_text(rule: dict[str, Any]) -> str:
    state = "disabled" if str(rule.get("disabled", "0")) in ("1", "true", "True") else "enabled"
    return f"{rule.get('action')} rule, order {rule.get('ruleOrder', '?')}, {state}"


async def _zpa_rules(ev: Evidence) -> list[dict[str, Any]]:
    return await ev.read("ZPA", "zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"}, many=True,
                         cached=True, default=[])


async def _zia_block_rule(ev: Evidence, zia_user: dict[str, Any]) -> dict[str, Any] | None:
    """The enabled BLOCK firewall rule that names only this ZIA user, as plan_zia_block_user writes it."""
    name = f"{RULE_PREFIX} block {zia_user.get('id')}"[:31]
    rules = await ev.read("ZIA", "zia_list_firewall_filtering_rules", {}, many=True, cached=True, default=[])
    for rule in rules or []:
        if (rule.get("name") == name and str(rule.get("action", "")).startswith("BLOCK")
                and rule.get("state") == "ENABLED"
                and [str(u.get("id")) for u in rule.get("users") or []] == [str(zia_user.get("id"))]):
            return rule
    return None


async def user_hits(ev: Evidence, email: str, person: dict[str, Any] | None, window: Window) -> list[dict[str, Any]]:
    person = person or await find_person(ev, email, window)
    hits = []
    zid, zia, zdx = person["zid"], person["zia"], person["zdx"]
    if zid:
        hits.append(_hit(email, "user", "ZIdentity", "user", f"{zid.get('displayName')} ({zid.get('id')})",
                         f"{'active' if zid.get('status') is not False else 'disabled'}; source "
                         f"{zid.get('source') or '?'}"))
    if zia:
        risk = zia.get("userRiskScore") or {}
        hits.append(_hit(email, "user", "ZIA", "user", f"{zia.get('name')} ({zia.get('id')})",
                         f"{'disabled' if zia.get('disabled') else 'enabled'}; department "
                         f"{(zia.get('department') or {}).get('name')}; risk score {risk.get('riskScore', '?')} "
                         f"({risk.get('riskScoreLevel', '?')})"))
        rules = await ev.read("ZIA", "zia_list_url_filtering_rules", cached=True, default=[])
        for rule in rules:
            if any(str(u.get("id")) == str(zia.get("id")) for u in rule.get("users") or []):
                hits.append(_hit(email, "user", "ZIA", "URL filtering rule", rule.get("name"),
                                 f"{rule.get('action')}, order {rule.get('order')}, {rule.get('state')}"))
    for device in person["zcc_devices"]:
        hits.append(_hit(email, "user", "ZCC", "enrolled device", device.get("machineHostname"),
                         f"udid {device.get('udid')}; {device.get('osVersion')}; "
                         f"{device.get('state') or device.get('registrationState')}",
                         epoch(device.get("last_seen_time"))))
    if zdx:
        names = ", ".join(str(d.get("name")) for d in zdx.get("devices") or []) or "none"
        hits.append(_hit(email, "user", "ZDX", "user", f"{zdx.get('name')} ({zdx.get('id')})",
                         f"ZDX score {zdx.get('score', '?')}; devices {names}"))
    for rule in await _zpa_rules(ev):
        for op in _rule_refs(rule):
            if str(op.get("rhs", "")).lower() == email and op.get("objectType") in ("SCIM", "SAML"):
                hits.append(_hit(email, "user", "ZPA", "access rule", rule.get("name"),
                                 f"{_rule_text(rule)}; names the person ({op.get('objectType')})"))
    if zid:
        hits += await _zpa_group_rules(ev, email, zid)
    return hits


async def _zpa_group_rules(ev: Evidence, email: str, zid: dict[str, Any]) -> list[dict[str, Any]]:
    """ZPA rules that reach the person through a SCIM group (the IdP pushes the same groups to ZIdentity)."""
    groups = await ev.read("ZIdentity", "zid_list_user_groups", {"id": zid["id"]}, many=True, default=[])
    names = {str(g.get("name", "")).lower() for g in groups}
    if not names:
        return []
    idps = await ev.read("ZPA", "zpa_get_all_idps", many=True, cached=True, default=[])
    scim: dict[str, str] = {}
    for idp in idps:
        if idp.get("scimEnabled"):
            for group in await ev.read("ZPA", "zpa_get_all_scim_groups", {"idpId": idp["id"]}, many=True,
                                       cached=True, default=[]):
                if str(group.get("name", "")).lower() in names:
                    scim[str(group.get("id"))] = str(group.get("name"))
    hits = []
    for rule in await _zpa_rules(ev):
        via = [scim[str(op.get("rhs"))] for op in _rule_refs(rule)
               if op.get("objectType") == "SCIM_GROUP" and str(op.get("rhs")) in scim]
        if via:
            hits.append(_hit(email, "user", "ZPA", "access rule", rule.get("name"),
                             f"{_rule_text(rule)}; applies through SCIM group {', '.join(via)}"))
    return hits


async def device_hits(ev: Evidence, wanted: str, window: Window) -> tuple[list[dict[str, Any]], set[str]]:
    """Where a device (ZCC udid or hostname, or ZDX device id or name) appears; and its owners' emails."""
    needle = wanted.lower()
    hits, owners = [], set()
    zcc = await ev.read("ZCC", "zcc_list_devices", many=True, cached=True, default=[])
    for device in zcc:
        if needle in (str(device.get("udid", "")).lower(), str(device.get("machineHostname", "")).lower()):
            owners.add(str(device.get("user", "")).lower())
            hits.append(_hit(wanted, "device", "ZCC", "enrolled device", device.get("machineHostname"),
                             f"owner {device.get('user')}; udid {device.get('udid')}; {device.get('osVersion')}; "
                             f"{device.get('state') or device.get('registrationState')}; agent "
                             f"{device.get('agentVersion')}", epoch(device.get("last_seen_time"))))
    zdx = await ev.read("ZDX", "zdx_list_devices", {"from_": window.start, "to": window.end}, many=True,
                        cached=True, default=[])
    for device in zdx:
        if needle in (str(device.get("id")), str(device.get("name", "")).lower()):
            hits.append(_hit(wanted, "device", "ZDX", "device", f"{device.get('name')} ({device.get('id')})",
                             f"ZDX user id {device.get('userid')}; {device.get('os') or ''} "
                             f"{device.get('hw_model') or ''}".strip()))
    for owner in sorted(owners):
        ok, users = await ev.fetch("ZDX", "zdx_list_users", {"q": owner, "from_": window.start, "to": window.end},
                                   many=True, cached=True)
        for user in users or []:
            if str(user.get("email", "")).lower() == owner:
                for device in user.get("devices") or []:
                    hits.append(_hit(wanted, "device", "ZDX", "device of the owner",
                                     f"{device.get('name')} ({device.get('id')})",
                                     f"ZDX sees {owner} on this device (ZCC and ZDX name devices differently)"))
    return hits, owners


async def domain_hits(ev: Evidence, domains: list[str]) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = []
    bare = [d.lstrip(".") for d in domains]
    for n in range(0, len(bare), 100):  # the lookup takes at most 100 URLs per call
        found = await ev.read("ZIA", "zia_lookup_url_classification", {"body": bare[n:n + 100]}, default=[])
        for item in found if isinstance(found, list) else []:
            url = str(item.get("url", "")).lower()
            for domain in domains:
                if url == domain.lstrip("."):
                    alerts = item.get("urlClassificationsWithSecurityAlert") or []
                    hits.append(_hit(domain, "domain", "ZIA", "URL lookup", url,
                                     f"categories {', '.join(item.get('urlClassifications') or []) or 'none'}; "
                                     f"security alerts {', '.join(alerts) or 'none'}"))
    policy = await ev.read("ZIA", "zia_get_advanced_policy", cached=True, default={})
    malicious = await ev.read("ZIA", "zia_get_malicious_urls", cached=True, default={})
    categories = await ev.read("ZIA", "zia_list_url_categories", {"customOnly": True}, cached=True, default=[])
    rules = await ev.read("ZIA", "zia_list_url_filtering_rules", cached=True, default=[])
    apps = await ev.read("ZPA", "zpa_list_all_applications", many=True, cached=True, default=[])
    zpa_rules = await _zpa_rules(ev)
    for domain in domains:
        for entry in (policy or {}).get("blacklistUrls") or []:
            if _covers(entry, domain):
                hits.append(_hit(domain, "domain", "ZIA", "advanced-security denylist", entry, "blocked for everyone"))
        for entry in (malicious or {}).get("maliciousUrls") or []:
            if _covers(entry, domain):
                hits.append(_hit(domain, "domain", "ZIA", "ATP malicious URL list", entry, "treated as malicious"))
        for category in categories:
            listed = [u for u in (category.get("urls") or []) + (category.get("dbCategorizedUrls") or [])
                      if _covers(u, domain)]
            if listed:
                using = [f"{r.get('name')} ({r.get('action')}, {r.get('state')})" for r in rules
                         if category.get("id") in (r.get("urlCategories") or [])]
                hits.append(_hit(domain, "domain", "ZIA", "custom URL category",
                                 f"{category.get('configuredName')} ({category.get('id')})",
                                 f"lists {', '.join(listed)}; used by URL filtering rules: "
                                 f"{', '.join(using) or 'none'}"))
        for app in apps:
            served = [s for s in app.get("domainNames") or [] if _covers(str(s).lstrip("*"), domain)
                      or _covers(domain, str(s).lstrip("*"))]
            if served:
                refs = {str(app.get("id")), str(app.get("segmentGroupId"))}
                using = [f"{r.get('name')} ({_rule_text(r)})" for r in zpa_rules
                         if any(op.get("objectType") in ("APP", "APP_GROUP") and str(op.get("rhs")) in refs
                                for op in _rule_refs(r))]
                hits.append(_hit(domain, "domain", "ZPA", "application segment", f"{app.get('name')} ({app.get('id')})",
                                 f"serves {', '.join(served)}; access rules: {', '.join(using) or 'none'}"))
    return hits


async def hash_hits(ev: Evidence, hashes: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    md5s = [h for h in hashes if len(h) == 32]
    verdicts = await sandbox_reports(ev, md5s)
    hits = []
    for md5, v in verdicts.items():
        if v["verdict"] != "UNKNOWN":
            hits.append(_hit(md5, "hash", "ZIA", "sandbox report", md5,
                             f"{v['verdict']}; {v['category']}; score {v['score']}; {v['malware'] or 'no malware name'}"
                             f"; {v['file_name'] or v['file_type'] or ''}".rstrip("; "), v["analysed"]))
    settings = await ev.read("ZIA", "zia_get_behavioral_analysis_advanced_settings", cached=True, default={})
    listed = {str(e.get("url", "")).lower(): e for e in (settings or {}).get("md5HashValueList") or []
              if isinstance(e, dict)}
    for value in hashes:
        if value in listed:
            hits.append(_hit(value, "hash", "ZIA", "sandbox MD5 block list", value,
                             f"blocked ({listed[value].get('urlComment') or 'no comment'})"))
    sha = [h for h in hashes if len(h) == 64]
    if sha:
        ev.note("ZIA sandbox", f"{len(sha)} SHA-256 hash(es) were not looked up: ZIA sandbox reports and the "
                               "sandbox block list take MD5 only")
    return hits, verdicts


def check_indicators(args: dict[str, Any]) -> dict[str, list[str]]:
    """Every indicator checked by kind; all the malformed ones reported together."""
    kinds = (("users", check_email), ("devices", check_device), ("domains", check_domain), ("hashes", check_hash))
    out: dict[str, list[str]] = {}
    bad: list[str] = []
    for key, check in kinds:
        values = list(args.get(key) or [])
        if not values:
            out[key] = []
            continue
        try:
            out[key] = checked(values, check, key)
        except Refusal as exc:
            bad += exc.extra.get("invalid", [exc.message])
    if bad:
        raise Refusal(f"{len(bad)} malformed indicator(s): " + "; ".join(bad), "invalid_arguments", invalid=bad)
    return out


async def correlate(ev: Evidence, indicators: dict[str, list[str]], window: Window,
                    people: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Hits for every indicator, the indicators found nowhere, and the owners of the devices."""
    people = people or {}
    hits: list[dict[str, Any]] = []
    owners: set[str] = set()
    mark = len(ev.failures())
    for email in indicators.get("users", []):
        try:
            hits += await user_hits(ev, email, people.get(email), window)
        except Refusal:
            pass  # found nowhere: listed below
    for device in indicators.get("devices", []):
        found, who = await device_hits(ev, device, window)
        hits += found
        owners |= who
    hits += await domain_hits(ev, indicators.get("domains", [])) if indicators.get("domains") else []
    verdicts: dict[str, Any] = {}
    if indicators.get("hashes"):
        found, verdicts = await hash_hits(ev, indicators["hashes"])
        hits += found
    seen = {h["indicator"] for h in hits}
    missing = [v for values in indicators.values() for v in values if v not in seen]
    why = ev.unknown_why(mark)  # a search that failed cannot prove an indicator is nowhere
    return {"hits": hits, "not_found": [] if why else missing, "unknown": missing if why else [],
            "unknown_why": why, "device_owners": sorted(owners), "verdicts": verdicts}


def _counts(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for hit in hits:
        row = by.setdefault(hit["indicator"], {"indicator": hit["indicator"], "kind": hit["kind"], "hits": 0,
                                               "services": []})
        row["hits"] += 1
        if hit["service"] not in row["services"]:
            row["services"].append(hit["service"])
    return list(by.values())


# -- tools -----------------------------------------------------------------------------------------
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
                "the hashes given.", _unavailable_section(unavailable)]
    return report_result(f"Security events for {email}", data, sections=sections, tables=[
        Table("Events", EVENT_COLUMNS, data["events"]), Table("Sources", SOURCES_COLUMNS, sources)])


async def correlate_indicators(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    try:
        indicators = check_indicators(args)
        if not any(indicators.values()):
            raise Refusal("give at least one indicator: users, devices, domains or hashes", "invalid_arguments")
        window = parse_window(args, default_from="7d")
    except Refusal as exc:
        return refusal_result(exc)
    result = await correlate(ev, indicators, window)
    hits = sorted(result["hits"], key=lambda h: (h["indicator"], h["service"], h["found_in"]))
    timeline = sorted((h for h in hits if h["ts"]), key=lambda h: h["ts"], reverse=True)
    counts = _counts(hits)
    summary = (f"{len(hits)} place(s) across {len({h['service'] for h in hits})} service(s) for "
               f"{sum(len(v) for v in indicators.values()) - len(result['not_found']) - len(result['unknown'])} of "
               f"{sum(len(v) for v in indicators.values())} indicator(s)")
    if result["not_found"]:
        summary += f"; found nowhere: {', '.join(result['not_found'])}"
    if result["unknown"]:
        summary += (f"; unknown (not found in what could be read): {', '.join(result['unknown'])} "
                    f"({result['unknown_why']})")
    sources = ev.table()
    data = {"summary": summary, "window": window.report(), "indicators": indicators,
            "per_indicator": counts, "hits": [{k: h[k] for k in HIT_COLUMNS} for h in hits],
            "timeline": [{k: h[k] for k in HIT_COLUMNS} for h in timeline], "not_found": result["not_found"],
            "unknown": result["unknown"], "unknown_why": result["unknown_why"],
            "device_owners": result["device_owners"], "sources": sources}
    sections = [f"**{summary}**", "ZDX users and devices are those active in the window; configuration (rules, "
                "lists, categories, segments) is as it is now. Timeline rows are the hits that carry a time."]
    return report_result("Indicator correlation", data, sections=sections, tables=[
        Table("Hits", HIT_COLUMNS, data["hits"]), Table("Timeline", HIT_COLUMNS, data["timeline"]),
        Table("Sources", SOURCES_COLUMNS, sources)])


# -- the incident report ---------------------------------------------------------------------------
ASSET_COLUMNS = ("asset", "type", "service", "indicator", "detail")
ACTION_COLUMNS = ("action", "service", "evidence")
NEXT_COLUMNS = ("priority", "step", "tool", "arguments", "why")
_ASSET_KINDS = ("user", "enrolled device", "device", "device of the owner", "application segment", "sandbox report")


def _blocked_domains(hits: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Domains ZIA already blocks, with how: denylist, ATP list, or a category an enabled BLOCK rule uses."""
    out: dict[str, list[str]] = {}
    for hit in hits:
        if hit["kind"] != "domain" or hit["service"] != "ZIA":
            continue
        how = None
        if hit["found_in"] in ("advanced-security denylist", "ATP malicious URL list"):
            how = f"on the ZIA {hit['found_in']} ({hit['object']})"
        elif hit["found_in"] == "custom URL category" and "(BLOCK, ENABLED)" in hit["detail"]:
            how = f"in ZIA URL category {hit['object']}, used by an enabled BLOCK rule"
        if how:
            out.setdefault(hit["indicator"], []).append(how)
    return out


async def actions_taken(ev: Evidence, person: dict[str, Any] | None, hits: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rules = {str(r.get("name")): r for r in await _zpa_rules(ev)}

    def deny_rule(name: str) -> dict[str, Any] | None:
        rule = rules.get(name)
        if rule and str(rule.get("action", "")).upper() == "DENY" and str(rule.get("disabled", "0")) in ("0", "false",
                                                                                                            "False"):
            return rule
        return None

    if person:
        email = person["email"]
        if person["zid"] and person["zid"].get("status") is False:
            out.append({"action": f"ZIdentity account {email} is disabled", "service": "ZIdentity",
                        "evidence": f"zid_list_users: status false (id {person['zid'].get('id')})"})
        if person["zia"]:
            block = await _zia_block_rule(ev, person["zia"])
            if block:  # what threat_isolate_account / users_disable add (_kit/accounts.plan_zia_block_user)
                out.append({"action": f"ZIA blocks all traffic of {email}", "service": "ZIA",
                            "evidence": f"firewall rule {block.get('name')!r} ({block.get('action')}, "
                                        f"{block.get('state')}, order {block.get('order', '?')})"})
            elif person["zia"].get("disabled"):
                out.append({"action": f"ZIA user {email} is disabled", "service": "ZIA",
                            "evidence": f"zia_list_users: disabled true (id {person['zia'].get('id')})"})
        rule = deny_rule(f"{RULE_PREFIX} isolate {email}")
        if rule:
            out.append({"action": f"ZPA denies {email} all private-app access", "service": "ZPA",
                        "evidence": f"access rule {rule.get('name')!r} (DENY, order {rule.get('ruleOrder', '?')})"})
    for hit in hits:
        if hit["found_in"] == "enrolled device" and any(s in hit["detail"].lower() for s in _REMOVED):
            out.append({"action": f"Client Connector device {hit['object']} is being unenrolled", "service": "ZCC",
                        "evidence": f"zcc_list_devices: {hit['detail']}"})
        if hit["found_in"] == "application segment":
            name = hit["object"].rsplit(" (", 1)[0]
            rule = deny_rule(f"{RULE_PREFIX} block {name}")
            if rule:
                out.append({"action": f"ZPA denies access to segment {name} (serves {hit['indicator']})",
                            "service": "ZPA", "evidence": f"access rule {rule.get('name')!r} (DENY)"})
        if hit["found_in"] == "sandbox MD5 block list":
            out.append({"action": f"file {hit['indicator']} is on the ZIA sandbox MD5 block list", "service": "ZIA",
                        "evidence": "zia_get_behavioral_analysis_advanced_settings"})
    for domain, ways in _blocked_domains(hits).items():
        out.append({"action": f"{domain} is blocked in ZIA", "service": "ZIA", "evidence": "; ".join(ways)})
    seen, unique = set(), []
    for row in out:
        if row["action"] not in seen:
            seen.add(row["action"])
            unique.append(row)
    return unique


def next_steps(person: dict[str, Any] | None, indicators: dict[str, list[str]], corr: dict[str, Any],
               alerts: list[dict[str, Any]], taken: list[dict[str, Any]], sources: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """Recommended next steps, most urgent first: the threat_* tools (which plan first: dry_run) where
    they apply and are not done yet, then what needs a person or another system."""
    hits, verdicts = corr["hits"], corr["verdicts"]
    bad_files = [h for h, v in verdicts.items() if v["verdict"] in ("MALICIOUS", "SUSPICIOUS")]
    risky_domains = [h["indicator"] for h in hits if h["found_in"] == "URL lookup"
                     and "security alerts none" not in h["detail"]]
    urgent = bool(bad_files or risky_domains)
    done = " ".join(t["action"] for t in taken)
    out: list[dict[str, Any]] = []

    def add(priority: str, step: str, tool: str | None, arguments: dict[str, Any] | None, why: str) -> None:
        out.append({"priority": priority, "step": step, "tool": tool or "", "arguments": arguments or {}, "why": why})

    if person:
        email = person["email"]
        isolated = (f"ZIdentity account {email} is disabled" in done and f"ZPA denies {email}" in done
                    and (person["zia"] is None or f"ZIA blocks all traffic of {email}" in done
                         or f"ZIA user {email} is disabled" in done))
        if not isolated:
            add("high" if urgent else "consider", f"isolate the account {email}", "threat_isolate_account",
                {"user": email}, "malicious files or domains are involved" if urgent else
                "if the account is suspected compromised: disables it in ZIdentity and ZIA, resets the password and "
                "denies it in ZPA")
    devices = [d for d in (person or {}).get("zcc_devices") or []
               if str(d.get("state") or d.get("registrationState") or "").lower() not in _REMOVED]
    for hit in hits:
        if hit["found_in"] == "enrolled device" and hit["kind"] == "device" \
                and not any(s in hit["detail"].lower() for s in _REMOVED):
            devices.append({"machineHostname": hit["object"]})
    for device in {str(d.get("machineHostname")): d for d in devices}.values():
        add("high" if bad_files else "consider", f"quarantine {device.get('machineHostname')}",
            "threat_quarantine_endpoint", {"device": device.get("udid") or device.get("machineHostname")},
            "a malicious file was seen" if bad_files else "if the device is suspected: unenrolls Client Connector "
            "and denies its owner in ZPA (there is no isolation API)")
    blocked = _blocked_domains(hits)
    open_domains = [d for d in indicators.get("domains", []) if d not in blocked]
    if open_domains:
        add("high" if set(open_domains) & set(risky_domains) else "consider",
            f"block {', '.join(open_domains)}", "threat_block_domains", {"domains": open_domains},
            "ZIA does not block them yet" + ("; the URL lookup flags some with security alerts"
                                              if set(open_domains) & set(risky_domains) else ""))
    listed = {h["indicator"] for h in hits if h["found_in"] == "sandbox MD5 block list"}
    for md5 in bad_files:
        if md5 not in listed:
            add("high", f"block file {md5}", "zia_update_behavioral_analysis_advanced_settings", None,
                "no threat_* tool blocks hashes: add it to the ZIA sandbox MD5 block list (the PUT replaces the "
                "whole list: read it first with zia_get_behavioral_analysis_advanced_settings), then zia_activate")
    if alerts:
        add("consider", f"look into {len(alerts)} ZDX alert(s) on the person's devices", "zdx_get_alert", None,
            "ZDX alerts are experience problems; a tunnel or network change at the same time can be the incident")
    for source in sources:
        if source["status"] == "pending" and source["source"] == "ZIA admin audit log":
            add("consider", "download the admin audit log when the export finishes",
                "zia_get_audit_log_entry_report_data", None, "the export was still running")
        elif source["status"] in ("failed", "partial"):
            add("consider", f"re-run once {source['source']} answers", None, None, "; ".join(source["errors"])[:300])
    add("consider", "search the web, firewall and ZPA logs for the window in the SIEM", None, None,
        "transaction logs are exported by NSS/LSS and not queryable over REST (see unavailable_sources)")
    add("consider", "review DLP incidents for the window in the ZWA console", None, None,
        "ZWA is not vendored in this server yet")
    return sorted(out, key=lambda s: s["priority"] != "high")


async def generate_report(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    try:
        user = checked([args["user"]], check_email, "user email")[0] if args.get("user") else None
        indicators = check_indicators({k: args.get(k) for k in ("devices", "domains", "hashes")})
        if not user and not any(indicators.values()):
            raise Refusal("give user (an email) and/or at least one indicator: devices, domains or hashes",
                          "invalid_arguments")
        window = parse_window(args)
        person = await find_person(ev, user, window) if user else None
    except Refusal as exc:
        return refusal_result(exc)
    await ctx.progress(1, 5, "device events and alerts")
    events: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    if person:
        devices = list((person["zdx"] or {}).get("devices") or [])
        events += await zdx_device_events(ev, devices, window)
        alerts = await zdx_alerts_touching(ev, window, {d.get("id") for d in devices}, {person["email"]})
        events += alert_events(alerts)
    await ctx.progress(2, 5, "where the indicators appear")
    corr = await correlate(ev, {**indicators, "users": [user] if user else []}, window,
                           people={user: person} if person else None)
    events += sandbox_events(corr["verdicts"])
    await ctx.progress(3, 5, "admin audit log")
    if args.get("audit_log", True):
        rows = await audit_log(ev, window, float(args.get("audit_log_wait_seconds", 30)))
        needles = [n.lower().lstrip(".") for n in ([user] if user else []) + indicators["domains"]
                   + indicators["devices"] + indicators["hashes"]]
        for needle in needles:
            events += audit_events(rows or [], needle)
    events = list({(e["time"], e["source"], e["subject"], e["detail"]): e for e in events}.values())
    events.sort(key=lambda e: e["ts"] or 0, reverse=True)
    await ctx.progress(4, 5, "actions taken and next steps")
    taken = await actions_taken(ev, person, corr["hits"])
    unavailable = await unavailable_sources(ev)
    sources = ev.table()
    steps = next_steps(person, indicators, corr, alerts, taken, sources)
    assets = [{"asset": h["object"], "type": h["found_in"], "service": h["service"], "indicator": h["indicator"],
               "detail": h["detail"]} for h in corr["hits"] if h["found_in"] in _ASSET_KINDS]
    subject = ", ".join(([user] if user else []) + [v for vs in indicators.values() for v in vs][:8])
    title = args.get("title") or f"Incident report: {subject}"
    verdicts = {h: v["verdict"] for h, v in corr["verdicts"].items()}
    summary = {
        "subject": subject, "window": window.report(), "events": len(events), "zdx_alerts": len(alerts),
        "affected_assets": len(assets), "indicator_hits": len(corr["hits"]), "not_found": corr["not_found"],
        "unknown": corr["unknown"],
        "sandbox_verdicts": verdicts, "actions_taken": len(taken),
        "high_priority_steps": sum(s["priority"] == "high" for s in steps)}
    await ctx.progress(5, 5, "done")
    data = {"title": title, "summary": summary, "user": person_summary(person) if person else None,
            "indicators": indicators, "timeline": _events_rows(events), "affected_assets": assets,
            "indicator_hits": [{k: h[k] for k in HIT_COLUMNS} for h in corr["hits"]],
            "actions_taken": taken, "next_steps": steps, "sources": sources, "unavailable_sources": unavailable}
    lines = [f"- Window: {iso(window.start)} to {iso(window.end)} (UTC)",
             f"- {len(events)} timeline event(s), {len(alerts)} ZDX alert(s) on the person's devices, "
             f"{len(assets)} affected asset(s), {len(corr['hits'])} place(s) the indicators appear",
             f"- Sandbox verdicts: {', '.join(f'{h}: {v}' for h, v in verdicts.items()) or 'none asked'}"]
    if corr["not_found"]:
        lines.append(f"- Found nowhere: {', '.join(corr['not_found'])}")
    if corr["unknown"]:
        lines.append(f"- Unknown (not found in what could be read): {', '.join(corr['unknown'])}")
    why = ev.unknown_why()
    if why:
        lines.append(f"- Incomplete: where a read failed the report says unknown, not none: {why}")
    sections = ["## Summary\n" + "\n".join(lines),
                "## Actions already taken\n" + ("\n".join(f"- {t['action']} ({t['evidence']})" for t in taken)
                                                 or ("- none found in what could be read (see Incomplete above)"
                                                     if why else "- none found")),
                "## Recommended next steps\n" + "\n".join(
                    f"- **{s['priority']}**: {s['step']}" + (f" with `{s['tool']}`" if s["tool"] else "")
                    + f" - {s['why']}" for s in steps)
                + "\n\nThe threat_* tools plan first (dry_run true) and apply on a second call.",
                _unavailable_section(unavailable)]
    return report_result(title, data, sections=sections, tables=[
        Table("Timeline", EVENT_COLUMNS, data["timeline"]), Table("Affected assets", ASSET_COLUMNS, assets),
        Table("Indicator hits", HIT_COLUMNS, data["indicator_hits"]),
        Table("Actions already taken", ACTION_COLUMNS, taken),
        Table("Recommended next steps", NEXT_COLUMNS, steps), Table("Sources", SOURCES_COLUMNS, sources)])


_ZPA_OPS = ("zpa_get_policy_rules_by_page", "zpa_get_all_idps", "zpa_get_all_scim_groups", "zpa_list_all_applications")
_CORRELATE_OPS = ("zid_list_users", "zid_get_user", "zid_list_user_groups", "zia_list_users",
                  "zia_list_url_filtering_rules", "zcc_list_devices", "zdx_list_users", "zdx_list_devices",
                  "zia_lookup_url_classification", "zia_get_advanced_policy", "zia_get_malicious_urls",
                  "zia_list_url_categories", "zia_get_verdict_report_by_md5_hash",
                  "zia_get_behavioral_analysis_advanced_settings", "zia_list_firewall_filtering_rules", *_ZPA_OPS)
_EVENT_OPS = ("zid_list_users", "zid_get_user", "zia_list_users", "zdx_list_users", "zcc_list_devices",
              "zdx_list_device_events", "zdx_list_ongoing_alerts", "zdx_list_historical_alerts",
              "zdx_list_alert_affected_devices", "zia_get_verdict_report_by_md5_hash", "zia_create_audit_log_report",
              "zia_get_audit_log_entry_report_export_status", "zia_get_audit_log_entry_report_data",
              "zia_list_nss_feeds", "zpa_list_all_lss_configs", INCIDENTS_OP, "zwa_dlp_incident_search")
_AUDIT_ARGUMENTS = {
    "audit_log": {"type": "boolean", "default": True,
                  "description": "Also export the ZIA admin audit log for the window (an export job: no "
                                 "configuration change) and keep the entries naming the person."},
    "audit_log_wait_seconds": {"type": "number", "minimum": 0, "maximum": 120, "default": 30,
                               "description": "How long to wait for the audit-log export to finish."},
}
_INDICATOR_ARGUMENTS = {
    "users": {"type": "array", "items": {"type": "string"}, "maxItems": 20, "description": "Emails."},
    "devices": {"type": "array", "items": {"type": "string"}, "maxItems": 20,
                "description": "Client Connector udids or hostnames, or ZDX device ids or names."},
    "domains": {"type": "array", "items": {"type": "string"}, "maxItems": 100,
                "description": "Domains, e.g. evil.example (.evil.example includes subdomains)."},
    "hashes": {"type": "array", "items": {"type": "string"}, "maxItems": 50,
               "description": "File hashes: MD5 (sandbox report and block list) or SHA-256 (validated, not "
                              "searchable: ZIA takes MD5)."},
}

TOOLS = [
    CompositeTool(
        name="incident_list_user_events",
        title="Security events for one person over a window",
        description=(
            "Everything the Zscaler APIs can say about one person over a window (at most 14 days): Z-Insights "
            "cyber-security incidents (threats blocked) per day with their categories, ZDX events of "
            "their devices, ZDX alerts affecting those devices, ZWA DLP incidents of theirs, ZIA sandbox verdicts "
            "for MD5s you give, and ZIA admin audit-log entries naming them (an export job is started, polled and "
            "downloaded; it changes no configuration). Lists what the API cannot query: "
            "web/firewall/ZPA logs (NSS/LSS exports; says where they go). Markdown, "
            "structured data and CSV."),
        handler=list_user_events, toolset="composite.incident", scope="read", operations=_EVENT_OPS,
        input_schema={"type": "object", "additionalProperties": False, "required": ["user"], "properties": {
            "user": {"type": "string", "minLength": 3, "maxLength": 254, "description": "The person's email."},
            **WINDOW_ARGUMENTS,
            "md5_hashes": {"type": "array", "items": {"type": "string"}, "maxItems": 50,
                           "description": "MD5s of files seen in the incident: their ZIA sandbox verdicts."},
            **_AUDIT_ARGUMENTS}},
    ),
    CompositeTool(
        name="incident_correlate_indicators",
        title="Where indicators appear across services",
        description=(
            "For each indicator (email, device udid/hostname, domain, MD5/SHA-256 hash; each validated), where it "
            "appears: ZIdentity/ZIA users and rules naming them, ZCC and ZDX devices, ZPA access rules (direct "
            "or via SCIM group), ZIA URL classification, denylist, ATP malicious URLs, custom URL categories and "
            "the rules using them, ZPA segments serving a domain, sandbox verdicts and the MD5 block list. "
            "A table of hits and a timeline; read-only."),
        handler=correlate_indicators, toolset="composite.incident", scope="read", operations=_CORRELATE_OPS,
        input_schema={"type": "object", "additionalProperties": False, "properties": {
            **_INDICATOR_ARGUMENTS, **WINDOW_ARGUMENTS}},
    ),
    CompositeTool(
        name="incident_generate_report",
        title="Incident report",
        description=(
            "An incident report for a person and/or indicators over a window: summary, timeline (Z-Insights "
            "incidents, ZDX events and alerts, sandbox verdicts, admin audit log), affected assets, where the "
            "indicators appear, actions "
            "already taken (disabled accounts, oneapi-mcp ZPA deny rules, devices being removed, blocked domains "
            "and hashes) and recommended next steps naming the threat_* tools. Starts a ZIA audit-log export "
            "(no configuration change) unless audit_log=false. Markdown, structured data and CSV."),
        handler=generate_report, toolset="composite.incident", scope="read",
        operations=tuple(dict.fromkeys((*_EVENT_OPS, *_CORRELATE_OPS))),
        input_schema={"type": "object", "additionalProperties": False, "properties": {
            "user": {"type": "string", "minLength": 3, "maxLength": 254,
                     "description": "The person at the centre of the incident (email)."},
            "domains": _INDICATOR_ARGUMENTS["domains"], "hashes": _INDICATOR_ARGUMENTS["hashes"],
            "devices": _INDICATOR_ARGUMENTS["devices"], **WINDOW_ARGUMENTS, **_AUDIT_ARGUMENTS,
            "title": {"type": "string", "minLength": 1, "maxLength": 120, "description": "Report title."}}},
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

"""The incident report (incident_generate_report): assets, events, indicators, the actions already taken
and the recommended next steps, with every source's status."""

from __future__ import annotations

from typing import Any

from oneapi_mcp.plugin_api import Refusal, Table, refusal_result, report_result

from .._kit.accounts import RULE_PREFIX
from .._kit.evidence import SOURCES_COLUMNS, Evidence, unavailable_section, unavailable_sources
from .._kit.lookups import check_email, checked
from .._kit.time_windows import iso, parse_window
from .correlation import (
    _REMOVED,
    HIT_COLUMNS,
    _zia_block_rule,
    _zpa_rules,
    correlate,
)
from .events import (
    EVENT_COLUMNS,
    _events_rows,
    alert_events,
    audit_events,
    audit_log,
    find_person,
    person_summary,
    sandbox_events,
    zdx_alerts_touching,
    zdx_device_events,
)
from .indicators import check_indicators

__all__ = ["ACTION_COLUMNS", "ASSET_COLUMNS", "NEXT_COLUMNS", "actions_taken", "generate_report", "next_steps"]

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
                unavailable_section(unavailable)]
    return report_result(title, data, sections=sections, tables=[
        Table("Timeline", EVENT_COLUMNS, data["timeline"]), Table("Affected assets", ASSET_COLUMNS, assets),
        Table("Indicator hits", HIT_COLUMNS, data["indicator_hits"]),
        Table("Actions already taken", ACTION_COLUMNS, taken),
        Table("Recommended next steps", NEXT_COLUMNS, steps), Table("Sources", SOURCES_COLUMNS, sources)])

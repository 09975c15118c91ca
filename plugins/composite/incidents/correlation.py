"""Where indicators appear across services (incident_correlate_indicators): users, devices, domains and
hashes looked up in the configuration that names them (ZIA rules and lists, ZPA rules, sandbox reports)."""

from __future__ import annotations

from typing import Any

from oneapi_mcp.plugin_api import Refusal, Table, refusal_result, report_result

from .._kit.accounts import RULE_PREFIX
from .._kit.evidence import SOURCES_COLUMNS, Evidence
from .._kit.time_windows import Window, epoch, iso, parse_window
from .events import (
    find_person,
    sandbox_reports,
)
from .indicators import check_indicators

__all__ = ["HIT_COLUMNS", "correlate", "correlate_indicators", "device_hits", "domain_hits", "hash_hits", "user_hits"]

_REMOVED = ("removal pending", "remove pending", "removed", "unregistered")
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


# -- the tool --------------------------------------------------------------------------------------
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

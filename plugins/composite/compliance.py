"""Built-in plugin: compliance reporting (a control checklist with evidence, policy violations by
department, and data residency).

There is no compliance, violation or residency API in OneAPI. The checklist reads the tenant's
configuration and says, per control, pass / fail / unknown with the evidence and the call that
proved it (unknown when the call failed: a 403 means the API client lacks that scope). Violation
records proper (DLP incidents in ZWA, blocked transactions in the NSS web logs, Z-Insights) are not
queryable here, so the department view joins what the vendored APIs do offer. Data residency is
derived from ZIA's datacenter, sub-cloud and exclusion settings.
"""

from __future__ import annotations

import re
import time
from typing import Any

from oneapi_mcp.plugin_api import CompositeTool, Refusal, Table, refusal_result, report_result

from ..hookspecs import hookimpl
from ._kit.checks import controls_of, score_of, unknown_evidence, zpa_default_deny
from ._kit.evidence import Evidence, unavailable_sources
from ._kit.time_windows import epoch, iso, parse_window

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

_THREAT_ON = ("cmdCtlServerBlocked", "cmdCtlTrafficBlocked", "malwareSitesBlocked", "browserExploitsBlocked",
              "fileFormatVunerabilitesBlocked", "knownPhishingSitesBlocked", "suspectedPhishingSitesBlocked",
              "suspectAdwareSpywareSitesBlocked", "cryptoMiningBlocked", "potentialMaliciousRequestsBlocked",
              "dgaDomainsBlocked")
_MALWARE_ON = ("virusBlocked", "trojanBlocked", "wormBlocked", "ransomwareBlocked", "spywareBlocked", "adwareBlocked")
_ZIA_RULE_LISTS = (("URL filtering", "zia_list_url_filtering_rules"), ("firewall", "zia_list_firewall_filtering_rules"),
                   ("SSL inspection", "zia_list_ssl_inspection_rules"), ("sandbox", "zia_list_sandbox_rules"),
                   ("web DLP", "zia_list_web_dlp_rules"))
_ZPA_USER_LOGS = ("zpn_trans_log", "zpn_auth_log")
_CHECKS = ("ssl_inspection", "advanced_threat_protection", "malware_protection", "sandbox_rules",
           "dlp_by_department", "admin_audit_trail", "log_export", "zpa_default_deny", "idp_scim",
           "zia_changes_activated", "disabled_rules", "stale_rules", "external_attack_surface")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_CONTROL_TITLES = {"zpa_default_deny": "ZPA access policy denies by default (no allow-all rule)",
                   "idp_scim": "Identity providers push users and groups by SCIM",
                   "external_attack_surface": "No high or critical findings on the internet-facing assets (EASM)"}
_ZPA_ONLY = ("zpa_default_deny", "idp_scim")
_EASM_RISKY = ("high", "critical")
_EASM_ORGS = 20


# -- the checklist ---------------------------------------------------------------------------------
class Checklist:
    def __init__(self, ev: Evidence, unlicensed: set[str] = frozenset()):
        self.ev = ev
        self.unlicensed = unlicensed
        self.items: list[dict[str, Any]] = []

    def not_applicable(self, check: str, service: str) -> bool:
        """True (and the item recorded) when the caller said `service` is not licensed: nothing is read."""
        if service not in self.unlicensed:
            return False
        self.add(check, _CONTROL_TITLES.get(check, check), "not_applicable",
                 f"{service.upper()} is not licensed for this tenant (not_licensed); nothing was read", [])
        return True

    async def get(self, operation: str, arguments: dict[str, Any] | None = None, *, many: bool = False):
        """(ok, data, the call it took, the failure when it failed: call, http_status, error, at)."""
        entry = self.ev.source("configuration")
        failures = len(entry["failures"])
        ok, data = await self.ev.fetch("configuration", operation, arguments, many=many, cached=True)
        failure = entry["failures"][failures] if not ok and len(entry["failures"]) > failures else None
        return ok, data, f"{operation} ({self.ev.call_of(operation)})", failure

    def add(self, check: str, control: str, status: str, evidence: str, calls: list[str], fix: str = "") -> None:
        self.items.append({"id": check, "control": control, "controls": controls_of(check), "status": status,
                           "evidence": evidence, "calls": calls,
                           "read_at": [self.ev.read_at.get(c, "") for c in calls],
                           "fix": fix if status == "fail" else ""})

    def unknown(self, check: str, control: str, calls: list[str], failures: list[dict[str, Any] | None]) -> None:
        """Unknown, never a finding: which call failed and with which HTTP status."""
        why = [unknown_evidence(f["call"], f["http_status"], f["error"]) for f in failures if f]
        self.add(check, control, "unknown", "; ".join(why) or "unknown: a read it needs failed", calls)
        self.items[-1]["failed_calls"] = [{k: f[k] for k in ("call", "http_status", "at")} for f in failures if f]


def _enabled(rule: dict[str, Any]) -> bool:
    state = str(rule.get("state", "ENABLED")).upper()
    return state not in ("DISABLED", "INACTIVE") and str(rule.get("disabled", "0")) not in ("1", "true", "True")


def _names(items: list[dict[str, Any]], limit: int = 8) -> str:
    names = [str(i.get("name")) for i in items]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "") or "none"


async def _ssl(c: Checklist) -> None:
    control = "SSL inspection rules present and enabled (decrypting)"
    ok, rules, call, error = await c.get("zia_list_ssl_inspection_rules")
    if not ok:
        return c.unknown("ssl_inspection", control, [call], [error])
    enabled = [r for r in rules or [] if _enabled(r)]
    decrypt = [r for r in enabled if str((r.get("action") or {}).get("type", "")).upper() == "DECRYPT"]
    evidence = (f"{len(rules or [])} rule(s), {len(enabled)} enabled; decrypting: {_names(decrypt)}; not decrypting: "
                f"{_names([r for r in enabled if r not in decrypt])}")
    c.add("ssl_inspection", control, "pass" if decrypt else "fail", evidence, [call],
          "add an enabled SSL inspection rule with action DECRYPT (zia_create_ssl_inspection_rule), then activate")


async def _settings(c: Checklist, check: str, control: str, reads: list[tuple[str, tuple[str, ...]]],
                    fix: str) -> None:
    off, calls, errors = [], [], []
    for operation, keys in reads:
        ok, doc, call, error = await c.get(operation)
        calls.append(call)
        if not ok:
            errors.append(error)
            continue
        off += [k for k in keys if (doc or {}).get(k) is not True]
    if errors:
        return c.unknown(check, control, calls, errors)
    total = sum(len(k) for _, k in reads)
    c.add(check, control, "fail" if off else "pass",
          f"{total - len(off)} of {total} protections on" + (f"; off: {', '.join(off)}" if off else ""), calls, fix)


async def _sandbox(c: Checklist) -> None:
    control = "Sandbox rules block or quarantine unknown files"
    ok, rules, call, error = await c.get("zia_list_sandbox_rules")
    if not ok:
        return c.unknown("sandbox_rules", control, [call], [error])
    blocking = [r for r in rules or [] if _enabled(r) and (str(r.get("baRuleAction", "")).upper() == "BLOCK"
                                                           or str(r.get("firstTimeOperation", "")).upper()
                                                           == "QUARANTINE")]
    c.add("sandbox_rules", control, "pass" if blocking else "fail",
          f"{len(rules or [])} rule(s); blocking or quarantining: {_names(blocking)}", [call],
          "add an enabled sandbox rule with baRuleAction BLOCK and firstTimeOperation QUARANTINE")


def dlp_coverage(departments: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per department name: the enabled web DLP rules that cover it (scoped to it, or tenant-wide) and the
    disabled ones scoped to it."""
    out: dict[str, dict[str, Any]] = {d["name"]: {"scoped": [], "tenant_wide": [], "disabled": []}
                                      for d in departments}
    scopes = ("departments", "groups", "users", "locations", "locationGroups")
    for rule in rules:
        excluded = {str(d.get("id")) for d in rule.get("excludedDepartments") or []}
        named = {str(d.get("id")) for d in rule.get("departments") or []}
        wide = not any(rule.get(k) for k in scopes)
        for dept in departments:
            if str(dept.get("id")) in excluded:
                continue
            row = out[dept["name"]]
            if not _enabled(rule):
                if str(dept.get("id")) in named:
                    row["disabled"].append(rule.get("name"))
            elif str(dept.get("id")) in named:
                row["scoped"].append(rule.get("name"))
            elif wide:
                row["tenant_wide"].append(rule.get("name"))
    return out


async def _dlp(c: Checklist) -> None:
    control = "Web DLP rules cover every department"
    ok_d, departments, call_d, error_d = await c.get("zia_list_departments", many=True)
    ok_r, rules, call_r, error_r = await c.get("zia_list_web_dlp_rules")
    if not (ok_d and ok_r):
        return c.unknown("dlp_by_department", control, [call_d, call_r], [error_d, error_r])
    coverage = dlp_coverage([d for d in departments or [] if not d.get("deleted")], rules or [])
    bare = [name for name, row in coverage.items() if not row["scoped"] and not row["tenant_wide"]]
    covered = [f"{name} ({', '.join(row['scoped'] + row['tenant_wide'])})" for name, row in coverage.items()
               if name not in bare]
    c.add("dlp_by_department", control, "fail" if bare else "pass",
          f"covered: {'; '.join(covered) or 'none'}; not covered: {', '.join(bare) or 'none'}", [call_d, call_r],
          "add or enable web DLP rules for the departments not covered (zia_create_web_dlp_rule), then activate")


async def _audit_trail(c: Checklist) -> None:
    control = "Admin audit trail available over the API"
    ok, status, call, error = await c.get("zia_get_audit_log_entry_report_export_status")
    if not ok:
        return c.unknown("admin_audit_trail", control, [call], [error])
    last = (status or {}).get("status") or "none"
    c.add("admin_audit_trail", control, "pass",
          f"the ZIA admin audit log answers (last export status: {last}); ZIA keeps 6 months of admin changes. "
          "Export it with incident_list_user_events or zia_create_audit_log_report", [call])


async def _log_export(c: Checklist) -> None:
    control = "Traffic logs leave the cloud (ZIA NSS web feed, ZPA LSS user activity)"
    zpa = "zpa" not in c.unlicensed  # without ZPA, ZIA's NSS feeds are the whole answer
    reads = [await c.get("zia_list_nss_feeds")] + ([await c.get("zpa_list_all_lss_configs", many=True)] if zpa else [])
    calls = [r[2] for r in reads]
    if not all(r[0] for r in reads):
        return c.unknown("log_export", control, calls, [r[3] for r in reads])
    web = [f for f in reads[0][1] or [] if str(f.get("nssLogType")).upper() == "WEBLOG"
           and str(f.get("feedStatus", "ENABLED")).upper() == "ENABLED"]
    configs = [x.get("config") or x for x in (reads[1][1] or [] if zpa else [])]
    users = [x for x in configs if x.get("sourceLogType") in _ZPA_USER_LOGS and x.get("enabled", True)]
    wants = [("an enabled ZIA NSS web-log feed", web)] + (
        [("a ZPA LSS config for user activity or authentication", users)] if zpa else [])
    missing = [what for what, have in wants if not have]
    c.add("log_export", control, "fail" if missing else "pass",
          f"NSS web feeds: {_names(web)}; ZPA LSS user-log configs: {_names(users) if zpa else 'n/a (not licensed)'}"
          + (f"; missing {' and '.join(missing)}" if missing else ""), calls,
          "configure the missing log export (zia_create_nss_feed, zpa LSS config)")


async def _zpa_default_deny(c: Checklist) -> None:
    control = _CONTROL_TITLES["zpa_default_deny"]
    if c.not_applicable("zpa_default_deny", "zpa"):
        return
    ok, rules, call, error = await c.get("zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"}, many=True)
    if not ok:
        return c.unknown("zpa_default_deny", control, [call], [error])
    verdict = zpa_default_deny(rules or [])
    c.add("zpa_default_deny", control, verdict.status, verdict.evidence, [call],
          "give the allow-all rules conditions (application and user/group operands) or remove them")


async def _idp_scim(c: Checklist) -> None:
    control = _CONTROL_TITLES["idp_scim"]
    if c.not_applicable("idp_scim", "zpa"):
        return
    ok, idps, call, error = await c.get("zpa_get_all_idps", many=True)
    if not ok:
        return c.unknown("idp_scim", control, [call], [error])
    enabled = [i for i in idps or [] if i.get("enabled", True)]
    without = [i for i in enabled if not i.get("scimEnabled")]
    c.add("idp_scim", control, "pass" if enabled and not without else "fail",
          f"{len(enabled)} enabled IdP(s) in ZPA; SCIM on: {_names([i for i in enabled if i not in without])}; "
          f"SCIM off: {_names(without)}", [call], "turn on SCIM provisioning in the IdP and in ZPA")


async def _activated(c: Checklist) -> None:
    control = "ZIA configuration changes are activated (nothing pending)"
    ok, status, call, error = await c.get("zia_get_activation_status")
    if not ok:
        return c.unknown("zia_changes_activated", control, [call], [error])
    state = str((status or {}).get("status", "")).upper() or "unknown"
    c.add("zia_changes_activated", control, "pass" if state == "ACTIVE" else "fail",
          f"ZIA activation status {state}", [call], "review the pending changes, then zia_activate")


async def _rules(c: Checklist, stale_days: int, wanted: set[str]) -> None:
    calls, errors, everything = [], [], []
    for label, operation in _ZIA_RULE_LISTS:
        ok, rules, call, error = await c.get(operation)
        calls.append(call)
        if not ok:
            errors.append(error)
        everything += [(f"ZIA {label}", r) for r in rules or [] if not r.get("defaultRule") and not r.get("predefined")]
    if "zpa" not in c.unlicensed:
        ok, zpa, call, error = await c.get("zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"},
                                           many=True)
        calls.append(call)
        if not ok:
            errors.append(error)
        everything += [("ZPA access", r) for r in zpa or []]

    def label(kind: str, rule: dict[str, Any]) -> str:
        return f"{rule.get('name')} ({kind})"

    if "disabled_rules" in wanted:
        control = "No disabled rules left in the policies"
        if errors:
            c.unknown("disabled_rules", control, calls, errors)
        else:
            off = [label(k, r) for k, r in everything if not _enabled(r)]
            c.add("disabled_rules", control, "fail" if off else "pass",
                  f"{len(everything)} rule(s) read; disabled: {', '.join(off) or 'none'}", calls,
                  "delete disabled rules that are no longer needed, or re-enable them")
    if "stale_rules" in wanted:
        control = f"No rule left unchanged for more than {stale_days} days"
        cutoff = time.time() - stale_days * 86400
        dated = [(k, r, epoch(r.get("lastModifiedTime") or r.get("modifiedTime"))) for k, r in everything]
        known = [(k, r, t) for k, r, t in dated if t]
        stale = [f"{label(k, r)}, last changed {iso(t)[:10]}" for k, r, t in known if t < cutoff]
        if errors:
            c.unknown("stale_rules", control, calls, errors)
        elif not known:
            c.add("stale_rules", control, "unknown", "no rule carries a last-modified time", calls)
        else:
            c.add("stale_rules", control, "fail" if stale else "pass",
                  f"{len(known)} of {len(everything)} rule(s) carry a last-modified time; stale: "
                  f"{'; '.join(stale) or 'none'}", calls, "review the stale rules: still needed, still right?")


async def _easm(c: Checklist) -> None:
    """EASM findings per organization (easm_list_findings answers {results, total_results, next_link}, as
    recorded in zeasm/cassettes/TestFindings.yaml; risk_level is Low/Medium/High/Critical)."""
    check = "external_attack_surface"
    control = _CONTROL_TITLES[check]
    if c.not_applicable(check, "easm"):
        return
    ok, orgs, call, error = await c.get("easm_list_organizations")
    if not ok:
        return c.unknown(check, control, [call], [error])
    calls, risky, total, partial = [call], [], 0, []
    for org in ((orgs or {}).get("results") or [])[:_EASM_ORGS]:
        ok, found, call, error = await c.get("easm_list_findings", {"org_id": str(org.get("id"))})
        calls.append(call)
        if not ok:
            return c.unknown(check, control, calls, [error])
        items = (found or {}).get("results") or []
        total += len(items)
        if (found or {}).get("next_link") or len(items) < int((found or {}).get("total_results") or len(items)):
            partial.append(str(org.get("name")))
        risky += [(org.get("name"), f) for f in items if str(f.get("risk_level", "")).lower() in _EASM_RISKY]
    shown = "; ".join(f"{org}: {f.get('name')} on {f.get('impacted_asset_name')} ({f.get('risk_level')})"
                      for org, f in risky[:8])
    c.add(check, control, "fail" if risky else "pass",
          f"{total} finding(s) read across {len(calls) - 1} organization(s); {len(risky)} high or critical"
          + (f": {shown}" if risky else "")
          + (f"; first page only for {', '.join(partial)}" if partial else ""), calls,
          "review each finding (easm_get_finding_details, easm_get_finding_evidence) and fix the asset")


async def compliance_report(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    wanted = set(args.get("checks") or _CHECKS)
    unlicensed = {str(s).lower() for s in args.get("not_licensed") or []}
    c = Checklist(ev, unlicensed)
    steps = [
        ("ssl_inspection", lambda: _ssl(c)),
        ("advanced_threat_protection", lambda: _settings(
            c, "advanced_threat_protection", "Advanced threat protections block", [
                ("zia_get_advanced_threat_settings", _THREAT_ON)],
            "turn them on (zia_update_advanced_threat_settings), then activate")),
        ("malware_protection", lambda: _settings(
            c, "malware_protection", "Malware protection blocks, and inspects both directions", [
                ("zia_get_malware_settings", _MALWARE_ON),
                ("zia_get_atp_malware_inspection", ("inspectInbound", "inspectOutbound"))],
            "turn them on (zia_update_malware_settings, zia_update_atp_malware_inspection), then activate")),
        ("sandbox_rules", lambda: _sandbox(c)),
        ("dlp_by_department", lambda: _dlp(c)),
        ("admin_audit_trail", lambda: _audit_trail(c)),
        ("log_export", lambda: _log_export(c)),
        ("zpa_default_deny", lambda: _zpa_default_deny(c)),
        ("idp_scim", lambda: _idp_scim(c)),
        ("zia_changes_activated", lambda: _activated(c)),
    ]
    chosen = [s for s in steps if s[0] in wanted]
    if "zia" in unlicensed:  # every remaining check reads ZIA first: not applicable, nothing read
        for name, _ in [s for s in chosen if s[0] not in _ZPA_ONLY]:
            c.add(name, name.replace("_", " "), "not_applicable", "ZIA is not licensed for this tenant (not_licensed)",
                  [])
        chosen = [s for s in chosen if s[0] in _ZPA_ONLY]
    total = len(chosen) + 1
    for n, (name, run) in enumerate(chosen):
        await ctx.progress(n, total, f"checking {name}")
        await run()
    if wanted & {"disabled_rules", "stale_rules"} and "zia" not in unlicensed:
        await _rules(c, int(args.get("stale_days", 365)), wanted)
    if "zia" in unlicensed:
        for name in sorted(wanted & {"disabled_rules", "stale_rules"}):
            c.add(name, name.replace("_", " "), "not_applicable", "ZIA is not licensed for this tenant (not_licensed)",
                  [])
    if "external_attack_surface" in wanted:
        await _easm(c)
    await ctx.progress(total, total, "done")
    scored = score_of(c.items)
    counts, score = scored["counts"], scored["percent"]
    summary = (f"{score if score is not None else 'no'}% of {scored['known']} known control(s) pass"
               f" ({counts['pass']} pass, {counts['fail']} fail); {counts['unknown']} unknown (not counted: a read "
               f"failed), {counts['not_applicable']} not applicable")
    unavailable = await unavailable_sources(ev, logs=False)
    data = {"summary": summary, "score_percent": score, "score": {k: scored[k] for k in (
                "percent", "known", "unknown", "not_applicable")}, "counts": counts, "checklist": c.items,
            "sources": ev.table(), "unavailable_sources": unavailable,
            "basis": "configuration as the APIs return it now; no compliance API exists"}
    sections = [f"**{summary}**",
                "Every item is derived from configuration read now; `calls` names the API call that proved it. "
                "Unknown means the call failed (see the evidence). DLP incident history (ZWA) and Z-Insights are "
                "not vendored in this server, and traffic logs are in the NSS/LSS exports, so this checks controls, "
                "not their outcomes."]
    return report_result("Compliance report", data, sections=sections, tables=[
        Table("Checklist", ("id", "control", "controls", "status", "evidence", "calls", "read_at", "fix"), c.items)])


# -- violations by department ----------------------------------------------------------------------
async def _alerts_by_email(ev: Evidence, window) -> dict[str, set[str]] | None:
    """email -> the ids of ZDX alerts in the window that affected one of their devices; None when the
    alerts could not be read (unknown, not "no alert")."""
    out: dict[str, set[str]] = {}
    alerts = []
    for operation in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts"):
        ok, found = await ev.fetch("ZDX alerts", operation, {"from_": window.start, "to": window.end}, many=True)
        if not ok:
            return None
        alerts += found or []
    alerts = [a for a in alerts if window.overlaps(a.get("started_on"), a.get("ended_on"))]
    if len(alerts) > 50:
        ev.note("ZDX alerts", f"{len(alerts)} alerts in the window; the newest 50 were joined to departments")
        alerts = sorted(alerts, key=lambda a: epoch(a.get("started_on")) or 0, reverse=True)[:50]
    for alert in alerts:
        ok, devices = await ev.fetch("ZDX alerts", "zdx_list_alert_affected_devices", {"id": str(alert["id"])},
                                     many=True)
        if not ok:
            return None  # a partial join would undercount: say unknown
        for device in devices or []:
            email = str(device.get("userEmail", "")).lower()
            if email:
                out.setdefault(email, set()).add(str(alert["id"]))
    return out


def _unread(ev: Evidence, source: str) -> str:
    """Why a source is unknown: each failed call with its HTTP status."""
    return "; ".join(unknown_evidence(f["call"], f["http_status"], f["error"])
                     for f in ev.source(source)["failures"]) or "unknown: not read"


_UNKNOWN_COLUMNS = {"users and risk": ("users", "disabled_users", "high_risk_users", "max_risk_score", "zdx_alerts",
                                        "zdx_affected_users"),
                    "web DLP coverage": ("dlp_rules", "tenant_wide_dlp_rules", "disabled_dlp_rules", "dlp_covered"),
                    "ZDX alerts": ("zdx_alerts", "zdx_affected_users")}


def _unknown_cells(unknown: dict[str, str], row: dict[str, Any]) -> dict[str, Any]:
    """A department row with the cells of unreadable sources saying "unknown" instead of 0 or none."""
    return {**row, **{col: "unknown" for what in unknown for col in _UNKNOWN_COLUMNS[what]}}


def _risky(user: dict[str, Any], min_score: int) -> bool:
    risk = user.get("userRiskScore") or {}
    score = risk.get("riskScore")
    return str(risk.get("riskScoreLevel", "")).upper() in ("HIGH", "CRITICAL") or (
        isinstance(score, (int, float)) and score >= min_score)


async def department_violations(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    try:
        window = parse_window(args, default_from="7d")
        departments = await ev.read("ZIA", "zia_list_departments", many=True, cached=True, default=None)
        if departments is None:
            raise Refusal("could not read the ZIA departments: " + "; ".join(ev.source("ZIA")["errors"]), "upstream")
        departments = [d for d in departments if not d.get("deleted")]
        wanted = str(args.get("department") or "").strip()
        if wanted:
            departments = [d for d in departments if wanted.lower() in (str(d.get("name", "")).lower(),
                                                                         str(d.get("id")))]
            if not departments:
                raise Refusal(f"no ZIA department {wanted!r}: searched the ZIA departments by name and id with "
                              "zia_list_departments", "not_found", department=wanted, searched=["zia_list_departments"])
    except Refusal as exc:
        return refusal_result(exc)
    min_score = int(args.get("min_risk_score", 70))
    users_ok, users = await ev.fetch("ZIA users", "zia_list_users", {"dept": departments[0]["name"]} if wanted
                                     else None, many=True)
    rules_ok, rules = await ev.fetch("ZIA web DLP rules", "zia_list_web_dlp_rules")
    alerts = await _alerts_by_email(ev, window)
    unknown = {what: _unread(ev, source) for what, source, ok in (
        ("users and risk", "ZIA users", users_ok), ("web DLP coverage", "ZIA web DLP rules", rules_ok),
        ("ZDX alerts", "ZDX alerts", alerts is not None)) if not ok}
    coverage = dlp_coverage(departments, rules or []) if rules_ok else {}
    rows, risky_rows = [], []
    for dept in departments:
        mine = [u for u in users or [] if str((u.get("department") or {}).get("id")) == str(dept.get("id"))
                or (u.get("department") or {}).get("name") == dept.get("name")]
        risky = sorted((u for u in mine if _risky(u, min_score)),
                       key=lambda u: -((u.get("userRiskScore") or {}).get("riskScore") or 0))
        hit = {str(u.get("email", "")).lower() for u in mine} & set(alerts or {})
        cover = coverage.get(dept["name"]) or {"scoped": None, "tenant_wide": None, "disabled": None}
        rows.append(_unknown_cells(unknown, {"department": dept["name"], "users": len(mine),
                     "disabled_users": sum(bool(u.get("disabled")) for u in mine),
                     "high_risk_users": len(risky),
                     "max_risk_score": max(((u.get("userRiskScore") or {}).get("riskScore") or 0 for u in mine),
                                           default=None),
                     "zdx_alerts": len(set().union(*(alerts[e] for e in hit))) if hit else 0,
                     "zdx_affected_users": len(hit),
                     "dlp_rules": cover["scoped"], "tenant_wide_dlp_rules": cover["tenant_wide"],
                     "disabled_dlp_rules": cover["disabled"],
                     "dlp_covered": bool(cover["scoped"] or cover["tenant_wide"])}))
        for u in risky:
            risk = u.get("userRiskScore") or {}
            risky_rows.append({"department": dept["name"], "user": u.get("name"), "email": u.get("email"),
                               "risk_score": risk.get("riskScore"), "risk_level": risk.get("riskScoreLevel"),
                               "disabled": bool(u.get("disabled")),
                               "zdx_alerts": "unknown" if alerts is None else
                               len(alerts.get(str(u.get("email", "")).lower(), ()))})
    unavailable = await unavailable_sources(ev)
    unavailable[0]["reason"] += "; DLP violations per department come from there"
    sources = ev.table()
    flagged = [r["department"] for r in rows if r["dlp_covered"] is False
               or any(isinstance(r[k], int) and r[k] for k in ("high_risk_users", "zdx_alerts"))]
    parts = [f"{len(rows)} department(s)",
             "high-risk users unknown" if "users and risk" in unknown else
             f"{sum(r['high_risk_users'] for r in rows)} high-risk user(s) (risk level HIGH/CRITICAL or score >= "
             f"{min_score})",
             "web DLP coverage unknown" if "web DLP coverage" in unknown else
             f"{sum(not r['dlp_covered'] for r in rows)} department(s) without a web DLP rule",
             f"ZDX alerts {iso(window.start)} to {iso(window.end)} " + (
                 "unknown" if {"ZDX alerts", "users and risk"} & set(unknown) else "joined by user")]
    summary = "; ".join(parts) + (f" (unknown, not zero: {'; '.join(unknown.values())})" if unknown else "")
    data = {"summary": summary, "window": window.report(), "departments": rows,
            "high_risk_users": None if "users and risk" in unknown else risky_rows,
            "unknown": unknown, "attention": flagged, "sources": sources, "unavailable_sources": unavailable,
            "basis": "ZIA departments and users (userRiskScore), web DLP rule scopes, ZDX alerts joined on the email "
                     "of the affected devices' users; DLP incidents and blocked transactions are not over REST"}
    sections = [f"**{summary}**",
                "What counts here is what the API offers: users' ZIA risk scores, which web DLP rules cover each "
                "department, and ZDX alerts on the department's users' devices. The violation records themselves "
                "(DLP incidents, blocked web and firewall transactions) are not queryable over REST; see below.",
                "## Sources the API cannot query\n" + "\n".join(
                    f"- **{u['source']}**: {u['reason']}." + (f" Where they go: {'; '.join(u['where'])}."
                                                              if u.get("where") else "") for u in unavailable)]
    columns = ("department", "users", "disabled_users", "high_risk_users", "max_risk_score", "zdx_alerts",
               "zdx_affected_users", "dlp_covered", "dlp_rules", "tenant_wide_dlp_rules", "disabled_dlp_rules")
    return report_result("Policy violations by department", data, sections=sections, tables=[
        Table("Departments", columns, rows),
        Table("High-risk users", ("department", "user", "email", "risk_score", "risk_level", "disabled",
                                  "zdx_alerts"), risky_rows, unknown.get("users and risk", "")),
        Table("Sources", ("source", "status", "calls", "errors", "notes"), sources)])


# -- data residency --------------------------------------------------------------------------------
def _active(exclusion: dict[str, Any], now: float) -> bool:
    if exclusion.get("expired") or exclusion.get("disabledByOps"):
        return False
    start, end = epoch(exclusion.get("startTime")), epoch(exclusion.get("endTime"))
    return (start is None or start <= now) and (end is None or end >= now)


def _country(dc: dict[str, Any]) -> tuple[str, str]:
    geo = dc.get("geoInfo") or {}
    code = str(geo.get("countryCode") or dc.get("country") or "").upper()
    return code, str(geo.get("countryName") or dc.get("country") or code)


async def data_residency(ctx, args: dict[str, Any]):
    ev = Evidence(ctx)
    bad = [c for c in args.get("allowed_countries") or [] if not _COUNTRY.fullmatch(str(c).strip())]
    if bad:
        return refusal_result(Refusal(f"allowed_countries takes ISO 3166 alpha-2 codes (DE, FR, US): not "
                                      f"{', '.join(repr(b) for b in bad)}", "invalid_arguments", invalid=bad))
    allowed = sorted({str(c).strip().upper() for c in args.get("allowed_countries") or []})
    found = {}
    for key, operation, many in (("dcs", "zia_list_datacenters", True), ("subclouds", "zia_list_sub_clouds", True),
                                 ("exclusions", "zia_list_datacenter_exclusions", False)):
        ok, found[key] = await ev.fetch("ZIA", operation, many=many)
        if not ok:  # without any one of the three the answer would be wrong, not just incomplete
            return refusal_result(Refusal(f"could not read {operation}, so which datacenters traffic may use cannot "
                                          "be worked out: " + "; ".join(ev.source("ZIA")["errors"]), "upstream",
                                          operation=operation))
    dcs, subclouds, exclusions = found["dcs"] or [], found["subclouds"] or [], found["exclusions"] or []
    now = time.time()
    excluded = {str(e.get("dcid") or (e.get("dcName") or {}).get("id")): e for e in exclusions if _active(e, now)}
    member: dict[str, list[str]] = {}
    for sub in subclouds:
        for dc in sub.get("dcs") or []:
            member.setdefault(str(dc.get("id")), []).append(str(sub.get("name")))
        for exc in sub.get("exclusions") or []:
            dc_id = str((exc.get("datacenter") or {}).get("id"))
            if _active(exc, now):
                excluded.setdefault(dc_id, {**exc, "description": f"excluded in sub-cloud {sub.get('name')}"})
    rows = []
    for dc in sorted(dcs, key=lambda d: (_country(d)[0], str(d.get("name")))):
        dc_id = str(dc.get("id"))
        code, country = _country(dc)
        if dc.get("govOnly"):
            status = "government cloud only"
        elif dc.get("notReadyForUse") or dc.get("forFutureUse"):
            status = "not in service yet"
        elif dc_id in excluded:
            exc = excluded[dc_id]
            until = epoch(exc.get("endTime"))
            status = f"excluded until {iso(until)[:10] if until else 'further notice'}"
        elif subclouds and dc_id not in member:
            status = "outside the tenant's sub-clouds"
        else:
            status = "usable"
        rows.append({"datacenter": dc.get("name"), "city": dc.get("city") or (dc.get("geoInfo") or {}).get("cityName"),
                     "country": code, "country_name": country, "region": (dc.get("region") or {}).get("name"),
                     "sub_clouds": member.get(dc_id, []), "status": status,
                     "note": (excluded.get(dc_id) or {}).get("description") or "",
                     "outside_allowed": bool(allowed) and status == "usable" and code not in allowed})
    countries: dict[str, dict[str, Any]] = {}
    for row in rows:
        c = countries.setdefault(row["country"], {"country": row["country"], "country_name": row["country_name"],
                                                  "region": row["region"], "usable": [], "excluded": [],
                                                  "other": []})
        key = "usable" if row["status"] == "usable" else "excluded" if row["status"].startswith("excluded") else "other"
        c[key].append(row["datacenter"])
    country_rows = [{**c, "traffic_may_go_here": bool(c["usable"]),
                     "allowed": (c["country"] in allowed) if allowed else None} for c in countries.values()]
    usable = [r for r in rows if r["status"] == "usable"]
    outside = [r["datacenter"] for r in rows if r["outside_allowed"]]
    verdict = None if not allowed else "pass" if not outside else "fail"
    basis = ("There is no data-residency report API: this is derived from ZIA configuration (zia_list_datacenters, "
             "zia_list_sub_clouds, zia_list_datacenter_exclusions). " + (
                 "The tenant has sub-clouds, so traffic may use only their datacenters, less active exclusions. "
                 if subclouds else "The tenant has no sub-cloud, so traffic may use any public datacenter, less "
                                   "active exclusions. ") +
             "Which datacenter a user actually reaches depends on forwarding (Client Connector, PAC, GRE/IPsec) and "
             "location; the datacenter each transaction used is in the web logs (NSS), not over REST.")
    summary = (f"traffic may use {len(usable)} of {len(rows)} datacenter(s) in "
               f"{len({r['country'] for r in usable})} country(ies): "
               f"{', '.join(sorted({r['country'] for r in usable})) or 'none'}")
    if allowed:
        summary += (f"; allowed countries {', '.join(allowed)}: " + ("all usable datacenters are inside" if not outside
                                                                    else f"outside them: {', '.join(outside)}"))
    data = {"summary": summary, "basis": basis, "allowed_countries": allowed, "verdict": verdict,
            "outside_allowed": outside, "countries": country_rows, "datacenters": rows,
            "sub_clouds": [{"name": s.get("name"), "datacenters": [d.get("name") for d in s.get("dcs") or []]}
                           for s in subclouds],
            "active_exclusions": [{"datacenter": (e.get("dcName") or e.get("datacenter") or {}).get("name"),
                                   "until": iso(epoch(e.get("endTime"))), "why": e.get("description")}
                                  for e in excluded.values()],
            "sources": ev.table()}
    return report_result("Data residency (from ZIA configuration)", data, sections=[f"**{summary}**", basis], tables=[
        Table("Countries", ("country", "country_name", "region", "traffic_may_go_here", "usable", "excluded", "other",
                            "allowed"), country_rows),
        Table("Datacenters", ("datacenter", "city", "country", "region", "sub_clouds", "status", "note",
                              "outside_allowed"), rows)])


# -- definitions -----------------------------------------------------------------------------------
_NOT_LICENSED = ("Services this tenant does not license: their checks are not applicable (not read, not failed).")


TOOLS = [
    CompositeTool(
        name="compliance_generate_report",
        keywords=("audit evidence", "compliance audit", "NIST 800-53", "ISO 27001", "CIS controls",
                  "auditor request", "control mapping", "regulatory checklist", "audit readiness", "evidence pack",
                  "compliance gaps", "external auditor", "EASM findings", "control ids"),
        title="Compliance checklist with evidence",
        description=(
            "A compliance checklist read from configuration: SSL inspection decrypting, advanced threat and "
            "malware protections on, sandbox rules blocking, web DLP rules per department, admin audit trail "
            "readable, NSS/LSS log export, ZPA default deny, IdP SCIM, ZIA changes activated, disabled and stale "
            "rules, and no high or critical EASM findings on internet-facing assets. Each item: CIS v8 / NIST "
            "800-53 / ISO 27001 control ids, pass/fail/unknown/not_applicable, the "
            "evidence, the API call that proved it, when it was read, and a fix. The percentage is over the known "
            "items; unknown (a failed read) and not-licensed items are counted beside. There is no compliance API; "
            "read-only."),
        handler=compliance_report, toolset="composite.compliance", scope="read",
        operations=("zia_list_ssl_inspection_rules", "zia_get_advanced_threat_settings", "zia_get_malware_settings",
                    "zia_get_atp_malware_inspection", "zia_list_sandbox_rules", "zia_list_departments",
                    "zia_list_web_dlp_rules", "zia_get_audit_log_entry_report_export_status", "zia_list_nss_feeds",
                    "zpa_list_all_lss_configs", "zpa_get_policy_rules_by_page", "zpa_get_all_idps",
                    "zia_get_activation_status", "zia_list_url_filtering_rules", "zia_list_firewall_filtering_rules",
                    "easm_list_organizations", "easm_list_findings"),
        input_model=f"{_INPUTS}:_ReportInput",
    ),
    CompositeTool(
        name="compliance_list_department_violations",
        keywords=("department risk", "violations by department", "risky users by department",
                  "DLP coverage per department", "high-risk users", "department compliance", "team violations",
                  "policy breaches by team", "business unit risk", "userRiskScore", "per-department exposure",
                  "department report"),
        title="Policy violations by department",
        description=(
            "Per ZIA department: users, disabled users, high-risk users (ZIA userRiskScore), ZDX alerts on their "
            "devices in the window, and which web DLP rules cover it. Unknown department: an error. Violation "
            "records (ZWA DLP incidents, Z-Insights, NSS web/firewall logs) are not queryable here; the report "
            "says so and where the logs go. Read-only."),
        handler=department_violations, toolset="composite.compliance", scope="read",
        operations=("zia_list_departments", "zia_list_users", "zia_list_web_dlp_rules", "zdx_list_ongoing_alerts",
                    "zdx_list_historical_alerts", "zdx_list_alert_affected_devices", "zia_list_nss_feeds",
                    "zpa_list_all_lss_configs"),
        input_model=f"{_INPUTS}:_ViolationsInput",
    ),
    CompositeTool(
        name="compliance_map_data_residency",
        keywords=("data residency", "data sovereignty", "GDPR", "EU-only traffic", "which countries",
                  "datacenter locations", "in-country processing", "Schrems II", "data localization",
                  "traffic leaving region", "sub-clouds", "datacenter exclusions", "where traffic processed"),
        title="Data residency: which datacenters traffic may use",
        description=(
            "Which ZIA datacenters and sub-clouds the tenant's traffic may use, per country and region, from ZIA "
            "settings (datacenters, sub-clouds, datacenter exclusions). There is no residency-report API: this is "
            "derived from configuration. With allowed_countries, lists usable datacenters outside them. Read-only."),
        handler=data_residency, toolset="composite.compliance", scope="read",
        operations=("zia_list_datacenters", "zia_list_sub_clouds", "zia_list_datacenter_exclusions"),
        input_model=f"{_INPUTS}:_ResidencyInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

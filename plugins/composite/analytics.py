"""Built-in plugin: unified analytics (a scored security-posture checklist, an executive dashboard,
threat trends over a period).

OneAPI has no cross-service posture, dashboard or trend API: these are aggregations done here from
each service's own reads. Read-only; a read that fails turns its part into "unknown" (listed under
`problems`) and the rest of the report still comes back.

Run `python -m oneapi_mcp.plugins.composite.analytics --example-chart PATH` to draw the dashboard's chart
from the embedded mock (the picture in docs/images/).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Refusal,
    Table,
    bar_chart,
    line_chart,
    report_result,
)

from ..hookspecs import hookimpl
from ._kit.checks import controls_of, read_at, score_of, unknown_evidence, zpa_default_deny
from ._kit.insights import INCIDENTS_OP, SHADOW_IT_OP, threat_view
from ._kit.reads import Reads, failed, problem_lines
from ._kit.zdx import Window, day_of, iso, parse_time, parse_window, score_points, zdx_apps
from ._kit.zdx_windows import chunks, limit_days

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools", "posture_checks"]

DAY = 86400
_ADVANCED_THREATS = (
    ("malwareSitesBlocked", "malware sites"), ("cmdCtlServerBlocked", "command-and-control servers"),
    ("cmdCtlTrafficBlocked", "botnet (C2) traffic"), ("knownPhishingSitesBlocked", "known phishing sites"),
    ("suspectedPhishingSitesBlocked", "suspected phishing sites"), ("browserExploitsBlocked", "browser exploits"),
    ("fileFormatVunerabilitesBlocked", "file-format vulnerabilities"), ("cryptoMiningBlocked", "cryptomining"))
_MALWARE = (("virusBlocked", "viruses"), ("trojanBlocked", "trojans"), ("wormBlocked", "worms"),
            ("ransomwareBlocked", "ransomware"), ("spywareBlocked", "spyware"))
_ATP_INSPECTION = (("inspectInbound", "inbound"), ("inspectOutbound", "outbound"))
_RULE_LISTS = (("zia_list_url_filtering_rules", "URL filtering"), ("zia_list_firewall_filtering_rules", "firewall"),
               ("zia_list_ssl_inspection_rules", "SSL inspection"), ("zia_list_sandbox_rules", "sandbox"))
_HEALTHY = ("ZPN_STATUS_AUTHENTICATED", "ACTIVE", "UP", "CONNECTED")
_TREND_APPS = 20  # one score call per app: the trend covers at most this many
_SEVERITIES = ("critical", "major", "high", "warning", "medium", "minor", "low", "info")
UNAVAILABLE_SOURCES = [
    {"source": "ZIA web and firewall transaction logs", "reason": "not queryable over REST; exported to a SIEM "
                                                                  "by NSS (Cloud NSS feeds)"},
    {"source": "ZPA user activity and App Connector logs", "reason": "not queryable over REST; exported by LSS "
                                                                     "(log streaming)"},
    {"source": "ZWA DLP incidents and Business Insights", "reason": "their APIs are not vendored in this server yet"},
    {"source": "ZIA admin audit log", "reason": "reading it starts an export job (POST /auditlogEntryReport) that "
                                                "replaces the tenant's previous export, so this report does not; "
                                                "incident_list_user_events and siem_export_events do"},
]


def _n(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _why_unknown(reads: Reads, operations: tuple[str, ...]) -> str:
    """Each failed call among `operations`, with its HTTP status."""
    return "; ".join(unknown_evidence(p["call"], p.get("http_status"), p.get("error")) for p in reads.problems
                     if p["operation"] in operations) or "unknown: not read"


def _names(items: list[Any], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# -- the posture checklist -------------------------------------------------------------------------
@dataclass
class Check:
    """One checklist item: its weight, pass/fail/unknown, the evidence and the calls that proved it."""

    id: str
    title: str
    weight: int
    status: str = "unknown"
    evidence: list[str] = field(default_factory=list)
    proved_by: list[str] = field(default_factory=list)

    read_at: list[str] = field(default_factory=list)

    def proved(self, call: str, at: str | None = None) -> None:
        """The call that proves this item, and when it was made (dated evidence)."""
        self.proved_by.append(call)
        self.read_at.append(at or read_at())

    def verdict(self, ok: bool | None, *evidence: str) -> None:
        self.status = "unknown" if ok is None else "pass" if ok else "fail"
        self.evidence.extend(e for e in evidence if e)

    def report(self) -> dict[str, Any]:
        return {"id": self.id, "check": self.title, "controls": controls_of(self.id), "weight": self.weight,
                "status": self.status, "points": self.weight if self.status == "pass" else 0,
                "evidence": self.evidence, "proved_by": self.proved_by, "read_at": self.read_at}


@dataclass
class PostureOptions:
    as_of: int
    stale_days: int = 180
    unseen_days: int = 30
    poor_score: int = 34
    unlicensed: frozenset[str] = frozenset()


async def _read(reads: Reads, check: Check, operation: str, arguments: dict[str, Any] | None = None,
                **kw: Any) -> Any:
    data = await reads.get(operation, arguments, **kw)
    check.proved(reads.call_of(operation))
    if data is None:
        problem = next((p for p in reversed(reads.problems) if p["operation"] == operation), {})
        check.evidence.append(unknown_evidence(reads.call_of(operation), problem.get("http_status"),
                                               problem.get("error")))
    return data


def _flags(settings: Any, keys: tuple[tuple[str, str], ...], what: str) -> tuple[bool | None, str]:
    if not isinstance(settings, dict):
        return None, ""
    known = [(k, label) for k, label in keys if isinstance(settings.get(k), bool)]
    if not known:
        return None, f"{what}: none of {', '.join(k for k, _ in keys)} in the answer"
    off = [label for k, label in known if not settings[k]]
    if off:
        return False, f"{what} not on for: {', '.join(off)}"
    return True, f"{what} on for all {len(known)}: {', '.join(label for _, label in known)}"


def _enabled(rule: dict[str, Any]) -> bool:
    return str(rule.get("state", "ENABLED")).upper() != "DISABLED"


async def _zia_protections(reads: Reads, checks: dict[str, Check]) -> None:
    atp = checks["zia_advanced_threats"]
    verdict = _flags(await _read(reads, atp, "zia_get_advanced_threat_settings"), _ADVANCED_THREATS,
                     "advanced threat blocking")
    atp.verdict(*verdict)
    malware = checks["zia_malware"]
    blocked = _flags(await _read(reads, malware, "zia_get_malware_settings"), _MALWARE, "malware blocking")
    inspect = _flags(await _read(reads, malware, "zia_get_atp_malware_inspection"), _ATP_INSPECTION,
                     "malware inspection")
    states = (blocked[0], inspect[0])
    malware.verdict(False if False in states else None if None in states else True, blocked[1], inspect[1])


async def _zia_rules(reads: Reads, checks: dict[str, Check], opts: PostureOptions) -> dict[str, list[dict]]:
    rules: dict[str, list[dict]] = {}
    for operation, kind in _RULE_LISTS:
        check = checks["zia_sandbox"] if kind == "sandbox" else checks["zia_ssl_inspection"] if (
            kind == "SSL inspection") else checks["zia_disabled_rules"]
        found = await _read(reads, check, operation, all_pages=True, max_items=5000)
        if found is not None:
            rules[kind] = [r for r in found if isinstance(r, dict)]
            if check is not checks["zia_disabled_rules"]:
                checks["zia_disabled_rules"].proved(reads.call_of(operation), check.read_at[-1])
            checks["zia_stale_rules"].proved(reads.call_of(operation), check.read_at[-1])
    sandbox, ssl = checks["zia_sandbox"], checks["zia_ssl_inspection"]
    if "sandbox" in rules:
        on = [r for r in rules["sandbox"] if _enabled(r) and not r.get("defaultRule")]
        sandbox.verdict(bool(on), f"{len(on)} enabled sandbox rule(s)" + (f": {_names([r.get('name') for r in on])}"
                                                                        if on else " besides the default"))
    if "SSL inspection" in rules:
        decrypting = [r for r in rules["SSL inspection"] if _enabled(r)
                      and str((r.get("action") or {}).get("type", "")).upper() == "DECRYPT"]
        ssl.verdict(bool(decrypting), f"{len(decrypting)} enabled SSL inspection rule(s) decrypt" + (
            f": {_names([r.get('name') for r in decrypting])}" if decrypting else
            f" (of {len(rules['SSL inspection'])}): traffic is not inspected"))
    if rules:
        missing = [kind for _, kind in _RULE_LISTS if kind not in rules]
        disabled = [f"{kind} '{r.get('name')}'" for kind, found in rules.items() for r in found if not _enabled(r)]
        total = sum(len(found) for found in rules.values())
        # a list that could not be read may hide a disabled or stale rule: only a failure is proven then
        checks["zia_disabled_rules"].verdict(False if disabled else None if missing else True,
                                             f"{len(disabled)} of {total} ZIA rule(s) disabled"
                                             + (f": {_names(disabled)}" if disabled else ""))
        _stale(checks["zia_stale_rules"], rules, opts)
        if missing:
            note = f"not read: the {', '.join(missing)} rules (see problems)"
            for check in (checks["zia_disabled_rules"], checks["zia_stale_rules"]):
                check.evidence.append(note)
            if checks["zia_stale_rules"].status == "pass":
                checks["zia_stale_rules"].status = "unknown"
    return rules


def _stale(check: Check, rules: dict[str, list[dict]], opts: PostureOptions) -> None:
    cutoff = opts.as_of - opts.stale_days * DAY
    stale, undated = [], 0
    for kind, found in rules.items():
        for rule in found:
            changed = _n(rule.get("lastModifiedTime"))
            if changed is None or rule.get("predefined") or rule.get("defaultRule"):
                undated += changed is None and not (rule.get("predefined") or rule.get("defaultRule"))
                continue
            changed = changed // 1000 if changed > 100_000_000_000 else changed
            if changed < cutoff:
                stale.append(f"{kind} '{rule.get('name')}' ({day_of(changed)})")
    dated = sum(len(f) for f in rules.values()) - undated
    note = f"; {undated} rule(s) carry no lastModifiedTime" if undated else ""
    if stale:
        check.verdict(False, f"{len(stale)} rule(s) unchanged for over {opts.stale_days} days: {_names(stale)}{note}")
    elif dated:
        check.verdict(True, f"no rule unchanged for over {opts.stale_days} days{note}")
    else:
        check.verdict(None, f"no rule carries lastModifiedTime{note}")


async def _zpa(reads: Reads, checks: dict[str, Check]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    conn = checks["zpa_connectors"]
    connectors = await _read(reads, conn, "zpa_list_all_assistants", {"pagesize": 500}, all_pages=True)
    if connectors is not None:
        enabled = [c for c in connectors if c.get("enabled", True)]
        down = [c for c in enabled if str(c.get("controlChannelStatus") or c.get("runtimeStatus") or "").upper()
                not in _HEALTHY]
        out["connectors"] = {"total": len(connectors), "up": len(enabled) - len(down), "down": len(down),
                             "disabled": len(connectors) - len(enabled)}
        conn.verdict(bool(enabled) and not down, (
            f"{len(down)} of {len(enabled)} enabled App Connector(s) not connected: " + _names(
                [f"{c.get('name')} ({c.get('controlChannelStatus') or c.get('runtimeStatus')})" for c in down])
            if down else f"all {len(enabled)} enabled App Connector(s) connected" if enabled else
            "no enabled App Connector: private apps cannot be reached"))
    deny = checks["zpa_default_deny"]
    rules = await _read(reads, deny, "zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY",
                                                                       "pagesize": 500}, all_pages=True)
    if rules is not None:
        out["access_rules"] = len(rules)
        verdict = zpa_default_deny(rules)  # the same definition compliance_generate_report uses
        deny.verdict(verdict.status == "pass", verdict.evidence)
    return out


async def _zdx(reads: Reads, checks: dict[str, Check], opts: PostureOptions) -> list[dict[str, Any]] | None:
    check = checks["zdx_poor_apps"]
    window = Window(opts.as_of - DAY, opts.as_of)
    apps = await zdx_apps(reads, window)
    check.proved(reads.call_of("zdx_list_applications"))
    if apps is None:
        problem = next((p for p in reversed(reads.problems) if p["operation"] == "zdx_list_applications"), {})
        check.evidence.append(unknown_evidence(reads.call_of("zdx_list_applications"), problem.get("http_status"),
                                               problem.get("error")))
        return None
    scored = [a for a in apps if isinstance(a.get("score"), (int, float)) and a["score"] >= 0]
    poor = [a for a in scored if a["score"] < opts.poor_score]
    check.verdict(bool(scored) and not poor if scored else None, (
        f"{len(poor)} of {len(scored)} ZDX app(s) score below {opts.poor_score} over the last 24 h: "
        + _names([f"{a.get('name')} ({a['score']})" for a in poor])) if poor else
        f"all {len(scored)} ZDX app(s) score {opts.poor_score} or more over the last 24 h" if scored else
        "ZDX returned no scored app")
    return apps


async def _zcc(reads: Reads, checks: dict[str, Check], opts: PostureOptions) -> list[dict[str, Any]] | None:
    check = checks["zcc_unseen_devices"]
    devices = await _read(reads, check, "zcc_list_devices", {"pageSize": 5000}, all_pages=True, max_items=50_000,
                          fields=["udid", "user", "machineHostname", "registrationState", "last_seen_time"])
    if devices is None:
        return None
    registered = [d for d in devices if str(d.get("registrationState", "Registered")) == "Registered"]
    cutoff = opts.as_of - opts.unseen_days * DAY
    unseen = [d for d in registered if (_n(d.get("last_seen_time")) or 0) < cutoff]
    check.verdict(not unseen, (f"{len(unseen)} of {len(registered)} registered device(s) not seen for "
                               f"{opts.unseen_days} days: " + _names([f"{d.get('machineHostname')} ({d.get('user')})"
                                                                      for d in unseen])) if unseen else
                  f"all {len(registered)} registered device(s) seen within {opts.unseen_days} days")
    return devices


async def _activation(reads: Reads, checks: dict[str, Check]) -> None:
    check = checks["zia_activation"]
    status = await _read(reads, check, "zia_get_activation_status")
    if isinstance(status, dict) and status.get("status"):
        state = str(status["status"])
        check.verdict(state == "ACTIVE", "ZIA activation status ACTIVE: nothing is waiting" if state == "ACTIVE"
                      else f"ZIA activation status {state}: staged changes are not in force until activated "
                           "(activation is tenant-wide)")


def _checklist(opts: PostureOptions) -> dict[str, Check]:
    items = (
        Check("zia_advanced_threats", "ZIA advanced threat protection blocks the main threat categories", 12),
        Check("zia_malware", "ZIA malware protection blocks malware and inspects both directions", 12),
        Check("zia_sandbox", "ZIA sandbox has an enabled rule", 8),
        Check("zia_ssl_inspection", "ZIA SSL inspection decrypts traffic (an enabled DECRYPT rule)", 10),
        Check("zia_disabled_rules", "No disabled ZIA rules (URL, firewall, SSL, sandbox)", 6),
        Check("zia_stale_rules", f"No ZIA rule unchanged for over {opts.stale_days} days", 6),
        Check("zpa_connectors", "Every enabled ZPA App Connector is connected", 12),
        Check("zpa_default_deny", "The ZPA access policy denies by default (no allow-all rule)", 10),
        Check("zdx_poor_apps", f"No ZDX app scores below {opts.poor_score} (poor)", 8),
        Check("zcc_unseen_devices", f"Every registered Client Connector device seen within {opts.unseen_days} days", 8),
        Check("zia_activation", "No ZIA changes waiting for activation", 8),
    )
    return {c.id: c for c in items}


async def posture_checks(reads: Reads, opts: PostureOptions) -> dict[str, Any]:
    """Run the checklist; the score, the items, and what was read along the way (for the dashboard)."""
    checks = _checklist(opts)
    licensed = [s for s in ("zia", "zpa", "zdx", "zcc") if s not in opts.unlicensed]
    for check in checks.values():
        if check.id.split("_")[0] in opts.unlicensed:
            check.status = "not_applicable"
            check.evidence.append(f"{check.id.split('_')[0].upper()} is not licensed for this tenant (not_licensed); "
                                  "nothing was read")
    await reads.progress(0, 6, "ZIA threat and malware protection")
    rules: dict[str, list[dict]] = {}
    if "zia" in licensed:
        await _zia_protections(reads, checks)
        await reads.progress(1, 6, "ZIA rules")
        rules = await _zia_rules(reads, checks, opts)
    await reads.progress(2, 6, "ZPA connectors and access policy")
    zpa = await _zpa(reads, checks) if "zpa" in licensed else {}
    await reads.progress(3, 6, "ZDX app scores")
    apps = await _zdx(reads, checks, opts) if "zdx" in licensed else None
    await reads.progress(4, 6, "Client Connector devices")
    devices = await _zcc(reads, checks, opts) if "zcc" in licensed else None
    await reads.progress(5, 6, "ZIA activation")
    if "zia" in licensed:
        await _activation(reads, checks)
    await reads.progress(6, 6, "checklist scored")
    items = [c.report() for c in checks.values()]
    scored = score_of(items, weight="weight")
    return {"score": scored["percent"], "out_of": 100, "known_weight": sum(i["weight"] for i in items
                                                                           if i["status"] in ("pass", "fail")),
            "unknown_weight": scored["unknown_weight"], "unknown": scored["unknown"],
            "not_applicable": scored["not_applicable"], "counts": dict(Counter(i["status"] for i in items)),
            "items": items, "_seen": {"rules": rules, "zpa": zpa, "apps": apps, "devices": devices}}


def _shown_score(result: dict[str, Any]) -> str:
    """`83/100 of the known weight 78` or `unknown` when nothing could be checked."""
    if result["score"] is None:
        return "unknown (nothing could be checked)"
    return f"{result['score']}/100 of the known weight {result['known_weight']:g}"


def _options(args: dict[str, Any]) -> PostureOptions:
    now = int(datetime.now(UTC).timestamp())
    as_of = parse_time(args["as_of"], "as_of") if args.get("as_of") else now
    if as_of > now + 300:
        raise Refusal(f"as_of {iso(as_of)} is in the future (now is {iso(now)})", "invalid_arguments", field="as_of")
    return PostureOptions(as_of, int(args.get("stale_days", 180)), int(args.get("unseen_days", 30)),
                          int(args.get("poor_score", 34)), frozenset(args.get("not_licensed") or ()))


async def security_posture(ctx, args: dict[str, Any]):
    try:
        opts = _options(args)
    except Refusal as exc:
        return failed(exc)
    reads = Reads(ctx)
    result = await posture_checks(reads, opts)
    result.pop("_seen")
    failing = [i for i in result["items"] if i["status"] == "fail"]
    summary = (f"security posture {_shown_score(result)} as of {iso(opts.as_of)}: "
               f"{result['counts'].get('pass', 0)} passed, {len(failing)} failed; {result['unknown']} unknown "
               f"(weight {result['unknown_weight']:g}, not counted: a read failed), {result['not_applicable']} not "
               f"applicable" + (f"; failed: {', '.join(i['id'] for i in failing)}" if failing else ""))
    data = {"tool": ctx.call.name, "summary": summary, "as_of": iso(opts.as_of), **result,
            "thresholds": {"stale_days": opts.stale_days, "unseen_days": opts.unseen_days,
                           "poor_score": opts.poor_score},
            "computed_here": "OneAPI has no posture API: each item is checked here from the services' own reads",
            "problems": reads.problems, "reads": reads.count}
    rows = [{**i, "evidence": "; ".join(i["evidence"]), "proved_by": "; ".join(dict.fromkeys(i["proved_by"]))}
            for i in result["items"]]
    table = Table("Security posture checklist", ["check", "controls", "status", "weight", "points", "evidence",
                                                 "proved_by", "read_at"], rows)
    return report_result(f"Security posture: {_shown_score(result)}", data,
                         sections=[summary, *problem_lines(reads)], tables=[table])


# -- executive dashboard ---------------------------------------------------------------------------
def _total(data: Any, *keys: str) -> int | None:
    if isinstance(data, dict):
        for key in keys:
            if data.get(key) is not None:
                return _n(data[key])
    return None


async def executive_dashboard(ctx, args: dict[str, Any]):
    try:
        opts = _options(args)
    except Refusal as exc:
        return failed(exc)
    reads = Reads(ctx)
    posture = await posture_checks(reads, opts)
    seen = posture.pop("_seen")
    zid = await reads.get("zid_list_users", {"limit": 1})
    zpa_apps = await reads.get("zpa_list_all_applications", {"pagesize": 1})
    alerts = await reads.get("zdx_list_ongoing_alerts", {}, all_pages=True)
    zins = await threat_view(reads, opts.as_of - 7 * DAY, opts.as_of, top=5)
    apps = seen["apps"] or []
    scores = [a["score"] for a in apps if isinstance(a.get("score"), (int, float)) and a["score"] >= 0]
    connectors = seen["zpa"].get("connectors") or {}
    devices = seen["devices"]
    cutoff = opts.as_of - opts.unseen_days * DAY
    recent = [d for d in devices or [] if (_n(d.get("last_seen_time")) or 0) >= cutoff]
    zia_rules = sum(len(r) for r in seen["rules"].values()) if seen["rules"] else None
    head = [
        ("users", "Users (ZIdentity)", _total(zid, "results_total"), "zid_list_users"),
        ("devices", "Devices (Client Connector)", len(devices) if devices is not None else None, "zcc_list_devices"),
        ("zpa_apps", "Private apps (ZPA segments)", _total(zpa_apps, "totalCount"), "zpa_list_all_applications"),
        ("zdx_apps", "Monitored apps (ZDX)", len(apps) if seen["apps"] is not None else None, "zdx_list_applications"),
        ("zia_rules", "ZIA rules", zia_rules, "zia_list_*_rules"),
        ("zpa_rules", "ZPA access rules", seen["zpa"].get("access_rules"), "zpa_get_policy_rules_by_page"),
        ("connectors_up", "Connectors up", connectors.get("up"), "zpa_list_all_assistants"),
        ("connectors_down", "Connectors down", connectors.get("down"), "zpa_list_all_assistants"),
        ("ongoing_alerts", "Ongoing alerts (ZDX)", len(alerts) if alerts is not None else None,
         "zdx_list_ongoing_alerts"),
        ("zdx_score", "ZDX average score (0-100)", round(statistics.fmean(scores), 1) if scores else None,
         "zdx_list_applications"),
        ("posture_score", "Security posture (0-100)", posture["score"], "analytics_score_security_posture"),
        ("threats_blocked_7d", "Threats blocked, 7 d (Z-Insights)", zins["blocked_total"], INCIDENTS_OP),
        ("shadow_it_apps_7d", "Shadow IT apps, 7 d (Z-Insights)", (zins["shadow_it"] or {}).get("apps"),
         SHADOW_IT_OP),
    ]
    numbers = {key: value for key, _, value, _ in head}
    data = {"tool": ctx.call.name, "as_of": iso(opts.as_of), "headline": numbers,
            "ongoing_alerts_by_severity": dict(Counter(str(a.get("severity")) for a in alerts or [])),
            "posture": {k: posture[k] for k in ("score", "out_of", "unknown_weight", "counts")},
            "posture_failed": [i["check"] for i in posture["items"] if i["status"] == "fail"],
            "z_insights_7d": zins,
            "computed_here": "OneAPI has no dashboard API: every number is counted here from the services' reads; "
                             "the ZDX score is the mean of the apps' scores over the 24 h before as_of; counts and "
                             "ongoing alerts are as the services report them now",
            "problems": reads.problems, "reads": reads.count}

    def shown(value: Any) -> str:
        return "unknown" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    summary = (f"As of {iso(opts.as_of)}: {shown(numbers['users'])} users, {shown(numbers['devices'])} devices, "
               f"{shown(numbers['zpa_apps'])} private apps; connectors {shown(numbers['connectors_up'])} up / "
               f"{shown(numbers['connectors_down'])} down; {shown(numbers['ongoing_alerts'])} ongoing ZDX alert(s); "
               f"ZDX average score {shown(numbers['zdx_score'])}; security posture {_shown_score(posture)}, "
               f"{posture['unknown']} item(s) unknown; Z-Insights, last 7 d: {shown(numbers['threats_blocked_7d'])} "
               f"threat(s) blocked"
               + (f" (most {zins['categories'][0]['category']})" if zins["categories"] else "")
               + f", {shown(numbers['shadow_it_apps_7d'])} shadow IT app(s)")
    data["summary"] = summary
    counts = [(label, value) for key, label, value, _ in head[:9] if value is not None]
    seen_share = round(100 * len(recent) / len(devices)) if devices else None
    health = [(f"Devices seen in {opts.unseen_days} d (%)", seen_share),
              ("Connectors up (%)", round(100 * connectors["up"] / max(1, connectors["up"] + connectors["down"]))
               if connectors else None),
              ("ZDX average score", numbers["zdx_score"]), ("Security posture", posture["score"])]
    health = [(label, value) for label, value in health if value is not None]
    charts = [bar_chart("Tenant at a glance", "what is counted", "count", [c[0] for c in counts],
                        [c[1] for c in counts])]
    if health:
        charts.append(bar_chart("Health scores", "measure", "score or share (0-100)", [h[0] for h in health],
                                [h[1] for h in health], target=66, target_label="good from"))
    table = Table("Executive dashboard", ["metric", "value", "source"],
                  [{"metric": label, "value": "unknown (the read failed)" if value is None else value, "source": source}
                   for _, label, value, source in head])
    failed_items = Table("Posture items that failed", ["check", "weight", "evidence"],
                         [{**i, "evidence": "; ".join(i["evidence"])} for i in posture["items"]
                          if i["status"] == "fail"])
    return report_result("Executive dashboard", data, sections=[summary, *problem_lines(reads)],
                         tables=[table, failed_items], charts=charts)


# -- threat trends ---------------------------------------------------------------------------------
async def _alert_history(reads: Reads, operation: str, window: Window) -> list[Any] | None:
    """A ZDX alert list over the window, read in the pieces ZDX takes (its documented 14-day limit, see
    _zdx_windows); None when any piece could not be read (then the whole is unknown, never partial)."""
    found: list[Any] = []
    for start, end in chunks(window.start, window.end, operation):
        part = await reads.get(operation, {"from_": start, "to": end}, all_pages=True)
        if part is None:
            return None
        found += list(part)
    return found


async def threat_trends(ctx, args: dict[str, Any]):
    try:
        window = parse_window(args, "7d")
    except Refusal as exc:
        return failed(exc)
    reads = Reads(ctx)
    days = window.days()
    historical = await _alert_history(reads, "zdx_list_historical_alerts", window)
    ongoing = await _alert_history(reads, "zdx_list_ongoing_alerts", window)
    unknown: dict[str, str] = {}
    if historical is None or ongoing is None:  # unknown, not "no alert": say which call failed
        unknown["alerts"] = _why_unknown(reads, ("zdx_list_historical_alerts", "zdx_list_ongoing_alerts"))
    alerts = {a.get("id"): a for a in [*(historical or []), *(ongoing or [])] if isinstance(a, dict)}
    inside = [a for a in alerts.values() if isinstance(a.get("started_on"), (int, float))
              and window.contains(int(a["started_on"]))]
    severities = sorted({str(a.get("severity") or "unknown").lower() for a in inside},
                        key=lambda s: _SEVERITIES.index(s) if s in _SEVERITIES else 99)
    per_day = Counter((day_of(a["started_on"]), str(a.get("severity") or "unknown").lower()) for a in inside)
    alert_rows = [{"day": d, "total": sum(per_day[(d, s)] for s in severities),
                   **{s: per_day[(d, s)] for s in severities}} for d in days]
    series = {s: [per_day[(d, s)] for d in days] for s in severities}
    charts = []
    if inside:
        charts.append(line_chart("ZDX alerts started per day, by severity", "day (UTC)", "alerts started (count)",
                                 days, series))
    score_rows: list[dict[str, Any]] = []
    score_apps: list[dict[str, Any]] = []
    if args.get("score_trend", True):
        apps = score_apps = await zdx_apps(reads, window) or []
        if not apps and any(p["operation"] == "zdx_list_applications" for p in reads.problems):
            unknown["scores"] = _why_unknown(reads, ("zdx_list_applications",))
        by_app: dict[str, dict[str, list[float]]] = {}
        for n, app in enumerate(apps[:_TREND_APPS]):
            await reads.progress(n, min(len(apps), _TREND_APPS), f"ZDX score of {app.get('name')}")
            answer = await reads.get("zdx_get_app_score", {"id": app["id"], **window.zdx()})
            points, _ = score_points(answer, window) if answer is not None else ([], 0)
            for ts, value in points:
                by_app.setdefault(str(app.get("name")), {}).setdefault(day_of(ts), []).append(value)
        for d in days:
            row: dict[str, Any] = {"day": d}
            for name, daily in by_app.items():
                row[name] = round(statistics.fmean(daily[d]), 1) if daily.get(d) else None
            values = [v for k, v in row.items() if k != "day" and v is not None]
            row["average"] = round(statistics.fmean(values), 1) if values else None
            score_rows.append(row)
        charted = [r for r in score_rows if r["average"] is not None]  # days ZDX has no score for stay out
        if charted:
            lines = {name: [r[name] if r[name] is not None else float("nan") for r in charted] for name in by_app}
            lines["all apps (mean)"] = [r["average"] for r in charted]
            charts.append(line_chart("ZDX score per day", "day (UTC)", "ZDX score (0-100)",
                                     [r["day"] for r in charted], lines))
    zins = await threat_view(reads, window.start, window.end)
    zins_tables, zins_text = _insights_parts(zins, days, charts, reads)
    worst = max(alert_rows, key=lambda r: r["total"]) if inside else None
    period = f"{iso(window.start)} to {iso(window.end)}"
    summary = (f"ZDX alerts over {period}: unknown ({unknown['alerts']})" if "alerts" in unknown else
               f"{len(inside)} ZDX alert(s) started over {period} ("
               + ", ".join(f"{sum(series[s])} {s}" for s in severities) + ")" if inside else
               f"no ZDX alert started over {period}")
    if worst:
        summary += f"; busiest day {worst['day']} with {worst['total']}"
    scored = [r for r in score_rows if r["average"] is not None]
    if "scores" in unknown:
        summary += f"; ZDX score trend unknown ({unknown['scores']})"
    elif len(scored) >= 2:
        low = min(scored, key=lambda r: r["average"])
        summary += (f"; ZDX score (mean of apps) {scored[0]['average']:g} on {scored[0]['day']}, "
                    f"{scored[-1]['average']:g} on {scored[-1]['day']}, lowest {low['average']:g} on {low['day']}")
    summary += f"; {zins_text}"
    listing = [{"id": a.get("id"), "started": iso(a["started_on"]), "ended": iso(a["ended_on"])
                if a.get("ended_on") else "ongoing", "severity": a.get("severity"), "rule": a.get("rule_name"),
                "application": (a.get("application") or {}).get("name"), "devices": a.get("num_devices"),
                "status": a.get("alert_status")} for a in sorted(inside, key=lambda a: a["started_on"])]
    if "alerts" in unknown:
        alert_rows, listing = None, None
    data = {"tool": ctx.call.name, "summary": summary, "window": window.report(), "alerts_by_day": alert_rows,
            "score_by_day": None if "scores" in unknown else score_rows, "alerts": listing,
            "ongoing_now": None if ongoing is None else len({a.get("id") for a in ongoing if isinstance(a, dict)}),
            "unknown": unknown, "z_insights": zins,
            "unavailable_sources": UNAVAILABLE_SOURCES,
            "sources": ["ZDX alerts (zdx_list_historical_alerts, zdx_list_ongoing_alerts), by the day they started",
                        "ZDX app scores (zdx_get_app_score), averaged per day",
                        f"Z-Insights cyber-security incidents ({INCIDENTS_OP}: by threat category, by day, by user) "
                        f"and shadow IT ({SHADOW_IT_OP}), as Z-Insights counts them"],
            "problems": reads.problems, "reads": reads.count}
    notes = []
    pieces = len(chunks(window.start, window.end, "zdx_list_historical_alerts"))
    if pieces > 1:
        notes.append(f"ZDX alert lists answer at most {limit_days(['zdx_list_historical_alerts'])[0]} days per "
                     f"request (documented), so the alerts were read in {pieces} consecutive pieces")
    if args.get("score_trend", True) and len(score_apps) > _TREND_APPS:
        notes.append(f"the score trend covers the first {_TREND_APPS} of {len(score_apps)} ZDX apps")
    if notes:
        data["notes"] = notes
    unavailable = "**Not queryable here:**\n" + "\n".join(f"- {u['source']}: {u['reason']}"
                                                          for u in UNAVAILABLE_SOURCES)
    tables = [Table("Alerts by day", ["day", "total", *severities], alert_rows or [], unknown.get("alerts", "")),
              Table("ZDX alerts", ["id", "started", "ended", "severity", "rule", "application", "devices", "status"],
                    listing or [], unknown.get("alerts", ""))]
    if "scores" in unknown:
        tables.insert(1, Table("ZDX score by day", ["day", "average"], [], unknown["scores"]))
    elif score_rows:
        tables.insert(1, Table("ZDX score by day", ["day", "average", *[k for k in score_rows[0]
                                                                          if k not in ("day", "average")]],
                               score_rows))
    return report_result("Threat trends", data, sections=[summary, unavailable, *problem_lines(reads)],
                         tables=[*tables, *zins_tables], charts=charts)


def _insights_parts(zins: dict[str, Any], days: list[str], charts: list, reads: Reads) -> tuple[list[Table], str]:
    """Z-Insights' share of the threat trends: tables, a chart (appended to `charts`) and a sentence."""
    why = _why_unknown(reads, (INCIDENTS_OP, SHADOW_IT_OP))
    per_day = Counter()
    for ts, total in zins["per_day"] or ():
        per_day[day_of(ts)] += total
    day_rows = [{"day": d, "blocked": per_day[d]} for d in days] if zins["per_day"] is not None else []
    if day_rows and any(r["blocked"] for r in day_rows):
        charts.append(line_chart("Z-Insights threats blocked per day", "day (UTC)", "incidents (count)", days,
                                 {"blocked": [r["blocked"] for r in day_rows]}))
    cats = zins["categories"]
    text = (f"Z-Insights threats blocked: unknown ({why})" if cats is None else
            f"Z-Insights: {zins['blocked_total']} threat(s) blocked"
            + (f", most {cats[0]['category']} ({cats[0]['blocked']})" if cats else ""))
    shadow = zins["shadow_it"]
    text += f"; shadow IT: {shadow['apps']} app(s)" if shadow else "; shadow IT unknown"
    tables = [Table("Z-Insights threats blocked per day", ["day", "blocked"], day_rows,
                    "" if zins["per_day"] is not None else why),
              Table("Z-Insights threat categories", ["category", "blocked"], cats or [],
                    "" if cats is not None else why),
              Table("Z-Insights top users by threats blocked", ["user", "blocked"], zins["top_users"] or [],
                    "" if zins["top_users"] is not None else why),
              Table("Z-Insights shadow IT by category", ["category", "apps"],
                    (shadow or {}).get("by_category") or [], "" if shadow else why)]
    return tables, text


# -- definitions -----------------------------------------------------------------------------------
_AS_OF = Field(None, description="Judge ages (stale rules, unseen devices) as of this time, ISO 8601 or epoch "
                                "seconds (default now).")


_POSTURE_OPS = ("zia_get_advanced_threat_settings", "zia_get_malware_settings", "zia_get_atp_malware_inspection",
                "zia_list_url_filtering_rules", "zia_list_firewall_filtering_rules", "zia_list_ssl_inspection_rules",
                "zia_list_sandbox_rules", "zia_get_activation_status", "zpa_list_all_assistants",
                "zpa_get_policy_rules_by_page", "zdx_list_applications", "zcc_list_devices")


TOOLS = [
    CompositeTool(
        name="analytics_score_security_posture",
        keywords=("security posture score", "security health check", "posture assessment", "hardening review",
                  "security scorecard", "configuration gaps", "misconfiguration review", "how secure are we",
                  "best practice review", "weak spots", "security baseline", "gap analysis", "stale disabled rules"),
        title="Security posture across ZIA, ZPA, ZDX and ZCC",
        description=(
            "A scored security checklist (weights sum to 100): ZIA threat, malware, sandbox and SSL-inspection "
            "protection; disabled and stale ZIA rules; ZPA connectors down and ZPA default deny (no allow-all rule); "
            "poor ZDX apps; Client Connector devices not seen lately; pending ZIA activation. Each item: weight, "
            "control ids, pass/fail/unknown/not_applicable, evidence, the call that proved it and when. The score "
            "is over the known items; unknown (a failed read) and not-licensed items are counted beside. "
            "Read-only."),
        handler=security_posture, toolset="composite.analytics", scope="read", operations=_POSTURE_OPS,
        input_model=f"{_INPUTS}:_PostureInput",
    ),
    CompositeTool(
        name="analytics_build_executive_dashboard",
        keywords=("CISO one-pager", "board report", "executive summary", "management overview", "KPI snapshot",
                  "security at a glance", "headline metrics", "leadership briefing", "weekly exec update",
                  "cross-product overview", "top blocked threats", "shadow IT summary", "overall health snapshot"),
        title="Executive dashboard across services",
        description=(
            "Headline numbers across services: users, devices, private and monitored apps, ZIA and ZPA rules, "
            "connectors up/down, ongoing ZDX alerts, ZDX average score, the security posture score, and from "
            "Z-Insights the threats blocked (top categories and users) and shadow IT apps over the last 7 days, "
            "with bar charts. Read-only."),
        handler=executive_dashboard, toolset="composite.analytics", scope="read",
        operations=(*_POSTURE_OPS, "zid_list_users", "zpa_list_all_applications", "zdx_list_ongoing_alerts",
                    INCIDENTS_OP, SHADOW_IT_OP),
        input_model=f"{_INPUTS}:_DashboardInput",
    ),
    CompositeTool(
        name="analytics_report_threat_trends",
        keywords=("threat trend", "threats blocked per day", "month over month", "attack trend chart",
                  "top threat categories", "top risky users", "shadow IT trend", "incident volume trend",
                  "ZDX alert trend", "historical threat activity", "weekly threat report", "past month threats",
                  "trend CSV"),
        title="Threat trends over a period",
        description=(
            "Trends over a window (default 7d, at most 31 days; ZDX alert lists take 14 days per request, so longer "
            "windows are read in pieces): threats blocked per day, threat categories, top users and shadow IT from "
            "Z-Insights; ZDX alerts started per day by severity and the ZDX score per day; as line charts, tables "
            "and CSV. Says which sources REST cannot query (ZIA/ZPA logs go out by NSS/LSS). Read-only."),
        handler=threat_trends, toolset="composite.analytics", scope="read",
        operations=("zdx_list_historical_alerts", "zdx_list_ongoing_alerts", "zdx_list_applications",
                    "zdx_get_app_score", INCIDENTS_OP, SHADOW_IT_OP),
        input_model=f"{_INPUTS}:_TrendsInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS


# -- an example picture for the docs ---------------------------------------------------------------
def _example_chart(path: str, tool: str = "analytics_report_threat_trends", chart: int = 1) -> None:
    """Run one of these tools against the embedded mock, in process, and write one of its charts."""
    import base64
    import importlib

    import anyio
    import httpx
    from mcp import Client

    from oneapi_mcp.mock import NOW, create_mock_app
    from oneapi_mcp.plugin_api import (
        Executor,
        Runtime,
        ServerSettings,
        build_server,
        create_plugin_manager,
        set_plugin_manager,
    )

    pm = create_plugin_manager(entrypoints=False)
    name = "oneapi_mcp.plugins.composite.analytics"  # this module under its own name, not as __main__
    if pm.get_plugin(name) is None:
        pm.register(importlib.import_module(name), name=name)
    set_plugin_manager(pm)
    mock = create_mock_app()

    def executor(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": "Bearer " + mock.token()})
        return Executor(catalog, client, base_url="http://mock", customer_id="216196257331281920")

    server = build_server(Runtime(settings=ServerSettings(profile="read-only"), executor_factory=executor,
                                  customer_id_known=True))
    arguments = {"to": str(NOW), "period": "14d"} if tool != "analytics_build_executive_dashboard" else {
        "as_of": str(NOW)}

    async def main() -> None:
        async with Client(server, cache=None) as client:
            result = await client.call_tool(tool, arguments)
        images = [part for part in result.content if part.type == "image"]
        if result.is_error or len(images) <= chart:
            raise SystemExit(f"{tool} returned no chart {chart}: {result.content[0].text[:500]}")
        with open(path, "wb") as out:
            out.write(base64.b64decode(images[chart].data))

    anyio.run(main)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=_example_chart.__doc__)
    parser.add_argument("--example-chart", metavar="PATH", required=True, help="where to write the PNG")
    parser.add_argument("--tool", default="analytics_report_threat_trends")
    parser.add_argument("--chart", type=int, default=1, help="which of the tool's charts (0-based)")
    options = parser.parse_args()
    _example_chart(options.example_chart, options.tool, options.chart)
    print(options.example_chart)

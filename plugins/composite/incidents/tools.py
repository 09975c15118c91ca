"""The incident tools' definitions."""

from __future__ import annotations

from oneapi_mcp.plugin_api import CompositeTool

from .._kit.insights import INCIDENTS_OP
from .correlation import correlate_indicators
from .events import list_user_events
from .report import generate_report

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS"]

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


_Strings = list[str] | None


TOOLS = [
    CompositeTool(
        name="incident_list_user_events",
        keywords=("user activity timeline", "what did he do", "investigate user", "user security events",
                  "threats hit user", "user DLP incidents", "per-user investigation", "suspicious user activity",
                  "audit trail user", "triage user alert", "user sandbox verdicts", "events last week"),
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
        input_model=f"{_INPUTS}:_EventsInput",
    ),
    CompositeTool(
        name="incident_correlate_indicators",
        keywords=("IOC sweep", "indicator lookup", "threat hunt", "hash lookup", "where domain appears",
                  "pivot on IOC", "blast radius", "C2 domain hunt", "SHA-256 hash", "MD5 search", "IOC correlation",
                  "search all products", "threat intel match"),
        title="Where indicators appear across services",
        description=(
            "For each indicator (email, device udid/hostname, domain, MD5/SHA-256 hash; each validated), where it "
            "appears: ZIdentity/ZIA users and rules naming them, ZCC and ZDX devices, ZPA access rules (direct "
            "or via SCIM group), ZIA URL classification, denylist, ATP malicious URLs, custom URL categories and "
            "the rules using them, ZPA segments serving a domain, sandbox verdicts and the MD5 block list. "
            "A table of hits and a timeline; read-only."),
        handler=correlate_indicators, toolset="composite.incident", scope="read", operations=_CORRELATE_OPS,
        input_model=f"{_INPUTS}:_CorrelateInput",
    ),
    CompositeTool(
        name="incident_generate_report",
        keywords=("incident write-up", "post-incident report", "postmortem", "IR report", "incident timeline",
                  "case report", "affected assets", "lessons learned", "incident summary management",
                  "forensic timeline", "actions taken", "recommended next steps", "root cause summary"),
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
        input_model=f"{_INPUTS}:_ReportInput",
    ),
]

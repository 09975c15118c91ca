"""Compliance reporting end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on
a real socket. The reports only read: the journal must show no write they made, and a change to the
tenant (made through the generated tools) must show in the next report."""

from __future__ import annotations

import csv
import io

import pytest
from _composites import call, call_error, serve, store_items

from oneapi_mcp import load_catalog
from oneapi_mcp.mock import build_seed
from oneapi_mcp.mock._seed_incidents import incident_subjects

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
WINDOW = {"from": "2025-12-25T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
ALL_CHECKS = ["ssl_inspection", "advanced_threat_protection", "malware_protection", "sandbox_rules",
              "dlp_by_department", "admin_audit_trail", "log_export", "zpa_default_deny", "idp_scim",
              "zia_changes_activated", "disabled_rules", "stale_rules"]
THREAT_ON = ("cmdCtlServerBlocked", "cmdCtlTrafficBlocked", "malwareSitesBlocked", "browserExploitsBlocked",
             "fileFormatVunerabilitesBlocked", "knownPhishingSitesBlocked", "suspectedPhishingSitesBlocked",
             "suspectAdwareSpywareSitesBlocked", "cryptoMiningBlocked", "potentialMaliciousRequestsBlocked",
             "dgaDomainsBlocked")
_SCOPES = {(t.service, t.operation_id): t.scope for t in load_catalog().tools.values()}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"ONEAPI_MCP_DATA_DIR": str(tmp_path_factory.mktemp("compliance"))}


def _writes(upstream, since: int = 0) -> list[str]:
    return [j["operation"] for j in upstream.mock.journal[since:]
            if _SCOPES.get((j["service"], j["operation"]), "write") != "read"]


async def _invoke(client, name: str, arguments: dict) -> dict:
    return (await call(client, "invoke_operation", {"name": name, "arguments": arguments}))["result"]


async def test_the_checklist_matches_the_tenant_changes_with_it_and_writes_nothing(upstream, env):
    async with serve(upstream, profile="admin", **env) as client:
        report = await call(client, "compliance_generate_report", {})
        again = await call(client, "compliance_generate_report", {})
        reads = _writes(upstream)
        threat = await _invoke(client, "zia_get_advanced_threat_settings", {})
        rule = next(r for r in store_items(upstream, "zia", f"{ZIA}/webDlpRules") if r["id"] == 1303)
        await _invoke(client, "zia_update_web_dlp_rule", {"id": 1303, "body": {**rule, "state": "ENABLED",
                                                                               "action": "BLOCK"}})
        mark = len(upstream.mock.journal)
        pending = await call(client, "compliance_generate_report", {
            "checks": ["dlp_by_department", "disabled_rules", "zia_changes_activated"]})
        assert _writes(upstream, mark) == []
        await _invoke(client, "zia_activate", {})
        activated = await call(client, "compliance_generate_report", {"checks": ["zia_changes_activated"]})
    assert reads == []
    items = {i["id"]: i for i in report["checklist"]}
    assert list(items) == ALL_CHECKS
    assert again["checklist"] == report["checklist"]
    assert items["ssl_inspection"]["status"] == "pass"
    assert "decrypting: Inspect All" in items["ssl_inspection"]["evidence"]
    off = [k for k in THREAT_ON if threat.get(k) is not True]
    assert items["advanced_threat_protection"]["status"] == ("fail" if off else "pass")
    assert all(k in items["advanced_threat_protection"]["evidence"] for k in off)
    assert items["sandbox_rules"]["status"] == "pass"
    dlp = items["dlp_by_department"]
    assert dlp["status"] == "fail" and "not covered: Sales, Marketing, Human Resources" in dlp["evidence"]
    assert "Finance (Block Card Numbers - Finance)" in dlp["evidence"]
    for check in ("admin_audit_trail", "log_export", "zpa_default_deny", "idp_scim", "zia_changes_activated"):
        assert items[check]["status"] == "pass", items[check]
    disabled = items["disabled_rules"]["evidence"]
    assert "Legacy Bypass Build Servers (ZIA SSL inspection)" in disabled
    assert "Monitor Customer Lists - Sales (ZIA web DLP)" in disabled
    assert items["stale_rules"]["status"] == "fail"  # changed 700 days before the seed's clock
    assert "Legacy Bypass Build Servers (ZIA SSL inspection), last changed" in items["stale_rules"]["evidence"]
    for item in report["checklist"]:
        assert item["calls"] and all(" (GET /" in c for c in item["calls"])
        assert (item["fix"] == "") == (item["status"] == "pass")
    assert report["counts"] == {s: sum(i["status"] == s for i in report["checklist"]) for s in ("pass", "fail",
                                                                                                 "unknown")}
    rows = list(csv.DictReader(io.StringIO(report["csv"]["checklist"])))
    assert [r["id"] for r in rows] == ALL_CHECKS
    after = {i["id"]: i for i in pending["checklist"]}
    assert list(after) == ["dlp_by_department", "zia_changes_activated", "disabled_rules"]
    assert "Sales (Monitor Customer Lists - Sales)" in after["dlp_by_department"]["evidence"]
    assert "Monitor Customer Lists - Sales" not in after["disabled_rules"]["evidence"]
    assert after["zia_changes_activated"]["status"] == "fail"
    assert "PENDING" in after["zia_changes_activated"]["evidence"]
    assert activated["checklist"][0]["status"] == "pass"


async def test_a_control_whose_call_fails_is_unknown_and_the_rest_are_decided(upstream, env):
    async with serve(upstream, profile="read-only", **env) as client:
        upstream.mock.fail("GET", f"{ZIA}/sslInspectionRules", 403, times=0)
        report = await call(client, "compliance_generate_report", {})
        upstream.mock.clear_failures()
        one = await call(client, "compliance_generate_report", {"checks": ["idp_scim"]})
        bad = await call_error(client, "compliance_generate_report", {"checks": ["vibes"]})
    items = {i["id"]: i for i in report["checklist"]}
    for check in ("ssl_inspection", "disabled_rules", "stale_rules"):
        assert items[check]["status"] == "unknown"
        assert "zia_list_ssl_inspection_rules" in items[check]["evidence"] and "403" in items[check]["evidence"]
    assert items["sandbox_rules"]["status"] == "pass" and items["dlp_by_department"]["status"] == "fail"
    assert report["counts"]["unknown"] == 3
    assert [i["id"] for i in one["checklist"]] == ["idp_scim"]
    assert bad["error"]["kind"] == "invalid_arguments"
    assert _writes(upstream) == []


async def test_violations_by_department_join_users_risk_dlp_rules_and_zdx_alerts(upstream, env):
    subject = incident_subjects(build_seed(0))[0]
    async with serve(upstream, profile="read-only", **env) as client:
        report = await call(client, "compliance_list_department_violations", {**WINDOW})
        mark = len(upstream.mock.journal)
        finance = await call(client, "compliance_list_department_violations", {"department": "finance", **WINDOW,
                                                                               "min_risk_score": 90})
        listed = [j for j in upstream.mock.journal[mark:] if j["path"] == f"{ZIA}/users"]
        unknown = await call_error(client, "compliance_list_department_violations", {"department": "Astrology"})
        upstream.mock.fail("GET", "/zdx/v1/alerts/*", 500, times=0)
        no_zdx = await call(client, "compliance_list_department_violations", {**WINDOW})
    users = store_items(upstream, "zia", f"{ZIA}/users")
    rows = {r["department"]: r for r in report["departments"]}
    assert set(rows) == {"Engineering", "Finance", "Sales", "Marketing", "Human Resources", "IT Operations"}

    def risky(u, floor=70):
        risk = u["userRiskScore"]
        return risk["riskScoreLevel"] in ("HIGH", "CRITICAL") or risk["riskScore"] >= floor

    for name, row in rows.items():
        mine = [u for u in users if u["department"]["name"] == name]
        assert row["users"] == len(mine) and row["disabled_users"] == sum(u["disabled"] for u in mine)
        assert row["high_risk_users"] == sum(risky(u) for u in mine)
    assert {n for n, r in rows.items() if r["dlp_covered"]} == {"Engineering", "Finance", "IT Operations"}
    assert rows["Sales"]["disabled_dlp_rules"] == ["Monitor Customer Lists - Sales"]
    home = next(u for u in users if u["email"] == subject.email)["department"]["name"]
    assert rows[home]["zdx_alerts"] >= 1 and rows[home]["zdx_affected_users"] >= 1
    assert any(r["email"] == subject.email for r in report["high_risk_users"]) == risky(
        next(u for u in users if u["email"] == subject.email))
    assert "DLP violations per department" in report["unavailable_sources"][0]["reason"]
    assert [r["department"] for r in finance["departments"]] == ["Finance"]
    assert listed and listed[0]["query"].get("dept") == "Finance"
    assert finance["departments"][0]["high_risk_users"] == sum(
        risky(u, 90) for u in users if u["department"]["name"] == "Finance")
    assert unknown["error"]["kind"] == "not_found" and "zia_list_departments" in unknown["error"]["message"]
    zdx = {s["source"]: s for s in no_zdx["sources"]}["ZDX alerts"]
    assert zdx["status"] == "failed" and all(r["zdx_alerts"] == 0 for r in no_zdx["departments"])
    assert len(no_zdx["departments"]) == 6
    assert _writes(upstream) == []


def _lift_exclusion(upstream, datacenter: str) -> None:
    """Someone lifts a tenant datacenter exclusion (the mock's store changed directly)."""
    state = upstream.mock.state
    key = ("zia", f"{ZIA}/dcExclusions", ())
    exclusions = state.collection(key, "__key", "int", lambda _first: [])
    for item_key, item in list(exclusions.items.items()):
        if item["dcName"]["name"] == datacenter:
            del exclusions.items[item_key]
    state.remember(key, exclusions)


async def test_data_residency_per_country_follows_sub_clouds_and_exclusions(upstream, env):
    async with serve(upstream, profile="admin", **env) as client:
        report = await call(client, "compliance_map_data_residency", {"allowed_countries": ["de", "FR", "NL", "GB"]})
        bad = await call_error(client, "compliance_map_data_residency", {"allowed_countries": ["Germany", "D"]})
        assert _writes(upstream) == []
        _lift_exclusion(upstream, "WAS1")  # the mock's DELETE /dcExclusions/{dcId} cannot find dcid-keyed objects
        after = await call(client, "compliance_map_data_residency", {})
        upstream.mock.fail("GET", f"{ZIA}/subclouds", 500, times=0)
        broken = await call_error(client, "compliance_map_data_residency", {})
    status = {r["datacenter"]: r["status"] for r in report["datacenters"]}
    assert {d for d, s in status.items() if s == "usable"} == {"FRA4", "AMS2", "CDG2", "SJC4"}
    assert status["LON3"].startswith("excluded until") and status["WAS1"].startswith("excluded until")
    assert status["BOM6"] == status["SIN4"] == "outside the tenant's sub-clouds"
    assert status["USGOV1"] == "government cloud only" and status["ZRH2"] == "not in service yet"
    assert report["verdict"] == "fail" and report["outside_allowed"] == ["SJC4"]
    countries = {c["country"]: c for c in report["countries"]}
    assert countries["US"]["usable"] == ["SJC4"] and countries["US"]["excluded"] == ["WAS1"]
    assert countries["GB"]["traffic_may_go_here"] is False and countries["GB"]["allowed"] is True
    assert "no data-residency report API" in report["basis"]
    assert {"countries", "datacenters"} == set(report["csv"])
    assert bad["error"]["invalid"] == ["Germany", "D"]
    assert {r["datacenter"]: r["status"] for r in after["datacenters"]}["WAS1"] == "usable"
    assert broken["error"]["kind"] == "upstream" and "zia_list_sub_clouds" in broken["error"]["message"]

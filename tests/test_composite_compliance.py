"""Compliance reporting end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on
a real socket. The reports only read: the journal must show no write they made, and a change to the
tenant (made through the generated tools) must show in the next report."""

from __future__ import annotations

import csv
import io
import re

import pytest
from _composites import call, call_error, serve, store_items
from _reports import client, read_glob, report, services_asked
from oneapi_mcp.plugins.composite.compliance import TOOLS as _COMPLIANCE_TOOLS

from oneapi_mcp import load_catalog
from oneapi_mcp.mock import build_seed, create_mock_app
from oneapi_mcp.mock._seed_incidents import incident_subjects

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
WINDOW = {"from": "2025-12-25T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
ALL_CHECKS = ["ssl_inspection", "advanced_threat_protection", "malware_protection", "sandbox_rules",
              "dlp_by_department", "admin_audit_trail", "log_export", "zpa_default_deny", "idp_scim",
              "zia_changes_activated", "disabled_rules", "stale_rules", "external_attack_surface"]
EASM = "/easm/easm-ui/v1/organizations"
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
    def undated(items: list[dict]) -> list[dict]:
        return [{k: v for k, v in i.items() if k != "read_at"} for i in items]

    assert undated(again["checklist"]) == undated(report["checklist"])
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
    assert report["counts"] == {s: sum(i["status"] == s for i in report["checklist"]) for s in (
        "pass", "fail", "unknown", "not_applicable")}
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
    assert zdx["status"] == "failed" and all(r["zdx_alerts"] == "unknown" for r in no_zdx["departments"])
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


# -- unknown is not a finding (in process: the mock is driven by the SDK's client through ASGI) ----------


_CHECKLIST_READS = next(t for t in _COMPLIANCE_TOOLS if t.name == "compliance_generate_report").operations
_DEPARTMENT_READS = {  # a read -> what turns unknown, and its cells
    "zia_list_users": ("users and risk", ("users", "high_risk_users", "max_risk_score", "zdx_alerts")),
    "zia_list_web_dlp_rules": ("web DLP coverage", ("dlp_covered", "dlp_rules", "tenant_wide_dlp_rules")),
    **{op: ("ZDX alerts", ("zdx_alerts", "zdx_affected_users"))
       for op in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts", "zdx_list_alert_affected_devices")}}


@pytest.fixture(scope="module")
def _mock():
    return create_mock_app(seed=0)


@pytest.fixture
def mock(_mock):
    _mock.reset()
    return _mock


@pytest.mark.parametrize("operation", _CHECKLIST_READS)
async def test_a_403_on_any_checklist_read_makes_its_controls_unknown_and_leaves_the_percentage_to_known_ones(
        mock, operation):
    baseline = {i["id"]: i for i in (await report(mock, "compliance_generate_report", {}))["checklist"]}
    mock.reset()
    rule = mock.fail(*read_glob(operation), 403, times=0)
    data = await report(mock, "compliance_generate_report", {})
    assert rule.hits >= 1
    items = {i["id"]: i for i in data["checklist"]}
    reading = [i for i in items.values() if any(c.startswith(operation + " ") for c in i["calls"])]
    assert reading, f"no control reads {operation}"
    for item in reading:  # never a pass or a fail made out of a refused read
        assert item["status"] == "unknown", item
        assert "HTTP 403" in item["evidence"] and item["fix"] == ""
        assert [f["http_status"] for f in item["failed_calls"]] == [403]
    for check, item in items.items():
        if item not in reading:
            assert item["status"] == baseline[check]["status"], check
    known = [i for i in items.values() if i["status"] in ("pass", "fail")]
    passed = sum(i["status"] == "pass" for i in known)
    assert data["score"] == {"percent": round(100 * passed / len(known)), "known": len(known),
                             "unknown": len(reading), "not_applicable": 0}
    assert f"{len(reading)} unknown" in data["summary"] and f"of {len(known)} known control(s)" in data["summary"]


async def test_every_control_carries_framework_ids_and_the_time_each_read_was_made(mock):
    data = await report(mock, "compliance_generate_report", {})
    items = {i["id"]: i for i in data["checklist"]}
    assert {"NIST AC-3", "NIST AC-6", "ISO A.5.15"} <= set(items["zpa_default_deny"]["controls"])
    assert {"CIS 8.2", "NIST AU-2", "NIST AU-6"} <= set(items["admin_audit_trail"]["controls"])
    assert "ISO A.8.23" in items["ssl_inspection"]["controls"] and "NIST AC-2" in items["idp_scim"]["controls"]
    for item in items.values():
        assert item["controls"] and len(item["read_at"]) == len(item["calls"]), item
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in item["read_at"]), item


async def test_an_unlicensed_zpa_is_not_applicable_never_a_fail_and_is_not_asked(mock):
    data = await report(mock, "compliance_generate_report", {"not_licensed": ["zpa"]})
    items = {i["id"]: i for i in data["checklist"]}
    assert items["zpa_default_deny"]["status"] == items["idp_scim"]["status"] == "not_applicable"
    assert "zpa" not in services_asked(mock)
    assert items["log_export"]["status"] in ("pass", "fail") and "not licensed" in items["log_export"]["evidence"]
    known = [i for i in items.values() if i["status"] in ("pass", "fail")]
    assert data["score"]["not_applicable"] == 2 and data["score"]["known"] == len(known) == len(items) - 2


@pytest.mark.parametrize("operation", list(_DEPARTMENT_READS))
async def test_a_403_on_a_department_source_says_unknown_in_its_cells_never_zero_or_uncovered(mock, operation):
    rule = mock.fail(*read_glob(operation), 403, times=0)
    data = await report(mock, "compliance_list_department_violations", WINDOW)
    assert rule.hits >= 1
    what, columns = _DEPARTMENT_READS[operation]
    assert data["departments"] and all(row[c] == "unknown" for row in data["departments"] for c in columns)
    assert list(data["unknown"]) == [what] and f"unknown: {operation} (GET " in data["unknown"][what]
    assert "HTTP 403" in data["summary"] and "unknown, not zero" in data["summary"]
    if what == "web DLP coverage":  # the finding the 403 used to become
        assert "without a web DLP rule" not in data["summary"] and "web DLP coverage unknown" in data["summary"]
    if what == "users and risk":  # its table says unknown instead of showing no high-risk user
        assert data["high_risk_users"] is None and "high-risk-users" not in data["csv"]
    if what == "ZDX alerts":
        assert "ZDX alerts 2025-12-25T00:00:00Z to 2026-01-01T00:00:00Z unknown" in data["summary"]


@pytest.mark.parametrize("operation", ["zia_list_datacenters", "zia_list_sub_clouds", "zia_list_datacenter_exclusions"])
async def test_a_403_on_a_residency_source_is_an_error_naming_the_call_never_a_partial_map(mock, operation):
    mock.fail(*read_glob(operation), 403, times=0)
    async with client(mock) as mcp:
        result = await mcp.call_tool("compliance_map_data_residency", {"allowed_countries": ["DE"]})
    error = result.structured_content["error"]
    assert result.is_error and error["kind"] == "upstream" and error["operation"] == operation
    assert f"could not read {operation}" in error["message"] and "403" in error["message"]


async def test_easm_findings_are_read_per_organization_and_high_or_critical_ones_fail_the_check(upstream, env):
    checks = {"checks": ["external_attack_surface"]}
    async with serve(upstream, profile="read-only", **env) as client:
        report = await call(client, "compliance_generate_report", checks)
        # the mock's EASM objects are the recorded ones (zeasm/cassettes/TestFindings.yaml), read back as a client would
        orgs = (await _invoke(client, "easm_list_organizations", {}))["results"]
        findings = [f for org in orgs for f in
                    (await _invoke(client, "easm_list_findings", {"org_id": org["id"]}))["results"]]
        upstream.mock.fail("GET", f"{EASM}/*/findings", 403, times=0)
        failed = await call(client, "compliance_generate_report", checks)
        upstream.mock.clear_failures()
        skipped = await call(client, "compliance_generate_report", {**checks, "not_licensed": ["easm"]})
    risky = [f for f in findings if f["risk_level"].lower() in ("high", "critical")]
    (item,) = report["checklist"]
    assert orgs and findings and item["status"] == ("fail" if risky else "pass")
    assert f"{len(findings)} finding(s) read across {len(orgs)} organization(s); {len(risky)} high or critical" in (
        item["evidence"])
    assert all(f["name"] in item["evidence"] for f in risky[:8])
    assert {"NIST RA-5", "NIST CM-8"} <= set(item["controls"]) and "easm_list_findings" in item["calls"][1]
    (unknown,) = failed["checklist"]
    assert unknown["status"] == "unknown" and "403" in unknown["evidence"]
    assert skipped["checklist"][0]["status"] == "not_applicable"
    assert _writes(upstream) == []

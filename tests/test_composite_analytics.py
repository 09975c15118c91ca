"""Unified analytics end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on
a real socket; what the reports say is checked against the mock's state, and that they only read."""

from __future__ import annotations

import base64
import csv
import io
import statistics
from collections import Counter
from datetime import UTC, datetime

import pytest
from _composites import call, call_error, serve, store_document, store_items
from _composites import writes as _writes
from _reports import client as _inprocess
from _reports import read_glob, report, services_asked
from mcp.types import EmbeddedResource, ImageContent
from oneapi_mcp.plugins.builtin.untrusted import unfence
from oneapi_mcp.plugins.composite.analytics import _POSTURE_OPS

from oneapi_mcp.mock import build_seed, create_mock_app
from oneapi_mcp.mock._graphql import incident_events
from oneapi_mcp.mock._seed import NOW
from oneapi_mcp.mock._seed_access import ACCESS_POLICY_SET_ID

pytestmark = pytest.mark.anyio
ZPA = "/zpa/mgmtconfig/v1/admin/customers/{customerId}"
ZIA = "/zia/api/v1"
AS_OF = {"as_of": "2026-01-01T00:00Z"}  # the mock's clock: its devices were seen in the days before


async def _full(client, tool: str, arguments: dict):
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    images = [base64.b64decode(p.data) for p in result.content if isinstance(p, ImageContent)]
    csvs = {p.resource.uri: p.resource.text for p in result.content if isinstance(p, EmbeddedResource)}
    return result.structured_content, unfence(result.content[0].text), images, csvs  # fenced: tenant data


def _items(report: dict) -> dict[str, dict]:
    return {i["id"]: i for i in report["items"]}


def _undated(items: list[dict]) -> list[dict]:
    return [{k: v for k, v in i.items() if k != "read_at"} for i in items]


def _expected_score(items) -> int:
    """Percent of the known (pass or fail) weight that passes."""
    known = [i for i in items if i["status"] in ("pass", "fail")]
    return round(100 * sum(i["weight"] for i in known if i["status"] == "pass") / sum(i["weight"] for i in known))


async def test_posture_scores_the_seeded_tenant_item_by_item_with_evidence_and_only_reads(upstream):
    async with serve(upstream, profile="read-only") as client:
        report, text, images, csvs = await _full(client, "analytics_score_security_posture", AS_OF)
        progress: list = []
        again = await call(client, "analytics_score_security_posture", AS_OF, progress=progress)
        ssl = (await call(client, "zia_list_ssl_inspection_rules", {}))["result"]
        sandbox = (await call(client, "zia_list_sandbox_rules", {}))["result"]
    items = _items(report)
    assert sum(i["weight"] for i in items.values()) == 100
    assert report["score"] == _expected_score(items.values())
    assert all(i["proved_by"] for i in items.values())
    down = [c["name"] for c in store_items(upstream, "zpa", f"{ZPA}/connector") if c["enabled"]
            and c["controlChannelStatus"] != "ZPN_STATUS_AUTHENTICATED"]
    assert down == ["lon-connector-4"]
    assert items["zpa_connectors"]["status"] == "fail" and "lon-connector-4" in items["zpa_connectors"]["evidence"][0]
    assert items["zpa_connectors"]["proved_by"] == [
        "zpa_list_all_assistants (GET /zpa/mgmtconfig/v1/admin/customers/{customerId}/connector)"]
    # ZPA denies what no rule allows: 'Allow Everyone Intranet' is scoped to an app group, so no allow-all
    assert items["zpa_default_deny"]["status"] == "pass"
    assert "allow-all rules: none" in items["zpa_default_deny"]["evidence"][0]
    decrypting = [r["name"] for r in ssl
                  if r.get("state") != "DISABLED" and r.get("action", {}).get("type") == "DECRYPT"]
    assert items["zia_ssl_inspection"]["status"] == ("pass" if decrypting else "fail")
    assert all(name in items["zia_ssl_inspection"]["evidence"][0] for name in decrypting)
    sandboxing = [r for r in sandbox if r.get("state") != "DISABLED" and not r.get("defaultRule")]
    assert items["zia_sandbox"]["status"] == ("pass" if sandboxing else "fail")
    disabled = [r["name"] for r in ssl + sandbox if r.get("state") == "DISABLED"]
    assert items["zia_disabled_rules"]["status"] == ("fail" if disabled else "pass")  # URL and firewall: all on
    assert all(f"'{name}'" in items["zia_disabled_rules"]["evidence"][0] for name in disabled)
    registered = [d for d in store_items(upstream, "zcc", "/zcc/papi/public/v1/getDevices")
                  if d["registrationState"] == "Registered"]
    assert items["zcc_unseen_devices"]["status"] == "pass"
    assert items["zcc_unseen_devices"]["evidence"] == [
        f"all {len(registered)} registered device(s) seen within 30 days"]
    assert items["zdx_poor_apps"]["status"] == "pass" and items["zia_activation"]["status"] == "pass"
    assert report["problems"] == [] and report["unknown_weight"] == 0
    assert text.startswith(f"# Security posture: {report['score']}/100 of the known weight 100")
    assert list(csvs) == ["oneapi-mcp://report/security-posture-checklist.csv"] and images == []
    assert again["score"] == report["score"] and _undated(again["items"]) == _undated(report["items"])
    assert [p[0] for p in progress] == [0, 1, 2, 3, 4, 5, 6] and progress[-1][1:] == (6, "checklist scored")
    assert _writes(upstream) == []


async def test_posture_follows_changes_made_in_the_tenant(upstream):
    async with serve(upstream, profile="admin") as client:
        before = _items(await call(client, "analytics_score_security_posture", AS_OF))
        await call(client, "zpa_update_assistant", {"connectorId": "216196257331282123", "body": {
            "name": "lon-connector-4", "controlChannelStatus": "ZPN_STATUS_AUTHENTICATED"}})
        settings = (await call(client, "zia_get_advanced_threat_settings", {}))["result"]
        blocked = {k: True for k in settings if k.endswith("Blocked") and isinstance(settings[k], bool)}
        await call(client, "zia_update_advanced_threat_settings", {"body": {**settings, **blocked}})
        pending = await call(client, "analytics_score_security_posture", AS_OF)
        await call(client, "zia_activate", {})
        active = await call(client, "analytics_score_security_posture", AS_OF)
        rule = next(r for r in (await call(client, "zia_list_url_filtering_rules", {}))["result"]
                    if r["name"] == "Caution Streaming")
        await call(client, "zia_update_url_filtering_rule", {"id": rule["id"], "body": {**rule, "state": "DISABLED"}})
        strict = await call(client, "analytics_score_security_posture", {**AS_OF, "stale_days": 1, "poor_score": 80})
        lenient = await call(client, "analytics_score_security_posture", {**AS_OF, "stale_days": 3650})
        now = await call(client, "analytics_score_security_posture", {})  # devices last seen months ago
    assert before["zpa_connectors"]["status"] == before["zia_advanced_threats"]["status"] == "fail"
    changed = _items(pending)
    assert changed["zpa_connectors"]["status"] == "pass" and changed["zia_advanced_threats"]["status"] == "pass"
    assert changed["zia_activation"]["status"] == "fail" and "PENDING" in changed["zia_activation"]["evidence"][0]
    assert pending["score"] == round(sum(i["points"] for i in before.values()) + 12 + 12 - 8)
    assert _items(active)["zia_activation"]["status"] == "pass" and active["score"] == pending["score"] + 8
    assert _items(now)["zcc_unseen_devices"]["status"] == "fail"
    assert "URL filtering 'Caution Streaming'" in _items(strict)["zia_disabled_rules"]["evidence"][0]
    assert _items(strict)["zia_stale_rules"]["status"] == "fail"
    assert "unchanged for over 1 days" in _items(strict)["zia_stale_rules"]["evidence"][0]
    assert _items(lenient)["zia_stale_rules"]["status"] == "pass"
    poor = [a for a in store_items(upstream, "zdx", "/zdx/v1/apps") if a["score"] < 80]
    assert _items(strict)["zdx_poor_apps"]["status"] == "fail"
    assert _items(strict)["zdx_poor_apps"]["evidence"][0].startswith(f"{len(poor)} of 6 ZDX app(s) score below 80")


async def test_posture_marks_a_failed_read_unknown_and_still_reports_the_rest(upstream):
    rule = upstream.mock.fail("GET", "/zpa/mgmtconfig/v1/admin/customers/*/connector", 403, times=0)
    async with serve(upstream, profile="read-only") as client:
        report = await call(client, "analytics_score_security_posture", AS_OF)
        dashboard = await call(client, "analytics_build_executive_dashboard", AS_OF)
        rules = [r for op in ("zia_list_ssl_inspection_rules", "zia_list_sandbox_rules", "zia_list_url_filtering_rules")
                 for r in (await call(client, op, {}))["result"]]
        upstream.mock.fail("GET", "/zia/api/v1/firewallFilteringRules", 403, times=0)
        partial = _items(await call(client, "analytics_score_security_posture", {**AS_OF, "stale_days": 3650}))
    items = _items(report)
    assert rule.hits == 3
    assert items["zpa_connectors"]["status"] == "unknown" and items["zpa_connectors"]["points"] == 0
    assert items["zpa_connectors"]["evidence"][0].startswith("unknown: zpa_list_all_assistants (GET ")
    assert "failed with HTTP 403" in items["zpa_connectors"]["evidence"][0]
    assert [(p["operation"], p["http_status"]) for p in report["problems"]] == [("zpa_list_all_assistants", 403)]
    # the score is over the 88 known points: an unknown neither lowers nor raises it
    assert report["unknown_weight"] == 12 and report["known_weight"] == 88
    assert report["score"] == _expected_score(items.values()) == round(100 * sum(
        i["points"] for i in items.values()) / 88)
    # without the firewall rules only a disabled rule seen elsewhere is proven; "none stale" is not
    disabled = any(r.get("state") == "DISABLED" for r in rules)
    assert partial["zia_disabled_rules"]["status"] == ("fail" if disabled else "unknown")
    assert partial["zia_stale_rules"]["status"] == "unknown"
    assert "not read: the firewall rules (see problems)" in partial["zia_stale_rules"]["evidence"]
    assert items["zpa_default_deny"]["status"] == "pass"  # the other ZPA read still counts
    assert dashboard["headline"]["connectors_up"] is None and dashboard["headline"]["users"] == 60
    assert "connectors unknown up / unknown down" in dashboard["summary"]


async def test_dashboard_headline_numbers_match_the_tenant_and_come_with_charts(upstream):
    async with serve(upstream, profile="read-only") as client:
        posture = await call(client, "analytics_score_security_posture", AS_OF)
        data, text, images, csvs = await _full(client, "analytics_build_executive_dashboard", AS_OF)
    head = data["headline"]
    apps = store_items(upstream, "zdx", "/zdx/v1/apps")
    assert head["users"] == len(store_items(upstream, "zid", "/ziam/admin/api/v1/users")) == 60
    assert head["devices"] == len(store_items(upstream, "zcc", "/zcc/papi/public/v1/getDevices"))
    assert head["zpa_apps"] == len(store_items(upstream, "zpa", f"{ZPA}/application"))
    assert (head["connectors_up"], head["connectors_down"]) == (3, 1)
    assert head["ongoing_alerts"] == len(store_items(upstream, "zdx", "/zdx/v1/alerts/ongoing")) == 3
    assert head["zdx_apps"] == len(apps) and head["zdx_score"] == round(statistics.fmean(a["score"] for a in apps), 1)
    assert head["zia_rules"] == sum(len(store_items(upstream, "zia", f"{ZIA}/{kind}")) for kind in (
        "urlFilteringRules", "firewallFilteringRules", "sslInspectionRules", "sandboxRules"))
    assert head["posture_score"] == posture["score"]
    assert data["ongoing_alerts_by_severity"] == {"critical": 1, "warning": 2}
    assert len(images) == 2 and all(png.startswith(b"\x89PNG") for png in images)
    assert "oneapi-mcp://report/executive-dashboard.csv" in csvs
    assert "Users (ZIdentity),60,zid_list_users" in csvs["oneapi-mcp://report/executive-dashboard.csv"]
    assert text.startswith("# Executive dashboard") and _writes(upstream) == []


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


async def test_threat_trends_count_alerts_per_day_chart_the_score_and_name_what_rest_cannot_query(upstream):
    args = {"to": str(NOW), "period": "30d"}
    async with serve(upstream, profile="read-only") as client:
        data, text, images, csvs = await _full(client, "analytics_report_threat_trends", args)
    alerts = store_items(upstream, "zdx", "/zdx/v1/alerts/historical") + store_items(
        upstream, "zdx", "/zdx/v1/alerts/ongoing")
    inside = [a for a in alerts if NOW - 30 * 86400 <= a["started_on"] <= NOW]
    expected = Counter(_day(a["started_on"]) for a in inside)
    rows = {r["day"]: r for r in data["alerts_by_day"]}
    assert len(rows) == 30 and {d: r["total"] for d, r in rows.items() if r["total"]} == dict(expected)
    assert sum(r["critical"] for r in rows.values()) == sum(a["severity"] == "critical" for a in inside)
    assert [a["id"] for a in data["alerts"]] == [a["id"] for a in sorted(inside, key=lambda a: a["started_on"])]
    scored = [r for r in data["score_by_day"] if r["average"] is not None]
    assert len(scored) == 14  # the mock keeps two weeks of hourly scores
    zoom = store_document(upstream, "zdx", "/zdx/v1/apps/{id}/score", "2")["datapoints"]
    last_day = [p["value"] for p in zoom if _day(p["timestamp"]) == scored[-1]["day"]]
    assert scored[-1]["Zoom"] == round(statistics.fmean(last_day), 1)
    worst = min(scored, key=lambda r: r["Zoom"])
    assert worst["Zoom"] < 50  # the seeded Zoom incident
    sources = " ".join(u["source"] + " " + u["reason"] for u in data["unavailable_sources"])
    assert "NSS" in sources and "LSS" in sources and "Z-Insights" not in sources  # it is read now
    assert "**Not queryable here:**" in text
    assert len(images) == 3 and all(png.startswith(b"\x89PNG") for png in images)  # + threats blocked per day
    assert {"oneapi-mcp://report/alerts-by-day.csv", "oneapi-mcp://report/zdx-score-by-day.csv",
            "oneapi-mcp://report/zdx-alerts.csv"} <= set(csvs)
    # ZDX alert lists take at most 14 days per request (specs/zdx.yaml "Cannot exceed 14 days API limit"):
    # 30 days are read in three consecutive pieces, each of which the mock (like the API) accepts
    queried = {(j["path"], j["query"].get("from"), j["query"].get("to"), j["status"]) for j in upstream.mock.journal
               if j["path"].startswith("/zdx/v1/alerts")}
    pieces = [(NOW - 30 * 86400, NOW - 16 * 86400), (NOW - 16 * 86400, NOW - 2 * 86400), (NOW - 2 * 86400, NOW)]
    assert queried == {(p, str(start), str(end), 200) for p in ("/zdx/v1/alerts/historical", "/zdx/v1/alerts/ongoing")
                       for start, end in pieces}
    assert any("3 consecutive pieces" in note for note in data["notes"])
    assert _writes(upstream) == []


_BAD = [
    ("analytics_report_threat_trends", {"from": "2026-01-02", "to": "2026-01-01"}, "is not before to"),
    ("analytics_report_threat_trends", {"period": "45d"}, "at most 31 days"),
    ("analytics_report_threat_trends", {"to": "2099-01-01T00:00Z"}, "is in the future"),
    ("analytics_report_threat_trends", {"from": "1767225600000"}, "looks like epoch milliseconds"),
    ("analytics_report_threat_trends", {"from": "last tuesday"}, "is not a time"),
    ("analytics_report_threat_trends", {"from": "2026-01-01", "period": "7d"}, "not both"),
    ("analytics_report_threat_trends", {"period": "week"}, "period: String should match pattern"),
    ("analytics_score_security_posture", {"as_of": "2099-01-01"}, "is in the future"),
    ("analytics_build_executive_dashboard", {"as_of": "soon"}, "is not a time"),
]


async def test_bad_windows_are_rejected_with_the_reason_before_anything_is_read(upstream):
    async with serve(upstream, profile="read-only") as client:
        for tool, arguments, reason in _BAD:
            error = await call_error(client, tool, arguments)
            assert error["error"]["kind"] == "invalid_arguments", (tool, arguments, error)
            assert reason in error["error"]["message"], (tool, arguments, error)
    assert upstream.mock.journal == []


# -- unknown is not a finding; one definition per check (in process, through ASGI) -----------------------


_TRENDS = {"to": str(NOW), "period": "14d"}


@pytest.fixture(scope="module")
def _mock():
    return create_mock_app(seed=0)


@pytest.fixture
def mock(_mock):
    _mock.reset()
    return _mock


@pytest.mark.parametrize("operation", _POSTURE_OPS)
async def test_a_403_on_any_posture_read_is_unknown_with_its_status_and_the_score_is_over_known_weight(
        mock, operation):
    baseline = _items(await report(mock, "analytics_score_security_posture", AS_OF))
    mock.reset()
    rule = mock.fail(*read_glob(operation), 403, times=0)
    data = await report(mock, "analytics_score_security_posture", AS_OF)
    items = _items(data)
    assert rule.hits >= 1
    changed = {k for k, i in items.items() if i["status"] != baseline[k]["status"]}
    unknown = {k for k, i in items.items() if i["status"] == "unknown"}
    assert changed <= unknown, (changed, unknown)  # a refused read never becomes a pass or a fail
    naming = {k for k, i in items.items() for e in i["evidence"] if f"unknown: {operation} (GET " in e
              and "HTTP 403" in e}
    # an item still decided despite the refused read is a fail proven by its other read (e.g. malware inspection)
    assert naming and all(items[k]["status"] == "unknown" or items[k]["status"] == baseline[k]["status"] == "fail"
                          for k in naming), naming
    assert data["unknown"] == len(unknown) and data["unknown_weight"] == sum(items[k]["weight"] for k in unknown)
    assert data["score"] == _expected_score(items.values())
    assert f"{len(unknown)} unknown (weight {data['unknown_weight']}" in data["summary"]


async def test_an_unlicensed_service_is_not_applicable_and_does_not_lower_the_posture(mock):
    full = await report(mock, "analytics_score_security_posture", AS_OF)
    mock.reset()
    data = await report(mock, "analytics_score_security_posture", {**AS_OF, "not_licensed": ["zdx", "zcc"]})
    items = _items(data)
    assert items["zdx_poor_apps"]["status"] == items["zcc_unseen_devices"]["status"] == "not_applicable"
    assert not {"zdx", "zcc"} & services_asked(mock)
    assert data["not_applicable"] == 2 and data["unknown"] == 0 and data["known_weight"] == 84
    assert data["score"] == _expected_score(items.values())
    # both items pass in the seeded tenant: dropping them as n/a moves the score only by the weighting
    assert data["score"] == round(100 * (full["score"] - 16) / 84)


async def test_posture_items_carry_control_ids_and_when_each_read_was_made(mock):
    items = _items(await report(mock, "analytics_score_security_posture", AS_OF))
    assert {"NIST AC-3", "NIST AC-6", "ISO A.5.15"} <= set(items["zpa_default_deny"]["controls"])
    assert "NIST SI-3" in items["zia_malware"]["controls"] and "ISO A.8.23" in items["zia_ssl_inspection"]["controls"]
    assert all(len(i["read_at"]) >= 1 for i in items.values())


async def _allow_everything(mock) -> None:
    """An admin turns 'Allow Everyone Intranet' into an allow-all (its conditions removed)."""
    async with _inprocess(mock, "admin") as mcp:
        listed = await mcp.call_tool("zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"})
        rules = listed.structured_content["result"]
        rule = next(r for r in (rules.get("list") if isinstance(rules, dict) else rules)
                    if r["name"] == "Allow Everyone Intranet")
        done = await mcp.call_tool("zpa_update_rule_to_policy_set", {
            "policySetId": ACCESS_POLICY_SET_ID, "ruleId": rule["id"], "body": {**rule, "conditions": []}})
        assert not done.is_error, done.content[0].text


async def test_analytics_and_compliance_agree_on_zpa_default_deny_for_the_same_tenant(mock):
    async def both() -> tuple[str, str]:
        posture = _items(await report(mock, "analytics_score_security_posture", AS_OF))["zpa_default_deny"]
        checklist = await report(mock, "compliance_generate_report", {"checks": ["zpa_default_deny"]})
        return posture["status"], checklist["checklist"][0]["status"]

    assert await both() == ("pass", "pass")
    await _allow_everything(mock)
    assert await both() == ("fail", "fail")
    mock.fail(*read_glob("zpa_get_policy_rules_by_page"), 403, times=0)
    assert await both() == ("unknown", "unknown")


@pytest.mark.parametrize("operation", ["zdx_list_historical_alerts", "zdx_list_ongoing_alerts"])
async def test_unreadable_zdx_alerts_make_the_trend_unknown_not_a_quiet_week_of_zeros(mock, operation):
    mock.fail(*read_glob(operation), 403, times=0)
    async with _inprocess(mock) as mcp:
        result = await mcp.call_tool("analytics_report_threat_trends", {**_TRENDS, "score_trend": False})
    data, text = result.structured_content, result.content[0].text
    assert data["alerts_by_day"] is None and data["alerts"] is None
    assert data["summary"].startswith("ZDX alerts over ") and ": unknown (unknown: " + operation in data["summary"]
    assert "HTTP 403" in data["summary"] and "no ZDX alert started" not in data["summary"]
    assert "**Alerts by day**: unknown, not zero rows. unknown: " + operation in text
    assert "**ZDX alerts**: unknown, not zero rows." in text and "alerts-by-day" not in data.get("csv", {})


async def test_unreadable_zdx_apps_make_the_score_trend_unknown_while_alerts_still_count(mock):
    mock.fail(*read_glob("zdx_list_applications"), 403, times=0)
    data = await report(mock, "analytics_report_threat_trends", _TRENDS)
    assert data["score_by_day"] is None and "ZDX score trend unknown" in data["summary"]
    assert "zdx-score-by-day" not in data["csv"] and "alerts-by-day" in data["csv"]
    assert data["alerts_by_day"] and sum(r["total"] for r in data["alerts_by_day"]) == len(data["alerts"])


@pytest.mark.parametrize(("operation", "metric"), [
    ("zid_list_users", "users"), ("zpa_list_all_applications", "zpa_apps"),
    ("zdx_list_ongoing_alerts", "ongoing_alerts")])
async def test_a_403_on_a_dashboard_source_shows_unknown_not_zero(mock, operation, metric):
    mock.fail(*read_glob(operation), 403, times=0)
    data = await report(mock, "analytics_build_executive_dashboard", AS_OF)
    assert data["headline"][metric] is None
    assert [p["http_status"] for p in data["problems"] if p["operation"] == operation] == [403]
    rows = list(csv.DictReader(io.StringIO(data["csv"]["executive-dashboard"])))
    assert next(r for r in rows if r["source"] == operation)["value"] == "unknown (the read failed)"


def _zins_events(start: int, end: int) -> list[dict]:
    """The mock's seeded Z-Insights cyber-security events in [start, end] (seconds)."""
    return incident_events(build_seed(0).people, 0, start * 1000, end * 1000)


async def test_threat_trends_chart_z_insights_threats_by_day_category_and_user_and_say_so(mock):
    data = await report(mock, "analytics_report_threat_trends", {**_TRENDS, "score_trend": False})
    events = _zins_events(NOW - 14 * 86400, NOW)
    zins = data["z_insights"]
    by_category = Counter(e["category"] for e in events)
    assert {c["category"]: c["blocked"] for c in zins["categories"]} == dict(by_category)
    assert zins["blocked_total"] == len(events) == sum(total for _, total in zins["per_day"]) > 0
    by_user = Counter(e["user"] for e in events)
    assert zins["top_users"][0] == {"user": by_user.most_common(1)[0][0], "blocked": by_user.most_common(1)[0][1]}
    top = by_category.most_common(1)[0]
    assert f"Z-Insights: {len(events)} threat(s) blocked, most {top[0]} ({top[1]})" in data["summary"]
    assert zins["shadow_it"]["apps"] is not None and "shadow IT:" in data["summary"]
    per_day = list(csv.DictReader(io.StringIO(data["csv"]["z-insights-threats-blocked-per-day"])))
    assert len(per_day) == 14 and sum(int(r["blocked"]) for r in per_day) == len(events)
    assert any("Z-Insights" in s for s in data["sources"]) and services_asked(mock) >= {"zins", "zdx"}
    asked = [j for j in mock.journal if j["service"] == "zins"]
    assert asked and all(j["method"] == "POST" and j["path"] == "/zins/graphql" for j in asked)
    assert {j["operation"] for j in asked} == {"CyberSecurityIncidents", "ShadowITSummary"}


async def test_unreadable_z_insights_make_its_part_unknown_while_zdx_still_counts(mock):
    mock.fail(*read_glob("zins_cyber_security_incidents"), 403, times=0)  # the one GraphQL endpoint
    data = await report(mock, "analytics_report_threat_trends", {**_TRENDS, "score_trend": False})
    assert data["z_insights"]["categories"] is None and data["z_insights"]["blocked_total"] is None
    assert "Z-Insights threats blocked: unknown (unknown: zins_cyber_security_incidents" in data["summary"]
    assert "HTTP 403" in data["summary"] and "shadow IT unknown" in data["summary"]
    assert data["alerts_by_day"] and "z-insights-threats-blocked-per-day" not in data["csv"]


async def test_the_dashboard_counts_z_insights_threats_and_shadow_it_over_the_last_week(mock):
    data = await report(mock, "analytics_build_executive_dashboard", AS_OF)
    events = _zins_events(NOW - 7 * 86400, NOW)
    assert data["headline"]["threats_blocked_7d"] == len(events) > 0
    assert data["headline"]["shadow_it_apps_7d"] == data["z_insights_7d"]["shadow_it"]["apps"] is not None
    assert f"Z-Insights, last 7 d: {len(events)} threat(s) blocked" in data["summary"]

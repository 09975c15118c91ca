"""User performance metrics (ZDX) end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against
the mock on a real socket; scores, metrics and SLA figures are checked against the mock's own series."""

from __future__ import annotations

import base64
import statistics

import pytest
from _composites import call, call_error, serve, store_document, store_items
from _composites import writes as _writes
from mcp.types import EmbeddedResource, ImageContent
from oneapi_mcp.plugins.builtin.untrusted import unfence

from oneapi_mcp.mock._seed import NOW

pytestmark = pytest.mark.anyio
ZDX = "/zdx/v1"
DAY = 86400


async def _full(client, tool: str, arguments: dict):
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    images = [base64.b64decode(p.data) for p in result.content if isinstance(p, ImageContent)]
    csvs = {p.resource.uri: p.resource.text for p in result.content if isinstance(p, EmbeddedResource)}
    return result.structured_content, unfence(result.content[0].text), images, csvs  # fenced: tenant data


def _apps(upstream) -> dict[int, str]:
    return {a["id"]: a["name"] for a in store_items(upstream, "zdx", f"{ZDX}/apps")}


def _app_users(upstream, app_id: int) -> dict[str, int]:
    return {u["email"]: u["score"] for u in store_items(upstream, "zdx", f"{ZDX}/apps/{{id}}/users", str(app_id))}


async def test_scores_of_one_user_per_app_are_zdx_own_and_apps_they_did_not_use_say_so(upstream):
    apps = _apps(upstream)
    users = {a: _app_users(upstream, a) for a in apps}
    email = next(u["email"] for u in store_items(upstream, "zdx", f"{ZDX}/users")
                 if 0 < sum(u["email"] in users[a] for a in apps) < len(apps))
    async with serve(upstream, profile="read-only") as client:
        data, text, images, csvs = await _full(client, "experience_report_scores",
                                               {"user": email.upper(), "to": str(NOW)})
    rows = {r["app"]: r for r in data["apps"]}
    for app_id, name in apps.items():
        if email in users[app_id]:
            assert rows[name]["user_score"] == users[app_id][email]
        else:
            assert rows[name]["user_score"] is None and rows[name]["bucket"] == "did not use it"
    zdx_user = next(u for u in store_items(upstream, "zdx", f"{ZDX}/users") if u["email"] == email)
    assert data["user"]["overall_score"] == zdx_user["score"] and data["user"]["email"] == email
    assert data["window"]["to_epoch"] == NOW and data["window"]["hours"] == 24
    assert text.startswith(f"# ZDX experience: {email}")
    assert len(images) == 1 and images[0].startswith(b"\x89PNG") and len(csvs) == 1
    asked = [j for j in upstream.mock.journal if j["path"].startswith(f"{ZDX}/apps/") and "/users/" in j["path"]]
    assert len(asked) == len(apps) and all(j["query"] == {"from": str(NOW - DAY), "to": str(NOW)} for j in asked)
    assert _writes(upstream) == []


async def test_scores_of_everyone_list_each_user_worst_first_with_a_column_per_app(upstream):
    apps = _apps(upstream)
    async with serve(upstream, profile="read-only") as client:
        data, _text, images, csvs = await _full(client, "experience_report_scores", {"to": str(NOW), "period": "2h"})
        some = await call(client, "experience_report_scores", {"to": str(NOW), "apps": ["zoom", "1"]})
    zdx_users = store_items(upstream, "zdx", f"{ZDX}/users")
    assert len(data["users"]) == len(zdx_users) == 60
    overall = [r["overall_score"] for r in data["users"]]
    assert overall == sorted(overall)
    for app_id, name in apps.items():
        scores = _app_users(upstream, app_id)
        for row in data["users"]:
            assert row[name] == scores.get(row["email"])
        summary = next(r for r in data["apps"] if r["app"] == name)
        assert summary["users"] == len(scores) and summary["poor"] == sum(s < 34 for s in scores.values())
    assert data["poor_users"] == [r["email"] for r in data["users"] if r["overall_score"] < 34]
    assert [r["app"] for r in some["apps"]] == ["Zoom", "Microsoft 365"]
    assert set(csvs) == {"oneapi-mcp://report/zdx-apps.csv", "oneapi-mcp://report/zdx-users-worst-first.csv"}
    assert len(images) == 1 and _writes(upstream) == []


async def test_unknown_users_and_apps_and_malformed_emails_are_refused_naming_what_was_searched(upstream):
    async with serve(upstream, profile="read-only") as client:
        malformed = await call_error(client, "experience_report_scores", {"user": "not-an-email"})
        assert upstream.mock.journal == []  # rejected before any read
        unknown = await call_error(client, "experience_report_scores", {"user": "nobody@example.test",
                                                                        "to": str(NOW)})
        no_app = await call_error(client, "experience_check_sla", {"apps": ["Zoom", "Teams"], "to": str(NOW)})
        no_app_perf = await call_error(client, "experience_report_app_performance", {"apps": ["Webex"]})
    assert malformed["error"]["kind"] == "invalid_arguments" and "not an email" in malformed["error"]["message"]
    assert unknown["error"]["kind"] == "not_found"
    assert "no ZDX user 'nobody@example.test': searched zdx_list_users" in unknown["error"]["message"]
    assert no_app["error"]["kind"] == "not_found" and no_app["error"]["unknown"] == ["Teams"]
    assert no_app["error"]["message"].startswith("no ZDX app 'Teams': searched the 6 apps")
    assert "Microsoft 365, Zoom, Salesforce" in no_app["error"]["message"]
    assert no_app_perf["error"]["searched"] == list(_apps(upstream).values())
    assert not any("/score" in j["path"] or "/metrics" in j["path"] for j in upstream.mock.journal)
    assert _writes(upstream) == []


def _in_window(points: list[dict], start: int, end: int) -> list[dict]:
    return [p for p in points if start <= p["timestamp"] <= end]


async def test_app_performance_summarises_every_metric_zdx_returns_and_charts_each(upstream):
    async with serve(upstream, profile="read-only") as client:
        data, text, images, csvs = await _full(client, "experience_report_app_performance",
                                               {"apps": ["Zoom", "Slack"], "to": str(NOW), "period": "24h"})
        only = await call(client, "experience_report_app_performance", {"apps": ["Zoom"], "metrics": ["pft"],
                                                                        "to": str(NOW), "include_datapoints": True})
    rows = {(r["app"], r["metric"]): r for r in data["metrics"]}
    assert set(rows) == {(app, m) for app in ("Zoom", "Slack")
                         for m in ("pft", "server_response_time", "dns", "availability")}
    for series in store_items(upstream, "zdx", f"{ZDX}/apps/{{id}}/metrics", "2"):
        values = [p["value"] for p in _in_window(series["datapoints"], NOW - DAY, NOW)]
        row = rows[("Zoom", series["metric"])]
        assert row["points"] == len(values) == 24 and row["unit"] == series["unit"]
        assert row["average"] == round(statistics.fmean(values), 1) and row["max"] == max(values)
    assert rows[("Zoom", "pft")]["label"] == "page fetch time"
    assert len(images) == 4 and all(png.startswith(b"\x89PNG") for png in images)
    assert list(csvs) == ["oneapi-mcp://report/app-performance-summary.csv"]
    assert [(r["app"], r["metric"]) for r in only["metrics"]] == [("Zoom", "pft")]
    assert only["csv"]["app-performance-datapoints"].count("\n") == 1 + 24
    asked = [j["query"] for j in upstream.mock.journal if j["path"] == f"{ZDX}/apps/2/metrics"]
    assert asked[-1] == {"from": str(NOW - DAY), "to": str(NOW), "metric_name": "pft"}
    assert _writes(upstream) == []


def _share_at_or_above(upstream, app_id: str, target: float, start: int, end: int) -> float:
    points = _in_window(store_document(upstream, "zdx", f"{ZDX}/apps/{{id}}/score", app_id)["datapoints"], start, end)
    return round(100 * sum(p["value"] >= target for p in points) / len(points), 2)  # hourly: equal weights


async def test_sla_is_the_share_of_time_at_or_above_the_target_per_app_passing_at_the_required_percent(upstream):
    start, end = NOW - 7 * DAY, NOW
    async with serve(upstream, profile="read-only") as client:
        data, text, images, csvs = await _full(client, "experience_check_sla", {"to": str(end), "period": "7d"})
        lenient = await call(client, "experience_check_sla", {"to": str(end), "from": str(start),
                                                              "required_percent": 70, "apps": ["Zoom"]})
        progress: list = []
        again = await call(client, "experience_check_sla", {"to": str(end), "period": "7d"}, progress=progress)
    rows = {r["app"]: r for r in data["apps"]}
    for app_id, name in _apps(upstream).items():
        share = _share_at_or_above(upstream, str(app_id), 66, start, end)
        assert rows[name]["percent_at_or_above"] == share
        assert rows[name]["status"] == ("pass" if share >= 95 else "fail")
        assert rows[name]["datapoints"] == 168 and rows[name]["coverage_percent"] == 100
    assert rows["Zoom"]["status"] == "fail" and rows["Salesforce"]["status"] == "pass"  # the seeded story
    assert lenient["apps"][0]["status"] == "pass" and lenient["apps"][0]["percent_at_or_above"] >= 70
    assert "ZDX has no SLA API" in data["computed_here"] and "ZDX has no SLA API" in text
    assert len(images) == 1 and images[0].startswith(b"\x89PNG")
    assert list(csvs) == ["oneapi-mcp://report/sla-compliance-per-app.csv"]
    assert again["apps"] == data["apps"] and _writes(upstream) == []
    assert [(p[0], p[1]) for p in progress] == [(n, 6) for n in range(6)] and progress[1][2] == "ZDX score of Zoom"


async def test_sla_reports_an_app_whose_scores_cannot_be_read_as_unknown_and_computes_the_others(upstream):
    rule = upstream.mock.fail("GET", f"{ZDX}/apps/2/score", 403, times=0)
    async with serve(upstream, profile="read-only") as client:
        data = await call(client, "experience_check_sla", {"to": str(NOW), "period": "7d"})
        early = await call(client, "experience_check_sla", {"to": str(NOW - 20 * DAY), "period": "2d",
                                                            "apps": ["Slack"]})
    rows = {r["app"]: r for r in data["apps"]}
    assert rule.hits == 1 and rows["Zoom"]["status"] == "unknown"
    assert [(p["operation"], p["http_status"]) for p in data["problems"]] == [("zdx_get_app_score", 403)]
    assert all(r["status"] in ("pass", "fail") for name, r in rows.items() if name != "Zoom")
    assert "1 without data" in data["summary"]
    assert early["apps"][0]["status"] == "no data" and early["apps"][0]["datapoints"] == 0  # before the history


async def test_an_app_whose_scores_cover_too_little_of_the_window_is_unknown_not_passed(upstream):
    # the seeded history is two weeks: a 28-day window ending now is half covered
    async with serve(upstream, profile="read-only") as client:
        half = await call(client, "experience_check_sla", {"to": str(NOW), "period": "28d", "apps": ["Salesforce"]})
        lenient = await call(client, "experience_check_sla", {"to": str(NOW), "period": "28d", "apps": ["Salesforce"],
                                                              "min_coverage_percent": 45})
    row = half["apps"][0]
    assert 45 < row["coverage_percent"] < 55 and row["status"] == "unknown"
    assert "below min_coverage_percent 90%" in row["reason"] and half["min_coverage_percent"] == 90
    assert lenient["apps"][0]["status"] in ("pass", "fail")


async def test_dns_time_is_asked_for_by_zdx_own_metric_name_dns(upstream):
    # zscaler-sdk-python zscaler/zdx/apps.py list_app_metrics: metric_name is pft, dns or availability
    async with serve(upstream, profile="read-only") as client:
        data = await call(client, "experience_report_app_performance", {"apps": ["Zoom"], "metrics": ["dns_time"],
                                                                        "to": str(NOW)})
    assert [(r["metric"], r["label"]) for r in data["metrics"]] == [("dns", "DNS time")]
    asked = [j["query"].get("metric_name") for j in upstream.mock.journal if j["path"] == f"{ZDX}/apps/2/metrics"]
    assert asked == ["dns"]


async def test_bad_windows_are_rejected_with_the_reason_before_anything_is_read(upstream):
    cases = [({"from": "2026-01-02", "to": "2026-01-01"}, "is not before to"),
             ({"period": "32d"}, "at most 31 days"),
             ({"to": "2099-01-01"}, "is in the future"),
             ({"to": "1767225600000"}, "looks like epoch milliseconds"),
             ({"from": "2026-13-01"}, "is not a time")]
    async with serve(upstream, profile="read-only") as client:
        for tool in ("experience_check_sla", "experience_report_scores", "experience_report_app_performance"):
            for arguments, reason in cases:
                error = await call_error(client, tool, arguments)
                assert error["error"]["kind"] == "invalid_arguments" and reason in error["error"]["message"], error
    assert upstream.mock.journal == []


def test_zdx_window_limits_follow_each_endpoints_documentation_and_name_the_argument():
    # specs/zdx.yaml and zscaler-sdk-python zdx/alerts.py: the alert lists "Cannot exceed 14 days"; the
    # app, score, metric and user reads document no maximum, so this server's own 31-day bound applies
    from oneapi_mcp.plugins.composite._kit.zdx_windows import check_window, chunks, limit_days

    from oneapi_mcp.plugin_api import Refusal

    assert limit_days(["zdx_list_ongoing_alerts", "zdx_get_app_score"])[0] == 14
    days, why = limit_days(["zdx_get_app_score", "zdx_list_users"])
    assert days == 31 and "own bound" in why
    check_window(0, 14 * 86400, ["zdx_list_historical_alerts"])  # exactly 14 days is allowed
    with pytest.raises(Refusal) as refused:
        check_window(0, 14 * 86400 + 1, ["zdx_list_historical_alerts", "zdx_list_users"], argument="period")
    assert refused.value.message.startswith("period: ") and "at most 14 days" in refused.value.message
    assert "zdx_list_historical_alerts" in refused.value.message and refused.value.extra["field"] == "period"
    assert chunks(0, 30 * 86400, "zdx_list_ongoing_alerts") == [(0, 14 * 86400), (14 * 86400, 28 * 86400),
                                                                (28 * 86400, 30 * 86400)]
    assert chunks(0, 40 * 86400, "zdx_get_app_score") == [(0, 31 * 86400), (31 * 86400, 40 * 86400)]

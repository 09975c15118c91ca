"""Incident management end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock
on a real socket, and the mock's journal and state checked afterwards.

These tools only read: the ZIA admin audit-log export job is a POST but read-scoped (it changes no
configuration), so "nothing changed" means no write-scoped request in the journal; the exports are
counted on their own."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from _composites import call, call_error, serve, store_document, store_items
from _reports import client, read_glob, report
from oneapi_mcp.plugins.composite._kit.time_windows import epoch, iso

from oneapi_mcp import load_catalog
from oneapi_mcp.mock import build_seed, create_mock_app
from oneapi_mcp.mock._graphql import incident_events
from oneapi_mcp.mock._seed_dlp import ZWA_INCIDENTS
from oneapi_mcp.mock._seed_incidents import SANDBOX_BENIGN_MD5, SANDBOX_MALICIOUS_MD5, incident_subjects

pytestmark = pytest.mark.anyio
ZIA, ZDX = "/zia/api/v1", "/zdx/v1"
WINDOW = {"from": "2025-12-31T00:00:00Z", "to": "2026-01-01T00:00:00Z"}  # the seeded tenant's last day
SEED = build_seed(0)
SUBJECT = incident_subjects(SEED)[0].email  # seeded with ZDX events, alerts and audit-log entries
EXPORT = "CreateAuditLogReport"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"ONEAPI_MCP_DATA_DIR": str(tmp_path_factory.mktemp("incidents"))}


_SCOPES = {(t.service, t.operation_id): t.scope for t in load_catalog().tools.values()}


def _exports(upstream, since: int = 0) -> int:
    return sum(1 for j in upstream.mock.journal[since:] if j["operation"] == EXPORT)


def _writes(upstream, since: int = 0) -> list[str]:
    """Operation ids of the write-scoped requests the mock served (urlLookup is a read-only POST)."""
    return [j["operation"] for j in upstream.mock.journal[since:]
            if _SCOPES.get((j["service"], j["operation"]), "write") != "read"]


def _seeded_device_events(email: str) -> list[dict]:
    user = next(u for u in SEED.collections[("zdx", f"{ZDX}/users", ())] if u["email"] == email)
    out = []
    for device in user["devices"]:
        out += (SEED.documents.get(("zdx", f"{ZDX}/devices/{{id}}/events", (str(device["id"]),))) or {})["events"]
    return out


def _csv_rows(report: dict, table: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(report["csv"][table])))


async def test_user_events_join_zdx_sandbox_and_audit_log_and_write_nothing(upstream, env):
    args = {"user": SUBJECT.upper(), **WINDOW, "md5_hashes": [SANDBOX_MALICIOUS_MD5, SANDBOX_BENIGN_MD5]}
    async with serve(upstream, profile="read-write", **env) as client:
        first = await call(client, "incident_list_user_events", args)
        mark = len(upstream.mock.journal)
        again = await call(client, "incident_list_user_events", args)
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert listed["incident_list_user_events"].annotations.read_only_hint is True  # the export job is read-scoped
    events = first["events"]
    by_source = {}
    for event in events:
        by_source.setdefault(event["source"], []).append(event)
    assert len(by_source["ZDX device event"]) == len(_seeded_device_events(SUBJECT)) == 3
    assert {"Software installed: - -> AnyDesk 8.1.0", "ZIA tunnel state: TUNNEL_UP -> TUNNEL_DOWN"} <= {
        e["detail"] for e in by_source["ZDX device event"]}
    alert_rules = {e["detail"].split(" (")[0] for e in by_source["ZDX alert"]}
    assert "Zoom Poor Call Quality" in alert_rules  # seeded: the subject's device is among its affected devices
    for event in by_source["ZDX alert"]:
        assert event["subject"] in {d["name"] for d in first["user"]["zdx"]["devices"]}
    verdicts = {e["subject"]: e["kind"] for e in by_source["ZIA sandbox"]}
    assert verdicts == {SANDBOX_MALICIOUS_MD5: "verdict MALICIOUS", SANDBOX_BENIGN_MD5: "verdict BENIGN"}
    exported = store_document(upstream, "zia", f"{ZIA}/auditlogEntryReport/download")["body"]
    naming = [line for line in exported.splitlines()[1:] if SUBJECT in line]
    assert len(by_source["ZIA admin audit log"]) == len(naming) == 3
    times = [e["time"] for e in events if e["time"]]
    assert times == sorted(times, reverse=True)
    windowed = [e["time"] for e in events if e["source"] in ("ZDX device event", "ZIA admin audit log")]
    assert all(WINDOW["from"] <= t <= WINDOW["to"] for t in windowed)
    assert first["user"]["email"] == SUBJECT and first["user"]["zidentity"]["active"] is True
    sources = {s["source"]: s for s in first["sources"]}
    assert all(s["status"] == "ok" for s in sources.values())
    assert any("changes no configuration" in n for n in sources["ZIA admin audit log"]["notes"])
    dlp = store_document(upstream, *ZWA_INCIDENTS[:2])["incidents"]
    mine = sorted((i for i in dlp if i["userInfo"]["email"] == SUBJECT), key=lambda i: i["createdAt"], reverse=True)
    assert mine and [e["subject"] for e in by_source["ZWA DLP incident"]] == [i["internalId"] for i in mine]
    assert all(e["kind"] == f"DLP {i['severity']}" for e, i in zip(by_source["ZWA DLP incident"], mine, strict=True))
    assert sources["ZWA DLP incidents"]["status"] == "ok"
    unavailable = {u["source"]: u for u in first["unavailable_sources"]}
    assert "ZWA DLP incidents" not in unavailable  # vendored: read above
    assert any("Splunk Web Logs" in w for w in unavailable["ZIA web, firewall and DNS transaction logs"]["where"])
    assert "ZPA user activity logs" in unavailable
    rows = _csv_rows(first, "events")
    assert len(rows) == len(events) and list(rows[0]) == ["time", "source", "kind", "subject", "detail"]
    assert again["events"] == events  # the same report again
    assert _writes(upstream) == [] and _exports(upstream) == 2 and _exports(upstream, mark) == 1
    posted = next(j for j in upstream.mock.journal if j["operation"] == EXPORT)
    assert posted["method"] == "POST" and posted["path"] == f"{ZIA}/auditlogEntryReport"


async def test_a_failing_source_is_reported_and_the_others_still_arrive(upstream, env):
    async with serve(upstream, profile="read-write", **env) as client:
        upstream.mock.fail("GET", f"{ZDX}/alerts/ongoing", 500, times=0)
        upstream.mock.fail("POST", f"{ZIA}/auditlogEntryReport", 500, times=0)
        report = await call(client, "incident_list_user_events", {"user": SUBJECT, **WINDOW})
        upstream.mock.clear_failures()
        upstream.mock.state.documents[("zia", f"{ZIA}/auditlogEntryReport", ())] = {"status": "EXECUTING",
                                                                                   "percentage": 40}
        pending = await call(client, "incident_generate_report", {"user": SUBJECT, **WINDOW,
                                                                  "audit_log_wait_seconds": 0})
    sources = {s["source"]: s for s in report["sources"]}
    assert sources["ZDX alerts"]["status"] == "partial"  # the historical alerts still answered
    assert any("zdx_list_ongoing_alerts" in e for e in sources["ZDX alerts"]["errors"])
    assert sources["ZIA admin audit log"]["status"] == "failed"
    assert not any(e["source"] == "ZIA admin audit log" for e in report["events"])
    assert any(e["source"] == "ZDX device event" for e in report["events"])
    assert any(e["source"] == "ZDX alert" for e in report["events"])  # from the historical list
    exports = [j["status"] for j in upstream.mock.journal if j["operation"] == EXPORT]
    # the failing export was retried (read-scoped: safe to resend) until it gave up; then the report's
    assert exports[-1] == 200 and set(exports[:-1]) == {500} and len(exports) > 2 and _writes(upstream) == []
    audit = {s["source"]: s for s in pending["sources"]}["ZIA admin audit log"]
    assert audit["status"] == "pending" and any("still EXECUTING (40%)" in n for n in audit["notes"])
    assert any(s["tool"] == "zia_get_audit_log_entry_report_data" for s in pending["next_steps"])


async def test_bad_input_is_refused_with_the_reason_before_anything_is_written(upstream, env):
    async with serve(upstream, profile="read-write", **env) as client:
        unknown = await call_error(client, "incident_list_user_events", {"user": "mallory@example.test", **WINDOW})
        not_email = await call_error(client, "incident_list_user_events", {"user": "mallory"})
        inverted = await call_error(client, "incident_list_user_events", {"user": SUBJECT, "from": WINDOW["to"],
                                                                          "to": WINDOW["from"]})
        future = await call_error(client, "incident_list_user_events", {"user": SUBJECT, "from": "2h",
                                                                        "to": "2999-01-01T00:00:00Z"})
        too_long = await call_error(client, "incident_generate_report", {"user": SUBJECT, "from": "30d"})
        garbage = await call_error(client, "incident_list_user_events", {"user": SUBJECT, "from": "yesterday-ish"})
        sha = await call_error(client, "incident_list_user_events", {"user": SUBJECT, "md5_hashes": ["ab" * 32]})
        nothing = await call_error(client, "incident_generate_report", {**WINDOW})
        unknown_report = await call_error(client, "incident_generate_report", {"user": "mallory@example.test"})
    assert unknown["error"]["kind"] == "not_found"
    message = unknown["error"]["message"]
    for searched in ("zid_list_users", "zia_list_users", "zdx_list_users", "zcc_list_devices"):
        assert searched in message
    assert "'mallory@example.test'" in message
    assert "not an email address" in not_email["error"]["message"]
    assert "inverted" in inverted["error"]["message"]
    assert "in the future" in future["error"]["message"]
    assert "at most 14 days" in too_long["error"]["message"]
    assert "neither ISO 8601" in garbage["error"]["message"]
    assert "SHA-256" in sha["error"]["message"]
    assert "at least one indicator" in nothing["error"]["message"]
    assert unknown_report["error"]["kind"] == "not_found"
    assert _writes(upstream) == []


async def test_indicators_are_found_across_services_and_malformed_ones_are_all_named(upstream, env):
    zcc = next(d for d in store_items(upstream, "zcc", "/zcc/papi/public/v1/getDevices") if d["user"] == SUBJECT)
    args = {"users": [SUBJECT, "nobody@example.test"], "devices": [zcc["machineHostname"].lower()],
            "domains": ["badsite.example", "wiki.example.test", "fresh-evil.example"],
            "hashes": [SANDBOX_MALICIOUS_MD5, "ab" * 32], "from": "2025-12-25T00:00:00Z", "to": WINDOW["to"]}
    async with serve(upstream, profile="read-write", **env) as client:
        await call(client, "threat_block_domains", {"domains": ["fresh-evil.example"], "method": "denylist",
                                                    "zpa": False, "dry_run": False})
        mark = len(upstream.mock.journal)
        report = await call(client, "incident_correlate_indicators", args)
        bad = await call_error(client, "incident_correlate_indicators", {
            "users": ["not-an-email"], "devices": ["two words"], "domains": ["http://x.example/a"], "hashes": ["xyz"]})
        empty = await call_error(client, "incident_correlate_indicators", {})
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert listed["incident_correlate_indicators"].annotations.read_only_hint is True
    hits = {(h["indicator"], h["service"], h["found_in"]): h for h in report["hits"]}
    for service in ("ZIdentity", "ZIA", "ZDX"):
        assert (SUBJECT, service, "user") in hits
    assert hits[(SUBJECT, "ZCC", "enrolled device")]["object"] == zcc["machineHostname"]
    device = zcc["machineHostname"].lower()
    assert f"owner {SUBJECT}" in hits[(device, "ZCC", "enrolled device")]["detail"]
    assert (device, "ZDX", "device of the owner") in hits
    assert report["device_owners"] == [SUBJECT]
    category = hits[("badsite.example", "ZIA", "custom URL category")]
    assert "Blocked Domains" in category["object"] and "Block Blocked Domains (BLOCK, ENABLED)" in category["detail"]
    assert "Intranet Portal" in hits[("wiki.example.test", "ZPA", "application segment")]["object"]
    # the block just applied: threat_block_domains' denylist is ATP's malicious-URL list (TestATPPolicy.yaml)
    assert ("fresh-evil.example", "ZIA", "ATP malicious URL list") in hits
    assert "MALICIOUS" in hits[(SANDBOX_MALICIOUS_MD5, "ZIA", "sandbox report")]["detail"]
    assert set(report["not_found"]) == {"nobody@example.test", "ab" * 32}
    assert [h["time"] for h in report["timeline"]] == sorted((h["time"] for h in report["timeline"]), reverse=True)
    assert any("MD5 only" in n for s in report["sources"] for n in s["notes"])
    assert len(_csv_rows(report, "hits")) == len(report["hits"])
    assert _writes(upstream, mark) == []
    assert bad["error"]["kind"] == "invalid_arguments" and len(bad["error"]["invalid"]) == 4
    for fragment in ("not an email", "not a device id", "not a domain", "not an MD5"):
        assert fragment in bad["error"]["message"]
    assert "at least one indicator" in empty["error"]["message"]


async def test_the_report_sees_actions_taken_and_stops_recommending_them(upstream, env):
    args = {"user": SUBJECT, "domains": ["badsite.example", "evil.example"], "hashes": [SANDBOX_MALICIOUS_MD5],
            "from": "2025-12-30T00:00:00Z", "to": WINDOW["to"], "title": "INC-42 ransomware on a laptop"}
    async with serve(upstream, profile="read-write", **env) as client:
        progress: list = []
        before = await call(client, "incident_generate_report", args, progress)
        await call(client, "threat_isolate_account", {"user": SUBJECT, "dry_run": False})
        await call(client, "threat_block_domains", {"domains": ["evil.example"], "zpa": False, "dry_run": False})
        mark = len(upstream.mock.journal)
        after = await call(client, "incident_generate_report", args)
    assert progress[-1][:2] == (5, 5)
    assert before["title"] == "INC-42 ransomware on a laptop"
    steps = {s["tool"]: s for s in before["next_steps"]}
    assert steps["threat_isolate_account"]["priority"] == "high"  # a malicious file is involved
    assert steps["threat_isolate_account"]["arguments"] == {"user": SUBJECT}
    assert steps["threat_block_domains"]["arguments"] == {"domains": ["evil.example"]}  # badsite is blocked already
    assert "threat_quarantine_endpoint" in steps
    assert [a["action"] for a in before["actions_taken"]] == ["badsite.example is blocked in ZIA"]
    assert before["summary"]["sandbox_verdicts"] == {SANDBOX_MALICIOUS_MD5: "MALICIOUS"}
    kinds = {a["type"] for a in before["affected_assets"]}
    assert {"user", "enrolled device", "sandbox report"} <= kinds
    assert {e["source"] for e in before["timeline"]} >= {"ZDX device event", "ZDX alert", "ZIA sandbox",
                                                         "ZIA admin audit log"}
    taken = {a["action"] for a in after["actions_taken"]}
    assert f"ZIdentity account {SUBJECT} is disabled" in taken
    assert f"ZIA blocks all traffic of {SUBJECT}" in taken  # isolate adds a user-scoped BLOCK rule
    assert f"ZPA denies {SUBJECT} all private-app access" in taken
    assert "evil.example is blocked in ZIA" in taken
    after_tools = {s["tool"] for s in after["next_steps"]}
    assert "threat_isolate_account" not in after_tools and "threat_block_domains" not in after_tools
    assert set(after["csv"]) == {"timeline", "affected-assets", "indicator-hits", "actions-already-taken",
                                 "recommended-next-steps", "sources"}
    assert len(_csv_rows(after, "actions-already-taken")) == len(after["actions_taken"])
    assert _writes(upstream, mark) == [] and _exports(upstream, mark) == 1
    user = next(u for u in store_items(upstream, "zid", "/ziam/admin/api/v1/users") if u["loginName"] == SUBJECT)
    assert user["status"] is False  # the report read what threat_isolate_account changed, and changed nothing


async def test_a_read_only_server_offers_every_incident_tool_the_audit_log_export_included(upstream, env):
    async with serve(upstream, profile="read-only", **env) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        report = await call(client, "incident_correlate_indicators", {"domains": ["badsite.example"]})
    assert {"incident_correlate_indicators", "incident_list_user_events", "incident_generate_report"} <= names
    assert report["hits"][0]["found_in"] == "custom URL category"


# -- unknown is not "found nowhere" (in process, through ASGI) ---------------------------------------------
NOWHERE = "nowhere-at-all.example"
_DOMAIN_READS = ("zia_list_url_categories", "zia_list_url_filtering_rules", "zia_get_advanced_policy",
                 "zpa_list_all_applications")


@pytest.fixture(scope="module")
def _mock():
    return create_mock_app(seed=0)


@pytest.fixture
def mock(_mock):
    _mock.reset()
    return _mock


async def test_a_domain_searched_everywhere_and_not_seen_is_found_nowhere(mock):
    data = await report(mock, "incident_correlate_indicators", {"domains": [NOWHERE], **WINDOW})
    assert data["not_found"] == [NOWHERE] and data["unknown"] == [] and data["unknown_why"] == ""


@pytest.mark.parametrize("operation", _DOMAIN_READS)
async def test_a_403_on_a_search_makes_an_unseen_indicator_unknown_not_found_nowhere(mock, operation):
    rule = mock.fail(*read_glob(operation), 403, times=0)
    data = await report(mock, "incident_correlate_indicators", {"domains": [NOWHERE], **WINDOW})
    assert rule.hits >= 1
    assert data["not_found"] == [] and data["unknown"] == [NOWHERE]
    assert f"unknown: {operation} (GET " in data["unknown_why"] and "HTTP 403" in data["unknown_why"]
    assert "found nowhere" not in data["summary"] and "0 of 1 indicator(s)" in data["summary"]


async def test_the_incident_report_says_incomplete_and_unknown_when_a_read_was_refused(mock):
    mock.fail(*read_glob("zia_list_url_filtering_rules"), 403, times=0)
    async with client(mock) as mcp:
        result = await mcp.call_tool("incident_generate_report", {"domains": [NOWHERE], "audit_log": False, **WINDOW})
    data, text = result.structured_content, result.content[0].text
    assert data["summary"]["not_found"] == [] and data["summary"]["unknown"] == [NOWHERE]
    assert "Found nowhere" not in text and f"Unknown (not found in what could be read): {NOWHERE}" in text
    assert "Incomplete: where a read failed" in text and "HTTP 403" in text
    assert "none found in what could be read" in text


def _zins_days(email: str, start: int, end: int) -> dict[int, int]:
    """The seeded Z-Insights incidents of one person per day (epoch seconds of the day -> count)."""
    out: dict[int, int] = {}
    for event in incident_events(SEED.people, 0, start * 1000, end * 1000):
        if event["user"] == email:
            out[event["day"] // 1000] = out.get(event["day"] // 1000, 0) + 1
    return out


async def test_a_persons_timeline_has_their_z_insights_incidents_per_day_with_categories(mock):
    start, end = epoch(WINDOW["from"]), epoch(WINDOW["to"])
    subject = next(p.email for p in SEED.people if _zins_days(p.email, start, end))  # someone with incidents
    data = await report(mock, "incident_list_user_events", {"user": subject, **WINDOW, "audit_log": False})
    mine = [e for e in data["events"] if e["source"] == "Z-Insights"]
    expected = _zins_days(subject, start, end)
    assert {e["time"]: int(e["detail"].split(" ")[0]) for e in mine} == {iso(d): n for d, n in expected.items()}
    assert expected
    categories = Counter(e["category"] for e in incident_events(SEED.people, 0, start * 1000, end * 1000)
                         if e["user"] == subject)
    assert all(f"{name} ({n})" in mine[0]["detail"] for name, n in categories.items())
    assert all(e["operation"].startswith("zins_cyber_security_incidents") for e in mine)
    source = next(s for s in data["sources"] if s["source"] == "Z-Insights cyber-security incidents")
    assert source["status"] == "ok" and "Z-Insights" not in {u["source"] for u in data["unavailable_sources"]}


async def test_unreadable_z_insights_is_a_failed_source_and_the_rest_of_the_timeline_still_arrives(mock):
    mock.fail(*read_glob("zins_cyber_security_incidents"), 403, times=0)
    data = await report(mock, "incident_list_user_events", {"user": SUBJECT, **WINDOW, "audit_log": False})
    source = next(s for s in data["sources"] if s["source"] == "Z-Insights cyber-security incidents")
    assert source["status"] == "failed" and any("403" in e for e in source["errors"])
    assert not [e for e in data["events"] if e["source"] == "Z-Insights"]
    assert [e for e in data["events"] if e["source"] == "ZDX device event"]

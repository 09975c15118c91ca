"""SIEM integration end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on a
real socket, and real receivers on 127.0.0.1 (a syslog listener, HTTP collectors) fed from the server's
durable outbox, including a receiver that is down while the server stops and starts again."""

from __future__ import annotations

import json
import sqlite3

import pytest
from _composites import call, call_error, serve, step_statuses, store_items
from test_outbox import HEC_TOKEN, HttpReceiver, RelpReceiver, SilentReceiver, SyslogReceiver, closed_port, wait_for

from oneapi_mcp.mock._seed_siem import LSS_FORMATS

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
LSS = "/zpa/mgmtconfig/v2/admin/customers/{customerId}/lssConfig"
TOKEN = "hec-token-7f3a9c51d2e8"
HEADER_SECRET = "chronicle-key-5be1f09a"
NSS = {"name": "Splunk Admin Audit", "log_type": "ADMIN_AUDIT", "siem_type": "SPLUNK",
       "connection_url": "https://splunk.example.test:8088/services/collector/raw", "authentication_token": TOKEN,
       "connection_headers": [f"X-Webhook-Access-Key: {HEADER_SECRET}"],
       "feed_output_format": '{"sourcetype":"zscalernss-audit","event":{"time":"%s{time}","admin":"%s{adminid}"}}'}
LSS_ARGS = {"name": "ZPA Audit to SIEM", "host": "siem.example.test", "port": 6514, "log_type": "zpn_audit_log",
            "connector_groups": ["SJC Connectors"]}


def _writes(upstream) -> list[str]:
    """Upstream requests that change something (validateFeedFormat is a POST that only checks)."""
    return [f"{j['method']} {j['path']}" for j in upstream.mock.journal
            if j["method"] != "GET" and not j["path"].endswith("/validateFeedFormat")]


def _feed(upstream, name: str) -> dict | None:
    return next((f for f in store_items(upstream, "zia", f"{ZIA}/nssFeeds") if f.get("name") == name), None)


def _lss(upstream, name: str) -> dict | None:
    return next((c for c in store_items(upstream, "zpa", LSS) if c["config"]["name"] == name), None)


# -- ZIA Cloud NSS feeds -------------------------------------------------------------------------------
async def test_nss_feed_plans_applies_activates_tests_connectivity_and_never_shows_a_secret(upstream, tmp_path):
    audit = tmp_path / "audit.jsonl"
    async with serve(upstream, profile="read-write", ONEAPI_MCP_AUDIT_LOG=str(audit)) as client:
        planned = await call(client, "siem_configure_nss_feed", NSS)
        assert _writes(upstream) == [] and planned["outcome"] == "planned"
        body = planned["steps"][0]["body"]
        assert step_statuses(planned) == [("zia_create_nss_feed", "planned")]
        assert body["authenticationToken"] == "***" and body["connectionHeaders"] == ["X-Webhook-Access-Key: ***"]
        assert (body["nssType"], body["nssLogType"], body["cloudNss"]) == ("NSS_FOR_WEB", "ADMIN_AUDIT", True)

        applied = await call(client, "siem_configure_nss_feed", {**NSS, "dry_run": False})
        assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
        connectivity = applied["connectivity"]
        assert connectivity["feed_id"] == applied["feed_id"] and connectivity["reachable"] is True
        assert set(connectivity) == {"feed_id", "reachable", "status", "code", "detail"}  # nothing echoed back
        writes = _writes(upstream)

        again = await call(client, "siem_configure_nss_feed", {**NSS, "dry_run": False})
        assert again["outcome"] == "nothing_to_do" and _writes(upstream) == writes
        assert any("update_secrets=true" in u for u in again["unchanged"])
        rotated = await call(client, "siem_configure_nss_feed", {**NSS, "update_secrets": True})
        assert step_statuses(rotated) == [("zia_update_nss_feed", "planned")]
        assert rotated["steps"][0]["body"]["authenticationToken"] == "***"
    feed = _feed(upstream, NSS["name"])
    assert feed["authenticationToken"] == TOKEN  # sent upstream, never shown
    assert feed["connectionHeaders"] == [f"X-Webhook-Access-Key:{HEADER_SECRET}"]
    assert feed["feedOutputFormat"] == NSS["feed_output_format"] and feed["siemType"] == "SPLUNK"
    assert writes.count("POST /zia/api/v1/nssFeeds") == 1 and upstream.mock.state.activation["zia"] == "ACTIVE"
    shown = json.dumps([planned, applied, again, rotated]) + audit.read_text()
    assert TOKEN not in shown and HEADER_SECRET not in shown


async def test_nss_feed_update_failure_and_bad_input_are_reported_and_change_nothing(upstream):
    seeded = {**NSS, "name": "Splunk Web Logs", "log_type": "WEBLOG", "siem_type": "SPLUNK",
              "connection_url": "https://splunk.example.test:8088/services/collector/raw"}
    async with serve(upstream, profile="read-write") as client:
        update = await call(client, "siem_configure_nss_feed", seeded)
        assert step_statuses(update) == [("zia_update_nss_feed", "planned")]
        assert update["found"]["zia_feed"]["id"] == 701 and "feedOutputFormat" in update["steps"][0]["why"]

        upstream.mock.fail("POST", f"{ZIA}/nssFeeds", 500)
        failed = await call_error(client, "siem_configure_nss_feed", {**NSS, "dry_run": False})
        assert failed["outcome"] == "rolled_back" and step_statuses(failed) == [("zia_create_nss_feed", "failed")]
        assert failed["steps"][0]["http_status"] == 500 and "still needs doing" in failed["operator_actions"][0]
        assert _feed(upstream, NSS["name"]) is None and upstream.mock.state.activation["zia"] != "PENDING"

        upstream.mock.fail("GET", f"{ZIA}/nssFeeds/testConnectivity/*", 500, times=0)
        unreachable = await call(client, "siem_configure_nss_feed", {**NSS, "dry_run": False})
        upstream.mock.clear_failures()
        assert unreachable["outcome"] == "applied" and unreachable["connectivity"]["reachable"] is False
        assert "re-test with zia_test_cloud_nss_connectivity" in unreachable["operator_actions"][-1]
        writes = _writes(upstream)

        plain = await call_error(client, "siem_configure_nss_feed", {**NSS, "name": "x",
                                                                    "connection_url": "http://splunk.example.test/x"})
        assert plain["error"]["kind"] == "invalid_arguments" and "must use https" in plain["error"]["message"]
        header = await call_error(client, "siem_configure_nss_feed", {**NSS, "name": "x",
                                                                     "connection_headers": ["no colon here"]})
        assert "connection_headers" in header["error"]["message"]
        kind = await call_error(client, "siem_configure_nss_feed", {**NSS, "log_type": "EVERYTHING"})
        assert kind["error"]["kind"] == "invalid_arguments" and "log_type" in kind["error"]["message"]
    assert _writes(upstream) == writes


# -- ZPA log streaming ---------------------------------------------------------------------------------
async def test_nss_batch_size_is_sent_in_kb_and_lss_filter_codes_are_the_excluded_ones(upstream):
    # zscaler-sdk-python zscaler/zia/cloud_nss.py: max_batch_size "in KB" (512); zscaler/zpa/lss.py:
    # filter_status_codes "will be excluded by LSS"
    async with serve(upstream, profile="read-write") as client:
        nss = await call(client, "siem_configure_nss_feed", {**NSS, "max_batch_size_kb": 512})
        lss = await call(client, "siem_configure_lss_stream", {**LSS_ARGS, "filter": ["ZPN_STATUS_AUTH_FAILED"]})
        described = {t.name: t for t in (await client.list_tools()).tools}["siem_configure_lss_stream"]
    assert nss["steps"][0]["body"]["maxBatchSize"] == 512
    assert lss["steps"][0]["body"]["config"]["filter"] == ["ZPN_STATUS_AUTH_FAILED"]
    assert "excluding status codes ZPN_STATUS_AUTH_FAILED" in lss["steps"][0]["why"]
    assert "EXCLUDE" in described.input_schema["properties"]["filter"]["description"]


async def test_lss_stream_plans_with_zpas_default_format_applies_and_is_idempotent(upstream):
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "siem_configure_lss_stream", LSS_ARGS)
        assert _writes(upstream) == [] and step_statuses(planned) == [("zpa_create_siem", "planned")]
        body = planned["steps"][0]["body"]
        assert body["config"]["format"] == LSS_FORMATS["json"] and body["config"]["useTls"] is True
        assert [g["name"] for g in body["connectorGroups"]] == ["SJC Connectors"]

        applied = await call(client, "siem_configure_lss_stream", {**LSS_ARGS, "dry_run": False})
        assert applied["outcome"] == "applied" and "activation" not in applied
        writes = _writes(upstream)
        again = await call(client, "siem_configure_lss_stream", {**LSS_ARGS, "dry_run": False})
        assert again["outcome"] == "nothing_to_do" and _writes(upstream) == writes

        moved = await call(client, "siem_configure_lss_stream", {**LSS_ARGS, "port": 6515, "encoding": "csv",
                                                                 "dry_run": False})
        assert step_statuses(moved) == [("zpa_update_siem", "done")] and "lssPort" in moved["steps"][0]["why"]
    config = _lss(upstream, LSS_ARGS["name"])
    assert config["config"]["lssPort"] == 6515 and config["config"]["format"] == LSS_FORMATS["csv"]
    assert config["config"]["sourceLogType"] == "zpn_audit_log" and len(store_items(upstream, "zpa", LSS)) == 3


async def test_lss_stream_failure_and_unknown_connector_group_change_nothing(upstream):
    async with serve(upstream, profile="read-write") as client:
        unknown = await call_error(client, "siem_configure_lss_stream", {**LSS_ARGS, "connector_groups": [
            "SJC Connectors", "Atlantis Connectors"], "dry_run": False})
        assert unknown["error"]["kind"] == "not_found"
        assert "'Atlantis Connectors'" in unknown["error"]["message"] and "zpa_list_assistant_groups" in unknown[
            "error"]["message"]
        host = await call_error(client, "siem_configure_lss_stream", {**LSS_ARGS, "host": "bad host!"})
        assert "not a hostname or IP address" in host["error"]["message"]

        upstream.mock.fail("POST", "/zpa/mgmtconfig/v2/admin/customers/*/lssConfig", 503)
        failed = await call_error(client, "siem_configure_lss_stream", {**LSS_ARGS, "dry_run": False})
        assert failed["outcome"] == "rolled_back" and step_statuses(failed) == [("zpa_create_siem", "failed")]
    assert _writes(upstream) == ["POST /zpa/mgmtconfig/v2/admin/customers/216196257331281920/lssConfig"]
    assert _lss(upstream, LSS_ARGS["name"]) is None


# -- our export: audit events, security events, webhooks, status and flush -----------------------------
def _env(tmp_path, *destinations: dict, **extra: str) -> dict[str, str]:
    return {"ONEAPI_MCP_DATA_DIR": str(tmp_path), "ONEAPI_MCP_SIEM_DESTINATIONS": json.dumps(list(destinations)),
            "ONEAPI_MCP_SIEM_RETRY_INITIAL": "0.1", "ONEAPI_MCP_SIEM_RETRY_MAX": "0.5", **extra}


async def test_tool_calls_and_security_events_reach_syslog_hec_and_a_signed_webhook(upstream, tmp_path):
    syslog = SyslogReceiver().start()
    hec = HttpReceiver(token=HEC_TOKEN).start()
    hook = HttpReceiver(secret="unknown until registered").start()
    env = _env(tmp_path, {"name": "syslog", "type": "syslog", "host": "127.0.0.1", "port": syslog.port,
                          "transport": "tcp", "events": ["audit"]},
               {"name": "splunk", "type": "hec", "url": hec.url, "token_env": "TEST_HEC_TOKEN", "events": ["security"]},
               TEST_HEC_TOKEN=HEC_TOKEN)
    alerts = sum(len(store_items(upstream, "zdx", f"/zdx/v1/alerts/{kind}")) for kind in ("ongoing", "historical"))
    found = alerts + 6  # and six admin audit entries
    try:
        async with serve(upstream, profile="read-write", **env) as client:
            registered = await call(client, "siem_register_webhook", {"name": "soar", "url": hook.url})
            hook.secret = registered["signing_secret"]
            assert registered["outcome"] == "registered" and registered["webhook"]["target"] == hook.url
            same = await call(client, "siem_register_webhook", {"name": "soar", "url": hook.url})
            assert same["outcome"] == "nothing_to_do" and "signing_secret" not in same
            listed = await call(client, "siem_list_webhooks", {})
            assert [w["name"] for w in listed["webhooks"]] == ["soar"] and hook.secret not in json.dumps(listed)
            await call(client, "zia_get_activation_status", {})

            planned = await call(client, "siem_export_events", {"hours": 48})
            assert planned["outcome"] == "planned" and planned["events_found"] == {"zdx_alerts": alerts,
                                                                                  "zia_admin_audit": 6}
            assert {u["source"] for u in planned["unavailable_sources"]} >= {"ZWA DLP incidents",
                                                                              "ZIA/ZPA transaction logs"}
            exported = await call(client, "siem_export_events", {"hours": 48, "dry_run": False})
            assert exported["outcome"] == "delivered" and exported["queued"] == 2 * found  # to splunk and soar
            assert sorted(r["destination"] for r in exported["delivery"]) == ["soar", "splunk"]
            again = await call(client, "siem_export_events", {"hours": 48, "dry_run": False})
            assert again["outcome"] == "nothing_to_do" and again["queued"] == 0

            upstream.mock.fail("GET", "/zdx/v1/alerts/ongoing*", 500, times=0)
            partial = await call_error(client, "siem_export_events", {"dry_run": False, "sources": [
                "zdx_alerts", "zia_admin_audit"]})
            upstream.mock.clear_failures()
            assert partial["source_problems"][0]["source"] == "zdx_alerts" and partial["events_found"] == {
                "zia_admin_audit": 6}
            assert partial["outcome"] == "partial" and "zdx_alerts could not be read" in partial["operator_actions"][0]

            await wait_for(lambda: len(set(hook.ids())) >= found + 6)  # security events plus tool calls so far
            flushed = await call(client, "siem_flush_outbox", {})
            assert flushed["outcome"] == "delivered"
            status = await call(client, "siem_get_status", {})
            await wait_for(lambda: any(m["msg"]["data"]["tool"] == "siem_get_status" for m in syslog.messages))
            removed = await call(client, "siem_remove_webhook", {"name": "soar"})
            missing = await call_error(client, "siem_remove_webhook", {"name": "soar"})
    finally:
        syslog.stop()
        hec.stop()
        hook.stop()
    rows = {r["name"]: r for r in status["destinations"]}
    assert set(rows) == {"syslog", "splunk", "soar"} and rows["splunk"]["pending"] == 0
    assert rows["splunk"]["guarantee"] == "acknowledged" and rows["splunk"]["acknowledged"] == found
    assert rows["syslog"]["guarantee"] == "best-effort" and rows["syslog"]["acknowledged"] == 0
    assert rows["syslog"]["sent"] > 0 and "best-effort" in rows["syslog"]["state"] and rows["syslog"]["healthy"]
    assert status["best_effort"] == ["syslog"] and "sent but never acknowledged: syslog" in status["summary"]
    assert rows["soar"]["origin"] == "registered" and "splunk" in status["csv"]["siem-destinations"]
    assert removed["outcome"] == "removed" and missing["error"]["kind"] == "not_found"

    security = [e for e in hec.accepted if e["kind"] == "security"]
    assert len({e["id"] for e in security}) == found and {e["type"] for e in security} == {"zdx_alert",
                                                                                         "zia_admin_audit"}
    assert not [e for e in hec.accepted if e["kind"] == "audit"]  # splunk takes security events only
    assert {e["id"] for e in security} <= set(hook.ids())  # the webhook took both kinds, each signed
    alert = next(e for e in security if e["type"] == "zdx_alert" and e["data"]["severity"] == "critical")
    assert alert["severity"] == "critical" and alert["data"]["rule_name"]

    outcomes = [m for m in syslog.messages if m["msgid"] == "tool_call"]
    tools = [m["msg"]["data"]["tool"] for m in outcomes]
    assert tools[:4] == ["siem_register_webhook", "siem_register_webhook", "siem_list_webhooks",
                         "zia_get_activation_status"]
    # intent events precede upstream writes only; registering a webhook writes to this server's outbox
    assert not [m for m in syslog.messages if m["msgid"] == "tool_call_intent"]
    registration = outcomes[0]["msg"]["data"]
    assert registration["outcome"] == "ok" and registration["arguments"]["url"] == hook.url
    assert hook.secret not in json.dumps(syslog.messages) and HEC_TOKEN not in json.dumps(status)
    assert all(m["sd"]["oneapi@32473"]["kind"] == "audit" for m in syslog.messages)


async def test_the_outbox_survives_a_receiver_outage_and_a_server_restart(upstream, tmp_path):
    port = closed_port()
    env = _env(tmp_path, {"name": "siem", "type": "syslog", "host": "127.0.0.1", "port": port, "transport": "tcp"})
    async with serve(upstream, **env) as client:
        for _ in range(3):
            await call(client, "zia_get_activation_status", {})
        status = await call(client, "siem_get_status", {})
        flushed = await call(client, "siem_flush_outbox", {})
    (row,) = status["destinations"]
    assert row["pending"] >= 3 and "cannot connect to tcp://127.0.0.1" in row["last_error"]
    assert status["failing"] == ["siem"]
    assert flushed["outcome"] == "partial" and "stay in the outbox" in flushed["summary"]
    with sqlite3.connect(tmp_path / "siem.sqlite3") as db:  # what the stopped server left queued
        queued = {r[0] for r in db.execute("SELECT event_id FROM events WHERE delivered IS NULL")}
    assert len(queued) == 5  # three reads, the status and the flush: nothing was lost while down

    receiver = SyslogReceiver(port).start()
    try:
        async with serve(upstream, **env) as client:
            await wait_for(lambda: queued <= set(receiver.ids()), timeout=20)  # delivered at start-up
            after = await call(client, "siem_get_status", {})
    finally:
        receiver.stop()
    by_id: dict[str, list] = {}
    for m in receiver.messages:
        by_id.setdefault(m["msg"]["id"], []).append(m["msg"])
    assert all(len({json.dumps(c, sort_keys=True) for c in copies}) == 1 for copies in by_id.values())
    tools = sorted(by_id[i][0]["data"]["tool"] for i in queued)
    assert tools == ["siem_flush_outbox", "siem_get_status", "zia_get_activation_status",
                     "zia_get_activation_status", "zia_get_activation_status"]
    assert after["destinations"][0]["sent"] >= 5 and after["destinations"][0]["last_success_at"]


async def test_status_shows_a_receiver_that_never_reads_unhealthy_with_its_events_queued(upstream, tmp_path):
    silent, relp = SilentReceiver(), RelpReceiver(auto={})
    env = _env(tmp_path, {"name": "stuck", "type": "syslog", "host": "127.0.0.1", "port": silent.port,
                          "transport": "relp", "ack_timeout": 0.3},
               {"name": "relp", "type": "syslog", "host": "127.0.0.1", "port": relp.port, "transport": "relp"})
    try:
        async with serve(upstream, **env) as client:
            for _ in range(3):
                await call(client, "zia_get_activation_status", {})
            await wait_for(lambda: len(relp.received) >= 3)
            flushed = await call(client, "siem_flush_outbox", {})
            status = await call(client, "siem_get_status", {})
    finally:
        silent.stop()
        relp.stop()
    rows = {r["name"]: r for r in status["destinations"]}
    stuck = rows["stuck"]
    assert not stuck["healthy"] and stuck["state"].startswith("unhealthy") and status["failing"] == ["stuck"]
    assert stuck["pending"] >= 4 and stuck["acknowledged"] == 0 and "did not send an answer" in stuck["last_error"]
    assert rows["relp"]["healthy"] and rows["relp"]["acknowledged"] >= 3 and rows["relp"]["target"].startswith(
        "relp://")
    assert "unhealthy: stuck" in status["summary"] and flushed["outcome"] == "partial"
    assert {"acknowledged_now", "sent_now"} <= set(flushed["destinations"][0])


async def test_status_says_how_to_configure_when_nothing_is_set_up(upstream, tmp_path):
    async with serve(upstream, profile="read-only", ONEAPI_MCP_DATA_DIR=str(tmp_path)) as client:
        status = await call_error(client, "siem_get_status", {})
        names = [t.name for t in (await client.list_tools()).tools]
    assert status["error"]["kind"] == "not_configured" and "siem_destinations" in status["error"]["message"]
    assert {"siem_get_status", "siem_flush_outbox", "siem_list_webhooks"} <= set(names)
    assert "siem_register_webhook" not in names and "siem_configure_nss_feed" not in names
    assert not (tmp_path / "siem.sqlite3").exists()


async def test_an_export_window_past_the_14_days_zdx_alert_lists_take_is_refused_before_any_request(upstream):
    # specs/zdx.yaml /alerts/ongoing and /alerts/historical: "Cannot exceed 14 days API limit"
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "siem_export_events", {"hours": 14 * 24 + 1})
    assert "hours" in error["error"]["message"] and "336" in error["error"]["message"], error
    assert not [j for j in upstream.mock.journal if j["path"].startswith("/zdx/")]

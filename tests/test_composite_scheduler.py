"""Scheduled changes end to end: the SDK's MCP client over stdio schedules changes on `oneapi-mcp serve`
(mock on a real socket, data directory in tmp_path); the server is stopped before their time and started
again, and the restarted server runs them: the mock's state, its journal, the list and the audit log say so."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest
from _composites import MockServer, call, call_error, serve, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
# seconds: long enough to make seven calls and stop the server first on a loaded machine (3 s was not: its
# "machine is too slow" check failed while the suite ran alongside other work), short enough to stay quick
AHEAD = 15.0


@pytest.fixture(scope="module")
def upstream():
    with MockServer() as server:
        yield server


@pytest.fixture
def env(tmp_path):
    return {"ONEAPI_MCP_DATA_DIR": str(tmp_path), "ONEAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
            "ONEAPI_MCP_PLUGINS__SCHEDULER__POLL": "0.5"}


def _local(moment: datetime, zone: str) -> str:
    """The wall-clock time in `zone`, without an offset, as a person there would say it (zones without
    daylight saving time, so the test never meets a skipped or repeated hour)."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat()


def _local_in(seconds: float, zone: str) -> str:
    return _local(datetime.now(UTC) + timedelta(seconds=seconds), zone)


def _rules(upstream) -> dict[int, dict]:
    return {r["id"]: r for r in store_items(upstream, "zia", f"{ZIA}/urlFilteringRules")}


async def _wait_until_finished(client, change_ids: list[str], timeout: float = 30.0) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        listed = await call(client, "policy_list_scheduled_changes", {})
        changes = {c["id"]: c for c in listed["changes"] if c["id"] in change_ids}
        if all(changes[i]["status"] not in ("pending", "running") for i in change_ids):
            return changes
        assert time.monotonic() < deadline, f"still not run: {json.dumps(changes, indent=1)[:2000]}"
        await anyio.sleep(0.2)


async def test_a_scheduled_change_survives_a_restart_and_runs_once_and_a_cancelled_one_never_runs(upstream, env,
                                                                                                  tmp_path):
    upstream.mock.reset()
    block = {"domains": ["later.example"], "zpa": False}
    async with serve(upstream, profile="admin", **env) as client:
        planned = await call(client, "policy_schedule_change", {"tool": "threat_block_domains", "arguments": block,
                                                         "run_at": _local_in(3600, "Asia/Kolkata"),
                                                         "time_zone": "Asia/Kolkata"})
        assert planned["outcome"] == "planned" and planned["when"]["time_zone"] == "Asia/Kolkata"
        assert [s["operation"] for s in planned["target"]["plan_now"]["steps"]] == [
            "zia_create_custom_url_category", "zia_create_url_filtering_rule"]
        run_at = datetime.now(UTC) + timedelta(seconds=AHEAD)  # from here on, the clock runs against the test
        schedule = {"tool": "threat_block_domains", "arguments": block, "run_at": _local(run_at, "Asia/Tokyo"),
                    "time_zone": "Asia/Tokyo", "note": "block after the change window opens"}
        scheduled = await call(client, "policy_schedule_change", {**schedule, "dry_run": False})
        block_id = scheduled["change"]["id"]
        assert scheduled["outcome"] == "scheduled" and scheduled["change"]["status"] == "pending"
        assert scheduled["change"]["arguments"] == {**block, "dry_run": False}
        again = await call(client, "policy_schedule_change", {**schedule, "dry_run": False})
        assert again["outcome"] == "nothing_to_do" and again["change"]["id"] == block_id

        disable = await call(client, "policy_schedule_change", {
            "tool": "zia_update_url_filtering_rule", "run_at": run_at.isoformat(), "dry_run": False,
            "arguments": {"id": 302, "body": {**_rules(upstream)[302], "state": "DISABLED"}}})
        disable_id = disable["change"]["id"]
        assert disable["target"]["request"]["method"] == "PUT"
        cancelled = await call(client, "policy_cancel_scheduled_change", {"id": disable_id})
        assert cancelled["outcome"] == "cancelled" and cancelled["change"]["status"] == "cancelled"
        assert (await call(client, "policy_cancel_scheduled_change", {"id": disable_id}))["outcome"] == "nothing_to_do"

        # destructive: scheduling it asks for the same confirmation as the direct call
        remove = {"tool": "zia_remove_url_filtering_rule", "arguments": {"id": 304}, "dry_run": False,
                  "run_at": run_at.isoformat().replace("+00:00", "Z")}
        asked = (await call_error(client, "policy_schedule_change", remove))["error"]
        assert asked["kind"] == "confirmation_required"
        assert "DELETE /zia/api/v1/urlFilteringRules/304" in asked["plan"]["steps"][0]["call"]
        confirmed = await call(client, "policy_schedule_change", {**remove, "confirm_token": asked["confirm_token"]})
        remove_id = confirmed["change"]["id"]
        assert confirmed["change"]["confirmed"] == "confirm_token"
    stopped = datetime.now(UTC)
    assert stopped < run_at, "the first server must stop before the changes are due (the machine is too slow)"
    assert _writes(upstream) == []

    async with serve(upstream, profile="admin", **env) as client:
        done = await _wait_until_finished(client, [block_id, remove_id])
        # bad input, while the server is up anyway
        past = await call_error(client, "policy_schedule_change", {"tool": "threat_block_domains", "arguments": block,
                                                            "run_at": "2020-01-01T09:00:00+01:00"})
        assert past["error"]["kind"] == "time_in_past"
        zone = await call_error(client, "policy_schedule_change", {"tool": "threat_block_domains", "arguments": block,
                                                            "run_at": "2030-01-01T09:00", "time_zone": "Mars/Base"})
        assert zone["error"]["kind"] == "invalid_time_zone" and "Mars/Base" in zone["error"]["message"]
        unknown = await call_error(client, "policy_schedule_change", {"tool": "zia_frobnicate", "arguments": {},
                                                               "run_at": run_at.isoformat()})
        assert unknown["error"]["kind"] == "unknown_tool"
        bad_args = await call_error(client, "policy_schedule_change", {"tool": "threat_block_domains", "dry_run": False,
                                                                "arguments": {"domain": "x.example"},
                                                                "run_at": (datetime.now(UTC) + timedelta(hours=1))
                                                                .isoformat()})
        assert bad_args["error"]["kind"] == "invalid_arguments" and "domains" in bad_args["error"]["message"]
        nobody = await call_error(client, "policy_schedule_change", {"tool": "threat_isolate_account", "dry_run": False,
                                                              "arguments": {"user": "nobody@example.test"},
                                                              "run_at": (datetime.now(UTC) + timedelta(hours=1))
                                                              .isoformat()})
        assert nobody["error"]["kind"] == "not_found" and "nobody@example.test" in nobody["error"]["message"]
        done_error = await call_error(client, "policy_cancel_scheduled_change", {"id": block_id})
        assert done_error["error"]["kind"] == "invalid_state" and "it is done" in done_error["error"]["message"]
        detail = await call(client, "policy_list_scheduled_changes", {"id": block_id})
        listed = await call(client, "policy_list_scheduled_changes", {"status": ["cancelled"]})

    assert done[block_id]["status"] == "done", done[block_id]
    assert done[block_id]["result"]["outcome"] == "applied"
    assert done[remove_id]["status"] == "done", done[remove_id]
    started = datetime.fromisoformat(done[block_id]["started_at"])
    assert started >= stopped.replace(microsecond=0) and started >= run_at.replace(microsecond=0)
    # the tenant: the domains blocked, rule 304 deleted, rule 302 untouched (its change was cancelled)
    category = next(c for c in store_items(upstream, "zia", f"{ZIA}/urlCategories")
                    if c.get("configuredName") == "oneapi-mcp blocked domains")
    assert category["urls"] == ["later.example"]
    rules = _rules(upstream)
    assert 304 not in rules and rules[302]["state"] == "ENABLED"
    writes = _writes(upstream)
    assert writes.count(f"POST {ZIA}/urlCategories") == 1 and f"DELETE {ZIA}/urlFilteringRules/304" in writes
    assert not any("/urlFilteringRules/302" in w for w in writes)
    # once by the composite tool, once right after the raw ZIA delete (else it would stay staged)
    assert sum(1 for w in writes if w.endswith("/status/activate")) == 2
    assert done[remove_id]["result"]["outcome"] == "applied"

    events = [h["event"] for h in detail["changes"][0]["history"]]
    assert events == ["scheduled", "started", "done"]
    assert detail["changes"][0]["note"] == "block after the change window opens"
    assert [c["id"] for c in listed["changes"]] == [disable_id] and "csv" in listed

    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    audit = [r for r in audit if r.get("phase") != "intent"]  # one outcome record per call
    runs = [(r["tool"], r["outcome"]) for r in audit if r["client"] == f"scheduler/{block_id}"]
    assert runs == [("threat_block_domains", "ok")]
    removal = [(r["tool"], r["outcome"]) for r in audit if r["client"] == f"scheduler/{remove_id}"]
    assert removal == [("zia_get_activation_status", "ok"), ("zia_remove_url_filtering_rule", "confirmation_required"),
                       ("zia_remove_url_filtering_rule", "ok"), ("zia_activate", "ok"),
                       ("zia_get_activation_status", "ok")]
    assert not any(r["client"] == f"scheduler/{disable_id}" for r in audit)
    assert [r["outcome"] for r in audit if r["tool"] == "policy_cancel_scheduled_change"][:2] == ["ok", "ok"]


async def test_a_change_missed_while_the_server_was_down_too_long_is_marked_missed_not_run(upstream, env):
    upstream.mock.reset()
    env = {**env, "ONEAPI_MCP_PLUGINS__SCHEDULER__LATENESS": "1"}
    async with serve(upstream, profile="read-write", **env) as client:
        run_at = datetime.now(UTC) + timedelta(seconds=AHEAD)
        scheduled = await call(client, "policy_schedule_change", {
            "tool": "threat_block_domains", "arguments": {"domains": ["missed.example"], "zpa": False},
            "run_at": run_at.isoformat(), "dry_run": False})
    await anyio.sleep(max(0.0, (run_at - datetime.now(UTC)).total_seconds()) + 1.5)
    async with serve(upstream, profile="read-write", **env) as client:
        changes = await _wait_until_finished(client, [scheduled["change"]["id"]])
    change = changes[scheduled["change"]["id"]]
    assert change["status"] == "missed" and "lateness window" in change["error"]
    assert _writes(upstream) == []

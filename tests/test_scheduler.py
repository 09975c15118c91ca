"""The scheduler's parts on their own: the SQLite store and its state rules, run-time parsing, and the
runner's due logic driven by an injected clock and a fake runtime (no sleeping, no network)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from datetime import UTC, datetime

import mcp_types as t
import pytest
from oneapi_mcp.plugins.ops import _schedule_store, scheduler
from oneapi_mcp.plugins.ops._schedule_store import SCHEMA_VERSION, ScheduleStore, StateError, due_action
from oneapi_mcp.plugins.ops.scheduler import Runner, resolve_time, store_for

from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.plugin_api import Refusal

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # a Monday, between the US and EU daylight-saving starts
T0 = NOW.timestamp()


# -- the store --------------------------------------------------------------------------------------
def _add(store: ScheduleStore, *, tool="zia_update_url_filtering_rule", kind="generated", run_at=T0 + 60,
         arguments=None, confirmed=None, now=T0) -> dict:
    arguments = arguments if arguments is not None else {"id": 1}
    return store.add(tool=tool, kind=kind, scope="write", arguments=arguments,
                     arguments_sha256=scheduler.arguments_sha256(tool, arguments), run_at=run_at,
                     requested="2025-03-10T12:01:00Z", time_zone=None, note=None, now=now, actor="tester",
                     confirmed=confirmed)


@pytest.fixture
def store(tmp_path):
    s = ScheduleStore(tmp_path / "s.sqlite3")
    yield s
    s.close()


def test_a_new_store_is_owner_only_in_wal_mode_at_the_current_schema_version(tmp_path):
    path = tmp_path / "s.sqlite3"
    ScheduleStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_changes_survive_reopening_the_file_and_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = ScheduleStore(path)
    change = _add(first)
    first.close()
    again = ScheduleStore(path)
    assert again.get(change["id"])["status"] == "pending"
    again.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer oneapi-mcp"):
        ScheduleStore(path)


def test_cancel_is_idempotent_and_refuses_other_states_naming_them(store):
    change = _add(store)
    row, changed = store.cancel(change["id"], T0, "alice")
    assert (row["status"], changed) == ("cancelled", True)
    assert store.cancel(change["id"], T0 + 1, "alice")[1] is False
    done = _add(store, run_at=T0)
    assert store.claim(done["id"], "me", T0)
    store.finish(done["id"], "me", "done", T0 + 1, {"outcome": "applied"})
    with pytest.raises(StateError, match="it is done") as info:
        store.cancel(done["id"], T0 + 2, "alice")
    assert info.value.status == "done"
    with pytest.raises(KeyError):
        store.cancel("chg_nope", T0, "alice")
    assert [h["event"] for h in store.history(change["id"])] == ["scheduled", "cancelled"]
    assert store.history(change["id"])[1]["actor"] == "alice"


def test_only_one_of_two_processes_claims_a_change(tmp_path):
    path = tmp_path / "s.sqlite3"
    one, two = ScheduleStore(path), ScheduleStore(path)  # two connections: two replicas on one file
    change = _add(one, run_at=T0)
    assert one.claim(change["id"], "replica-1", T0) is True
    assert two.claim(change["id"], "replica-2", T0) is False
    assert two.finish(change["id"], "replica-2", "done", T0, {}) is False  # not its claim
    assert one.finish(change["id"], "replica-1", "done", T0, {"outcome": "applied"}) is True
    assert two.get(change["id"])["claimed_by"] == "replica-1"
    one.close()
    two.close()


def test_a_cancelled_change_cannot_be_claimed(store):
    change = _add(store, run_at=T0)
    store.cancel(change["id"], T0, "alice")
    assert store.claim(change["id"], "me", T0 + 1) is False
    assert store.due(T0 + 1) == []


def test_due_lists_pending_changes_in_time_order_and_next_run_at_is_the_earliest(store):
    late = _add(store, run_at=T0 + 30)
    early = _add(store, run_at=T0 + 10)
    _add(store, run_at=T0 + 100)
    assert [c["id"] for c in store.due(T0 + 30)] == [early["id"], late["id"]]
    assert store.next_run_at() == T0 + 10
    assert store.find_pending(late["tool"], late["arguments_sha256"], T0 + 30)["id"] == late["id"]


def test_due_action_runs_within_the_lateness_window_and_misses_beyond_it():
    assert due_action(T0 + 1, T0, 3600) == "wait"
    assert due_action(T0, T0, 3600) == "run"
    assert due_action(T0 - 3600, T0, 3600) == "run"
    assert due_action(T0 - 3601, T0, 3600) == "miss"


def test_an_interrupted_composite_change_is_queued_again_and_anything_else_fails_with_the_reason(store):
    composite = _add(store, tool="threat_block_domains", kind="composite", run_at=T0, arguments={"domains": ["a.b"]})
    single = _add(store, run_at=T0)
    for change in (composite, single):
        assert store.claim(change["id"], "dead-process", T0)
    assert {c["id"] for c in store.stale(T0 + 100)} == {composite["id"], single["id"]}
    assert store.stale(T0) == []  # claims refreshed at T0 are not stale before it
    assert store.interrupt(composite["id"], T0 + 100, "me", "no heartbeat", stale_before=T0 + 100) == "pending"
    assert store.interrupt(single["id"], T0 + 100, "me", "no heartbeat", stale_before=T0 + 100) == "failed"
    failed = store.get(single["id"])
    assert "may or may not have reached the tenant" in failed["error"] and "dead-process" in failed["error"]
    assert store.get(composite["id"])["status"] == "pending"
    assert [h["event"] for h in store.history(single["id"])] == ["scheduled", "started", "interrupted"]


def test_an_interrupted_composite_change_is_given_up_after_max_attempts(store):
    change = _add(store, tool="threat_block_domains", kind="composite", run_at=T0, arguments={"domains": ["a.b"]})
    for _attempt in range(_schedule_store.MAX_ATTEMPTS):
        assert store.claim(change["id"], "p", T0)
        status = store.interrupt(change["id"], T0, "me", "stopped", owner="p")
    assert status == "failed" and "gave up after" in store.get(change["id"])["error"]


def test_a_heartbeat_keeps_a_claim_fresh_and_interrupt_ignores_another_owners_fresh_claim(store):
    change = _add(store, run_at=T0)
    store.claim(change["id"], "alive", T0)
    assert store.heartbeat(change["id"], "alive", T0 + 50)
    assert store.stale(T0 + 40) == []
    assert store.interrupt(change["id"], T0 + 60, "me", "x", stale_before=T0 + 40) is None
    assert store.interrupt(change["id"], T0 + 60, "me", "x", owner="someone-else") is None
    assert store.get(change["id"])["status"] == "running"


# -- time parsing ---------------------------------------------------------------------------------------
def test_an_iso_time_with_an_offset_or_z_is_taken_as_that_instant():
    assert resolve_time("2025-03-10T14:30:00+01:00", None, NOW).at == datetime(2025, 3, 10, 13, 30, tzinfo=UTC)
    assert resolve_time("2025-03-10T13:30Z", None, NOW).at == datetime(2025, 3, 10, 13, 30, tzinfo=UTC)


def test_a_local_time_is_read_in_its_iana_zone_with_that_days_offset():
    # 10 March 2025: New York is already on daylight time (UTC-4), Berlin not yet (UTC+1)
    assert resolve_time("2025-03-10T09:00", "America/New_York", NOW).at == datetime(2025, 3, 10, 13, 0, tzinfo=UTC)
    assert resolve_time("2025-03-10T14:00", "Europe/Berlin", NOW).at == datetime(2025, 3, 10, 13, 0, tzinfo=UTC)
    # an offset that agrees with the zone is fine
    assert resolve_time("2025-03-10T09:00-04:00", "America/New_York", NOW).time_zone == "America/New_York"


@pytest.mark.parametrize(("text", "zone", "kind", "words"), [
    ("2025-03-10T11:00:00Z", None, "time_in_past", "in the past"),
    ("2024-12-31T23:00:00+01:00", "Europe/Berlin", "time_in_past", "in the past"),
    ("2025-03-10T20:00", "Mars/Olympus_Mons", "invalid_time_zone", "unknown time zone 'Mars/Olympus_Mons'"),
    ("2025-03-10T20:00", "../../etc/passwd", "invalid_time_zone", "unknown time zone"),
    ("2025-03-10T20:00", "", "invalid_time_zone", "unknown time zone"),
    ("tomorrow at noon", None, "invalid_time", "not an ISO 8601"),
    ("2025-03-11", None, "invalid_time", "without a time of day"),
    ("2025-03-10T20:00", None, "invalid_time", "no UTC offset"),
    ("2025-03-30T02:30", "Europe/Berlin", "invalid_time", "does not exist in Europe/Berlin"),
    ("2025-03-10T20:00+02:00", "Europe/Berlin", "invalid_time", "not both"),
    ("2026-06-01T00:00Z", None, "invalid_time", "more than a year ahead"),
])
def test_bad_times_are_refused_with_a_reason(text, zone, kind, words):
    with pytest.raises(Refusal) as info:
        resolve_time(text, zone, NOW)
    assert info.value.kind == kind and words in info.value.message


def test_a_time_a_moment_ago_is_within_the_grace_and_an_ambiguous_local_time_takes_the_first():
    assert resolve_time("2025-03-10T11:59:58Z", None, NOW).at < NOW
    when = resolve_time("2025-10-26T02:30", "Europe/Berlin", NOW)  # the clocks go back at 03:00
    assert when.at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC) and "happens twice" in when.notes[0]


# -- the runner, with a fake runtime and clock --------------------------------------------------------
_ACTIVATION = ("zia_get_activation_status", "zia_activate")


class FakeRuntime:
    """Records call_tool calls (ZIA activation and its status reads apart, in `activation`); answers
    from `answers` (tool -> list of results, first first); ZIA reads ACTIVE unless told otherwise."""

    def __init__(self, answers=None):
        from oneapi_mcp import load_catalog

        self.catalog = load_catalog()
        self.calls: list[tuple[str, dict, str]] = []
        self.activation: list[str] = []
        self.answers = answers or {}

    async def call_tool(self, name, arguments=None, *, client="oneapi-mcp"):
        (self.activation.append(name) if name in _ACTIVATION else self.calls.append((name, dict(arguments or {}),
                                                                                     client)))
        queue = self.answers.get(name)
        if queue:
            return queue.pop(0)
        if name in _ACTIVATION:
            return _ok({"result": {"status": "ACTIVE"}})
        return _ok({"outcome": "applied", "summary": f"{name}: 1 change(s) applied",
                    "steps": [{"step": 1, "operation": name, "status": "done", "http_status": 200}]})


def _ok(data):
    return t.CallToolResult(content=[t.TextContent(type="text", text="ok")], structured_content=data)


def _error(error):
    return t.CallToolResult(content=[t.TextContent(type="text", text="no")], structured_content={"error": error},
                            is_error=True)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def settings(tmp_path):
    s = ServerSettings(name="unit", data_dir=tmp_path,
                       plugins={"scheduler": {"poll": 30, "lateness": 600, "claim_timeout": 60}})
    yield s
    scheduler._close_store(s)


def _runner(settings, runtime, clock):
    return Runner(runtime, settings, clock=clock)


@pytest.mark.anyio
async def test_the_runner_sleeps_until_the_next_change_and_runs_it_once_when_due(settings):
    store = store_for(settings)
    change = _add(store, tool="threat_block_domains", kind="composite", run_at=T0 + 20,
                  arguments={"domains": ["a.example"], "dry_run": False})
    runtime, clock = FakeRuntime(), Clock(T0)
    runner = _runner(settings, runtime, clock)
    assert await runner.tick() == 20  # nothing due: wake when it is
    assert runtime.calls == []
    clock.now = T0 + 20
    assert await runner.tick() == 30  # nothing left: the poll interval
    assert runtime.calls == [("threat_block_domains", {"domains": ["a.example"], "dry_run": False},
                              f"scheduler/{change['id']}")]
    done = store.get(change["id"])
    assert done["status"] == "done" and done["attempts"] == 1 and done["started_at"] == T0 + 20
    assert scheduler.view(done)["result"]["outcome"] == "applied"
    await runner.tick()
    assert len(runtime.calls) == 1  # never twice


@pytest.mark.anyio
async def test_a_change_found_later_than_the_lateness_window_is_missed_not_run(settings):
    store = store_for(settings)
    late = _add(store, run_at=T0 - 601)
    in_window = _add(store, run_at=T0 - 599, arguments={"id": 2})
    runtime = FakeRuntime()
    await _runner(settings, runtime, Clock(T0)).tick()
    assert store.get(late["id"])["status"] == "missed" and "lateness window" in store.get(late["id"])["error"]
    assert store.get(in_window["id"])["status"] == "done"
    assert [c[1] for c in runtime.calls] == [{"id": 2}]


@pytest.mark.anyio
async def test_a_failing_tool_marks_the_change_failed_with_its_message(settings):
    store = store_for(settings)
    change = _add(store, run_at=T0)
    runtime = FakeRuntime({"zia_update_url_filtering_rule": [_error({"kind": "upstream", "message": "HTTP 500"})]})
    await _runner(settings, runtime, Clock(T0)).tick()
    row = store.get(change["id"])
    assert row["status"] == "failed" and row["error"] == "HTTP 500"
    assert [h["event"] for h in store.history(change["id"])] == ["scheduled", "started", "failed"]


@pytest.mark.anyio
async def test_a_raw_zia_write_is_activated_and_verified_and_done_only_once_live(settings):
    store = store_for(settings)
    change = _add(store, run_at=T0)
    staged = {"result": {"id": 1}, "notes": ["ZIA change is staged (activation status PENDING) until activated"]}
    runtime = FakeRuntime({"zia_update_url_filtering_rule": [_ok(staged)],
                           "zia_get_activation_status": [_ok({"result": {"status": "PENDING"}})]})
    await _runner(settings, runtime, Clock(T0)).tick()
    row = store.get(change["id"])
    result = scheduler.view(row)["result"]
    assert row["status"] == "done" and result["outcome"] == "applied" and "notes" not in result
    assert runtime.activation == ["zia_get_activation_status", "zia_activate", "zia_get_activation_status"]
    assert result["activation"] == {"activated": ["zia"], "others_pending_before": ["zia"]}
    assert any("other admins" in a for a in result["operator_actions"])


@pytest.mark.anyio
async def test_a_raw_zia_write_whose_activation_fails_is_failed_staged_not_active_with_its_note(settings):
    store = store_for(settings)
    change = _add(store, run_at=T0)
    staged = {"result": {"id": 1}, "notes": ["ZIA change is staged (activation status PENDING) until activated"]}
    runtime = FakeRuntime({"zia_update_url_filtering_rule": [_ok(staged)],
                           "zia_activate": [_error({"kind": "upstream", "message": "HTTP 500"})]})
    await _runner(settings, runtime, Clock(T0)).tick()
    row = store.get(change["id"])
    result = scheduler.view(row)["result"]
    assert row["status"] == "failed" and "staged, not live" in row["error"]
    assert result["outcome"] == "staged_not_active" and result["notes"] == staged["notes"]
    assert any("ZIA activation failed (HTTP 500)" in a for a in result["operator_actions"])


@pytest.mark.anyio
async def test_a_destructive_change_confirmed_when_scheduled_answers_the_token_request(settings):
    store = store_for(settings)
    change = _add(store, tool="zia_remove_url_filtering_rule", run_at=T0, confirmed="confirm_token")
    ask = _error({"kind": "confirmation_required", "message": "confirm", "confirm_token": "tok123"})
    runtime = FakeRuntime({"zia_remove_url_filtering_rule": [ask, _ok({"result": None})]})
    await _runner(settings, runtime, Clock(T0)).tick()
    assert [c[1] for c in runtime.calls] == [{"id": 1}, {"id": 1, "confirm_token": "tok123"}]
    assert store.get(change["id"])["status"] == "done"


@pytest.mark.anyio
async def test_an_unconfirmed_change_that_needs_confirmation_fails_without_a_second_call(settings):
    store = store_for(settings)
    change = _add(store, tool="zia_remove_url_filtering_rule", run_at=T0)
    ask = _error({"kind": "confirmation_required", "message": "confirm", "confirm_token": "tok123"})
    runtime = FakeRuntime({"zia_remove_url_filtering_rule": [ask]})
    await _runner(settings, runtime, Clock(T0)).tick()
    assert len(runtime.calls) == 1
    assert "was not confirmed" in store.get(change["id"])["error"]


@pytest.mark.anyio
async def test_a_run_left_by_a_dead_process_is_recovered_after_the_claim_timeout(settings):
    store = store_for(settings)
    composite = _add(store, tool="threat_block_domains", kind="composite", run_at=T0,
                     arguments={"domains": ["a.example"], "dry_run": False})
    single = _add(store, run_at=T0)
    for change in (composite, single):
        store.claim(change["id"], "crashed-host/123/abc", T0)
    runtime = FakeRuntime()
    runner = _runner(settings, runtime, Clock(T0 + 59))
    await runner.tick()
    assert runtime.calls == []  # within the claim timeout: maybe still running elsewhere
    runner.clock = Clock(T0 + 61)
    await runner.tick()
    assert [c[0] for c in runtime.calls] == ["threat_block_domains"]  # re-run: composite tools are idempotent
    assert store.get(composite["id"])["status"] == "done" and store.get(composite["id"])["attempts"] == 2
    assert store.get(single["id"])["status"] == "failed"
    assert "interrupted" in [h["event"] for h in store.history(composite["id"])]


@pytest.mark.anyio
async def test_two_runners_on_one_store_run_a_due_change_once(settings):
    store = store_for(settings)
    change = _add(store, run_at=T0)
    runtime = FakeRuntime()
    await asyncio.gather(_runner(settings, runtime, Clock(T0)).tick(), _runner(settings, runtime, Clock(T0)).tick())
    assert len(runtime.calls) == 1 and store.get(change["id"])["status"] == "done"


@pytest.mark.anyio
async def test_stopping_the_server_mid_run_marks_the_change_interrupted_at_once(settings, monkeypatch):
    monkeypatch.setattr(scheduler, "_STOP_GRACE", 0.05)
    store = store_for(settings)
    change = _add(store, tool="threat_block_domains", kind="composite", run_at=T0,
                  arguments={"domains": ["a.example"], "dry_run": False})
    started = asyncio.Event()

    class Slow(FakeRuntime):
        async def call_tool(self, name, arguments=None, *, client="oneapi-mcp"):
            started.set()
            await asyncio.sleep(3600)

    runner = _runner(settings, Slow(), Clock(T0))
    runner.start()
    await asyncio.wait_for(started.wait(), 5)
    await runner.stop()
    reopened = ScheduleStore(settings.state_dir() / "schedules-unit.sqlite3")
    row = reopened.get(change["id"])
    reopened.close()
    assert row["status"] == "pending" and "the server stopped during the run" in row["error"]


@pytest.mark.anyio
async def test_a_new_schedule_wakes_a_sleeping_runner(settings):
    runtime = FakeRuntime()
    clock = Clock(T0)
    runner = _runner(settings, runtime, clock)
    runner.start()
    try:
        await asyncio.sleep(0.05)  # it looked, found no store, and sleeps for the poll interval (30 s)
        _add(store_for(settings), run_at=T0)
        runner.wake()
        for _ in range(100):
            if runtime.calls:
                break
            await asyncio.sleep(0.02)
        assert len(runtime.calls) == 1
    finally:
        await runner.stop()


def test_the_listing_view_redacts_secret_arguments_and_shows_local_times(store):
    change = store.add(tool="zid_update_user", kind="generated", scope="write",
                       arguments={"id": "u1", "body": {"password": "Hunter2-very-secret"}}, arguments_sha256="x",
                       run_at=T0, requested="2025-03-10T09:00", time_zone="America/New_York", note=None, now=T0,
                       actor=None)
    shown = scheduler.view(change)
    assert shown["arguments"]["body"]["password"] == "[redacted]"
    assert shown["run_at"] == "2025-03-10T12:00:00Z" and shown["run_at_local"] == "2025-03-10T08:00:00-04:00"

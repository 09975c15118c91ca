"""Anomaly alerts (plugins/ops/anomaly.py) driven by synthetic traffic on a fake clock: real calls through
an in-process server (MCP client or `Runtime.call_tool`) against the ASGI mock, a baseline rebuilt
from crafted audit-log lines; each alert fires once per window, never under normal traffic, and
reaches the audit log, the log and a real webhook receiver through the SIEM outbox."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import mcp_types as t
import pytest
from mcp import Client
from oneapi_mcp.plugins.ops import anomaly
from oneapi_mcp.plugins.ops._outbox import Outbox
from test_outbox import SECRET, HttpReceiver, wait_for

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, midnight UTC
WRITE = "zia_create_department"
READ = "zia_list_departments"


class Clock:
    def __init__(self, at: datetime):
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(MONDAY)
    monkeypatch.setattr(anomaly, "_clock", fake)
    return fake


@pytest.fixture
def mock():
    return create_mock_app(seed=0)


def _runtime(mock, tmp_path, *, token: str | None = None, **settings) -> Runtime:
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": f"Bearer {token or mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="1")

    settings = {"name": "ops", "profile": "read-write", "audit_log": tmp_path / "audit.jsonl",
                "data_dir": tmp_path / "data", **settings}
    runtime = Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True)
    build_server(runtime)
    return runtime


def _lines(tmp_path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _alerts(tmp_path, kind: str | None = None) -> list[dict]:
    return [r for r in _lines(tmp_path) if r.get("event") == "alert" and kind in (None, r["kind"])]


def _craft(tmp_path, at: datetime, client: str, tool: str = WRITE, scope: str = "write", **extra) -> None:
    """An audit line as the audit plugin writes it, for a call made before this test's server started."""
    record = {"time": at.isoformat(timespec="milliseconds"), "server": "ops", "client": client, "tool": tool,
              "via": None, "scope": scope, "arguments": {}, "upstream": [], "duration_ms": 3.0, "outcome": "ok",
              **extra}
    with (tmp_path / "audit.jsonl").open("a") as handle:
        handle.write(json.dumps(record) + "\n")


async def _writes(runtime: Runtime, clock: Clock, n: int, client: str, every: float = 30.0) -> None:
    for i in range(n):
        result = await runtime.call_tool(WRITE, {"body": {"name": f"{client} {clock.now} {i}"}}, client=client)
        assert not result.is_error, result.structured_content
        clock.advance(seconds=every)


# -- write spikes ----------------------------------------------------------------------------------
async def test_a_write_burst_over_the_floor_and_the_baseline_raises_one_alert_per_window(mock, tmp_path, clock,
                                                                                      caplog):
    # a baseline of 12 writes an hour for three days, read back from the audit log at start: 3 per window
    for hour in range(72):
        for n in range(12):
            _craft(tmp_path, MONDAY + timedelta(hours=hour, minutes=5 * n), "agent-a/1")
    clock.set(MONDAY + timedelta(days=3, hours=1))
    runtime = _runtime(mock, tmp_path, anomaly_spike_min_calls=6, anomaly_spike_ratio=3.0)
    await runtime.startup()
    try:
        await _writes(runtime, clock, 8, "agent-a/1")  # over the floor (6), under 3x the baseline (9)
        assert _alerts(tmp_path) == []
        with caplog.at_level(logging.WARNING, logger="oneapi_mcp.anomaly"):
            await _writes(runtime, clock, 6, "agent-a/1")  # 14 in the window: an alert, once
        [alert] = _alerts(tmp_path)
        assert (alert["kind"], alert["client"], alert["tool"], alert["scope"]) == (
            "write_spike", "agent-a/1", WRITE, "write")
        assert alert["count"] == 9 and alert["baseline"] == 3.0 and alert["window_seconds"] == 900
        assert alert["threshold"] == {"ratio": 3.0, "min_calls": 6}
        assert [r.getMessage() for r in caplog.records if "write_spike" in r.getMessage()]
        records = _lines(tmp_path)  # the alert follows the audit record of the call that raised it
        assert records[records.index(alert) - 1]["tool"] == WRITE
        clock.advance(minutes=20)
        await _writes(runtime, clock, 12, "agent-a/1", every=20)  # a second burst, a later window
        assert len(_alerts(tmp_path, "write_spike")) == 2
    finally:
        await runtime.shutdown()

    # a restart rebuilds the baseline and remembers the alert: the same window stays quiet
    again = _runtime(mock, tmp_path, anomaly_spike_min_calls=6, anomaly_spike_ratio=3.0)
    await again.startup()
    try:
        await _writes(again, clock, 2, "agent-a/1", every=5)
        assert len(_alerts(tmp_path, "write_spike")) == 2
    finally:
        await again.shutdown()


async def test_writes_spread_over_many_tools_spike_as_the_clients_writes_together(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, anomaly_spike_min_calls=6)
    for i in range(4):
        for name, body in (("zia_create_department", {"name": f"d{i}"}),
                           ("zia_create_ip_group", {"name": f"g{i}", "ipAddresses": [f"10.0.0.{i}"]})):
            result = await runtime.call_tool(name, {"body": body}, client="bulk")
            assert not result.is_error, result.structured_content
            clock.advance(seconds=10)
    [alert] = _alerts(tmp_path)  # 4 per tool: neither over the floor alone; 8 together
    assert (alert["kind"], alert["tool"], alert["count"]) == ("write_spike", "*", 6) and "scope" not in alert


async def test_steady_traffic_like_the_baseline_raises_nothing(mock, tmp_path, clock):
    for hour in range(72):
        for n in range(4):
            _craft(tmp_path, MONDAY + timedelta(hours=hour, minutes=15 * n), "agent-a/1")
            _craft(tmp_path, MONDAY + timedelta(hours=hour, minutes=15 * n + 1), "agent-a/1", READ, "read")
    clock.set(MONDAY + timedelta(days=3))
    runtime = _runtime(mock, tmp_path, anomaly_spike_min_calls=3, anomaly_hours_min_calls=50)
    await runtime.startup()
    try:
        for _ in range(8):  # two hours like the last three days: a write and a read every 15 minutes
            await _writes(runtime, clock, 1, "agent-a/1", every=60)
            assert not (await runtime.call_tool(READ, {}, client="agent-a/1")).is_error
            clock.advance(minutes=14)
    finally:
        await runtime.shutdown()
    assert _alerts(tmp_path) == [] and len(_lines(tmp_path)) == 72 * 8 + 16 + 8  # 8 writes: intent + outcome


# -- authorisation failures ------------------------------------------------------------------------
async def test_scope_refusals_in_a_short_window_raise_auth_failures_once(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, profile="read-only")
    async with Client(build_server(runtime), cache=None,
                      client_info=t.Implementation(name="probe", version="2")) as client:
        for _ in range(4):  # spread out: never 5 within 5 minutes
            assert (await client.call_tool(WRITE, {"body": {"name": "x"}})).is_error
            clock.advance(minutes=2)
        assert _alerts(tmp_path) == []
        clock.advance(minutes=10)
        for _ in range(6):
            assert (await client.call_tool("invoke_operation", {"name": "zia_remove_department",
                                                                "arguments": {"id": 1}})).is_error
            clock.advance(seconds=20)
    [alert] = _alerts(tmp_path)
    assert (alert["kind"], alert["client"], alert["tool"]) == ("auth_failures", "probe/2", "*")
    assert alert["count"] == 5 and alert["threshold"] == {"failures": 5} and alert["window_seconds"] == 300
    assert alert["reasons"] == {"scope_denied": 5} and alert["tools"] == {"zia_remove_department": 5}


async def test_upstream_401s_cluster_into_an_alert(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, token="not-a-valid-token")
    for _ in range(5):
        result = await runtime.call_tool(READ, {}, client="stale-key")
        assert result.structured_content["error"]["status"] == 401
        clock.advance(seconds=30)
    [alert] = _alerts(tmp_path)
    assert alert["kind"] == "auth_failures" and alert["reasons"] == {"upstream 401": 5}


# -- unusual hours ---------------------------------------------------------------------------------
async def test_a_client_calling_at_an_hour_it_never_worked_raises_unusual_hour(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, anomaly_hours_min_calls=20)
    async with Client(build_server(runtime), cache=None,
                      client_info=t.Implementation(name="nine-to-five", version="1")) as client:
        for day in range(4):  # four days, 09:00 to 16:00 UTC: learned once three days are older than 24 hours
            for hour in range(9, 17):
                clock.set(MONDAY + timedelta(days=day, hours=hour, minutes=10))
                assert not (await client.call_tool(READ, {})).is_error
        clock.set(MONDAY + timedelta(days=4, hours=3))
        await client.call_tool(READ, {})
        clock.advance(minutes=5)
        await client.call_tool(READ, {})  # the same window: no second alert
        clock.set(MONDAY + timedelta(days=4, hours=17, minutes=30))  # beside a usual hour: fine
        await client.call_tool(READ, {})
    [alert] = _alerts(tmp_path)
    assert (alert["kind"], alert["client"], alert["tool"], alert["hour"]) == ("unusual_hour", "nine-to-five/1",
                                                                               READ, 3)
    assert alert["usual_hours"] == list(range(8, 18)) and alert["timezone"] == "UTC"
    assert alert["threshold"] == {"min_calls": 20, "usual_share": 0.01}


async def test_configured_business_hours_apply_in_their_time_zone(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, anomaly_business_hours="08:00-18:00", anomaly_timezone="Europe/Berlin")
    berlin = MONDAY + timedelta(hours=-1)  # Berlin is UTC+1 in November: local midnight
    for at in (berlin + timedelta(hours=9), berlin + timedelta(hours=17, minutes=59),  # Monday, in hours
               berlin + timedelta(days=5, hours=10),  # Saturday
               berlin + timedelta(days=7, hours=20)):  # Monday evening
        clock.set(at)
        assert not (await runtime.call_tool(READ, {}, client="ops-bot")).is_error
    saturday, evening = _alerts(tmp_path)
    assert (saturday["hour"], evening["hour"]) == (10, 20)
    assert saturday["business_hours"] == "08:00-18:00" and saturday["timezone"] == "Europe/Berlin"
    assert saturday["business_days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert saturday["threshold"] == {"business_hours": "08:00-18:00"}


# -- delivery and settings -------------------------------------------------------------------------
async def test_alerts_reach_the_siem_outbox_and_a_real_webhook_receiver(mock, tmp_path, clock):
    receiver = HttpReceiver(secret=SECRET).start()
    try:
        runtime = _runtime(mock, tmp_path, profile="read-only", siem_destinations=[
            {"name": "soc", "type": "webhook", "url": receiver.url, "secret": SECRET, "events": ["security"]}])
        await runtime.startup()
        try:
            for _ in range(5):
                await runtime.call_tool(WRITE, {"body": {"name": "x"}}, client="probe")
            await wait_for(lambda: receiver.accepted)
        finally:
            await runtime.shutdown()
    finally:
        receiver.stop()
    [event] = receiver.accepted  # security events only: the calls' audit events are not for this destination
    assert (event["kind"], event["type"], event["severity"]) == ("security", "anomaly_alert", "warning")
    assert event["data"] == _alerts(tmp_path)[0] and event["data"]["kind"] == "auth_failures"
    outbox = Outbox(tmp_path / "data" / "siem.sqlite3")
    try:
        assert outbox.stats()["soc"]["delivered"] == 1 and outbox.stats()["soc"]["pending"] == 0
    finally:
        outbox.close()


async def test_switched_off_no_alert_is_raised(mock, tmp_path, clock):
    runtime = _runtime(mock, tmp_path, profile="read-only", anomaly_alerts=False)
    for _ in range(10):
        await runtime.call_tool(WRITE, {"body": {"name": "x"}}, client="probe")
    assert _alerts(tmp_path) == [] and len(_lines(tmp_path)) == 10


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("anomaly_timezone", "Mars/Olympus", "IANA time zone"),
    ("anomaly_business_hours", "9am-5pm", "like 08:00-18:00"),
    ("anomaly_business_days", "mon,someday", "someday"),
    ("anomaly_spike_ratio", 0.5, "greater than or equal to 1"),
    ("anomaly_window", 5, "greater than or equal to 60"),
])
def test_bad_thresholds_are_rejected_naming_the_setting(setting, value, named):
    with pytest.raises(ValueError) as info:
        ServerSettings(**{setting: value})
    assert setting in str(info.value) and named in str(info.value)

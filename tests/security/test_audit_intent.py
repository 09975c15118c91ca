"""Audit intent records (issue 12, bug 1): a call's intent is fsynced before its first write request,
so a server killed mid-run leaves no applied write without an audit record; access-review, the
anomaly plugin and the SIEM outbox read or carry both kinds of record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from _composites import CUSTOMER_ID, ROOT
from oneapi_mcp.plugins.ops import anomaly
from test_outbox import SECRET, HttpReceiver, wait_for

from oneapi_mcp._access_review import OUTCOME_UNKNOWN, one_per_call, render, review
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockServer, create_mock_app
from oneapi_mcp.mock._faults import FaultConfig

pytestmark = pytest.mark.anyio
WRITE = "zia_create_department"
NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _send(process: subprocess.Popen, message: dict) -> None:
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def _wait(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _idle(upstream: MockServer) -> bool:
    """No connection open at the mock and no request being served (uvicorn's own bookkeeping: a connection
    leaves it once its last bytes are read, a request once its answer is sent or dropped)."""
    state = upstream._server.server_state
    return not state.connections and not state.tasks


def test_after_kill_9_mid_run_every_write_the_mock_applied_has_an_intent_record(tmp_path, catalog):
    audit = tmp_path / "audit.jsonl"
    # every API request waits 0.4 s at the mock, so the run is still going when the server is killed
    mock = create_mock_app(seed=0, rate_limits=False, faults=FaultConfig(latency=1.0, latency_seconds=0.4),
                           failures=())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}
    with MockServer(mock) as upstream:
        env.update(ZSCALER_CLIENT_ID=MOCK_CLIENT_ID, ZSCALER_CLIENT_SECRET=MOCK_CLIENT_SECRET,
                   ZPA_CUSTOMER_ID=CUSTOMER_ID, ONEAPI_MCP_CLIENT_RATE_LIMITS="false",
                   ONEAPI_MCP_AUDIT_LOG=str(audit), ONEAPI_MCP_DATA_DIR=str(tmp_path / "data"))
        server = subprocess.Popen(
            [sys.executable, "-m", "oneapi_mcp.cli", "serve", "--base-url", upstream.url, "--token-url",
             upstream.token_url, "--profile", "read-write"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        try:
            _send(server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "kill-test", "version": "1"}}})
            assert json.loads(server.stdout.readline())["id"] == 0
            _send(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            for n in range(1, 41):
                _send(server, {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
                    "name": WRITE, "arguments": {"body": {"name": f"kill-run {n}"}}}})

            def zia_journal() -> int:
                return sum(1 for j in list(mock.journal) if j["service"] == "zia")

            # kill -9 the moment the mock has applied its third write, before the server has its answer
            _wait(lambda: zia_journal() >= 3, what="three writes at the mock")
            server.send_signal(signal.SIGKILL)
            server.wait(30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(30)
        # whatever the killed server had sent is read (its sockets closed) and answered (or dropped) by now
        _wait(lambda: _idle(upstream), what="the mock to finish what the killed server sent")
        journal = [j for j in mock.journal if j["method"] != "GET"]

    records = _lines(audit)
    intents = [r for r in records if r.get("phase") == "intent"]
    answered = {r["call_id"] for r in records if r.get("phase") == "outcome"}
    by_operation = Counter(catalog.tools[r["tool"]].operation_id for r in intents)
    assert len(journal) >= 3 and Counter(j["operation"] for j in journal) <= by_operation
    applied = {d["name"] for d in mock.state.collections[("zia", "/zia/api/v1/departments", ())].items.values()
               if str(d.get("name", "")).startswith("kill-run")}
    assert len(applied) == len(journal)
    assert applied <= {r["arguments"]["body"]["name"] for r in intents}
    unanswered = [r for r in intents if r["call_id"] not in answered]
    assert unanswered, "the kill should have caught a write between its intent and its outcome"
    assert {r["arguments"]["body"]["name"] for r in unanswered} & applied  # applied, yet no outcome: unknown
    calls = [rec for _, rec in one_per_call((0.0, r) for r in records)]
    assert len(calls) == len(intents)
    assert sum(rec["outcome"] == OUTCOME_UNKNOWN for rec in calls) == len(unanswered)


def _record(at: datetime, phase: str, call_id: str, tool: str = WRITE, outcome: str = "ok", client: str = "bot/1",
            scope: str = "write") -> dict:
    record = {"time": at.isoformat(timespec="milliseconds"), "call_id": call_id, "phase": phase, "server": "ops",
              "client": client, "tool": tool, "via": None, "scope": scope, "arguments": {}}
    if phase == "outcome":
        record.update(upstream=[], duration_ms=1.0, outcome=outcome)
    return record


def test_access_review_reports_an_intent_without_outcome_as_outcome_unknown_and_as_a_use():
    records = [_record(NOW, "intent", "a"), _record(NOW + timedelta(seconds=1), "outcome", "a"),
               _record(NOW + timedelta(minutes=1), "intent", "b"),  # killed: never answered
               _record(NOW + timedelta(minutes=2), "outcome", "c", "zia_list_departments", scope="read"),
               _record(NOW + timedelta(minutes=3), "intent", "d"),
               _record(NOW + timedelta(minutes=3, seconds=1), "outcome", "d", outcome="denied")]
    stream = [(datetime.fromisoformat(r["time"]).timestamp(), r) for r in records]
    settings = ServerSettings(name="ops", profile="read-write")
    grant = {WRITE: ("write", "zia.users"), "zia_list_departments": ("read", "zia.users")}
    report = review(settings, stream, NOW.timestamp() - 3600, NOW.timestamp() + 3600, grant, "2h")
    usage = {u["tool"]: u for u in report["usage"]}
    assert (usage[WRITE]["calls"], usage[WRITE]["outcome_unknown"], usage[WRITE]["errors"]) == (2, 1, 0)
    assert usage[WRITE]["refused"] == 1 and report["outcome_unknown"] == 1 and report["calls"] == 3
    assert "write" in report["scopes"]["used"]  # the unanswered write still counts as using the scope
    text = render({"since": "x" * 10, "until": "y" * 10, "window": "2h", "audit_logs": [], "skipped": [],
                   "servers": [report]}, "text")
    assert "- outcome unknown: 1 write call(s) have an intent record but no outcome" in text
    assert f"{WRITE} x1" in text


def _runtime(mock, tmp_path, app=None, **settings) -> Runtime:
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app or mock),
                                   headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="1")

    settings = {"name": "ops", "profile": "read-write", "audit_log": tmp_path / "audit.jsonl",
                "data_dir": tmp_path / "data", **settings}
    runtime = Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True)
    build_server(runtime)
    return runtime


async def test_the_anomaly_baseline_counts_a_paired_call_once_and_an_unanswered_intent_as_a_call(tmp_path,
                                                                                               monkeypatch):
    clock = [NOW.timestamp()]
    monkeypatch.setattr(anomaly, "_clock", lambda: clock[0])
    start = NOW - timedelta(minutes=5)
    lines = []
    for n in range(3):  # three answered writes (six lines) and two a killed server left unanswered
        lines += [_record(start + timedelta(seconds=10 * n), "intent", f"p{n}"),
                  _record(start + timedelta(seconds=10 * n + 1), "outcome", f"p{n}")]
    lines += [_record(start + timedelta(seconds=40 + n), "intent", f"k{n}") for n in range(2)]
    (tmp_path / "audit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    runtime = _runtime(create_mock_app(seed=0), tmp_path, anomaly_spike_min_calls=6, anomaly_spike_ratio=1.0)
    await runtime.startup()
    try:
        result = await runtime.call_tool(WRITE, {"body": {"name": "one more"}}, client="bot/1")
        assert not result.is_error, result.structured_content
    finally:
        await runtime.shutdown()
    alerts = [r for r in _lines(tmp_path / "audit.jsonl") if r.get("event") == "alert"]
    # 3 answered + 2 unknown + this one = 6 (double counting would say 9; ignoring the unknown, 4: no alert)
    assert [(a["kind"], a["count"]) for a in alerts if a["tool"] == WRITE] == [("write_spike", 6)]


async def test_siem_audit_events_carry_the_intent_and_the_outcome_with_one_call_id(tmp_path):
    receiver = HttpReceiver(secret=SECRET).start()
    try:
        runtime = _runtime(create_mock_app(seed=0), tmp_path, siem_destinations=[
            {"name": "soc", "type": "webhook", "url": receiver.url, "secret": SECRET, "events": ["audit"]}])
        await runtime.startup()
        try:
            await runtime.call_tool(WRITE, {"body": {"name": "siem-intent"}}, client="bot/1")
            await runtime.call_tool("zia_list_departments", {}, client="bot/1")
            await wait_for(lambda: len(receiver.accepted) >= 3)
        finally:
            await runtime.shutdown()
    finally:
        receiver.stop()
    events = sorted(receiver.accepted, key=lambda e: e["time"])
    assert [(e["type"], e["data"]["phase"], e["data"]["tool"]) for e in events] == [
        ("tool_call_intent", "intent", WRITE), ("tool_call", "outcome", WRITE),
        ("tool_call", "outcome", "zia_list_departments")]
    assert events[0]["data"]["call_id"] == events[1]["data"]["call_id"] != events[2]["data"]["call_id"]
    assert events[0]["data"]["arguments"] == {"body": {"name": "siem-intent"}}
    assert "outcome" not in events[0]["data"] and events[1]["data"]["outcome"] == "ok"


async def test_a_composite_declared_read_that_runs_a_write_still_leaves_an_intent_before_the_request(
        tmp_path, plugin_manager):
    from oneapi_mcp.plugins import CompositeTool, hookimpl

    async def sneaky(ctx, arguments):
        return (await ctx.call_operation(WRITE, {"body": {"name": "undeclared"}})).data

    class Plugin:
        @hookimpl
        def oneapi_mcp_register_tools(self):
            return [CompositeTool(name="sneaky_write", description="declares no operations", handler=sneaky)]

    plugin_manager.register(Plugin())
    mock = create_mock_app(seed=0)
    seen_at_the_mock: list[list[str]] = []

    async def upstream(scope, receive, send):  # what the audit log held when the write reached the mock
        if scope["type"] == "http" and scope["method"] == "POST":
            seen_at_the_mock.append([r["phase"] for r in _lines(tmp_path / "audit.jsonl")])
        await mock(scope, receive, send)

    runtime = _runtime(mock, tmp_path, upstream)
    result = await runtime.call_tool("sneaky_write", {}, client="bot/1")
    assert not result.is_error, result.structured_content
    assert seen_at_the_mock == [["intent"]]
    intent, outcome = _lines(tmp_path / "audit.jsonl")
    assert (intent["phase"], intent["tool"], outcome["phase"]) == ("intent", "sneaky_write", "outcome")
    assert intent["call_id"] == outcome["call_id"] and outcome["upstream"][0]["method"] == "POST"
    assert [j["method"] for j in mock.journal] == ["POST"]


async def test_a_destructive_call_that_only_asks_for_confirmation_sends_nothing_and_writes_one_record(tmp_path):
    mock = create_mock_app(seed=0)
    runtime = _runtime(mock, tmp_path, profile="admin")
    result = await runtime.call_tool("zia_remove_department", {"id": 81000}, client="bot/1")
    assert result.structured_content["error"]["kind"] == "confirmation_required"
    [only] = _lines(tmp_path / "audit.jsonl")
    assert (only["phase"], only["outcome"]) == ("outcome", "confirmation_required") and mock.journal == []

"""The SIEM outbox is lossless across kill -9 (issue 12, "Why": held; this keeps it held).

A real `oneapi-mcp serve` process exports every tool call's audit event to an HEC receiver on
127.0.0.1. The receiver takes the first batch and holds its answer; the server is killed with
SIGKILL while it waits for that acknowledgement, with more events queued behind the batch. A second
process on the same data directory delivers everything: every event the first one queued reaches
the receiver, none is lost, and the only repeats are the batch whose acknowledgement the kill cut
off, under the same stable event ids, so a receiver that drops duplicates by id (as SIEMs do) holds
each event exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

from _composites import ROOT
from test_outbox import HttpReceiver

HEC_TOKEN = "hec-token-fake-0f1e2d3c"
CALLS = 25


class HoldingReceiver(HttpReceiver):
    """Records each batch it is sent, then, while `hold` is set, keeps its answer until released."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.batches: list[list[str]] = []

    def _judge(self, entry: dict) -> int:
        before = len(self.accepted)
        status = super()._judge(entry)
        self.batches.append([e["id"] for e in self.accepted[before:]])
        if self.hold:
            self.holding.set()
            self.release.wait(120)
        return status


def _wait(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _serve(env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.cli", "serve", "--mock"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _send(server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "kill-test", "version": "1"}}})
    assert json.loads(server.stdout.readline())["id"] == 0
    _send(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return server


def _send(process: subprocess.Popen, message: dict) -> None:
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def _queued(db_path) -> dict[str, float | None]:
    """event id -> when it was marked delivered (None: still queued), as the outbox file says."""
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT event_id, delivered FROM events WHERE destination = 'splunk'").fetchall())


def test_a_server_killed_mid_export_loses_no_event_and_repeats_only_the_unacknowledged_batch(tmp_path):
    receiver = HoldingReceiver(token=HEC_TOKEN).start()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}
    env.update(ONEAPI_MCP_DATA_DIR=str(data), TEST_HEC_TOKEN=HEC_TOKEN, ONEAPI_MCP_SIEM_RETRY_INITIAL="0.1",
               ONEAPI_MCP_SIEM_RETRY_MAX="0.5", ONEAPI_MCP_SIEM_DESTINATIONS=json.dumps([
                   {"name": "splunk", "type": "hec", "url": receiver.url, "token_env": "TEST_HEC_TOKEN",
                    "events": ["audit"]}]))
    servers: list[subprocess.Popen] = []
    try:
        receiver.hold = True
        first = _serve(env)
        servers.append(first)
        for n in range(1, CALLS + 1):
            _send(first, {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
                "name": "search_operations", "arguments": {"query": f"list users {n}"}}})
        answered: set[int] = set()
        while len(answered) < CALLS:  # each call's event is queued before its answer is written
            message = json.loads(first.stdout.readline())
            if isinstance(message.get("id"), int) and message["id"] > 0:
                answered.add(message["id"])
        _wait(receiver.holding.is_set, "the receiver to hold a batch")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        receiver.hold = False
        receiver.release.set()

        before = _queued(data / "siem.sqlite3")
        held = set(receiver.batches[0])
        assert len(before) == CALLS and held <= set(before)
        assert all(delivered is None for delivered in before.values()), "killed before any acknowledgement"

        second = _serve(env)
        servers.append(second)
        _wait(lambda: set(receiver.ids()) >= set(before), "the restarted server to deliver the queue")
        _wait(lambda: all(d is not None for d in _queued(data / "siem.sqlite3").values()), "every event marked")
        second.stdin.close()
        assert second.wait(30) == 0
    finally:
        receiver.release.set()
        for server in servers:
            if server.poll() is None:
                server.kill()
                server.wait(30)
        receiver.stop()

    received = Counter(receiver.ids())
    assert set(received) == set(before)  # every queued event arrived, and nothing else did
    repeated = {event_id for event_id, times in received.items() if times > 1}
    assert repeated == held and max(received.values()) == 2  # only the cut-off batch, once more, same ids
    assert len(set(received)) == CALLS  # deduplicated by event id: each exactly once

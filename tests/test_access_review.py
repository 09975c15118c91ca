"""`oneapi-mcp access-review` as a subprocess, over an audit log written by the real audit plugin
(calls through two named servers on the ASGI mock) plus crafted lines for older dates in rotated
files: granted versus used per server, and what to drop."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oneapi_mcp._access_review import parse_since
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ConfigError, load_servers
from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio
CONFIG = """
[servers.ops]
profile = "admin"
toolsets = ["zia.users", "zcc.devices"]
audit_log = "{log}"
data_dir = "{data}"

[servers.narrow]
profile = "read-write"
allow_tools = ["zia.users", "zpa_*"]
audit_log = "{log}"
data_dir = "{data}"

[servers.quiet]
audit_log = "{log}"
data_dir = "{data}"
"""


def _line(days_ago: float, server: str, client: str, tool: str, scope: str | None, outcome: str = "ok") -> str:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return json.dumps({"time": at.isoformat(timespec="milliseconds"), "server": server, "client": client,
                       "tool": tool, "via": None, "scope": scope, "arguments": {}, "upstream": [],
                       "duration_ms": 1.0, "outcome": outcome}) + "\n"


@pytest.fixture
async def config(tmp_path):
    log = tmp_path / "logs" / "audit.jsonl"
    path = tmp_path / "servers.toml"
    path.write_text(CONFIG.format(log=log, data=tmp_path / "data"))
    # older calls, in the rotated files the audit plugin leaves behind (.2 older than .1)
    log.parent.mkdir()
    (log.parent / "audit.jsonl.2").write_text(
        _line(45, "ops", "retired-bot/1", "zia_remove_department", "destructive")
        + _line(40, "ops", "retired-bot/1", "zia_list_departments", "read") + "not json\n")
    (log.parent / "audit.jsonl.1").write_text(_line(20, "ops", "quiet-bot/3", "zia_list_departments", "read"))
    mock = create_mock_app(seed=0)
    servers = load_servers(path)
    for name, calls in {
        "ops": [("zia_list_departments", {}), ("zia_list_departments", {}),
                ("zia_create_department", {"body": {"name": "Audit review"}})],
        "narrow": [("zia_list_departments", {}), ("zia_remove_department", {"id": 1})],
    }.items():
        runtime = _runtime(servers[name], mock)
        for tool, arguments in calls:
            await runtime.call_tool(tool, arguments, client="agent-a/1")
        await runtime.shutdown()
    return path


def _runtime(settings, mock) -> Runtime:
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="1")

    runtime = Runtime(settings=settings, executor_factory=factory, customer_id_known=True)
    build_server(runtime)
    return runtime


def _review(*args: str) -> subprocess.CompletedProcess:
    """`oneapi-mcp access-review ARGS` as a subprocess (the real command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEAPI_MCP_", "ZSCALER_"))}
    return subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "access-review", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def _review_here(*args: str) -> subprocess.CompletedProcess:
    """The same through the CLI's main() in this process (its output and exit code, no interpreter start)."""
    from oneapi_mcp.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({k: v for k, v in saved.items() if not k.startswith(("ONEAPI_MCP_", "ZSCALER_"))})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["access-review", *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["oneapi-mcp", "access-review", *args], code, out.getvalue(), err.getvalue())


def _by_kind(server: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for rec in server["recommendations"]:
        out.setdefault(rec["kind"], []).append(rec)
    return out


async def test_the_json_report_sets_granted_beside_used_and_says_what_to_drop(config):
    done = _review("--config", str(config), "--since", "30d", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["window"] == "30d" and report["skipped"] == []
    [log] = report["audit_logs"]
    assert (log["files"], log["records"], log["unreadable"]) == (3, 9, 1)  # the create: an intent and an outcome
    ops, narrow, quiet = report["servers"]

    assert ops["scopes"] == {"granted": ["read", "write", "destructive"], "used": ["read", "write"]}
    assert ops["granted"]["by_scope"]["destructive"] > 0 and ops["calls"] == 4  # the 45- and 40-day-old lines are out
    usage = {u["tool"]: u for u in ops["usage"]}
    assert usage["zia_list_departments"]["calls"] == 3
    assert usage["zia_list_departments"]["clients"] == {"agent-a/1": 2, "quiet-bot/3": 1}
    assert usage["zia_create_department"]["scope"] == "write" and "zia_remove_department" not in usage
    recs = _by_kind(ops)
    assert recs["drop_scope"][0]["message"] == "destructive granted but unused for 30d: use profile read-write"
    assert recs["drop_scope"][0]["setting"] == 'profile = "read-write"'
    assert [r["toolset"] for r in recs["drop_toolset"]] == ["zcc.devices"]
    assert recs["narrow_tools"][0]["setting"] == 'allow_tools = ["zia.users"]'
    stopped = {r["client"]: r for r in recs["stopped_client"]}
    assert set(stopped) == {"retired-bot/1", "quiet-bot/3"}
    clients = {c["client"]: c for c in ops["clients"]}
    assert clients["retired-bot/1"]["calls"] == 0 and clients["agent-a/1"]["stopped"] is False

    assert narrow["scopes"]["used"] == ["read"] and narrow["refused"] == 1
    assert {u["tool"]: u["refused"] for u in narrow["usage"]}["zia_remove_department"] == 1
    recs = _by_kind(narrow)
    assert recs["drop_scope"][0]["message"] == "write granted but unused for 30d: use profile read-only"
    assert [r["glob"] for r in recs["drop_allow_glob"]] == ["zpa_*"] and "narrow_tools" not in recs

    assert quiet["calls"] == 0 and [r["kind"] for r in quiet["recommendations"]] == ["unused_server"]


async def test_the_text_and_markdown_reports_name_the_same_recommendations(config):
    text = _review_here("--config", str(config), "--server", "ops")
    assert text.returncode == 0, text.stderr
    assert "server ops" in text.stdout and "server narrow" not in text.stdout
    assert "- destructive granted but unused for 30d: use profile read-write" in text.stdout
    assert "zia_list_departments" in text.stdout and "agent-a/1 (2), quiet-bot/3 (1)" in text.stdout
    assert "1 unreadable lines skipped" in text.stdout
    markdown = _review_here("--config", str(config), "--server", "narrow", "--since", "7d", "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "## server narrow" in markdown.stdout and "| tool | scope | calls |" in markdown.stdout
    assert "- allow_tools 'zpa_*' matched no call in 7d: drop it" in markdown.stdout


async def test_a_bad_window_or_a_missing_audit_log_is_a_clear_error(config, tmp_path):
    bad = _review("--config", str(config), "--since", "30x")
    assert bad.returncode == 2 and "--since '30x' is not a duration like 30d" in bad.stderr and not bad.stdout
    plain = tmp_path / "plain.toml"
    plain.write_text("[servers.solo]\nprofile = \"read-only\"\n")
    missing = _review_here("--config", str(plain))
    assert missing.returncode == 2 and "server solo keeps no audit log" in missing.stderr
    assert 'audit_log = "/var/log/oneapi-mcp/audit.jsonl"' in missing.stderr
    gone = _review_here("--config", str(plain), "--audit-log", str(tmp_path / "nowhere.jsonl"))
    assert gone.returncode == 2 and "nowhere.jsonl does not exist" in gone.stderr


def test_windows_are_durations_or_dates():
    now = datetime(2026, 11, 28, tzinfo=UTC).timestamp()
    assert parse_since("30d", now) == now - 30 * 86400 and parse_since("12h", now) == now - 12 * 3600
    assert parse_since("2w", now) == now - 14 * 86400
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    for bad in ("30x", "0d", "-3d", "", "yesterday"):
        with pytest.raises(ConfigError, match="is not a duration"):
            parse_since(bad, now)

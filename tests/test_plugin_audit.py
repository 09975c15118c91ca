"""The audit plugin and the redaction helper: fsynced JSON lines per call (an intent before a call's
first write request, the outcome after), nothing secret in them, nor in logs, errors or results;
rotation by size."""

from __future__ import annotations

import hashlib
import json
import logging
import stat

import httpx
import pytest
from mcp import Client
from oneapi_mcp.plugins.builtin.audit import AuditLog

from oneapi_mcp import _redact
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings

pytestmark = pytest.mark.anyio
SECRET = "fake-secret-value-for-audit"


@pytest.fixture(autouse=True)
def clean_secrets():
    _redact.forget_secrets()
    yield
    _redact.forget_secrets()


def _server(tmp_path, handler, **settings):
    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                        base_url="https://api.zsapi.net", customer_id="7")

    settings = ServerSettings(name="ops", audit_log=tmp_path / "audit.jsonl", **settings)
    return build_server(Runtime(settings=settings, executor_factory=factory, customer_id_known=True))


def _records(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


async def test_a_write_has_an_intent_and_an_outcome_line_a_read_or_refusal_one_with_who_what_and_upstream(
        tmp_path):
    def handler(request):
        return httpx.Response(200, json={"id": 9, "name": "R&D"})

    body = {"name": "R&D", "comments": "x"}
    async with Client(_server(tmp_path, handler, profile="read-write"), cache=None) as client:
        await client.call_tool("invoke_operation", {"name": "zia_create_department", "arguments": {"body": body}})
        await client.call_tool("zia_remove_department", {"id": 9})
        await client.call_tool("search_operations", {"query": "users"})
    intent, created, denied, searched = _records(tmp_path)
    assert (intent["phase"], created["phase"], denied["phase"]) == ("intent", "outcome", "outcome")
    assert intent["call_id"] == created["call_id"] and len({created["call_id"], denied["call_id"]}) == 2
    assert "outcome" not in intent and "upstream" not in intent
    assert {k: intent[k] for k in ("tool", "via", "scope", "arguments", "arguments_sha256")} == {
        k: created[k] for k in ("tool", "via", "scope", "arguments", "arguments_sha256")}
    assert created["server"] == "ops" and created["client"] == "mcp/0.1.0"
    assert (created["tool"], created["via"], created["scope"], created["outcome"]) == (
        "zia_create_department", "invoke_operation", "write", "ok")
    assert created["arguments"] == {"body": body}
    canonical = json.dumps({"body": body}, sort_keys=True, separators=(",", ":"))
    assert created["arguments_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert created["upstream"] == [{"method": "POST", "path": "/zia/api/v1/departments", "status": 200}]
    assert created["duration_ms"] >= 0 and created["time"].endswith("+00:00")
    assert (denied["outcome"], denied["error_kind"], denied["upstream"]) == ("denied", "scope_denied", [])
    assert searched["tool"] == "search_operations" and searched["scope"] is None
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600


async def test_no_secret_reaches_the_audit_log_the_logs_errors_or_results(tmp_path, caplog):
    _redact.register_secret(SECRET)

    def handler(request):  # an upstream that echoes what it got, secret included
        return httpx.Response(400, json={"code": "INVALID_INPUT_ARGUMENT", "message": f"bad password {SECRET}"})

    arguments = {"body": {"loginName": "ada@example.test", "password": "hunter2-but-longer", "name": "Ada",
                          "note": f"rotated to {SECRET}"}}
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("oneapi_mcp.test").warning("token is %s", SECRET)
        async with Client(_server(tmp_path, handler, profile="read-write"), cache=None) as client:
            result = await client.call_tool("invoke_operation", {"name": "zid_create_user", "arguments": arguments})
    text = (tmp_path / "audit.jsonl").read_text()
    assert result.is_error and SECRET not in result.content[0].text
    assert SECRET not in json.dumps(result.structured_content)
    assert SECRET not in text and "hunter2-but-longer" not in text and "[redacted]" in text
    assert SECRET not in caplog.text and "token is [redacted]" in caplog.text
    [only] = _records(tmp_path)  # invalid arguments: nothing was sent, so no intent was written
    assert only["arguments"]["body"]["name"] == "Ada" and only["phase"] == "outcome"


def test_the_redaction_helper_removes_secret_named_keys_and_known_values():
    _redact.register_secret(SECRET)
    data = {"client_secret": "x" * 10, "apiKey": "k" * 10, "Authorization": "Bearer abcdefgh", "name": "Ada",
            "nested": [{"access_token": "t" * 10, "text": f"uses {SECRET} here"}], "empty_token": None}
    assert _redact.redact(data) == {
        "client_secret": "[redacted]", "apiKey": "[redacted]", "Authorization": "[redacted]", "name": "Ada",
        "nested": [{"access_token": "[redacted]", "text": "uses [redacted] here"}], "empty_token": None}
    shown = {"confirm_token": "visible-in-results"}  # named like a secret, but no spec marks it
    assert _redact.redact(shown, names=False) == shown


def test_the_audit_file_rotates_by_size_and_keeps_the_configured_backups(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=200, backups=2)
    for n in range(12):
        log.write({"n": n, "pad": "x" * 60})
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert all(p.stat().st_size <= 200 for p in tmp_path.iterdir())
    newest = [json.loads(line)["n"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert newest[-1] == 11

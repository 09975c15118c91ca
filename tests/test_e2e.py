"""End to end: the `mcp` SDK's client against `oneapi-mcp serve --mock`, over stdio and over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from oneapi_mcp._ports import free_port, wait_for_port

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}


def _stdio(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "oneapi_mcp.cli", "serve", "--mock", *args],
                                 env=ENV)


class HttpServer:
    def __init__(self, *args: str):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oneapi_mcp.cli", "serve", "--mock", "--transport", "http", "--port",
             str(self.port), *args], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, what="oneapi-mcp serve --transport http")

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def _agent_session(client) -> None:
    listed = await client.list_tools()
    names = [t.name for t in listed.tools]
    assert names[:3] == ["search_operations", "describe_operation", "invoke_operation"]
    if client.protocol_version == "2026-07-28":  # one tool list for every connection: no enable_toolset
        assert "enable_toolset" not in names
    assert "discovery_service_status" in names and "zia_list_users" not in names  # read-only composites only
    assert all(t.annotations.read_only_hint for t in listed.tools)
    found = await client.call_tool("search_operations", {"query": "list users", "service": "zia"})
    assert "zia_list_users" in [r["name"] for r in found.structured_content["results"]][:3]
    users = await client.call_tool("invoke_operation", {"name": "zia_list_users",
                                                        "arguments": {"max_items": 60, "pageSize": 25}})
    assert not users.is_error, users.content[0].text
    assert users.structured_content["result"]["count"] >= 50
    apps = await client.call_tool("invoke_operation", {"name": "zpa_list_all_applications", "arguments": {}})
    assert not apps.is_error, apps.content[0].text
    bad = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {"page": "one"}})
    assert bad.is_error and "page" in bad.content[0].text


async def test_an_agent_lists_searches_and_calls_over_stdio():
    async with Client(_stdio(), cache=None) as client:
        await _agent_session(client)
        denied = await client.call_tool("zia_create_department", {"body": {"name": "x"}})
        assert denied.is_error and "scope" in denied.content[0].text


async def test_a_write_over_stdio_is_staged_until_activation():
    async with Client(_stdio("--profile", "read-write"), cache=None) as client:
        created = await client.call_tool("invoke_operation", {"name": "zia_create_department",
                                                              "arguments": {"body": {"name": "E2E Dept"}}})
        assert not created.is_error, created.content[0].text
        assert any("zia_activate" in n for n in created.structured_content["notes"])
        status = await client.call_tool("zia_get_activation_status", {})
        assert status.structured_content["result"]["status"] == "PENDING"
        await client.call_tool("zia_activate", {})
        status = await client.call_tool("zia_get_activation_status", {})
        assert status.structured_content["result"]["status"] == "ACTIVE"


async def test_enable_toolset_over_stdio_notifies_and_lists_the_toolset():
    seen = []

    async def on_message(message):
        seen.append(type(getattr(message, "root", message)).__name__ + str(message))

    async with Client(_stdio(), cache=None, mode="legacy", message_handler=on_message) as client:
        await client.call_tool("enable_toolset", {"name": "zdx.apps"})
        listed = await client.list_tools()
    assert any("list_changed" in s or "ListChanged" in s for s in seen)
    assert "zdx_list_applications" in [t.name for t in listed.tools]


@pytest.fixture(scope="module")
def read_only_http_server():
    """One `serve --mock --transport http` for the sessions that only read (a process start is ~2.5 s of CPU)."""
    server = HttpServer()
    yield server
    server.close()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_agent_lists_searches_and_calls_over_streamable_http(mode, read_only_http_server):
    async with Client(read_only_http_server.url(), cache=None, mode=mode) as client:
        await _agent_session(client)


async def test_one_http_process_serves_named_servers_with_their_own_profiles():
    server = HttpServer("--config", str(ROOT / "examples" / "servers.toml"))
    try:
        async with Client(server.url("/mcp/reporting"), cache=None) as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            assert "zia_list_users" in listed and "zia_create_user" not in listed  # toolsets, read-only
            denied = await client.call_tool("zia_create_department", {"body": {"name": "x"}})
            assert denied.is_error
        async with Client(server.url("/mcp/automation"), cache=None) as client:
            created = await client.call_tool("zia_create_department", {"body": {"name": "Automation"}})
            assert not created.is_error, created.content[0].text
    finally:
        server.close()


def test_make_demo_runs_its_scripted_session():
    port = free_port()
    run = subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "demo", "--once", "--port", str(port)],
                         capture_output=True, text=True, timeout=120, env=ENV)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for expected in ("tools/list:", "search_operations", "zia_list_users", "write, applied",
                     "PENDING", "composite, applied", "unchanged", "never reaches the API"):
        assert expected in run.stdout

"""The tool surface through a real MCP client (in memory here; stdio and HTTP in test_e2e_*)."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import Client

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import DISCOVERY_TOOLS, Runtime, build_server
from oneapi_mcp._settings import ServerSettings

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self):
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/zia/api/v1/users":
            return httpx.Response(200, json=[{"id": 1, "name": "Ada"}])
        return httpx.Response(200, json={"ok": True})


def _server(recorder: Recorder, **settings):
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.MockTransport(recorder.handler))
        return Executor(catalog, client, base_url="https://api.zsapi.net", customer_id="7")

    return build_server(Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True))


async def _all_tools(client) -> list:
    tools, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


async def test_the_default_surface_is_the_discovery_tools_and_read_only_composites_under_40_kb():
    async with Client(_server(Recorder()), cache=None) as client:  # 2026-07-28: no per-session enable_toolset
        listed = await client.list_tools()
    assert [t.name for t in listed.tools][:3] == [n for n in DISCOVERY_TOOLS if n != "enable_toolset"]
    assert "enable_toolset" not in [t.name for t in listed.tools]
    assert all(t.annotations.read_only_hint for t in listed.tools[3:])  # the default profile is read-only
    size = len(json.dumps(listed.model_dump(by_alias=True, exclude_none=True, mode="json")))
    assert size < 40_000
    for tool in listed.tools:
        a = tool.annotations
        assert tool.description and None not in (a.read_only_hint, a.destructive_hint, a.idempotent_hint,
                                                 a.open_world_hint)


async def test_search_then_describe_then_invoke_reaches_any_operation():
    recorder = Recorder()
    async with Client(_server(recorder), cache=None) as client:
        found = await client.call_tool("search_operations", {"query": "list users", "service": "zia"})
        names = [r["name"] for r in found.structured_content["results"]]
        assert "zia_list_users" in names[:3]
        described = await client.call_tool("describe_operation", {"name": "zia_list_users"})
        info = described.structured_content
        assert info["scope"] == "read" and info["pagination"]["style"] == "page"
        props = set(info["input_schema"]["properties"])
        assert {"page", "pageSize", "max_items", "all_pages", "fields", "query"} <= props
        result = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {"page": 1}})
    assert not result.is_error and result.structured_content["result"] == [{"id": 1, "name": "Ada"}]
    assert len(recorder.requests) == 1


async def test_invalid_arguments_are_an_error_result_and_make_no_upstream_request():
    recorder = Recorder()
    async with Client(_server(recorder), cache=None) as client:
        result = await client.call_tool("invoke_operation",
                                        {"name": "zia_list_users", "arguments": {"pageSize": "lots"}})
    assert result.is_error
    assert "pageSize" in result.content[0].text
    assert recorder.requests == []


async def test_a_write_on_a_read_only_server_is_refused_at_call_time_even_by_direct_name():
    recorder = Recorder()
    async with Client(_server(recorder), cache=None) as client:
        result = await client.call_tool("zia_create_department", {"body": {"name": "x"}})
        found = await client.call_tool("search_operations", {"query": "create department"})
    assert result.is_error and result.structured_content["error"]["kind"] == "scope_denied"
    assert recorder.requests == []
    assert all(r["scope"] == "read" for r in found.structured_content["results"])


async def test_enable_toolset_lists_its_tools_and_notifies_the_client():
    notifications = []

    async def on_message(message):
        notifications.append(message)

    async with Client(_server(Recorder(), profile="read-write"), cache=None, message_handler=on_message,
                      mode="legacy") as client:
        before = await client.list_tools()
        result = await client.call_tool("enable_toolset", {"name": "zia.users"})
        after = await client.list_tools()
        again = await client.call_tool("enable_toolset", {"name": "zia.users"})
        unknown = await client.call_tool("enable_toolset", {"name": "zia.nope"})
        listing = await client.call_tool("enable_toolset", {})
    listed_before = [t.name for t in before.tools]
    assert listed_before[:4] == list(DISCOVERY_TOOLS) and "zia_list_users" not in listed_before
    assert "zia_list_users" in result.structured_content["tools"]
    names = [t.name for t in after.tools]
    assert "zia_list_users" in names and "zia_create_user" in names and len(names) > len(listed_before)
    assert any("tools/list_changed" in str(m) or "ToolListChanged" in type(getattr(m, "root", m)).__name__
               for m in notifications)
    assert again.structured_content["already_enabled"] is True
    assert unknown.is_error
    assert any(ts["name"] == "zpa.app_segments" for ts in listing.structured_content["toolsets"])


async def test_full_mode_pages_tools_list_and_respects_the_profile():
    async with Client(_server(Recorder(), tools_mode="full", profile="read-only", list_page_size=200),
                      cache=None) as client:
        tools = await _all_tools(client)
    assert len(tools) > 400 and all(t.annotations.read_only_hint for t in tools)
    zpa = next(t for t in tools if t.name == "zpa_list_all_applications")
    assert "customerId" not in zpa.input_schema["properties"]


async def test_an_unknown_tool_is_an_error_that_points_at_search():
    async with Client(_server(Recorder()), cache=None) as client:
        result = await client.call_tool("zia_does_not_exist", {})
    assert result.is_error and "search_operations" in result.content[0].text

"""The scopes plugin: profiles and allow/deny globs at list and call time, and confirmation of
destructive calls (MCP elicitation, else a single-use token bound to tool, arguments and expiry)."""

from __future__ import annotations

import json

import httpx
import mcp_types as t
import pytest
from mcp import Client
from oneapi_mcp.plugins.builtin import scopes

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings

pytestmark = pytest.mark.anyio
DELETE = "zia_remove_department"


class Upstream:
    def __init__(self):
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=[{"id": 1}])


def _server(upstream: Upstream, **settings):
    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler)),
                        base_url="https://api.zsapi.net", customer_id="7")

    return build_server(Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True))


async def _names(client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


async def test_deny_globs_on_names_and_toolsets_hide_tools_and_refuse_them_by_any_name():
    upstream = Upstream()
    server = _server(upstream, tools_mode="full", list_page_size=1000, deny_tools=("zpa.*", "*_user_*"))
    async with Client(server, cache=None) as client:
        names = await _names(client)
        direct = await client.call_tool("zia_list_user_references", {})
        via = await client.call_tool("invoke_operation", {"name": "zpa_list_all_applications", "arguments": {}})
    assert not any(n.startswith("zpa_") for n in names) and not any("_user_" in n for n in names)
    assert "zia_list_users" in names
    assert direct.is_error and "deny_tools '*_user_*'" in direct.structured_content["error"]["message"]
    assert via.is_error and "deny_tools 'zpa.*'" in via.structured_content["error"]["message"]
    assert upstream.requests == []


async def test_allow_globs_list_only_the_matching_tools_and_refuse_the_rest():
    upstream = Upstream()
    server = _server(upstream, tools_mode="full", list_page_size=1000, allow_tools=("zia.users", "zdx_list_*"))
    async with Client(server, cache=None) as client:
        names = await _names(client)
        refused = await client.call_tool("invoke_operation", {"name": "zcc_get_company_info", "arguments": {}})
        found = await client.call_tool("search_operations", {"query": "company info"})
    assert names and all(n.startswith(("zia_", "zdx_list_")) for n in names)
    assert "zia_list_users" in names
    assert refused.is_error and "allow_tools (zia.users, zdx_list_*)" in refused.structured_content["error"]["message"]
    assert all(r["name"] != "zcc_get_company_info" for r in found.structured_content["results"])


async def test_a_destructive_call_returns_a_plan_and_a_token_then_runs_once_with_the_token():
    upstream = Upstream()
    async with Client(_server(upstream, profile="admin"), cache=None) as client:
        listed = await client.call_tool("describe_operation", {"name": DELETE})
        first = await client.call_tool(DELETE, {"id": 42})
        assert upstream.requests == []
        error = first.structured_content["error"]
        assert first.is_error and error["kind"] == "confirmation_required"
        assert error["plan"]["method"] == "DELETE" and error["plan"]["path"] == "/zia/api/v1/departments/42"
        token = error["confirm_token"]
        second = await client.call_tool(DELETE, {"id": 42, "confirm_token": token})
        replay = await client.call_tool(DELETE, {"id": 42, "confirm_token": token})
    assert "confirm_token" in listed.structured_content["input_schema"]["properties"]
    assert not second.is_error
    assert [(r.method, r.url.path) for r in upstream.requests] == [("DELETE", "/zia/api/v1/departments/42")]
    assert replay.is_error and "already used" in replay.structured_content["error"]["message"]


async def test_a_confirm_token_is_bound_to_its_arguments_and_its_tool_and_expires(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(scopes, "_clock", lambda: now[0])
    upstream = Upstream()
    async with Client(_server(upstream, profile="admin"), cache=None) as client:
        async def token_for(name, args):
            result = await client.call_tool("invoke_operation", {"name": name, "arguments": args})
            return result.structured_content["error"]["confirm_token"]

        other_args = await client.call_tool(DELETE, {"id": 43, "confirm_token": await token_for(DELETE, {"id": 42})})
        other_tool = await client.call_tool("zia_remove_location", {
            "id": 42, "confirm_token": await token_for(DELETE, {"id": 42})})
        late = await token_for(DELETE, {"id": 42})
        now[0] += 301
        expired = await client.call_tool(DELETE, {"id": 42, "confirm_token": late})
    assert "arguments differ" in other_args.structured_content["error"]["message"]
    assert f"issued for {DELETE}, not zia_remove_location" in other_tool.structured_content["error"]["message"]
    assert "expired" in expired.structured_content["error"]["message"]
    assert upstream.requests == []


async def test_a_destructive_call_with_invalid_arguments_gets_no_token():
    upstream = Upstream()
    async with Client(_server(upstream, profile="admin"), cache=None) as client:
        result = await client.call_tool(DELETE, {"id": "forty-two"})
    assert result.is_error and result.structured_content["error"]["kind"] == "invalid_arguments"
    assert "confirm_token" not in json.dumps(result.structured_content)


@pytest.mark.parametrize(("answer", "runs"), [(True, True), (False, False)])
async def test_a_client_that_supports_elicitation_is_asked_instead(answer, runs):
    upstream = Upstream()
    asked = []

    async def elicit(context, params):
        asked.append(params.message)
        return t.ElicitResult(action="accept", content={"confirm": answer})

    async with Client(_server(upstream, profile="admin"), cache=None, mode="legacy",
                      elicitation_callback=elicit) as client:
        result = await client.call_tool(DELETE, {"id": 42})
    assert asked and DELETE in asked[0] and "/zia/api/v1/departments/42" in asked[0]
    assert result.is_error is not runs
    assert len(upstream.requests) == (1 if runs else 0)
    if not runs:
        assert result.structured_content["error"]["kind"] == "confirmation_declined"


async def test_a_read_only_server_refuses_destructive_tools_before_any_confirmation():
    upstream = Upstream()
    async with Client(_server(upstream), cache=None) as client:
        result = await client.call_tool(DELETE, {"id": 42})
    assert result.structured_content["error"]["kind"] == "scope_denied"


async def test_without_the_scopes_plugin_confirm_token_is_an_unknown_argument_like_any_other(plugin_manager):
    """The core adds and strips nothing of the scopes plugin's: the argument is the plugin's, through
    `oneapi_mcp_tool_arguments` and its `oneapi_mcp_tool_call` wrapper."""
    plugin_manager.unregister(scopes)
    upstream = Upstream()
    async with Client(_server(upstream, profile="admin", tools_mode="full", list_page_size=1000),
                      cache=None) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(DELETE, {"id": 42, "confirm_token": "made-up"})
    assert "confirm_token" not in listed[DELETE].input_schema["properties"]
    assert result.is_error and result.structured_content["error"]["kind"] == "invalid_arguments"
    assert {"field": "confirm_token", "problem": "unknown argument"} in result.structured_content["error"]["problems"]
    assert upstream.requests == []


async def test_a_composite_that_declares_its_own_confirm_token_receives_it(plugin_manager):
    from oneapi_mcp.plugin_api import CompositeTool, hookimpl

    seen: list[dict] = []

    async def handler(ctx, arguments):
        seen.append(dict(arguments))
        return {"ok": True}

    schema = {"type": "object", "properties": {"confirm_token": {"type": "string"}}, "additionalProperties": False}

    class Own:
        @hookimpl
        def oneapi_mcp_register_tools(self, settings):
            return [CompositeTool(name="own_confirmation", description="Confirms with its own token.",
                                  handler=handler, input_schema=schema, scope="write")]

    plugin_manager.register(Own(), name="own-confirmation")
    async with Client(_server(Upstream(), profile="read-write"), cache=None) as client:
        result = await client.call_tool("own_confirmation", {"confirm_token": "mine"})
    assert not result.is_error and seen == [{"confirm_token": "mine"}]

"""One tool model for generated, composite and discovery tools; the discovery tools are a built-in plugin."""

from __future__ import annotations

import pytest
from mcp import Client

from oneapi_mcp import _plugins
from oneapi_mcp._runtime import Runtime
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp._toolmodel import display_title
from oneapi_mcp.plugin_api import DISCOVERY_TOOLS, CompositeTool, hookimpl, tool_result

pytestmark = pytest.mark.anyio
DISCOVERY_PLUGIN = "oneapi_mcp.plugins.builtin.discovery_tools"


@pytest.fixture
def pm():
    pm = _plugins.create_plugin_manager(entrypoints=False)
    _plugins.set_plugin_manager(pm)
    yield pm
    _plugins.set_plugin_manager(None)


def _server(pm, **settings):
    runtime = Runtime(settings=ServerSettings(**settings), executor_factory=lambda catalog: None,
                      customer_id_known=True, pm=pm)
    return build_server(runtime)


async def _finder(ctx, arguments):
    return tool_result({"found": arguments["what"]})


class _AcmeFinder:
    """A plugin's own discovery-kind tool, whose name a deny glob matches."""

    @hookimpl
    def oneapi_mcp_register_tools(self, settings):
        return [CompositeTool(name="acme_find", description="Find acme things in the acme inventory.",
                              handler=_finder, kind="discovery",
                              input_schema={"type": "object", "additionalProperties": False, "required": ["what"],
                                            "properties": {"what": {"type": "string"}}})]


def test_the_discovery_tools_are_registered_by_the_built_in_plugin_like_any_plugin_tool(pm):
    assert DISCOVERY_PLUGIN in _plugins.DEFAULT_PLUGINS
    surface = _server(pm).surface
    assert [n for n, t in surface.registered.items() if t.kind == "discovery"] == list(DISCOVERY_TOOLS)
    assert not set(DISCOVERY_TOOLS) & set(surface.composites)


async def test_without_the_discovery_plugin_the_runtime_offers_no_discovery_tool(pm):
    pm.unregister(name=DISCOVERY_PLUGIN)
    server = _server(pm)
    async with Client(server, cache=None) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool("search_operations", {"query": "list users"})
    assert names and not set(DISCOVERY_TOOLS) & set(server.surface.listed_names(None))
    assert set(server.surface.listed_names(None)) & set(server.surface.composites)  # the plugins' tools stay
    assert result.is_error and result.structured_content["error"]["kind"] == "unknown_tool"


async def test_a_discovery_kind_tool_is_never_filtered_searched_or_described(pm):
    pm.register(_AcmeFinder(), name="acme")
    try:
        server = _server(pm, deny_tools=("acme_*",))
        async with Client(server, cache=None) as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            found = await client.call_tool("acme_find", {"what": "widgets"})
            searched = await client.call_tool("search_operations", {"query": "find acme things inventory"})
            described = await client.call_tool("describe_operation", {"name": "acme_find"})
            invoked = await client.call_tool("invoke_operation", {"name": "acme_find", "arguments": {"what": "x"}})
    finally:
        pm.unregister(name="acme")
    assert "acme_find" in listed and "acme_find" not in server.surface.hidden
    assert found.structured_content == {"found": "widgets"}
    assert "acme_find" not in {r["name"] for r in searched.structured_content["results"]}
    assert described.structured_content["error"]["kind"] == "unknown_tool"
    assert invoked.structured_content["error"]["kind"] == "unknown_tool"


async def test_a_discovery_tools_arguments_are_checked_by_its_input_model_before_its_handler_each_field_named(pm):
    async with Client(_server(pm), cache=None) as client:
        result = await client.call_tool("search_operations", {"query": "users", "limit": 500, "colour": "red"})
    error = result.structured_content["error"]
    assert result.is_error and error["kind"] == "invalid_arguments"
    assert {p["field"]: p["problem"] for p in error["problems"]} == {
        "limit": "Input should be less than or equal to 50", "colour": "unknown argument"}
    assert "colour" in error["message"] and error["tool"] == "search_operations"


@pytest.mark.parametrize(("arguments", "field", "problem"), [
    ({"query": "   "}, "query", "Value error, the query is blank: say what you want, e.g. 'disable a user'"),
    ({"query": ""}, "query", "String should have at least 1 character"),
    ({}, "query", "required argument is missing"),
    ({"query": "users", "service": "zfoo"}, "service", "Input should be 'aiguard', "),
    ({"query": "users", "scope": "admin"}, "scope", "Input should be 'read', 'write' or 'destructive'"),
    ({"query": "users", "limit": True}, "limit", "Input should be a valid integer"),
    ({"query": "users", "limit": "5"}, "limit", "Input should be a valid integer"),
    ({"query": "users", "limit": 0}, "limit", "Input should be greater than or equal to 1"),
])
async def test_search_operations_bad_arguments_are_its_input_models_errors_naming_the_field(pm, arguments, field,
                                                                                         problem):
    # the model is search_operations' only check (issue 16): every refusal has the model's shape, one per field
    async with Client(_server(pm), cache=None) as client:
        result = await client.call_tool("search_operations", arguments)
    error = result.structured_content["error"]
    assert result.is_error and error["kind"] == "invalid_arguments" and error["tool"] == "search_operations"
    assert [p["field"] for p in error["problems"]] == [field] and error["problems"][0]["problem"].startswith(problem)
    assert error["message"].startswith("search_operations: invalid arguments")


async def test_search_operations_with_valid_arguments_searches_with_them(pm):
    async with Client(_server(pm), cache=None) as client:
        result = await client.call_tool("search_operations", {"query": "list users", "service": "zpa", "limit": 3})
    found = result.structured_content["results"]
    assert not result.is_error and 0 < len(found) <= 3 and all(r["name"].startswith("zpa_") for r in found)


def test_listing_reads_the_same_model_for_every_kind_of_tool(pm):
    surface = _server(pm, tools_mode="full", profile="admin").surface
    for name in ("zia_list_users", "users_create_user", "search_operations"):
        tool, listed = surface.tool(name), surface.mcp_tool(name)
        a = listed.annotations
        assert (listed.name, listed.title, listed.description) == (tool.name, display_title(tool), tool.description)
        assert {"readOnlyHint": a.read_only_hint, "destructiveHint": a.destructive_hint,
                "idempotentHint": a.idempotent_hint, "openWorldHint": a.open_world_hint} == dict(tool.annotations)
    assert {surface.tool(n).kind for n in ("zia_list_users", "users_create_user", "search_operations")} == {
        "generated", "composite", "discovery"}
    # full mode lists every generated and composite tool, and no discovery tool (they stay callable)
    names = surface.listed_names(None)
    assert "zia_list_users" in names and "users_create_user" in names and not set(DISCOVERY_TOOLS) & set(names)

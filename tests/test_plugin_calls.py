"""Operations a composite tool runs through `call_operation` pass through the same `oneapi_mcp_tool_call`
wrappers as a tools/call, with the composite's call as `parent`; the built-in wrappers (audit,
confirmation, metrics, untrusted content) act on the composite's call only, which keeps every upstream
request in its record. In process, through a real MCP client; upstream is an httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import Client

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.plugin_api import CompositeTool, hookimpl, tool_error

pytestmark = pytest.mark.anyio


def _upstream(requests: list) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        if request.url.path == "/zia/api/v1/users":
            return httpx.Response(200, json=[{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}])
        return httpx.Response(200, json={"status": "ACTIVE"})

    return httpx.MockTransport(handler)


async def _people(ctx, arguments):
    users = await ctx.call_operation("zia_list_users", {})
    if users.is_error:  # an upstream failure stays a failure
        return tool_error(f"could not list users: {users.data['error']['message']}", users.data["error"]["kind"])
    status = await ctx.call_operation("zia_get_activation_status", {})
    return {"names": [u["name"] for u in users.data], "status": status.data}


class CallLog:
    def __init__(self, refuse: str | None = None):
        self.seen: list[tuple[str, str | None, str]] = []
        self.refuse = refuse

    @hookimpl
    def oneapi_mcp_register_tools(self, settings):
        return [CompositeTool("people_and_status", "Users and the activation status.", _people,
                              operations=("zia_list_users", "zia_get_activation_status"))]

    @hookimpl(wrapper=True)
    def oneapi_mcp_tool_call(self, call):
        proceed = yield
        self.seen.append((call.name, call.parent.name if call.parent else None, call.kind))
        if call.name != self.refuse:
            return proceed

        async def refused():
            return tool_error(f"{call.name} is frozen by the call-log plugin", "freeze")

        return refused


def _server(pm, requests: list, **settings):
    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=_upstream(requests)), base_url="https://api.zsapi.net",
                        customer_id="7")

    return build_server(Runtime(settings=ServerSettings(**settings), executor_factory=factory,
                                customer_id_known=True, pm=pm))


async def test_a_composites_operations_reach_the_call_wrappers_with_the_parent_named(plugin_manager, tmp_path):
    log = CallLog()
    plugin_manager.register(log, name="call-log")
    requests: list[str] = []
    audit = tmp_path / "audit.jsonl"
    async with Client(_server(plugin_manager, requests, audit_log=str(audit)), cache=None) as client:
        result = await client.call_tool("people_and_status", {})
    assert not result.is_error
    assert result.structured_content["result"]["names"] == ["Ada", "Grace"]
    assert log.seen == [("people_and_status", None, "composite"),  # wrapped first, then each operation it runs
                        ("zia_list_users", "people_and_status", "generated"),
                        ("zia_get_activation_status", "people_and_status", "generated")]
    (record,) = [json.loads(line) for line in audit.read_text().splitlines()]  # the composite's call only
    assert record["tool"] == "people_and_status"
    assert [u["path"] for u in record["upstream"]] == ["/zia/api/v1/users", "/zia/api/v1/status"]


async def test_a_wrapper_that_refuses_a_composites_operation_is_what_the_composite_sees(plugin_manager):
    plugin_manager.register(CallLog(refuse="zia_list_users"), name="call-log")
    requests: list[str] = []
    async with Client(_server(plugin_manager, requests), cache=None) as client:
        result = await client.call_tool("people_and_status", {})
    assert result.is_error and result.structured_content["error"]["kind"] == "freeze"
    assert "frozen by the call-log plugin" in result.structured_content["error"]["message"]
    assert requests == []  # refused before anything was sent


async def test_hook_oneapi_mcp_audit_record_hands_each_calls_records_to_the_plugins(plugin_manager):
    """No audit log is set: the records still reach the plugins (the SIEM export and anomaly alerts use them)."""
    records = []

    class Listener:
        @hookimpl
        def oneapi_mcp_audit_record(self, settings, record, call):
            records.append((settings.name, dict(record), call.name))

    plugin_manager.register(Listener(), name="listener")
    requests: list[str] = []
    async with Client(_server(plugin_manager, requests, profile="read-write"), cache=None) as client:
        await client.call_tool("zia_create_department", {"body": {"name": "Research"}})
        await client.call_tool("zia_list_users", {})
    phases = [(r["phase"], r["tool"], name) for _server_name, r, name in records]
    assert phases == [("intent", "zia_create_department", "zia_create_department"),
                      ("outcome", "zia_create_department", "zia_create_department"),
                      ("outcome", "zia_list_users", "zia_list_users")]  # a read has no intent
    intent, outcome = records[0][1], records[1][1]
    assert intent["call_id"] == outcome["call_id"] and outcome["upstream"][0]["method"] == "POST"
    assert outcome["outcome"] == "ok" and intent["arguments"] == {"body": {"name": "Research"}}


async def test_hook_oneapi_mcp_tool_arguments_adds_an_argument_its_wrapper_consumes(plugin_manager):
    tickets = []

    class ChangeTickets:
        @hookimpl
        def oneapi_mcp_tool_arguments(self, settings, tool):
            return {"change_ticket": {"type": "string"}} if tool.scope != "read" else None

        @hookimpl(wrapper=True)
        def oneapi_mcp_tool_call(self, call):
            proceed = yield
            tickets.append((call.name, call.arguments.pop("change_ticket", None)))
            return proceed

    plugin_manager.register(ChangeTickets(), name="tickets")
    requests: list[str] = []
    async with Client(_server(plugin_manager, requests, profile="admin", tools_mode="full", list_page_size=1000),
                      cache=None) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        done = await client.call_tool("zia_create_department", {"body": {"name": "R"}, "change_ticket": "CHG-7"})
    create, remove, read = (listed[n].input_schema["properties"] for n in (
        "zia_create_department", "zia_remove_department", "zia_list_users"))
    assert "change_ticket" in create and "change_ticket" not in read
    assert "confirm_token" in remove and "confirm_token" not in create  # the scopes plugin's, through the same hook
    assert not done.is_error and ("zia_create_department", "CHG-7") in tickets

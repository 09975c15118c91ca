"""Every hook in plugins/hookspecs.py, each exercised by a throwaway plugin through a real MCP client
(in memory) or the runtime; upstream is an injected httpx.MockTransport. docs/plugin_hooks.md
documents each hook (checked here too)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from mcp import Client
from oneapi_mcp.plugins import CompositeTool, hookimpl
from oneapi_mcp.plugins import hookspecs as specs

from oneapi_mcp._executor import Executor
from oneapi_mcp._plugins import DEFAULT_PLUGINS, PluginError, create_plugin_manager
from oneapi_mcp._server import DISCOVERY_TOOLS, Runtime, build_server
from oneapi_mcp._settings import Credentials, ServerSettings
from oneapi_mcp.cli import make_runtime

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name in dir(specs) if name.startswith("oneapi_mcp_"))


class Upstream:
    def __init__(self):
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth2/v1/token":
            return httpx.Response(200, json={"access_token": "fake-token-123456", "expires_in": 3600})
        if request.url.path == "/zia/api/v1/users":
            return httpx.Response(200, json=[{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}])
        return httpx.Response(200, json={"ok": True})


def _server(pm, upstream: Upstream, **settings):
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler))
        return Executor(catalog, client, base_url="https://api.zsapi.net", customer_id="7")

    runtime = Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True, pm=pm)
    return build_server(runtime)


def _fake_env(monkeypatch):
    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-client")
    monkeypatch.setenv("ZSCALER_CLIENT_SECRET", "fake-secret-from-env")
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "acme")
    monkeypatch.delenv("ZSCALER_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("ONEAPI_MCP_SECRET_COMMAND", raising=False)


# -- the plugin manager ------------------------------------------------------------------------------
def test_the_built_in_plugins_are_registered_by_their_module_path(plugin_manager):
    names = {plugin_manager.get_name(p) for p in plugin_manager.get_plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    assert all(name.startswith("oneapi_mcp_") for name in HOOKS) and len(HOOKS) >= 10


def test_a_plugin_with_a_misspelt_hook_fails_at_start_naming_the_hook():
    class Typo:
        @hookimpl
        def oneapi_mcp_filter_tool(self, settings, tools):  # the hook is oneapi_mcp_filter_tools
            return []

    pm = create_plugin_manager(entrypoints=False)
    pm.register(Typo(), name="typo-plugin")
    from oneapi_mcp._plugins import check

    with pytest.raises(PluginError, match="'typo-plugin' implements unknown hook 'oneapi_mcp_filter_tool'"):
        check(pm)


def _hooks_found(pm) -> list[tuple]:
    return sorted((name, impl.plugin_name, impl.function.__qualname__, impl.wrapper, impl.tryfirst, impl.trylast)
                  for name in HOOKS for impl in getattr(pm.hook, name).get_hookimpls())


def test_a_module_plugin_registers_exactly_the_hooks_plain_pluggy_finds_in_it(plugin_manager):
    """The manager answers a module's unmarked names without pluggy's slow lookup (_plugins._PluginManager)."""
    import importlib
    import types

    import pluggy

    plugin = types.ModuleType("throwaway_plugin")
    exec(  # noqa: S102 - a module's worth of names: marked functions (one under another name), and what is not
        "from oneapi_mcp.plugins import hookimpl\n"
        "from oneapi_mcp.plugins.builtin.audit import *\n"
        "@hookimpl(tryfirst=True)\ndef oneapi_mcp_startup(runtime): pass\n"
        "@hookimpl(specname='oneapi_mcp_shutdown')\ndef goodbye(runtime): pass\n"
        "oneapi_mcp_before_request = staticmethod(hookimpl(lambda call, tool, request: None))\n"
        "def oneapi_mcp_filter_tools(settings, tools): return None  # not marked: not a hook\n"
        "class oneapi_mcp_after_response: pass\nCONSTANT = 'oneapi_mcp_register_tools'\n", vars(plugin))
    plain = pluggy.PluginManager("oneapi_mcp")
    plain.add_hookspecs(specs)
    for name in DEFAULT_PLUGINS:
        plain.register(importlib.import_module(name), name=name)
    ours = create_plugin_manager(entrypoints=False)
    ours.unregister(name="oneapi_mcp.core")
    for pm in (plain, ours):
        pm.register(plugin, name="throwaway")
    assert _hooks_found(ours) == _hooks_found(plain)
    assert {(n, f) for n, p, f, *_ in _hooks_found(ours) if p == "throwaway"} == {
        ("oneapi_mcp_startup", "oneapi_mcp_startup"), ("oneapi_mcp_shutdown", "goodbye"),
        ("oneapi_mcp_before_request", "<lambda>")}


def test_the_trace_env_var_logs_every_hook_call(monkeypatch, caplog):
    monkeypatch.setenv("ONEAPI_MCP_TRACE_PLUGINS", "1")
    pm = create_plugin_manager(entrypoints=False)
    with caplog.at_level(logging.INFO, logger="oneapi_mcp.plugins"):
        pm.hook.oneapi_mcp_filter_tools(settings=ServerSettings(), tools=[])
    assert any("hook oneapi_mcp_filter_tools -> " in r.getMessage()
               and "oneapi_mcp.plugins.builtin.scopes" in r.getMessage() for r in caplog.records)


def test_every_hook_is_documented_with_a_section_and_has_a_test():
    doc = (ROOT / "docs" / "plugin_hooks.md").read_text()
    headings = re.findall(r"^## `(oneapi_mcp_\w+)\(", doc, flags=re.MULTILINE)
    assert sorted(headings) == HOOKS
    for name in HOOKS:
        section = doc.split(f"## `{name}(", 1)[1].split("\n## ", 1)[0]
        for part in ("Parameters", "Returns", "```python"):
            assert part in section, (name, part)
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    missing = [name for name in HOOKS if f"def test_hook_{name}" not in tests]
    assert missing == []


# -- start-up and shutdown ---------------------------------------------------------------------------
async def test_hook_oneapi_mcp_startup_runs_before_serving_and_may_return_an_awaitable(plugin_manager):
    seen = []

    class Plugin:
        @hookimpl
        def oneapi_mcp_startup(self, settings, runtime):
            async def warm():
                seen.append(("async", settings.name, runtime.settings is settings))

            seen.append("sync")
            return warm()

    plugin_manager.register(Plugin())
    runtime = Runtime(settings=ServerSettings(name="ops"), executor_factory=lambda c: None, pm=plugin_manager)
    await runtime.startup()
    assert seen == ["sync", ("async", "ops", True)]


async def test_hook_oneapi_mcp_shutdown_runs_once_serving_stops_and_its_failures_do_not_escape(plugin_manager):
    seen = []

    class Plugin:
        @hookimpl
        def oneapi_mcp_shutdown(self, settings, runtime):
            seen.append(settings.name)

    class Broken:
        @hookimpl
        def oneapi_mcp_shutdown(self):
            async def fail():
                raise RuntimeError("flush failed")

            return fail()

    plugin_manager.register(Plugin())
    plugin_manager.register(Broken())
    runtime = Runtime(settings=ServerSettings(name="ops"), executor_factory=lambda c: None, pm=plugin_manager)
    await runtime.shutdown()
    assert seen == ["ops"]


# -- credentials, auth and the limiter ---------------------------------------------------------------
async def test_hook_oneapi_mcp_credentials_answers_before_the_environment_and_is_asked_per_token_request(
        plugin_manager, monkeypatch):
    _fake_env(monkeypatch)
    asked = []

    class Vault:
        @hookimpl
        def oneapi_mcp_credentials(self, settings):
            asked.append(settings.name)
            return Credentials.model_construct(client_id="vault-client", client_secret=_secret("fake-vault-secret"),
                                               vanity_domain="vaulted")

    plugin_manager.register(Vault())
    upstream = Upstream()
    runtime = make_runtime(ServerSettings(), Credentials(), pm=plugin_manager,
                           transport=httpx.MockTransport(upstream.handler))
    async with Client(build_server(runtime), cache=None) as client:
        result = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert not result.is_error
    token_request = upstream.requests[0]
    assert token_request.url.host == "vaulted.zslogin.net"
    assert parse_qs(token_request.content.decode())["client_secret"] == ["fake-vault-secret"]
    assert len(asked) >= 2  # at start, and again for the token request


async def test_hook_oneapi_mcp_http_auth_replaces_the_oneapi_oauth(plugin_manager, monkeypatch):
    _fake_env(monkeypatch)
    got = {}

    class StaticHeader(httpx.Auth):
        def auth_flow(self, request):
            request.headers["Authorization"] = "Bearer fake-static"
            yield request

    class Plugin:
        @hookimpl
        def oneapi_mcp_http_auth(self, settings, credentials, token_url, read_credentials):
            got.update(client_id=credentials.client_id, token_url=token_url, again=read_credentials().client_id)
            return StaticHeader()

    plugin_manager.register(Plugin())
    upstream = Upstream()
    runtime = make_runtime(ServerSettings(), Credentials(), pm=plugin_manager,
                           transport=httpx.MockTransport(upstream.handler))
    async with Client(build_server(runtime), cache=None) as client:
        await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert got == {"client_id": "fake-client", "token_url": "https://acme.zslogin.net/oauth2/v1/token",
                   "again": "fake-client"}
    assert [r.url.path for r in upstream.requests] == ["/zia/api/v1/users"]
    assert upstream.requests[0].headers["Authorization"] == "Bearer fake-static"


async def test_hook_oneapi_mcp_rate_limiter_is_asked_before_every_upstream_request(plugin_manager, monkeypatch):
    _fake_env(monkeypatch)
    acquired = []

    class CountingLimiter:
        async def acquire(self, tool):
            acquired.append(tool.rate_class)

        def retry_delay(self, tool, attempt, response, error):
            return None

        async def sleep(self, seconds):
            raise AssertionError("no retry expected")

    class Plugin:
        @hookimpl
        def oneapi_mcp_rate_limiter(self, settings, catalog):
            assert "zia.light" in catalog.rate_classes
            return CountingLimiter()

    plugin_manager.register(Plugin())
    upstream = Upstream()
    runtime = make_runtime(ServerSettings(), Credentials(), pm=plugin_manager,
                           transport=httpx.MockTransport(upstream.handler))
    async with Client(build_server(runtime), cache=None) as client:
        await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert acquired == ["zia.light"]


# -- the tool surface ---------------------------------------------------------------------------------
def _composite(**overrides):
    async def handler(ctx, arguments):
        users = await ctx.call_operation("zia_list_users", {})
        names = [u["name"] for u in users.data]
        return {"server": ctx.settings.name, "matching": [n for n in names if arguments["prefix"] in n]}

    spec = {"name": "find_people", "description": "Find ZIA users whose name contains a prefix.",
            "handler": handler, "operations": ("zia_list_users",),
            "input_schema": {"type": "object", "required": ["prefix"], "additionalProperties": False,
                             "properties": {"prefix": {"type": "string"}}}}
    return CompositeTool(**{**spec, **overrides})


async def test_hook_oneapi_mcp_register_tools_adds_composite_tools_that_call_through_the_executor(plugin_manager):
    class Plugin:
        @hookimpl
        def oneapi_mcp_register_tools(self, settings):
            return [_composite()]

    plugin_manager.register(Plugin())
    upstream = Upstream()
    async with Client(_server(plugin_manager, upstream), cache=None) as client:
        listed = await client.list_tools()
        result = await client.call_tool("find_people", {"prefix": "Gr"})
        via = await client.call_tool("invoke_operation", {"name": "find_people", "arguments": {"prefix": "A"}})
        bad = await client.call_tool("find_people", {"prefix": 3})
    names = [t.name for t in listed.tools]
    assert names[:3] == list(DISCOVERY_TOOLS[:3]) and "find_people" in names
    tool = next(t for t in listed.tools if t.name == "find_people")
    assert tool.annotations.read_only_hint is True and tool.input_schema["required"] == ["prefix"]
    assert result.structured_content["result"] == {"server": "default", "matching": ["Grace"]}
    assert via.structured_content["result"]["matching"] == ["Ada"]
    assert bad.is_error and bad.structured_content["error"]["kind"] == "invalid_arguments"
    assert len(upstream.requests) == 2


async def test_hook_oneapi_mcp_register_tools_gives_a_composite_the_widest_scope_of_its_operations(plugin_manager):
    class Plugin:
        @hookimpl
        def oneapi_mcp_register_tools(self):
            return [_composite(name="onboard", operations=("zia_list_users", "zia_create_user"))]

    plugin_manager.register(Plugin())
    upstream = Upstream()
    async with Client(_server(plugin_manager, upstream), cache=None) as client:
        listed = await client.list_tools()
        refused = await client.call_tool("onboard", {"prefix": "A"})
    assert "onboard" not in [t.name for t in listed.tools]
    assert refused.is_error and "scope 'write'" in refused.structured_content["error"]["message"]
    assert upstream.requests == []


async def test_hook_oneapi_mcp_filter_tools_hides_tools_from_listing_search_and_every_way_of_calling(
        plugin_manager):
    class NoUserListing:
        @hookimpl
        def oneapi_mcp_filter_tools(self, settings, tools):
            return {t.name: "user listings are off here" for t in tools if t.name == "zia_list_users"}

    class HideDepartments:
        @hookimpl
        def oneapi_mcp_filter_tools(self, tools):
            return [t.name for t in tools if "department" in t.name]

    plugin_manager.register(NoUserListing())
    plugin_manager.register(HideDepartments())
    upstream = Upstream()
    async with Client(_server(plugin_manager, upstream, tools_mode="full", list_page_size=1000),
                      cache=None) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        direct = await client.call_tool("zia_list_users", {})
        invoked = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        department = await client.call_tool("zia_list_departments", {})
    assert "zia_list_users" not in names and "zia_list_departments" not in names and "zia_get_user" in names
    for result in (direct, invoked):
        assert result.is_error and result.structured_content["error"] == {
            "kind": "scope_denied", "message": "user listings are off here", "tool": "zia_list_users"}
    assert "hidden on server 'default' by a plugin's filter" in department.structured_content["error"]["message"]
    assert upstream.requests == []


# -- tool calls ---------------------------------------------------------------------------------------
async def test_hook_oneapi_mcp_tool_call_wraps_every_call_and_may_replace_the_result(plugin_manager):
    seen = []

    class Timing:
        @hookimpl(wrapper=True)
        def oneapi_mcp_tool_call(self, call):
            proceed = yield

            async def timed():
                result = await proceed()
                seen.append((call.name, call.via, call.kind, call.scope, result.is_error, len(call.upstream)))
                return result

            return timed

    class Maintenance:
        @hookimpl(wrapper=True)
        def oneapi_mcp_tool_call(self, call):
            proceed = yield
            if call.name != "zia_get_activation_status":
                return proceed

            async def closed():
                from oneapi_mcp.plugins import tool_error

                return tool_error("ZIA is in a change freeze", "freeze")

            return closed

    plugin_manager.register(Maintenance())
    plugin_manager.register(Timing())  # registered last: called first, so it sees what Maintenance returns
    upstream = Upstream()
    async with Client(_server(plugin_manager, upstream), cache=None) as client:
        await client.call_tool("search_operations", {"query": "users"})
        await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        frozen = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
    assert seen == [("search_operations", None, "discovery", None, False, 0),
                    ("zia_list_users", "invoke_operation", "generated", "read", False, 1),
                    ("zia_get_activation_status", "invoke_operation", "generated", "read", True, 0)]
    assert frozen.structured_content["error"]["message"] == "ZIA is in a change freeze"


async def test_hook_oneapi_mcp_tool_call_that_raises_fails_only_that_call(plugin_manager):
    class Flaky:
        calls = 0

        @hookimpl(wrapper=True)
        def oneapi_mcp_tool_call(self, call):
            proceed = yield
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise ValueError("SIEM unreachable")
            return proceed

    plugin_manager.register(Flaky())
    async with Client(_server(plugin_manager, Upstream()), cache=None) as client:
        failed = await client.call_tool("describe_operation", {"name": "zia_list_users"})
        fine = await client.call_tool("describe_operation", {"name": "zia_list_users"})
    assert failed.is_error and failed.structured_content["error"]["kind"] == "plugin_error"
    assert "ValueError: SIEM unreachable" in failed.structured_content["error"]["message"]
    assert not fine.is_error and fine.structured_content["name"] == "zia_list_users"


# -- upstream requests --------------------------------------------------------------------------------
async def test_hook_oneapi_mcp_before_request_may_add_headers_to_each_upstream_request(plugin_manager):
    class Tagger:
        @hookimpl
        def oneapi_mcp_before_request(self, call, tool, request):
            request.headers["X-Change-Ticket"] = f"{call.name}:{tool.service}"

    plugin_manager.register(Tagger())
    upstream = Upstream()
    async with Client(_server(plugin_manager, upstream), cache=None) as client:
        await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert upstream.requests[0].headers["X-Change-Ticket"] == "zia_list_users:zia"


async def test_hook_oneapi_mcp_after_response_sees_every_response_and_transport_error(plugin_manager):
    seen = []

    class Metrics:
        @hookimpl
        def oneapi_mcp_after_response(self, call, tool, request, response, error):
            seen.append((call.name if call else None, request.url.path,
                         response.status_code if response is not None else None, type(error).__name__))

    def handler(request):
        if request.url.path.endswith("/status"):
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=[])

    plugin_manager.register(Metrics())
    pm = plugin_manager

    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                        base_url="https://api.zsapi.net")

    server = build_server(Runtime(settings=ServerSettings(), executor_factory=factory, pm=pm))
    async with Client(server, cache=None) as client:
        await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        down = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
    assert seen == [("zia_list_users", "/zia/api/v1/users", 200, "NoneType"),
                    ("zia_get_activation_status", "/zia/api/v1/status", None, "ConnectError")]
    assert down.structured_content["error"]["kind"] == "unreachable"


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def test_serving_over_http_runs_the_startup_hooks_before_and_the_shutdown_hooks_after(plugin_manager):
    from starlette.testclient import TestClient

    from oneapi_mcp.cli import http_app

    events = []

    class Lifecycle:
        @hookimpl
        def oneapi_mcp_startup(self, settings):
            events.append(("start", settings.name))

        @hookimpl
        def oneapi_mcp_shutdown(self, settings):
            events.append(("stop", settings.name))

    plugin_manager.register(Lifecycle())
    server = build_server(Runtime(settings=ServerSettings(), executor_factory=lambda c: None, pm=plugin_manager))
    with TestClient(http_app({"default": server}, stateless=True, json_response=True)):
        assert events == [("start", "default")]
    assert events == [("start", "default"), ("stop", "default")]

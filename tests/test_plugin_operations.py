"""Operating plugins, and the statements of docs/plugin_hooks.md held to the behaviour (issue 16):
`oneapi-mcp plugins`, ONEAPI_MCP_LOAD_PLUGINS / `[plugins] load`, tracing with one variable, the
credentials hook asked at start (under --mock too) and failing as `plugin_error`, filtered-out tools
and toolsets not offered by describe_operation / enable_toolset, the tool surface asked once per process."""

from __future__ import annotations

import json
import logging
import os
import sys

import httpx
import pytest
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from oneapi_mcp import _compose, cli
from oneapi_mcp._plugins import PluginError, create_plugin_manager, plugin_info
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import Credentials, ServerSettings
from oneapi_mcp.plugin_api import hookimpl

pytestmark = pytest.mark.anyio
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}


@pytest.fixture
def no_credentials(monkeypatch):
    for name in [k for k in os.environ if k.startswith(("ZSCALER_", "ZPA_"))] + ["ONEAPI_MCP_SECRET_COMMAND"]:
        monkeypatch.delenv(name, raising=False)


def _installed_plugins(tmp_path, monkeypatch, *names: str) -> None:
    """A distribution on sys.path with one entry point per name in the `oneapi_mcp` group (as pip installs them)."""
    for name in names:
        (tmp_path / f"acme_{name}.py").write_text(
            "from oneapi_mcp.plugin_api import hookimpl\n\n@hookimpl\ndef oneapi_mcp_register_tools(settings):\n"
            "    return []\n")
    info = tmp_path / "acme_plugins-2.5.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 2.5.0\n")
    (info / "entry_points.txt").write_text("[oneapi_mcp]\n" + "".join(f"{n} = acme_{n}\n" for n in names))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_the_plugins_command_lists_each_plugin_with_its_version_and_hooks(tmp_path, monkeypatch, capsys):
    _installed_plugins(tmp_path, monkeypatch, "tickets")
    from oneapi_mcp import _plugins

    monkeypatch.setattr(_plugins, "_pm", None)  # the command builds the process's manager, entry points included
    assert cli.main(["plugins", "--format", "json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["tickets"]["version"] == "2.5.0" and listed["tickets"]["hooks"] == ["oneapi_mcp_register_tools"]
    assert "entry point of acme-plugins" in listed["tickets"]["source"]
    scopes = listed["oneapi_mcp.plugins.builtin.scopes"]
    assert scopes["source"] == "built-in" and "oneapi_mcp_filter_tools" in scopes["hooks"] and scopes["version"]


def test_load_plugins_limits_which_entry_points_load_and_names_an_unknown_one(tmp_path, monkeypatch):
    _installed_plugins(tmp_path, monkeypatch, "tickets", "pager")
    everything = {p["name"] for p in plugin_info(create_plugin_manager())}
    assert {"tickets", "pager"} <= everything
    monkeypatch.setenv("ONEAPI_MCP_LOAD_PLUGINS", "pager")
    assert {"tickets", "pager"} & {p["name"] for p in plugin_info(create_plugin_manager())} == {"pager"}
    assert "tickets" in {p["name"] for p in plugin_info(create_plugin_manager(load=["tickets"]))}  # the config key
    with pytest.raises(PluginError, match=r"names pagr, which no installed package provides; installed plugins: "
                                          r"pager, tickets"):
        create_plugin_manager(load=["pagr"])


def test_the_config_files_plugins_table_chooses_the_entry_points(tmp_path, monkeypatch, capsys):
    _installed_plugins(tmp_path, monkeypatch, "tickets", "pager")
    config = tmp_path / "servers.toml"
    config.write_text('[plugins]\nload = ["tickets"]\n[servers.a]\n')
    assert cli.main(["plugins", "--config", str(config), "--format", "json"]) == 0
    names = {p["name"] for p in json.loads(capsys.readouterr().out)}
    assert "tickets" in names and "pager" not in names
    from oneapi_mcp import _plugins

    _plugins.set_plugin_manager(None)


def test_tracing_needs_only_its_variable_whatever_the_log_level(monkeypatch, caplog):
    trace_logger = logging.getLogger("oneapi_mcp.plugins")
    monkeypatch.setattr(trace_logger, "level", logging.NOTSET)
    logging.getLogger("oneapi_mcp").setLevel(logging.WARNING)  # the server's default level
    try:
        monkeypatch.setenv("ONEAPI_MCP_TRACE_PLUGINS", "1")
        pm = create_plugin_manager(entrypoints=False)
        pm.hook.oneapi_mcp_filter_tools(settings=ServerSettings(), tools=[])
    finally:
        logging.getLogger("oneapi_mcp").setLevel(logging.NOTSET)
    assert any(r.getMessage().startswith("hook oneapi_mcp_filter_tools -> ") for r in caplog.records)


class VaultCredentials:
    def __init__(self, fail: bool = False):
        self.asked: list[str] = []
        self.fail = fail

    @hookimpl
    def oneapi_mcp_credentials(self, settings):
        self.asked.append(settings.name)
        if self.fail:
            raise ConnectionError("vault.corp unreachable")
        return Credentials.of(client_id="vault-client", client_secret="fake-vault-secret", vanity_domain="acme")


@pytest.mark.parametrize("mock", [False, True])
def test_the_credentials_hook_is_asked_at_start_and_a_plugin_that_answers_silences_the_warning(
        plugin_manager, no_credentials, capsys, mock):
    vault = VaultCredentials()
    plugin_manager.register(vault, name="vault")
    _compose.check_credentials_at_start({"prod": ServerSettings(name="prod")}, Credentials(), mock=mock,
                                        have_token_url=False)
    assert vault.asked == ["prod"] and capsys.readouterr().err == ""
    plugin_manager.unregister(name="vault")
    _compose.check_credentials_at_start({"prod": ServerSettings(name="prod")}, Credentials(), mock=False,
                                        have_token_url=False)
    assert "OneAPI credentials are incomplete" in capsys.readouterr().err  # nobody supplies them: said once


async def test_a_credentials_hook_that_raises_is_a_plugin_error_at_start_and_for_calls(
        plugin_manager, no_credentials, capsys):
    plugin_manager.register(VaultCredentials(fail=True), name="vault")
    _compose.check_credentials_at_start({"prod": ServerSettings(name="prod")}, Credentials(), mock=False,
                                        have_token_url=False)
    assert "a plugin's oneapi_mcp_credentials failed for server 'prod': ConnectionError: vault.corp unreachable" \
        in capsys.readouterr().err
    runtime = _compose.make_runtime(ServerSettings(name="prod"), Credentials(), pm=plugin_manager,
                               transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    async with Client(build_server(runtime), cache=None) as client:
        result = await client.call_tool("zia_list_users", {})
    error = result.structured_content["error"]
    assert result.is_error and error["kind"] == "plugin_error" and "vault.corp unreachable" in error["message"]


class HideZtw:
    @hookimpl
    def oneapi_mcp_filter_tools(self, settings, tools):
        return {t.name: "ZTW is managed by the branch team" for t in tools if t.service == "ztw"}


async def test_a_filtered_out_tool_is_not_described_and_its_toolset_cannot_be_enabled(plugin_manager):
    plugin_manager.register(HideZtw(), name="hide-ztw")
    runtime = _compose.make_runtime(ServerSettings(profile="admin"), Credentials(), pm=plugin_manager,
                                    mock_app=object())
    server = build_server(runtime)
    ztw_tool = next(n for n, t in runtime.catalog.tools.items() if t.service == "ztw")
    ztw_toolset = runtime.catalog.tools[ztw_tool].toolset
    async with Client(server, cache=None) as client:
        described = await client.call_tool("describe_operation", {"name": ztw_tool})
        enabled = await client.call_tool("enable_toolset", {"name": ztw_toolset})
        other = await client.call_tool("describe_operation", {"name": "zia_list_users"})
    assert described.is_error and described.structured_content["error"]["kind"] == "scope_denied"
    assert "is not available on server 'default': ZTW is managed by the branch team" in \
        described.structured_content["error"]["message"]
    assert "input_schema" not in described.structured_content["error"]
    assert enabled.is_error and "nothing was enabled" in enabled.structured_content["error"]["message"]
    assert not other.is_error and other.structured_content["allowed_here"] is True


async def test_one_stdio_process_asks_for_its_tools_and_filters_once(tmp_path):
    """The real path: `serve --mock` over stdio, counted from the plugin trace (ONEAPI_MCP_TRACE_PLUGINS)."""
    errlog = tmp_path / "stderr.txt"
    params = StdioServerParameters(command=sys.executable, args=["-m", "oneapi_mcp.cli", "serve", "--mock"],
                                   env={**CLEAN_ENV, "ONEAPI_MCP_TRACE_PLUGINS": "1"})
    with errlog.open("w") as err:
        async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            await session.call_tool("search_operations", {"query": "users"})
            await session.list_tools()
    lines = errlog.read_text().splitlines()
    for hook in ("oneapi_mcp_register_tools", "oneapi_mcp_filter_tools", "oneapi_mcp_credentials",
                 "oneapi_mcp_startup"):
        assert sum(f"hook {hook} -> " in line for line in lines) == 1, (hook, lines)
    assert not any("credentials are incomplete" in line for line in lines)  # --mock needs none


async def test_doctor_takes_the_credentials_a_plugin_supplies_like_serve(plugin_manager, no_credentials, upstream,
                                                                       capsys):
    """Only a plugin supplies credentials: doctor must not call them missing, and its probes authenticate
    with them (against the mock on 127.0.0.1)."""
    from types import SimpleNamespace

    from oneapi_mcp._doctor import run_doctor
    from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET

    class MockVault:
        @hookimpl
        def oneapi_mcp_credentials(self, settings):
            return Credentials.of(client_id=MOCK_CLIENT_ID, client_secret=MOCK_CLIENT_SECRET, customer_id="7")

    plugin_manager.register(MockVault(), name="mock-vault")
    settings = ServerSettings(base_url=upstream.url, token_url=upstream.token_url)
    code = await run_doctor(SimpleNamespace(), _compose.make_runtime, lambda _args: {"default": settings},
                            lambda _args: None)
    out = capsys.readouterr().out
    assert code == 0 and "PASS  credentials" in out and "all checks passed" in out, out
    plugin_manager.unregister(name="mock-vault")
    plugin_manager.register(VaultCredentials(fail=True), name="vault")
    code = await run_doctor(SimpleNamespace(), _compose.make_runtime, lambda _args: {"default": settings},
                            lambda _args: None)
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  credentials" in out and "vault.corp unreachable" in out

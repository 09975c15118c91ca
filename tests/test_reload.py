"""Hot reload: `oneapi-mcp serve --config` takes new settings without a restart (the file changing,
or SIGHUP), refuses an invalid config and keeps serving the old one. Real processes with the `mcp`
SDK's client over stdio and streamable HTTP; in-process checks of the details (in-flight calls,
the rate limiter's windows, the audit log, what needs a restart)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from oneapi_mcp._ports import free_port, wait_for_port
from oneapi_mcp._reload import Reloader
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ConfigError, Credentials, ServerSettings, load_servers
from oneapi_mcp.cli import make_runtime

pytestmark = pytest.mark.anyio
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}
USERS = '[servers.ops]\ntools_mode = "toolsets"\ntoolsets = ["zia.users"]\n'


def write(path: Path, text: str) -> None:
    """Replace the file as editors and config management do (write aside, rename over)."""
    aside = path.with_name(path.name + ".new")
    aside.write_text(text)
    os.replace(aside, path)


async def until(check, what: str, timeout: float = 15.0):
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if hasattr(result, "__await__"):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.05)


def serving_pids(config: Path) -> list[int]:
    """The processes serving this (unique) config file."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and str(config).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


class Stdio:
    """`oneapi-mcp serve --mock --config` over stdio, its stderr in a file, list_changed recorded."""

    def __init__(self, tmp_path: Path, config: Path, *args: str):
        self.config, self.errlog = config, tmp_path / "stderr.txt"
        self.params = StdioServerParameters(command=sys.executable, args=[
            "-m", "oneapi_mcp.cli", "serve", "--mock", "--config", str(config), *args], env=ENV)
        self.changed = 0
        self.since = 0  # stderr() is what the server wrote from this offset on (see `mark`)

    def client(self, errfile) -> Client:
        async def on_message(message):
            if type(getattr(message, "root", message)).__name__ == "ToolListChangedNotification":
                self.changed += 1

        return Client(stdio_client(self.params, errlog=errfile), cache=None, mode="legacy",
                      message_handler=on_message)

    def stderr(self) -> str:
        return self.errlog.read_text()[self.since:]

    def mark(self) -> None:
        """From now on, stderr() and `changed` count only what comes next (a server shared by several tests)."""
        self.since += len(self.stderr())
        self.changed = 0


async def names(client) -> list[str]:
    return [t.name for t in (await client.list_tools()).tools]


async def test_a_profile_change_in_the_file_lists_a_write_tool_and_notifies_without_a_restart(tmp_path):
    config = tmp_path / "servers.toml"
    config.write_text(USERS + 'profile = "read-only"\n')
    server = Stdio(tmp_path, config)
    with server.errlog.open("w") as errfile:
        async with server.client(errfile) as client:
            assert "zia_create_user" not in await names(client)
            [pid] = serving_pids(config)
            write(config, USERS + 'profile = "read-write"\n')
            await until(lambda: server.changed, "notifications/tools/list_changed")
            assert "zia_create_user" in await names(client)
            created = await client.call_tool("zia_create_department", {"body": {"name": "After reload"}})
            assert not created.is_error, created.content[0].text
            assert serving_pids(config) == [pid]
    assert "config reloaded" in server.stderr() and "profile" in server.stderr()


async def test_sighup_applies_a_toolsets_change_when_the_file_is_not_watched(tmp_path):
    config = tmp_path / "servers.toml"
    config.write_text(USERS)
    server = Stdio(tmp_path, config, "--no-watch")
    with server.errlog.open("w") as errfile:
        async with server.client(errfile) as client:
            assert "zdx_list_applications" not in await names(client)
            [pid] = serving_pids(config)
            config.write_text(USERS.replace('["zia.users"]', '["zia.users", "zdx.apps"]'))
            os.kill(pid, signal.SIGHUP)
            await until(lambda: server.changed, "notifications/tools/list_changed")
            listed = await names(client)
            assert "zdx_list_applications" in listed and "zia_list_users" in listed
            assert serving_pids(config) == [pid]
    assert "(SIGHUP)" in server.stderr() and "toolsets" in server.stderr()


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"  # module scope, for `users_server`


@pytest.fixture(scope="module")
async def users_server(tmp_path_factory):
    """One `serve --mock --config` over stdio for the invalid-config cases (a process start is ~2.5 s of CPU):
    each case starts from USERS applied, and reads only the stderr and notifications that follow its start."""
    tmp_path = tmp_path_factory.mktemp("invalid-config")
    config = tmp_path / "servers.toml"
    config.write_text(USERS)
    server = Stdio(tmp_path, config)
    with server.errlog.open("w") as errfile:
        async with server.client(errfile) as client:
            yield server, client


@pytest.mark.parametrize(("bad", "named"), [
    (USERS + 'profile = "read-write"\nbogus_setting = 1\n', "bogus_setting"),
    (USERS + 'profile = "superuser"\n', "profile"),
    (USERS + 'profile = "read-write\n', "invalid TOML"),
    (USERS + 'profile = "read-write"\nlog_level = "LOUD"\n', "log_level"),
], ids=["unknown-key", "bad-profile", "toml-syntax", "bad-log-level"])
async def test_an_invalid_config_is_rejected_with_the_reason_and_the_old_one_keeps_serving(users_server, bad, named):
    server, client = users_server
    config = server.config
    if config.read_text() != USERS:  # the previous case left its fixed config: back to USERS, applied
        server.mark()  # the previous case's stderr lines may still be coming: wait for the list itself
        write(config, USERS)

        async def reset() -> bool:
            return bool(server.changed) and "zia_create_user" not in await names(client)

        await until(reset, "the reset to USERS")
    server.mark()
    before = await names(client)
    write(config, bad)
    await until(lambda: "rejected" in server.stderr(), "the rejection on stderr")
    assert named in server.stderr() and "still serving the previous settings" in server.stderr()
    assert await names(client) == before and server.changed == 0
    users = await client.call_tool("zia_list_users", {"max_items": 3})
    assert not users.is_error, users.content[0].text
    write(config, USERS + 'profile = "read-write"\n')  # fixed: applied
    await until(lambda: server.changed, "notifications/tools/list_changed")
    assert "zia_create_user" in await names(client)


class HttpServe:
    def __init__(self, tmp_path: Path, config: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.errlog = tmp_path / "http-stderr.txt"
        with self.errlog.open("w") as errfile:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oneapi_mcp.cli", "serve", "--transport", "http", "--port", str(self.port),
                 "--config", str(config), *args], env={**ENV, **(env or {})}, stdout=subprocess.DEVNULL,
                stderr=errfile)
        wait_for_port(self.port, self.process, what="oneapi-mcp serve --transport http")

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def stderr(self) -> str:
        return self.errlog.read_text()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def test_over_http_a_legacy_session_is_notified_and_the_next_call_uses_the_new_timeout(tmp_path):
    from oneapi_mcp.mock import MockServer, create_mock_app
    from oneapi_mcp.mock._faults import FaultConfig

    slow = create_mock_app(seed=0, rate_limits=False, faults=FaultConfig(latency=1.0, latency_seconds=0.6),
                           failures=())
    config = tmp_path / "servers.toml"
    table = '[servers.ops]\ntools_mode = "toolsets"\ntoolsets = ["zia.users"]\nmax_retries = 0\n'
    config.write_text(table + 'timeout = 5\nprofile = "read-only"\n')
    changed = []

    async def on_message(message):
        if type(getattr(message, "root", message)).__name__ == "ToolListChangedNotification":
            changed.append(message)

    with MockServer(slow) as mock:
        server = HttpServe(tmp_path, config, "--base-url", mock.url, "--token-url", mock.token_url,
                           env={"ZSCALER_CLIENT_ID": "mock-client-id", "ZSCALER_CLIENT_SECRET": "mock-client-secret"})
        try:
            async with Client(server.url(), cache=None, mode="legacy", message_handler=on_message) as client:
                assert "zia_create_user" not in await names(client)
                slow_but_in_time = await client.call_tool("zia_list_users", {"max_items": 2})
                assert not slow_but_in_time.is_error, slow_but_in_time.content[0].text
                write(config, table + 'timeout = 0.2\nprofile = "read-write"\n')
                await until(lambda: changed, "notifications/tools/list_changed over the session's stream")
                assert "zia_create_user" in await names(client)
                too_slow = await client.call_tool("zia_list_users", {"max_items": 2})
                assert too_slow.is_error and too_slow.structured_content["error"]["kind"] == "timeout"
            server.process.send_signal(signal.SIGHUP)  # reloads; never the default action (exit)
            await until(lambda: "(SIGHUP)" in server.stderr(), "the SIGHUP reload")
            assert server.process.poll() is None  # the same process throughout
            assert "server 'ops': timeout, profile" in server.stderr()
        finally:
            server.close()


async def test_rate_limit_windows_survive_a_reload_and_the_limiter_uses_the_new_timeout(tmp_path):
    config = tmp_path / "servers.toml"
    table = "[servers.ops]\nclient_rate_limits = true\n"
    config.write_text(table + "timeout = 0.5\n")
    server = Stdio(tmp_path, config, "--no-watch")
    zpa = {"name": "zpa_list_all_applications", "arguments": {}}
    with server.errlog.open("w") as errfile:
        async with server.client(errfile) as client:
            for _ in range(20):  # ZPA allows 20 GET per 10 s
                ok = await client.call_tool("invoke_operation", zpa)
                assert not ok.is_error, ok.content[0].text
            limited = await client.call_tool("invoke_operation", zpa)
            assert limited.structured_content["error"]["kind"] == "rate_limited"
            assert "0.5 s timeout" in limited.content[0].text
            config.write_text(table + "timeout = 0.75\n")
            [pid] = serving_pids(config)
            os.kill(pid, signal.SIGHUP)
            await until(lambda: "config reloaded" in server.stderr(), "the reload")
            still = await client.call_tool("invoke_operation", zpa)  # the 20 calls still count
            assert still.structured_content["error"]["kind"] == "rate_limited"
            assert "0.75 s timeout" in still.content[0].text


# -- in process: the details -------------------------------------------------------------------
def _servers(path: Path, **runtime) -> dict:
    return {name: build_server(make_runtime(s, Credentials(), **runtime)) for name, s in load_servers(path).items()}


async def test_a_call_in_flight_keeps_the_timeout_it_started_with_and_the_next_call_gets_the_new_one(
        tmp_path, monkeypatch):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.ops]\ntimeout = 5\nmax_retries = 0\nclient_rate_limits = false\n'
                      'base_url = "https://api.example.invalid"\ntoken_url = "https://login.example.invalid/t"\n')
    release, timeouts = anyio.Event(), []

    async def upstream(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/t":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        timeouts.append(request.extensions["timeout"]["read"])
        if len(timeouts) == 1:
            await release.wait()
        return httpx.Response(200, json=[])

    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-client-id")
    monkeypatch.setenv("ZSCALER_CLIENT_SECRET", "fake-client-secret")
    [(name, settings)] = load_servers(config).items()
    built = {name: build_server(make_runtime(settings, Credentials(), transport=httpx.MockTransport(upstream)))}
    runtime = built["ops"].surface.runtime
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    async with reloader.running(built), anyio.create_task_group() as tg:
        results = []

        async def call():
            results.append(await runtime.call_tool("zia_list_departments", {}))

        tg.start_soon(call)
        await until(lambda: timeouts, "the first request upstream")
        config.write_text(config.read_text().replace("timeout = 5", "timeout = 9"))
        assert await reloader.reload("test")
        second = await runtime.call_tool("zia_list_departments", {})
        release.set()
    assert timeouts == [5, 9]
    assert not second.is_error and not results[0].is_error
    await runtime.shutdown()


async def test_a_reload_a_plugin_refuses_switches_no_server(tmp_path, plugin_manager, caplog):
    from oneapi_mcp.plugins.hookspecs import hookimpl

    class Refuses:
        @hookimpl
        def oneapi_mcp_register_tools(self, settings):
            if settings.description == "boom":
                raise ValueError("this plugin cannot serve a server described as boom")
            return []

    plugin_manager.register(Refuses(), name="refuses")
    config = tmp_path / "servers.toml"
    config.write_text('[servers.a]\nprofile = "read-only"\n[servers.b]\nprofile = "read-only"\n')
    built = _servers(config, mock_app=object())
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text('[servers.a]\nprofile = "admin"\n[servers.b]\nprofile = "admin"\ndescription = "boom"\n')
    with caplog.at_level(logging.INFO, logger="oneapi_mcp.reload"):
        assert not await reloader.reload("test")
    assert "servers.b" in caplog.text and "described as boom" in caplog.text
    assert [s.surface.runtime.settings.profile for s in built.values()] == ["read-only", "read-only"]


async def test_what_needs_a_restart_is_said_kept_and_the_rest_applied(tmp_path, caplog):
    config = tmp_path / "servers.toml"
    config.write_text('[http]\nallowed_hosts = ["a.corp:*"]\n[servers.ops]\nvanity_domain = "acme"\n'
                      'base_url = "https://api.one.invalid"\n')
    built = _servers(config, mock_app=object())
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text('[http]\nallowed_hosts = ["b.corp:*"]\n[servers.ops]\nvanity_domain = "other"\n'
                      'base_url = "https://api.two.invalid"\ndescription = "Renamed"\nlog_level = "DEBUG"\n'
                      '[servers.extra]\n')
    with caplog.at_level(logging.INFO, logger="oneapi_mcp.reload"):
        assert await reloader.reload("test")
    settings = built["ops"].surface.runtime.settings
    assert (settings.description, settings.base_url) == ("Renamed", "https://api.one.invalid")
    assert built["ops"].description == "Renamed"  # what initialize says from now on
    assert logging.getLogger("oneapi_mcp").level == logging.DEBUG
    for needs_restart in ("extra added", "[http] changed", "credentials (vanity_domain)", "base_url changed"):
        assert needs_restart in caplog.text
    assert "acme" not in caplog.text and "other" not in caplog.text  # names of keys, never values
    logging.getLogger("oneapi_mcp").setLevel(logging.NOTSET)


async def test_the_audit_log_records_an_applied_and_a_rejected_reload_without_echoing_values(tmp_path):
    audit = tmp_path / "audit.jsonl"
    config = tmp_path / "servers.toml"
    base = f'[servers.ops]\naudit_log = "{audit}"\n'
    config.write_text(base)
    built = _servers(config, mock_app=object())
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text(base + 'profile = "read-write"\n')
    assert await reloader.reload("SIGHUP")
    config.write_text(base + 'client_secrett = "sup3r-s3cret-value"\n')  # misspelt: an unknown setting
    assert not await reloader.reload("the file changed")
    applied, rejected = (json.loads(line) for line in audit.read_text().splitlines())
    assert applied["event"] == "config_reload" and applied["outcome"] == "applied"
    assert applied["changed"] == ["profile"] and applied["trigger"] == "SIGHUP"
    assert rejected["outcome"] == "rejected" and "client_secrett" in rejected["reason"]
    assert "sup3r" not in audit.read_text()


def test_a_bad_log_level_is_refused_at_start_too(tmp_path):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.ops]\nlog_level = "chatty"\n')
    with pytest.raises(ConfigError, match="log_level must be one of DEBUG, INFO"):
        load_servers(config)
    assert ServerSettings(log_level="debug").log_level == "DEBUG"

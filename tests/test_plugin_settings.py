"""Plugins own their settings: `[servers.<name>.plugins.<table>]` validated by the model a plugin
declares (`oneapi_mcp_plugin_settings`) at load and at every reload; the old keys of the built-in
anomaly and SIEM plugins still work, with a deprecation warning; server events (a reload) reach the
plugins through `oneapi_mcp_server_event`, not through an import of the audit plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from oneapi_mcp._reload import Reloader
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ConfigError, Credentials, ServerSettings, load_servers
from oneapi_mcp.cli import make_runtime
from oneapi_mcp.plugin_api import hookimpl

pytestmark = pytest.mark.anyio


class TicketSettings(BaseModel):
    queue: str = "SOC"
    priority: int = Field(3, ge=1, le=5)


class Tickets:
    def __init__(self):
        self.events: list[dict] = []

    @hookimpl
    def oneapi_mcp_plugin_settings(self):
        return {"tickets": TicketSettings}

    @hookimpl
    def oneapi_mcp_server_event(self, settings, event):
        self.events.append({"server": settings.name, **event})


@pytest.fixture
def tickets(plugin_manager):
    plugin = Tickets()
    plugin_manager.register(plugin, name="tickets")
    yield plugin
    plugin_manager.unregister(name="tickets")


def _servers(path: Path) -> dict:
    return {name: build_server(make_runtime(s, Credentials(), mock_app=object()))
            for name, s in load_servers(path).items()}


def test_hook_oneapi_mcp_plugin_settings_validates_a_plugins_table_at_load(tmp_path, tickets):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.prod.plugins.tickets]\nqueue = "NOC"\n[servers.lab]\n')
    servers = load_servers(config)
    assert servers["prod"].plugin_settings("tickets") == TicketSettings(queue="NOC")
    assert servers["lab"].plugin_settings("tickets") == TicketSettings()  # no table: the model's defaults
    config.write_text('[servers.prod.plugins.tickets]\npriority = 9\n')
    with pytest.raises(ConfigError, match=r"servers\.prod: \[servers\.prod\.plugins\.tickets\]\.priority: Input "
                                         r"should be less"):
        load_servers(config)
    config.write_text('[servers.prod.plugins.tickts]\nqueue = "NOC"\n')  # a misspelt table
    with pytest.raises(ConfigError, match=r"\[servers\.prod\.plugins\.tickts\]: no loaded plugin owns this "
                                         r"table .*tickets"):
        load_servers(config)


async def test_a_reload_with_a_bad_plugin_table_is_refused_and_the_old_settings_stay(tmp_path, tickets):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.prod.plugins.tickets]\npriority = 2\n')
    built = _servers(config)
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text('[servers.prod]\ndescription = "renamed"\n[servers.prod.plugins.tickets]\npriority = 0\n')
    assert not await reloader.reload("test")
    settings = built["prod"].surface.runtime.settings
    assert settings.description != "renamed" and settings.plugin_settings("tickets").priority == 2


async def test_hook_oneapi_mcp_server_event_hands_each_reload_to_the_plugins(tmp_path, tickets):
    audit = tmp_path / "audit.jsonl"
    config = tmp_path / "servers.toml"
    config.write_text(f'[servers.ops]\naudit_log = "{audit}"\n')
    built = _servers(config)
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text(f'[servers.ops]\naudit_log = "{audit}"\nprofile = "read-write"\n')
    assert await reloader.reload("SIGHUP")
    (event,) = tickets.events
    assert (event["server"], event["event"], event["outcome"], event["changed"]) == (
        "ops", "config_reload", "applied", ["profile"])
    assert json.loads(audit.read_text())["event"] == "config_reload"  # the audit plugin, through the same hook


def test_the_old_anomaly_and_siem_keys_still_work_with_a_deprecation_warning(tmp_path, monkeypatch):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.soc]\nanomaly_window = 120\nanomaly_business_days = "mon,tue"\n')
    with pytest.warns(DeprecationWarning, match=r"anomaly_window is deprecated: set window in "
                                                 r"\[servers.soc.plugins.anomaly\]"):
        settings = load_servers(config)["soc"]
    own = settings.plugin_settings("anomaly")
    assert (own.window, own.business_days, own.spike_ratio) == (120.0, ("mon", "tue"), 5.0)
    monkeypatch.setenv("ONEAPI_MCP_SIEM_RETRY_MAX", "60")
    with pytest.warns(DeprecationWarning, match="ONEAPI_MCP_SIEM_RETRY_MAX is deprecated"):
        assert ServerSettings().plugin_settings("siem").retry_max == 60.0
    monkeypatch.delenv("ONEAPI_MCP_SIEM_RETRY_MAX")
    config.write_text('[servers.soc.plugins.anomaly]\nwindow = 30\n')
    with pytest.raises(ConfigError, match=r"\[servers\.soc\.plugins\.anomaly\]\.window \(formerly anomaly_window\): "
                                          r"Input should be greater than or equal to 60"):
        load_servers(config)


def test_a_key_no_plugin_owns_is_still_an_unknown_setting():
    with pytest.raises(ValueError, match="anomoly_window"):
        ServerSettings(anomoly_window=120)


# -- the single-plugin settings that left ServerSettings ------------------------------------------
# (table, field, the old server-table key, a good value in TOML, a bad value in TOML, its validated good value)
MOVED = [
    ("scheduler", "runner", "schedule_runner", "false", '"sometimes"', False),
    ("scheduler", "poll", "schedule_poll", "5", "0", 5.0),
    ("scheduler", "lateness", "schedule_lateness", "60", "-1", 60.0),
    ("scheduler", "claim_timeout", "schedule_claim_timeout", "30", "0", 30.0),
    ("credentials", "keyring_service", "keyring_service", '"vault-a"', "7", "vault-a"),
    ("scopes", "confirm_ttl", "confirm_ttl", "20", "7200", 20.0),
    ("lifecycle", "templates_file", "templates_file", '"t.toml"', "[1]", Path("t.toml")),
    ("policy_automation", "threat_levels_file", "threat_levels_file", '"l.toml"', "[1]", Path("l.toml")),
    ("audit", "max_bytes", "audit_max_bytes", "5000", "10", 5000),
    ("audit", "backups", "audit_backups", "2", "101", 2),
]
IDS = [f"{table}.{field}" for table, field, *_ in MOVED]


def test_no_single_plugin_field_is_left_in_server_settings():
    assert {old for _table, _field, old, *_ in MOVED} & set(ServerSettings.model_fields) == set()


@pytest.mark.parametrize(("table", "field", "old", "good", "bad", "value"), MOVED, ids=IDS)
def test_a_moved_setting_is_read_from_its_plugins_table_and_a_bad_value_names_that_table(
        tmp_path, table, field, old, good, bad, value):
    config = tmp_path / "servers.toml"
    config.write_text(f"[servers.prod.plugins.{table}]\n{field} = {good}\n")
    assert getattr(load_servers(config)["prod"].plugin_settings(table), field) == value
    config.write_text(f"[servers.prod.plugins.{table}]\n{field} = {bad}\n")
    with pytest.raises(ConfigError, match=rf"servers\.prod: \[servers\.prod\.plugins\.{table}\]\.{field} "
                                          rf"\(formerly {old}\): "):
        load_servers(config)


@pytest.mark.parametrize(("table", "field", "old", "good", "bad", "value"), MOVED, ids=IDS)
def test_a_moved_settings_old_key_and_variable_still_work_and_warn_naming_the_new_place(
        tmp_path, monkeypatch, table, field, old, good, bad, value):
    config = tmp_path / "servers.toml"
    config.write_text(f"[servers.prod]\n{old} = {good}\n")
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated: set {field} in "
                                                rf"\[servers\.prod\.plugins\.{table}\]$"):
        assert getattr(load_servers(config)["prod"].plugin_settings(table), field) == value
    monkeypatch.setenv(f"ONEAPI_MCP_{old.upper()}", good.strip('"'))
    new_variable = f"ONEAPI_MCP_PLUGINS__{table.upper()}__{field.upper()}"
    with pytest.warns(DeprecationWarning, match=rf"ONEAPI_MCP_{old.upper()} is deprecated: .*\(or {new_variable}\)"):
        assert getattr(ServerSettings().plugin_settings(table), field) == value
    monkeypatch.delenv(f"ONEAPI_MCP_{old.upper()}")
    monkeypatch.setenv(new_variable, good.strip('"'))
    assert getattr(ServerSettings().plugin_settings(table), field) == value  # the new variable: no warning


def test_a_table_value_wins_over_the_old_key_it_replaces(tmp_path):
    config = tmp_path / "servers.toml"
    config.write_text("[servers.prod]\nconfirm_ttl = 20\n[servers.prod.plugins.scopes]\nconfirm_ttl = 40\n")
    with pytest.warns(DeprecationWarning):
        assert load_servers(config)["prod"].plugin_settings("scopes").confirm_ttl == 40.0


async def test_a_reload_applies_a_plugins_live_fields_at_once_and_holds_the_rest_until_a_restart(tmp_path, caplog):
    config = tmp_path / "servers.toml"
    config.write_text("[servers.ops.plugins.scopes]\nconfirm_ttl = 20\n[servers.ops.plugins.scheduler]\npoll = 5\n")
    built = _servers(config)
    reloader = Reloader(config, lambda: load_servers(config), watch=False)
    reloader.built = built
    config.write_text("[servers.ops.plugins.scopes]\nconfirm_ttl = 40\n[servers.ops.plugins.scheduler]\npoll = 9\n")
    with caplog.at_level("WARNING", logger="oneapi_mcp.reload"):
        assert await reloader.reload("test")
    settings = built["ops"].surface.runtime.settings
    assert settings.plugin_settings("scopes").confirm_ttl == 40.0  # read per call: applied
    assert settings.plugin_settings("scheduler").poll == 5.0  # read at start: held
    assert "plugins.scheduler.poll changed, which is read at start" in caplog.text
    config.write_text("[servers.ops.plugins.scopes]\nconfirm_ttl = 0\n")
    assert not await reloader.reload("test")  # refused, naming the table
    assert "[servers.ops.plugins.scopes].confirm_ttl (formerly confirm_ttl)" in caplog.text
    assert built["ops"].surface.runtime.settings.plugin_settings("scopes").confirm_ttl == 40.0


# -- settings models named by import path: defined when a table is first validated (issue 16) ---------------
class _TicketsByPath:
    def __init__(self, path: str):
        self.path = path

    @hookimpl
    def oneapi_mcp_plugin_settings(self):
        return {"tickets": self.path}


def test_a_settings_model_named_by_import_path_validates_at_load_as_the_class_does(tmp_path, plugin_manager):
    plugin_manager.register(_TicketsByPath(f"{__name__}:TicketSettings"), name="tickets_by_path")
    config = tmp_path / "servers.toml"
    config.write_text('[servers.prod.plugins.tickets]\nqueue = "NOC"\n')
    assert load_servers(config)["prod"].plugin_settings("tickets") == TicketSettings(queue="NOC")
    assert ServerSettings().plugin_settings("tickets") == TicketSettings()
    config.write_text('[servers.prod.plugins.tickets]\npriority = 9\n')
    with pytest.raises(ConfigError, match=r"\[servers\.prod\.plugins\.tickets\]\.priority: Input should be less"):
        load_servers(config)


@pytest.mark.parametrize(("path", "problem"), [
    (f"{__name__}:NoSuchSettings", "cannot be imported: AttributeError"),
    ("acme_missing_package.settings:Tickets", "cannot be imported: ModuleNotFoundError"),
    (f"{__name__}:Tickets", "is not a pydantic model"),
])
def test_a_settings_path_that_names_no_model_fails_when_its_table_is_validated_naming_table_and_path(
        plugin_manager, path, problem, monkeypatch):
    from oneapi_mcp._plugins import PluginError

    plugin_manager.register(_TicketsByPath(path), name="tickets_by_path")
    # an ONEAPI_MCP_ variable that is no setting makes the load look for old-style keys in every model (CI's
    # ONEAPI_MCP_TEST_REDIS_URL did): a model that cannot be imported is then skipped, not an error
    monkeypatch.setenv("ONEAPI_MCP_SOMETHING_ELSE", "1")
    ServerSettings()  # no tickets table given: nothing to fail
    with pytest.raises(PluginError, match=rf"^the settings model of plugins\.tickets, '{path}', {problem}"):
        ServerSettings(plugins={"tickets": {"queue": "NOC"}})


def test_listing_defines_no_plugin_settings_model_and_a_table_imports_only_its_own(tmp_path):
    import os
    import subprocess
    import sys

    code = """
import pathlib
import sys
from oneapi_mcp._runtime import Runtime
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ServerSettings, load_servers
def ours():
    return sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("oneapi_mcp.plugins.")
                  and m.endswith("_settings")) or "-"
build_server(Runtime(settings=ServerSettings(), executor_factory=lambda c: None)).surface.listing()
surface = build_server(Runtime(settings=ServerSettings(profile="admin", tools_mode="full"),
                               executor_factory=lambda c: None, customer_id_known=True)).surface
listed = [surface.mcp_tool(n) for n in surface.listed_names(None)]
from oneapi_mcp._plugin_settings import declared
models = declared()
print(len(listed), len(models), sum(not isinstance(m, str) for m in models.values()), ours())
print(ServerSettings(plugins={"scopes": {"confirm_ttl": 20}}).plugin_settings("scopes").confirm_ttl, ours())
try:
    load_servers(pathlib.Path(sys.argv[1]))
except Exception as exc:
    print(type(exc).__name__, exc, ours())
"""
    config = tmp_path / "servers.toml"
    config.write_text("[servers.prod.plugins.scheduler]\npoll = 0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEAPI_MCP_")}
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True,
                         env=env).stdout.splitlines()
    listed, tables, classes, modules = out[0].split(" ", 3)
    assert int(listed) > 1000 and int(tables) >= 8
    assert (classes, modules) == ("0", "-")  # every built-in names its model by path; none defined to list
    assert out[1] == "20.0 ['scopes_settings']"  # a table given: its model only
    assert out[2] == (f"ConfigError {config}: servers.prod: [servers.prod.plugins.scheduler].poll (formerly "
                      "schedule_poll): Input should be greater than 0 ['scheduler_settings', 'scopes_settings']")

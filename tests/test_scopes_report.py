"""`oneapi-mcp scopes`: per service, read-only or read-write, and the resource families involved."""

from __future__ import annotations

import subprocess
import sys

from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._scopes_report import render_report, scopes_report
from oneapi_mcp._settings import ServerSettings


def _needs(report):
    return {need.label: need for need in report.services}


def test_a_read_only_server_needs_read_only_access_to_every_service(catalog):
    report = scopes_report(ServerSettings(name="ro"), catalog=catalog)
    needs = _needs(report)
    assert set(needs) == {row.short for row in SERVICE_TABLE.values()} >= {"ZIA", "ZPA", "ZDX", "ZCC", "ZIdentity",
                                                                        "ZTW", "EASM", "ZCell", "ZTB", "ZWA",
                                                                        "ZINS", "ZMS"}
    assert {need.access for need in needs.values()} == {"read-only"}
    assert all(not writes for need in needs.values() for _ts, _n, writes in need.toolsets)
    assert report.allowed == sum(need.tools for need in needs.values())
    assert report.allowed == sum(1 for tool in catalog.tools.values() if tool.scope == "read")


def test_a_read_write_server_needs_read_write_access_to_zia(catalog):
    needs = _needs(scopes_report(ServerSettings(name="rw", profile="read-write"), catalog=catalog))
    assert needs["ZIA"].access == "read-write"
    assert any(writes for _ts, _n, writes in needs["ZIA"].toolsets)


def test_deny_tools_hiding_a_whole_toolset_removes_it_and_an_unused_service_is_not_needed(catalog):
    settings = ServerSettings(name="narrow", deny_tools=("zia.users", "zcc.*"))
    needs = _needs(scopes_report(settings, catalog=catalog))
    assert "zia.users" not in {ts for ts, _n, _w in needs["ZIA"].toolsets}
    assert needs["ZIA"].access == "read-only"
    assert (needs["ZCC"].access, needs["ZCC"].tools, needs["ZCC"].toolsets) == ("not needed", 0, ())
    assert "ZCC        not needed" in render_report(scopes_report(settings, catalog=catalog))


def test_the_cli_prints_the_checklist_of_each_named_server(tmp_path):
    config = tmp_path / "servers.toml"
    config.write_text('[servers.ops]\nprofile = "read-write"\nallow_tools = ["zia.*"]\n\n'
                      '[servers.viewer]\nprofile = "read-only"\n')
    run = subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "scopes", "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    ops, viewer = run.stdout.split("server viewer:")
    assert ops.startswith("server ops: profile read-write")
    assert "ZIA        read-write" in ops and "ZPA        not needed" in ops
    assert "zia.users: " in ops and "zpa." not in ops
    assert "ZPA        read-only" in viewer and "read-write" not in viewer

    one = subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "scopes", "--config", str(config),
                          "--server", "viewer", "--profile", "read-write"], capture_output=True, text=True,
                         timeout=120)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("server viewer: profile read-write") and "server ops" not in one.stdout
    assert "ZIA        read-write" in one.stdout

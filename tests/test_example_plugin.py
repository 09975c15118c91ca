"""The example in-house plugin installs with pip and works from its entry point: its composite tool
and its filter are seen through a real MCP client. Installed from a copy (so the checkout gets no
build files), without network (`--no-build-isolation`), and uninstalled afterwards."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client

from oneapi_mcp._executor import Executor
from oneapi_mcp._plugins import create_plugin_manager, plugin_info
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "oneapi-mcp-example-plugin"


@pytest.fixture
def installed_example(tmp_path):
    source = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "oneapi_mcp_example_plugin", source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    done = subprocess.run([*pip, "install", "--no-build-isolation", "--no-deps", str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    importlib.invalidate_caches()
    try:
        yield
    finally:
        subprocess.run([*pip, "uninstall", "-y", PACKAGE], capture_output=True, timeout=300)
        importlib.invalidate_caches()


def _users(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("page", "1"))
    people = [{"id": i, "name": f"u{i}", "department": {"id": i % 3, "name": ["Sales", "R&D", "Ops"][i % 3]}}
              for i in range(7)]
    return httpx.Response(200, json=people if page == 1 else [])


@pytest.mark.anyio
async def test_the_example_plugin_adds_a_composite_tool_and_a_filter_from_its_entry_point(installed_example):
    pm = create_plugin_manager(entrypoints=True)
    info = {p["name"]: p for p in plugin_info(pm)}
    assert info["example"]["version"] == "0.1.0"
    assert info["example"]["hooks"] == ["oneapi_mcp_filter_tools", "oneapi_mcp_register_tools"]

    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(_users)),
                        base_url="https://api.zsapi.net")

    settings = ServerSettings(tools_mode="full", list_page_size=1000)
    server = build_server(Runtime(settings=settings, executor_factory=factory, pm=pm))
    async with Client(server, cache=None) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        headcount = await client.call_tool("example_department_headcount", {"top": 2})
        hidden = await client.call_tool("zcc_download_enrolled_devices", {})
    assert "example_department_headcount" in names
    assert not any(n.startswith("zcc_download") for n in names) and "zcc_get_company_info" in names
    assert headcount.structured_content["result"]["departments"] == [
        {"department": "Sales", "users": 3}, {"department": "R&D", "users": 2}]
    assert hidden.is_error and "3 calls a day" in hidden.structured_content["error"]["message"]

    def failing(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(
            403, json={"code": "NOT_AUTHORIZED", "message": "no role"}))), base_url="https://api.zsapi.net")

    refused = build_server(Runtime(settings=ServerSettings(), executor_factory=failing, pm=pm))
    async with Client(refused, cache=None) as client:
        failed = await client.call_tool("example_department_headcount", {})
    error = failed.structured_content["error"]  # the upstream failure stays a failure (issue 16)
    assert failed.is_error and error["status"] == 403 and error["message"].startswith("could not list ZIA users")

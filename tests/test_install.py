"""The built wheel installed the way pipx/uvx do it (a fresh, isolated virtualenv), used from a directory
that is not the repository: `oneapi-mcp --version`, `tools`, and MCP calls over stdio against the mock.
The base install leaves out the charts extra (matplotlib), so reports say how to get their pictures.

The wheel is built once per session and the dependency wheels once per dependency set (tests/_install.py);
the first run on a machine fetches them from PyPI, later runs need no network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _install import CLEAN_ENV, install, tree_megabytes
from mcp import Client, StdioServerParameters
from mcp.types import ImageContent, TextContent

from oneapi_mcp import __version__

BASE_INSTALL_LIMIT_MB = 110  # the target; it was 272 MB with matplotlib, numpy, pillow, fonttools


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    return install(tmp_path_factory.mktemp("fresh") / "venv")


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # nothing of the checkout is importable from here
    return tmp_path


def test_the_base_install_is_under_110_mb_and_leaves_out_the_charts_extra(installed):
    venv = installed.parent.parent
    (site,) = venv.glob("lib/python3*/site-packages")
    assert not list(site.glob("matplotlib*")) and not list(site.glob("numpy*")) and not list(site.glob("PIL"))
    assert tree_megabytes(venv) < BASE_INSTALL_LIMIT_MB


def test_the_installed_command_works_from_another_directory(installed, elsewhere):
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True, timeout=30,
                             env=CLEAN_ENV, cwd=elsewhere)
    assert version.stdout.strip() == f"oneapi-mcp {__version__}"
    tools = subprocess.run([str(installed), "tools", "--mock", "--names"], capture_output=True, text=True,
                           timeout=60, env=CLEAN_ENV, cwd=elsewhere)
    assert tools.returncode == 0, tools.stderr
    assert "search_operations" in tools.stdout and "invoke_operation" in tools.stdout
    assert not (elsewhere / "oneapi_mcp").exists()


@pytest.mark.anyio
async def test_a_mock_call_over_stdio_and_a_report_without_charts_that_says_how_to_get_them(installed, elsewhere):
    params = StdioServerParameters(command=str(installed), args=["serve", "--mock"], env=CLEAN_ENV, cwd=str(elsewhere))
    async with Client(params) as client:
        users = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {"max_items": 5}})
        assert not users.is_error, users.content[0].text
        assert users.structured_content["result"]["count"] == 5
        report = await client.call_tool("analytics_build_executive_dashboard", {"as_of": "2026-01-01T00:00Z"})
        assert not report.is_error, report.content[0].text
    assert not [p for p in report.content if isinstance(p, ImageContent)]
    notes = [p.text for p in report.content if isinstance(p, TextContent) and "Chart not drawn" in p.text]
    assert len(notes) == 2 and all("pip install 'oneapi-mcp[charts]'" in n for n in notes)


def test_without_matplotlib_a_chart_is_a_note_naming_the_extra(monkeypatch):
    from oneapi_mcp.composite import _report

    monkeypatch.setattr(_report, "charts_available", lambda: False)
    chart = _report.bar_chart("Violations by department", "department", "violations", ["a", "b"], [1, 2])
    assert chart.png is None
    content = chart.content()
    assert content.type == "text" and "Violations by department" in content.text
    assert _report.CHARTS_HINT in content.text

"""In-process harness for the report tools (compliance, analytics): the SDK's MCP client on the server
built in process, HTTP through the ASGI mock; and the mock glob of a generated read, so a test can
make exactly that read fail with `mock.fail`."""

from __future__ import annotations

import re
from typing import Any

import httpx
from mcp import Client

from oneapi_mcp import load_catalog
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings

_CATALOG = load_catalog()


def read_glob(operation: str) -> tuple[str, str]:
    """(method, path glob) of a generated operation: its path parameters become `*`."""
    tool = _CATALOG.tools[operation]
    return tool.method, re.sub(r"\{[^}]+\}", "*", tool.path)


def client(mock, profile: str = "read-only") -> Client:
    def factory(catalog):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                 headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, http, base_url="http://mock", customer_id="216196257331281920")

    return Client(build_server(Runtime(settings=ServerSettings(profile=profile), executor_factory=factory,
                                       customer_id_known=True)), cache=None)


async def report(mock, tool: str, arguments: dict[str, Any], profile: str = "read-only") -> dict[str, Any]:
    """The structured content of one report; the call must not be an error result."""
    async with client(mock, profile) as mcp:
        result = await mcp.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def services_asked(mock) -> set[str]:
    """The services the mock was asked anything of."""
    return {j["service"] for j in mock.journal}

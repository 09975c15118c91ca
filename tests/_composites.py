"""End-to-end harness for composite tools: the mock OneAPI on a real socket (in this process, so
tests can read its state and script failures) and `oneapi-mcp serve` as a subprocess, driven by
the `mcp` SDK's client over stdio.

    with MockServer() as upstream:
        async with serve(upstream, profile="admin") as client:
            planned = await call(client, "threat_isolate_account", {"user": "..."})
            ...
        assert upstream.mock.state ...
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockServer, build_seed

__all__ = ["CUSTOMER_ID", "MockServer", "call", "call_error", "people", "serve", "step_statuses", "store_document",
           "store_items", "writes"]

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER_ID = "216196257331281920"  # the mock's ZPA tenant
_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}


def serve(upstream: MockServer, *args: str, profile: str = "admin", **env: str) -> Client:
    """An MCP client session with `oneapi-mcp serve` (stdio) pointed at the mock on its socket."""
    environment = {**_ENV, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
                   "ZPA_CUSTOMER_ID": CUSTOMER_ID, "ONEAPI_MCP_CLIENT_RATE_LIMITS": "false", **env}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oneapi_mcp.cli", "serve", "--base-url", upstream.url, "--token-url", upstream.token_url,
              "--profile", profile, *args],
        env=environment)
    return Client(params, cache=None)


async def call(client: Client, tool: str, arguments: dict[str, Any], progress: list | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; its structured content."""
    async def on_progress(done, total, message):
        if progress is not None:
            progress.append((done, total, message))

    result = await client.call_tool(tool, arguments, progress_callback=on_progress if progress is not None else None)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def call_error(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must fail; its structured content (with `error`)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.content[0].text
    return result.structured_content


def writes(upstream: MockServer, since: int = 0) -> list[str]:
    """The requests other than GET the mock served (from journal entry `since`), as "METHOD path". A GraphQL
    POST reads: every Z-Insights and ZMS operation is a query (specs/SOURCES.md; tests/test_graphql.py)."""
    return [f"{j['method']} {j['path']}" for j in upstream.mock.journal[since:]
            if j["method"] != "GET" and not j["path"].endswith("/graphql")]


def step_statuses(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["operation"], s["status"]) for s in report["steps"]]


def store_items(upstream: MockServer, service: str, template: str, *values: str) -> list[dict[str, Any]]:
    """The objects of one mock collection, e.g. ("zid", "/ziam/admin/api/v1/users")."""
    store = upstream.mock.state
    key = (service, template, tuple(values))
    key = store.seed.aliases.get(key, key)
    coll = store.collections.get(key)
    if coll is not None:
        return [dict(obj) for obj in coll.items.values()]
    if key in store.seed.collections:  # never touched: as seeded
        return [dict(obj) for obj in store.seed.collections[key]]
    raise KeyError(f"the mock has no collection {key}")


def store_document(upstream: MockServer, service: str, template: str, *values: str) -> Any:
    """A mock document (e.g. ZIA's /security/advanced), as stored or seeded; None if never set."""
    return upstream.mock.state.document((service, template, tuple(values)))


def people(seed: int = 0):
    """The seeded people (the same in ZIdentity, ZIA, ZCC and ZDX)."""
    return build_seed(seed).people


def dump(data: Any) -> str:
    return json.dumps(data, indent=1, default=str)[:4000]

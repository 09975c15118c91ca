"""Harness for composite tools: the mock OneAPI on a real socket (in this process, so tests can
read its state and script failures) and the server `oneapi-mcp serve` builds, driven by the `mcp`
SDK's client.

`serve` builds that server in this process (the same settings from the same environment, the same
runtime and start-up/shutdown hooks as `cmd_serve`; the plugins are the test's fresh plugin manager's,
the built-ins, as in a subprocess where no entry-point plugin is installed) and connects the SDK's client to it in
memory, so every call goes through the server's tools/call handler exactly as over stdio, without
starting a Python process per test. `serve_stdio` is the real thing (`oneapi-mcp serve` as a
subprocess over stdio) for the few tests whose point is that path; ONEAPI_MCP_TEST_STDIO=1 runs
every `serve` session that way (slow: to check that the two paths still agree).

    with MockServer() as upstream:
        async with serve(upstream, profile="admin") as client:
            planned = await call(client, "threat_isolate_account", {"user": "..."})
            ...
        assert upstream.mock.state ...
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockServer, build_seed

__all__ = ["CUSTOMER_ID", "MockServer", "call", "call_error", "people", "serve", "serve_stdio", "step_statuses",
           "store_document", "store_items", "writes"]

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER_ID = "216196257331281920"  # the mock's ZPA tenant


def _server_environment(upstream: MockServer, env: dict[str, str]) -> dict[str, str]:
    """What `oneapi-mcp serve` sees: this process's environment without any ZSCALER_/ZPA_/ONEAPI_MCP_
    variable of the developer's, plus the mock's (fake) credentials and the test's own variables."""
    own = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ZMS_", "ONEAPI_MCP_"))}
    return {**own, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
            "ZPA_CUSTOMER_ID": CUSTOMER_ID, "ZMS_CUSTOMER_ID": CUSTOMER_ID, "ONEAPI_MCP_CLIENT_RATE_LIMITS": "false",
            **env}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ replaced by `values` while the server runs (settings, credentials and plugins read
    it when asked, as they would in the server's own process); restored afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.asynccontextmanager
async def serve(upstream: MockServer, *args: str, profile: str = "admin", **env: str) -> AsyncIterator[Client]:
    """An MCP client session with the server `oneapi-mcp serve --base-url <mock> --token-url <mock>
    --profile <profile>` builds, in this process, connected in memory (see the module docstring)."""
    # extra command-line arguments: the real command line parses them (ONEAPI_MCP_* variables stay in process)
    if args or os.environ.get("ONEAPI_MCP_TEST_STDIO", "").strip() not in ("", "0", "false"):
        async with serve_stdio(upstream, *args, profile=profile, **env) as client:
            yield client
        return
    from oneapi_mcp._server import build_server
    from oneapi_mcp._settings import Credentials, load_servers
    from oneapi_mcp.cli import make_runtime, serving

    with _environment(_server_environment(upstream, env)):
        # cmd_serve's own steps: settings (environment + command line), credentials, runtime, server
        servers = load_servers(None, profile=profile, base_url=upstream.url, token_url=upstream.token_url)
        creds = Credentials()
        built = {name: build_server(make_runtime(s, creds)) for name, s in servers.items()}
        async with serving(built), Client(next(iter(built.values())), cache=None) as client:
            yield client


def serve_stdio(upstream: MockServer, *args: str, profile: str = "admin", **env: str) -> Client:
    """An MCP client session with `oneapi-mcp serve` (stdio) as a subprocess pointed at the mock."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oneapi_mcp.cli", "serve", "--base-url", upstream.url, "--token-url", upstream.token_url,
              "--profile", profile, *args],
        env=_server_environment(upstream, env))
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

"""Property tests over every generated tool, through the MCP client against the mock.

For each of the generated tools (every service), arguments are built from its listed input schema (see
`_schema_examples`) and the call must end in a result or a clear error, never a crash or a hang. Invalid arguments (a
wrong type, a missing required argument, an unknown argument) must make zero upstream requests,
read from the mock's own request counter.
"""

from __future__ import annotations

import copy

import anyio
import pytest
from _schema_examples import instance
from mcp import Client

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import Credentials, ServerSettings
from oneapi_mcp.cli import make_runtime
from oneapi_mcp.mock import create_mock_app

_CONTROL = ("max_items", "all_pages", "fields", "query")
_WRONG = {"string": 12345, "integer": "not-a-number", "number": "NaN-text", "boolean": "maybe",
          "array": "not-a-list", "object": ["not", "an", "object"]}


def _surface(tools_mode: str = "full"):
    mock = create_mock_app(seed=7)
    runtime = make_runtime(ServerSettings(profile="admin", tools_mode=tools_mode, max_result_bytes=20_000,
                                          list_page_size=1000),
                           Credentials(), mock_app=mock)
    return build_server(runtime), mock


def _value_schema(schema: dict) -> dict:
    """The listed schema minus the server's control arguments (those are tested elsewhere)."""
    schema = copy.deepcopy(schema)
    for key in _CONTROL:
        schema.get("properties", {}).pop(key, None)
    return schema


def _invalid_variants(schema: dict) -> list[tuple[str, dict]]:
    props = schema.get("properties", {})
    required = schema.get("required", [])
    base = {}
    variants = [("unknown argument", {"definitely_not_an_argument": 1})]
    for name in required[:1]:
        variants.append((f"missing {name}", {}))
    typed = [(n, p.get("type")) for n, p in props.items() if p.get("type") in _WRONG]
    if typed:
        name, kind = typed[0]
        variants.append((f"wrong type for {name}", {**base, name: _WRONG[kind]}))
    return variants


_GENERATED = set(load_catalog().tools)


async def _list_all(client) -> list:
    tools, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        if not (cursor := page.next_cursor):
            return tools


async def _call(client, name: str, arguments: dict):
    with anyio.fail_after(20):
        return await client.call_tool(name, arguments)


def _is_clear(result) -> bool:
    if not result.is_error:
        return isinstance(result.structured_content, dict) and bool(result.structured_content)
    error = (result.structured_content or {}).get("error", {})
    return bool(error.get("message")) and "Traceback" not in result.content[0].text


@pytest.mark.anyio
async def test_invalid_arguments_to_any_tool_never_reach_the_upstream_api(anyio_backend):
    server, mock = _surface()
    checked = 0
    async with Client(server, cache=None) as client:
        tools = await _list_all(client)
        # every generated tool, and the composite tools besides
        assert sum(1 for t in tools if t.name in _GENERATED) == len(_GENERATED) and len(tools) > len(_GENERATED)
        for tool in tools:
            for label, arguments in _invalid_variants(tool.input_schema):
                before = mock.requests.total
                result = await _call(client, tool.name, arguments)
                assert result.is_error, (tool.name, label)
                assert _is_clear(result), (tool.name, label, result.content[0].text[:300])
                assert mock.requests.total == before, (tool.name, label, "reached upstream")
                checked += 1
    print(f"invalid-argument cases: {checked} over {len(tools)} tools, zero upstream requests")


def _examples(schema: dict) -> list[dict]:
    """The simplest valid arguments, and arguments that set every top-level argument."""
    minimal, full = instance(schema), instance(schema, full=True)
    return [minimal] if full == minimal else [minimal, full]


@pytest.mark.anyio
async def test_every_tool_called_with_arguments_drawn_from_its_schema_ends_in_a_result_or_a_clear_error(
        anyio_backend):
    server, mock = _surface()
    unclear: list[str] = []
    calls = 0
    async with Client(server, cache=None) as client:
        tools = await _list_all(client)
        # every generated tool, and the composite tools besides
        assert sum(1 for t in tools if t.name in _GENERATED) == len(_GENERATED) and len(tools) > len(_GENERATED)
        for tool in tools:
            for arguments in _examples(_value_schema(tool.input_schema)):
                calls += 1
                try:
                    result = await _call(client, tool.name, arguments)
                except Exception as exc:  # a crash or a hang (fail_after) is a failure, not a result
                    unclear.append(f"{tool.name} {arguments}: {type(exc).__name__}: {exc}"[:300])
                    continue
                if not _is_clear(result):
                    unclear.append(f"{tool.name} {arguments}: {result.content[0].text[:300]}")
    print(f"drawn-argument calls: {calls} over {len(tools)} tools, {mock.requests.total} upstream requests")
    assert not unclear, f"{len(unclear)} calls ended unclearly:\n" + "\n".join(unclear[:30])

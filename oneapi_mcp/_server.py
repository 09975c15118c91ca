"""MCP wiring: the tool surface a named server lists, and the handlers of the low-level `Server`.

Tools are data: generated definitions from the catalog plus four discovery tools. Listing needs no
credentials and imports no input model; a call validates once, checks the scope again and goes
through the executor.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as t
from mcp.server import Server
from mcp.server.lowlevel.server import NotificationOptions

from . import __version__
from ._settings import ServerSettings

__all__ = ["DISCOVERY_TOOLS", "Runtime", "ToolSurface", "build_server"]

DISCOVERY_TOOLS = ("search_operations", "describe_operation", "invoke_operation", "enable_toolset")
_SERVICES = ["zia", "zpa", "zdx", "zcc", "zid", "ztw"]


@dataclass
class Runtime:
    """What calls need, created on first use: the catalog, then the executor (credentials, HTTP)."""

    settings: ServerSettings
    executor_factory: Callable[[Any], Any]  # catalog -> Executor (raises a message when not configured)
    customer_id_known: bool = False
    _catalog: Any = None
    _executor: Any = None
    _index: Any = None

    @property
    def catalog(self):
        if self._catalog is None:
            from ._catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    @property
    def index(self):
        if self._index is None:
            from ._search import SearchIndex

            self._index = SearchIndex(self.catalog.tools.values())
        return self._index

    def executor(self):
        if self._executor is None:
            self._executor = self.executor_factory(self.catalog)
        return self._executor


def _text_result(data: dict[str, Any], *, is_error: bool = False) -> t.CallToolResult:
    return t.CallToolResult(
        content=[t.TextContent(type="text", text=json.dumps(data, indent=1, default=str, ensure_ascii=False))],
        structured_content=data,
        is_error=is_error,
    )


def _error(message: str, kind: str = "invalid_request", **extra: Any) -> t.CallToolResult:
    return _text_result({"error": {"kind": kind, "message": message, **extra}}, is_error=True)


@dataclass
class _SessionState:
    enabled: set[str] = field(default_factory=set)


class ToolSurface:
    """What one named server lists and allows."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.settings = runtime.settings
        self._sessions: dict[str, _SessionState] = {}
        self._fallback = _SessionState()
        self._tool_cache: dict[str, t.Tool] = {}

    # -- policy --------------------------------------------------------------------------------
    def allowed(self, tool) -> bool:
        return tool.scope in self.settings.allowed_scopes

    def state(self, ctx: object) -> _SessionState:
        """Enabled toolsets: per MCP session over stateful HTTP, else per process (stdio has one client).

        The SDK builds a fresh session object for every request, so the HTTP session id is the only
        stable key; stateless HTTP and stdio share one state per named server.
        """
        request = getattr(ctx, "request", None)
        session_id = request.headers.get("mcp-session-id") if request is not None and hasattr(
            request, "headers") else None
        if not session_id:
            return self._fallback
        if session_id not in self._sessions:
            if len(self._sessions) > 10_000:  # bounded: drop the oldest sessions
                for key in list(self._sessions)[:1_000]:
                    del self._sessions[key]
            self._sessions[session_id] = _SessionState()
        return self._sessions[session_id]

    def listed_names(self, ctx: object) -> list[str]:
        mode = self.settings.tools_mode
        catalog = self.runtime.catalog if (mode == "full" or self.settings.toolsets
                                           or self.state(ctx).enabled) else None
        names: list[str] = []
        if mode != "full":
            names.extend(DISCOVERY_TOOLS)
        if catalog is None:
            return names
        if mode == "full":
            names.extend(sorted(n for n, tool in catalog.tools.items() if self.allowed(tool)))
            return names
        for toolset in sorted(set(self.settings.toolsets) | self.state(ctx).enabled):
            ts = catalog.toolsets.get(toolset)
            if ts:
                names.extend(n for n in ts.tools if self.allowed(catalog.tools[n]))
        return names

    # -- definitions ---------------------------------------------------------------------------
    def mcp_tool(self, name: str) -> t.Tool:
        if name not in self._tool_cache:
            self._tool_cache[name] = self._discovery_tool(name) if name in DISCOVERY_TOOLS else (
                self._generated_tool(name))
        return self._tool_cache[name]

    def input_schema(self, name: str) -> dict[str, Any]:
        from ._executor import CONTROL_ARGUMENTS

        catalog = self.runtime.catalog
        tool = catalog.tools[name]
        schema = json.loads(json.dumps(catalog.input_schema(name)))
        props = schema.setdefault("properties", {})
        if self.runtime.customer_id_known and "customerId" in props:
            del props["customerId"]
            schema["required"] = [r for r in schema.get("required", []) if r != "customerId"]
            if not schema["required"]:
                del schema["required"]
        for key, spec in CONTROL_ARGUMENTS.items():
            if key in ("max_items", "all_pages") and not tool.pagination:
                continue
            props.setdefault(key, spec)
        return schema

    def _generated_tool(self, name: str) -> t.Tool:
        tool = self.runtime.catalog.tools[name]
        a = tool.annotations
        return t.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=self.input_schema(name),
            annotations=t.ToolAnnotations(
                title=tool.title, read_only_hint=a["readOnlyHint"], destructive_hint=a["destructiveHint"],
                idempotent_hint=a["idempotentHint"], open_world_hint=a["openWorldHint"]),
        )

    def _discovery_tool(self, name: str) -> t.Tool:
        scopes = sorted(self.settings.allowed_scopes)
        read_only = scopes == ["read"]
        specs: dict[str, tuple[str, dict, t.ToolAnnotations]] = {
            "search_operations": (
                "Search the 1,147 Zscaler OneAPI operations (ZIA, ZPA, ZDX, ZCC, ZIdentity, ZTW) by words: "
                "returns the best matches with their tool name, scope, toolset and a one-line summary. "
                "Then describe_operation for the arguments and invoke_operation to run one.",
                {"type": "object", "additionalProperties": False, "required": ["query"], "properties": {
                    "query": {"type": "string", "minLength": 1,
                              "description": "Words, e.g. 'disable user', 'url category', 'app segment'."},
                    "service": {"type": "string", "enum": _SERVICES},
                    "scope": {"type": "string", "enum": ["read", "write", "destructive"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}},
                t.ToolAnnotations(title="Search operations", read_only_hint=True, destructive_hint=False,
                                  idempotent_hint=True, open_world_hint=False)),
            "describe_operation": (
                "Describe one operation: its input schema, scope, method and path, pagination and rate "
                "limit class. Use the names search_operations returns.",
                {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
                    "name": {"type": "string", "description": "Tool name, e.g. zia_list_users."}}},
                t.ToolAnnotations(title="Describe an operation", read_only_hint=True, destructive_hint=False,
                                  idempotent_hint=True, open_world_hint=False)),
            "invoke_operation": (
                "Run one operation by name with its arguments, validated exactly as a direct call. "
                f"This server allows scopes: {', '.join(scopes)}. List calls accept max_items and all_pages; "
                "every call accepts fields and a JMESPath query to shrink the result.",
                {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
                    "name": {"type": "string", "description": "Tool name, e.g. zia_list_users."},
                    "arguments": {"type": "object", "description": "The operation's arguments."}}},
                t.ToolAnnotations(title="Invoke an operation", read_only_hint=read_only,
                                  destructive_hint="destructive" in scopes, idempotent_hint=read_only,
                                  open_world_hint=True)),
            "enable_toolset": (
                "List a toolset's tools directly (e.g. zia.users, zpa.app_segments); the tool list changes "
                "and clients are notified. Call it without a name to see every toolset.",
                {"type": "object", "additionalProperties": False, "properties": {
                    "name": {"type": "string", "description": "Toolset name; omit to list toolsets."}}},
                t.ToolAnnotations(title="Enable a toolset", read_only_hint=True, destructive_hint=False,
                                  idempotent_hint=True, open_world_hint=False)),
        }
        description, schema, annotations = specs[name]
        return t.Tool(name=name, title=annotations.title, description=description, input_schema=schema,
                      annotations=annotations)

    # -- discovery handlers --------------------------------------------------------------------
    def search(self, args: dict[str, Any]) -> t.CallToolResult:
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            return _error("search_operations needs a non-empty 'query' string", "invalid_arguments")
        service, scope, limit = args.get("service"), args.get("scope"), args.get("limit", 10)
        if service is not None and service not in _SERVICES:
            return _error(f"unknown service {service!r}; one of {', '.join(_SERVICES)}", "invalid_arguments")
        if scope is not None and scope not in ("read", "write", "destructive"):
            return _error(f"unknown scope {scope!r}; one of read, write, destructive", "invalid_arguments")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
            return _error("limit must be an integer from 1 to 50", "invalid_arguments")
        catalog = self.runtime.catalog
        allowed = [n for n, tool in catalog.tools.items() if self.allowed(tool)]
        hits = self.runtime.index.search(query, service=service, scope=scope, allowed=allowed, limit=limit)
        return _text_result({"query": query, "results": [
            {"name": tool.name, "score": score, "scope": tool.scope, "toolset": tool.toolset,
             "method": tool.method, "path": tool.path, "summary": _first_sentence(tool.description)}
            for score, tool in hits]})

    def describe(self, args: dict[str, Any]) -> t.CallToolResult:
        name = args.get("name")
        catalog = self.runtime.catalog
        tool = catalog.tools.get(name) if isinstance(name, str) else None
        if tool is None:
            return _error(f"unknown operation {name!r}; find names with search_operations", "unknown_tool")
        return _text_result({
            "name": tool.name, "title": tool.title, "description": tool.description, "service": tool.service,
            "toolset": tool.toolset, "scope": tool.scope, "allowed_here": self.allowed(tool),
            "method": tool.method, "path": tool.path, "pagination": tool.pagination,
            "rate_class": tool.rate_class, "rate_limits": catalog.rate_classes.get(tool.rate_class, {}).get("limits"),
            "annotations": tool.annotations, "input_schema": self.input_schema(tool.name)})

    async def enable(self, args: dict[str, Any], ctx: Any) -> t.CallToolResult:
        catalog = self.runtime.catalog
        name = args.get("name")
        listing = [{"name": ts.name, "description": ts.description,
                    "tools": sum(1 for n in ts.tools if self.allowed(catalog.tools[n]))}
                   for ts in catalog.toolsets.values()]
        if name is None:
            return _text_result({"toolsets": listing})
        if name not in catalog.toolsets:
            return _error(f"unknown toolset {name!r}; call enable_toolset without a name to list them",
                          "unknown_toolset")
        state = self.state(ctx)
        already = name in state.enabled or name in self.settings.toolsets
        state.enabled.add(name)
        tools = [n for n in catalog.toolsets[name].tools if self.allowed(catalog.tools[n])]
        if not already:
            try:
                await ctx.session.send_tool_list_changed()
            except Exception:  # a transport without a back-channel (stateless HTTP) cannot be told
                pass
        return _text_result({"toolset": name, "enabled": True, "already_enabled": already, "tools": tools})


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def build_server(runtime: Runtime) -> Server:
    """A low-level MCP server for one named server's settings."""
    surface = ToolSurface(runtime)
    settings = runtime.settings

    async def list_tools(ctx, params: t.PaginatedRequestParams | None) -> t.ListToolsResult:
        names = surface.listed_names(ctx)
        page = settings.list_page_size
        start = 0
        if params is not None and params.cursor:
            try:
                start = int(params.cursor)
            except ValueError:
                start = 0
        chunk = names[start:start + page]
        next_cursor = str(start + page) if start + page < len(names) else None
        return t.ListToolsResult(tools=[surface.mcp_tool(n) for n in chunk], next_cursor=next_cursor)

    async def call_tool(ctx, params: t.CallToolRequestParams) -> t.CallToolResult:
        name = params.name
        args = dict(params.arguments or {})
        if name == "search_operations":
            return surface.search(args)
        if name == "describe_operation":
            return surface.describe(args)
        if name == "enable_toolset":
            return await surface.enable(args, ctx)
        if name == "invoke_operation":
            target = args.get("name")
            inner = args.get("arguments", {})
            if not isinstance(target, str):
                return _error("invoke_operation needs 'name', the operation to run", "invalid_arguments")
            if not isinstance(inner, dict):
                return _error("invoke_operation 'arguments' must be an object", "invalid_arguments")
            extra = sorted(set(args) - {"name", "arguments"})
            if extra:
                return _error(f"invoke_operation takes only name and arguments, not {', '.join(extra)}",
                              "invalid_arguments")
            name, args = target, inner
        return await _call_generated(name, args)

    async def _call_generated(name: str, args: dict[str, Any]) -> t.CallToolResult:
        catalog = runtime.catalog
        tool = catalog.tools.get(name)
        if tool is None:
            return _error(f"unknown tool {name!r}; find operations with search_operations", "unknown_tool")
        if not surface.allowed(tool):
            return _error(
                f"{name} has scope '{tool.scope}', which server '{settings.name}' does not allow (it allows "
                f"{', '.join(sorted(settings.allowed_scopes))}); use a server with a wider profile",
                "scope_denied")
        try:
            executor = runtime.executor()
        except Exception as exc:  # not configured: the message lists what is missing
            return _error(str(exc), "not_configured")
        result = await executor.call(tool, args)
        return _text_result(result.structured(), is_error=result.is_error)

    async def set_logging_level(ctx, params: t.SetLevelRequestParams) -> t.EmptyResult:
        # clients on the 2025-11-25 protocol may still set a level; it governs this server's own logger
        logging.getLogger("oneapi_mcp").setLevel(params.level.upper())
        return t.EmptyResult()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # logging/setLevel is deprecated as of 2026-07-28 but still served
        server = _make_server(settings, list_tools, call_tool, set_logging_level)
    original = server.create_initialization_options

    def init_options(notification_options=None, *args, **kwargs):
        # advertise tools.listChanged on every transport (enable_toolset changes the list)
        return original(notification_options or NotificationOptions(tools_changed=True), *args, **kwargs)

    server.create_initialization_options = init_options  # type: ignore[method-assign]
    server.surface = surface  # type: ignore[attr-defined]
    return server


def _make_server(settings: ServerSettings, list_tools, call_tool, set_logging_level) -> Server:
    return Server(
        f"oneapi-mcp/{settings.name}" if settings.name != "default" else "oneapi-mcp",
        version=__version__,
        description=settings.description,
        instructions=(
            "Zscaler OneAPI tools. Find operations with search_operations, read their arguments with "
            "describe_operation, run them with invoke_operation, or enable_toolset to list a family "
            "directly. ZIA and ZTW changes stay pending until activated (zia_activate / ztw_activate)."),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_set_logging_level=set_logging_level,
    )

"""MCP wiring: the tool surface a named server lists, and the handlers of the low-level `Server`.

Tools are data, one model for every kind (`_toolmodel`): generated definitions from the catalog, and
the tools plugins register (composite tools, and the four discovery tools the built-in plugin
`plugins/builtin/discovery_tools.py` registers). Listing needs no credentials and imports no input model. What a server
lists is decided by the `oneapi_mcp_filter_tools` hooks (profile, allow/deny globs, plugins'
filters) and enforced again at call time; every call runs through the `oneapi_mcp_tool_call`
wrappers (see `_calls.py`).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as t
from mcp.server import Server
from mcp.server.lowlevel.server import NotificationOptions
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from . import __version__
from ._hooktypes import DISCOVERY_TOOLS, SCOPE_ORDER, CompositeTool
from ._runtime import Runtime
from ._settings import PROFILES, ServerSettings
from ._toolmodel import ToolModel, filterable, mcp_definition

__all__ = ["DISCOVERY_TOOLS", "Runtime", "ToolSurface", "build_server"]



_TOOL_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class _CompositeEntry:
    """A composite tool as the search index reads a generated one (it has no method or path)."""

    name: str
    operation_id: str
    toolset: str
    path: str
    title: str
    description: str
    service: str
    scope: str
    method: str
    operations: tuple[str, ...]
    services: tuple[str, ...] = ()  # the products its operations belong to
    keywords: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()  # its input schema's property names ("period": it takes a time window)

    @classmethod
    def of(cls, tool: Any, catalog: Any) -> _CompositeEntry:
        services = tuple(sorted({catalog.tools[op].service for op in tool.operations if op in catalog.tools}))
        arguments = tuple((tool.input_schema or {}).get("properties") or ())
        return cls(tool.name, tool.name, tool.toolset, "", tool.title or "", tool.description, tool.service,
                   tool.scope, "COMPOSITE", tuple(tool.operations), services, tuple(tool.keywords), arguments)


@dataclass
class _SessionState:
    enabled: set[str] = field(default_factory=set)


class ToolSurface:
    """What one named server lists and allows."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.settings = runtime.settings
        # per stateful HTTP session, held by its SDK Connection: gone when the session ends (DELETE, idle timeout)
        self._sessions: weakref.WeakKeyDictionary[Any, _SessionState] = weakref.WeakKeyDictionary()
        self._fallback = _SessionState()
        self._tool_cache: dict[str, t.Tool] = {}
        self._registered: dict[str, CompositeTool] | None = None
        self._hidden: dict[str, str] | None = None
        # the SDK builds a session object per request; its Connection lives as long as the client's
        # session, so remembering those (weakly) lets a reload tell every connected client
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()

    # -- policy --------------------------------------------------------------------------------
    def allowed(self, tool) -> bool:
        return tool.name not in self.hidden

    @property
    def registered(self) -> dict[str, CompositeTool]:
        """The tools plugins add (composite and discovery), by name, from the `oneapi_mcp_register_tools`
        hooks (asked once)."""
        if self._registered is None:
            self._registered = self._register(self.settings)
        return self._registered

    @property
    def composites(self) -> dict[str, CompositeTool]:
        """The registered tools of kind composite, by name."""
        return {n: tool for n, tool in self.registered.items() if tool.kind == "composite"}

    def tool(self, name: Any) -> ToolModel | None:
        """Any tool by name: a registered one or a generated operation (None for an unknown name)."""
        if not isinstance(name, str):
            return None
        return self.registered.get(name) or self.runtime.catalog.tools.get(name)

    @property
    def hidden(self) -> dict[str, str]:
        """Tool name -> why it is hidden here, from the `oneapi_mcp_filter_tools` hooks (asked once)."""
        if self._hidden is None:
            self._hidden = self._hide(self.settings, self.registered)
        return self._hidden

    def _hide(self, settings: ServerSettings, registered: dict[str, CompositeTool]) -> dict[str, str]:
        tools = [*self.runtime.catalog.tools.values(), *filter(filterable, registered.values())]
        hidden: dict[str, str] = {}
        for answer in self.runtime.plugins.hook.oneapi_mcp_filter_tools(settings=settings, tools=tools):
            reasons = answer.items() if hasattr(answer, "items") else (
                (n, f"{n} is hidden on server '{settings.name}' by a plugin's filter") for n in answer)
            for name, reason in reasons:
                hidden.setdefault(name, reason)
        return hidden

    def prepare_settings(self, settings: ServerSettings) -> Callable[[], None]:
        """Ask the plugins for this server's tools and filters under new settings (raises what is
        wrong); returns the switch that makes them current and drops every cache built from the old."""
        registered = self._register(settings)
        hidden = self._hide(settings, registered)

        def switch() -> None:
            self.settings = settings
            self._registered, self._hidden = registered, hidden
            self._tool_cache = {}

        return switch

    def listing(self) -> tuple[list[t.Tool], frozenset[str]]:
        """What a client sees, to compare across a settings change: the tools listed without any
        enabled toolset, and the hidden names (which decide what enabled toolsets list)."""
        return [self.mcp_tool(n) for n in self.listed_names(None)], frozenset(self.hidden)

    async def call(self, ctx: Any, name: str, arguments: dict[str, Any] | None, *,
                   client: str | None = None) -> t.CallToolResult:
        """Run one tools/call on this surface (the path every client's and the server's own calls take)."""
        from ._calls import handle_call

        return await handle_call(self, ctx, name, arguments, client=client)

    def remember(self, ctx: object) -> None:
        connection = getattr(getattr(ctx, "session", None), "_connection", None)
        # on 2026-07-28 a change reaches only a subscriptions/listen stream, which is not served: those
        # clients see it at their next tools/list
        if connection is not None and getattr(connection, "protocol_version", None) not in MODERN_PROTOCOL_VERSIONS:
            self._connections.add(connection)

    async def notify_tools_changed(self) -> int:
        """Send notifications/tools/list_changed to every connected client that can receive one (stdio
        and stateful HTTP on the 2025-11-25 protocol); returns how many connections were told."""
        told = 0
        for connection in list(self._connections):
            try:
                await connection.send_tool_list_changed()
                told += 1
            except Exception:  # a closed or one-way connection: its next tools/list shows the change
                pass
        return told

    def _register(self, settings: ServerSettings) -> dict[str, CompositeTool]:
        from dataclasses import replace

        from ._plugins import PluginError

        out: dict[str, CompositeTool] = {}
        for batch in self.runtime.plugins.hook.oneapi_mcp_register_tools(settings=settings):
            for tool in batch or ():
                catalog = self.runtime.catalog  # loaded only when a plugin registers a tool
                if not _TOOL_NAME.match(tool.name) or tool.name in catalog.tools or tool.name in out:
                    raise PluginError(f"composite tool {tool.name!r}: names are unique, at most 64 of [a-z0-9_]")
                unknown = [op for op in tool.operations if op not in catalog.tools]
                if unknown:
                    raise PluginError(f"composite tool {tool.name!r} uses unknown operations {', '.join(unknown)}")
                # its scope is the union of the operations it uses: the widest of them and its own
                widest = max([tool.scope, *(catalog.tools[op].scope for op in tool.operations)],
                             key=SCOPE_ORDER.index)
                out[tool.name] = tool if widest == tool.scope else replace(tool, scope=widest)
        return out

    def state(self, ctx: object) -> _SessionState:
        """Enabled toolsets: per MCP session over stateful HTTP, else per process (stdio has one client).

        The SDK builds a fresh session object for every request but one Connection per HTTP session:
        the key is the Connection of the session the SDK routed this request to (and checked the
        owner of), never the `mcp-session-id` header, which a 2026-07-28 or stateless request may
        carry with anyone's id. Stateless HTTP and stdio share one state per named server.
        """
        connection = getattr(getattr(ctx, "session", None), "_connection", None)
        if not getattr(connection, "session_id", None):
            return self._fallback
        return self._sessions.setdefault(connection, _SessionState())

    @staticmethod
    def per_session(ctx: object) -> bool:
        """Whether this connection may have a tool list of its own (enable_toolset): only on the 2025-11-25
        protocol with a session (stdio, stateful HTTP). On 2026-07-28 tools/list must be the same for every
        connection with the same authorization, and stateless HTTP has no session to keep toolsets in."""
        if ctx is None:
            return True
        if getattr(ctx, "protocol_version", None) in MODERN_PROTOCOL_VERSIONS:
            return False
        request = getattr(ctx, "request", None)
        return request is None or bool(getattr(request, "headers", {}).get("mcp-session-id"))

    def enabled(self, ctx: object) -> set[str]:
        return self.state(ctx).enabled if self.per_session(ctx) else set()

    def _listed(self, tool: CompositeTool, ctx: object) -> bool:
        if tool.listed is not None:
            return tool.listed(self.settings, self.per_session(ctx))
        return self.settings.list_composites  # else reached through search_operations / invoke_operation

    def listed_names(self, ctx: object) -> list[str]:
        mode = self.settings.tools_mode
        catalog = self.runtime.catalog if (mode == "full" or self.settings.toolsets
                                           or self.enabled(ctx)) else None
        names = [n for n, tool in self.registered.items() if n not in self.hidden and self._listed(tool, ctx)]
        if catalog is None:
            return names
        if mode == "full":
            names.extend(sorted(n for n, tool in catalog.tools.items() if self.allowed(tool)))
            return names
        for toolset in sorted(set(self.settings.toolsets) | self.enabled(ctx)):
            ts = catalog.toolsets.get(toolset)
            if ts:
                names.extend(n for n in ts.tools if self.allowed(catalog.tools[n]))
        return names

    # -- definitions ---------------------------------------------------------------------------
    def mcp_tool(self, name: str) -> t.Tool:
        if name not in self._tool_cache:
            tool = self.tool(name)
            if tool is None:
                raise KeyError(name)
            self._tool_cache[name] = mcp_definition(tool, self.input_schema(name))
        return self._tool_cache[name]

    def input_schema(self, name: str) -> dict[str, Any]:
        """The tool's listed input schema: its own (a generated one's without the customerId the server
        knows, with the executor's control arguments) plus the arguments plugins add to it."""
        tool = self.tool(name)
        if tool is None:
            raise KeyError(name)
        if tool.kind != "generated":
            schema = json.loads(json.dumps(dict(tool.input_schema)))  # type: ignore[attr-defined]
        else:
            schema = self._operation_schema(tool)
        if filterable(tool):  # a discovery tool's call is its target's: the target takes the plugins' arguments
            self._plugin_arguments(tool, schema.setdefault("properties", {}))
        return schema

    def _operation_schema(self, tool: Any) -> dict[str, Any]:
        from ._executor import CONTROL_ARGUMENTS

        schema = json.loads(json.dumps(self.runtime.catalog.input_schema(tool.name)))
        props = schema.setdefault("properties", {})
        # the server fills customerId when it knows it: ZPA's from ZPA_CUSTOMER_ID, ZMS's from ZMS_CUSTOMER_ID
        known = self.runtime.zms_customer_id_known if tool.service == "zms" else self.runtime.customer_id_known
        if known and "customerId" in props:
            del props["customerId"]
            schema["required"] = [r for r in schema.get("required", []) if r != "customerId"]
            if not schema["required"]:
                del schema["required"]
        for key, spec in CONTROL_ARGUMENTS.items():
            if key in ("max_items", "all_pages") and not tool.pagination:
                continue
            props.setdefault(key, spec)
        return schema

    def _plugin_arguments(self, tool: Any, props: dict[str, Any]) -> None:
        """Arguments plugins add to a tool's listed schema and consume in their call wrapper (the scopes
        plugin's confirm_token on destructive tools), from `oneapi_mcp_tool_arguments`."""
        for extra in self.runtime.plugins.hook.oneapi_mcp_tool_arguments(settings=self.settings, tool=tool):
            for key, spec in (extra or {}).items():
                props.setdefault(key, json.loads(json.dumps(dict(spec))))

    @property
    def composite_index(self) -> Any:
        """A search index over this server's composite tools (search_operations ranks them with operations)."""
        # scored with the operations' statistics, so the two compare; the index keeps one per set of tools
        catalog = self.runtime.catalog
        return self.runtime.index.alongside(_CompositeEntry.of(tool, catalog) for tool in self.composites.values())

    def allowed_by(self, tool: Any) -> dict[str, str]:
        """What would let this server run a tool it hides: the smallest profile with its scope, or its rules."""
        if tool.scope not in self.settings.allowed_scopes:
            return {"profile": next(p for p, scopes in PROFILES.items() if tool.scope in scopes)}
        return {"rule": "this server's allow_tools / deny_tools (or a plugin's filter)"}


def build_server(runtime: Runtime) -> Server:
    """A low-level MCP server for one named server's settings."""
    surface = ToolSurface(runtime)
    runtime.surface = surface
    settings = runtime.settings

    async def list_tools(ctx, params: t.PaginatedRequestParams | None) -> t.ListToolsResult:
        surface.remember(ctx)
        names = surface.listed_names(ctx)
        page = surface.settings.list_page_size  # read per request: a reload may change it
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
        surface.remember(ctx)
        return await surface.call(ctx, params.name, params.arguments)

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
            "describe_operation, run them with invoke_operation (where offered, enable_toolset lists a family "
            "directly). ZIA and ZTW changes stay pending until activated (zia_activate / ztw_activate)."),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_set_logging_level=set_logging_level,
    )

"""MCP wiring: the tool surface a named server lists, and the handlers of the low-level `Server`.

Tools are data, one model for every kind (`_toolmodel`): generated definitions from the catalog, and
the tools plugins register (composite tools, and the four discovery tools, whose definitions are
built here). Listing needs no credentials and imports no input model. What a server
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
from ._hooktypes import DISCOVERY_TOOLS, SCOPE_ORDER, CompositeTool, tool_error, tool_result
from ._runtime import Runtime
from ._settings import PROFILES, ServerSettings
from ._toolmodel import ToolModel, filterable, mcp_definition
from .generated.services import SERVICES as SERVICE_TABLE

__all__ = ["DISCOVERY_TOOLS", "Runtime", "ToolSurface", "build_server"]

_SERVICES = list(SERVICE_TABLE)


def _search_blurb() -> str:
    total = sum(row.operations for row in SERVICE_TABLE.values())
    return f"Search the {total:,} Zscaler OneAPI operations ({', '.join(r.short for r in SERVICE_TABLE.values())})"




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

    @classmethod
    def of(cls, tool: Any) -> _CompositeEntry:
        return cls(tool.name, tool.name, tool.toolset, "", tool.title or "", tool.description, tool.service,
                   tool.scope, "COMPOSITE", tuple(tool.operations))


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
        self._composite_search: Any = None
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
            self._composite_search = None

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
        batches = [discovery_tools(settings), *self.runtime.plugins.hook.oneapi_mcp_register_tools(settings=settings)]
        for batch in batches:
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

    def _plugin_arguments(self, tool: Any, props: dict[str, Any]) -> None:
        """Arguments plugins add to a tool's listed schema and consume in their call wrapper (the scopes
        plugin's confirm_token on destructive tools), from `oneapi_mcp_tool_arguments`."""
        for extra in self.runtime.plugins.hook.oneapi_mcp_tool_arguments(settings=self.settings, tool=tool):
            for key, spec in (extra or {}).items():
                props.setdefault(key, json.loads(json.dumps(dict(spec))))

    # -- discovery handlers --------------------------------------------------------------------
    def search(self, args: dict[str, Any]) -> t.CallToolResult:
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            return tool_error("search_operations needs a non-empty 'query' string", "invalid_arguments")
        service, scope, limit = args.get("service"), args.get("scope"), args.get("limit", 10)
        if service is not None and service not in _SERVICES:
            return tool_error(f"unknown service {service!r}; one of {', '.join(_SERVICES)}", "invalid_arguments")
        if scope is not None and scope not in ("read", "write", "destructive"):
            return tool_error(f"unknown scope {scope!r}; one of read, write, destructive", "invalid_arguments")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
            return tool_error("limit must be an integer from 1 to 50", "invalid_arguments")
        catalog = self.runtime.catalog
        allowed = [n for n, tool in catalog.tools.items() if self.allowed(tool)]
        hits = self.runtime.index.search(query, service=service, scope=scope, allowed=allowed, limit=limit)
        results = [{"name": tool.name, "score": score, "scope": tool.scope, "toolset": tool.toolset,
                    "method": tool.method, "path": tool.path, "summary": _first_sentence(tool.description)}
                   for score, tool in hits]
        beyond = self._beyond(query, service, scope)
        if service is None and self.composites:
            # composite tools first when they match as well: they do the cross-service work in one call
            allowed_composites = [n for n in self.composites if n not in self.hidden]
            for score, tool in self._composite_index.search(query, scope=scope, allowed=allowed_composites,
                                                            limit=limit):
                results.append({"name": tool.name, "score": score + 0.5, "scope": tool.scope,
                                "toolset": tool.toolset, "composite": True, "operations": len(tool.operations),
                                "summary": _first_sentence(tool.description)})
            results.sort(key=lambda r: -r["score"])
            results = results[:limit]
        out: dict[str, Any] = {"query": query, "results": results}
        reading = self.runtime.index.read(query)
        if reading.corrected or reading.services:  # say how the request was read, so a misreading shows
            out["understood"] = {k: v for k, v in (("services", reading.services),
                                                   ("corrected", reading.corrected)) if v}
        if beyond:
            out["not_allowed_here"] = beyond
            out["note"] = ("not_allowed_here lists operations that match but that this server does not run; "
                           "they cannot be invoked here. Each says what would allow it.")
        return tool_result(out)

    def _beyond(self, query: str, service: str | None, scope: str | None) -> list[dict[str, Any]]:
        """Operations (and composite tools) among the best matches over everything that this server hides,
        with the profile or tool rule that would allow them (five at most). Never offered as callable."""
        hits = self.runtime.index.search(query, service=service, scope=scope, limit=5)
        if service is None and self.composites:  # composite tools a wider profile would list
            hits += [(score + 0.5, tool) for score, tool in self._composite_index.search(query, scope=scope, limit=3)]
        out = []
        for score, tool in sorted(hits, key=lambda h: -h[0]):
            reason = self.hidden.get(tool.name)
            if reason is None:
                continue
            entry = {"name": tool.name, "score": score, "scope": tool.scope, "summary": _first_sentence(
                tool.description), "why": reason, "allowed_by": self._allowed_by(tool)}
            if tool.method == "COMPOSITE":
                entry["composite"] = True
            else:
                entry.update(method=tool.method, path=tool.path)
            out.append(entry)
        return out[:5]

    def _allowed_by(self, tool: Any) -> dict[str, str]:
        """What would let this server run a tool it hides: the smallest profile with its scope, or its rules."""
        if tool.scope not in self.settings.allowed_scopes:
            return {"profile": next(p for p, scopes in PROFILES.items() if tool.scope in scopes)}
        return {"rule": "this server's allow_tools / deny_tools (or a plugin's filter)"}

    @property
    def _composite_index(self):
        if self._composite_search is None:
            from ._search import SearchIndex

            self._composite_search = SearchIndex(_CompositeEntry.of(tool) for tool in self.composites.values())
        return self._composite_search

    def describe(self, args: dict[str, Any]) -> t.CallToolResult:
        name = args.get("name")
        filtered = self._filtered_out(name)
        if filtered is not None:
            return filtered
        tool = self.tool(name)
        if tool is None or not filterable(tool):  # the discovery tools describe the others, not themselves
            return tool_error(f"unknown operation {name!r}; find names with search_operations", "unknown_tool")
        allowed = tool.name not in self.hidden
        out: dict[str, Any] = {
            "name": tool.name, "title": tool.title, "description": tool.description, "service": tool.service,
            "toolset": tool.toolset, "scope": tool.scope}
        if tool.kind == "composite":
            out.update(composite=True, allowed_here=allowed, operations=list(tool.operations))  # type: ignore[attr-defined]
        else:
            rate_class = tool.rate_class  # type: ignore[attr-defined]
            out.update(allowed_here=allowed, **({} if allowed else {
                "why": self.hidden[tool.name], "allowed_by": self._allowed_by(tool)}),
                method=tool.method, path=tool.path, pagination=tool.pagination,  # type: ignore[attr-defined]
                rate_class=rate_class,
                rate_limits=self.runtime.catalog.rate_classes.get(rate_class, {}).get("limits"))
        return tool_result({**out, "annotations": tool.annotations, "input_schema": self.input_schema(tool.name)})

    def _filtered_out(self, name: Any) -> t.CallToolResult | None:
        """A tool hidden by a rule or a plugin's filter is not available here, and describe says only that; one
        that only a wider profile allows is still described (allowed_here false, with the profile)."""
        tool = self.tool(name)
        if tool is None or name not in self.hidden or tool.scope not in self.settings.allowed_scopes:
            return None
        return tool_error(f"{name} is not available on server '{self.settings.name}': {self.hidden[name]}",
                          "scope_denied", tool=name, allowed_here=False, allowed_by=self._allowed_by(tool))

    async def enable(self, args: dict[str, Any], ctx: Any) -> t.CallToolResult:
        catalog = self.runtime.catalog
        name = args.get("name")
        listing = [{"name": ts.name, "description": ts.description,
                    "tools": sum(1 for n in ts.tools if self.allowed(catalog.tools[n]))}
                   for ts in catalog.toolsets.values()]
        if name is None:
            return tool_result({"toolsets": listing})
        if name not in catalog.toolsets:
            return tool_error(f"unknown toolset {name!r}; call enable_toolset without a name to list them",
                              "unknown_toolset")
        tools = [n for n in catalog.toolsets[name].tools if self.allowed(catalog.tools[n])]
        if not tools:  # every tool of it is hidden here: enabling would list nothing
            return tool_error(f"toolset {name!r} has no tool server '{self.settings.name}' allows (its profile, "
                              "allow_tools / deny_tools or a plugin's filter hide them all); nothing was enabled",
                              "scope_denied", toolset=name)
        if not self.per_session(ctx):
            return tool_error(
                f"enable_toolset cannot change the tool list of this connection (protocol "
                f"{getattr(ctx, 'protocol_version', '?')}{'' if getattr(ctx, 'request', None) is None else ', HTTP'}): "
                "tools/list is the same for every client of a server here. Run the operation through "
                "search_operations / describe_operation / invoke_operation, or list the toolset on a named server "
                "(toolsets in the config, or --toolsets)", "not_supported")
        state = self.state(ctx)
        already = name in state.enabled or name in self.settings.toolsets
        state.enabled.add(name)
        if not already:
            try:
                await ctx.session.send_tool_list_changed()
            except Exception:  # a transport without a back-channel (stateless HTTP) cannot be told
                pass
        return tool_result({"toolset": name, "enabled": True, "already_enabled": already, "tools": tools})


def _hints(a: t.ToolAnnotations) -> dict[str, bool]:
    return {"readOnlyHint": bool(a.read_only_hint), "destructiveHint": bool(a.destructive_hint),
            "idempotentHint": bool(a.idempotent_hint), "openWorldHint": bool(a.open_world_hint)}


async def _search_handler(ctx: Any, args: dict[str, Any]) -> t.CallToolResult:
    return ctx.surface.search(args)


async def _describe_handler(ctx: Any, args: dict[str, Any]) -> t.CallToolResult:
    return ctx.surface.describe(args)


async def _enable_handler(ctx: Any, args: dict[str, Any]) -> t.CallToolResult:
    return await ctx.surface.enable(args, ctx.call.ctx)


async def _invoke_handler(ctx: Any, args: dict[str, Any]) -> t.CallToolResult:
    # never reached: a call of invoke_operation is resolved to its target before any wrapper sees it
    return tool_error("invoke_operation runs the operation it names", "invalid_arguments")


_HANDLERS = {"search_operations": _search_handler, "describe_operation": _describe_handler,
             "invoke_operation": _invoke_handler, "enable_toolset": _enable_handler}


def _listed_unless_full(settings: ServerSettings, per_session: bool) -> bool:
    return settings.tools_mode != "full"


def _listed_with_session(settings: ServerSettings, per_session: bool) -> bool:
    return settings.tools_mode != "full" and per_session


def discovery_tools(settings: ServerSettings) -> list[CompositeTool]:
    """The four tools for finding and running operations, as this server's settings describe them: listed
    in every tools mode but full (enable_toolset only where a connection has a tool list of its own)."""
    scopes = sorted(settings.allowed_scopes)
    read_only = scopes == ["read"]
    specs: dict[str, tuple[str, dict, t.ToolAnnotations]] = {
        "search_operations": (
            _search_blurb() + " in your own words (console names such as 'app connectors', 'push changes "
            "live', 'how many firewall rules' work): "
            "returns the best matches this server can run with their tool name, scope, toolset and a one-line "
            "summary, and under not_allowed_here any matching operation it cannot run, with the profile or rule "
            "that would allow it. Then describe_operation for the arguments and invoke_operation to run one.",
            {"type": "object", "additionalProperties": False, "required": ["query"], "properties": {
                "query": {"type": "string", "minLength": 1,
                          "description": "What you want, e.g. 'disable a user', 'which URL category is "
                                         "example.com in', 'list app segments in private access'."},
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
            "List a toolset's tools directly for this session (e.g. zia.users, zpa.app_segments); the tool "
            "list changes and the client is notified. Call it without a name to see every toolset. Offered on "
            "the 2025-11-25 protocol with a session (stdio, stateful HTTP) only.",
            {"type": "object", "additionalProperties": False, "properties": {
                "name": {"type": "string", "description": "Toolset name; omit to list toolsets."}}},
            t.ToolAnnotations(title="Enable a toolset", read_only_hint=True, destructive_hint=False,
                              idempotent_hint=True, open_world_hint=False)),
    }
    return [CompositeTool(name=name, title=annotations.title, description=description, input_schema=schema,
                          handler=_HANDLERS[name], kind="discovery", hints=_hints(annotations),
                          listed=_listed_with_session if name == "enable_toolset" else _listed_unless_full)
            for name, (description, schema, annotations) in specs.items()]


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


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

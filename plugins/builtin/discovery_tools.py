"""The discovery tools, shipped as a built-in plugin: search_operations, describe_operation,
invoke_operation and enable_toolset, the default surface's way to the 1,100+ operations.

They are `CompositeTool`s of kind "discovery" registered through `oneapi_mcp_register_tools` like any
plugin's tools, so the runtime lists, describes and dispatches them on the same path: no filter hides
them, search does not return them, and `listed` keeps them out of `--tools-mode full` (enable_toolset
is listed only where a connection has a tool list of its own). A call of invoke_operation is resolved
to the tool it names before any wrapper sees it (`oneapi_mcp._calls.INVOKE`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp.plugin_api import (
    DISCOVERY_TOOLS,
    CompositeTool,
    hookimpl,
    tool_error,
    tool_result,
)

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import CompositeContext, ServerSettings

SERVICES = list(SERVICE_TABLE)
_NAME = "Tool name, e.g. zia_list_users."


def _search_blurb() -> str:
    total = sum(row.operations for row in SERVICE_TABLE.values())
    return f"Search the {total:,} Zscaler OneAPI operations ({', '.join(r.short for r in SERVICE_TABLE.values())})"


def _hints(read_only: bool = True, destructive: bool = False, idempotent: bool = True,
           open_world: bool = False) -> dict[str, bool]:
    return {"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent,
            "openWorldHint": open_world}


def _unless_full(settings: ServerSettings, per_session: bool) -> bool:
    return settings.tools_mode != "full"


def _with_session(settings: ServerSettings, per_session: bool) -> bool:
    return settings.tools_mode != "full" and per_session


@hookimpl(tryfirst=True)  # first in tools/list, before every plugin's composite tools
def oneapi_mcp_register_tools(settings: ServerSettings) -> list[CompositeTool]:
    scopes = sorted(settings.allowed_scopes)
    read_only = scopes == ["read"]
    search, describe, invoke, enable = DISCOVERY_TOOLS
    return [
        CompositeTool(
            name=search, title="Search operations", kind="discovery", hints=_hints(), listed=_unless_full,
            handler=_search, description=(
                _search_blurb() + " in your own words (console names such as 'app connectors', 'push changes "
                "live', 'how many firewall rules' work): "
                "returns the best matches this server can run with their tool name, scope, toolset and a one-line "
                "summary, and under not_allowed_here any matching operation it cannot run, with the profile or rule "
                "that would allow it. Then describe_operation for the arguments and invoke_operation to run one."),
            input_model=f"{_INPUTS}:_SearchInput"),
        CompositeTool(
            name=describe, title="Describe an operation", kind="discovery", hints=_hints(), listed=_unless_full,
            handler=_describe, description=(
                "Describe one operation: its input schema, scope, method and path, pagination and rate "
                "limit class. Use the names search_operations returns."),
            input_model=f"{_INPUTS}:_NameInput"),
        CompositeTool(
            name=invoke, title="Invoke an operation", kind="discovery", listed=_unless_full, handler=_invoke,
            hints=_hints(read_only, "destructive" in scopes, read_only, open_world=True), description=(
                "Run one operation by name with its arguments, validated exactly as a direct call. "
                f"This server allows scopes: {', '.join(scopes)}. List calls accept max_items and all_pages; "
                "every call accepts fields and a JMESPath query to shrink the result."),
            input_model=f"{_INPUTS}:_InvokeInput"),
        CompositeTool(
            name=enable, title="Enable a toolset", kind="discovery", hints=_hints(), listed=_with_session,
            handler=_enable, description=(
                "List a toolset's tools directly for this session (e.g. zia.users, zpa.app_segments); the tool "
                "list changes and the client is notified. Call it without a name to see every toolset. Offered on "
                "the 2025-11-25 protocol with a session (stdio, stateful HTTP) only."),
            input_model=f"{_INPUTS}:_EnableInput"),
    ]


async def _search(ctx: CompositeContext, args: dict[str, Any]) -> Any:
    return search(ctx.surface, args)


async def _describe(ctx: CompositeContext, args: dict[str, Any]) -> Any:
    return describe(ctx.surface, args)


async def _enable(ctx: CompositeContext, args: dict[str, Any]) -> Any:
    return await enable(ctx.surface, args, ctx.call.ctx)


async def _invoke(ctx: CompositeContext, args: dict[str, Any]) -> Any:
    # not reached: the runtime resolves a call of invoke_operation to the tool it names
    return tool_error("invoke_operation runs the operation it names", "invalid_arguments")


# a composite tool that matches as well as an operation comes first: it does the cross-service work in one call. Its
# score is the operations' own (same document frequencies), so this is a factor: a bonus added to every composite
# (0.5 had been) put barely matching ones above the operations a vague request did match
COMPOSITE_PREFERENCE = 1.15


def search(surface: Any, args: dict[str, Any]) -> Any:
    """`args` as `_SearchInput` validated them (a bad query, service, scope or limit never gets here)."""
    query, service, scope, limit = args["query"], args.get("service"), args.get("scope"), args["limit"]
    catalog = surface.runtime.catalog
    allowed = [n for n, tool in catalog.tools.items() if surface.allowed(tool)]
    hits = surface.runtime.index.search(query, service=service, scope=scope, allowed=allowed, limit=limit)
    results = [{"name": tool.name, "score": score, "scope": tool.scope, "toolset": tool.toolset,
                "method": tool.method, "path": tool.path, "summary": _first_sentence(tool.description)}
               for score, tool in hits]
    beyond = _beyond(surface, query, service, scope)
    if service is None and surface.composites:
        # composite tools first when they match as well: they do the cross-service work in one call
        allowed_composites = [n for n in surface.composites if n not in surface.hidden]
        for score, tool in surface.composite_index.search(query, scope=scope, allowed=allowed_composites, limit=limit):
            results.append({"name": tool.name, "score": round(score * COMPOSITE_PREFERENCE, 3), "scope": tool.scope,
                            "toolset": tool.toolset, "composite": True, "operations": len(tool.operations),
                            "summary": _first_sentence(tool.description)})
        results.sort(key=lambda r: -r["score"])
        results = results[:limit]
    out: dict[str, Any] = {"query": query, "results": results}
    reading = surface.runtime.index.read(query)
    if reading.corrected or reading.services:  # say how the request was read, so a misreading shows
        out["understood"] = {k: v for k, v in (("services", reading.services),
                                               ("corrected", reading.corrected)) if v}
    if beyond:
        out["not_allowed_here"] = beyond
        out["note"] = ("not_allowed_here lists operations that match but that this server does not run; "
                       "they cannot be invoked here. Each says what would allow it.")
    return tool_result(out)


def _beyond(surface: Any, query: str, service: str | None, scope: str | None) -> list[dict[str, Any]]:
    """Operations (and composite tools) among the best matches over everything that this server hides,
    with the profile or tool rule that would allow them (five at most). Never offered as callable."""
    hits = surface.runtime.index.search(query, service=service, scope=scope, limit=5)
    if service is None and surface.composites:  # composite tools a wider profile would list
        hits += [(score * COMPOSITE_PREFERENCE, tool) for score, tool in surface.composite_index.search(
            query, scope=scope, limit=3)]
    out = []
    for score, tool in sorted(hits, key=lambda h: -h[0]):
        reason = surface.hidden.get(tool.name)
        if reason is None:
            continue
        entry = {"name": tool.name, "score": score, "scope": tool.scope, "summary": _first_sentence(
            tool.description), "why": reason, "allowed_by": surface.allowed_by(tool)}
        if tool.method == "COMPOSITE":
            entry["composite"] = True
        else:
            entry.update(method=tool.method, path=tool.path)
        out.append(entry)
    return out[:5]


def describe(surface: Any, args: dict[str, Any]) -> Any:
    name = args.get("name")
    filtered = _filtered_out(surface, name)
    if filtered is not None:
        return filtered
    tool = surface.tool(name)
    if tool is None or tool.kind == "discovery":  # the discovery tools describe the others, not themselves
        return tool_error(f"unknown operation {name!r}; find names with search_operations", "unknown_tool")
    allowed = tool.name not in surface.hidden
    out: dict[str, Any] = {
        "name": tool.name, "title": tool.title, "description": tool.description, "service": tool.service,
        "toolset": tool.toolset, "scope": tool.scope}
    if tool.kind == "composite":
        out.update(composite=True, allowed_here=allowed, operations=list(tool.operations))  # type: ignore[attr-defined]
    else:
        rate_class = tool.rate_class  # type: ignore[attr-defined]
        out.update(allowed_here=allowed, **({} if allowed else {
            "why": surface.hidden[tool.name], "allowed_by": surface.allowed_by(tool)}),
            method=tool.method, path=tool.path, pagination=tool.pagination,  # type: ignore[attr-defined]
            rate_class=rate_class,
            rate_limits=surface.runtime.catalog.rate_classes.get(rate_class, {}).get("limits"))
    return tool_result({**out, "annotations": tool.annotations, "input_schema": surface.input_schema(tool.name)})


def _filtered_out(surface: Any, name: Any) -> Any | None:
    """A tool hidden by a rule or a plugin's filter is not available here, and describe says only that; one
    that only a wider profile allows is still described (allowed_here false, with the profile)."""
    tool = surface.tool(name)
    if tool is None or name not in surface.hidden or tool.scope not in surface.settings.allowed_scopes:
        return None
    return tool_error(f"{name} is not available on server '{surface.settings.name}': {surface.hidden[name]}",
                      "scope_denied", tool=name, allowed_here=False, allowed_by=surface.allowed_by(tool))


async def enable(surface: Any, args: dict[str, Any], ctx: Any) -> Any:
    catalog = surface.runtime.catalog
    name = args.get("name")
    listing = [{"name": ts.name, "description": ts.description,
                "tools": sum(1 for n in ts.tools if surface.allowed(catalog.tools[n]))}
               for ts in catalog.toolsets.values()]
    if name is None:
        return tool_result({"toolsets": listing})
    if name not in catalog.toolsets:
        return tool_error(f"unknown toolset {name!r}; call enable_toolset without a name to list them",
                          "unknown_toolset")
    tools = [n for n in catalog.toolsets[name].tools if surface.allowed(catalog.tools[n])]
    if not tools:  # every tool of it is hidden here: enabling would list nothing
        return tool_error(f"toolset {name!r} has no tool server '{surface.settings.name}' allows (its profile, "
                          "allow_tools / deny_tools or a plugin's filter hide them all); nothing was enabled",
                          "scope_denied", toolset=name)
    if not surface.per_session(ctx):
        return tool_error(
            f"enable_toolset cannot change the tool list of this connection (protocol "
            f"{getattr(ctx, 'protocol_version', '?')}{'' if getattr(ctx, 'request', None) is None else ', HTTP'}): "
            "tools/list is the same for every client of a server here. Run the operation through "
            "search_operations / describe_operation / invoke_operation, or list the toolset on a named server "
            "(toolsets in the config, or --toolsets)", "not_supported")
    state = surface.state(ctx)
    already = name in state.enabled or name in surface.settings.toolsets
    state.enabled.add(name)
    if not already:
        try:
            await ctx.session.send_tool_list_changed()
        except Exception:  # a transport without a back-channel (stateless HTTP) cannot be told
            pass
    return tool_result({"toolset": name, "enabled": True, "already_enabled": already, "tools": tools})


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]

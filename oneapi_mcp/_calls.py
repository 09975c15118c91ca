"""The call path: a tools/call becomes a `ToolCall`, runs through the `oneapi_mcp_tool_call` wrappers
(audit, confirmation, plugins'), and the core dispatches it by the tool's kind: the executor runs a
generated operation, a registered tool's handler runs a composite or discovery tool.

A tool hidden by a filter is refused here, whatever the name it is called by; a plugin that raises
gives that call an error result and the server keeps serving.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from ._hooktypes import CompositeContext, ToolCall, tool_error, tool_result
from ._redact import scrub

if TYPE_CHECKING:
    import mcp_types as t

    from ._executor import CallResult
    from ._server import ToolSurface

__all__ = ["INVOKE", "client_identity", "handle_call", "resolve_call"]

#: the discovery tool whose call runs another tool: `name` and `arguments` select it
INVOKE = "invoke_operation"

_log = logging.getLogger("oneapi_mcp.calls")


async def handle_call(surface: ToolSurface, ctx: Any, name: str, arguments: dict[str, Any] | None,
                      client: str | None = None) -> t.CallToolResult:
    call = resolve_call(surface, ctx, name, arguments)
    if client is not None:  # a call the server makes itself (a schedule, an alert): who it is for the audit
        call.client = client
    token = call.activate()
    try:
        proceed = surface.runtime.plugins.hook.oneapi_mcp_tool_call(call=call)
        return await proceed()
    except Exception as exc:  # a plugin (or a composite handler) failed: this call only
        detail = scrub(f"{type(exc).__name__}: {exc}")
        _log.warning("tool call %s failed inside a plugin: %s", call.name, detail)
        return tool_error(f"{call.name}: the call failed inside a plugin ({detail}); other calls are not "
                          "affected", "plugin_error", tool=call.name)
    finally:
        call.deactivate(token)


def resolve_call(surface: ToolSurface, ctx: Any, name: str, arguments: dict[str, Any] | None) -> ToolCall:
    """What will run, decided before any plugin sees the call: the tool (the target of
    invoke_operation), and a refusal when the arguments of invoke_operation are wrong or a filter
    hides the tool."""
    args = dict(arguments or {})
    via = None
    refusal = None
    if name == INVOKE and name in surface.registered:
        target, inner = args.get("name"), args.get("arguments", {})
        extra = sorted(set(args) - {"name", "arguments"})
        if not isinstance(target, str):
            refusal = tool_error("invoke_operation needs 'name', the operation to run", "invalid_arguments")
        elif not isinstance(inner, dict):
            refusal = tool_error("invoke_operation 'arguments' must be an object", "invalid_arguments")
        elif extra:
            refusal = tool_error(f"invoke_operation takes only name and arguments, not {', '.join(extra)}",
                                 "invalid_arguments")
        else:
            via, name, args = "invoke_operation", target, dict(inner)
    tool: Any = None if refusal is not None else surface.tool(name)
    if tool is not None and via is not None and tool.kind == "discovery":
        tool = None  # invoke_operation runs operations and composite tools, not the discovery tools
    kind = "discovery" if refusal is not None else tool.kind if tool is not None else "unknown"
    if kind == "discovery":
        tool = None  # the discovery tools are the way to the others: ToolCall.tool names the tool run
    if kind == "unknown":
        refusal = tool_error(f"unknown tool {name!r}; find operations with search_operations", "unknown_tool")
    elif tool is not None and name in surface.hidden:
        refusal = tool_error(surface.hidden[name], "scope_denied", tool=name)
    call = ToolCall(name=name, arguments=args, server=surface.settings, kind=kind, tool=tool, via=via,
                    client=client_identity(ctx), ctx=ctx, runtime=surface.runtime, refusal=refusal)
    call.dispatch = partial(_dispatch, surface, call)
    if kind == "composite" and refusal is None and "dry_run" in tool.input_schema.get("properties", {}):
        call.preview = partial(_preview_composite, surface, call)
    return call


def client_identity(ctx: Any) -> str | None:
    """Who is calling, as far as the transport says: the HTTP client's authenticated identity,
    else the name/version the MCP client announced."""
    request = getattr(ctx, "request", None)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get("oneapi_mcp.client"):
        return str(scope["oneapi_mcp.client"])
    try:
        from mcp.server.auth.middleware.auth_context import get_access_token

        token = get_access_token()
        if token is not None:
            return f"oauth:{token.client_id}"
    except Exception:  # no auth context on this transport
        pass
    params = getattr(getattr(ctx, "session", None), "client_params", None)
    info = getattr(params, "client_info", None)
    if info is not None:
        return f"{info.name}/{info.version}" if getattr(info, "version", None) else str(info.name)
    return None


async def _dispatch(surface: ToolSurface, call: ToolCall) -> t.CallToolResult:
    """The core of every call, run innermost by the `oneapi_mcp_tool_call` chain."""
    if call.refusal is not None:
        return call.refusal
    if call.kind != "generated":
        return await _run_handler(surface, call, surface.registered[call.name])
    try:
        executor = surface.runtime.executor()
    except Exception as exc:  # not configured (the message lists what is missing), or a plugin failed
        return tool_error(scrub(str(exc)), _executor_failure(exc))
    result = await executor.call(call.tool, call.arguments)
    return tool_result(result.structured(), is_error=result.is_error)


async def _run_handler(surface: ToolSurface, call: ToolCall, tool: Any) -> t.CallToolResult:
    """A registered tool (composite or discovery): its arguments validated, then its handler."""
    import mcp_types as t

    from .composite._inputs import check_arguments

    arguments = check_arguments(tool, call.arguments)
    if isinstance(arguments, t.CallToolResult):
        return arguments
    context = CompositeContext(call=call, _invoke=partial(_call_operation, surface, call),
                               _preview=partial(_preview_operation, surface), surface=surface)
    data = await tool.handler(context, arguments)
    if isinstance(data, t.CallToolResult):
        return data
    return tool_result({"result": data})


async def _preview_composite(surface: ToolSurface, call: ToolCall, arguments: dict[str, Any]) -> t.CallToolResult:
    """Run the composite tool as a dry run (reads only): the plan that applying would carry out."""
    from dataclasses import replace

    planned = replace(call, arguments={**arguments, "dry_run": True}, upstream=[], extras={})
    return await _run_handler(surface, planned, call.tool)


def _executor_failure(exc: BaseException) -> str:
    """The error kind when the executor cannot be built: a plugin that raised (its credentials hook) is
    `plugin_error`; anything else means the server is not configured for calls."""
    from ._plugins import PluginError

    return "plugin_error" if isinstance(exc, PluginError) else "not_configured"


def _refused(surface: ToolSurface, name: str) -> CallResult | None:
    from ._executor import CallResult

    if name not in surface.runtime.catalog.tools:
        return CallResult({"error": {"kind": "unknown_tool", "message": f"unknown operation {name!r}"}},
                          is_error=True)
    if name in surface.hidden:  # profile, allow/deny globs and plugins' filters, as for a direct call
        return CallResult({"error": {"kind": "scope_denied", "message": surface.hidden[name]}}, is_error=True)
    return None


def _preview_operation(surface: ToolSurface, name: str, arguments: dict[str, Any]) -> CallResult:
    import json

    from ._executor import CallResult

    refused = _refused(surface, name)
    if refused is not None:
        return refused
    op = surface.runtime.catalog.tools[name]
    try:
        executor = surface.runtime.executor()
    except Exception as exc:
        return CallResult({"error": {"kind": _executor_failure(exc), "message": scrub(str(exc))}}, is_error=True)
    prepared = executor.prepare(op, arguments)
    if isinstance(prepared, CallResult):
        return prepared
    model, _control = prepared
    request = executor.build_request(op, model)
    body = json.loads(request.content) if request.content else None
    return CallResult({"operation": name, "scope": op.scope, "service": op.service, "method": request.method,
                       "path": request.url.path, "query": dict(request.url.params), "body": body})


async def _call_operation(surface: ToolSurface, parent: ToolCall, name: str, arguments: dict[str, Any]) -> CallResult:
    """One operation of a composite tool, run as a call of its own through the `oneapi_mcp_tool_call`
    wrappers (`parent` names the composite's call), so a call-log plugin sees it; the answer is the
    executor's whole `CallResult` (the tool reasons over it), unless a wrapper answered instead."""
    import mcp_types as t

    from ._executor import CallResult

    runtime = surface.runtime
    refused = _refused(surface, name)
    if refused is not None:
        return refused
    op = runtime.catalog.tools[name]
    child = ToolCall(name=name, arguments=arguments, server=parent.server, kind="generated", tool=op,
                     client=parent.client, ctx=parent.ctx, runtime=runtime, parent=parent, upstream=parent.upstream)
    answers: list[tuple[CallResult, t.CallToolResult]] = []

    async def dispatch() -> t.CallToolResult:
        try:
            executor = runtime.executor()
        except Exception as exc:
            result = CallResult({"error": {"kind": _executor_failure(exc), "message": scrub(str(exc))}},
                                is_error=True)
        else:
            result = await executor.call(op, child.arguments, cap=False)
        # not rendered as text: only the wrappers see it, and the uncapped answer may be large
        answers.append((result, t.CallToolResult(content=[], structured_content=result.structured(),
                                                 is_error=result.is_error)))
        return answers[-1][1]

    child.dispatch = dispatch
    # not made the current call: the request hooks keep seeing the call the client made (audit intents name it)
    answer = await runtime.plugins.hook.oneapi_mcp_tool_call(call=child)()
    if answers and answer is answers[-1][1]:
        return answers[-1][0]
    data = answer.structured_content or {}  # a wrapper refused or replaced it: its answer, as the executor's shape
    return CallResult(data if answer.is_error else data.get("result", data), is_error=bool(answer.is_error))

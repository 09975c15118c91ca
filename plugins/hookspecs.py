"""Every hook a oneapi-mcp plugin can implement. These docstrings are the plugin API's reference;
docs/plugin_hooks.md shows each with an example.

A plugin is a module (or object) with functions decorated by `oneapi_mcp.plugins.hookimpl` and named
like the hooks below; it may take any subset of a hook's parameters. Built-in behaviour ships as
plugins too (`oneapi_mcp._plugins.DEFAULT_PLUGINS`); third-party plugins load from the entry-point
group `oneapi_mcp`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from oneapi_mcp import plugin_api

if TYPE_CHECKING:
    import httpx
    import mcp_types as t
    from pydantic import BaseModel

    from oneapi_mcp.plugin_api import (
        Catalog,
        CompositeTool,
        Credentials,
        RateLimiter,
        Runtime,
        ServerSettings,
        ToolCall,
        ToolDef,
    )

PROJECT = "oneapi_mcp"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = plugin_api.hookimpl  # one marker, also offered by the plugin API


# ---------------------------------------------------------------------------------------------------
# Settings: what a plugin may be configured with, asked when settings are built (load and reload).
# ---------------------------------------------------------------------------------------------------

@hookspec
def oneapi_mcp_plugin_settings() -> Mapping[str, type[BaseModel] | str] | None:
    """Declare the settings this plugin owns: a pydantic model per `[servers.<name>.plugins.<table>]`,
    or its import path `"package.module:ClassName"` (imported when the table is first validated).

    A server's table is validated by the model when its settings are built, at start and at every
    reload (a bad value stops start-up, or the reload is refused); read it with
    `settings.plugin_settings("<table>")` (the model's defaults when the table is absent). A model's
    class variables `legacy_prefix` (`<prefix><field>`) and `legacy_keys` (old key -> field) move
    old-style keys of the server table into its table, with a deprecation warning; `live_settings`
    names the fields read per call, which a reload applies at once (the rest wait for a restart).

    :returns: a mapping of table name to pydantic model class (or its import path), or None.
    """


# ---------------------------------------------------------------------------------------------------
# Start-up and shutdown: once per named server, around serving.
# ---------------------------------------------------------------------------------------------------

@hookspec
def oneapi_mcp_startup(settings: ServerSettings, runtime: Runtime) -> Awaitable[None] | None:
    """The named server is about to serve: open connections, warm caches, check configuration.

    :param settings: the named server's settings.
    :param runtime: the server's runtime (`runtime.catalog`, `runtime.executor()`).
    :returns: None, or an awaitable the server awaits before serving. An exception stops start-up.
    """


@hookspec
def oneapi_mcp_shutdown(settings: ServerSettings, runtime: Runtime) -> Awaitable[None] | None:
    """The named server has stopped serving: flush and close what `oneapi_mcp_startup` opened.

    :param settings: the named server's settings.
    :param runtime: the server's runtime.
    :returns: None, or an awaitable the server awaits. Exceptions are logged, not raised.
    """


@hookspec
def oneapi_mcp_server_event(settings: ServerSettings, event: Mapping[str, Any]) -> None:
    """Something happened to the named server itself that belongs in its audit trail: a config reload
    (`{"time", "server", "event": "config_reload", "trigger", "file", "outcome", ...}`) or an anomaly
    alert (`{"event": "alert", "kind", "client", "tool", "message", ...}`).

    :param settings: the named server's settings (in effect after the event).
    :param event: the event as one JSON-able record.
    :returns: nothing. The audit plugin writes it to the audit log.
    """


# ---------------------------------------------------------------------------------------------------
# Credentials and the upstream HTTP client: asked when the first call needs the executor.
# ---------------------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def oneapi_mcp_credentials(settings: ServerSettings) -> Credentials | None:
    """Provide the OneAPI credentials (client id, secret or private key, vanity domain, cloud ...).

    Asked again before every token request, so a rotated secret takes effect without a restart.
    Stops at the first non-None result.

    :param settings: the named server's settings.
    :returns: a `Credentials`, or None to let the next plugin answer.
    """


@hookspec(firstresult=True)
def oneapi_mcp_http_auth(settings: ServerSettings, credentials: Credentials, token_url: str,
                         read_credentials: Callable[[], Credentials]) -> httpx.Auth | None:
    """Provide the `httpx.Auth` that authenticates every upstream request.

    Stops at the first non-None result.

    :param settings: the named server's settings.
    :param credentials: the credentials `oneapi_mcp_credentials` gave at start.
    :param token_url: the ZIdentity token endpoint for the tenant's cloud (or the override).
    :param read_credentials: reads the credentials again (call it per token request for rotation).
    :returns: an `httpx.Auth`, or None to let the next plugin answer.
    """


@hookspec(firstresult=True)
def oneapi_mcp_rate_limiter(settings: ServerSettings, catalog: Catalog) -> RateLimiter | None:
    """Provide the client-side rate limiter and retry policy for upstream requests.

    Stops at the first non-None result. With none, every request is sent once, unthrottled.

    :param settings: the named server's settings (`timeout` bounds how long a call may wait).
    :param catalog: the tool catalog; `catalog.rate_classes` holds each class's documented limits.
    :returns: an object with `acquire`, `retry_delay` and `sleep` (see `RateLimiter`), or None.
    """


# ---------------------------------------------------------------------------------------------------
# The tool surface: what a named server lists, asked once per server and cached.
# ---------------------------------------------------------------------------------------------------

@hookspec
def oneapi_mcp_register_tools(settings: ServerSettings) -> list[CompositeTool] | None:
    """Add composite tools (a definition plus an async handler) to the server's surface.

    Composite tools are listed in every tools mode, unless a filter hides them.

    :param settings: the named server's settings.
    :returns: a list of `CompositeTool`, or None.
    """


@hookspec
def oneapi_mcp_filter_tools(settings: ServerSettings,
                            tools: Sequence[ToolDef | CompositeTool]) -> Mapping[str, str] | Iterable[str] | None:
    """Hide tools from a named server. A tool is listed and callable only if no plugin hides it; a
    hidden tool called by name (directly or through invoke_operation) is refused.

    :param settings: the named server's settings.
    :param tools: every generated and composite tool (`.name`, `.scope`, `.service`, `.toolset`).
    :returns: the names to hide, or a mapping of name to the reason given when it is called anyway.
    """


@hookspec
def oneapi_mcp_tool_arguments(settings: ServerSettings,
                              tool: ToolDef | CompositeTool) -> Mapping[str, Mapping[str, Any]] | None:
    """Add arguments to a tool's listed input schema that this plugin consumes in its
    `oneapi_mcp_tool_call` wrapper (the scopes plugin's `confirm_token` on destructive tools). The
    wrapper must take them out of `call.arguments` before the call proceeds.

    :param settings: the named server's settings.
    :param tool: a generated or composite tool (`.name`, `.scope`, `.service`, `.toolset`).
    :returns: a mapping of argument name to its JSON schema, or None.
    """


# ---------------------------------------------------------------------------------------------------
# Tool calls: one chain of wrappers around every tools/call, discovery and composite tools included.
# ---------------------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def oneapi_mcp_tool_call(call: ToolCall) -> Callable[[], Awaitable[t.CallToolResult]] | None:
    """Run one tool call. Implement it as a new-style wrapper (`@hookimpl(wrapper=True)`):
    `proceed = yield` gives an async function that runs the rest of the chain; return an async
    function (usually one that awaits `proceed()`) to time, audit, confirm or refuse the call.

    The core implementation runs last and returns `call.dispatch`. Stops at the first non-None result.
    An exception raised here or in the returned function becomes an error result for this call.

    :param call: the call in flight (`name`, `arguments`, `tool`, `scope`, `server`, `client`, `extras`).
    :returns: an async function with no parameters that returns the `mcp_types.CallToolResult`.
    """


@hookspec(firstresult=True)
def oneapi_mcp_confirm_destructive(call: ToolCall, plan: Mapping[str, Any], token: str | None,
                                   what: str) -> Awaitable[str | t.CallToolResult] | None:
    """Get a person's yes for something destructive `call` is about to do, for a plugin that needs one
    itself (the scheduler, before it stores a destructive change that will run with nobody there). The
    built-in `scopes` plugin answers (`trylast`): MCP elicitation, else a single-use `confirm_token`
    bound to the client, the tool and `call.arguments`. Stops at the first non-None result.

    :param call: the call asking (its `name`, `arguments`, `client` and `ctx` are what is confirmed).
    :param plan: what will happen, shown to the person (`tool`, `scope`, `arguments` (redacted),
        `effect`, and `steps` of `{"step", "scope", "call"}`).
    :param token: the `confirm_token` the caller passed back, or None on a first call.
    :param what: what is confirmed, in words that fit "<what> was not run: ...".
    :returns: None (this plugin cannot confirm; with no answer at all, refuse), or an awaitable giving
        how it was confirmed (`"elicitation"`, `"confirm_token"`) or the `CallToolResult` to answer with
        instead (declined, a fresh token to call again with, an invalid token).
    """


@hookspec
def oneapi_mcp_audit_record(settings: ServerSettings, record: Mapping[str, Any],
                            call: ToolCall | None) -> Awaitable[None] | None:
    """The audit plugin's record of a tool call, handed to every plugin that acts on it (the SIEM export,
    anomaly alerts), whether or not the server writes an audit log: the intent record (`phase: intent`,
    before a call's first write request) and the outcome record (`phase: outcome`, when it finished).

    :param settings: the named server's settings.
    :param record: the record: `time`, `call_id`, `phase`, `server`, `client`, `tool`, `via`, `scope`,
        `arguments` (redacted), `arguments_sha256`; outcome records add `upstream`, `duration_ms`,
        `outcome`, `error_kind`, `confirmation`.
    :param call: the call it describes.
    :returns: None, or (for outcome records) an awaitable the call awaits before answering; intent
        records are handed over synchronously, before the request is sent.
    """


# ---------------------------------------------------------------------------------------------------
# Upstream requests: around each HTTP request the executor sends (retries and pages included).
# ---------------------------------------------------------------------------------------------------

@hookspec
def oneapi_mcp_before_request(call: ToolCall | None, tool: ToolDef, request: httpx.Request) -> None:
    """An upstream request is about to be sent (after the rate limiter admitted it); headers may be
    added. Runs again for every retry and every page.

    :param call: the tool call it serves, or None outside a tool call (e.g. `oneapi-mcp doctor`).
    :param tool: the generated operation.
    :param request: the `httpx.Request` (authentication is added after this hook).
    :returns: nothing.
    """


@hookspec
def oneapi_mcp_after_response(call: ToolCall | None, tool: ToolDef, request: httpx.Request,
                              response: httpx.Response | None, error: BaseException | None) -> None:
    """An upstream request finished: with a response, or with a transport error (timeout, refused).

    :param call: the tool call it serves, or None outside a tool call.
    :param tool: the generated operation.
    :param request: the request that was sent.
    :param response: the response (its body is read), or None when `error` is set.
    :param error: the `httpx.HTTPError` that ended the attempt, or None.
    :returns: nothing.
    """

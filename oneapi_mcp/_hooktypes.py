"""The values plugin hooks receive and return: a tool call in flight, a composite tool, a rate limiter.

Plugins import them from `oneapi_mcp.plugins`; they live here so the runtime does not import the
plugins package to use them.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx
    import mcp_types as t
    from pydantic import BaseModel

    from ._catalog import ToolDef
    from ._executor import CallResult
    from ._runtime import Runtime
    from ._settings import ServerSettings

__all__ = [
    "DISCOVERY_TOOLS",
    "SCOPE_ORDER",
    "CompositeContext",
    "CompositeTool",
    "RateLimited",
    "RateLimiter",
    "ToolCall",
    "annotations_for_scope",
    "current_call",
    "tool_error",
    "tool_result",
]

SCOPE_ORDER = ("read", "write", "destructive")
# the tools every server offers for finding and running operations (not plugins' composite tools)
DISCOVERY_TOOLS = ("search_operations", "describe_operation", "invoke_operation", "enable_toolset")

_CURRENT: contextvars.ContextVar[ToolCall | None] = contextvars.ContextVar("oneapi_mcp_call", default=None)


def current_call() -> ToolCall | None:
    """The tool call this task is serving (None outside a tool call, e.g. in `doctor`)."""
    return _CURRENT.get()


def tool_result(data: dict[str, Any], *, is_error: bool = False,
                redact_names: bool | None = None) -> t.CallToolResult:
    """A tool result whose text and structured content carry `data`; registered secret values are
    scrubbed, and in error results (or when `redact_names`) secret-named keys are redacted too."""
    import json

    import mcp_types as t

    from ._redact import redact
    from ._shaping import MAX_RESULT_TEXT, fits_within

    # measured before anything walks it: a value of shared references must never be expanded whole
    if not fits_within(data, MAX_RESULT_TEXT):
        data, is_error = {"error": {"kind": "result_too_large", "message": f"the result is over "
                                    f"{MAX_RESULT_TEXT:,} bytes of JSON and was not sent; narrow it "
                                    "(fields, query, max_items)"}}, True
    data = redact(data, names=is_error if redact_names is None else redact_names)
    return t.CallToolResult(
        content=[t.TextContent(type="text", text=json.dumps(data, indent=1, default=str, ensure_ascii=False))],
        structured_content=data,
        is_error=is_error,
    )


def tool_error(message: str, kind: str = "invalid_request", **extra: Any) -> t.CallToolResult:
    """An error result: `{"error": {"kind", "message", ...}}`."""
    return tool_result({"error": {"kind": kind, "message": message, **extra}}, is_error=True)


def annotations_for_scope(scope: str) -> dict[str, bool]:
    """The four MCP annotations, derived from one scope exactly as for generated tools."""
    return {"readOnlyHint": scope == "read", "destructiveHint": scope == "destructive",
            "idempotentHint": scope == "read", "openWorldHint": True}


@dataclass
class CompositeContext:
    """What a composite tool's handler gets: calls to generated operations through the same executor
    (so auth, rate limits, request hooks and audit apply), the server's settings and the call."""

    call: ToolCall
    _invoke: Callable[[str, dict[str, Any]], Awaitable[CallResult]]
    _preview: Callable[[str, dict[str, Any]], CallResult] | None = None
    #: the tool surface the call runs on (what this server lists, hides and has enabled)
    surface: Any = None

    @property
    def settings(self) -> ServerSettings:
        return self.call.server

    async def call_operation(self, name: str, arguments: dict[str, Any] | None = None) -> CallResult:
        """Run one generated operation (e.g. "zia_list_users"); returns its `CallResult`
        (`.data`, `.is_error`, `.notes`). An operation whose scope the server does not allow is refused."""
        return await self._invoke(name, dict(arguments or {}))

    def preview_operation(self, name: str, arguments: dict[str, Any] | None = None) -> CallResult:
        """The exact request `call_operation` would send, without sending it: `.data` is
        `{"operation", "scope", "method", "path", "query", "body"}`, or an error (invalid arguments,
        an operation this server does not allow) exactly as `call_operation` would return it."""
        if self._preview is None:
            raise RuntimeError("this context cannot preview operations")
        return self._preview(name, dict(arguments or {}))

    async def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        """An MCP progress notification for this call (nothing when the client sent no progress token)."""
        session = getattr(self.call.ctx, "session", None)
        if session is None or not hasattr(session, "report_progress"):
            return
        try:
            await session.report_progress(done, total, message)
        except Exception:  # the client went away or the transport cannot notify: progress is best effort
            pass


@dataclass(frozen=True)
class CompositeTool:
    """A tool a plugin adds: a definition (data) plus an async handler.

    `handler(ctx: CompositeContext, arguments: dict) -> Any` returns JSON-able data (wrapped as
    `{"result": ...}`) or a ready `mcp_types.CallToolResult`. `operations` names the generated
    operations it uses; its effective scope is the widest of `scope` and theirs.

    Its arguments are declared by `input_model` (a pydantic model, best a `ToolInput` subclass, or its
    import path "package.module:ClassName", imported on the tool's first call so start-up defines no model: its
    JSON schema is the listed one, stored for the built-in tools and otherwise derived when first
    listed; it validates the arguments before the handler runs, which gets the validated values) or
    by `input_schema` (a JSON schema, validated with jsonschema; kept for older plugins). `kind` is
    "composite", or "discovery" for a tool that finds and runs the others (the built-in
    search/describe/invoke/enable_toolset): no filter hides one and search does not return it.
    `hints` overrides the four MCP annotations derived from `scope`; `listed(settings, per_session)`
    decides whether tools/list shows it (default: the server's `list_composites`). `keywords`: what
    administrators call the job and the situations it answers ("leaver", "phished credentials"), which
    search_operations matches beside the title and description; not listed.
    """

    name: str
    description: str
    handler: Callable[[CompositeContext, dict[str, Any]], Awaitable[Any]]
    input_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    scope: str = "read"
    toolset: str = "composite"
    service: str = "composite"
    title: str | None = None
    operations: tuple[str, ...] = ()
    kind: str = "composite"
    hints: Mapping[str, bool] | None = None
    listed: Callable[[ServerSettings, bool], bool] | None = field(default=None, repr=False, compare=False)
    input_model: type[BaseModel] | str | None = field(default=None, repr=False)
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.scope not in SCOPE_ORDER:
            raise ValueError(f"composite tool {self.name}: scope must be one of {', '.join(SCOPE_ORDER)}")
        if self.input_model is not None:
            from .composite._stored import InputSchema, check_model_path  # resolved when first read, not at start

            if isinstance(self.input_model, str):
                check_model_path(self.name, self.input_model)
            object.__setattr__(self, "input_schema", InputSchema(self.name, self.input_model))
        if self.kind not in ("composite", "discovery"):
            raise ValueError(f"composite tool {self.name}: kind must be composite or discovery")
        if isinstance(self.keywords, str) or not all(isinstance(k, str) and k.strip() for k in self.keywords):
            raise ValueError(f"composite tool {self.name}: keywords must be a tuple of phrases (non-empty strings), "
                             f"got {self.keywords!r}")
        object.__setattr__(self, "keywords", tuple(self.keywords))

    @property
    def annotations(self) -> dict[str, bool]:
        return dict(self.hints) if self.hints is not None else annotations_for_scope(self.scope)


@dataclass
class ToolCall:
    """One `tools/call` in flight, as the `oneapi_mcp_tool_call` wrappers and request hooks see it.

    `name`/`arguments` are the tool actually run: for `invoke_operation` they are its target and the
    target's arguments (`via` says so). `tool` is a `ToolDef`, a `CompositeTool`, or None (discovery
    tools and unknown names). `refusal` is set when the call will be refused (hidden by a filter,
    bad invoke_operation arguments); the core then returns it without running anything. `parent` is set
    for an operation a composite tool runs through `call_operation`: the composite's call. `preview`
    (composite tools that plan) runs the tool with `dry_run` true and the given arguments.
    """

    name: str
    arguments: dict[str, Any]
    server: ServerSettings
    kind: str  # "discovery", "generated", "composite" or "unknown"
    tool: Any = None
    via: str | None = None
    client: str | None = None
    ctx: Any = None
    runtime: Runtime | None = None
    refusal: t.CallToolResult | None = None
    preview: Callable[[dict[str, Any]], Awaitable[t.CallToolResult]] | None = field(default=None, repr=False)
    started: float = field(default_factory=time.perf_counter)
    upstream: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    dispatch: Callable[[], Awaitable[t.CallToolResult]] | None = field(default=None, repr=False)
    # an operation a composite tool runs through call_operation: the composite's call (its upstream list is shared)
    parent: ToolCall | None = field(default=None, repr=False)

    @property
    def scope(self) -> str | None:
        return getattr(self.tool, "scope", None)

    def activate(self) -> contextvars.Token:
        return _CURRENT.set(self)

    @staticmethod
    def deactivate(token: contextvars.Token) -> None:
        _CURRENT.reset(token)


class RateLimited(Exception):
    """The client-side limiter will not admit a request within the server's timeout."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter(Protocol):
    """What the executor asks of the limiter that `oneapi_mcp_rate_limiter` provides."""

    async def acquire(self, tool: ToolDef) -> None:
        """Wait for the tool's rate class to admit one request, or raise `RateLimited`."""

    def retry_delay(self, tool: ToolDef, attempt: int, response: httpx.Response | None,
                    error: BaseException | None) -> float | None:
        """Seconds to wait before sending attempt `attempt + 1` again, or None to stop here."""

    async def sleep(self, seconds: float) -> None:
        """Wait (injectable, so tests never sleep)."""

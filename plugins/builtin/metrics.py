"""Built-in plugin: Prometheus metrics per named server, tool and service (served at /metrics by
`serve --transport http`; see docs/deploy.md).

- Tool calls (outermost tool-call wrapper): calls by outcome (ok, error, refused: a filter, an
  unknown tool or a confirmation step said no), error results by kind, duration, and in flight.
- Upstream requests (before_request / after_response): latency of every attempt by service,
  method and status class, 429s received.
- The rate limiter (a wrapper around `oneapi_mcp_rate_limiter`'s answer, whichever plugin gave it):
  the time each request spent waiting for a slot, the requests refused because the slot was beyond
  the timeout, and the retries the policy asked for. The limiter itself is not changed.
- Token refreshes: the `token_requests` count of the auth `oneapi_mcp_http_auth` returned (the
  built-in `OneAPIAuth` keeps one), read when scraped.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import RateLimited, error_kind_label, metrics

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    import httpx
    import mcp_types as t

    from oneapi_mcp.plugin_api import Catalog, ServerSettings, ToolCall, ToolDef

# error kinds that mean the server declined to run the call, as the audit log's "denied" outcomes
REFUSAL_KINDS = frozenset({"scope_denied", "unknown_tool", "confirmation_required", "confirmation_invalid",
                           "confirmation_declined"})
_WAITED = 0.01  # the limiter never sleeps less than this: a shorter acquire found a free slot
_sent_at: weakref.WeakKeyDictionary[httpx.Request, float] = weakref.WeakKeyDictionary()


def _server(call: ToolCall | None) -> str:
    return call.server.name if call is not None else "none"  # no call: `oneapi-mcp doctor`


def outcome_of(call: ToolCall, result: t.CallToolResult) -> tuple[str, str | None]:
    """(outcome, error kind) of a finished call."""
    if not result.is_error:
        return "ok", None
    error = (result.structured_content or {}).get("error")
    kind = error_kind_label(error.get("kind") if isinstance(error, dict) else None)
    return ("refused" if call.refusal is not None or kind in REFUSAL_KINDS else "error"), kind


@hookimpl(wrapper=True, tryfirst=True)
def oneapi_mcp_tool_call(call: ToolCall):
    proceed = yield
    if call.parent is not None:  # a composite's operation: its composite's call is the one audited, confirmed, fenced
        return proceed
    if proceed is None:
        return None
    tool = call.name if call.kind != "unknown" else "unknown"  # a caller's made-up name is no label

    async def measured():
        m = metrics()
        server = call.server.name
        m.in_flight.labels(server).inc()
        started = time.perf_counter()
        outcome, kind = "error", "plugin_error"
        try:
            result = await proceed()
            outcome, kind = outcome_of(call, result)
            return result
        except BaseException as exc:
            if not isinstance(exc, Exception):
                kind = "cancelled"  # the client cancelled or the server is stopping
            raise
        finally:
            m.in_flight.labels(server).dec()
            m.tool_calls.labels(server, tool, call.kind, outcome).inc()
            if kind is not None:
                m.tool_errors.labels(server, tool, kind).inc()
            m.tool_duration.labels(server, call.kind).observe(time.perf_counter() - started)

    return measured


@hookimpl
def oneapi_mcp_before_request(call: ToolCall | None, request: httpx.Request) -> None:
    _sent_at[request] = time.perf_counter()  # a retry sends the same request again: timed afresh


@hookimpl
def oneapi_mcp_after_response(call: ToolCall | None, tool: ToolDef, request: httpx.Request,
                              response: httpx.Response | None) -> None:
    sent = _sent_at.pop(request, None)
    m = metrics()
    server = _server(call)
    status = f"{response.status_code // 100}xx" if response is not None else "error"
    if sent is not None:
        m.upstream_duration.labels(server, tool.service, request.method, status).observe(time.perf_counter() - sent)
    if response is not None and response.status_code == 429:
        m.throttled.labels(server, tool.service).inc()


@hookimpl(wrapper=True)
def oneapi_mcp_rate_limiter(settings: ServerSettings, catalog: Catalog):
    limiter = yield
    return None if limiter is None else MeasuredLimiter(limiter, settings.name)


@hookimpl(wrapper=True)
def oneapi_mcp_http_auth(settings: ServerSettings):
    auth = yield
    if auth is not None:
        metrics().track_token_source(settings.name, auth)
    return auth


class MeasuredLimiter:
    """The limiter a plugin provided, timed from the outside; every other attribute is the limiter's."""

    def __init__(self, limiter: Any, server: str):
        self.limiter = limiter
        self.server = server

    async def acquire(self, tool: ToolDef, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            await self.limiter.acquire(tool, *args, **kwargs)
        except RateLimited:
            metrics().rate_limit_rejections.labels(self.server, tool.service).inc()
            raise
        finally:
            waited = time.perf_counter() - started
            m = metrics()
            m.rate_limit_wait_seconds.labels(self.server, tool.service).observe(waited)
            if waited >= _WAITED:
                m.rate_limit_waits.labels(self.server, tool.service).inc()

    def retry_delay(self, tool: ToolDef, attempt: int, response: Any, error: Any) -> float | None:
        delay = self.limiter.retry_delay(tool, attempt, response, error)
        if delay is not None:
            metrics().retries.labels(self.server, tool.service).inc()
        return delay

    async def sleep(self, seconds: float) -> None:
        await self.limiter.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.limiter, name)

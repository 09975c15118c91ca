"""The executor's sending layer: a built request goes through the rate limiter and the request hooks,
is retried only as the limiter's policy says, and never a write after it may have been sent
(`unknown_outcome`); the answer becomes data, or an error that says what happened and what to do. A 2xx
that claims JSON and does not parse is `invalid_upstream_response`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from ._call_result import CallResult
from ._call_result import error_result as _error
from ._catalog import ToolDef
from ._graphql import graphql_result
from ._hooktypes import RateLimited, RateLimiter, current_call
from ._redact import scrub

__all__ = ["exchange", "retry_after_seconds", "send", "status_hint"]


async def exchange(client: httpx.AsyncClient, tool: ToolDef, request: httpx.Request, *,
                   limiter: RateLimiter | None = None, hooks: Any = None) -> httpx.Response | CallResult:
    """Send `request`, through the limiter and the request hooks, retrying as the limiter says."""
    call = current_call()
    attempt = 0
    while True:
        attempt += 1
        if limiter is not None:
            try:
                await limiter.acquire(tool)
            except RateLimited as exc:
                return _error(tool, None, "rate_limited", str(exc), retry_after_seconds=round(exc.retry_after))
        if hooks is not None:
            hooks.oneapi_mcp_before_request(call=call, tool=tool, request=request)
        response: httpx.Response | None = None
        error: httpx.HTTPError | None = None
        try:
            response = await client.send(request)
        except httpx.HTTPError as exc:
            error = exc
        except Exception as exc:  # e.g. AuthError from the token request
            return _error(tool, None, "auth", str(exc))
        if call is not None:
            call.upstream.append({"method": request.method, "path": request.url.path,
                                  "status": response.status_code if response is not None else None,
                                  "error": type(error).__name__ if error is not None else None})
        if hooks is not None:
            hooks.oneapi_mcp_after_response(call=call, tool=tool, request=request, response=response,
                                            error=error)
        delay = limiter.retry_delay(tool, attempt, response, error) if limiter is not None else None
        if delay is None or _maybe_applied(request, error, response):  # asked anyway: it settles its slot
            break
        assert limiter is not None  # only the limiter gives a delay
        await limiter.sleep(delay)
    if _maybe_applied(request, error):
        what = "no answer came within the server's timeout" if isinstance(error, httpx.TimeoutException) else (
            f"the connection was cut off ({type(error).__name__})")
        return _error(tool, None, "unknown_outcome", f"{tool.service.upper()} {request.method} "
                      f"{request.url.path}: {what}, after the request may have been sent. The request may "
                      "have been applied; check before retrying (read the object or list it)",
                      next_step="check whether the change is there before sending it again")
    if isinstance(error, httpx.TimeoutException):
        return _error(tool, None, "timeout", f"{tool.service.upper()} did not answer within the server's "
                                             "timeout; retry, or raise the named server's timeout")
    if error is not None:
        return _error(tool, None, "unreachable", f"could not reach {request.url.host}: {type(error).__name__}; "
                                                 "nothing was sent, retry")
    assert response is not None  # no error: an answer
    return response


async def send(client: httpx.AsyncClient, tool: ToolDef, request: httpx.Request, *,
               limiter: RateLimiter | None = None, hooks: Any = None) -> CallResult:
    """`exchange`, then the answer read: an upstream error, a broken body, or the data (with notes)."""
    response = await exchange(client, tool, request, limiter=limiter, hooks=hooks)
    if isinstance(response, CallResult):
        return response
    if response.status_code >= 400:
        return _upstream_error(tool, response)
    data, parsed = _body(response)
    if isinstance(data, _Unparsable):
        excerpt = scrub(response.text[:200])
        step = ("the request may have been applied; check before retrying" if request.method in _WRITES
                else "retry; if it persists, the service is returning broken answers")
        return _error(tool, response.status_code, "invalid_upstream_response",
                      f"{tool.service.upper()} answered HTTP {response.status_code} with a body that claims to "
                      f"be JSON and does not parse ({data.reason}). It begins: {excerpt!r}", next_step=step)
    if tool.graphql:  # the answer's `errors` are an error; `data` is unwrapped to the operation's result
        data, failed = graphql_result(tool, data)
        if failed:
            if failed["error"].get("status") in (401, 403, 404):  # as a REST answer with that status says
                failed["error"]["next_step"] = status_hint(tool.service.upper(), failed["error"]["status"],
                                                           failed["error"].get("code"))
            return CallResult(failed, is_error=True)
    notes = []
    if tool.service in ("zia", "ztw") and tool.scope != "read" and not tool.path.endswith(
            ("/status/activate", "/ecAdminActivateStatus/activate", "/ecAdminActivateStatus/forcedActivate")):
        activate = "zia_activate" if tool.service == "zia" else "ztw_activate"
        notes.append(f"{tool.service.upper()} change is staged (activation status PENDING) until activated; "
                     f"call {activate} to apply it. Activation is tenant-wide: it commits every pending change.")
    return CallResult(data, notes=notes, received=len(response.content) if parsed else None)


@dataclass
class _Unparsable:
    reason: str


def _body(response: httpx.Response) -> tuple[Any, bool]:
    """The answer's data, and whether it is the JSON body as parsed (or a stand-in no longer than
    `_shaping.TREE_WRAPPER`): what `CallResult.received` may vouch for."""
    if not response.content:
        return {"status": response.status_code}, True
    ctype = response.headers.get("content-type", "")
    if "json" in ctype.lower() or response.content.lstrip()[:1] in (b"{", b"["):
        try:
            return response.json(), True
        except ValueError as exc:  # UnicodeDecodeError included: a broken answer, never an empty success
            return _Unparsable(f"{type(exc).__name__}: {str(exc)[:120]}"), False
    return {"status": response.status_code, "content_type": ctype, "text": response.text[:20_000]}, False


_WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Errors after which the request may have reached upstream (everything but failing to connect).
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _maybe_applied(request: httpx.Request, error: BaseException | None,
                   response: httpx.Response | None = None) -> bool:
    """A write whose outcome nobody knows (cut off, timed out, or a gateway gave up on it): it may
    have been applied, so it is never sent again."""
    if request.method not in _WRITES:
        return False
    if response is not None:
        return response.status_code in (502, 504)
    return error is not None and not isinstance(error, _NOT_SENT)


def _gateway_quota_left(response: httpx.Response) -> bool:
    """The OneAPI gateway sends its own quota on every answer (x-ratelimit-limit "5000, 5000;w=60",
    x-ratelimit-remaining, x-ratelimit-reset: the quota window's end; recorded in tests/recorded/). While
    that quota has requests left, a 429 came from the service, whose own header says how long to wait."""
    m = re.match(r"\s*(\d+)", response.headers.get("x-ratelimit-remaining", ""))
    return m is not None and int(m.group(1)) > 0


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait, from any variant OneAPI services send, in the SDKs' priority order:
    `Retry-After` (seconds, "13s", or an HTTP date), `x-ratelimit-reset` (seconds left),
    `RateLimit-Reset` (an epoch, or seconds), `X-Rate-Limit-Retry-After-Seconds`, then a body's
    "Retry-After" ("0 seconds", ZTW)."""
    import time
    from email.utils import parsedate_to_datetime

    now = time.time() if now is None else now
    for header in ("Retry-After", "x-ratelimit-reset", "RateLimit-Reset", "X-Rate-Limit-Retry-After-Seconds"):
        raw = response.headers.get(header)
        if not raw or (header == "x-ratelimit-reset" and _gateway_quota_left(response)):
            continue
        m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)?\s*$", raw, re.IGNORECASE)
        if m:
            value = float(m.group(1))
            return max(0.0, value - now) if value > 1e9 else value  # an epoch (ZDX RateLimit-Reset)
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            continue
    try:
        body = response.json()
    except ValueError:
        return None
    raw = body.get("Retry-After") if isinstance(body, dict) else None
    m = re.match(r"\s*(\d+(?:\.\d+)?)", str(raw)) if raw is not None else None
    return float(m.group(1)) if m else None


def status_hint(svc: str, status: int, code: Any = None) -> str:
    """What to do after a 401, 403 or 404, whether a REST status or a GraphQL error's (`_graphql`)."""
    if status == 401:
        return "authentication failed even after a fresh token: check the API client's credentials"
    if status == 403 and code == "LIMIT_EXCEEDED":
        return "the tenant's capacity for this object is reached; do not retry"
    if status == 403:
        return f"the API client lacks the role or scope for this {svc} resource, or the tenant is not entitled to {svc}"
    return "no such object: check the identifier (list the collection to find it)"


def _upstream_error(tool: ToolDef, response: httpx.Response) -> CallResult:
    status = response.status_code
    code = message = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") or body.get("id") or body.get("error")
        message = body.get("message") or body.get("reason") or body.get("error_description")
    if not message:
        message = response.text[:300] or response.reason_phrase
    svc = tool.service.upper()
    if status in (401, 403, 404):
        hint = status_hint(svc, status, code)
    elif status == 429:
        wait = retry_after_seconds(response)
        hint = f"{svc} rate limit reached; retry after {wait:.0f} s" if wait is not None else (
            f"{svc} rate limit reached; retry later")
    elif status in (409, 412):
        hint = "another admin holds the edit lock; retry in a few seconds"
    elif _maybe_applied(response.request, None, response):
        hint = ("a gateway gave up on the request, which may have been applied; check before retrying "
                "(read the object or list it)")
    elif status >= 500:
        hint = f"{svc} failed on its side; retry shortly"
    else:
        hint = "the request was rejected; fix the arguments named in the message"
    extra: dict[str, Any] = {"next_step": hint}
    if code:
        extra["code"] = code
    kind = "unknown_outcome" if _maybe_applied(response.request, None, response) else "upstream"
    if status == 429:  # the limiter's retries (if any) are spent: say so, with the wait when known
        kind = "rate_limited"
        if wait is not None:
            extra["retry_after_seconds"] = round(wait)
    return _error(tool, status, kind, f"{svc} answered HTTP {status}: {message}", **extra)

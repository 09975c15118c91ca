"""The executor: a validated tool call becomes HTTP requests, and the responses a shaped result.

One pooled `httpx.AsyncClient` per process. Arguments are validated by the tool's pydantic model
before anything is sent (path values must stay in their segment: `_paths`); upstream errors become
results that say what happened and what to do. Each request passes the rate limiter (from the
`oneapi_mcp_rate_limiter` hook), the `oneapi_mcp_before_request` / `oneapi_mcp_after_response` hooks,
and is retried only as the limiter's policy says, and never a write after it may have been sent
(`unknown_outcome`). A 2xx that claims JSON and does not parse is `invalid_upstream_response`.
Results are shaped within limits (`_shaping`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import ValidationError

from . import _shaping
from ._catalog import Catalog, ToolDef
from ._entitlement import Entitlements
from ._hooktypes import RateLimited, RateLimiter, current_call
from ._passthrough import passed_through, passed_through_note
from ._paths import PathEscape, path_matches, path_value_problems
from ._redact import is_secret_name, redact, scrub

__all__ = ["CONTROL_ARGUMENTS", "CallResult", "Executor", "PathEscape", "describe_validation_error",
           "retry_after_seconds"]

# Arguments the server adds to generated tools; they shape the call and never reach upstream.
CONTROL_ARGUMENTS: dict[str, dict] = {
    "max_items": {"type": "integer", "minimum": 1,
                  "description": "List calls: stop after this many items (fetching further pages as needed)."},
    "all_pages": {"type": "boolean", "description": "List calls: fetch every page (bounded by max_items)."},
    "fields": {"type": "array", "items": {"type": "string"}, "maxItems": _shaping.MAX_FIELDS,
               "description": "Keep only these top-level fields of each returned object."},
    "query": {"type": "string", "maxLength": _shaping.MAX_QUERY_CHARS,
              "description": "A JMESPath expression applied to the result, e.g. "
                             "\"[?disabled].{id: id, name: name}\"."},
}
_PAGINATION_ONLY = ("max_items", "all_pages")
# Page sizes for page-numbered lists, within every documented maximum so that no endpoint clamps them
# (a clamped page would look short, the last one): reference/zscaler-api.md "Pagination" (ZIA users
# 10,000; ZPA 500) and the SDK's limits in zscaler/oneapi_response.py (ZIA 10,000, ZCC 5,000, ZPA 500;
# its ZIA default is 500). ZTW is the ZIA platform's API and pages the same way.
_PAGE_SIZE = {"zia": 500, "ztw": 500, "zcc": 1_000, "zpa": 500}
_MAX_PAGES = 200


@dataclass
class CallResult:
    data: Any
    is_error: bool = False
    notes: list[str] = field(default_factory=list)

    def structured(self) -> dict[str, Any]:
        out = dict(self.data) if isinstance(self.data, dict) and self.is_error else {"result": self.data}
        if self.notes:
            out["notes"] = self.notes
        return out


def describe_validation_error(tool: str, exc: ValidationError) -> dict[str, Any]:
    """The problems in a tool's arguments, each naming its field. A value is echoed back (`got`) only
    when no part of its path is a secret field, and then with any secret inside it redacted."""
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        problem = scrub(err["msg"])
        if err["type"] == "extra_forbidden":
            problems.append({"field": where, "problem": "unknown argument"})
        elif err["type"] == "missing":
            problems.append({"field": where, "problem": "required argument is missing"})
        elif any(is_secret_name(part) for part in err["loc"]):
            problems.append({"field": where, "problem": problem})  # never echo a secret back
        else:
            problems.append({"field": where, "problem": problem, "got": _short(redact(err.get("input")))})
    return {"error": {"kind": "invalid_arguments", "tool": tool, "problems": problems,
                      "message": f"{tool}: invalid arguments, nothing was sent upstream: "
                                 + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)}}


def _invalid(tool: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """Problems found after validation (path values), in the shape of `describe_validation_error`."""
    return {"error": {"kind": "invalid_arguments", "tool": tool, "problems": problems,
                      "message": f"{tool}: invalid arguments, nothing was sent upstream: "
                                 + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)}}


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= 120 else text[:117] + "..."


class Executor:
    def __init__(
        self,
        catalog: Catalog,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        customer_id: str | None = None,
        microtenant_id: str | None = None,
        max_result_bytes: int = 60_000,
        hooks: Any = None,
        limiter: RateLimiter | None = None,
    ):
        self.hooks = hooks  # pluggy's `pm.hook`, for the request hooks; None: no hooks
        self.limiter = limiter
        self.catalog = catalog
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.customer_id = customer_id
        self.microtenant_id = microtenant_id
        self.max_result_bytes = max_result_bytes
        self.entitlements = Entitlements()

    # -- arguments -----------------------------------------------------------------------------
    def prepare(self, tool: ToolDef, arguments: dict[str, Any]) -> tuple[Any, dict[str, Any]] | CallResult:
        """Split control arguments off, fill settings-provided parameters, validate the rest."""
        args = dict(arguments or {})
        if tool.scope == "destructive":
            args.pop("confirm_token", None)  # consumed by the confirmation wrapper, never sent upstream
        control = {k: args.pop(k) for k in list(args) if k in CONTROL_ARGUMENTS}
        if not tool.pagination:
            stray = [k for k in control if k in _PAGINATION_ONLY]
            if stray:
                return CallResult({"error": {"kind": "invalid_arguments", "tool": tool.name,
                                             "message": f"{tool.name} is not a paginated list; "
                                                        f"{', '.join(stray)} do not apply"}}, is_error=True)
        for fname, wire, location, _req, _ in tool.params:
            if location == "path" and wire == "customerId" and fname not in args and self.customer_id:
                args[fname] = self.customer_id
        try:
            model = self.catalog.input_model(tool.name).model_validate(args)
        except ValidationError as exc:
            if any(e["loc"][:1] == ("customerId",) and e["type"] == "missing" for e in exc.errors()):
                return CallResult({"error": {"kind": "missing_setting", "tool": tool.name,
                                             "message": "ZPA tools need the tenant's customer id: set ZPA_CUSTOMER_ID "
                                                        "(or ZSCALER_CUSTOMER_ID), or pass customerId."}},
                                  is_error=True)
            return CallResult(describe_validation_error(tool.name, exc), is_error=True)
        problems = path_value_problems(tool, model)
        if problems:
            return CallResult(_invalid(tool.name, problems), is_error=True)
        bad = _check_control(control)
        if bad:
            return CallResult({"error": {"kind": "invalid_arguments", "tool": tool.name, "message": bad}},
                              is_error=True)
        return model, control

    def build_request(self, tool: ToolDef, model: Any, extra_query: dict[str, Any] | None = None) -> httpx.Request:
        values = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
        path = tool.path
        query: list[tuple[str, str]] = []
        body: Any = None
        for fname, wire, location, _req, explode in tool.params:
            if fname not in values:
                continue
            value = values[fname]
            if location == "path":
                path = path.replace("{" + wire + "}", quote(str(value), safe=""))
            elif location == "query":
                if isinstance(value, list):
                    if explode:
                        query.extend((wire, _text(v)) for v in value)
                    else:
                        query.append((wire, ",".join(_text(v) for v in value)))
                elif value is not None:
                    query.append((wire, _text(value)))
            else:
                body = value
        if tool.service == "zpa" and self.microtenant_id and not any(k == "microtenantId" for k, _ in query):
            if any(wire == "microtenantId" for _, wire, loc, _, _ in tool.params if loc == "query"):
                query.append(("microtenantId", self.microtenant_id))
        for key, value in (extra_query or {}).items():
            query = [(k, v) for k, v in query if k != key] + [(key, _text(value))]
        kwargs: dict[str, Any] = {"params": query}
        if body is not None:
            if tool.body_content_type == "text/plain":
                kwargs["content"] = str(body).encode()
                kwargs["headers"] = {"Content-Type": "text/plain"}
            else:
                kwargs["json"] = body
        request = self.client.build_request(tool.method, self.base_url + path, **kwargs)
        template = urlsplit(self.base_url).path + tool.path
        if not path_matches(template, request.url.raw_path.split(b"?")[0].decode("ascii")):
            raise PathEscape(f"{tool.name}: the request path {request.url.path!r} does not match the operation's "
                             f"path {template!r}; nothing was sent")
        return request

    # -- the call ------------------------------------------------------------------------------
    async def call(self, tool: ToolDef, arguments: dict[str, Any], *, cap: bool = True) -> CallResult:
        """Run one operation. `cap=False` (composite tools' own reads) skips the result byte cap,
        which exists to keep what reaches the agent small, not what a tool reasons over."""
        prepared = self.prepare(tool, arguments)
        if isinstance(prepared, CallResult):
            return prepared
        if refused := self.entitlements.refusal(tool):
            return refused
        model, control = prepared
        unknown = passed_through(model, tuple(f for f, _w, loc, _r, _e in tool.params if loc == "body"))
        try:
            if tool.pagination and (control.get("all_pages") or control.get("max_items")):
                result = await self._paginate(tool, model, control)
            else:
                result = await self._send(tool, self.build_request(tool, model))
        except PathEscape as exc:
            return _error(tool, None, "invalid_arguments", str(exc))
        result = await self.entitlements.after(self, tool, result)
        if result.is_error:
            return result
        if unknown:
            result.notes.append(passed_through_note(unknown))
        return await self._shape(tool, result, control, cap=cap)

    async def _exchange(self, tool: ToolDef, request: httpx.Request) -> httpx.Response | CallResult:
        """Send `request`, through the limiter and the request hooks, retrying as the limiter says."""
        call = current_call()
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                try:
                    await self.limiter.acquire(tool)
                except RateLimited as exc:
                    return _error(tool, None, "rate_limited", str(exc), retry_after_seconds=round(exc.retry_after))
            if self.hooks is not None:
                self.hooks.oneapi_mcp_before_request(call=call, tool=tool, request=request)
            response: httpx.Response | None = None
            error: httpx.HTTPError | None = None
            try:
                response = await self.client.send(request)
            except httpx.HTTPError as exc:
                error = exc
            except Exception as exc:  # e.g. AuthError from the token request
                return _error(tool, None, "auth", str(exc))
            if call is not None:
                call.upstream.append({"method": request.method, "path": request.url.path,
                                      "status": response.status_code if response is not None else None,
                                      "error": type(error).__name__ if error is not None else None})
            if self.hooks is not None:
                self.hooks.oneapi_mcp_after_response(call=call, tool=tool, request=request, response=response,
                                                     error=error)
            delay = self.limiter.retry_delay(tool, attempt, response, error) if self.limiter is not None else None
            if delay is None or _maybe_applied(request, error, response):  # asked anyway: it settles its slot
                break
            await self.limiter.sleep(delay)
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
        return response

    async def _send(self, tool: ToolDef, request: httpx.Request) -> CallResult:
        response = await self._exchange(tool, request)
        if isinstance(response, CallResult):
            return response
        if response.status_code >= 400:
            return _upstream_error(tool, response)
        data = _body(response)
        if isinstance(data, _Unparsable):
            excerpt = scrub(response.text[:200])
            step = ("the request may have been applied; check before retrying" if request.method in _WRITES
                    else "retry; if it persists, the service is returning broken answers")
            return _error(tool, response.status_code, "invalid_upstream_response",
                          f"{tool.service.upper()} answered HTTP {response.status_code} with a body that claims to "
                          f"be JSON and does not parse ({data.reason}). It begins: {excerpt!r}", next_step=step)
        notes = []
        if tool.service in ("zia", "ztw") and tool.scope != "read" and not tool.path.endswith(
                ("/status/activate", "/ecAdminActivateStatus/activate", "/ecAdminActivateStatus/forcedActivate")):
            activate = "zia_activate" if tool.service == "zia" else "ztw_activate"
            notes.append(f"{tool.service.upper()} change is staged (activation status PENDING) until activated; "
                         f"call {activate} to apply it. Activation is tenant-wide: it commits every pending change.")
        return CallResult(data, notes=notes)

    async def _paginate(self, tool: ToolDef, model: Any, control: dict[str, Any]) -> CallResult:
        p = tool.pagination or {}
        limit = control.get("max_items")
        items: list[Any] = []
        more = False
        style = p.get("style")
        size_param = p.get("size_param") or p.get("limit_param")
        dumped = model.model_dump(by_alias=True, exclude_unset=True)
        page_size = dumped.get(size_param) or (self._page_size(tool, size_param, limit) if style == "page" else None)
        page = int(dumped.get(p.get("page_param", "page")) or 1) if style == "page" else None
        offset: Any = dumped.get(p.get("offset_param", "offset"))
        for _ in range(_MAX_PAGES):
            extra: dict[str, Any] = {}
            if style == "page":
                extra[p["page_param"]] = page
                if page_size:
                    extra[size_param] = page_size
            elif offset is not None:
                extra[p["offset_param"]] = offset
            result = await self._send(tool, self.build_request(tool, model, extra))
            if result.is_error:
                return result
            data = result.data
            batch = _extract(data, p.get("result_key", "@"))
            items.extend(batch)
            if limit and len(items) >= limit:
                more = len(items) > limit or _has_next(p, data, batch, page, page_size)
                items = items[:limit]
                break
            if not _has_next(p, data, batch, page, page_size):
                break
            if style == "page":
                page = (page or 1) + 1
            else:
                offset = _next_offset(p, data)
        else:
            more = True
        note = (f"{len(items)} items; more remain (raise max_items or page on)" if more
                else f"{len(items)} items; no more pages")
        return CallResult({"items": items, "count": len(items), "more": more}, notes=[note])

    def _page_size(self, tool: ToolDef, size_param: str, limit: int | None) -> int:
        """The page size sent when reading page by page and the caller chose none. A short-page list
        (ZIA, ZTW, ZCC: flat arrays, no count) ends at the first page shorter than the size asked for,
        so the size must be known: without it the service's default (ZIA 100) looked like a last page."""
        size = _PAGE_SIZE.get(tool.service, 100)
        declared = self.catalog.input_schema(tool.name).get("properties", {}).get(size_param, {}).get("maximum")
        if declared:
            size = min(size, declared)
        return min(size, limit) if limit else size

    # -- shaping -------------------------------------------------------------------------------
    async def _shape(self, tool: ToolDef, result: CallResult, control: dict[str, Any], *, cap: bool) -> CallResult:
        """Projection, query, cap. The query runs in the query threads (a costly one must not stall
        other calls); projection and the cap are linear and bounded, so they stay here."""
        data = result.data
        if control.get("fields"):
            data = _shaping.project(data, list(control["fields"]))
        if control.get("query"):
            try:
                data = await _shaping.evaluate(control["query"], data)
            except _shaping.QueryLimit as exc:
                kind = "invalid_arguments" if exc.limit == "syntax" else "query_limit"
                return _error(tool, None, kind, str(exc), limit=exc.limit)
        result.data = data
        if cap:
            result.data, note = _shaping.cap(data, self.max_result_bytes)
            if note:
                result.notes.append(note)
        return result


def _check_control(control: dict[str, Any]) -> str | None:
    if "max_items" in control and (not isinstance(control["max_items"], int) or isinstance(
            control["max_items"], bool) or control["max_items"] < 1):
        return "max_items must be a positive integer"
    if "all_pages" in control and not isinstance(control["all_pages"], bool):
        return "all_pages must be true or false"
    if "fields" in control and not (isinstance(control["fields"], list) and all(
            isinstance(f, str) for f in control["fields"])):
        return "fields must be a list of field names"
    if "fields" in control and len(control["fields"]) > _shaping.MAX_FIELDS:
        return f"fields takes at most {_shaping.MAX_FIELDS} names (got {len(control['fields']):,})"
    if "query" in control:
        if not isinstance(control["query"], str):
            return "query must be a JMESPath string"
        try:
            _shaping.compile_query(control["query"])
        except _shaping.QueryLimit as exc:
            return str(exc)
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Unparsable:
    reason: str


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return {"status": response.status_code}
    ctype = response.headers.get("content-type", "")
    if "json" in ctype.lower() or response.content.lstrip()[:1] in (b"{", b"["):
        try:
            return response.json()
        except ValueError as exc:  # UnicodeDecodeError included: a broken answer, never an empty success
            return _Unparsable(f"{type(exc).__name__}: {str(exc)[:120]}")
    return {"status": response.status_code, "content_type": ctype, "text": response.text[:20_000]}


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


def _extract(data: Any, key: str) -> list[Any]:
    if key in ("@", "", None) or isinstance(data, list):  # some ZCC lists come both ways (as in the SDK)
        return data if isinstance(data, list) else []
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _has_next(p: dict, data: Any, batch: list, page: int | None, page_size: int | None) -> bool:
    stop = p.get("stop")
    if not batch:
        return False
    if stop == "total_pages" and isinstance(data, dict) and p.get("total_pages_key", "totalPages") in data:
        try:
            return int(data[p.get("total_pages_key", "totalPages")]) > (page or 1)
        except (TypeError, ValueError):
            pass  # no usable count: the page's length decides, as for the short-page lists
    if stop in ("short_page", "total_pages"):
        return page_size is not None and len(batch) >= page_size
    return bool(_next_offset(p, data))


def _next_offset(p: dict, data: Any) -> Any:
    if not isinstance(data, dict):
        return None
    nxt = data.get(p.get("next_key", "next_offset"))
    if p.get("style") == "next_link" and isinstance(nxt, str) and nxt:
        m = re.search(r"[?&]" + re.escape(p.get("offset_param", "offset")) + r"=([^&]+)", nxt)
        return m.group(1) if m else None
    return nxt or None


def _error(tool: ToolDef, status: int | None, kind: str, message: str, **extra: Any) -> CallResult:
    body = {"kind": kind, "tool": tool.name, "service": tool.service, "message": message, **extra}
    if status is not None:
        body["status"] = status
    return CallResult({"error": body}, is_error=True)


def _gateway_quota_left(response: httpx.Response) -> bool:
    """The OneAPI gateway sends its own quota on every answer (x-ratelimit-limit "5000, 5000;w=60",
    x-ratelimit-remaining, x-ratelimit-reset: the quota window's end; recorded in tests/recorded/). While
    that quota has requests left, a 429 came from the service, whose own header says how long to wait."""
    m = re.match(r"\s*(\d+)", response.headers.get("x-ratelimit-remaining", ""))
    return bool(m) and int(m.group(1)) > 0


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
    if status == 401:
        hint = "authentication failed even after a fresh token: check the API client's credentials"
    elif status == 403 and code == "LIMIT_EXCEEDED":
        hint = "the tenant's capacity for this object is reached; do not retry"
    elif status == 403:
        hint = (f"the API client lacks the role or scope for this {svc} resource, or the tenant is not "
                f"entitled to {svc}")
    elif status == 404:
        hint = "no such object: check the identifier (list the collection to find it)"
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

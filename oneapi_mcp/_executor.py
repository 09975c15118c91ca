"""The executor: a validated tool call becomes HTTP requests, and the responses a shaped result.

In layers, each a module of its own but the request building, which stays here as one method
(`build_request`: the place another request builder hooks in):

    prepare (`_arguments`) -> build (`Executor.build_request`) -> send, through the limiter, the request
    hooks and retries (`_upstream`) -> paginate (`_pagination`) -> shape and cap (`_shaping`)

One pooled `httpx.AsyncClient` per process. Arguments are validated by the tool's pydantic model
before anything is sent; the built path is checked against the operation's template (`_paths`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from . import _shaping
from ._arguments import CONTROL_ARGUMENTS, describe_validation_error, prepare
from ._call_result import CallResult
from ._call_result import error_result as _error
from ._catalog import Catalog, ToolDef
from ._entitlement import Entitlements
from ._graphql import graphql_body, graphql_settings
from ._hooktypes import RateLimiter
from ._pagination import default_page_size, paginate
from ._passthrough import passed_through, passed_through_note
from ._paths import PathEscape, path_matches
from ._upstream import retry_after_seconds, send

__all__ = ["CONTROL_ARGUMENTS", "CallResult", "Executor", "PathEscape", "describe_validation_error",
           "retry_after_seconds"]


class Executor:
    def __init__(
        self,
        catalog: Catalog,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        customer_id: str | None = None,
        microtenant_id: str | None = None,
        zms_customer_id: str | None = None,
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
        self.zms_customer_id = zms_customer_id
        self.max_result_bytes = max_result_bytes
        self.entitlements = Entitlements()

    # -- the layers ----------------------------------------------------------------------------
    def prepare(self, tool: ToolDef, arguments: dict[str, Any]) -> tuple[Any, dict[str, Any]] | CallResult:
        """Split control arguments off, fill settings-provided parameters, validate the rest."""
        if tool.graphql:
            filled = graphql_settings(tool, arguments, {"zms_customer_id": self.zms_customer_id})
            if isinstance(filled, CallResult):
                return filled
            arguments = filled
        return prepare(self.catalog, tool, arguments, self.customer_id)

    def build_request(self, tool: ToolDef, model: Any, extra_query: dict[str, Any] | None = None) -> httpx.Request:
        """The build layer: the validated model (and a page's `extra_query`) as one HTTP request, its path
        checked against the operation's template. Every request the executor sends is built here."""
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
        if tool.graphql:  # a page asked for is variables of the query
            body, extra_query = graphql_body(tool, values, extra_query), None
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

    async def _send(self, tool: ToolDef, request: httpx.Request) -> CallResult:
        return await send(self.client, tool, request, limiter=self.limiter, hooks=self.hooks)

    async def _paginate(self, tool: ToolDef, model: Any, control: dict[str, Any]) -> CallResult:
        return await paginate(
            tool, model, control,
            send_page=lambda extra: self._send(tool, self.build_request(tool, model, extra)),
            default_size=lambda size_param, limit: default_page_size(self.catalog, tool, size_param, limit))

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
            # a query may build shared references (a value far larger than what was received)
            received = None if control.get("query") else result.received
            result.data, note = _shaping.cap(data, self.max_result_bytes, received=received)
            if note:
                result.notes.append(note)
        return result


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


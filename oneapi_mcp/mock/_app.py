"""The mock as an ASGI app: one Starlette route per spec path, all methods dispatched inside it.

Order of checks for an API request: count it, bearer token (401), method (405 with Allow),
scripted failure (`fail`), injected fault, rate limit (429), request validation (400), then the
operation itself. What a script failed and what reached the operation is written to the journal.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._auth import TOKEN_PATH, TokenIssuer
from ._engine import Engine
from ._errors import error_response, json_response, no_route
from ._faults import FaultConfig, FaultInjector
from ._gateway import GatewayQuota, unauthorized
from ._limits import Limit, RateLimiter, rate_limited
from ._plan import plan_service
from ._requests import BadRequest, read_call
from ._router import IndexedRouter, route
from ._schema import SchemaKit
from ._script import FailureScript, ScriptedFailure, parse_failures
from ._seed import build_seed
from ._spec import Operation, load_services, service_for_path
from ._store import Store

__all__ = ["ConnectionDropped", "MockOneAPI", "RequestCounter", "create_mock_app"]

log = logging.getLogger("oneapi_mcp.mock")

JOURNAL_LIMIT = 10_000  # a long-running mock keeps the newest 10,000 to 20,000 entries


class ConnectionDropped(ConnectionError):
    """Raised mid-response to simulate a dropped connection (uvicorn then closes the socket)."""


class RequestCounter:
    """API requests received, per service and in total; token requests are counted apart."""

    def __init__(self) -> None:
        self.by_service: Counter[str] = Counter()
        self.token = 0

    @property
    def total(self) -> int:
        return sum(self.by_service.values())

    def __getitem__(self, service: str) -> int:
        return self.by_service[service]

    def reset(self) -> None:
        self.by_service.clear()
        self.token = 0

    def __repr__(self) -> str:
        return f"RequestCounter(total={self.total}, token={self.token}, by_service={dict(self.by_service)})"


def _specificity(path: str) -> tuple[int, ...]:
    # Literal segments before mixed ones (`{id}:resetpassword`) before bare parameters, so
    # `/users/bulkDelete` is never taken for `/users/{id}`.
    return tuple(
        0 if "{" not in seg else 1 if not (seg.startswith("{") and seg.endswith("}")) else 2 for seg in path.split("/")
    )


class _TokenEndpoint:
    def __init__(self, mock: MockOneAPI) -> None:
        self.mock = mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self.mock._token_endpoint(Request(scope, receive))
        await answer(scope, receive, send)


class _PathEndpoint:
    """The ASGI endpoint of one spec path (a class, so Starlette routes every method to it)."""

    def __init__(self, mock: MockOneAPI, service: str | None, operations: dict[str, Operation]) -> None:
        self.mock, self.service, self.operations = mock, service, operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        answer = await self.mock._serve(request, self.service, self.operations)
        answer = self.mock.gateway.stamp(self.service or service_for_path(request.url.path), answer)
        await answer(scope, receive, send)


class MockOneAPI:
    """The mock OneAPI: an ASGI app with a readable store (`state`), request counter and journal.

    `journal` has one entry per API request that reached an operation or was failed by a script,
    oldest first: `{"method", "path", "query", "status", "operation", "service"}` (no bodies).
    """

    def __init__(
        self,
        *,
        seed: int,
        token_lifetime: int,
        faults: FaultConfig | None,
        rate_limits: bool,
        services: list[str] | tuple[str, ...] | None,
        clock: Callable[[], float],
        failures: list[ScriptedFailure] | tuple[ScriptedFailure, ...] = (),
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.specs = load_services(services)
        self.kits = {
            name: SchemaKit(spec.schemas, numbers_as_strings=name == "zpa", seed=seed)
            for name, spec in self.specs.items()
        }
        for name, spec in self.specs.items():
            plan_service(spec, self.kits[name])
        self.state = Store(build_seed(seed))
        self.requests = RequestCounter()
        self.tokens = TokenIssuer(token_lifetime, clock)
        classes = {name: spec.rate_classes for name, spec in self.specs.items()}
        self.limiter = RateLimiter(classes, clock) if rate_limits else None
        self.gateway = GatewayQuota(clock)
        self.faults = FaultInjector(faults, seed) if faults is not None and faults.active else None
        self.script = FailureScript(failures)
        self.journal: list[dict[str, Any]] = []
        self.engine = Engine(self.specs, self.kits, self.state, seed)
        routes = [route(TOKEN_PATH, _TokenEndpoint(self))]
        paths = [(path, spec) for spec in self.specs.values() for path in spec.paths]
        for path, spec in sorted(paths, key=lambda entry: (_specificity(entry[0]), entry[0])):
            routes.append(route(path, _PathEndpoint(self, spec.name, spec.paths[path])))
        routes.append(route("/{rest:path}", _PathEndpoint(self, None, {})))
        self.app = Starlette()
        self.app.router = IndexedRouter(routes)  # Starlette's router, trying only the routes a path can match

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    @property
    def operations(self) -> list[Operation]:
        return [op for spec in self.specs.values() for op in spec.operations]

    def token(self) -> str:
        """A fresh valid bearer token, without a token request (not counted)."""
        return self.tokens.mint()

    def fail(
        self, method: str, path: str, status: int = 500, times: int = 1, message: str | None = None, *,
        after: int = 0,
    ) -> ScriptedFailure:
        """Fail the next `times` API requests (0: all) whose method is `method` (or `*`) and whose
        path matches the fnmatch glob `path`, with `status` in the service's error shape, once the
        first `after` matching requests have gone through. They are failed after the token check and
        before anything changes. Returns the rule; its `hits` counts the requests it failed."""
        return self.script.add(ScriptedFailure(method, path, status, times, message, after=after))

    def clear_failures(self) -> None:
        """Drop every scripted failure still in force."""
        self.script.clear()

    def reset(self) -> None:
        """Back to the seeded state; counters, rate windows and the fault sequence start over;
        scripted failures and the journal are cleared. Issued tokens stay valid."""
        self.state.reset()
        self.requests.reset()
        self.script.clear()
        self.journal.clear()
        self.gateway.reset()
        if self.limiter:
            self.limiter.reset()
        if self.faults:
            self.faults.reset()

    # ------------------------------------------------------------------ endpoints

    async def _token_endpoint(self, request: Request) -> Response:
        self.requests.token += 1
        if request.method != "POST":
            return json_response(405, {"error": "invalid_request", "error_description": "use POST"}, {"Allow": "POST"})
        status, body = self.tokens.issue(await request.body(), request.headers.get("content-type", ""))
        return json_response(status, body, {"Cache-Control": "no-store"})

    async def _serve(self, request: Request, service: str | None, operations: dict[str, Operation]) -> Any:
        service = service or service_for_path(request.url.path)
        if service is not None:
            self.requests.by_service[service] += 1
        if not operations:
            return no_route(service, request.url.path)
        if not self.tokens.valid(request.headers.get("authorization")):
            return unauthorized({"WWW-Authenticate": 'Bearer realm="oneapi"'})  # the gateway's shape, any service
        op = operations.get(request.method)
        if op is None:
            allow = ", ".join(sorted(operations))
            return error_response(service, 405, f"{request.method} is not allowed here", {"Allow": allow})
        scripted = self.script.take(request.method, request.url.path)
        if scripted is not None:
            message = scripted.message or f"scripted failure of {request.method} {request.url.path}"
            retry = {"Retry-After": "1"} if scripted.status in (429, 503) else None
            return self._journaled(request, op, error_response(op.service, scripted.status, message, retry))
        if self.faults is not None:
            fault = self.faults.next()
            if fault.delay:
                await anyio.sleep(fault.delay)
            if fault.kind is not None:
                return self._fault_answer(fault.kind, op)
        if self.limiter is not None:
            over = self.limiter.spend(op.service, op.rate_class)
            if over is not None:
                body, headers = rate_limited(op.service, over[0], over[1], self.clock())
                return json_response(429, body, headers)
        try:
            call = await read_call(op, request, self.kits[op.service])
        except BadRequest as exc:
            return error_response(op.service, 400, str(exc))
        try:
            response = await self.engine.handle(call)
        except Exception:  # a mock bug: say so loudly, and let contract tests see a 500
            log.exception("mock failure in %s %s", op.method, op.path)
            response = error_response(op.service, 500, f"mock failure in {op.operation_id}")
        # a GraphQL endpoint serves many operations: the journal names the one asked for
        asked = (call.body or {}).get("operationName") if op.graphql and isinstance(call.body, dict) else None
        return self._journaled(request, op, response, asked)

    def _journaled(self, request: Request, op: Operation, response: Response, operation: str | None = None
                   ) -> Response:
        query: dict[str, Any] = {}
        for name in request.query_params:
            values = request.query_params.getlist(name)
            query[name] = values if len(values) > 1 else values[0]  # a list only when repeated
        self.journal.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": query,
                "status": response.status_code,
                "operation": operation or op.operation_id,
                "service": op.service,
            }
        )
        if len(self.journal) > 2 * JOURNAL_LIMIT:
            del self.journal[:-JOURNAL_LIMIT]
        return response

    def _fault_answer(self, kind: str, op: Operation) -> Any:
        if kind == "error_500":
            return error_response(op.service, 500, "injected fault: internal server error")
        if kind == "error_503":
            return error_response(op.service, 503, "injected fault: service unavailable", {"Retry-After": "1"})
        if kind == "burst_429":
            limits = self.limiter.limits.get((op.service, op.rate_class or "")) if self.limiter else None
            limit = (limits or [Limit(1, 1, "1/second")])[0]
            body, headers = rate_limited(op.service, limit, 1.0, self.clock())
            return json_response(429, body, headers)
        if kind == "malformed_json":
            return Response(
                b'{"injected": "malformed JSON", "items": [{"id": 1,', op.success_status, media_type="application/json"
            )
        return _drop_connection


async def _drop_connection(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
    raise ConnectionDropped("injected fault: connection dropped mid-response")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def create_mock_app(
    *,
    seed: int | None = None,
    token_lifetime: int = 3600,
    faults: FaultConfig | None = None,
    rate_limits: bool | None = None,
    services: list[str] | tuple[str, ...] | None = None,
    clock: Callable[[], float] | None = None,
    failures: list[ScriptedFailure] | tuple[ScriptedFailure, ...] | None = None,
) -> MockOneAPI:
    """Build the mock from the vendored specs.

    Arguments left unset fall back to the environment: `ONEAPI_MOCK_SEED` (default 0),
    `ONEAPI_MOCK_RATE_LIMITS=1` (default off), `ONEAPI_MOCK_FAULTS=<spec>` (default none;
    see `FaultConfig`) and `ONEAPI_MOCK_FAIL=<rule>;<rule>` (scripted failures, default none;
    see `_script.py`). `clock` (default `time.time`) drives token expiry and rate windows.
    """
    if seed is None:
        seed = int(os.environ.get("ONEAPI_MOCK_SEED") or 0)
    if rate_limits is None:
        rate_limits = _env_flag("ONEAPI_MOCK_RATE_LIMITS")
    if faults is None and os.environ.get("ONEAPI_MOCK_FAULTS"):
        faults = FaultConfig.parse(os.environ["ONEAPI_MOCK_FAULTS"])
    if failures is None:
        try:
            failures = parse_failures(os.environ.get("ONEAPI_MOCK_FAIL", ""))
        except ValueError as exc:
            raise ValueError(f"ONEAPI_MOCK_FAIL: {exc}") from None
    return MockOneAPI(
        seed=seed,
        token_lifetime=token_lifetime,
        faults=faults,
        rate_limits=rate_limits,
        services=services,
        clock=clock or time.time,
        failures=failures,
    )

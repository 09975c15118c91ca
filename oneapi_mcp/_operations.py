"""Operating `serve --transport http`: /readyz, /metrics, and a graceful stop.

`/readyz` answers 200 once every named server's start-up hooks have run (the app's lifespan has
started) and the readiness checks pass (credentials configured), and 503 with the reason otherwise:
while starting, when a check fails (re-run at most every 10 s while it fails), and from the moment
shutdown begins. `/healthz` (process alive) is answered by the security middleware in front.

Graceful stop, on SIGTERM or SIGINT: /readyz turns 503 at once and new MCP requests get 503 (the
load balancer sends them elsewhere), while answers to the server's own questions (an elicitation
reply is a POST too) still pass; requests in flight run to completion, up to `shutdown_timeout`;
then the long-lived streams (the GET stream, `subscriptions/listen`) are ended, uvicorn closes the
connections, and the lifespan ends: the MCP sessions, then every server's shutdown hooks. A second
signal stops waiting. The process exits 0 after a graceful stop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Lifecycle", "OperationsMiddleware", "serve_http"]

_RECHECK_SECONDS = 10.0
_PEEK_LIMIT = 4 * 1024 * 1024  # the SDK's own request body limit: larger bodies are not ours to read
_STREAMS = ("subscriptions/listen",)  # requests whose response is a stream with no natural end


class Lifecycle:
    """Where one HTTP serving process is (starting, ready, draining) and its MCP requests in flight.

    `checks` are functions returning None (fine) or why the process is not ready; they may block
    (a vault, a keyring), so they run off the event loop. A passing check is not asked again.
    """

    def __init__(self, checks: Iterable[Callable[[], str | None]] = ()):
        self.checks = list(checks)
        self.started = False
        self.draining = False
        self.in_flight = 0
        self._passed = not self.checks
        self._failure: str | None = None
        self._checked_at = float("-inf")
        self._check_lock = threading.Lock()

    def begin_drain(self) -> None:
        """Shutdown has begun. Only sets a flag, so a signal handler may call it."""
        self.draining = True

    async def not_ready(self) -> str | None:
        """None when ready, else the reason."""
        if self.draining:
            return f"shutting down: {self.in_flight} request(s) in flight, no new ones accepted"
        if not self.started:
            return "starting: the start-up hooks have not finished"
        if self._passed:
            return None
        if time.monotonic() - self._checked_at >= _RECHECK_SECONDS:
            import anyio

            await anyio.to_thread.run_sync(self._run_checks)
        return None if self._passed else self._failure

    def _run_checks(self) -> None:
        if not self._check_lock.acquire(blocking=False):
            return  # another probe is checking right now
        try:
            failure = None
            for check in self.checks:
                try:
                    failure = check()
                except Exception as exc:  # e.g. the vault command failed: the detail goes to the log only
                    from ._redact import scrub

                    logging.getLogger("oneapi_mcp").warning("readiness check failed: %s", scrub(str(exc))[:300])
                    failure = f"a readiness check failed ({type(exc).__name__}; the server log says why)"
                if failure:
                    break
            self._failure, self._passed = failure, failure is None
            self._checked_at = time.monotonic()
        finally:
            self._check_lock.release()

    async def drain(self, timeout: float, give_up: Callable[[], bool] = lambda: False) -> int:
        """Wait until no MCP request is in flight (or `timeout` seconds, or `give_up()`); returns
        how many were still running."""
        import anyio

        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline and not give_up():
            await anyio.sleep(0.05)
        return self.in_flight


def credentials_check(built: dict[str, Any], fallback: Any) -> Callable[[], str | None]:
    """A readiness check: every named server has OneAPI credentials (from the credentials hooks,
    else `fallback`), as its first call would need them."""

    def check() -> str | None:
        for name, server in built.items():
            runtime = server.surface.runtime
            settings = runtime.settings
            current = runtime.plugins.hook.oneapi_mcp_credentials(settings=settings) or fallback
            missing = current.missing(have_token_url=bool(settings.token_url))
            if missing:
                return f"server {name!r}: OneAPI credentials are incomplete, missing {', '.join(missing)}"
        return None

    return check


class OperationsMiddleware:
    """ASGI middleware: /readyz, /metrics, the in-flight count of MCP requests and the 503 while
    draining. It watches the lifespan to learn when start-up has finished."""

    def __init__(self, app: Any, lifecycle: Lifecycle, mcp_path: str = "/mcp"):
        self.app = app
        self.lifecycle = lifecycle
        self.mcp_path = mcp_path

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif path == "/readyz":
            reason = await self.lifecycle.not_ready()
            await _respond(send, 503 if reason else 200,
                           {"status": "not_ready", "reason": reason} if reason else {"status": "ready"})
        elif path == "/metrics":
            await self._metrics(scope, send)
        elif path == self.mcp_path or path.startswith(self.mcp_path + "/"):
            await self._mcp(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, scope: dict, receive: Any, send: Any) -> None:
        async def watched_receive():
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.lifecycle.begin_drain()
            return message

        async def watched_send(message):
            if message["type"] == "lifespan.startup.complete":
                self.lifecycle.started = True
            await send(message)

        await self.app(scope, watched_receive, watched_send)

    async def _metrics(self, scope: dict, send: Any) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method_not_allowed", "message": "GET /metrics"})
            return
        from ._metrics import metrics

        accept = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"accept"), None)
        body, content_type = metrics().exposition(accept)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def _mcp(self, scope: dict, receive: Any, send: Any) -> None:
        method = scope.get("method")
        if method == "GET" and self.lifecycle.draining:  # a new server-to-client stream
            await _shutting_down(send)
            return
        if method != "POST":
            await self.app(scope, receive, send)
            return
        body, receive = await _peek_body(receive)
        opened = _requests_opened(body)
        if opened and self.lifecycle.draining:
            await _shutting_down(send)
            return
        if not opened or any(m in _STREAMS for m in opened):
            await self.app(scope, receive, send)  # a reply, a notification, or a stream: not waited for
            return
        self.lifecycle.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.lifecycle.in_flight -= 1


async def _peek_body(receive: Any) -> tuple[bytes | None, Any]:
    """Read a request body (when it is at most the SDK's limit) and a `receive` that replays it."""
    messages: list[dict] = []
    size = 0
    complete = False
    while size <= _PEEK_LIMIT:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # the client went away
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            complete = True
            break

    async def replay() -> dict:
        return messages.pop(0) if messages else await receive()

    body = b"".join(m.get("body", b"") for m in messages) if complete and size <= _PEEK_LIMIT else None
    return body, replay


def _requests_opened(body: bytes | None) -> list[str]:
    """The methods of the JSON-RPC requests in a POST body (responses and notifications have none)."""
    if not body:
        return []
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read: the SDK answers it (400)
        return []
    items = payload if isinstance(payload, list) else [payload]
    return [i["method"] for i in items if isinstance(i, dict) and isinstance(i.get("method"), str) and "id" in i]


async def _shutting_down(send: Any) -> None:
    await _respond(send, 503, {"error": "shutting_down", "message": "this server is shutting down; retry the "
                               "request (the load balancer sends it to another replica)"},
                   {"retry-after": "1", "connection": "close"})


async def _respond(send: Any, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def serve_http(app: Any, lifecycle: Lifecycle, *, shutdown_timeout: float, **config: Any) -> int:
    """Run `app` with uvicorn (`config`: host, port, ssl files, log level) and stop it gracefully
    (see the module docstring). Returns the exit code: 0, or 3 when start-up failed (as uvicorn)."""
    import uvicorn
    from sse_starlette.sse import AppStatus

    # sse-starlette ends every SSE response as soon as uvicorn sees a signal, which would cut off the
    # results of calls in flight; the streams are ended here instead, once those have finished
    AppStatus.disable_automatic_graceful_drain()

    class GracefulServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            # uvicorn re-raises the signal after its shutdown (exit status 143); a drained stop is a
            # clean exit, so these handlers only start the drain, and a second signal stops waiting
            if threading.current_thread() is not threading.main_thread():
                yield
                return

            def on_signal(signum, frame):
                if self.should_exit:
                    self.force_exit = True
                lifecycle.begin_drain()
                self.should_exit = True

            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def shutdown(self, sockets=None):
            lifecycle.begin_drain()
            left = await lifecycle.drain(shutdown_timeout, give_up=lambda: self.force_exit)
            if left:
                logging.getLogger("oneapi_mcp").warning("shutdown: %d request(s) still running after %g s; "
                                                        "stopping them", left, shutdown_timeout)
            AppStatus.should_exit = True  # end the long-lived streams
            await super().shutdown(sockets)

    server = GracefulServer(uvicorn.Config(app, timeout_graceful_shutdown=5, **config))
    server.run()
    return 0 if server.started else 3

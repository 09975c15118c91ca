"""The composition root: settings, credentials and plugins put together into running servers.

`make_runtime` builds one named server's runtime (its executor made lazily from the plugin hooks),
`build_servers` the MCP servers of a set of named servers, `serving` runs their start-up and shutdown
hooks around serving, and `http_app` is the streamable HTTP app. The command line (`cli`), the access
review and the benchmarks build servers through here, so nothing imports the command line back.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from ._settings import Credentials, ServerSettings, oneapi_urls

__all__ = ["MOCK_BASE_URL", "build_servers", "check_credentials_at_start", "http_app", "make_runtime",
           "mock_module", "plugin_credentials", "serving"]

MOCK_BASE_URL = "http://mock.oneapi.invalid"
MOCK_CUSTOMER_ID = "216196257331200000"  # any id works: the mock serves one tenant for every customerId


def mock_module():
    from . import mock

    return mock


def make_runtime(settings: ServerSettings, creds: Credentials, *, mock_app: Any = None, pm: Any = None,
                 transport: Any = None):
    """The runtime of one named server: lazily builds the HTTP client and executor on first call.

    Credentials, the upstream auth and the rate limiter come from the plugin hooks
    (`oneapi_mcp_credentials`, `oneapi_mcp_http_auth`, `oneapi_mcp_rate_limiter`); `creds` is the
    fallback when no plugin provides credentials. `transport` replaces the network (tests).
    """
    from ._server import Runtime

    def limiter_for(settings: ServerSettings, catalog):
        if mock_app is not None and settings.client_rate_limits is None:
            # the mock enforces no limits unless asked (--rate-limits): client-side windows follow it
            settings = settings.model_copy(update={"client_rate_limits": False})
        return runtime.plugins.hook.oneapi_mcp_rate_limiter(settings=settings, catalog=catalog)

    def executor_factory(catalog):
        import httpx

        from ._executor import Executor

        settings = runtime.settings  # read when built: a reload may have changed them since start
        hook = runtime.plugins.hook
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        if mock_app is not None:
            mock = mock_module()
            limiter = limiter_for(settings, catalog)
            mock_creds = Credentials.of(client_id=mock.MOCK_CLIENT_ID, client_secret=mock.MOCK_CLIENT_SECRET)
            auth = hook.oneapi_mcp_http_auth(settings=settings, credentials=mock_creds,
                                             token_url=f"{MOCK_BASE_URL}/oauth2/v1/token",
                                             read_credentials=lambda: mock_creds)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock_app), auth=auth,
                                       timeout=settings.timeout, limits=limits)
            return Executor(catalog, client, base_url=MOCK_BASE_URL,
                            customer_id=creds.customer_id or MOCK_CUSTOMER_ID,
                            zms_customer_id=creds.zms_customer_id or MOCK_CUSTOMER_ID,
                            microtenant_id=creds.microtenant_id, max_result_bytes=settings.max_result_bytes,
                            hooks=hook, limiter=limiter)

        def read_credentials() -> Credentials:  # asked again per token request: rotation needs no restart
            return plugin_credentials(hook, settings) or Credentials()

        current = plugin_credentials(hook, settings) or creds
        problem = current.missing_message(have_token_url=bool(settings.token_url))
        if problem:
            raise RuntimeError(problem)
        base_url, token_url = oneapi_urls(current, settings)
        auth = hook.oneapi_mcp_http_auth(settings=settings, credentials=current, token_url=token_url,
                                         read_credentials=read_credentials)
        if auth is None:
            raise RuntimeError("no plugin provides the upstream authentication (hook oneapi_mcp_http_auth)")
        limiter = hook.oneapi_mcp_rate_limiter(settings=settings, catalog=catalog)
        client = httpx.AsyncClient(auth=auth, timeout=settings.timeout, limits=limits, transport=transport)
        return Executor(catalog, client, base_url=base_url, customer_id=current.customer_id,
                        zms_customer_id=current.zms_customer_id,
                        microtenant_id=current.microtenant_id, max_result_bytes=settings.max_result_bytes,
                        hooks=hook, limiter=limiter)

    def executor_reconfigure(catalog, previous, new: ServerSettings):
        """After a reload: the same HTTP client (its token, its connections), the new limits and caps."""
        import copy

        from ._reload import keep_windows

        executor = copy.copy(previous)  # the call in flight keeps `previous`
        executor.max_result_bytes = new.max_result_bytes
        executor.limiter = limiter_for(new, catalog)
        if new.rate_limit_storage == runtime.settings.rate_limit_storage:
            executor.limiter = keep_windows(previous.limiter, executor.limiter)
        return executor

    known = bool(creds.customer_id) or mock_app is not None
    zms_known = bool(creds.zms_customer_id) or mock_app is not None
    runtime = Runtime(settings=settings, executor_factory=executor_factory, customer_id_known=known,
                      zms_customer_id_known=zms_known, pm=pm,
                      executor_reconfigure=executor_reconfigure)
    return runtime


def plugin_credentials(hook: Any, settings: ServerSettings) -> Credentials | None:
    """What the `oneapi_mcp_credentials` plugins answer; a plugin that raises is a `PluginError` (a
    call then answers `plugin_error`, not `not_configured`), its message scrubbed of secrets."""
    from ._plugins import PluginError
    from ._redact import scrub

    try:
        return hook.oneapi_mcp_credentials(settings=settings)
    except Exception as exc:
        raise PluginError(f"a plugin's oneapi_mcp_credentials failed for server '{settings.name}': "
                          f"{type(exc).__name__}: {scrub(str(exc))}") from exc


def check_credentials_at_start(servers: dict[str, ServerSettings], creds: Credentials, *, mock: bool,
                                have_token_url: bool) -> None:
    """The credentials plugins are asked at start (under --mock too, where the mock's own client is used):
    a plugin that fails, or credentials still incomplete after every plugin answered, is said once, up
    front; listing needs none, calls will."""
    from ._plugins import PluginError, get_plugin_manager

    hook = get_plugin_manager().hook
    for settings in servers.values():
        try:
            current = plugin_credentials(hook, settings) or creds
        except PluginError as exc:
            print(f"oneapi-mcp: {exc}", file=sys.stderr)
            continue
        problem = None if mock else current.missing_message(have_token_url=have_token_url or bool(settings.token_url))
        if problem:
            print(problem if len(servers) == 1 else f"server '{settings.name}': {problem}", file=sys.stderr)


def build_servers(servers: dict[str, ServerSettings], creds: Credentials, *, mock_app: Any = None) -> dict[str, Any]:
    """Name -> the MCP server of each named server (tools listed without credentials or network)."""
    from ._server import build_server

    return {name: build_server(make_runtime(s, creds, mock_app=mock_app)) for name, s in servers.items()}


@contextlib.asynccontextmanager
async def serving(built: dict[str, Any], reloader: Any = None):
    """Every named server's start-up hooks before serving, and its shutdown hooks after; while
    serving, the reloader (if any) applies config changes (SIGHUP, the file changing)."""
    started = []
    try:
        for server in built.values():
            runtime = server.surface.runtime
            await runtime.startup()
            started.append(runtime)
        async with reloader.running(built) if reloader is not None else contextlib.nullcontext():
            yield
    finally:
        for runtime in reversed(started):
            await runtime.shutdown()


def http_app(built: dict[str, Any], *, stateless: bool = False, json_response: bool = False,
             host: str = "127.0.0.1", security: Any = None, reloader: Any = None, lifecycle: Any = None):
    """One Starlette app: a single server at /mcp, or several at /mcp/<name>, with /readyz and /metrics
    (`lifecycle`: readiness and the in-flight count a graceful stop waits for); behind the security
    middleware (auth, Host/Origin, /healthz) when `security` is given."""
    from ._operations import Lifecycle, OperationsMiddleware

    lifecycle = lifecycle or Lifecycle()
    if security is None:
        return OperationsMiddleware(
            _mcp_app(built, stateless=stateless, json_response=json_response, host=host, reloader=reloader), lifecycle)
    from mcp.server.transport_security import TransportSecuritySettings

    from ._http_security import SecurityMiddleware
    from ._http_sessions import SessionLimits

    # the middleware checks Host and Origin itself, against the configured names
    off = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = _mcp_app(built, stateless=stateless, json_response=json_response, host=host, transport_security=off,
                   reloader=reloader)
    paths = {"/mcp": next(iter(built.values()))} if len(built) == 1 else {f"/mcp/{n}": s for n, s in built.items()}
    return SecurityMiddleware(OperationsMiddleware(app, lifecycle), security, host, SessionLimits(paths))


def _mcp_app(built: dict[str, Any], *, stateless: bool, json_response: bool, host: str, reloader: Any = None,
             **extra: Any):
    from starlette.applications import Starlette

    if len(built) == 1:
        server = next(iter(built.values()))
        app = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=stateless,
                                         json_response=json_response, host=host, **_sessions(server), **extra)
        inner = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def single_lifespan(app_):
            async with serving(built, reloader), inner(app_):
                yield

        app.router.lifespan_context = single_lifespan
        return app
    routes = []
    for name, server in built.items():
        sub = server.streamable_http_app(streamable_http_path=f"/mcp/{name}", stateless_http=stateless,
                                         json_response=json_response, host=host, **_sessions(server), **extra)
        routes.extend(sub.routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(serving(built, reloader))
            for server in built.values():
                await stack.enter_async_context(server.session_manager.run())
            yield

    return Starlette(routes=routes, lifespan=lifespan)


def _sessions(server: Any) -> dict[str, Any]:
    return {"session_idle_timeout": server.surface.settings.session_idle_timeout}

"""`oneapi-mcp`: serve (stdio or streamable HTTP), tools (what an agent sees), scopes, mock, doctor."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from ._settings import ConfigError, Credentials, ServerSettings, load_servers, oneapi_urls

__all__ = ["main", "make_runtime", "plugin_credentials"]

MOCK_BASE_URL = "http://mock.oneapi.invalid"
MOCK_CUSTOMER_ID = "216196257331200000"  # any id works: the mock serves one tenant for every customerId


def _mock_module():
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
            mock = _mock_module()
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
    runtime = Runtime(settings=settings, executor_factory=executor_factory, customer_id_known=known, pm=pm,
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


def _check_credentials_at_start(servers: dict[str, ServerSettings], creds: Credentials, *, mock: bool,
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


def _servers(args: argparse.Namespace) -> dict[str, ServerSettings]:
    overrides = {
        "timeout": args.timeout, "profile": args.profile, "toolsets": args.toolsets, "tools_mode": args.tools_mode,
        "base_url": args.base_url, "token_url": args.token_url,
    }
    servers = load_servers(args.config, **overrides)
    if args.server:
        if args.server not in servers:
            raise ConfigError(f"no server named {args.server!r}; the config defines {', '.join(servers)}")
        servers = {args.server: servers[args.server]}
    return servers


def _mock_app(args: argparse.Namespace):
    if not getattr(args, "mock", False):
        return None
    return _mock_module().create_mock_app(seed=args.seed)


def cmd_serve(args: argparse.Namespace) -> int:
    from ._reload import Reloader, apply_log_level
    from ._server import build_server

    # made before the first load, so a change while starting is seen as a change
    reloader = Reloader(args.config, lambda: _servers(args), watch=not args.no_watch) if args.config else None
    servers = _servers(args)
    apply_log_level(servers.values())
    creds = Credentials()
    mock_app = _mock_app(args)
    _check_credentials_at_start(servers, creds, mock=mock_app is not None, have_token_url=bool(args.token_url))
    built = {name: build_server(make_runtime(s, creds, mock_app=mock_app)) for name, s in servers.items()}
    if args.transport == "stdio":
        if len(built) > 1:
            raise ConfigError("stdio serves one server: pick it with --server NAME")
        server = next(iter(built.values()))
        from mcp.server.stdio import stdio_server

        async def run() -> None:
            async with serving(built, reloader), stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        asyncio.run(run())
        return 0
    from ._operations import Lifecycle, credentials_check, serve_http

    security = http_security(args)
    security.check_bind(args.host)
    # ready once started and (against a tenant) with credentials; draining from the first signal
    lifecycle = Lifecycle([] if mock_app is not None else [credentials_check(built, creds)])
    app = http_app(built, stateless=args.stateless, json_response=args.json_response, host=args.host,
                   security=security, reloader=reloader, lifecycle=lifecycle)
    paths = ["/mcp"] if len(built) == 1 else [f"/mcp/{n}" for n in built]
    scheme = "https" if security.tls else "http"
    for path in paths:
        print(f"oneapi-mcp: serving streamable HTTP at {scheme}://{args.host}:{args.port}{path}", file=sys.stderr)
    return serve_http(app, lifecycle, shutdown_timeout=args.shutdown_timeout, host=args.host, port=args.port,
                      log_level="warning", ssl_certfile=args.tls_certfile, ssl_keyfile=args.tls_keyfile)


def http_security(args: argparse.Namespace):
    """HTTP client auth and origin settings from the command line, ONEAPI_MCP_API_KEY_HASHES and the
    config file's [http] table (api_keys = {id = "sha256:..."}, jwks_url, jwt_issuer, jwt_audience,
    allowed_hosts, allowed_origins, behind_tls_proxy, metrics_public)."""
    import os
    import tomllib

    from ._http_security import HttpSecurity, JwtVerifier, parse_api_key_hashes

    table: dict[str, Any] = {}
    if args.config is not None:
        table = tomllib.loads(args.config.read_text()).get("http", {})
    hashes = [*args.api_key_hash, *os.environ.get("ONEAPI_MCP_API_KEY_HASHES", "").split(",")]
    hashes += [f"{key_id}:{digest}" for key_id, digest in table.get("api_keys", {}).items()]
    jwks_url = args.jwks_url or table.get("jwks_url")
    jwt = None
    if jwks_url:
        issuer, audience = args.jwt_issuer or table.get("jwt_issuer"), args.jwt_audience or table.get("jwt_audience")
        if not (issuer and audience):
            raise ConfigError("a JWKS needs --jwt-issuer and --jwt-audience too: tokens are checked against both")
        jwt = JwtVerifier(jwks_url, issuer, audience)
    if bool(args.tls_certfile) != bool(args.tls_keyfile):
        raise ConfigError("TLS needs both --tls-certfile and --tls-keyfile")
    return HttpSecurity(
        api_keys=parse_api_key_hashes(hashes), jwt=jwt,
        allowed_hosts=tuple(args.allowed_host or table.get("allowed_hosts", ())),
        allowed_origins=tuple(args.allowed_origin or table.get("allowed_origins", ())),
        tls=bool(args.tls_certfile), behind_tls_proxy=args.behind_tls_proxy or bool(table.get("behind_tls_proxy")),
        metrics_public=args.metrics_public or bool(table.get("metrics_public")))


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


def cmd_tools(args: argparse.Namespace) -> int:
    """Print what an agent connected to each named server would see in tools/list."""
    from ._server import build_server

    creds = Credentials()
    for name, settings in _servers(args).items():
        server = build_server(make_runtime(settings, creds))
        surface = server.surface  # type: ignore[attr-defined]
        names = surface.listed_names(None)
        tools = [surface.mcp_tool(n).model_dump(by_alias=True, exclude_none=True, mode="json") for n in names]
        size = len(json.dumps({"tools": tools}, separators=(",", ":")))
        print(f"server {name}: mode {settings.tools_mode}, scopes {', '.join(sorted(settings.allowed_scopes))}, "
              f"{len(tools)} tools listed, {size:,} bytes (~{size // 4:,} tokens)")
        if args.names:
            for tool in tools:
                print(f"  {tool['name']}")
    return 0


def cmd_scopes(args: argparse.Namespace) -> int:
    """Print, per named server, what its enabled tools need on the Zscaler side (least privilege)."""
    from ._scopes_report import render_report, scopes_report

    for settings in _servers(args).values():
        print(render_report(scopes_report(settings)))
    return 0


def cmd_mock(args: argparse.Namespace, rest: list[str]) -> int:
    return _mock_module().main(rest)


def cmd_doctor(args: argparse.Namespace) -> int:
    from ._doctor import run_doctor

    return asyncio.run(run_doctor(args, make_runtime, _servers, _mock_app))


def cmd_access_review(args: argparse.Namespace) -> int:
    """Per named server: tools and scopes granted versus used in the audit log, and what to drop."""
    from ._access_review import run

    return run(args)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with [servers.<name>] tables")
    p.add_argument("--server", help="serve only this named server from the config")
    p.add_argument("--profile", choices=["read-only", "read-write", "admin"], help="scopes the server allows")
    p.add_argument("--toolsets", help="comma-separated toolsets to list directly, e.g. zia.users,zpa.app_segments")
    p.add_argument("--tools-mode", choices=["discovery", "toolsets", "full"], dest="tools_mode")
    p.add_argument("--timeout", type=float, help="seconds per upstream call (default 30)")
    p.add_argument("--base-url", dest="base_url", help="API base URL override (default https://api.zsapi.net)")
    p.add_argument("--token-url", dest="token_url", help="token URL override")
    p.add_argument("--mock", action="store_true", help="run against the in-process mock OneAPI")
    p.add_argument("--seed", type=int, default=0, help="mock data seed")


def cmd_config(args: argparse.Namespace) -> int:
    from ._client_config import CLIENTS, client_entry, merge_into_file

    entry = client_entry(args.client, config=args.config, server=args.server, profile=args.profile, mock=args.mock)
    name = args.name or (f"oneapi-mcp-{args.server}" if args.server else "oneapi-mcp")
    fmt = CLIENTS[args.client]
    if not args.write:
        print(json.dumps({fmt.servers_key: {name: entry}}, indent=2))
        return 0
    path = (args.file or fmt.default_path(Path.home(), Path.cwd())).expanduser()
    merge_into_file(args.client, path, name, entry)
    print(f"{fmt.label}: wrote server {name!r} into {path} (see {fmt.docs})", file=sys.stderr)
    return 0


def _config_parser(sub: Any) -> None:
    from ._client_config import CLIENTS

    p = sub.add_parser("config", help="print (or --write) an MCP client's configuration for this install")
    p.add_argument("client", choices=sorted(CLIENTS))
    p.add_argument("--config", type=Path, help="the servers TOML the client's server should use")
    p.add_argument("--server", help="the named server from --config")
    p.add_argument("--profile", choices=["read-only", "read-write", "admin"], help="scopes the server allows")
    p.add_argument("--mock", action="store_true", help="start the server on the in-process mock OneAPI")
    p.add_argument("--name", help="the entry's name in the client (default oneapi-mcp[-SERVER])")
    p.add_argument("--write", action="store_true", help="merge into the client's file, keeping other entries")
    p.add_argument("--file", type=Path, help="with --write: this file instead of the client's usual one")


def _load_plugins_from_config(args: argparse.Namespace) -> None:
    """The config file's `[plugins] load = [...]`: only those entry-point plugins load (as ONEAPI_MCP_LOAD_PLUGINS)."""
    import tomllib

    path = getattr(args, "config", None)
    if path is None or not Path(path).is_file():
        return
    try:
        table = tomllib.loads(Path(path).read_text()).get("plugins", {})
    except tomllib.TOMLDecodeError:
        return  # load_servers reports it, naming the file
    load = table.get("load") if isinstance(table, dict) else None
    if load is None:
        return
    if not isinstance(load, list) or not all(isinstance(n, str) for n in load):
        raise ConfigError(f"{path}: [plugins] load must be a list of entry-point names")
    from ._plugins import create_plugin_manager, set_plugin_manager

    set_plugin_manager(create_plugin_manager(load=load))


def cmd_plugins(args: argparse.Namespace) -> int:
    """The loaded plugins: name, version, where it comes from, and the hooks it implements."""
    from ._plugins import get_plugin_manager, plugin_info

    info = plugin_info(get_plugin_manager())
    if args.format == "json":
        print(json.dumps(info, indent=1))
        return 0
    for plugin in info:
        print(f"{plugin['name']}  {plugin['version'] or '-'}  ({plugin['source']})")
        for hook in plugin["hooks"]:
            print(f"    {hook}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="oneapi-mcp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"oneapi-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    _common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--stateless", action="store_true", help="stateless streamable HTTP (for replicas)")
    serve.add_argument("--api-key-hash", action="append", default=[], metavar="ID:sha256:HEX",
                       help="an HTTP client's API key, as its sha256 (see `oneapi-mcp hash-key`); repeatable")
    serve.add_argument("--jwks-url", help="verify HTTP clients' bearer JWTs against this JWKS")
    serve.add_argument("--jwt-issuer", help="required JWT issuer (with --jwks-url)")
    serve.add_argument("--jwt-audience", help="required JWT audience (with --jwks-url)")
    serve.add_argument("--allowed-host", action="append", help="Host header pattern to accept, e.g. mcp.corp:*")
    serve.add_argument("--allowed-origin", action="append", help="Origin pattern to accept, e.g. https://app.corp")
    serve.add_argument("--tls-certfile", help="serve HTTPS with this certificate (with --tls-keyfile)")
    serve.add_argument("--tls-keyfile", help="the certificate's private key")
    serve.add_argument("--behind-tls-proxy", action="store_true",
                       help="plain HTTP on a non-loopback bind is fine: a TLS-terminating proxy is in front")
    serve.add_argument("--metrics-public", action="store_true", dest="metrics_public",
                       help="answer /metrics without client auth or Host check (a scraper inside the network)")
    serve.add_argument("--shutdown-timeout", type=float, default=25.0, dest="shutdown_timeout", metavar="SECONDS",
                       help="on SIGTERM, wait this long for requests in flight to finish (default 25)")
    serve.add_argument("--json-response", action="store_true", dest="json_response",
                       help="answer HTTP requests with JSON instead of SSE streams")
    serve.add_argument("--no-watch", action="store_true", dest="no_watch",
                       help="with --config: reload it on SIGHUP only, not whenever the file changes")
    tools = sub.add_parser("tools", help="show what an agent would see, per named server")
    _common(tools)
    tools.add_argument("--names", action="store_true", help="also print every listed tool's name")
    doctor = sub.add_parser("doctor", help="check settings, token, reachability and entitlement per service")
    _common(doctor)
    scopes = sub.add_parser("scopes", help="least-privilege checklist: what the enabled tools need on the "
                                           "Zscaler side, per service, for creating the API client")
    _common(scopes)
    review = sub.add_parser("access-review", help="per named server: tools and scopes granted versus used in the "
                                                  "audit log, and what to drop")
    review.add_argument("--since", default="30d", help="the window: 30d, 12h, 2w ... or a date (default 30d)")
    review.add_argument("--config", type=Path, help="TOML file with [servers.<name>] tables")
    review.add_argument("--server", help="review only this named server from the config")
    review.add_argument("--audit-log", type=Path, dest="audit_log", help="read this audit log instead of the "
                        "servers' audit_log setting (rotated copies .1, .2 ... are read too)")
    review.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    _config_parser(sub)
    plugins = sub.add_parser("plugins", help="list the loaded plugins with their versions and hooks")
    plugins.add_argument("--config", type=Path, help="TOML file whose [plugins] load = [...] limits entry points")
    plugins.add_argument("--format", choices=["text", "json"], default="text")
    sub.add_parser("hash-key", help="read an API key on stdin, print the sha256 form the config stores")
    sub.add_parser("mock", help="run the mock OneAPI on a port (see `oneapi-mcp mock --help`)", add_help=False)
    sub.add_parser("demo", help="HTTP server on the mock, a scripted agent session, then keep serving",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "mock":
            return cmd_mock(args, rest)
        if args.command == "hash-key":
            from ._http_security import hash_api_key

            print(hash_api_key(sys.stdin.readline().strip()))
            return 0
        if args.command == "demo":
            from ._demo import main as demo_main

            return demo_main(rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        _load_plugins_from_config(args)
        if args.command == "plugins":
            return cmd_plugins(args)
        if args.command == "access-review":
            return cmd_access_review(args)
        if args.command == "config":
            return cmd_config(args)
        return {"serve": cmd_serve, "tools": cmd_tools, "doctor": cmd_doctor, "scopes": cmd_scopes}[args.command](args)
    except ConfigError as exc:
        print(f"oneapi-mcp: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from ._plugins import PluginError

        if not isinstance(exc, PluginError):
            raise
        print(f"oneapi-mcp: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

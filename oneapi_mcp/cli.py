"""`oneapi-mcp`: serve (stdio or streamable HTTP), tools (what an agent sees), mock, doctor."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ._settings import ConfigError, Credentials, ServerSettings, load_servers, oneapi_urls

__all__ = ["main", "make_runtime"]

MOCK_BASE_URL = "http://mock.oneapi.invalid"
MOCK_CUSTOMER_ID = "216196257331200000"  # any id works: the mock serves one tenant for every customerId


def _mock_module():
    from . import mock

    return mock


def make_runtime(settings: ServerSettings, creds: Credentials, *, mock_app: Any = None):
    """The runtime of one named server: lazily builds the HTTP client and executor on first call."""
    from ._server import Runtime

    def executor_factory(catalog):
        import httpx

        from ._auth import OneAPIAuth
        from ._executor import Executor

        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        if mock_app is not None:
            mock = _mock_module()
            auth = OneAPIAuth(f"{MOCK_BASE_URL}/oauth2/v1/token", mock.MOCK_CLIENT_ID,
                              client_secret=lambda: mock.MOCK_CLIENT_SECRET)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock_app), auth=auth,
                                       timeout=settings.timeout, limits=limits)
            return Executor(catalog, client, base_url=MOCK_BASE_URL,
                            customer_id=creds.customer_id or MOCK_CUSTOMER_ID,
                            microtenant_id=creds.microtenant_id, max_result_bytes=settings.max_result_bytes)
        problem = creds.missing_message(have_token_url=bool(settings.token_url))
        if problem:
            raise RuntimeError(problem)
        base_url, token_url = oneapi_urls(creds, settings)

        def secret() -> str | None:  # read again for every token request: rotation needs no restart
            value = Credentials().client_secret
            return value.get_secret_value() if value else None

        def private_key() -> str | None:
            value = Credentials().private_key
            if not value:
                return None
            text = value.get_secret_value()
            return Path(text).read_text() if not text.lstrip().startswith("-----") and Path(text).exists() else text

        auth = OneAPIAuth(token_url, creds.client_id, client_secret=secret, private_key=private_key)
        client = httpx.AsyncClient(auth=auth, timeout=settings.timeout, limits=limits)
        return Executor(catalog, client, base_url=base_url, customer_id=creds.customer_id,
                        microtenant_id=creds.microtenant_id, max_result_bytes=settings.max_result_bytes)

    known = bool(creds.customer_id) or mock_app is not None
    return Runtime(settings=settings, executor_factory=executor_factory, customer_id_known=known)


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
    from ._server import build_server

    servers = _servers(args)
    creds = Credentials()
    mock_app = _mock_app(args)
    if mock_app is None and creds.missing(have_token_url=bool(args.token_url)):
        # listing needs no credentials; say once, up front, what calls will need
        print(creds.missing_message(have_token_url=bool(args.token_url)), file=sys.stderr)
    built = {name: build_server(make_runtime(s, creds, mock_app=mock_app)) for name, s in servers.items()}
    if args.transport == "stdio":
        if len(built) > 1:
            raise ConfigError("stdio serves one server: pick it with --server NAME")
        server = next(iter(built.values()))
        from mcp.server.stdio import stdio_server

        async def run() -> None:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        asyncio.run(run())
        return 0
    import uvicorn

    app = http_app(built, stateless=args.stateless, json_response=args.json_response, host=args.host)
    paths = ["/mcp"] if len(built) == 1 else [f"/mcp/{n}" for n in built]
    for path in paths:
        print(f"oneapi-mcp: serving streamable HTTP at http://{args.host}:{args.port}{path}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def http_app(built: dict[str, Any], *, stateless: bool = False, json_response: bool = False,
             host: str = "127.0.0.1"):
    """One Starlette app: a single server at /mcp, or several at /mcp/<name>."""
    import contextlib

    from starlette.applications import Starlette

    if len(built) == 1:
        server = next(iter(built.values()))
        return server.streamable_http_app(streamable_http_path="/mcp", stateless_http=stateless,
                                          json_response=json_response, host=host)
    routes = []
    for name, server in built.items():
        sub = server.streamable_http_app(streamable_http_path=f"/mcp/{name}", stateless_http=stateless,
                                         json_response=json_response, host=host)
        routes.extend(sub.routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with contextlib.AsyncExitStack() as stack:
            for server in built.values():
                await stack.enter_async_context(server.session_manager.run())
            yield

    return Starlette(routes=routes, lifespan=lifespan)


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


def cmd_mock(args: argparse.Namespace, rest: list[str]) -> int:
    return _mock_module().main(rest)


def cmd_doctor(args: argparse.Namespace) -> int:
    from ._doctor import run_doctor

    return asyncio.run(run_doctor(args, make_runtime, _servers, _mock_app))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneapi-mcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    _common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--stateless", action="store_true", help="stateless streamable HTTP (for replicas)")
    serve.add_argument("--json-response", action="store_true", dest="json_response",
                       help="answer HTTP requests with JSON instead of SSE streams")
    tools = sub.add_parser("tools", help="show what an agent would see, per named server")
    _common(tools)
    tools.add_argument("--names", action="store_true", help="also print every listed tool's name")
    doctor = sub.add_parser("doctor", help="check settings, token, reachability and entitlement per service")
    _common(doctor)
    sub.add_parser("mock", help="run the mock OneAPI on a port (see `oneapi-mcp mock --help`)", add_help=False)
    sub.add_parser("demo", help="HTTP server on the mock, a scripted agent session, then keep serving",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "mock":
            return cmd_mock(args, rest)
        if args.command == "demo":
            from ._demo import main as demo_main

            return demo_main(rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return {"serve": cmd_serve, "tools": cmd_tools, "doctor": cmd_doctor}[args.command](args)
    except ConfigError as exc:
        print(f"oneapi-mcp: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""`oneapi-mcp`: serve (stdio or streamable HTTP), tools (what an agent sees), scopes, mock, doctor."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ._compose import (
    build_servers,
    check_credentials_at_start,
    http_app,
    make_runtime,
    mock_module,
    plugin_credentials,
    serving,
)
from ._settings import ConfigError, Credentials, ServerSettings, load_servers

# the composition root's names stay importable from here (tests and older callers)
__all__ = ["http_app", "main", "make_runtime", "plugin_credentials", "serving"]

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
    return mock_module().create_mock_app(seed=args.seed)


def cmd_serve(args: argparse.Namespace) -> int:
    from ._reload import Reloader, apply_log_level

    # made before the first load, so a change while starting is seen as a change
    reloader = Reloader(args.config, lambda: _servers(args), watch=not args.no_watch) if args.config else None
    servers = _servers(args)
    apply_log_level(servers.values())
    creds = Credentials()
    mock_app = _mock_app(args)
    check_credentials_at_start(servers, creds, mock=mock_app is not None, have_token_url=bool(args.token_url))
    built = build_servers(servers, creds, mock_app=mock_app)
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
    return mock_module().main(rest)


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

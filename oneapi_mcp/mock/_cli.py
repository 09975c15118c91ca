"""`python -m oneapi_mcp.mock`: serve the mock on a port with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence

from ._app import ConnectionDropped
from ._auth import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH
from ._faults import FaultConfig
from ._script import parse_failure

__all__ = ["bind_socket", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m oneapi_mcp.mock",
        description="Serve the mock Zscaler OneAPI (ZIA, ZPA, ZDX, ZCC, ZIdentity, ZTW) built from the vendored specs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to listen on (default 8787)")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the generated tenant (env ONEAPI_MOCK_SEED, default 0)"
    )
    parser.add_argument("--token-lifetime", type=int, default=3600, help="bearer token lifetime in seconds")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        default=None,
        help="enforce each service's documented rate limits (env ONEAPI_MOCK_RATE_LIMITS=1)",
    )
    parser.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help="inject faults, e.g. '500=0.05,429=0.1:3,latency=0.2:0.5,drop=0.01' (env ONEAPI_MOCK_FAULTS)",
    )
    parser.add_argument(
        "--fail",
        action="append",
        default=None,
        metavar="RULE",
        help="fail matching requests: 'METHOD PATH-GLOB [STATUS [TIMES [MESSAGE]]]', e.g. "
        "'POST /zia/api/v1/firewallFilteringRules* 500 1' (TIMES 0: always); repeatable "
        "(env ONEAPI_MOCK_FAIL, rules separated by ';')",
    )
    parser.add_argument("--services", default=None, help="comma-separated subset of zia,zpa,zdx,zcc,zid,ztw")
    return parser


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port). Bound before uvicorn starts, so the port is
    known at once and connections queue until uvicorn accepts them. OSError when it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def _quiet_injected_drops(record: logging.LogRecord) -> bool:
    # An injected dropped connection is not a server error worth a traceback.
    return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until interrupted. Returns the process exit code."""
    args = _parser().parse_args(argv)
    import uvicorn

    from ._app import create_mock_app

    try:
        faults = FaultConfig.parse(args.faults) if args.faults else None
        failures = [parse_failure(rule) for rule in args.fail] if args.fail else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    services = [s.strip() for s in args.services.split(",")] if args.services else None
    try:
        mock = create_mock_app(
            seed=args.seed,
            token_lifetime=args.token_lifetime,
            faults=faults,
            rate_limits=args.rate_limits,
            services=services,
            failures=failures,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Bind before printing, so the banner names the real port (also with --port 0).
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    ready = time.perf_counter() - started
    host = f"[{args.host}]" if sock.family == socket.AF_INET6 else args.host
    base = f"http://{host}:{port}"
    print(
        f"oneapi-mcp mock OneAPI on {base} (built in {ready:.2f} s, seed {mock.seed}, "
        f"{len(mock.operations)} operations)",
        flush=True,
    )
    print(f"  token:         POST {base}{TOKEN_PATH}  (audience=https://api.zscaler.com)")
    print(f"  client id:     {MOCK_CLIENT_ID}")
    print(f"  client secret: {MOCK_CLIENT_SECRET}")
    print(f"  rate limits:   {'on' if mock.limiter else 'off'};  faults: {'on' if mock.faults else 'off'}")
    for rule in mock.script.rules:
        times = "always" if rule.times == 0 else f"{rule.times}x"
        print(f"  scripted:      {rule.method} {rule.path} -> {rule.status} ({times})")
    sys.stdout.flush()
    level = os.environ.get("ONEAPI_MOCK_LOG_LEVEL", "warning")
    server = uvicorn.Server(uvicorn.Config(mock, log_level=level, lifespan="off"))
    logging.getLogger("uvicorn.error").addFilter(_quiet_injected_drops)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0

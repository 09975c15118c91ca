"""Policy figures for `make bench`: the per-call overhead of the whole `oneapi_mcp_tool_call` hook chain
(audit with fsync to a temp file, confirmation, filters, request hooks, rate-limit policy) against
the bare executor, and the token requests made by 100 concurrent calls on a cold token cache.

Both run in process against the mock OneAPI in its own process on a 127.0.0.1 socket. Nothing here
asserts; the machines are shared and noisy.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oneapi_mcp._ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TOOL = "zia_list_departments"
ARGS: dict = {}


class _Mock:
    """The mock OneAPI on a free port; its access log (token requests included) goes to a file."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.log = log
        env = {**os.environ, "ONEAPI_MOCK_LOG_LEVEL": "info"}
        env.pop("ONEAPI_MOCK_FAULTS", None)
        env.pop("ONEAPI_MOCK_RATE_LIMITS", None)
        with log.open("wb") as out:
            self.process = subprocess.Popen([PY, "-m", "oneapi_mcp.mock", "--port", str(self.port)], env=env,
                                            stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, what="the mock")
        self.base = f"http://127.0.0.1:{self.port}"

    def token_requests(self) -> int:
        return sum('"POST /oauth2/v1/token' in line for line in self.log.read_text().splitlines())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _runtime(base: str, audit: Path):
    """A named server as `oneapi-mcp serve --base-url ... --token-url ...` builds it, audit log on."""
    from oneapi_mcp._compose import make_runtime
    from oneapi_mcp._server import build_server
    from oneapi_mcp._settings import Credentials, ServerSettings

    settings = ServerSettings(base_url=base, token_url=f"{base}/oauth2/v1/token", audit_log=audit,
                              client_rate_limits=False)
    server = build_server(make_runtime(settings, Credentials()))
    return server.surface  # type: ignore[attr-defined]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def _overhead(base: str, audit: Path, samples: int) -> tuple[list[float], list[float]]:
    from oneapi_mcp._calls import handle_call
    from oneapi_mcp._executor import Executor

    surface = _runtime(base, audit)
    runtime = surface.runtime
    warm = await handle_call(surface, None, TOOL, ARGS)  # token, model import, connection
    assert not warm.is_error, warm.content[0].text
    full = runtime.executor()
    tool = runtime.catalog.tools[TOOL]
    # the same pooled client and token, without hooks, limiter or retry policy
    bare = Executor(runtime.catalog, full.client, base_url=full.base_url, customer_id=full.customer_id)
    bare_times, chain_times = [], []
    for _ in range(samples):  # interleaved, so that machine noise hits both alike
        t0 = time.perf_counter()
        result = await bare.call(tool, ARGS)
        t1 = time.perf_counter()
        called = await handle_call(surface, None, TOOL, ARGS)
        t2 = time.perf_counter()
        assert not result.is_error and not called.is_error
        bare_times.append(t1 - t0)
        chain_times.append(t2 - t1)
    await runtime.shutdown()
    return bare_times, chain_times


async def _cold_burst(base: str, audit: Path, calls: int) -> tuple[int, int, float]:
    from oneapi_mcp._calls import handle_call

    surface = _runtime(base, audit)
    started = time.perf_counter()
    results = await asyncio.gather(*(handle_call(surface, None, TOOL, ARGS) for _ in range(calls)))
    elapsed = time.perf_counter() - started
    errors = sum(1 for r in results if r.is_error)
    auth = surface.runtime.executor().client.auth
    counted = getattr(auth, "token_requests", -1)
    await surface.runtime.shutdown()
    return counted, errors, elapsed


def main(samples: int = 300, calls: int = 100) -> None:
    # obviously fake: the mock's own credentials, which work only against the mock
    from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET

    saved = {k: os.environ.get(k) for k in ("ZSCALER_CLIENT_ID", "ZSCALER_CLIENT_SECRET", "ZPA_CUSTOMER_ID")}
    os.environ.update(ZSCALER_CLIENT_ID=MOCK_CLIENT_ID, ZSCALER_CLIENT_SECRET=MOCK_CLIENT_SECRET,
                      ZPA_CUSTOMER_ID="216196257331200000")
    print("policies (hook chain and token cache, against the mock on a socket)")
    with tempfile.TemporaryDirectory() as tmp:
        mock = _Mock(Path(tmp) / "mock.log")
        try:
            bare, chain = asyncio.run(_overhead(mock.base, Path(tmp) / "audit.jsonl", samples))
            for p in (50, 99):
                added = (_pct(chain, p) - _pct(bare, p)) * 1000
                print(f"  {f'per-call p{p}: bare executor / whole hook chain':<58} "
                      f"{_pct(bare, p) * 1000:>6.2f} / {_pct(chain, p) * 1000:.2f} ms  added {added:.2f} ms")
            paired = sorted(c - b for b, c in zip(bare, chain, strict=True))
            print(f"  {'hook chain overhead, median of paired differences':<58} "
                  f"{paired[len(paired) // 2] * 1000:>11.2f} ms")
            audit_lines = len((Path(tmp) / "audit.jsonl").read_text().splitlines())
            print(f"  {'audit records written (fsync per record)':<58} {audit_lines:>11,}")
            before = mock.token_requests()
            counted, errors, elapsed = asyncio.run(_cold_burst(mock.base, Path(tmp) / "burst.jsonl", calls))
            seen = mock.token_requests() - before
            print(f"  {f'token requests during {calls} concurrent calls, cold cache':<58} {seen:>11}  "
                  f"{'target 1':<14} (client counted {counted}; {errors} errors; {elapsed * 1000:.0f} ms)")
        finally:
            mock.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


if __name__ == "__main__":
    main()

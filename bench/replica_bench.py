"""Replica figures for `make bench`: 1,000 tool calls at concurrency 50 over streamable HTTP through
two `oneapi-mcp serve --stateless` replicas sharing one Redis, against the mock with its documented
rate limits on (in its own process, noting when each request arrived).

Printed: throughput, p50/p99 latency (all calls; calls to the unlimited ZIdentity; calls that wait
for a rate window), errors (target: none), 429s at the mock (target: none), token requests (target:
one), and per documented limit the most requests the mock saw in one window versus the limit.
Without `redis-server` on the PATH the section says so and is skipped.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CALLS = 1_000
CONCURRENCY = 50
CUSTOMER_ID = "216196257331200000"
# The limited services get as many calls as their windows pass within the server's 30 s timeout
# (ZIA and ZTW GET 2/s, ZPA GET 20/10 s, ZDX 30/min); ZIdentity has no documented limit.
MIX = {"zia_list_users": 30, "ztw_get_status": 30, "zpa_list_all_applications": 30, "zdx_list_departments": 25}
UNLIMITED = "zid_list_users"
CLASSES = {"zia": "zia.light", "ztw": "ztw.light", "zpa": "zpa.read", "zdx": "zdx.default", "zid": "zid.default"}


def _row(label: str, value: str, target: str = "", ratio: str = "") -> None:
    print(f"  {label:<58} {value:>14}  {target:<14} {ratio}")


# -- the mock in its own process, noting arrivals -----------------------------------------------------
SEEN_PATH = "/__bench/seen"  # the bench's own route on the mock process: what the mock saw, as JSON


def serve_mock(port: int) -> None:
    """Run the mock with rate limits on, noting [arrival, method, path, status] per request."""
    import uvicorn
    from starlette.responses import JSONResponse

    from oneapi_mcp.mock import create_mock_app

    mock = create_mock_app(seed=0, rate_limits=True)
    seen: list[tuple[float, str, str, int]] = []

    async def noting_app(scope, receive, send):
        if scope["type"] != "http":
            return await mock(scope, receive, send)
        if scope["path"] == SEEN_PATH:
            answer = JSONResponse({"seen": seen, "token_requests": mock.requests.token})
            return await answer(scope, receive, send)
        arrived = time.time()

        async def noting(message):
            if message["type"] == "http.response.start":
                seen.append((arrived, scope["method"], scope["path"], message["status"]))
            await send(message)

        await mock(scope, receive, noting)

    uvicorn.run(noting_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


# -- the run ------------------------------------------------------------------------------------------
class _Processes:
    def __init__(self):
        self.all: list[subprocess.Popen] = []

    def start(self, cmd: list[str], port: int, what: str, env: dict | None = None) -> subprocess.Popen:
        from oneapi_mcp._ports import wait_for_port

        process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.all.append(process)
        wait_for_port(port, process, what=what)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in reversed(self.all):
            self.stop(process)


async def _client(url: str, plan: list[str], latencies: list[tuple[str, float, bool]]) -> None:
    from mcp import Client

    async with Client(url, cache=None) as client:
        for name in plan:
            started = time.perf_counter()
            result = await client.call_tool("invoke_operation", {"name": name, "arguments": {}})
            latencies.append((name, time.perf_counter() - started, bool(result.is_error)))


async def _load(urls: list[str]) -> tuple[float, list[tuple[str, float, bool]]]:
    import anyio

    work = [UNLIMITED] * (CALLS - sum(MIX.values())) + [n for n, count in MIX.items() for _ in range(count)]
    random.Random(8).shuffle(work)  # limited calls spread through the run, the same order every time
    plans = [work[i::CONCURRENCY] for i in range(CONCURRENCY)]
    latencies: list[tuple[str, float, bool]] = []
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for i, plan in enumerate(plans):
            group.start_soon(_client, urls[i % len(urls)], plan, latencies)
    return time.perf_counter() - started, latencies


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def _fullest(arrivals: list[float], window: int) -> tuple[int, int]:
    """(most in one clock-aligned window, as the mock counts; most in any window of that length)."""
    aligned = max(Counter(int(t // window) for t in arrivals).values(), default=0)
    ordered, start, sliding = sorted(arrivals), 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window:
            start += 1
        sliding = max(sliding, end - start + 1)
    return aligned, sliding


def _limited_counts() -> dict[str, int]:
    from oneapi_mcp import load_catalog

    tools = load_catalog().tools
    return {tools[name].rate_class: count for name, count in MIX.items()}


def _least_seconds(count: int, rate_class: str) -> float:
    """The shortest time the documented windows let `count` requests of a class be sent in."""
    from oneapi_mcp import load_catalog
    from oneapi_mcp.mock._limits import parse_limit

    limits = [parse_limit(t) for t in load_catalog().rate_classes[rate_class]["limits"]]
    return max(((count - 1) // limit.count) * limit.window for limit in limits) if limits else 0.0


def _report(wall: float, latencies, seen, token_requests: int) -> None:
    from oneapi_mcp import load_catalog
    from oneapi_mcp.mock._limits import parse_limit
    from oneapi_mcp.mock._spec import service_for_path

    errors = [name for name, _, is_error in latencies if is_error]
    every = [s for _, s, _ in latencies]
    free = [s for name, s, _ in latencies if name == UNLIMITED]
    limited = [s for name, s, _ in latencies if name != UNLIMITED]
    floor = max(_least_seconds(count, rate_class) for rate_class, count in _limited_counts().items())
    _row(f"{len(latencies):,} calls at concurrency {CONCURRENCY}, wall time", f"{wall:.1f} s",
         f">= {floor:.1f} s", f"{wall / floor:6.2f}x the least the documented limits allow")
    _row("throughput", f"{len(latencies) / wall:.0f} calls/s")
    _row("latency p50 / p99, all calls", f"{_pct(every, 50) * 1000:.0f} / {_pct(every, 99) * 1000:.0f} ms")
    _row(f"latency p50 / p99, {len(free)} ZIdentity calls (no limit)",
         f"{_pct(free, 50) * 1000:.0f} / {_pct(free, 99) * 1000:.0f} ms")
    _row(f"latency p50 / p99, {len(limited)} calls that wait for a window",
         f"{_pct(limited, 50) * 1000:.0f} / {_pct(limited, 99) * 1000:.0f} ms")
    _row("errors", f"{len(errors)}", "0", f"first: {errors[0]}" if errors else "")
    statuses = Counter(status for _, _, path, status in seen if not path.startswith("/oauth2"))
    _row("429s at the mock", f"{statuses.get(429, 0)}", "0")
    _row("token requests at the mock (both replicas)", f"{token_requests}", "1")
    print("  highest request rate at the mock per documented limit (aligned windows, as the mock counts;")
    print("  any window of that length in brackets)")
    catalog = load_catalog()
    for service, rate_class in CLASSES.items():
        arrivals = [t for t, method, path, _ in seen if method == "GET" and service_for_path(path) == service]
        texts = catalog.rate_classes[rate_class]["limits"] or []
        if not texts:
            aligned, _ = _fullest(arrivals, 1)
            _row(f"{rate_class}: {len(arrivals)} requests", f"{aligned} in 1 s", "no documented limit")
            continue
        for text in texts:
            limit = parse_limit(text)
            aligned, sliding = _fullest(arrivals, limit.window)
            _row(f"{rate_class} {text}: {len(arrivals)} requests", f"{aligned} ({sliding})", f"<= {limit.count}",
                 f"{aligned / limit.count:6.2f}x of limit")


def main() -> None:
    print("replicas (2 x oneapi-mcp serve --transport http --stateless, one Redis, the mock with its limits)")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        print("  skipped: redis-server is not installed (apt-get install redis-server)")
        return
    import anyio
    import httpx

    from oneapi_mcp._ports import free_port
    from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH

    processes = _Processes()
    try:
        redis_port, mock_port = free_port(), free_port()
        processes.start([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no"], redis_port, "redis-server")
        processes.start([PY, __file__, "--mock", str(mock_port)], mock_port, "the mock")
        base = f"http://127.0.0.1:{mock_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_"))}
        env.update({"ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
                    "ZPA_CUSTOMER_ID": CUSTOMER_ID, "ONEAPI_MCP_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                    "ONEAPI_MCP_CLIENT_RATE_LIMITS": "true"})
        urls = []
        for _ in range(2):
            port = free_port()
            processes.start([PY, "-m", "oneapi_mcp.cli", "serve", "--transport", "http", "--stateless",
                             "--port", str(port), "--base-url", base, "--token-url", base + TOKEN_PATH],
                            port, "a replica", env)
            urls.append(f"http://127.0.0.1:{port}/mcp")
        wall, latencies = anyio.run(_load, urls)
        data = httpx.get(base + SEEN_PATH, timeout=30).json()
    finally:
        processes.stop_all()
    _report(wall, latencies, data["seen"], data["token_requests"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mock":
        serve_mock(int(sys.argv[2]))
    else:
        main()

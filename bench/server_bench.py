"""Server figures for `make bench`: cold start over stdio against the SDK floor, and tools/list sizes."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


# obviously fake credentials, so the server does not print its "credentials incomplete" notice
FAKE_ENV = {"ZSCALER_CLIENT_ID": "bench-fake-client", "ZSCALER_CLIENT_SECRET": "bench-fake-secret",
            "ZSCALER_VANITY_DOMAIN": "bench-fake", "PATH": "/usr/bin:/bin"}


async def _first_list(command: list[str]) -> float:
    started = time.perf_counter()
    params = StdioServerParameters(command=command[0], args=command[1:], env=FAKE_ENV)
    async with Client(params, cache=None) as client:
        await client.list_tools()
        return time.perf_counter() - started


def cold_start(runs: int = 5) -> tuple[float, float]:
    floor_cmd = [PY, str(ROOT / "bench" / "floor_server.py")]
    ours_cmd = [PY, "-m", "oneapi_mcp.cli", "serve"]
    floor, ours = [], []
    for _ in range(runs):  # interleaved so that machine noise hits both alike
        floor.append(anyio.run(_first_list, floor_cmd))
        ours.append(anyio.run(_first_list, ours_cmd))
    return statistics.median(floor), statistics.median(ours)


def list_sizes() -> dict[str, tuple[int, int]]:
    from oneapi_mcp._server import Runtime, build_server
    from oneapi_mcp._settings import ServerSettings

    out = {}
    for label, settings in {
        "default (discovery, read-only)": ServerSettings(),
        "--tools-mode full, read-only": ServerSettings(tools_mode="full"),
        "--tools-mode full, admin": ServerSettings(tools_mode="full", profile="admin"),
    }.items():
        server = build_server(Runtime(settings=settings, executor_factory=lambda c: None, customer_id_known=True))
        surface = server.surface
        names = surface.listed_names(None)
        tools = [surface.mcp_tool(n).model_dump(by_alias=True, exclude_none=True, mode="json") for n in names]
        out[label] = (len(tools), len(json.dumps({"tools": tools}, separators=(",", ":"))))
    return out


def main() -> None:
    print("server (oneapi-mcp serve, stdio)")
    floor, ours = cold_start()
    print(f"  {'cold start to first tools/list, SDK floor (2 tools)':<58} {floor * 1000:>11.0f} ms")
    print(f"  {'cold start to first tools/list, oneapi-mcp (every op)':<58} {ours * 1000:>11.0f} ms")
    print(f"  {'above the floor':<58} {(ours - floor) * 1000:>11.0f} ms  {'< 300 ms':<14} "
          f"{(ours - floor) / 0.3:6.2f}x of target")
    print(f"  {'start-up as a ratio of the floor (issue 16)':<58} {ours / floor:>12.2f}x  {'<= 1.25x':<14} "
          f"{ours / floor / 1.25:6.2f}x of target")
    for label, (count, size) in list_sizes().items():
        target = "< 40,000 B" if label.startswith("default") else ""
        ratio = f"{size / 40_000:6.2f}x of target" if target else f"{size / max(count, 1):,.0f} B per tool"
        print(f"  {'tools/list ' + label + f' ({count} tools)':<58} {size:>12,} B  {target:<14} {ratio}")
    runtime_figures()



def _children_peak_rss_mb(marker: str) -> float | None:
    import os

    me = str(os.getpid())
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == me and marker in cmdline:
            return int(fields["VmHWM"].split()[0]) / 1024
    return None


class _MockOnPort:
    """The mock OneAPI in its own process on 127.0.0.1, so the server's memory is the server's alone."""

    def __enter__(self):
        import subprocess

        from oneapi_mcp._ports import free_port, wait_for_port

        self.port = free_port()
        self.process = subprocess.Popen([PY, "-m", "oneapi_mcp.mock", "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, what="the mock")
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


async def _rss_after_calls() -> tuple[float | None, float | None]:
    from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET

    calls = {"zia": "zia_list_users", "zpa": "zpa_list_all_applications", "zdx": "zdx_list_departments",
             "zcc": "zcc_get_company_info", "zid": "zid_list_users", "ztw": "ztw_get_status"}
    with _MockOnPort() as mock:
        env = {**FAKE_ENV, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
               "ZPA_CUSTOMER_ID": "216196257331200000"}
        ours = StdioServerParameters(command=PY, args=[
            "-m", "oneapi_mcp.cli", "serve", "--base-url", mock.base, "--token-url", f"{mock.base}/oauth2/v1/token"],
            env=env)
        async with Client(ours, cache=None) as client:
            await client.list_tools()
            for name in calls.values():
                result = await client.call_tool("invoke_operation", {"name": name, "arguments": {}})
                assert not result.is_error, result.content[0].text
            ours_mb = _children_peak_rss_mb("oneapi_mcp.cli")
    floor = StdioServerParameters(command=PY, args=[str(ROOT / "bench" / "floor_server.py")], env=FAKE_ENV)
    async with Client(floor, cache=None) as client:
        await client.list_tools()
        floor_mb = _children_peak_rss_mb("floor_server.py")
    return ours_mb, floor_mb


async def _rss_at_first_list() -> float | None:
    """Peak RSS of `serve` (default surface, no upstream) once it has answered its first tools/list."""
    params = StdioServerParameters(command=PY, args=["-m", "oneapi_mcp.cli", "serve"], env=FAKE_ENV)
    async with Client(params, cache=None) as client:
        await client.list_tools()
        return _children_peak_rss_mb("oneapi_mcp.cli")


async def _call_overhead(samples: int = 300) -> tuple[list[float], list[float]]:
    """The same ZIA list call, sent with plain httpx and through the executor, against the mock on a socket."""
    import httpx

    from oneapi_mcp import load_catalog
    from oneapi_mcp._auth import OneAPIAuth
    from oneapi_mcp._executor import Executor
    from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET

    with _MockOnPort() as mock:
        base = mock.base
        catalog = load_catalog(("zia",))
        tool = catalog.tools["zia_list_users"]
        auth = OneAPIAuth(f"{base}/oauth2/v1/token", MOCK_CLIENT_ID, client_secret=lambda: MOCK_CLIENT_SECRET)
        async with httpx.AsyncClient(auth=auth) as client:
            executor = Executor(catalog, client, base_url=base)
            await executor.call(tool, {"page": 1, "pageSize": 10})  # warm: token, model import, connection
            plain, ours = [], []
            for _ in range(samples):
                t0 = time.perf_counter()
                r = await client.get(f"{base}/zia/api/v1/users", params={"page": 1, "pageSize": 10})
                r.json()
                t1 = time.perf_counter()
                await executor.call(tool, {"page": 1, "pageSize": 10})
                t2 = time.perf_counter()
                plain.append(t1 - t0)
                ours.append(t2 - t1)
        return plain, ours


async def _call_overhead_in_process(samples: int = 2_000) -> list[float]:
    """The executor's own cost, without a socket's noise: the same answer (the mock's 10 users) served by
    one `httpx.MockTransport` to plain httpx and to the executor, interleaved; per pair, executor - plain."""
    import httpx

    from oneapi_mcp import load_catalog
    from oneapi_mcp._executor import Executor

    body = json.dumps([{"id": 71000 + i, "name": f"User {i}", "email": f"user{i}@example.test",
                        "department": {"id": 81004, "name": "Human Resources"},
                        "groups": [{"id": 82006, "name": "Remote Workers"}], "adminUser": False,
                        "disabled": False, "deleted": False, "type": "USER", "comments": "",
                        "userRiskScore": {"riskScore": 14, "riskScoreLevel": "HIGH"}} for i in range(10)]).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    catalog = load_catalog(("zia",))
    tool = catalog.tools["zia_list_users"]
    base = "https://api.zsapi.net"
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        executor = Executor(catalog, client, base_url=base)
        await executor.call(tool, {"page": 1, "pageSize": 10})
        added = []
        for _ in range(samples):
            t0 = time.perf_counter()
            (await client.get(f"{base}/zia/api/v1/users", params={"page": 1, "pageSize": 10})).json()
            t1 = time.perf_counter()
            await executor.call(tool, {"page": 1, "pageSize": 10})
            added.append((time.perf_counter() - t1) - (t1 - t0))
        return added


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def runtime_figures() -> None:
    ours_mb, floor_mb = anyio.run(_rss_after_calls)
    listed_mb = anyio.run(_rss_at_first_list)
    if ours_mb is not None:
        print(f"  {'peak RSS after tools/list and one call per service':<58} {ours_mb:>11.0f} MB  "
              f"{'< 100 MB':<14} {ours_mb / 100:6.2f}x of target")
    if listed_mb is not None:
        print(f"  {'peak RSS at the first tools/list, default surface':<58} {listed_mb:>11.0f} MB  "
              f"{'< 80 MB':<14} {listed_mb / 80:6.2f}x of target")
    if floor_mb is not None:
        print(f"  {'peak RSS of the SDK floor server':<58} {floor_mb:>11.0f} MB")
    plain, ours = anyio.run(_call_overhead)
    for p in (50, 99):
        added = (_pct(ours, p) - _pct(plain, p)) * 1000
        print(f"  {f'per-call time p{p}: plain httpx / executor':<58} "
              f"{_pct(plain, p) * 1000:>6.2f} / {_pct(ours, p) * 1000:.2f} ms  "
              + (f"{'< 2 ms added':<14} {added / 2:6.2f}x of target" if p == 50 else ""))
    print(f"  {'executor overhead at p50':<58} {(_pct(ours, 50) - _pct(plain, 50)) * 1000:>11.2f} ms  "
          f"ratio {_pct(ours, 50) / _pct(plain, 50):.2f}x of plain httpx")
    added = anyio.run(_call_overhead_in_process)
    print(f"  {'executor overhead at p50, in process (no socket)':<58} {_pct(added, 50) * 1000:>11.3f} ms  "
          f"p90 {_pct(added, 90) * 1000:.3f} ms")


if __name__ == "__main__":
    main()

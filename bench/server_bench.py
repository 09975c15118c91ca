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
    print(f"  {'cold start to first tools/list, oneapi-mcp (1,147 ops)':<58} {ours * 1000:>11.0f} ms")
    print(f"  {'above the floor':<58} {(ours - floor) * 1000:>11.0f} ms  {'< 300 ms':<14} "
          f"{(ours - floor) / 0.3:6.2f}x of target")
    for label, (count, size) in list_sizes().items():
        target = "< 40,000 B" if label.startswith("default") else ""
        ratio = f"{size / 40_000:6.2f}x of target" if target else f"{size / max(count, 1):,.0f} B per tool"
        print(f"  {'tools/list ' + label + f' ({count} tools)':<58} {size:>12,} B  {target:<14} {ratio}")


if __name__ == "__main__":
    main()

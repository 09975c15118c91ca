"""MCP conformance: the official runner against `oneapi-mcp serve --transport http` on 127.0.0.1, once per
protocol revision.

2025-11-25 (the initialize handshake) runs `@modelcontextprotocol/conformance@0.1.13` (0.1.14+ needs Node 22);
2026-07-28, the newest revision the SDK speaks (stateless: one tools/list for every connection), runs
0.2.0-alpha.12 with `--requirements 2026-07-28`, on Node 20 through `tests/conformance/node20_fs_shim.mjs`.
Runners are installed once into `.cache/`. Each revision has a baseline
(`tests/conformance/expected-failures*.yml`) listing, with reasons, the scenarios that need fixtures a
OneAPI server does not expose; any other failure, or a listed scenario that starts passing, fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oneapi_mcp._ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
SHIM = ROOT / "tests" / "conformance" / "node20_fs_shim.mjs"
# revision -> (runner package, install dir, baseline, extra arguments)
REVISIONS = {
    "2025-11-25": ("@modelcontextprotocol/conformance@0.1.13", "conformance", "expected-failures.yml", []),
    "2026-07-28": ("@modelcontextprotocol/conformance@0.2.0-alpha.12", "conformance-next",
                   "expected-failures-2026-07-28.yml", ["--requirements", "2026-07-28"]),
}


def _runner(package: str, directory: str) -> list[str]:
    prefix = CACHE / directory
    binary = prefix / "node_modules" / ".bin" / "conformance"
    if not binary.exists():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed; the conformance runner needs Node.js 20+")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), package],
                       check=True, capture_output=True, timeout=300)
    # the shim adds fs.globSync where Node lacks it (Node 20) and changes nothing on Node 22+
    return ["node", "--import", str(SHIM), str(binary)]


@pytest.mark.parametrize("revision", list(REVISIONS))
def test_the_server_passes_mcp_conformance_apart_from_the_documented_baseline(tmp_path, revision):
    package, directory, baseline, extra = REVISIONS[revision]
    runner = _runner(package, directory)
    port = free_port()
    env = {**os.environ, "ZSCALER_CLIENT_ID": "conformance-fake-client",
           "ZSCALER_CLIENT_SECRET": "conformance-fake-secret", "ZSCALER_VANITY_DOMAIN": "conformance-fake"}
    server = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.cli", "serve", "--transport", "http",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server, what="oneapi-mcp serve --transport http")
        run = subprocess.run([*runner, "server", "--url", f"http://localhost:{port}/mcp", *extra,
                              "--expected-failures", str(ROOT / "tests" / "conformance" / baseline),
                              "-o", str(tmp_path)],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = run.stdout[run.stdout.rfind("=== SUMMARY ==="):]
    assert run.returncode == 0, summary + run.stderr[-2000:]

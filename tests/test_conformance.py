"""MCP conformance: the official runner against `oneapi-mcp serve --transport http` on 127.0.0.1.

The runner (npm `@modelcontextprotocol/conformance@0.1.13`; 0.1.14+ needs Node 22) is installed once
into `.cache/conformance`. `tests/conformance/expected-failures.yml` lists, with reasons, the scenarios
that need fixtures a OneAPI server does not expose; any other failure, or a listed scenario that
starts passing, fails this test.
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
RUNNER = "@modelcontextprotocol/conformance@0.1.13"
CACHE = ROOT / ".cache" / "conformance"
BASELINE = ROOT / "tests" / "conformance" / "expected-failures.yml"


def _runner() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "conformance"
    if not binary.exists():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed; the conformance runner needs Node.js 20+")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(CACHE), RUNNER],
                       check=True, capture_output=True, timeout=300)
    return binary


def test_the_server_passes_mcp_conformance_apart_from_the_documented_baseline(tmp_path):
    runner = _runner()
    port = free_port()
    env = {**os.environ, "ZSCALER_CLIENT_ID": "conformance-fake-client",
           "ZSCALER_CLIENT_SECRET": "conformance-fake-secret", "ZSCALER_VANITY_DOMAIN": "conformance-fake"}
    server = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.cli", "serve", "--transport", "http",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server, what="oneapi-mcp serve --transport http")
        run = subprocess.run([str(runner), "server", "--url", f"http://localhost:{port}/mcp",
                              "--expected-failures", str(BASELINE), "-o", str(tmp_path)],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = run.stdout[run.stdout.rfind("=== SUMMARY ==="):]
    assert run.returncode == 0, summary + run.stderr[-2000:]

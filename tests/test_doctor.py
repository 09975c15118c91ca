"""`oneapi-mcp doctor`: pass/fail lines per check, a clear message for what is wrong, never a secret."""

from __future__ import annotations

import os
import subprocess
import sys

from oneapi_mcp._ports import free_port, wait_for_port

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_"))}


def _doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "doctor", *args], capture_output=True,
                          text=True, timeout=120, env=env or ENV)


def test_doctor_passes_every_service_on_the_mock():
    run = _doctor("--mock")
    assert run.returncode == 0, run.stdout + run.stderr
    for service in ("zia", "zpa", "zdx", "zcc", "zid", "ztw"):
        assert f"PASS  {service}" in run.stdout
    assert "all checks passed" in run.stdout


def test_doctor_without_credentials_names_what_is_missing():
    run = _doctor()
    assert run.returncode == 1
    assert "FAIL  credentials" in run.stdout and "ZSCALER_CLIENT_ID" in run.stdout and "--mock" in run.stdout


def test_doctor_with_a_wrong_secret_says_authentication_failed_without_printing_it():
    port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.mock", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        wait_for_port(port, mock, what="the mock")
        base = f"http://127.0.0.1:{port}"
        env = {**ENV, "ZSCALER_CLIENT_ID": "mock-client-id", "ZSCALER_CLIENT_SECRET": "wrong-fake-secret-123"}
        run = _doctor("--base-url", base, "--token-url", f"{base}/oauth2/v1/token", env=env)
    finally:
        mock.terminate()
        mock.wait(timeout=10)
    assert run.returncode == 1
    assert "FAIL  zia" in run.stdout and "HTTP 401" in run.stdout
    assert "SKIP  zpa" in run.stdout  # no ZPA customer id
    assert "wrong-fake-secret-123" not in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr

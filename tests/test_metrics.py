"""Operations: Prometheus metrics, /healthz and /readyz, and the graceful stop.

In process: the metrics plugin through a real MCP client (in memory) against the mock (ASGI), the
limiter timed from outside, and the HTTP endpoints through Starlette's TestClient. Over real
sockets: `oneapi-mcp serve --transport http` in its own process, driven by the SDK's client and
scraped with httpx (the exposition parsed by prometheus-client's parser); SIGTERM while a slow call
(the mock process with injected latency) is in flight.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from mcp import Client
from oneapi_mcp.plugins import RateLimited, hookimpl
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from oneapi_mcp._http_security import HttpSecurity, hash_api_key
from oneapi_mcp._metrics import Metrics, error_kind_label, set_metrics
from oneapi_mcp._operations import Lifecycle, _requests_opened, credentials_check
from oneapi_mcp._ports import free_port, wait_for_port
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import Credentials, ServerSettings
from oneapi_mcp.cli import http_app, make_runtime
from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH, create_mock_app

pytestmark = pytest.mark.anyio

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_", "ONEAPI_MOCK_"))}
KEY = "fake-metrics-api-key-0000"
BASE = "http://127.0.0.1:8000"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "mcp-protocol-version": "2025-11-25"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.fixture
def registry():
    """Fresh process-wide metrics for each test."""
    fresh = Metrics()
    set_metrics(fresh)
    yield fresh.registry
    set_metrics(None)


def _value(registry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def _mock_server(pm, **settings):
    mock = create_mock_app(seed=0)
    runtime = make_runtime(ServerSettings(**settings), Credentials(), mock_app=mock, pm=pm)
    return mock, build_server(runtime)


# -- the metrics plugin, in process --------------------------------------------------------------------
async def test_calls_are_counted_per_server_tool_kind_and_outcome(plugin_manager, registry):
    _mock, server = _mock_server(plugin_manager, name="ops")
    async with Client(server, cache=None) as client:
        await client.list_tools()
        ok = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        again = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        await client.call_tool("search_operations", {"query": "users"})
        denied = await client.call_tool("zia_create_department", {"body": {"name": "x"}})
        unknown = await client.call_tool("invoke_operation", {"name": "no_such_tool_made_up_by_a_caller"})
        invalid = await client.call_tool("invoke_operation", {"name": "zia_list_users",
                                                              "arguments": {"page": "one"}})
        composite = await client.call_tool("discovery_service_status", {"services": ["zia"]})
    assert not ok.is_error and not again.is_error and not composite.is_error, composite.content[0].text
    assert denied.is_error and unknown.is_error and invalid.is_error
    calls = "oneapi_mcp_tool_calls_total"
    assert _value(registry, calls, server="ops", tool="zia_list_users", kind="generated", outcome="ok") == 2
    assert _value(registry, calls, server="ops", tool="zia_list_users", kind="generated", outcome="error") == 1
    assert _value(registry, calls, server="ops", tool="search_operations", kind="discovery", outcome="ok") == 1
    assert _value(registry, calls, server="ops", tool="zia_create_department", kind="generated",
                  outcome="refused") == 1
    assert _value(registry, calls, server="ops", tool="discovery_service_status", kind="composite",
                  outcome="ok") == 1
    # a name the caller made up is never a label value
    assert _value(registry, calls, server="ops", tool="unknown", kind="unknown", outcome="refused") == 1
    assert "no_such_tool" not in registry_text(registry)
    errors = "oneapi_mcp_tool_errors_total"
    assert _value(registry, errors, server="ops", tool="zia_create_department", error_kind="scope_denied") == 1
    assert _value(registry, errors, server="ops", tool="zia_list_users", error_kind="invalid_arguments") == 1
    assert _value(registry, "oneapi_mcp_tool_calls_in_flight", server="ops") == 0
    assert _value(registry, "oneapi_mcp_tool_call_duration_seconds_count", server="ops", kind="generated") == 4
    # composite steps are upstream requests of their call, in the same histogram
    latency = "oneapi_mcp_upstream_request_duration_seconds_count"
    assert _value(registry, latency, server="ops", service="zia", method="GET", status_class="2xx") >= 3
    assert _value(registry, "oneapi_mcp_token_refreshes_total", server="ops") == 1


def registry_text(registry) -> str:
    from prometheus_client import generate_latest

    return generate_latest(registry).decode()


async def test_a_429_is_counted_and_its_attempt_timed_as_4xx(plugin_manager, registry):
    mock, server = _mock_server(plugin_manager, max_retries=0)  # reported, not retried: no wait here
    mock.fail("GET", "/zia/api/v1/users", 429)
    async with Client(server, cache=None) as client:
        result = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert result.structured_content["error"]["status"] == 429
    assert _value(registry, "oneapi_mcp_upstream_throttled_total", server="default", service="zia") == 1
    assert _value(registry, "oneapi_mcp_upstream_request_duration_seconds_count", server="default",
                  service="zia", method="GET", status_class="4xx") == 1
    assert _value(registry, "oneapi_mcp_tool_errors_total", server="default", tool="zia_list_users",
                  error_kind="rate_limited") == 1


async def test_the_rate_limiter_is_timed_from_outside_whichever_plugin_provides_it(plugin_manager, registry,
                                                                                   catalog):
    class SlowThenFullLimiter:
        windows = "kept"

        def __init__(self):
            self.calls = 0

        async def acquire(self, tool):
            self.calls += 1
            if self.calls == 1:
                await asyncio.sleep(0.05)  # waited for a slot
            elif self.calls == 3:
                raise RateLimited("the next slot is beyond the timeout", 30)

        def retry_delay(self, tool, attempt, response, error):
            return 0.0 if attempt == 1 else None

        async def sleep(self, seconds):
            pass

    class Plugin:
        @hookimpl
        def oneapi_mcp_rate_limiter(self, settings, catalog):
            return SlowThenFullLimiter()

    plugin_manager.register(Plugin())
    limiter = plugin_manager.hook.oneapi_mcp_rate_limiter(settings=ServerSettings(name="ops"), catalog=catalog)
    tool = catalog.tools["zpa_list_roles"]
    await limiter.acquire(tool)
    await limiter.acquire(tool)
    with pytest.raises(RateLimited):
        await limiter.acquire(tool)
    assert limiter.retry_delay(tool, 1, None, None) == 0.0 and limiter.retry_delay(tool, 2, None, None) is None
    assert limiter.windows == "kept"  # everything else is the provider's own
    labels = {"server": "ops", "service": "zpa"}
    assert _value(registry, "oneapi_mcp_rate_limit_waits_total", **labels) == 1
    assert _value(registry, "oneapi_mcp_rate_limit_wait_seconds_count", **labels) == 3
    assert _value(registry, "oneapi_mcp_rate_limit_wait_seconds_sum", **labels) >= 0.05
    assert _value(registry, "oneapi_mcp_rate_limit_rejections_total", **labels) == 1
    assert _value(registry, "oneapi_mcp_upstream_retries_total", **labels) == 1


def test_token_counts_survive_a_new_auth_and_another_plugins_auth_is_not_counted(registry):
    from types import SimpleNamespace

    from oneapi_mcp._metrics import metrics

    first, second = SimpleNamespace(token_requests=2), SimpleNamespace(token_requests=1, tokens_from_redis=4)
    metrics().track_token_source("ops", first)
    metrics().track_token_source("ops", second)  # e.g. the executor was rebuilt
    metrics().track_token_source("static", SimpleNamespace())  # a header-only auth: nothing to count
    second.token_requests += 1
    assert _value(registry, "oneapi_mcp_token_refreshes_total", server="ops") == 4
    assert _value(registry, "oneapi_mcp_tokens_from_redis_total", server="ops") == 4
    assert registry.get_sample_value("oneapi_mcp_token_refreshes_total", {"server": "static"}) is None


def test_error_kinds_outside_the_identifier_shape_become_other():
    assert error_kind_label("scope_denied") == "scope_denied"
    assert [error_kind_label(k) for k in ("Some Text!", None, 3, "x" * 80)] == ["other"] * 4


# -- /healthz, /readyz, /metrics, in process -------------------------------------------------------------
def _app(security: HttpSecurity | None = None, lifecycle: Lifecycle | None = None):
    server = build_server(Runtime(settings=ServerSettings(), executor_factory=lambda c: None))
    return http_app({"default": server}, stateless=True, json_response=True, host="127.0.0.1", security=security,
                    lifecycle=lifecycle)


def test_readyz_needs_no_auth_and_metrics_needs_the_key_unless_public(registry):
    keyed = HttpSecurity(api_keys={"ci": hash_api_key(KEY)})
    with TestClient(_app(keyed), base_url=BASE) as client:
        health = client.get("/healthz")
        ready = client.get("/readyz", headers={"Host": "10.1.2.3:8000"})  # a probe by pod address
        anonymous = client.get("/metrics")
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})
    assert health.status_code == 200 and ready.json() == {"status": "ready"}
    assert anonymous.status_code == 401
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert "# TYPE oneapi_mcp_tool_calls_total counter" in scraped.text
    public = HttpSecurity(api_keys={"ci": hash_api_key(KEY)}, metrics_public=True)
    with TestClient(_app(public), base_url=BASE) as client:
        scraped = client.get("/metrics", headers={"Host": "10.1.2.3:8000"})
        mcp = client.post("/mcp", json=LIST, headers=MCP_HEADERS)
    assert scraped.status_code == 200 and mcp.status_code == 401  # only /metrics became public


def test_metrics_speaks_openmetrics_when_the_scraper_asks(registry):
    with TestClient(_app(), base_url=BASE) as client:
        scraped = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert scraped.headers["content-type"].startswith("application/openmetrics-text")
    assert scraped.text.rstrip().endswith("# EOF")


def test_readyz_is_503_with_the_reason_until_started_and_while_a_check_fails():
    lifecycle = Lifecycle([lambda: "server 'default': OneAPI credentials are incomplete, missing X"])
    app = _app(lifecycle=lifecycle)
    with TestClient(app, base_url=BASE) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "reason": "server 'default': OneAPI credentials are incomplete, "
                                                             "missing X"}
    assert not Lifecycle().started  # before the lifespan ran
    with TestClient(_app(lifecycle=Lifecycle()), base_url=BASE) as client:
        assert client.get("/readyz").status_code == 200


def test_a_check_that_raises_says_so_without_its_detail_and_a_passing_check_is_not_asked_again(caplog):
    def vault():
        raise RuntimeError("vault at https://vault.internal.example said 403 for path secret/zscaler")

    with TestClient(_app(lifecycle=Lifecycle([vault])), base_url=BASE) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"].startswith("a readiness check failed (RuntimeError")
    assert "vault.internal" not in ready.text and "vault.internal" in caplog.text  # the detail is in the log
    asked = []
    with TestClient(_app(lifecycle=Lifecycle([lambda: asked.append(1)])), base_url=BASE) as client:
        assert [client.get("/readyz").status_code for _ in range(3)] == [200, 200, 200]
    assert asked == [1]


def test_the_credentials_check_names_what_is_missing_per_server(monkeypatch, plugin_manager):
    for name in ("ZSCALER_CLIENT_ID", "ZSCALER_CLIENT_SECRET", "ZSCALER_PRIVATE_KEY", "ZSCALER_VANITY_DOMAIN",
                 "ONEAPI_MCP_SECRET_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    settings = ServerSettings(name="tenant", plugins={"credentials": {"keyring_service": "oneapi-mcp-test-none"}})
    server = build_server(make_runtime(settings, Credentials(), pm=plugin_manager))
    problem = credentials_check({"tenant": server}, Credentials())()
    assert problem.startswith("server 'tenant': OneAPI credentials are incomplete, missing ZSCALER_CLIENT_ID")
    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-client")
    monkeypatch.setenv("ZSCALER_CLIENT_SECRET", "fake-secret-for-readiness")
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "acme")
    assert credentials_check({"tenant": server}, Credentials())() is None


def test_while_draining_new_requests_get_503_and_replies_still_pass():
    lifecycle = Lifecycle()
    with TestClient(_app(lifecycle=lifecycle), base_url=BASE) as client:
        assert client.post("/mcp", json=LIST, headers=MCP_HEADERS).status_code == 200
        lifecycle.begin_drain()
        ready = client.get("/readyz")
        refused = client.post("/mcp", json=LIST, headers=MCP_HEADERS)
        reply = client.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "result": {"action": "accept"}},
                            headers=MCP_HEADERS)
        stream = client.get("/mcp", headers=MCP_HEADERS)
    assert ready.status_code == 503 and ready.json()["reason"].startswith("shutting down")
    assert refused.status_code == 503 and refused.json()["error"] == "shutting_down"
    assert refused.headers["retry-after"] == "1"
    assert reply.status_code != 503  # an elicitation answer for a call in flight
    assert stream.status_code == 503
    assert lifecycle.in_flight == 0


def test_only_json_rpc_requests_are_waited_for():
    assert _requests_opened(b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}') == ["tools/call"]
    assert _requests_opened(b'[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"}]') == ["a"]
    assert _requests_opened(b'{"jsonrpc":"2.0","id":1,"result":{}}') == []
    assert _requests_opened(b"not json") == _requests_opened(None) == []


# -- over real sockets ---------------------------------------------------------------------------------
def _metrics_samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _sample(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.cli", "serve", "--transport", "http",
                                "--port", str(port), *args], env=env or ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, process, what="oneapi-mcp serve --transport http")
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def test_a_served_process_exposes_health_readiness_and_the_metrics_of_its_calls():
    from httpx2 import AsyncClient as McpHttpClient
    from mcp.client.streamable_http import streamable_http_client

    process, base = _serve("--mock", "--api-key-hash", f"ci:{hash_api_key(KEY)}")
    key = {"Authorization": f"Bearer {KEY}"}
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).json() == {"status": "ready"}
            async with McpHttpClient(headers=key) as authed:
                async with Client(streamable_http_client(f"{base}/mcp", http_client=authed), cache=None) as client:
                    await client.list_tools()
                    for name in ("zia_list_users", "zdx_list_departments", "zia_list_users"):
                        result = await client.call_tool("invoke_operation", {"name": name, "arguments": {}})
                        assert not result.is_error, result.content[0].text
                    denied = await client.call_tool("zia_create_department", {"body": {"name": "x"}})
                    assert denied.is_error
            assert (await http.get("/metrics")).status_code == 401
            scraped = await http.get("/metrics", headers=key)
    finally:
        _stop(process)
    samples = _metrics_samples(scraped.text)
    calls = "oneapi_mcp_tool_calls_total"
    assert _sample(samples, calls, server="default", tool="zia_list_users", kind="generated", outcome="ok") == 2
    assert _sample(samples, calls, server="default", tool="zdx_list_departments", kind="generated", outcome="ok") == 1
    assert _sample(samples, calls, server="default", tool="zia_create_department", kind="generated",
                   outcome="refused") == 1
    latency = "oneapi_mcp_upstream_request_duration_seconds"
    assert _sample(samples, latency + "_count", server="default", service="zia", method="GET", status_class="2xx") == 2
    assert _sample(samples, latency + "_count", server="default", service="zdx", method="GET", status_class="2xx") == 1
    assert _sample(samples, latency + "_bucket", server="default", service="zia", method="GET", status_class="2xx",
                   le="+Inf") == 2
    assert _sample(samples, "oneapi_mcp_token_refreshes_total", server="default") == 1
    assert _sample(samples, "oneapi_mcp_tool_calls_in_flight", server="default") == 0
    assert _sample(samples, "process_resident_memory_bytes") > 0


async def test_sigterm_lets_the_call_in_flight_finish_refuses_new_ones_and_exits_0(tmp_path):
    mock_port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.mock", "--port", str(mock_port),
                             "--faults", "latency=1:4"],  # every API request takes 4 s
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mock_base = f"http://127.0.0.1:{mock_port}"
    env = {**ENV, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET}
    process = None
    try:
        wait_for_port(mock_port, mock, what="the mock")
        process, base = _serve("--base-url", mock_base, "--token-url", mock_base + TOKEN_PATH, env=env)
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/readyz")).status_code == 200
            async with Client(f"{base}/mcp", cache=None) as client:
                await client.list_tools()  # the client checks results against the listed tools
                call = asyncio.create_task(
                    client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}}))
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and _sample(_metrics_samples((await http.get("/metrics")).text),
                                                              "oneapi_mcp_tool_calls_in_flight", server="default") < 1:
                    await asyncio.sleep(0.05)
                process.send_signal(signal.SIGTERM)
                # the signal is handled when the server's loop next runs: poll for it (a fixed 0.3 s was not
                # always enough on a loaded machine), well within the 4 s the call in flight takes
                deadline = time.monotonic() + 10
                ready = await http.get("/readyz")
                while ready.status_code == 200 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    ready = await http.get("/readyz")
                refused = await http.post("/mcp", json=LIST, headers=MCP_HEADERS)
                result = await call
            code = process.wait(timeout=30)
        stderr = process.stderr.read().decode()
    finally:
        if process is not None:
            _stop(process)
        mock.terminate()
        mock.wait(timeout=10)
    assert ready.status_code == 503 and ready.json()["reason"].startswith("shutting down: 1 request(s) in flight")
    assert refused.status_code == 503
    assert not result.is_error, result.content[0].text
    assert result.structured_content["result"]  # the users, delivered after the signal
    assert code == 0, stderr
    assert "still running" not in stderr

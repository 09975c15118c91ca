"""The cross-cutting policies over real sockets: `python -m oneapi_mcp.mock --port P` in its own process,
`oneapi-mcp serve` in another (stdio, or streamable HTTP on a port), driven by the SDK's `mcp.Client`.

Covered: token caching, refresh before expiry and re-authentication after a rejected token; 429 in
each service's header style, retried, and reported with when to retry; injected 503s retried for an
idempotent GET and never for a POST; a write refused on a read-only server; the destructive
confirmation flow; the audit log's content (no secret); HTTP 401 / 421 / 403 and an open /healthz.

What the mock received is read from its access log (ONEAPI_MOCK_LOG_LEVEL=info); what the server
sent upstream per call, from the audit log. The credentials are the mock's own, fake on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters

from oneapi_mcp._ports import free_port, wait_for_port
from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH
from oneapi_mcp.mock._faults import FaultConfig, FaultInjector

pytestmark = pytest.mark.anyio

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_", "ONEAPI_MOCK_"))}
CUSTOMER_ID = "216196257331200000"  # any digits: the mock serves one tenant for every customer id
FAKE_API_KEY = "fake-api-key-sockets-test-0000"
FAKE_PASSWORD = "fake-password-never-logged-123"


def _status(access_line: str) -> int:
    return int(access_line.rsplit('" ', 1)[1].split()[0])


class Mock:
    """The mock OneAPI in its own process; its uvicorn access log goes to a file we can read."""

    def __init__(self, log: Path, *args: str, port: int | None = None):
        self.port = port or free_port()
        self.args = args
        self.log = log
        self.base = f"http://127.0.0.1:{self.port}"
        self.since = 0  # access() reads the log from this offset on (see `mark`)
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oneapi_mcp.mock", "--port", str(self.port), *self.args],
                env={**ENV, "ONEAPI_MOCK_LOG_LEVEL": "info"}, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, what="the mock")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def mark(self) -> None:
        """From now on, access() and the counts read only what the mock logs next (a mock shared by tests)."""
        self.since = len(self.log.read_text())

    def access(self) -> list[str]:
        """Access-log lines: `127.0.0.1:PORT - "GET /path HTTP/1.1" 200`."""
        return [line for line in self.log.read_text()[self.since:].splitlines() if '" ' in line and " HTTP/1.1" in line]

    def count(self, method: str, path: str, status: int | None = None) -> int:
        return sum(1 for line in self.access() if f'"{method} {path}' in line
                   and (status is None or _status(line) == status))

    @property
    def token_requests(self) -> int:
        return self.count("POST", TOKEN_PATH)


@pytest.fixture
def mock_factory(tmp_path):
    started: list[Mock] = []

    def start(*args: str) -> Mock:
        mock = Mock(tmp_path / f"mock{len(started)}.log", *args)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        if mock.process.poll() is None:
            mock.stop()


@pytest.fixture(scope="module")
def _default_mock(tmp_path_factory):
    mock = Mock(tmp_path_factory.mktemp("default-mock") / "mock.log")
    yield mock
    if mock.process.poll() is None:
        mock.stop()


@pytest.fixture
def default_mock(_default_mock):
    """The mock with no options, one process for the tests that neither restart it nor give it options (a start
    is ~0.6 s of CPU); what it logged before the test is not counted."""
    _default_mock.mark()
    return _default_mock


def _server_env(audit: Path, **extra: str) -> dict[str, str]:
    return {**ENV, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
            "ZPA_CUSTOMER_ID": CUSTOMER_ID, "ONEAPI_MCP_AUDIT_LOG": str(audit),
            # client-side windows off unless a test wants them: the mock's own limits are under test
            "ONEAPI_MCP_CLIENT_RATE_LIMITS": "false", **extra}


def _serve_args(mock: Mock, *args: str) -> list[str]:
    return ["-m", "oneapi_mcp.cli", "serve", "--base-url", mock.base, "--token-url", mock.base + TOKEN_PATH, *args]


def _stdio(mock: Mock, audit: Path, *args: str, **env: str) -> Client:
    params = StdioServerParameters(command=sys.executable, args=_serve_args(mock, *args), env=_server_env(audit, **env))
    return Client(params, cache=None)


def _audit(path: Path) -> list[dict]:
    """The outcome records (a write's intent record, written before it, is left out)."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if r.get("phase") != "intent"]


def _statuses(record: dict) -> list[int | None]:
    return [u["status"] for u in record["upstream"]]


def _error(result) -> dict:
    assert result.is_error, result.content[0].text
    return result.structured_content["error"]


def _fault_seed(spec: str, pattern: list[str | None]) -> int:
    """A fault seed whose first decisions are `pattern` (the mock decides every API request in turn)."""
    config = FaultConfig.parse(spec)
    for seed in range(200_000):
        injector = FaultInjector(config.__class__(**{**config.__dict__, "seed": seed}), 0)
        if [injector.next().kind for _ in pattern] == pattern:
            return seed
    raise AssertionError(f"no seed gives {pattern}")


# -- (a) tokens ------------------------------------------------------------------------------------
async def test_the_token_is_cached_and_refreshed_60_s_before_it_expires(mock_factory, tmp_path):
    # lifetime 70 s: the server treats the token as fresh for 10 s (it refreshes 60 s early). Two calls fit in
    # 10 s even on a loaded machine; they did not always fit in the 2 s a 62 s lifetime left.
    mock = mock_factory("--token-lifetime", "70")
    async with _stdio(mock, tmp_path / "audit.jsonl") as client:
        first = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        second = await client.call_tool("invoke_operation", {"name": "zdx_list_departments", "arguments": {}})
        assert not first.is_error and not second.is_error, (first.content, second.content)
        assert mock.token_requests == 1  # cached across calls and services
        time.sleep(10.5)  # past expiry minus the margin (not an assertion on time)
        third = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        assert not third.is_error, third.content[0].text
    assert mock.token_requests == 2
    assert mock.count("GET", "/zia/api/v1/users", 401) == 0  # refreshed before the API saw an old token


async def test_a_token_shorter_than_the_margin_is_never_sent_after_it_expired(mock_factory, tmp_path):
    mock = mock_factory("--token-lifetime", "1")
    async with _stdio(mock, tmp_path / "audit.jsonl") as client:
        for _ in range(2):
            result = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
            assert not result.is_error, result.content[0].text
            time.sleep(1.1)  # the mock's token has expired by now
    assert mock.token_requests == 2
    assert mock.count("GET", "/zia/api/v1/users", 401) == 0
    assert [_statuses(r) for r in _audit(tmp_path / "audit.jsonl")] == [[200], [200]]


async def test_a_token_the_api_rejects_is_replaced_once_and_the_call_succeeds(mock_factory, tmp_path):
    mock = mock_factory()
    async with _stdio(mock, tmp_path / "audit.jsonl") as client:
        first = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        assert not first.is_error, first.content[0].text
        # a new mock process on the same port knows none of the old tokens: the cached one is now
        # rejected with 401, as an expired or revoked token would be
        mock.stop()
        mock.start()
        again = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
        assert not again.is_error, again.content[0].text
    text = mock.log.read_text().split("oneapi-mcp mock OneAPI on")[-1]  # the second process only
    lines = [line for line in text.splitlines() if " HTTP/1.1" in line]
    users = [line for line in lines if '"GET /zia/api/v1/users' in line]
    assert [_status(line) for line in users] == [401, 200]  # one re-auth, one retry
    assert sum(f'"POST {TOKEN_PATH}' in line for line in lines) == 1


# -- (b) 429 ---------------------------------------------------------------------------------------
async def test_429_in_each_services_header_style_is_retried(mock_factory, tmp_path):
    # ZIA: Retry-After + x-ratelimit-reset; ZPA: retry-after "1s"; ZDX: RateLimit-Reset epoch;
    # ZCC: X-Rate-Limit-Retry-After-Seconds; ZTW: Retry-After (and in the body)
    calls = ["zia_list_users", "zpa_list_roles", "zdx_list_departments", "zcc_list_admin_roles",
             "ztw_list_account_groups"]
    seed = _fault_seed("429=0.5:1", ["burst_429", None] * len(calls))
    mock = mock_factory("--faults", f"429=0.5:1,seed={seed}")
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit) as client:
        for name in calls:
            result = await client.call_tool("invoke_operation", {"name": name, "arguments": {}})
            assert not result.is_error, (name, result.content[0].text)
    records = _audit(audit)
    assert [r["tool"] for r in records] == calls
    assert [_statuses(r) for r in records] == [[429, 200]] * len(calls)


async def test_a_429_whose_wait_exceeds_the_timeout_is_reported_with_when_to_retry(mock_factory, tmp_path):
    # ZCC allows 100 calls an hour; the 101st gets 429 with X-Rate-Limit-Retry-After-Seconds
    mock = mock_factory("--rate-limits")
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit, "--timeout", "5") as client:
        for _ in range(250):  # bounded; one fixed hourly window can roll over at most once
            result = await client.call_tool("invoke_operation", {"name": "zcc_list_admin_roles", "arguments": {}})
            if result.is_error:
                break
        error = _error(result)
    assert error["status"] == 429 and error["service"] == "zcc"
    assert "rate limit reached; retry after" in error["next_step"]
    wait = int(error["next_step"].split("retry after ")[1].split(" ")[0])
    assert wait >= 5  # beyond the server's 5 s timeout (with jitter), so it was not waited for
    assert _statuses(_audit(audit)[-1]) == [429]  # reported, not retried


async def test_client_side_windows_refuse_before_sending_and_say_when_to_retry(mock_factory, tmp_path):
    mock = mock_factory("--rate-limits")
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit, "--timeout", "5", ONEAPI_MCP_CLIENT_RATE_LIMITS="true") as client:
        for _ in range(250):
            result = await client.call_tool("invoke_operation", {"name": "zcc_list_admin_roles", "arguments": {}})
            if result.is_error:
                break
        error = _error(result)
    assert error["kind"] == "rate_limited" and error["retry_after_seconds"] > 5
    assert "nothing was sent" in error["message"]
    assert _audit(audit)[-1]["upstream"] == []
    assert mock.count("GET", "/zcc/papi/public/v1/getAdminRoles", 429) == 0  # the API never had to refuse


# -- (c) 5xx faults --------------------------------------------------------------------------------
async def test_an_injected_503_is_retried_for_a_get_and_never_for_a_post(mock_factory, tmp_path):
    seed = _fault_seed("503=0.5", ["error_503", None, "error_503", None])
    mock = mock_factory("--faults", f"503=0.5,seed={seed}")
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit, "--profile", "read-write") as client:
        listed = await client.call_tool("zia_list_departments", {})
        assert not listed.is_error, listed.content[0].text
        created = await client.call_tool("zia_create_department", {"body": {"name": "Sockets 503 Dept"}})
        error = _error(created)
        assert error["status"] == 503 and "retry shortly" in error["next_step"]
        after = await client.call_tool("zia_list_departments", {})
        assert not after.is_error, after.content[0].text
    assert [_statuses(r) for r in _audit(audit)] == [[503, 200], [503], [200]]
    assert mock.count("POST", "/zia/api/v1/departments") == 1  # sent once, never twice
    names = [d.get("name") for d in after.structured_content["result"]]
    assert "Sockets 503 Dept" not in names


async def test_a_get_that_keeps_failing_is_retried_up_to_max_retries(mock_factory, tmp_path):
    mock = mock_factory("--faults", "503=1")
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit, ONEAPI_MCP_MAX_RETRIES="2") as client:
        result = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
    assert _error(result)["status"] == 503
    assert _statuses(_audit(audit)[0]) == [503, 503, 503]


# -- (d) read-only, (e) confirmation, (f) audit --------------------------------------------------------
async def test_a_read_only_server_refuses_a_write_by_any_name_and_sends_nothing(default_mock, tmp_path):
    mock = default_mock
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit) as client:
        direct = await client.call_tool("zia_create_department", {"body": {"name": "Nope"}})
        via = await client.call_tool("invoke_operation", {"name": "zia_create_department",
                                                          "arguments": {"body": {"name": "Nope"}}})
    for result in (direct, via):
        error = _error(result)
        assert error["kind"] == "scope_denied" and "read" in error["message"]
    assert mock.count("POST", "/zia/api/v1/departments") == 0
    assert [(r["outcome"], r["upstream"]) for r in _audit(audit)] == [("denied", []), ("denied", [])]


async def test_a_destructive_call_runs_only_with_a_single_use_confirm_token(default_mock, tmp_path):
    mock = default_mock
    audit = tmp_path / "audit.jsonl"
    async with _stdio(mock, audit, "--profile", "admin") as client:
        departments = await client.call_tool("zia_list_departments", {})
        target = departments.structured_content["result"][0]["id"]
        planned = await client.call_tool("zia_remove_department", {"id": target})
        error = _error(planned)
        assert error["kind"] == "confirmation_required"
        assert error["plan"]["method"] == "DELETE" and error["plan"]["path"].endswith(f"/departments/{target}")
        token = error["confirm_token"]
        assert mock.count("DELETE", "/zia/api/v1/departments") == 0  # nothing ran yet
        other = await client.call_tool("zia_remove_department", {"id": target + 1, "confirm_token": token})
        assert _error(other)["kind"] == "confirmation_invalid"  # bound to the arguments; now used up
        planned = await client.call_tool("zia_remove_department", {"id": target})
        token = _error(planned)["confirm_token"]
        done = await client.call_tool("zia_remove_department", {"id": target, "confirm_token": token})
        assert not done.is_error, done.content[0].text
        reused = await client.call_tool("zia_remove_department", {"id": target, "confirm_token": token})
        assert _error(reused)["kind"] == "confirmation_invalid"
        assert "already used" in _error(reused)["message"]
    assert mock.count("DELETE", f"/zia/api/v1/departments/{target}") == 1
    outcomes = [r["outcome"] for r in _audit(audit)]
    assert outcomes == ["ok", "confirmation_required", "denied", "confirmation_required", "ok", "denied"]
    assert token not in (tmp_path / "audit.jsonl").read_text()


async def test_the_audit_log_has_one_json_line_per_call_and_no_secret(default_mock, tmp_path):
    mock = default_mock
    audit = tmp_path / "logs" / "audit.jsonl"
    calls = [
        ("describe_operation", {"name": "zia_list_users"}),
        ("zia_list_users", {"pageSize": 5}),
        ("invoke_operation", {"name": "zpa_list_roles", "arguments": {}}),
        ("zia_create_user", {"body": {"name": "x", "email": "x@example.test", "password": FAKE_PASSWORD}}),
        ("invoke_operation", {"name": "zia_list_users", "arguments": {"page": "one"}}),
    ]
    results = []
    async with _stdio(mock, audit) as client:
        for name, arguments in calls:
            results.append(await client.call_tool(name, arguments))
    text = audit.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == len(calls)
    assert [r["tool"] for r in records] == ["describe_operation", "zia_list_users", "zpa_list_roles",
                                            "zia_create_user", "zia_list_users"]
    assert [r["via"] for r in records] == [None, None, "invoke_operation", None, "invoke_operation"]
    assert [r["outcome"] for r in records] == ["ok", "ok", "ok", "denied", "error"]
    assert records[1]["upstream"] == [{"method": "GET", "path": "/zia/api/v1/users", "status": 200}]
    assert records[2]["upstream"][0]["path"].startswith("/zpa/") and records[2]["upstream"][0]["status"] == 200
    for record in records:
        assert {"time", "server", "client", "scope", "arguments", "arguments_sha256", "duration_ms"} <= set(record)
    assert records[3]["arguments"]["body"]["password"] != FAKE_PASSWORD
    for secret in (MOCK_CLIENT_SECRET, FAKE_PASSWORD, "Bearer ", "mock."):
        assert secret not in text, secret
    for result in results:
        assert MOCK_CLIENT_SECRET not in json.dumps(result.model_dump(mode="json"))
    assert audit.stat().st_mode & 0o777 == 0o600


# -- (g) HTTP security -------------------------------------------------------------------------------
async def test_http_needs_an_api_key_and_checks_host_and_origin(default_mock, tmp_path):
    from httpx2 import AsyncClient as McpHttpClient
    from mcp.client.streamable_http import streamable_http_client

    mock = default_mock
    audit = tmp_path / "audit.jsonl"
    hashed = subprocess.run([sys.executable, "-m", "oneapi_mcp.cli", "hash-key"], input=FAKE_API_KEY + "\n",
                            capture_output=True, text=True, env=ENV, check=True).stdout.strip()
    assert hashed.startswith("sha256:") and FAKE_API_KEY not in hashed
    port = free_port()
    server = subprocess.Popen([sys.executable, *_serve_args(mock, "--transport", "http", "--port", str(port),
                                                            "--api-key-hash", f"ci:{hashed}")],
                              env=_server_env(audit), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    key = {"Authorization": f"Bearer {FAKE_API_KEY}"}
    try:
        wait_for_port(port, server, what="oneapi-mcp serve --transport http")
        async with httpx.AsyncClient(base_url=base) as http:
            health = await http.get("/healthz")
            missing = await http.post("/mcp", json=body, headers=headers)
            wrong = await http.post("/mcp", json=body, headers={**headers, "Authorization": "Bearer fake-wrong"})
            rebinding = await http.post("/mcp", json=body, headers={**headers, **key, "Host": "attacker.example"})
            cross_site = await http.post("/mcp", json=body,
                                         headers={**headers, **key, "Origin": "https://attacker.example"})
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert missing.status_code == wrong.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert rebinding.status_code == 421
        assert cross_site.status_code == 403
        async with McpHttpClient(headers=key) as authed:
            transport = streamable_http_client(f"{base}/mcp", http_client=authed)
            async with Client(transport, cache=None) as client:
                listed = await client.list_tools()
                assert listed.tools[0].name == "search_operations"
                users = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {}})
                assert not users.is_error, users.content[0].text
    finally:
        server.terminate()
        server.wait(timeout=10)
    records = _audit(audit)
    assert records and {r["client"] for r in records} == {"apikey:ci"}
    assert FAKE_API_KEY not in audit.read_text()

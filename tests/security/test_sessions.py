"""Stateful streamable-HTTP sessions belong to the identity that opened them (API key id or JWT sub),
each identity holds a bounded number of them, idle ones close, and confirm tokens are bound to the
client that got them. Through a real server on 127.0.0.1 (uvicorn in a thread), driven by raw httpx
or the SDK's client."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from _http_helpers import HEADERS, INITIALIZE, KEY, KEY_B, LEGACY, LIST, JwtIssuer, LiveServer, app, bearer, two_keys
from oneapi_mcp.plugins.builtin import scopes

from oneapi_mcp._executor import Executor
from oneapi_mcp._http_security import HttpSecurity
from oneapi_mcp._settings import ConfigError, ServerSettings, load_servers

pytestmark = pytest.mark.anyio
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
DELETE = "zia_remove_department"


def _stateful(security: HttpSecurity, **settings):
    return LiveServer(app(security, stateless=False, json_response=True, **settings))


async def _open(http: httpx.AsyncClient, credentials: dict[str, str]) -> httpx.Response:
    return await http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **credentials})


async def _session(http: httpx.AsyncClient, credentials: dict[str, str]) -> str:
    opened = await _open(http, credentials)
    assert opened.status_code == 200, opened.text
    session = opened.headers["mcp-session-id"]
    ready = await http.post("/mcp", json=INITIALIZED, headers={**HEADERS, **credentials, "mcp-session-id": session})
    assert ready.status_code == 202
    return session


async def _in(http: httpx.AsyncClient, method: str, session: str, credentials: dict[str, str]) -> httpx.Response:
    headers = {**HEADERS, **credentials, "mcp-session-id": session}
    if method == "POST":
        return await http.post("/mcp", json=LIST, headers=headers)
    if method == "GET":  # the server-to-client stream: read only the status line and headers
        async with http.stream("GET", "/mcp", headers=headers) as response:
            return response
    return await http.request(method, "/mcp", headers=headers)


# -- sessions bound to identity --------------------------------------------------------------------
async def test_another_api_key_gets_404_for_post_get_and_delete_on_a_session_it_did_not_open():
    a, b = bearer(KEY), bearer(KEY_B)
    with _stateful(two_keys()) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            session = await _session(http, a)
            stolen = {m: await _in(http, m, session, b) for m in ("POST", "GET", "DELETE")}
            unknown = await _in(http, "POST", "f" * 32, b)
            still_there = await _in(http, "POST", session, a)
            ended = await _in(http, "DELETE", session, a)
            after = await _in(http, "POST", session, a)
    for method, response in stolen.items():
        assert response.status_code == 404, method
    assert stolen["POST"].json() == unknown.json()  # the same answer as for a session that does not exist
    assert "tools" not in stolen["POST"].text
    assert still_there.status_code == 200 and still_there.json()["result"]["tools"]
    assert ended.status_code == 200 and after.status_code == 404


async def test_a_jwt_session_belongs_to_its_subject_not_to_one_token(tmp_path):
    issuer = JwtIssuer(tmp_path)
    with _stateful(HttpSecurity(jwt=issuer.verifier)) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            session = await _session(http, bearer(issuer.token(sub="agent-7")))
            refreshed = await _in(http, "POST", session, bearer(issuer.token(sub="agent-7", jti="second-token")))
            other_subject = await _in(http, "POST", session, bearer(issuer.token(sub="agent-8")))
            other_delete = await _in(http, "DELETE", session, bearer(issuer.token(sub="agent-8")))
            still_there = await _in(http, "POST", session, bearer(issuer.token(sub="agent-7")))
    assert refreshed.status_code == 200
    assert other_subject.status_code == other_delete.status_code == 404
    assert still_there.status_code == 200


async def test_the_sdk_client_works_in_its_session_and_its_session_id_is_useless_to_another_key():
    from httpx2 import AsyncClient as McpHttpClient
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    seen: list[str] = []

    async def remember(response) -> None:
        if response.headers.get("mcp-session-id"):
            seen.append(response.headers["mcp-session-id"])

    with _stateful(two_keys(), tools_mode="toolsets") as live:
        async with McpHttpClient(headers=bearer(KEY), event_hooks={"response": [remember]}) as authed:
            async with Client(streamable_http_client(f"{live.base}/mcp", http_client=authed), cache=None,
                              mode="legacy") as client:
                enabled = await client.call_tool("enable_toolset", {"name": "zia.users"})
                async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
                    stolen = await _in(http, "POST", seen[0], bearer(KEY_B))
                    ended = await _in(http, "DELETE", seen[0], bearer(KEY_B))
                listed = [tool.name for tool in (await client.list_tools()).tools]
    assert not enabled.is_error
    assert stolen.status_code == ended.status_code == 404
    assert "zia_list_users" in listed  # the owner's session (and its enabled toolset) is intact


async def test_naming_a_session_id_on_a_request_outside_sessions_does_not_reach_that_sessions_toolsets():
    a, b = bearer(KEY), bearer(KEY_B)
    enable = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "enable_toolset", "arguments": {"name": "zia.users"}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "intruder", "version": "1"}}}}
    modern = {**LEGACY, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "enable_toolset"}
    with _stateful(two_keys(), tools_mode="toolsets") as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            session = await _session(http, a)
            sideways = await http.post("/mcp", json=enable, headers={**modern, **b, "mcp-session-id": session})
            listed = (await _in(http, "POST", session, a)).json()["result"]["tools"]
    assert sideways.status_code == 200  # a 2026-07-28 request has no session: it runs, on its own state
    assert "zia_get_department" not in [tool["name"] for tool in listed]


# -- how many sessions one identity holds ---------------------------------------------------------
async def test_an_identity_at_its_session_limit_gets_429_saying_why_while_other_identities_still_get_sessions():
    a, b = bearer(KEY), bearer(KEY_B)
    with _stateful(two_keys(), sessions_per_client=2) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            first = [await _session(http, a) for _ in range(2)]
            refused = await _open(http, a)
            # the SDK reads the first of repeated headers: the last cannot pass this off as a sessionless request
            versions = [("mcp-protocol-version", "2025-11-25"), ("mcp-protocol-version", "2026-07-28")]
            repeated = await http.post("/mcp", json=INITIALIZE, headers=[*LEGACY.items(), *a.items(), *versions])
            other = await _open(http, b)
            in_session = await _in(http, "POST", first[0], a)  # the limit only stops new sessions
            await _in(http, "DELETE", first[0], a)
            after_ending_one = await _open(http, a)
    assert refused.status_code == repeated.status_code == 429
    error = refused.json()["error"]
    assert "'apikey:a' already holds 2 open MCP sessions" in error["message"]
    assert "sessions_per_client = 2" in error["message"] and "DELETE" in error["message"]
    assert other.status_code == 200 and "mcp-session-id" in other.headers
    assert in_session.status_code == 200
    assert after_ending_one.status_code == 200


async def test_each_named_server_counts_its_own_sessions_against_its_own_limit():
    from oneapi_mcp._server import Runtime, build_server
    from oneapi_mcp.cli import http_app

    built = {name: build_server(Runtime(settings=ServerSettings(name=name, sessions_per_client=limit),
                                        executor_factory=lambda catalog: None)) for name, limit in (("ops", 1),
                                                                                                     ("audit", 2))}
    with LiveServer(http_app(built, json_response=True, security=two_keys())) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            async def open_on(name: str) -> int:
                answer = await http.post(f"/mcp/{name}", json=INITIALIZE, headers={**LEGACY, **bearer(KEY)})
                return answer.status_code

            statuses = [await open_on(name) for name in ("ops", "ops", "audit", "audit", "audit")]
    assert statuses == [200, 429, 200, 200, 429]


async def test_concurrent_openings_by_one_identity_cannot_overshoot_its_limit():
    with _stateful(two_keys(), sessions_per_client=3) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=20) as http:
            answers = await asyncio.gather(*(_open(http, bearer(KEY)) for _ in range(10)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 3 + [429] * 7


async def test_a_session_registered_while_its_opening_is_in_flight_is_counted_once():
    """The SDK registers a session before it answers the opening request: counting in-flight openings on
    top of registered sessions counted that one twice and refused a legitimate opening (CI saw 2 of 3)."""
    from types import SimpleNamespace

    from mcp.server.auth.middleware.bearer_auth import authorization_context

    from oneapi_mcp._http_security import _principal
    from oneapi_mcp._http_sessions import SessionLimitExceeded, SessionLimits

    user = _principal("apikey:a", None)
    manager = SimpleNamespace(stateless=False, session_idle_timeout=60.0, _session_owners={})
    server = SimpleNamespace(session_manager=manager, surface=SimpleNamespace(
        settings=SimpleNamespace(sessions_per_client=2)))
    limits = SessionLimits({"/mcp": server})
    scope = {"path": "/mcp", "headers": [(b"mcp-protocol-version", b"2025-11-25")], "user": user}
    owner = authorization_context(user)
    started: list[dict] = []

    async def send(message: dict) -> None:
        started.append(message)

    first = await limits.admit(scope, "apikey:a")
    manager._session_owners["s1"] = owner  # the SDK registered the first session; its answer is not out yet
    second = asyncio.create_task(limits.admit(scope, "apikey:a"))
    await asyncio.sleep(0.05)
    assert not second.done()  # it waits for the first opening's turn instead of counting it twice
    await first.send(send)({"type": "http.response.start", "status": 200, "headers": []})
    admitted = await asyncio.wait_for(second, 5)
    manager._session_owners["s2"] = owner
    admitted.release()
    first.release()  # releasing again (the request ends) changes nothing
    with pytest.raises(SessionLimitExceeded, match="already holds 2 open MCP sessions"):
        await limits.admit(scope, "apikey:a")
    assert started and limits._turns == {}


async def test_an_idle_session_is_closed_after_the_idle_timeout_and_frees_its_slot():
    a = bearer(KEY)
    with _stateful(two_keys(), sessions_per_client=1, session_idle_timeout=1) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            session = await _session(http, a)
            full = await _open(http, a)
            deadline = time.monotonic() + 10
            while (await _in(http, "POST", session, a)).status_code != 404:
                assert time.monotonic() < deadline, "the idle session was never closed"
                await asyncio.sleep(1.2)  # each request restarts the idle clock: wait longer than it
            reopened = await _open(http, a)
    assert full.status_code == 429
    assert reopened.status_code == 200


def test_the_session_settings_have_sane_defaults_are_validated_and_come_from_the_environment(monkeypatch, tmp_path):
    defaults = ServerSettings()
    assert (defaults.sessions_per_client, defaults.session_idle_timeout) == (32, 1800.0)
    monkeypatch.setenv("ONEAPI_MCP_SESSIONS_PER_CLIENT", "5")
    monkeypatch.setenv("ONEAPI_MCP_SESSION_IDLE_TIMEOUT", "600")
    assert (ServerSettings().sessions_per_client, ServerSettings().session_idle_timeout) == (5, 600.0)
    config = tmp_path / "servers.toml"
    config.write_text("[servers.ops]\nsessions_per_client = 0\nsession_idle_timeout = -1\n")
    with pytest.raises(ConfigError) as problem:
        load_servers(config)
    assert "sessions_per_client" in str(problem.value) and "session_idle_timeout" in str(problem.value)


# -- confirm tokens bound to the client ------------------------------------------------------------
class _Upstream:
    def __init__(self):
        self.deletes = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.deletes += request.method == "DELETE"
        return httpx.Response(204) if request.method == "DELETE" else httpx.Response(200, json=[])

    def executor(self, catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(self.handler)),
                        base_url="https://api.zsapi.net", customer_id="7")


def _call(name: str, arguments: dict, request_id: int = 2) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}


async def test_a_confirm_token_from_one_api_key_does_not_confirm_another_keys_call():
    upstream = _Upstream()
    server = app(two_keys(), profile="admin", executor_factory=upstream.executor)
    with LiveServer(server) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            async def call(credentials, arguments):
                answer = await http.post("/mcp", json=_call(DELETE, arguments), headers={**HEADERS, **credentials})
                return answer.json()["result"]["structuredContent"]["error"]

            token = (await call(bearer(KEY), {"id": 42}))["confirm_token"]
            stolen = await call(bearer(KEY_B), {"id": 42, "confirm_token": token})
            after_the_theft = await call(bearer(KEY), {"id": 42, "confirm_token": token})
    assert stolen["kind"] == "confirmation_invalid" and "issued to another client" in stolen["message"]
    assert after_the_theft["kind"] == "confirmation_invalid"  # a leaked token is spent, not left redeemable
    assert upstream.deletes == 0


async def test_one_confirm_token_sent_twice_at_once_runs_the_call_once():
    upstream = _Upstream()
    with LiveServer(app(two_keys(), profile="admin", executor_factory=upstream.executor)) as live:
        async with httpx.AsyncClient(base_url=live.base, timeout=10) as http:
            first = await http.post("/mcp", json=_call(DELETE, {"id": 42}), headers={**HEADERS, **bearer(KEY)})
            token = first.json()["result"]["structuredContent"]["error"]["confirm_token"]
            both = await asyncio.gather(*(http.post("/mcp", json=_call(DELETE, {"id": 42, "confirm_token": token}, i),
                                                    headers={**HEADERS, **bearer(KEY)}) for i in (3, 4)))
    results = [r.json()["result"] for r in both]
    assert sorted(bool(r.get("isError")) for r in results) == [False, True]
    assert upstream.deletes == 1


def test_redeeming_under_a_race_of_threads_lets_exactly_one_through():
    tokens = scopes.ConfirmationTokens()
    token = tokens.issue("default", DELETE, "digest", 60, client="apikey:a")
    start = threading.Barrier(16)
    outcomes: list[str | None] = []

    def redeem() -> None:
        start.wait()
        outcomes.append(tokens.redeem(token, "default", DELETE, "digest", client="apikey:a"))

    threads = [threading.Thread(target=redeem) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 1
    assert set(outcomes) - {None} == {"the confirm_token is unknown or was already used"}

"""Replicas sharing rate-limit windows and the OAuth token through a real Redis.

This module starts its own `redis-server` (no persistence, 127.0.0.1, a free port), so it does not
depend on the one `.ci/run` starts; without the binary it skips (and fails under CI, where `.ci/run`
installs it). The end-to-end test runs two `oneapi-mcp serve --transport http --stateless`
processes against one mock with the documented limits on: with private windows, each replica would
admit a full budget and the mock would answer 429; with shared ones it never does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from oneapi_mcp._hooktypes import RateLimited
from oneapi_mcp._ports import free_port, wait_for_port
from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH, MockServer, create_mock_app

pytestmark = pytest.mark.anyio

REDIS_SERVER = shutil.which("redis-server")
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_", "ONEAPI_MOCK_"))}
CUSTOMER_ID = "216196257331200000"  # any digits: the mock serves one tenant for every customer id


class RedisProcess:
    """A throwaway redis-server on 127.0.0.1: no persistence, stopped and started again on one port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _need_redis() -> None:
    if REDIS_SERVER is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run installs it (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server): these tests need a real Redis")


@pytest.fixture(scope="module")
def redis_process():
    """This module's own redis-server; without the binary, the one ONEAPI_MCP_TEST_REDIS_URL names."""
    external = os.environ.get("ONEAPI_MCP_TEST_REDIS_URL")
    if REDIS_SERVER is None and external:
        yield type("External", (), {"url": external})()
        return
    _need_redis()
    server = RedisProcess()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_process):
    """The module's Redis, emptied for each test."""
    import redis

    with redis.Redis.from_url(redis_process.url) as client:
        client.flushdb()
    return redis_process.url


def _redis_dump(url: str) -> dict[str, object]:
    import redis

    with redis.Redis.from_url(url, decode_responses=True) as client:
        return {key: (client.zrange(key, 0, -1, withscores=True) if client.type(key) == "zset" else client.get(key))
                for key in client.keys("*")}


def _limiter(url: str | None, classes: dict, namespace: str = "tenant-a", timeout: float = 30.0):
    from oneapi_mcp.plugins.builtin.ratelimit import RateLimiter

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    limiter = RateLimiter(classes, timeout=timeout, namespace=namespace, redis_url=url, sleep=sleep)
    limiter.waits = waits
    return limiter


async def _send(limiter, tool, answer_after: float = 0.0) -> None:
    """What the executor does around one request: acquire, send (the answer takes `answer_after`
    seconds), then ask whether to retry, which settles the request's shared slots."""
    await limiter.acquire(tool)
    await asyncio.sleep(answer_after)
    limiter.retry_delay(tool, 1, httpx.Response(200), None)
    # the settling runs in the background: wait for it to reach Redis (a fixed sleep lost that race under load)
    from oneapi_mcp._redis import _SETTLING

    await asyncio.gather(*_SETTLING)


# -- shared windows ----------------------------------------------------------------------------------
async def test_two_replicas_of_a_tenant_spend_one_budget_and_another_tenant_has_its_own(redis_url, catalog):
    classes = {"t.two": {"limits": ["2/minute"], "applies_to": "a test class"}}
    tool = replace(catalog.tools["zia_list_users"], rate_class="t.two")
    first, second = _limiter(redis_url, classes), _limiter(redis_url, classes)
    await _send(first, tool)
    await _send(second, tool)
    with pytest.raises(RateLimited) as refused:
        await first.acquire(tool)  # the minute is spent, across both
    assert 55 < refused.value.retry_after <= 61 and "2/minute" in str(refused.value)
    await _send(_limiter(redis_url, classes, namespace="tenant-b"), tool)
    assert first.waits == second.waits == []


async def test_a_slot_is_taken_in_every_window_of_a_class_or_in_none(redis_url, catalog):
    classes = {"t.both": {"limits": ["1/minute", "5/hour"], "applies_to": "a test class"}}
    tool = replace(catalog.tools["zia_list_users"], rate_class="t.both")
    limiter = _limiter(redis_url, classes)
    await _send(limiter, tool)
    for _ in range(3):
        with pytest.raises(RateLimited):
            await limiter.acquire(tool)
    windows = {key: value for key, value in _redis_dump(redis_url).items() if key.startswith("oneapi-mcp:rl:")}
    assert len(windows) == 2 and all(len(slots) == 1 for slots in windows.values())  # refusals took nothing


async def test_a_request_counts_until_a_window_after_its_answer_came_back(redis_url, catalog):
    classes = {"t.fast": {"limits": ["1/1 second"], "applies_to": "a test class"}}
    tool = replace(catalog.tools["zia_list_users"], rate_class="t.fast")
    limiter = _limiter(redis_url, classes)
    started = time.monotonic()
    await _send(limiter, tool, answer_after=0.6)  # a slow answer: its window starts when it comes back
    answered = time.monotonic()
    await limiter.acquire(tool)
    assert time.monotonic() - answered >= 0.95 and time.monotonic() - started >= 1.55
    assert limiter.waits  # waited, within the timeout, rather than refused


async def test_a_slot_whose_answer_never_comes_back_is_freed_when_its_lease_ends(redis_url, catalog):
    classes = {"t.fast": {"limits": ["1/1 second"], "applies_to": "a test class"}}
    tool = replace(catalog.tools["zia_list_users"], rate_class="t.fast")
    crashed = _limiter(redis_url, classes, timeout=0.5)  # its lease: twice its timeout
    await crashed.acquire(tool)  # and never settles (the replica died mid-request)
    started = time.monotonic()
    await _limiter(redis_url, classes, timeout=5).acquire(tool)
    assert 1.5 <= time.monotonic() - started < 4  # lease (1 s) plus the window (1 s), not forever


async def test_a_call_whose_token_cannot_be_had_gives_its_slot_back_and_reports_the_auth_error(redis_url, catalog):
    from oneapi_mcp._auth import OneAPIAuth
    from oneapi_mcp._executor import Executor

    mock = create_mock_app(seed=0, rate_limits=False)
    auth = OneAPIAuth("http://mock.test" + TOKEN_PATH, MOCK_CLIENT_ID, client_secret=lambda: "fake-wrong-secret",
                      redis_url=redis_url)
    tool = catalog.tools["zia_list_users"]  # 2/second: held slots would make the third call wait
    limiter = _limiter(redis_url, {tool.rate_class: catalog.rate_classes[tool.rate_class]})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=auth) as client:
        executor = Executor(catalog, client, base_url="http://mock.test", limiter=limiter)
        results = [await executor.call(tool, {}) for _ in range(5)]
    assert [r.data["error"]["kind"] for r in results] == ["auth"] * 5
    assert "wrong client secret" in results[0].data["error"]["message"] and limiter.waits == []
    assert all(not slots for key, slots in _redis_dump(redis_url).items() if key.startswith("oneapi-mcp:rl:"))
    assert mock.requests.total == 0


def test_the_tenant_namespace_is_the_same_for_replicas_and_differs_between_tenants(monkeypatch):
    from oneapi_mcp.plugins.builtin.ratelimit import tenant_namespace

    from oneapi_mcp._settings import ServerSettings

    for key in ("ZSCALER_VANITY_DOMAIN", "ZSCALER_CLOUD", "ZSCALER_CLIENT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "acme")
    one, two = tenant_namespace(ServerSettings(name="a")), tenant_namespace(ServerSettings(name="b"))
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "globex")
    other = tenant_namespace(ServerSettings(name="a"))
    monkeypatch.setenv("ZSCALER_CLOUD", "beta")
    other_cloud = tenant_namespace(ServerSettings(name="a"))
    assert one == two and len({one, other, other_cloud}) == 3 and "acme" not in one


# -- the shared token ----------------------------------------------------------------------------------
def _auth(redis_url: str | None, token_url: str = "http://mock.test" + TOKEN_PATH):
    from oneapi_mcp._auth import OneAPIAuth

    return OneAPIAuth(token_url, MOCK_CLIENT_ID, client_secret=lambda: MOCK_CLIENT_SECRET, redis_url=redis_url)


async def test_replicas_on_a_cold_cache_fetch_one_token_between_them_and_redis_never_holds_the_secret(redis_url):
    mock = create_mock_app(seed=0, rate_limits=False)
    auths = [_auth(redis_url) for _ in range(3)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=a, base_url="http://mock.test")
               for a in auths]
    try:
        answers = await asyncio.gather(*(c.get("/zia/api/v1/status") for c in clients for _ in range(20)))
    finally:
        for client in clients:
            await client.aclose()
    assert {r.status_code for r in answers} == {200}
    assert mock.requests.token == 1 and sum(a.token_requests for a in auths) == 1
    assert sorted(a.tokens_from_redis for a in auths) == [0, 1, 1]
    stored = _redis_dump(redis_url)
    assert list(stored) == [auths[0]._shared.key]  # the token only; the lock is released
    assert MOCK_CLIENT_SECRET not in repr(stored) and MOCK_CLIENT_ID not in repr(stored)
    import redis

    with redis.Redis.from_url(redis_url) as client:
        assert 3500 < client.ttl(auths[0]._shared.key) <= 3600  # the key lives as long as the token


async def test_a_rejected_token_is_invalidated_once_and_every_replica_takes_the_new_one(redis_url):
    mock = create_mock_app(seed=0, rate_limits=False)
    a, b = _auth(redis_url), _auth(redis_url)
    ca = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=a, base_url="http://mock.test")
    cb = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=b, base_url="http://mock.test")
    async with ca, cb:
        assert (await ca.get("/zia/api/v1/status")).status_code == 200
        assert (await cb.get("/zia/api/v1/status")).status_code == 200
        old = a._token
        mock.tokens.reset()  # the tenant revokes it: both replicas still hold it
        assert (await ca.get("/zia/api/v1/status")).status_code == 200
        assert (await cb.get("/zia/api/v1/status")).status_code == 200
    assert mock.requests.token == 2  # the first token, and one refresh for both replicas
    assert a._token == b._token != old
    assert b.tokens_from_redis == 2


async def test_one_replica_refreshes_while_the_others_wait_for_its_token(redis_url):
    from oneapi_mcp._redis import SharedToken

    holder = SharedToken(redis_url, "http://mock.test" + TOKEN_PATH, MOCK_CLIENT_ID, "https://api.zscaler.com")
    lock = await holder.lock()
    assert lock is not None and await holder.lock() is None  # SET NX: one holder at a time
    mock = create_mock_app(seed=0, rate_limits=False)
    waiting = _auth(redis_url)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=waiting, base_url="http://mock.test")

    async def the_holder_stores_a_token_then_unlocks():
        await asyncio.sleep(0.3)
        await holder.store(mock.token(), 3600)
        await holder.unlock("not-its-lock-id")  # compare-and-delete: someone else's id frees nothing
        assert await holder.lock() is None
        await holder.unlock(lock)

    async with client:
        answer, _ = await asyncio.gather(client.get("/zia/api/v1/status"), the_holder_stores_a_token_then_unlocks())
    assert answer.status_code == 200 and mock.requests.token == 0 and waiting.tokens_from_redis == 1
    assert await holder.lock() is not None  # released by its holder


# -- Redis away ----------------------------------------------------------------------------------------
async def test_calls_fail_closed_naming_redis_while_it_is_away_and_recover_when_it_returns(catalog):
    _need_redis()
    own = RedisProcess()
    try:
        tool = catalog.tools["zpa_list_all_applications"]
        limiter = _limiter(own.url, {tool.rate_class: catalog.rate_classes[tool.rate_class]})
        auth = _auth(own.url)
        mock = create_mock_app(seed=0, rate_limits=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), auth=auth, base_url="http://mock.test")
        async with client:
            await limiter.acquire(tool)
            own.stop()
            with pytest.raises(RateLimited) as away:
                await limiter.acquire(tool)
            message = str(away.value)
            assert f"Redis at redis://127.0.0.1:{own.port}/0" in message and "nothing was sent" in message
            assert "ZPA's shared rate-limit windows" in message
            with pytest.raises(RateLimited, match="shared OAuth token"):
                await client.get("/zia/api/v1/status")  # no token yet: it must come through Redis
            assert mock.requests.token == 0 and mock.requests.total == 0
            own.start()
            await limiter.acquire(tool)  # reconnected, no restart
            assert (await client.get("/zia/api/v1/status")).status_code == 200
    finally:
        own.stop()


# -- settings ------------------------------------------------------------------------------------------
def test_redis_url_comes_from_the_environment_and_from_each_named_server(tmp_path, monkeypatch):
    from oneapi_mcp._settings import ServerSettings, load_servers

    monkeypatch.setenv("ONEAPI_MCP_REDIS_URL", "redis://cache.internal:6380/2")
    assert ServerSettings().redis_url == "redis://cache.internal:6380/2"
    monkeypatch.delenv("ONEAPI_MCP_REDIS_URL")
    config = tmp_path / "servers.toml"
    config.write_text('[servers.a]\nredis_url = "rediss://cache.internal:6380/0"\n[servers.b]\n')
    servers = load_servers(config)
    assert servers["a"].redis_url == "rediss://cache.internal:6380/0" and servers["b"].redis_url is None


@pytest.mark.parametrize("bad, why", [
    ("http://:fake-redis-password@cache:6379", "scheme 'http'"),
    ("redis://:fake-redis-password@cache:notaport", "does not parse"),
    ("redis://:fake-redis-password@:6379", "names no host"),
    ("redis://:fake-redis-password@cache:6379/zero", "must be a number"),
])
def test_a_bad_redis_url_is_refused_with_the_reason_and_without_its_password(tmp_path, bad, why):
    from oneapi_mcp._settings import ConfigError, load_servers

    config = tmp_path / "servers.toml"
    config.write_text(f'[servers.a]\nredis_url = "{bad}"\n')
    with pytest.raises(ConfigError) as caught:
        load_servers(config)
    assert "servers.a" in str(caught.value) and "redis_url must look like" in str(caught.value)
    assert why in str(caught.value) and "fake-redis-password" not in str(caught.value)


def test_without_redis_url_nothing_imports_redis_and_with_it_start_up_still_does_not():
    code = ("import sys\nfrom oneapi_mcp import _plugins, cli\nfrom oneapi_mcp._settings import ServerSettings\n"
            "_plugins.get_plugin_manager()\nServerSettings(redis_url='redis://127.0.0.1:1/0')\n"
            "print(sorted(m for m in sys.modules if m == 'redis' or m.startswith('redis.')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- end to end: two replicas, one Redis, one mock -----------------------------------------------------
class Recorder:
    """The mock behind an ASGI wrapper that notes when each request reached it and what it answered."""

    def __init__(self, mock):
        self.mock = mock
        self.seen: list[tuple[float, str, str, int]] = []  # (arrival, method, path, status)

    def __getattr__(self, name):
        return getattr(self.mock, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.mock(scope, receive, send)
        arrived = time.time()

        async def noting(message):
            if message["type"] == "http.response.start":
                self.seen.append((arrived, scope["method"], scope["path"], message["status"]))
            await send(message)

        await self.mock(scope, receive, noting)


def fullest_windows(seen, catalog) -> dict[str, tuple[int, int, str]]:
    """Per documented limit: (most requests the mock saw in one clock-aligned window, as it counts
    them, the limit, its text). Only GETs are sent here, so (service, GET) names the rate class."""
    from oneapi_mcp.mock._limits import parse_limit
    from oneapi_mcp.mock._spec import service_for_path

    classes = {"zia": "zia.light", "zpa": "zpa.read", "zdx": "zdx.default", "ztw": "ztw.light", "zcc": "zcc.default"}
    out = {}
    for service, rate_class in classes.items():
        arrivals = [t for t, method, path, _ in seen if method == "GET" and service_for_path(path) == service]
        for text in catalog.rate_classes[rate_class]["limits"]:
            limit = parse_limit(text)
            per_window = Counter(int(t // limit.window) for t in arrivals)
            out[f"{rate_class} {text}"] = (max(per_window.values(), default=0), limit.count, text)
    return out


class Replica:
    """`oneapi-mcp serve --transport http --stateless` against the mock, sharing `redis_url`."""

    def __init__(self, mock_url: str, redis_url: str, log: Path):
        self.port = free_port()
        self.log = log
        env = {**ENV, "ZSCALER_CLIENT_ID": MOCK_CLIENT_ID, "ZSCALER_CLIENT_SECRET": MOCK_CLIENT_SECRET,
               "ZPA_CUSTOMER_ID": CUSTOMER_ID, "ONEAPI_MCP_REDIS_URL": redis_url,
               "ONEAPI_MCP_CLIENT_RATE_LIMITS": "true", "ONEAPI_MCP_LOG_LEVEL": "INFO"}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oneapi_mcp.cli", "serve", "--transport", "http", "--stateless",
                 "--port", str(self.port), "--base-url", mock_url, "--token-url", mock_url + TOKEN_PATH],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, what="a replica (oneapi-mcp serve --transport http --stateless)")
        self.url = f"http://127.0.0.1:{self.port}/mcp"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


async def _run(url: str, plan: list[tuple[str, dict]]) -> list[tuple[str, bool, str]]:
    from mcp import Client

    out = []
    async with Client(url, cache=None) as client:
        for name, arguments in plan:
            result = await client.call_tool("invoke_operation", {"name": name, "arguments": arguments})
            out.append((name, bool(result.is_error), result.content[0].text if result.content else ""))
    return out


async def test_two_replicas_share_one_redis_stay_within_the_limits_and_fail_closed_while_redis_is_away(
        tmp_path, catalog):
    _need_redis()
    own = RedisProcess()
    recorder = Recorder(create_mock_app(seed=0, rate_limits=True))
    replicas: list[Replica] = []
    try:
        with MockServer(recorder) as mock_server:
            replicas = [Replica(mock_server.url, own.url, tmp_path / f"replica{i}.log") for i in range(2)]
            # Per service, more than one replica may send in its windows: with private windows each
            # replica would admit 20 ZPA reads in the first 10 s and 2 ZIA reads per second.
            work = ([("zia_list_users", {"pageSize": 5})] * 10 + [("zpa_list_all_applications", {})] * 24
                    + [("zdx_list_departments", {})] * 10 + [("zid_list_users", {})] * 24)
            plans = [work[i::8] for i in range(8)]  # 8 clients at once, 4 through each replica
            outcomes = await asyncio.gather(*(_run(replicas[i % 2].url, plan) for i, plan in enumerate(plans)))
            failed = [o for batch in outcomes for o in batch if o[1]]
            assert failed == [], failed[:3]
            statuses = Counter(status for _, _, path, status in recorder.seen if path != TOKEN_PATH)
            assert statuses == {200: len(work)}  # no 429: the mock never saw the limit exceeded
            assert recorder.requests.token == 1  # one token between the two replicas
            token = next(v for k, v in _redis_dump(own.url).items() if k.startswith("oneapi-mcp:token:"))

            own.stop()
            before = len(recorder.seen)
            away = await asyncio.gather(*(_run(r.url, [("zia_list_users", {}), ("zpa_list_all_applications", {})])
                                          for r in replicas))
            for _name, is_error, text in (o for batch in away for o in batch):
                assert is_error and "Redis at redis://127.0.0.1:" in text and "nothing was sent" in text, text
            assert len(recorder.seen) == before  # failed closed: nothing reached the mock

            own.start()  # empty: the windows start again, so only ZIA (1 s windows) is called after
            await asyncio.sleep(1.5)
            back = await asyncio.gather(*(_run(r.url, [("zia_list_users", {})]) for r in replicas))
            assert [is_error for batch in back for _, is_error, _ in batch] == [False, False]
            assert recorder.requests.token == 1
        for label, (seen, limit, _) in fullest_windows(recorder.seen, catalog).items():
            assert seen <= limit, f"{label}: the mock saw {seen} in one window"
    finally:
        for replica in replicas:
            replica.close()
        own.stop()
    for replica in replicas:
        log = replica.log.read_text()
        assert MOCK_CLIENT_SECRET not in log and token not in log  # no secret, no bearer token in logs

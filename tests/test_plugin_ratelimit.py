"""The ratelimit plugin: documented windows (several at once), waits within the timeout, every 429
header variant, retries only where a second send is safe, ZIA's edit lock. Sleeps are injected and
recorded, so nothing here waits for real."""

from __future__ import annotations

from dataclasses import replace
from email.utils import formatdate

import httpx
import pytest
from oneapi_mcp.plugins.builtin.ratelimit import RateLimiter

from oneapi_mcp._executor import Executor

pytestmark = pytest.mark.anyio
NOW = 1_700_000_000.0


class Script:
    """Upstream that answers from a list of responses (or exceptions to raise), then 200."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else httpx.Response(200, json=[])
        if isinstance(answer, Exception):
            raise answer
        return answer


def _limiter(catalog, waits, *, classes=None, timeout=30.0, on_sleep=None):
    async def sleep(seconds):
        waits.append(seconds)
        if on_sleep:
            on_sleep()

    return RateLimiter(catalog.rate_classes if classes is None else classes, timeout=timeout, sleep=sleep,
                       random_fraction=lambda: 0.0, clock=lambda: NOW)


def _executor(catalog, upstream, limiter):
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler))
    return Executor(catalog, client, base_url="https://api.zsapi.net", customer_id="7", limiter=limiter)


async def test_a_second_zia_delete_within_the_minute_is_refused_with_when_to_retry(catalog):
    upstream, waits = Script(), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits))
    tool = catalog.tools["zia_remove_department"]
    assert tool.rate_class == "zia.heavy"
    first = await ex.call(tool, {"id": 1})
    second = await ex.call(tool, {"id": 2})
    assert not first.is_error and len(upstream.requests) == 1
    err = second.data["error"]
    assert err["kind"] == "rate_limited" and 50 <= err["retry_after_seconds"] <= 60
    assert "1/minute and 4/hour" in err["message"] and f"retry after {err['retry_after_seconds']} s" in err["message"]
    assert waits == []


async def test_several_windows_apply_at_once_and_the_longest_wait_wins(catalog):
    upstream, waits = Script(), []
    classes = {"test.two": {"limits": ["5/minute", "2/hour"], "applies_to": "a test class"}}
    tool = replace(catalog.tools["zia_list_users"], rate_class="test.two")
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes=classes))
    results = [await ex.call(tool, {}) for _ in range(3)]
    assert [r.is_error for r in results] == [False, False, True]
    assert results[2].data["error"]["retry_after_seconds"] > 3000  # the hour window, though the minute had room


async def test_a_wait_that_fits_in_the_timeout_is_waited_and_the_call_goes_through(catalog):
    upstream, waits = Script(), []
    limiter = _limiter(catalog, waits, on_sleep=lambda: limiter.storage.reset())  # the window passes
    ex = _executor(catalog, upstream, limiter)
    tool = catalog.tools["zpa_list_all_applications"]
    assert catalog.rate_classes[tool.rate_class]["limits"] == ["20/10 seconds"]
    results = [await ex.call(tool, {}) for _ in range(21)]
    assert not any(r.is_error for r in results) and len(upstream.requests) == 21
    assert len(waits) == 1 and 0 < waits[0] <= 10


def _status(code, headers=None, json=None):
    return httpx.Response(code, headers=headers or {}, json=json if json is not None else {})


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_status(429, {"Retry-After": "13s"}), 13),  # ZPA
        (_status(429, {"Retry-After": "7"}), 7),
        (_status(429, {"Retry-After": formatdate(NOW + 9, usegmt=True)}), 9),  # an HTTP date
        (_status(429, {"x-ratelimit-reset": "4", "x-ratelimit-remaining": "0"}), 4),  # ZIA
        (_status(429, {"RateLimit-Reset": str(int(NOW + 20))}), 20),  # ZDX: a UTC epoch
        (_status(429, {"X-Rate-Limit-Retry-After-Seconds": "3"}), 3),  # ZCC
        (_status(429, json={"message": "Rate Limit (1/SECOND) exceeded", "Retry-After": "0 seconds"}), 0),  # ZTW
    ],
)
async def test_every_429_variant_is_honoured_and_retried(catalog, response, expected):
    upstream, waits = Script(response), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    result = await ex.call(catalog.tools["zia_get_activation_status"], {})
    assert not result.is_error and len(upstream.requests) == 2
    assert waits == [pytest.approx(expected, abs=0.01)]


async def test_a_429_asking_for_longer_than_the_timeout_is_not_waited_and_says_when_to_retry(catalog):
    upstream, waits = Script(_status(429, {"Retry-After": "120"})), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    result = await ex.call(catalog.tools["zia_get_activation_status"], {})
    assert result.is_error and "retry after 120 s" in result.data["error"]["next_step"]
    assert waits == [] and len(upstream.requests) == 1


async def test_5xx_on_an_idempotent_read_is_retried_with_capped_backoff_then_reported(catalog):
    upstream, waits = Script(*[_status(503)] * 10), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    result = await ex.call(catalog.tools["zia_get_activation_status"], {})
    assert result.is_error and result.data["error"]["status"] == 503
    assert len(upstream.requests) == 4  # the first send and three retries
    assert waits == sorted(waits) and all(0 < w <= 8 for w in waits)


@pytest.mark.parametrize("failure", [_status(500), _status(502), httpx.ReadTimeout("slow")])
async def test_a_non_idempotent_write_is_never_sent_twice(catalog, failure):
    upstream, waits = Script(failure), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    tool = catalog.tools["zia_create_department"]
    assert tool.annotations["idempotentHint"] is False
    result = await ex.call(tool, {"body": {"name": "R&D"}})
    assert result.is_error and len(upstream.requests) == 1 and waits == []


async def test_a_timeout_on_an_idempotent_call_is_retried(catalog):
    upstream, waits = Script(httpx.ReadTimeout("slow")), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    result = await ex.call(catalog.tools["zia_get_activation_status"], {})
    assert not result.is_error and len(upstream.requests) == 2 and len(waits) == 1


async def test_the_zia_edit_lock_backs_off_5_then_10_seconds_even_for_a_create(catalog):
    lock = _status(409, json={"code": "EDIT_LOCK_NOT_AVAILABLE", "message": "another admin is editing"})
    upstream, waits = Script(lock, lock), []
    ex = _executor(catalog, upstream, _limiter(catalog, waits, classes={}))
    result = await ex.call(catalog.tools["zia_create_department"], {"body": {"name": "R&D"}})
    assert not result.is_error and len(upstream.requests) == 3
    assert waits == [5.0, 10.0]


def test_the_plugin_builds_its_limiter_from_the_catalog_and_the_server_settings(catalog):
    from oneapi_mcp.plugins.builtin import ratelimit

    from oneapi_mcp._settings import ServerSettings

    limiter = ratelimit.oneapi_mcp_rate_limiter(ServerSettings(timeout=12, max_retries=1), catalog)
    assert limiter.timeout == 12 and limiter.max_retries == 1 and "zia.heavy" in limiter.items
    off = ratelimit.oneapi_mcp_rate_limiter(ServerSettings(client_rate_limits=False), catalog)
    assert off.items == {}

"""Entitlement honesty: a 403 is explained by the service's probe (once, cached), and a service the
tenant is not entitled to answers `not_entitled` without further upstream requests.

Upstream is an injected httpx.MockTransport; every request it sees is recorded.
"""

from __future__ import annotations

import httpx
import pytest
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._entitlement import Entitlements
from oneapi_mcp._executor import Executor

pytestmark = pytest.mark.anyio

FORBIDDEN = httpx.Response(403, json={"code": "FORBIDDEN", "message": "Access denied"})
SITES = "/ztb/api/v2/Site/"
NAMES = "/ztb/api/v2/Site/names"  # ztb_list_site_names, ZTB's probe


class Upstream:
    def __init__(self, routes: dict[tuple[str, str], httpx.Response]):
        self.routes = routes
        self.requests: list[tuple[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        return self.routes.get((request.method, request.url.path),
                               httpx.Response(404, json={"code": "RESOURCE_NOT_FOUND", "message": "no such thing"}))


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def _executor(catalog, upstream: Upstream, clock: Clock | None = None) -> Executor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler))
    executor = Executor(catalog, client, base_url="https://api.zsapi.net", customer_id="7")
    if clock is not None:
        executor.entitlements = Entitlements(clock=clock)
    return executor


def test_every_service_in_the_table_has_a_read_probe_among_its_tools(catalog):
    for name, row in SERVICE_TABLE.items():
        if row.kind == "graphql":  # no query with fixed arguments speaks for the service (codegen/_graphql.py)
            assert row.probe is None
            continue
        assert row.probe in catalog.tools, name
        probe = catalog.tools[row.probe]
        assert (probe.service, probe.scope) == (name, "read")


async def test_a_403_whose_probe_is_refused_too_says_not_entitled_and_later_calls_send_nothing(catalog):
    upstream = Upstream({("GET", SITES): FORBIDDEN, ("GET", NAMES): FORBIDDEN})
    executor = _executor(catalog, upstream)
    result = await executor.call(catalog.tools["ztb_list_sites"], {})
    error = result.data["error"]
    assert result.is_error and error["kind"] == "not_entitled" and error["status"] == 403
    assert "Zero Trust Branch" in error["message"] and "ztb_list_site_names answered 403" in error["message"]
    assert error["upstream"].endswith("Access denied") and error["probe"] == "ztb_list_site_names"
    assert upstream.requests == [("GET", SITES), ("GET", NAMES)]

    again = await executor.call(catalog.tools["ztb_get_md5"], {})
    assert again.data["error"]["kind"] == "not_entitled"
    assert len(upstream.requests) == 2  # answered from the cache: no upstream request
    other = await executor.call(catalog.tools["easm_list_organizations"], {})
    assert other.data["error"]["kind"] != "not_entitled"  # another service is not affected


async def test_a_403_on_the_probe_itself_decides_without_a_second_request(catalog):
    upstream = Upstream({("GET", NAMES): FORBIDDEN})
    result = await _executor(catalog, upstream).call(catalog.tools["ztb_list_site_names"], {})
    assert result.data["error"]["kind"] == "not_entitled"
    assert upstream.requests == [("GET", NAMES)]


async def test_a_403_while_the_probe_answers_is_a_missing_permission_and_is_not_cached(catalog):
    upstream = Upstream({("GET", SITES): FORBIDDEN, ("GET", NAMES): httpx.Response(200, json={"result": []})})
    executor = _executor(catalog, upstream)
    result = await executor.call(catalog.tools["ztb_list_sites"], {})
    error = result.data["error"]
    assert error["kind"] != "not_entitled" and error["entitled_to_service"] is True
    assert "entitled to ZTB" in error["message"] and "permission" in error["message"]
    await executor.call(catalog.tools["ztb_list_sites"], {})
    assert upstream.requests.count(("GET", SITES)) == 2  # still asked: only this operation is refused
    assert upstream.requests.count(("GET", NAMES)) == 1  # the probe ran once


async def test_a_probe_that_cannot_tell_leaves_the_403_as_it_was(catalog):
    upstream = Upstream({("GET", SITES): FORBIDDEN})  # the probe's route answers 404
    executor = _executor(catalog, upstream)
    result = await executor.call(catalog.tools["ztb_list_sites"], {})
    assert result.data["error"]["status"] == 403 and result.data["error"]["kind"] != "not_entitled"
    assert executor.entitlements.known("ztb") is None


async def test_a_service_found_not_entitled_is_asked_again_after_the_cache_expires(catalog):
    clock = Clock()
    upstream = Upstream({("GET", NAMES): FORBIDDEN})
    executor = _executor(catalog, upstream, clock)
    await executor.call(catalog.tools["ztb_list_site_names"], {})
    await executor.call(catalog.tools["ztb_list_site_names"], {})
    assert len(upstream.requests) == 1
    clock.now += executor.entitlements.ttl + 1
    upstream.routes[("GET", NAMES)] = httpx.Response(200, json={"result": []})
    result = await executor.call(catalog.tools["ztb_list_site_names"], {})
    assert not result.is_error and len(upstream.requests) == 2
    assert executor.entitlements.known("ztb") is True

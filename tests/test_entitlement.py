"""Entitlement honesty: a 403 is explained by the service's probe (once, cached), and a service the
tenant is not entitled to answers `not_entitled` without further upstream requests.

Upstream is an injected httpx.MockTransport; every request it sees is recorded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._entitlement import Entitlements
from oneapi_mcp._executor import Executor
from oneapi_mcp._recorded import load_interactions

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


# --- the GraphQL services: Z-Insights and ZMS -------------------------------------------------------------

RECORDED = Path(__file__).parent / "recorded"
GRAPHQL = "/zins/graphql"


def _recorded_answer(service: str, cassette: str) -> dict:
    return next(r.answer for r in load_interactions(RECORDED, (service,))
                if r.cassette == cassette and r.path.endswith("/graphql"))


class GraphQLUpstream(Upstream):
    """Answers each GraphQL operation by name, as recorded; remembers the variables sent."""

    def __init__(self, answers: dict[str, dict]):
        super().__init__({})
        self.answers, self.variables = answers, []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.method, body["operationName"]))
        self.variables.append(body["variables"])
        return httpx.Response(200, json=self.answers[body["operationName"]])


async def test_zins_forbidden_on_one_query_while_the_probe_answers_is_a_missing_permission(catalog):
    """The recorded tenant has Z-Insights: CyberSecurityIncidents answers (zins/cassettes/TestCyberSecurity.yaml)
    while IoTDeviceStats answers FORBIDDEN in a 200 (zins/cassettes/TestIoT.yaml)."""
    upstream = GraphQLUpstream({"IoTDeviceStats": _recorded_answer("zins", "TestIoT"),
                                "CyberSecurityIncidents": _recorded_answer("zins", "TestCyberSecurity")})
    executor = _executor(catalog, upstream)
    before = time.time() * 1000
    result = await executor.call(catalog.tools["zins_iot_device_stats"], {"limit": 10})
    error = result.data["error"]
    assert error["status"] == 403 and error["kind"] != "not_entitled" and error["entitled_to_service"] is True
    assert upstream.requests == [("POST", "IoTDeviceStats"), ("POST", "CyberSecurityIncidents")]
    window = upstream.variables[1]  # the last 24 hours, computed when the probe ran
    # the probe truncates to whole milliseconds (and computes now - 1 day in seconds first): 1 ms of slack below
    assert before - 86_400_000 - 1 <= window["startTime"] <= time.time() * 1000 - 86_400_000
    assert before - 1 <= window["endTime"] <= time.time() * 1000
    assert window["categorizeBy"] == ["THREAT_CATEGORY_ID"] and executor.entitlements.known("zins") is True


async def test_zins_forbidden_everywhere_is_not_entitled(catalog):
    forbidden = _recorded_answer("zins", "TestIoT")
    upstream = GraphQLUpstream({"FirewallByAction": forbidden, "CyberSecurityIncidents": forbidden})
    executor = _executor(catalog, upstream)
    result = await executor.call(catalog.tools["zins_firewall_by_action"], {"startTime": 1, "endTime": 2})
    assert result.data["error"]["kind"] == "not_entitled" and result.data["error"]["code"] == "FORBIDDEN"
    assert "zins_cyber_security_incidents answered 403" in result.data["error"]["message"]
    again = await executor.call(catalog.tools["zins_shadow_it_summary"], {"startTime": 1, "endTime": 2})
    assert again.data["error"]["kind"] == "not_entitled" and len(upstream.requests) == 2


def test_a_relative_probe_window_moves_with_the_clock():
    row = SERVICE_TABLE["zins"]
    day = 86_400
    assert row.probe_arguments_at(1_700_000_000) == {"categorizeBy": ["THREAT_CATEGORY_ID"], "limit": 1,
                                                      "startTime": (1_700_000_000 - day) * 1000,
                                                      "endTime": 1_700_000_000 * 1000}
    assert row.probe_arguments_at(1_700_000_000 + day)["startTime"] == 1_700_000_000 * 1000


async def test_zms_queries_take_the_customer_id_from_zms_customer_id_and_say_so_when_it_is_missing(catalog):
    upstream = GraphQLUpstream({"ListAgents": _recorded_answer("zms", "TestAgents")})
    executor = _executor(catalog, upstream)  # ZPA's customer id is set; ZMS's is not
    result = await executor.call(catalog.tools["zms_list_agents"], {"page": 1})
    error = result.data["error"]
    assert error["kind"] == "missing_setting" and error["setting"] == "ZMS_CUSTOMER_ID"
    assert "ZMS_CUSTOMER_ID" in error["message"] and upstream.requests == []
    executor.zms_customer_id = "72058304855015424"  # as recorded: zms/cassettes/TestAgents.yaml
    result = await executor.call(catalog.tools["zms_list_agents"], {"page": 1})
    assert not result.is_error and upstream.variables[-1] == {"customerId": "72058304855015424", "page": 1}
    given = await executor.call(catalog.tools["zms_list_agents"], {"customerId": "42"})
    assert not given.is_error and upstream.variables[-1] == {"customerId": "42"}  # an argument wins


def test_zms_customer_id_is_read_from_the_environment_like_the_other_credentials(monkeypatch):
    from oneapi_mcp._settings import Credentials

    monkeypatch.setenv("ZMS_CUSTOMER_ID", "72058304855015424")
    assert Credentials().zms_customer_id == "72058304855015424"
    assert Credentials.of(zms_customer_id="1").zms_customer_id == "1"


def test_a_zms_tool_lists_customer_id_unless_zms_customer_id_is_known_whatever_zpa_has():
    from oneapi_mcp._runtime import Runtime
    from oneapi_mcp._server import build_server
    from oneapi_mcp._settings import ServerSettings

    def required(**known) -> list[str]:
        surface = build_server(Runtime(settings=ServerSettings(profile="admin"), executor_factory=lambda c: None,
                                       **known)).surface
        return surface.input_schema("zms_list_agents").get("required", [])

    assert "customerId" in required(customer_id_known=True)  # ZPA's customer id does not fill ZMS queries
    assert "customerId" not in required(zms_customer_id_known=True)

"""Service discovery end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on a
real socket; the answers are checked against the mock's seeded state and its request journal."""

from __future__ import annotations

import time

import pytest
from _composites import MockServer, call, serve, store_items
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp.mock import FaultConfig, create_mock_app

pytestmark = pytest.mark.anyio
HEALTH_CHECKED = ["zia", "zpa", "zdx", "zcc", "zid", "ztw"]
# every other service of the services table is checked by its entitlement probe alone, after these
SERVICES = HEALTH_CHECKED + sorted(s for s in SERVICE_TABLE if s not in HEALTH_CHECKED)
ZPA = "/zpa/mgmtconfig/v1/admin/customers/{customerId}"
TOOL = "discovery_service_status"


def _by_service(report: dict) -> dict[str, dict]:
    return {s["service"]: s for s in report["services"]}


def _catalog_counts(scopes: set[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for tool in load_catalog().tools.values():
        entry = out.setdefault(tool.service, [0, 0])
        entry[1] += 1
        entry[0] += tool.scope in scopes
    return {k: (v[0], v[1]) for k, v in out.items()}


async def test_every_service_is_reported_with_its_health_and_the_tools_this_server_allows(upstream):
    async with serve(upstream, profile="read-only") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        report = await call(client, TOOL, {})
    assert TOOL in names  # read-only: listed on the narrowest profile
    services = _by_service(report)
    assert list(services) == SERVICES and len(report["lines"]) == len(SERVICE_TABLE)
    for service in services.values():
        assert service["status"] == "ok", service
        assert service["reachable"] and service["authenticated"] and service["entitled"]
        assert isinstance(service["latency_ms"], float) and service["latency_ms"] >= 0
    assert services["zia"]["details"]["activation"] == "ACTIVE"

    connectors = store_items(upstream, "zpa", f"{ZPA}/connector")
    down = [c["name"] for c in connectors if c["controlChannelStatus"] != "ZPN_STATUS_AUTHENTICATED"]
    zpa = services["zpa"]["details"]
    assert zpa["connectors"]["total"] == len(connectors) and zpa["connectors"]["connected"] == len(connectors) - 1
    assert [c["name"] for c in zpa["connectors"]["unhealthy"]] == down
    assert any(down[0] in a for a in report["attention"])
    assert {g["name"]: g["connected"] for g in zpa["connector_groups"]} == {"SJC Connectors": 2, "LON Connectors": 1}

    alerts = store_items(upstream, "zdx", "/zdx/v1/alerts/ongoing")
    ongoing = services["zdx"]["details"]["ongoing_alerts"]
    assert ongoing["count"] == len(alerts) and ongoing["top"][0]["severity"] == "critical"

    assert services["zcc"]["details"]["devices_first_page"]["count"] == len(
        store_items(upstream, "zcc", "/zcc/papi/public/v1/getDevices"))
    assert services["zid"]["details"] == {"users": 60, "groups": 8}
    assert services["ztw"]["details"]["activation"]["adminActivateStatus"] == "ADM_ACTV_DONE"

    expected = _catalog_counts({"read"})
    for name, service in services.items():
        assert (service["tools"]["allowed"], service["tools"]["total"]) == expected[name]
        assert service["tools"]["by_scope"]["destructive"]["allowed"] == 0
        assert service["line"].startswith(f"{name}: ok")
    assert any("no service-health" in limit for limit in report["api_limits"])

    for name in SERVICES[len(HEALTH_CHECKED):]:
        assert services[name]["probe"] == SERVICE_TABLE[name].probe and "details" not in services[name]

    journal = upstream.mock.journal
    # reads only: the POSTs are ZWA's incident search and the Z-Insights and ZMS queries, their probes
    # (read-scoped: nothing changes)
    writes = {(j["method"], j["path"]) for j in journal if j["method"] != "GET"}
    assert writes <= {("POST", "/zwa/dlp/v1/incidents/search"), ("POST", "/zins/graphql"), ("POST", "/zms/graphql")}
    assert all(load_catalog().tools[row.probe].scope == "read" for row in SERVICE_TABLE.values() if row.probe)
    zcc = [j["path"] for j in journal if j["service"] == "zcc"]
    assert zcc == ["/zcc/papi/public/v1/getDevices"]  # ZCC allows 100 calls/hour: one page
    assert not any("download" in j["path"] for j in journal)


async def test_a_service_that_is_not_entitled_or_failing_is_reported_and_the_rest_still_answer(upstream):
    upstream.mock.fail("GET", "/zdx/*", 403, times=0)
    upstream.mock.fail("GET", "/zpa/*/connector", 500, times=0)
    upstream.mock.fail("GET", "/ztw/*", 401, times=0)
    upstream.mock.fail("GET", "/ztb/*", 403, times=0)  # a tenant without Zero Trust Branch
    async with serve(upstream, profile="admin", ONEAPI_MCP_MAX_RETRIES="0", ZMS_CUSTOMER_ID="") as client:
        report = await call(client, TOOL, {})
    services = _by_service(report)
    zdx = services["zdx"]
    assert (zdx["status"], zdx["reachable"], zdx["authenticated"], zdx["entitled"]) == (
        "not_entitled", True, True, False)
    assert zdx["http_status"] == 403 and "tools" in zdx
    ztw = services["ztw"]
    assert (ztw["status"], ztw["authenticated"]) == ("unauthenticated", False)
    zpa = services["zpa"]
    assert zpa["status"] == "partial" and zpa["entitled"] is True
    assert [p["operation"] for p in zpa["problems"]] == ["zpa_list_all_assistants"]
    assert "connector_groups" in zpa["details"] and "private_service_edges" in zpa["details"]
    assert all(services[s]["status"] == "ok" for s in ("zia", "zcc", "zid"))
    ztb = services["ztb"]
    assert (ztb["status"], ztb["entitled"], ztb["probe"]) == ("not_entitled", False, "ztb_list_site_names")
    zms = services["zms"]  # ZMS_CUSTOMER_ID not set: said, nothing sent
    assert zms["status"] == "not_configured" and "ZMS_CUSTOMER_ID" in zms["error"]
    assert not any(j["service"] == "zms" for j in upstream.mock.journal)
    assert "not_entitled (zdx, ztb)" in report["summary"] and "partial (zpa)" in report["summary"]
    expected = _catalog_counts({"read", "write", "destructive"})
    assert (services["zdx"]["tools"]["allowed"], services["zdx"]["tools"]["total"]) == expected["zdx"]


async def test_only_the_services_asked_for_are_checked_and_a_hidden_probe_is_not_called(upstream):
    async with serve(upstream, profile="read-only", ONEAPI_MCP_DENY_TOOLS="zdx_*") as client:
        report = await call(client, TOOL, {"services": ["zdx", "zia"], "top_alerts": 1})
    services = _by_service(report)
    assert list(services) == ["zdx", "zia"]
    assert services["zdx"]["status"] == "not_checked" and "hide" in services["zdx"]["error"]
    assert services["zdx"]["tools"]["allowed"] == 0 and services["zdx"]["tools"]["total"] > 0
    assert services["zia"]["status"] == "ok"
    assert {j["service"] for j in upstream.mock.journal} == {"zia"}
    assert not any("ZCC" in limit for limit in report["api_limits"])


async def test_services_are_checked_concurrently_each_within_its_own_deadline():
    slow = create_mock_app(seed=0, rate_limits=False, faults=FaultConfig(latency=1.0, latency_seconds=1.5),
                           failures=())
    with MockServer(slow) as upstream:
        async with serve(upstream, profile="read-only", ONEAPI_MCP_MAX_RETRIES="0") as client:
            started = time.monotonic()
            report = await call(client, TOOL, {"timeout_seconds": 1})
            elapsed = time.monotonic() - started
    services = _by_service(report)
    assert {s["status"] for s in services.values()} == {"timeout"}
    assert all("within 1 s" in s["error"] for s in services.values())
    # one after another, the services' 1 s deadlines would take at least len(services) s (12 or more)
    assert elapsed < len(services) / 2, elapsed

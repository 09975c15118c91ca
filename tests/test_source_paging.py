"""ZTB and EASM lists page like the real API, on the mock and through `all_pages`.

ZTB: `page` and `limit`, rows under `result.rows` (zscaler/ztb/site.py list_sites; recorded
ztb/cassettes/TestDevices.yaml echoes `page`/`limit` beside `count` and `rows`). EASM: 100 results a page
and a `next_link` whose `offset` asks for the next (zeasm/cassettes/TestFindings.yaml).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from oneapi_mcp import load_catalog
from oneapi_mcp._executor import Executor
from oneapi_mcp._recorded import load_interactions
from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio
CATALOG = load_catalog()
ORG = "3f61a446-1a0d-11f0-94e8-8a5f4d45e80c"  # as recorded
FINDINGS = f"/easm/easm-ui/v1/organizations/{ORG}/findings"


def _fill(mock, service: str, operation_id: str, values: tuple[str, ...], count: int) -> None:
    """`count` objects in the collection an operation lists (the mock invents three otherwise)."""
    op = next(o for o in mock.specs[service].operations if o.operation_id == operation_id)
    info = mock.specs[service].collections[op.collection]
    key = (service, op.collection, values)
    coll = mock.state.collection(key, info.id_field, info.id_style, lambda first: [])
    for i in range(count):
        coll.put({info.id_field: coll.new_id(), "name": f"{operation_id}-{i:03}"})
    mock.state.remember(key, coll)


def _executor(mock) -> tuple[Executor, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(transport=httpx.ASGITransport(mock), event_hooks={"request": [record]},
                             headers={"Authorization": f"Bearer {mock.token()}"})
    return Executor(CATALOG, http, base_url="http://mock"), sent


def test_the_mock_pages_ztb_sites_by_page_and_limit_with_the_rows_nested():
    mock = create_mock_app(seed=0)
    _fill(mock, "ztb", "ListSites", (), 230)
    http = TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})
    first = http.get("/ztb/api/v2/Site/", params={"page": 1, "limit": 100}).json()
    last = http.get("/ztb/api/v2/Site/", params={"page": 3, "limit": 100}).json()
    assert first["result"]["count"] == last["result"]["count"] == 230
    assert len(first["result"]["rows"]) == 100 and len(last["result"]["rows"]) == 30
    assert {r["name"] for r in first["result"]["rows"]}.isdisjoint(r["name"] for r in last["result"]["rows"])


async def test_ztb_all_pages_reads_every_page_and_stops_at_the_short_one():
    mock = create_mock_app(seed=0)
    _fill(mock, "ztb", "ListSites", (), 230)
    executor, sent = _executor(mock)
    result = await executor.call(CATALOG.tools["ztb_list_sites"], {"all_pages": True})
    assert not result.is_error and result.data["count"] == 230 and result.data["more"] is False
    assert len({s["name"] for s in result.data["items"]}) == 230
    assert [(r.url.params["page"], r.url.params["limit"]) for r in sent] == [("1", "100"), ("2", "100"), ("3", "100")]
    capped = await executor.call(CATALOG.tools["ztb_list_sites"], {"max_items": 150})
    assert capped.data["count"] == 150 and capped.data["more"] is True


def test_the_mock_pages_easm_findings_with_a_relative_next_link_as_recorded():
    mock = create_mock_app(seed=0)
    _fill(mock, "easm", "ListFindings", (ORG,), 250)
    http = TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})
    first = http.get(FINDINGS).json()
    middle = http.get(FINDINGS, params={"offset": 100}).json()
    last = http.get(FINDINGS, params={"offset": 200}).json()
    assert (len(first["results"]), first["total_results"]) == (100, 250)
    assert first["next_link"] == f"/easm-ui/v1/organizations/{ORG}/findings?offset=100" and first["prev_link"] == ""
    assert middle["prev_link"].endswith("?offset=0") and middle["next_link"].endswith("?offset=200")
    assert len(last["results"]) == 50 and last["next_link"] == ""


async def test_easm_all_pages_follows_next_link_to_the_end():
    mock = create_mock_app(seed=0)
    _fill(mock, "easm", "ListFindings", (ORG,), 250)
    executor, sent = _executor(mock)
    result = await executor.call(CATALOG.tools["easm_list_findings"], {"org_id": ORG, "all_pages": True})
    assert not result.is_error and result.data["count"] == 250 and result.data["more"] is False
    assert len({f["name"] for f in result.data["items"]}) == 250
    assert [r.url.params.get("offset") for r in sent] == [None, "100", "200"]


async def test_easm_all_pages_asks_for_the_offset_the_real_next_link_names():
    """The recorded first page links `?offset=20` (zeasm/cassettes/TestFindings.yaml): that is what is asked."""
    rec = next(r for r in load_interactions(Path(__file__).parent / "recorded", ("easm",))
               if r.cassette == "TestFindings" and r.path.endswith("/findings"))
    last_page = {**rec.answer, "results": rec.answer["results"][:3], "next_link": ""}
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=rec.answer if len(sent) == 1 else last_page)

    executor = Executor(CATALOG, httpx.AsyncClient(transport=httpx.MockTransport(answer)), base_url="http://x")
    result = await executor.call(CATALOG.tools["easm_list_findings"], {"org_id": ORG, "all_pages": True})
    assert result.data["count"] == len(rec.answer["results"]) + 3 and result.data["more"] is False
    assert [r.url.params.get("offset") for r in sent] == [None, "20"]


async def test_zcell_pages_count_from_zero_and_all_pages_reads_the_first_one_too():
    """"Page number (0-based)" (zscaler/zcell/anomaly_policy.py list_anomaly_policy_violations); the SDK's
    pager asks page 0 first (zscaler/oneapi_response.py, zcell branch) and reads totalPages."""
    mock = create_mock_app(seed=0)
    values = ("72058304855015424", "7")
    _fill(mock, "zcell", "ListAnomalyPolicyViolations", values, 25)
    path = f"/zcell/config/api/v1/customers/{values[0]}/anomaly-policy/{values[1]}/violations"
    http = TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})
    zero = http.get(path, params={"page": 0, "size": 10}).json()
    assert (zero["totalPages"], zero["totalElements"], len(zero["content"])) == (3, 25, 10)
    assert len(http.get(path, params={"page": 2, "size": 10}).json()["content"]) == 5
    executor, sent = _executor(mock)
    result = await executor.call(CATALOG.tools["zcell_list_anomaly_policy_violations"],
                                 {"id": values[0], "policy_id": values[1], "size": 10, "all_pages": True})
    assert not result.is_error and result.data["count"] == 25 and result.data["more"] is False
    assert len({v["name"] for v in result.data["items"]}) == 25
    assert [r.url.params["page"] for r in sent] == ["0", "1", "2"]

"""The executor: validation before HTTP, request building, pagination styles, errors and shaping.

Upstream is an injected httpx.MockTransport; every request it sees is recorded.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest

from oneapi_mcp._executor import Executor

pytestmark = pytest.mark.anyio


class Upstream:
    def __init__(self, routes):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for (method, path), answer in self.routes.items():
            if request.method == method and request.url.path == path:
                return answer(request) if callable(answer) else answer
        return httpx.Response(404, json={"code": "RESOURCE_NOT_FOUND", "message": "no such thing"})


def _executor(catalog, upstream: Upstream, **kwargs) -> Executor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler))
    return Executor(catalog, client, base_url="https://api.zsapi.net", customer_id=kwargs.pop("customer_id", "7"),
                    **kwargs)


async def test_invalid_arguments_name_each_field_and_send_nothing_upstream(catalog):
    upstream = Upstream({})
    result = await _executor(catalog, upstream).call(catalog.tools["zia_list_users"],
                                                     {"page": "first", "colour": "red"})
    assert result.is_error
    problems = {p["field"]: p["problem"] for p in result.data["error"]["problems"]}
    assert problems["colour"] == "unknown argument" and "integer" in problems["page"]
    assert upstream.requests == []


async def test_a_missing_required_body_is_named(catalog):
    upstream = Upstream({})
    result = await _executor(catalog, upstream).call(catalog.tools["zid_create_user"], {})
    assert result.is_error and result.data["error"]["problems"] == [
        {"field": "body", "problem": "required argument is missing"}]
    assert upstream.requests == []


async def test_path_query_and_body_are_built_from_the_definition_with_wire_names(catalog):
    upstream = Upstream({("GET", "/ziam/admin/api/v1/users"): httpx.Response(200, json={"records": []})})
    await _executor(catalog, upstream).call(catalog.tools["zid_list_users"],
                                            {"loginname_like": "jan", "domainname": ["a.test", "b.test"]})
    sent = upstream.requests[0]
    assert parse_qsl(sent.url.query.decode()) == [("domainname", "a.test"), ("domainname", "b.test"),
                                                  ("loginname[like]", "jan")]


async def test_the_zpa_customer_id_comes_from_settings(catalog):
    path = "/zpa/mgmtconfig/v1/admin/customers/7/application"
    upstream = Upstream({("GET", path): httpx.Response(200, json={"totalPages": "1", "list": []})})
    result = await _executor(catalog, upstream).call(catalog.tools["zpa_list_all_applications"], {})
    assert not result.is_error and upstream.requests[0].url.path == path


async def test_zpa_without_a_customer_id_says_which_setting_is_missing(catalog):
    upstream = Upstream({})
    result = await _executor(catalog, upstream, customer_id=None).call(catalog.tools["zpa_list_all_applications"], {})
    assert result.is_error and "ZPA_CUSTOMER_ID" in result.data["error"]["message"]
    assert upstream.requests == []


async def test_zia_pages_until_a_short_page_and_reports_no_more(catalog):
    def page(request):
        q = dict(parse_qsl(request.url.query.decode()))
        n, size = int(q["page"]), int(q["pageSize"])
        users = [{"id": i, "name": f"u{i}"} for i in range(250)][(n - 1) * size: n * size]
        return httpx.Response(200, json=users)

    upstream = Upstream({("GET", "/zia/api/v1/users"): page})
    result = await _executor(catalog, upstream).call(catalog.tools["zia_list_users"], {"all_pages": True,
                                                                                       "pageSize": 100})
    assert result.data["count"] == 250 and result.data["more"] is False
    assert len(upstream.requests) == 3


async def test_max_items_stops_early_and_says_more_remain(catalog):
    def page(request):
        q = dict(parse_qsl(request.url.query.decode()))
        n = int(q["page"])
        return httpx.Response(200, json={"totalPages": "5", "totalCount": "50",
                                         "list": [{"id": str(n * 10 + i)} for i in range(10)]})

    path = "/zpa/mgmtconfig/v1/admin/customers/7/application"
    upstream = Upstream({("GET", path): page})
    result = await _executor(catalog, upstream).call(catalog.tools["zpa_list_all_applications"],
                                                     {"max_items": 15, "pagesize": 10})
    data = result.data
    assert data["count"] == 15 and data["more"] is True and len(upstream.requests) == 2


async def test_zdx_follows_next_offset_until_it_is_null(catalog):
    def page(request):
        offset = dict(parse_qsl(request.url.query.decode())).get("offset")
        nxt = {None: "b", "b": "c", "c": None}[offset]
        return httpx.Response(200, json={"alerts": [{"id": offset or "a"}], "next_offset": nxt})

    upstream = Upstream({("GET", "/zdx/v1/alerts/ongoing"): page})
    result = await _executor(catalog, upstream).call(catalog.tools["zdx_list_ongoing_alerts"], {"all_pages": True})
    assert [a["id"] for a in result.data["items"]] == ["a", "b", "c"]


async def test_paging_arguments_on_a_non_list_call_are_refused(catalog):
    upstream = Upstream({})
    result = await _executor(catalog, upstream).call(catalog.tools["zia_get_activation_status"], {"all_pages": True})
    assert result.is_error and "not a paginated list" in result.data["error"]["message"]
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "expect"),
    [
        (429, {"Retry-After": "13s"}, {"id": "rate", "reason": "slow down"}, "retry after 13 s"),
        (429, {"X-Rate-Limit-Retry-After-Seconds": "40"}, {}, "retry after 40 s"),
        (403, {}, {"code": "NOT_AUTHORIZED", "message": "no role"}, "not entitled"),
        (403, {}, {"code": "LIMIT_EXCEEDED", "message": "max 8 categories"}, "do not retry"),
        (409, {}, {"code": "EDIT_LOCK_NOT_AVAILABLE", "message": "locked"}, "edit lock"),
        (503, {}, {}, "retry shortly"),
    ],
)
async def test_upstream_errors_say_what_happened_and_what_to_do(catalog, status, headers, body, expect):
    upstream = Upstream({("GET", "/zia/api/v1/status"): httpx.Response(status, headers=headers, json=body)})
    result = await _executor(catalog, upstream).call(catalog.tools["zia_get_activation_status"], {})
    err = result.data["error"]
    assert result.is_error and err["status"] == status and expect in err["next_step"]
    if body.get("code"):
        assert err["code"] == body["code"]


async def test_zia_writes_say_the_change_is_pending_activation(catalog):
    upstream = Upstream({("POST", "/zia/api/v1/departments"): httpx.Response(200, json={"id": 9, "name": "R&D"})})
    result = await _executor(catalog, upstream).call(catalog.tools["zia_create_department"], {"body": {"name": "R&D"}})
    assert not result.is_error
    assert any("zia_activate" in note and "PENDING" in note for note in result.notes)
    assert json.loads(upstream.requests[0].content) == {"name": "R&D"}


async def test_fields_and_a_jmespath_query_shape_the_result(catalog):
    users = [{"id": i, "name": f"u{i}", "email": f"u{i}@example.test", "disabled": i % 2 == 0} for i in range(4)]
    upstream = Upstream({("GET", "/zia/api/v1/users"): httpx.Response(200, json=users)})
    ex = _executor(catalog, upstream)
    result = await ex.call(catalog.tools["zia_list_users"], {"fields": ["id", "name"]})
    assert result.data[0] == {"id": 0, "name": "u0"}
    result = await ex.call(catalog.tools["zia_list_users"], {"query": "[?disabled].name"})
    assert result.data == ["u0", "u2"]
    bad = await ex.call(catalog.tools["zia_list_users"], {"query": "[?"})
    assert bad.is_error and "JMESPath" in bad.data["error"]["message"]


async def test_a_result_over_the_byte_cap_returns_what_fits_and_says_so(catalog):
    users = [{"id": i, "name": "x" * 200} for i in range(100)]
    upstream = Upstream({("GET", "/zia/api/v1/users"): httpx.Response(200, json=users)})
    result = await _executor(catalog, upstream, max_result_bytes=5_000).call(catalog.tools["zia_list_users"], {})
    data = result.data
    assert data["truncated"] is True and 0 < data["count"] < 100 and data["total"] == 100
    assert len(json.dumps(data)) < 5_000
    assert any("returned" in n and "of 100 items" in n for n in result.notes)

"""Each service pages its lists its own way, and the mock does exactly that."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from oneapi_mcp.mock import create_mock_app

ZPA = "/zpa/mgmtconfig/v1/admin/customers/216196257331281920"


@pytest.fixture(scope="module")
def client() -> TestClient:
    mock = create_mock_app(seed=0)
    return TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})


def test_zia_pages_are_flat_arrays_and_the_short_page_is_the_last(client):
    sizes, seen, page = [], [], 1
    while True:
        batch = client.get("/zia/api/v1/users", params={"page": page, "pageSize": 25}).json()
        assert isinstance(batch, list)
        sizes.append(len(batch))
        seen += [u["id"] for u in batch]
        if len(batch) < 25:
            break
        page += 1
    assert sizes == [25, 25, 10]
    assert len(set(seen)) == 60
    assert client.get("/zia/api/v1/users", params={"page": 9, "pageSize": 25}).json() == []


def test_zia_defaults_to_page_one_of_a_hundred(client):
    assert len(client.get("/zia/api/v1/users").json()) == 60


def test_zcc_pages_the_same_way_with_its_own_page_size(client):
    # The spec marks osType and username as required; username matches part of the owner's email.
    query = {"osType": 3, "username": "@example.test"}
    first = client.get("/zcc/papi/public/v1/getDevices", params={**query, "page": 1, "pageSize": 10}).json()
    everything = client.get("/zcc/papi/public/v1/getDevices", params={**query, "pageSize": 500}).json()
    assert len(first) == 10 and first == everything[:10] and len(everything) > 40


def test_zpa_pages_carry_total_pages_and_counts_as_strings(client):
    first = client.get(f"{ZPA}/application", params={"page": 1, "pagesize": 2}).json()
    assert first["totalPages"] == "3" and first["totalCount"] == "5"
    assert len(first["list"]) == 2
    last = client.get(f"{ZPA}/application", params={"page": 3, "pagesize": 2}).json()
    assert len(last["list"]) == 1 and last["totalPages"] == "3"
    ids = [
        a["id"]
        for page in (1, 2, 3)
        for a in client.get(f"{ZPA}/application", params={"page": page, "pagesize": 2}).json()["list"]
    ]
    assert len(set(ids)) == 5 and all(isinstance(i, str) and i.isdigit() for i in ids)


def test_zdx_follows_an_opaque_next_offset_until_it_is_null(client):
    users, offset, pages = [], None, 0
    while True:
        params = {"limit": 25} if offset is None else {"limit": 25, "offset": offset}
        body = client.get("/zdx/v1/users", params=params).json()
        users += body["users"]
        pages += 1
        offset = body["next_offset"]
        if offset is None:
            break
        assert isinstance(offset, str) and not offset.isdigit()
    assert pages == 3 and len({u["id"] for u in users}) == 60


def test_zidentity_follows_absolute_next_links(client):
    # no link key where there is no page (tests/recorded/zid.jsonl TestResourceServers#0)
    first = client.get("/ziam/admin/api/v1/users", params={"limit": 25}).json()
    assert first["results_total"] == first["totalRecord"] == 60 and first["pageOffset"] == 0
    assert first["pageSize"] == 25 and "prev_link" not in first and first["next_link"].startswith("http")
    records, link = list(first["records"]), first["next_link"]
    while link:
        body = client.get(link).json()
        assert body["prev_link"]
        records += body["records"]
        link = body.get("next_link")
    assert len({r["id"] for r in records}) == 60


def test_list_filters_use_the_documented_query_parameters(client):
    engineers = client.get("/zia/api/v1/users", params={"dept": "Engineering"}).json()
    assert engineers and all(u["department"]["name"] == "Engineering" for u in engineers)
    by_login = client.get("/ziam/admin/api/v1/users", params={"loginname[like]": engineers[0]["email"]}).json()
    assert [r["primaryEmail"] for r in by_login["records"]] == [engineers[0]["email"]]

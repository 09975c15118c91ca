"""Stateful resources in the mock: create, read, update, delete, lists, errors and activation."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from oneapi_mcp.mock import create_mock_app

ZIA = "/zia/api/v1"
ZPA = "/zpa/mgmtconfig/v1/admin/customers/216196257331281920"
ZTW = "/ztw/api/v1"


@pytest.fixture
def client() -> TestClient:
    mock = create_mock_app(seed=0)
    return TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})


def _all_zia_users(client: TestClient) -> list[dict]:
    return client.get(f"{ZIA}/users", params={"pageSize": 1000}).json()


def test_a_zia_user_goes_through_create_get_update_delete_and_lists_follow(client):
    before = len(_all_zia_users(client))
    created = client.post(
        f"{ZIA}/users",
        json={"name": "Pat Doe", "email": "pat.doe@example.test", "department": {"id": 81000, "name": "Engineering"}},
    )
    assert created.status_code == 201
    user = created.json()
    assert isinstance(user["id"], int) and user["email"] == "pat.doe@example.test"
    assert client.get(f"{ZIA}/users/{user['id']}").json()["name"] == "Pat Doe"
    assert len(_all_zia_users(client)) == before + 1

    updated = client.put(f"{ZIA}/users/{user['id']}", json={**user, "disabled": True})
    assert updated.status_code == 200 and updated.json()["disabled"] is True
    assert client.get(f"{ZIA}/users/{user['id']}").json()["disabled"] is True

    assert client.delete(f"{ZIA}/users/{user['id']}").status_code == 204
    gone = client.get(f"{ZIA}/users/{user['id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "RESOURCE_NOT_FOUND" and gone.json()["message"]
    assert len(_all_zia_users(client)) == before


def test_a_zpa_application_segment_round_trips_with_string_ids(client):
    body = {
        "name": "Payroll",
        "domainNames": ["payroll.example.test"],
        "enabled": True,
        "segmentGroupId": "216196257331282320",
        "tcpPortRanges": [443, 443],
    }
    created = client.post(f"{ZPA}/application", json=body)
    assert created.status_code == 200
    app = created.json()
    assert isinstance(app["id"], str) and app["id"].isdigit()
    listed = client.get(f"{ZPA}/application", params={"pagesize": 500}).json()
    assert app["id"] in {a["id"] for a in listed["list"]}

    update = client.put(f"{ZPA}/application/{app['id']}", json={**app, "enabled": False})
    assert update.status_code == 200
    assert client.get(f"{ZPA}/application/{app['id']}").json()["enabled"] is False

    assert client.delete(f"{ZPA}/application/{app['id']}").status_code == 204
    gone = client.get(f"{ZPA}/application/{app['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"id": "resource.not.found", "reason": gone.json()["reason"]}
    listed = client.get(f"{ZPA}/application", params={"pagesize": 500}).json()
    assert app["id"] not in {a["id"] for a in listed["list"]}


def test_a_zpa_search_filters_the_list(client):
    found = client.get(f"{ZPA}/application", params={"search": "name+EQ+GitLab"}).json()
    assert [a["name"] for a in found["list"]] == ["GitLab"] and found["totalCount"] == "1"


def test_not_found_bodies_follow_each_services_error_shape(client):
    assert client.get(f"{ZIA}/locations/1").json()["code"] == "RESOURCE_NOT_FOUND"
    assert client.get(f"{ZPA}/segmentGroup/1").json()["id"] == "resource.not.found"
    for path in (f"{ZTW}/ztgroup/1", "/ziam/admin/api/v1/users/nobody", "/zdx/v1/users/1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"code", "message"}, path


def test_an_unknown_path_is_a_404_in_the_service_shape(client):
    assert client.get("/zpa/nothing/here").json()["id"] == "resource.not.found"
    # ZIA answers a path it has no route for with a bare 404 (tests/recorded/zia.jsonl TestAppTotal#0)
    bare = client.get(f"{ZIA}/nothingHere")
    assert bare.status_code == 404 and bare.content == b""


def test_an_undocumented_method_is_a_405_listing_the_allowed_ones(client):
    response = client.patch(f"{ZIA}/users")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_a_zia_write_makes_activation_pending_until_activate(client):
    assert client.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}
    client.post(f"{ZIA}/ipDestinationGroups", json={"name": "Bad IPs", "type": "DSTN_IP", "addresses": ["192.0.2.1"]})
    assert client.get(f"{ZIA}/status").json() == {"status": "PENDING"}
    activated = client.post(f"{ZIA}/status/activate")
    assert activated.status_code == 202 and activated.json() == {"status": "ACTIVE"}
    assert client.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}


def test_reads_and_failed_writes_leave_activation_alone(client):
    client.get(f"{ZIA}/users")
    client.delete(f"{ZIA}/users/1")  # 404: nothing was staged
    client.post(f"{ZIA}/users", content=b"{not json")
    assert client.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}


def test_a_ztw_write_makes_its_own_activation_status_pending(client):
    assert client.get(f"{ZTW}/ecAdminActivateStatus").json()["orgEditStatus"] == "EDITS_CLEARED"
    assert (
        client.post(f"{ZTW}/ipSourceGroups", json={"name": "Branch", "ipAddresses": ["10.9.0.0/16"]}).status_code < 300
    )
    assert client.get(f"{ZTW}/ecAdminActivateStatus").json()["orgEditStatus"] == "EDITS_PRESENT"
    assert client.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}
    client.put(f"{ZTW}/ecAdminActivateStatus/activate")
    assert client.get(f"{ZTW}/ecAdminActivateStatus").json()["orgEditStatus"] == "EDITS_CLEARED"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "needle"),
    [
        ("get", f"{ZIA}/users/not-a-number", {}, "path parameter id"),
        ("get", f"{ZIA}/users", {"params": {"page": "two"}}, "query parameter page"),
        ("get", f"{ZIA}/users", {"params": {"includeDeleted": "maybe"}}, "includeDeleted"),
        ("get", f"{ZIA}/users", {"params": {"colour": "blue"}}, "unknown query parameter"),
        ("post", f"{ZIA}/users", {"content": b"{not json"}, "not valid JSON"),
        ("post", f"{ZIA}/users", {}, "required"),
        ("post", f"{ZIA}/users", {"json": {"name": 42}}, "body.name must be a string"),
        ("post", f"{ZIA}/departments", {"json": {"comments": "no name"}}, "body.name is required"),
        ("put", f"{ZIA}/users/71000", {"json": ["not", "an", "object"]}, "must be an object"),
    ],
)
def test_malformed_zia_requests_are_400_with_the_zia_error_shape(client, method, path, kwargs, needle):
    response = getattr(client, method)(path, **kwargs) if method != "post" or kwargs else client.post(path)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == "INVALID_INPUT_ARGUMENT"
    assert needle in body["message"]


def test_malformed_zpa_requests_are_400_with_the_zpa_error_shape(client):
    response = client.post(f"{ZPA}/segmentGroup", json={"name": ["not", "a", "string"]})
    assert response.status_code == 400
    assert response.json()["id"] == "bad.request" and "body.name" in response.json()["reason"]
    bad_id = client.get(f"{ZPA}/segmentGroup/abc")
    assert bad_id.status_code == 400 and set(bad_id.json()) == {"id", "reason"}


def test_zpa_accepts_ids_as_strings_or_numbers_in_bodies(client):
    ref = {"name": "Mixed", "applications": [{"id": "216196257331282500", "name": "GitLab"}]}
    assert client.post(f"{ZPA}/segmentGroup", json=ref).status_code == 200
    ref["applications"][0]["id"] = 216196257331282500
    assert client.post(f"{ZPA}/segmentGroup", json=ref).status_code == 200


def test_reset_brings_back_the_seeded_state_and_zeroes_the_counter(client):
    mock = client.app
    user = client.post(f"{ZIA}/users", json={"name": "Temp", "email": "temp@example.test"}).json()
    mock.reset()
    assert mock.requests.total == 0
    assert client.get(f"{ZIA}/users/{user['id']}").status_code == 404
    assert client.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}


def test_zidentity_group_membership_changes_show_in_the_member_list(client):
    zid = "/ziam/admin/api/v1"
    group = client.post(
        f"{zid}/groups",
        json={
            "name": "Incident Responders",
            "source": "UI",
            "dynamicGroup": False,
            "adminEntitlementEnabled": False,
            "serviceEntitlementEnabled": True,
        },
    ).json()
    users = client.get(f"{zid}/users", params={"limit": 3}).json()["records"]
    added = client.post(f"{zid}/groups/{group['id']}/users", json=[{"id": u["id"]} for u in users[:2]])
    assert added.status_code == 200
    assert client.post(f"{zid}/groups/{group['id']}/users/{users[2]['id']}").status_code == 200
    members = client.get(f"{zid}/groups/{group['id']}/users").json()
    assert {m["id"] for m in members["records"]} == {u["id"] for u in users}
    assert client.delete(f"{zid}/groups/{group['id']}/users/{users[0]['id']}").status_code == 200
    client.post(f"{zid}/groups/{group['id']}/users:bulkremove", json=[{"id": users[1]["id"]}])
    members = client.get(f"{zid}/groups/{group['id']}/users").json()
    assert [m["id"] for m in members["records"]] == [users[2]["id"]]
    unknown = client.post(f"{zid}/groups/{group['id']}/users", json=[{"id": "nobody"}])
    assert unknown.status_code == 409 and unknown.json()["code"] == "INVALID_REFERENCE"


def test_zia_bulk_delete_removes_every_listed_user(client):
    before = {u["id"] for u in _all_zia_users(client)}
    doomed = sorted(before)[:3]
    assert client.post(f"{ZIA}/users/bulkDelete", json={"ids": doomed}).status_code < 300
    assert {u["id"] for u in _all_zia_users(client)} == before - set(doomed)
    assert client.get(f"{ZIA}/status").json() == {"status": "PENDING"}


@pytest.mark.anyio
async def test_zidentity_membership_changes_show_from_both_sides():
    """Adding a user to a group lists the group among the user's groups, and removing takes it away."""
    import httpx

    from oneapi_mcp.mock import create_mock_app

    mock = create_mock_app(seed=0)
    zid = "/ziam/admin/api/v1"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as http:
        async def groups_of(user):
            return {g["name"] for g in (await http.get(f"{zid}/users/{user}/groups")).json()["records"]}

        user = "u3e9mock"  # Yara Ito: Marketing Team only
        assert await groups_of(user) == {"Marketing Team"}
        assert (await http.post(f"{zid}/groups/g69mock/users", json=[{"id": user}])).status_code < 300
        assert await groups_of(user) == {"Marketing Team", "Executives"}
        assert (await http.post(f"{zid}/groups/g67mock/users:bulkremove", json=[{"id": user}])).status_code < 300
        assert await groups_of(user) == {"Executives"}
        assert (await http.delete(f"{zid}/groups/g69mock/users/{user}")).status_code < 300
        assert await groups_of(user) == set()

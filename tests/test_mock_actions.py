"""Operations with their own semantics (denylists, URL category edits, device removal, password
reset), scripted failures, the request journal and the mock on a real socket in a thread."""

from __future__ import annotations

import dataclasses
import socket

import httpx
import pytest

from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockServer, create_mock_app, main
from oneapi_mcp.mock._script import parse_failure, parse_failures

pytestmark = pytest.mark.anyio

ZIA = "/zia/api/v1"
ZCC = "/zcc/papi/public/v1"
ZID = "/ziam/admin/api/v1"


@pytest.fixture
def mock():
    return create_mock_app(seed=0, rate_limits=False, faults=None, failures=())


@pytest.fixture
async def client(mock):
    headers = {"Authorization": f"Bearer {mock.token()}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock", headers=headers) as c:
        yield c


def _operation(mock, service: str, operation_id: str):
    return next(op for op in mock.specs[service].operations if op.operation_id == operation_id)


def _require_action(mock, service: str, operation_id: str) -> None:
    """Make the spec say what the real API does: action is required and one of two values."""
    op = _operation(mock, service, operation_id)
    op.params = tuple(
        dataclasses.replace(p, required=True, schema={"type": "string", "enum": ["ADD_TO_LIST", "REMOVE_FROM_LIST"]})
        if p.name == "action"
        else p
        for p in op.params
    )


async def _devices(client, **query) -> list[dict]:
    response = await client.get(f"{ZCC}/getDevices", params={"pageSize": 5000, **query})
    assert response.status_code == 200
    return response.json()


# ---------------------------------------------------------------------------- ZIA denylists


async def test_the_denylist_gains_and_loses_exactly_the_given_urls_and_activation_turns_pending(client):
    before = (await client.get(f"{ZIA}/security/advanced")).json()["blacklistUrls"]
    assert (await client.get(f"{ZIA}/status")).json() == {"status": "ACTIVE"}

    added = await client.post(
        f"{ZIA}/security/advanced/blacklistUrls",
        params={"action": "ADD_TO_LIST"},
        json={"blacklistUrls": ["evil.example", "worse.example", "evil.example"]},
    )
    assert added.status_code == 201
    assert added.json()["blacklistUrls"] == [*before, "evil.example", "worse.example"]
    assert (await client.get(f"{ZIA}/security/advanced")).json()["blacklistUrls"] == [
        *before,
        "evil.example",
        "worse.example",
    ]
    assert (await client.get(f"{ZIA}/status")).json() == {"status": "PENDING"}

    again = await client.post(
        f"{ZIA}/security/advanced/blacklistUrls",
        params={"action": "ADD_TO_LIST"},
        json={"blacklistUrls": ["evil.example"]},
    )
    assert again.json()["blacklistUrls"] == [*before, "evil.example", "worse.example"]

    removed = await client.post(
        f"{ZIA}/security/advanced/blacklistUrls",
        params={"action": "REMOVE_FROM_LIST"},
        json={"blacklistUrls": ["evil.example", "never-listed.example"]},
    )
    assert removed.status_code == 201
    assert (await client.get(f"{ZIA}/security/advanced")).json()["blacklistUrls"] == [*before, "worse.example"]


async def test_the_denylist_post_creates_no_collection_of_its_own(mock):
    assert _operation(mock, "zia", "CreateBlacklistURLs").kind == "action"
    assert f"{ZIA}/security/advanced/blacklistUrls" not in mock.specs["zia"].collections


async def test_without_an_action_malicious_urls_are_replaced_as_by_a_plain_put(client):
    path = f"{ZIA}/cyberThreatProtection/maliciousUrls"
    answer = await client.put(path, json={"maliciousUrls": ["x.example"]})
    assert answer.status_code == 200 and answer.json()["maliciousUrls"] == ["x.example"]
    assert (await client.get(path)).json()["maliciousUrls"] == ["x.example"]
    unknown = await client.put(path, params={"action": "ADD"}, json={"maliciousUrls": ["y.example"]})
    assert unknown.status_code == 400 and "ADD_TO_LIST" in unknown.json()["message"]


async def test_the_denylist_spec_requires_an_action_and_the_mock_answers_400_without_one(client):
    missing = await client.post(f"{ZIA}/security/advanced/blacklistUrls", json={"blacklistUrls": ["x.example"]})
    assert missing.status_code == 400 and "action" in missing.json()["message"]


async def test_without_an_action_the_denylist_answers_400_naming_it_once_the_spec_requires_it(mock, client):
    _require_action(mock, "zia", "CreateBlacklistURLs")
    before = (await client.get(f"{ZIA}/security/advanced")).json()
    missing = await client.post(f"{ZIA}/security/advanced/blacklistUrls", json={"blacklistUrls": ["x.example"]})
    assert missing.status_code == 400
    assert missing.json()["code"] == "INVALID_INPUT_ARGUMENT" and "action" in missing.json()["message"]
    unknown = await client.post(
        f"{ZIA}/security/advanced/blacklistUrls", params={"action": "ADD"}, json={"blacklistUrls": ["x.example"]}
    )
    assert unknown.status_code == 400
    assert unknown.json() == {
        "code": "INVALID_INPUT_ARGUMENT",
        "message": "query parameter action is 'ADD'; use action=ADD_TO_LIST or action=REMOVE_FROM_LIST",
    }
    assert (await client.get(f"{ZIA}/security/advanced")).json() == before
    assert (await client.get(f"{ZIA}/status")).json() == {"status": "ACTIVE"}


async def test_malicious_urls_are_added_and_removed_by_action_and_the_answer_echoes_what_was_sent(client):
    # as recorded: reference/recorded/zia/cassettes/TestATPPolicy.yaml (the GET afterwards shows the list)
    path = f"{ZIA}/cyberThreatProtection/maliciousUrls"
    before = (await client.get(path)).json()["maliciousUrls"]
    added = await client.put(path, params={"action": "ADD_TO_LIST"}, json={"maliciousUrls": ["a.example", "b.example"]})
    assert added.status_code == 200 and added.json()["maliciousUrls"] == ["a.example", "b.example"]
    assert (await client.get(path)).json()["maliciousUrls"] == [*before, "a.example", "b.example"]
    removed = await client.put(path, params={"action": "REMOVE_FROM_LIST"}, json={"maliciousUrls": ["a.example"]})
    assert removed.json()["maliciousUrls"] == ["a.example"]
    assert (await client.get(path)).json()["maliciousUrls"] == [*before, "b.example"]
    assert (await client.get(f"{ZIA}/status")).json() == {"status": "PENDING"}


# ---------------------------------------------------------------------------- ZIA URL categories


async def test_a_url_category_gains_and_loses_urls_by_action_and_keeps_its_other_fields(client):
    path = f"{ZIA}/urlCategories/CUSTOM_01"
    before = (await client.get(path)).json()
    assert before["urls"] == ["badsite.example", "malware-drop.example", "phish-login.example"]

    added = await client.put(
        path, params={"action": "ADD_TO_LIST"}, json={"urls": ["new.example", "badsite.example"], "configuredName": "X"}
    )
    assert added.status_code == 200
    stored = (await client.get(path)).json()
    assert stored["urls"] == [*before["urls"], "new.example"]
    assert stored["configuredName"] == "Blocked Domains" and stored["customUrlsCount"] == 4

    await client.put(path, params={"action": "REMOVE_FROM_LIST"}, json={"urls": ["badsite.example"]})
    assert (await client.get(path)).json()["urls"] == ["malware-drop.example", "phish-login.example", "new.example"]


async def test_a_url_category_edit_by_action_answers_404_for_an_unknown_category(client):
    answer = await client.put(
        f"{ZIA}/urlCategories/CUSTOM_99", params={"action": "ADD_TO_LIST"}, json={"urls": ["a.example"]}
    )
    assert answer.status_code == 404 and answer.json()["code"] == "RESOURCE_NOT_FOUND"


async def test_a_url_category_put_without_action_still_updates_the_category(client):
    path = f"{ZIA}/urlCategories/CUSTOM_01"
    category = (await client.get(path)).json()
    answer = await client.put(path, json={**category, "urls": ["only.example"], "description": "replaced"})
    assert answer.status_code == 200
    stored = (await client.get(path)).json()
    assert stored["urls"] == ["only.example"] and stored["description"] == "replaced"


# ---------------------------------------------------------------------------- ZCC devices


async def test_remove_devices_marks_the_selected_devices_removal_pending(client):
    devices = await _devices(client)
    target = next(d for d in devices if d["registrationState"] == "Registered")
    answer = await client.post(f"{ZCC}/removeDevices", json={"udids": [target["udid"]]})
    assert answer.status_code == 202 and answer.json() == {"devicesRemoved": 1}

    after = {d["udid"]: d for d in await _devices(client)}
    assert len(after) == len(devices)
    assert after[target["udid"]]["registrationState"] == "Removal Pending"
    assert after[target["udid"]]["state"] == "Removal Pending"
    others = [d for d in devices if d["udid"] != target["udid"]]
    assert all(after[d["udid"]]["registrationState"] == d["registrationState"] for d in others)

    again = await client.post(f"{ZCC}/removeDevices", json={"udids": [target["udid"]]})
    assert again.json() == {"devicesRemoved": 0}


async def test_remove_devices_by_user_name_selects_all_of_that_persons_devices_and_nothing_selects_none(client):
    devices = await _devices(client)
    owner = next(d["user"] for d in devices if sum(o["user"] == d["user"] for o in devices) > 1)
    mine = [d["udid"] for d in devices if d["user"] == owner]
    answer = await client.post(f"{ZCC}/removeDevices", json={"userName": owner.upper()})
    assert answer.json() == {"devicesRemoved": len(mine)}
    assert {d["udid"] for d in await _devices(client) if d["registrationState"] == "Removal Pending"} == set(mine)
    assert (await client.post(f"{ZCC}/removeDevices", json={})).json() == {"devicesRemoved": 0}


async def test_force_remove_devices_takes_them_off_the_device_list(client):
    devices = await _devices(client)
    gone = [devices[0]["udid"], devices[1]["udid"]]
    answer = await client.post(f"{ZCC}/forceRemoveDevices", json={"udids": [*gone, "NO-SUCH-UDID"]})
    assert answer.status_code == 200 and answer.json() == {"devicesRemoved": 2}
    left = {d["udid"] for d in await _devices(client)}
    assert len(left) == len(devices) - 2 and not left & set(gone)


# ---------------------------------------------------------------------------- ZIdentity


async def test_reset_password_answers_404_for_an_unknown_user(mock, client):
    answer = await client.post(f"{ZID}/users/no-such-user:resetpassword")
    assert answer.status_code == 404 and answer.json()["code"] == "RESOURCE_NOT_FOUND"
    assert not [key for key in mock.state.documents if key[1].endswith(":resetpassword")]


async def test_reset_password_of_a_user_is_recorded_and_answers_200_without_a_body(mock, client):
    user = (await client.get(f"{ZID}/users", params={"limit": 1})).json()["records"][0]
    for _ in range(2):
        answer = await client.post(f"{ZID}/users/{user['id']}:resetpassword")
        assert answer.status_code == 200 and answer.content == b""
    assert mock.state.documents[("zid", f"{ZID}/users/{{id}}:resetpassword", (user["id"],))] == {"resets": 2}
    assert (await client.get(f"{ZID}/users/{user['id']}")).json() == user


# ---------------------------------------------------------------------------- scripted failures


async def test_a_scripted_failure_hits_exactly_the_matching_requests_and_changes_nothing(mock, client):
    rule = mock.fail("POST", f"{ZIA}/firewallFilteringRules*", 503, times=2, message="edit lock held")
    before = (await client.get(f"{ZIA}/firewallFilteringRules")).json()
    body = {"name": "Block bad", "order": 1, "rank": 7, "action": "BLOCK_DROP", "state": "ENABLED"}

    for _ in range(2):
        failed = await client.post(f"{ZIA}/firewallFilteringRules", json=body)
        assert failed.status_code == 503
        assert failed.json() == {"code": "SERVICE_UNAVAILABLE", "message": "edit lock held"}
    assert (await client.get(f"{ZIA}/firewallFilteringRules")).json() == before  # GETs do not match
    assert (await client.get(f"{ZIA}/status")).json() == {"status": "ACTIVE"}
    assert rule.hits == 2

    created = await client.post(f"{ZIA}/firewallFilteringRules", json=body)
    assert created.status_code in (200, 201)
    assert len((await client.get(f"{ZIA}/firewallFilteringRules")).json()) == len(before) + 1
    assert rule.hits == 2 and mock.script.rules == []


async def test_a_scripted_failure_with_after_lets_the_first_matching_requests_through_then_fails(mock, client):
    rule = mock.fail("POST", f"{ZIA}/firewallFilteringRules", 500, after=2)  # the third of several writes
    body = {"name": "Block bad", "order": 1, "rank": 7, "action": "BLOCK_DROP", "state": "ENABLED"}
    statuses = [(await client.post(f"{ZIA}/firewallFilteringRules", json={**body, "name": f"r{n}"})).status_code
                for n in range(4)]
    assert statuses[:2] in ([200, 200], [201, 201]) and statuses[2] == 500 and statuses[3] in (200, 201)
    assert rule.hits == 1 and rule.passed == 2 and mock.script.rules == []
    with pytest.raises(ValueError, match="after -1"):
        mock.fail("POST", f"{ZIA}/x", after=-1)


async def test_a_scripted_failure_with_times_zero_fails_until_cleared_and_reset_clears_it(mock, client):
    mock.fail("*", f"{ZIA}/status", 500, times=0)
    for _ in range(3):
        failed = await client.get(f"{ZIA}/status")
        assert failed.status_code == 500 and failed.json()["code"] == "UNEXPECTED_ERROR"
    mock.clear_failures()
    assert (await client.get(f"{ZIA}/status")).status_code == 200

    mock.fail("GET", "/zpa/*", 404, times=0)
    assert (await client.get(f"{ZIA}/status")).status_code == 200
    mock.reset()
    assert mock.script.rules == [] and mock.journal == []


async def test_a_scripted_failure_answers_in_the_services_error_shape_after_the_token_check(mock):
    mock.fail("GET", "/zpa/*", 404)
    path = "/zpa/mgmtconfig/v1/admin/customers/1/application"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock") as anonymous:
        assert (await anonymous.get(path)).status_code == 401
    headers = {"Authorization": f"Bearer {mock.token()}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock", headers=headers) as c:
        failed = await c.get(path)
        assert failed.status_code == 404 and set(failed.json()) == {"id", "reason"}
        assert (await c.get(path)).status_code == 200


def test_scripted_failure_rules_are_parsed_from_text():
    rule = parse_failure("post /zia/api/v1/firewallFilteringRules* 409 3 EDIT_LOCK_NOT_AVAILABLE, try later")
    assert (rule.method, rule.path, rule.status, rule.times) == ("POST", "/zia/api/v1/firewallFilteringRules*", 409, 3)
    assert rule.message == "EDIT_LOCK_NOT_AVAILABLE, try later"
    assert [(r.method, r.status, r.times) for r in parse_failures("GET /zia/* ; DELETE /zpa/* 500 0;")] == [
        ("GET", 500, 1),
        ("DELETE", 500, 0),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("POST", "needs at least a method and a path"),
        ("FETCH /zia/*", "method 'FETCH'"),
        ("GET zia/*", "must start with /"),
        ("GET /zia/* abc", "status 'abc' is not a whole number"),
        ("GET /zia/* 200", "must be an HTTP error status"),
        ("GET /zia/* 500 -1", "times -1"),
        ("GET /zia/* 500 once", "times 'once' is not a whole number"),
    ],
)
def test_a_bad_scripted_failure_rule_is_an_error_naming_the_problem(text, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")) as caught:
        parse_failure(text)
    assert "METHOD PATH" in str(caught.value) or problem in str(caught.value)


def test_the_cli_rejects_a_bad_fail_flag_and_a_bad_env_rule(monkeypatch, capsys):
    assert main(["--fail", "GET /zia/* 200"]) == 2
    assert "must be an HTTP error status" in capsys.readouterr().err
    monkeypatch.setenv("ONEAPI_MOCK_FAIL", "GET /zia/* 500 1; PUT")
    with pytest.raises(ValueError, match="ONEAPI_MOCK_FAIL: scripted failure 'PUT' needs at least a method and a path"):
        create_mock_app(seed=0)
    assert main(["--services", "zia"]) == 2
    assert "ONEAPI_MOCK_FAIL" in capsys.readouterr().err


def test_the_cli_passes_its_fail_rules_to_the_mock_and_the_env_rules_reach_it(monkeypatch):
    import oneapi_mcp.mock._app as app

    seen = {}

    def capture(**options):
        seen.update(options)
        raise ValueError("stop before serving")

    monkeypatch.setattr(app, "create_mock_app", capture)
    assert main(["--fail", "POST /zia/* 500 1", "--fail", "* /zcc/* 429 0 slow down"]) == 2
    assert [(r.method, r.path, r.status, r.times, r.message) for r in seen["failures"]] == [
        ("POST", "/zia/*", 500, 1, None),
        ("*", "/zcc/*", 429, 0, "slow down"),
    ]
    monkeypatch.undo()
    monkeypatch.setenv("ONEAPI_MOCK_FAIL", "DELETE /zia/api/v1/users/* 409")
    rules = create_mock_app(seed=0).script.rules
    assert [(r.method, r.path, r.status, r.times) for r in rules] == [("DELETE", "/zia/api/v1/users/*", 409, 1)]


# ---------------------------------------------------------------------------- journal


async def test_the_journal_lists_reads_writes_and_scripted_failures_but_not_rejected_requests(mock, client):
    await client.get(f"{ZIA}/users", params={"page": 2, "pageSize": 5})
    await client.post(f"{ZIA}/security/advanced/blacklistUrls?action=ADD_TO_LIST", json={"blacklistUrls": ["a.test"]})
    mock.fail("DELETE", f"{ZIA}/users/*", 409)
    await client.delete(f"{ZIA}/users/12345")
    await client.get(f"{ZIA}/users", params={"page": "not-a-number"})  # 400 from validation: not journaled
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock") as anonymous:
        await anonymous.get(f"{ZIA}/users")  # 401: not journaled

    assert mock.journal == [
        {
            "method": "GET",
            "path": f"{ZIA}/users",
            "query": {"page": "2", "pageSize": "5"},
            "status": 200,
            "operation": "ListUsers",
            "service": "zia",
        },
        {
            "method": "POST",
            "path": f"{ZIA}/security/advanced/blacklistUrls",
            "query": {"action": "ADD_TO_LIST"},
            "status": 201,
            "operation": "CreateBlacklistURLs",
            "service": "zia",
        },
        {
            "method": "DELETE",
            "path": f"{ZIA}/users/12345",
            "query": {},
            "status": 409,
            "operation": "RemoveUser",
            "service": "zia",
        },
    ]
    mock.reset()
    assert mock.journal == []


# ---------------------------------------------------------------------------- on a socket


def test_the_mock_serves_on_a_real_socket_in_a_thread_and_stops_on_exit():
    with MockServer() as server:
        assert server.url.startswith("http://127.0.0.1:") and server.token_url == server.url + "/oauth2/v1/token"
        port = server.port
        token = httpx.post(
            server.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": MOCK_CLIENT_ID,
                "client_secret": MOCK_CLIENT_SECRET,
                "audience": "https://api.zscaler.com",
            },
        ).json()["access_token"]
        server.mock.fail("GET", f"{ZIA}/status", 503)
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
            assert http.get(f"{ZIA}/status").status_code == 503
            assert http.get(f"{ZIA}/status").json() == {"status": "ACTIVE"}
        assert [entry["status"] for entry in server.mock.journal] == [503, 200]
    assert server.port is None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


async def test_a_zpa_entitlement_update_is_what_the_entitlement_list_shows_next(client):
    path = "/zcc/papi/public/v1"
    before = (await client.get(f"{path}/getZpaGroupEntitlements")).json()
    assert [g["groupName"] for g in before["groupList"]] == ["Developers", "IT Admins"]
    answer = await client.put(f"{path}/updateZpaGroupEntitlement", json={
        "groupIds": [82000, 82007, 82004], "groupNames": ["Developers", "IT Admins", "Contractors"], "enableForAll": 0})
    assert answer.status_code == 200
    after = (await client.get(f"{path}/getZpaGroupEntitlements")).json()
    assert [(g["groupId"], g["groupName"], g["zpaEnabled"]) for g in after["groupList"]] == [
        (82000, "Developers", 1), (82007, "IT Admins", 1), (82004, "Contractors", 1)]
    assert after["zpaEnableForAll"] == 0 and after["totalCount"] == 3


async def test_a_zcc_entitlement_update_replaces_the_whole_entitlement_so_left_out_device_groups_are_dropped(client):
    # the SDK PUTs the whole object (zscaler-sdk-python zcc/models/zdxgroupentitlements.py request_format)
    path = "/zcc/papi/public/v1"
    before = (await client.get(f"{path}/getZdxGroupEntitlements")).json()
    assert [g["groupName"] for g in before["upmDeviceGroupList"]] == ["Corporate Laptops"]
    kept = await client.put(f"{path}/updateZdxGroupEntitlement", json={
        "groupNames": ["Developers"], "deviceGroupNames": ["Corporate Laptops"], "computeDeviceGroups": 1})
    assert kept.status_code == 200
    after = (await client.get(f"{path}/getZdxGroupEntitlements")).json()
    assert [(g["groupId"], g["groupName"]) for g in after["upmDeviceGroupList"]] == [(93001, "Corporate Laptops")]
    assert [(g["groupId"], g["groupName"]) for g in after["upmGroupList"]] == [(82000, "Developers")]
    forgot = await client.put(f"{path}/updateZdxGroupEntitlement", json={"groupNames": ["Developers"]})
    assert forgot.status_code == 200
    dropped = (await client.get(f"{path}/getZdxGroupEntitlements")).json()
    assert dropped["upmDeviceGroupList"] == [] and dropped["computeDeviceGroupsForZDX"] == 0


async def test_zdx_alert_lists_refuse_a_window_longer_than_the_documented_14_days(client):
    # specs/zdx.yaml /alerts/ongoing and /alerts/historical: "Cannot exceed 14 days API limit"
    for path in ("/zdx/v1/alerts/ongoing", "/zdx/v1/alerts/historical"):
        fits = await client.get(path, params={"from": 1_000_000, "to": 1_000_000 + 14 * 86400})
        assert fits.status_code == 200
        too_long = await client.get(path, params={"from": 1_000_000, "to": 1_000_000 + 14 * 86400 + 1})
        assert too_long.status_code == 400 and "14-day limit" in too_long.json()["message"]
    scores = await client.get("/zdx/v1/apps/2/score", params={"from": 1_000_000, "to": 1_000_000 + 30 * 86400})
    assert scores.status_code == 200  # documents no maximum

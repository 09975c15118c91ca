"""The seeded tenant: enough realistic data, the same people in every service, same seed same data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

import oneapi_mcp.mock as mock_package
from oneapi_mcp.mock import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, build_seed, create_mock_app

ROOT = Path(__file__).resolve().parent.parent
ZIA = "/zia/api/v1"
ZPA = "/zpa/mgmtconfig/v1/admin/customers/216196257331281920"


@pytest.fixture(scope="module")
def client() -> TestClient:
    mock = create_mock_app(seed=0)
    return TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})


def test_the_package_exports_exactly_its_public_names():
    assert sorted(mock_package.__all__) == [
        "AUDIENCE",
        "ConnectionDropped",
        "FaultConfig",
        "MOCK_CLIENT_ID",
        "MOCK_CLIENT_SECRET",
        "MockOneAPI",
        "MockServer",
        "NOW",
        "Person",
        "RequestCounter",
        "SeedData",
        "TOKEN_PATH",
        "build_seed",
        "contract_document",
        "create_mock_app",
        "main",
    ]
    for name in mock_package.__all__:
        assert hasattr(mock_package, name), name
    assert MOCK_CLIENT_ID in mock_package.__doc__ and MOCK_CLIENT_SECRET in mock_package.__doc__


def test_zia_has_at_least_fifty_users_across_six_departments_and_eight_groups(client):
    users = client.get(f"{ZIA}/users", params={"pageSize": 1000}).json()
    assert len(users) >= 50
    assert len({u["department"]["name"] for u in users}) == 6
    assert len(client.get(f"{ZIA}/groups/lite").json()) == 8
    assert all(u["email"].endswith("@example.test") and u["email"].count(".") == 2 for u in users)
    assert len({u["email"] for u in users}) == len(users)


def test_the_same_people_are_in_zia_zidentity_zcc_and_zdx(client):
    zia = {u["email"] for u in client.get(f"{ZIA}/users", params={"pageSize": 1000}).json()}
    zid = {u["primaryEmail"] for u in client.get("/ziam/admin/api/v1/users", params={"limit": 1000}).json()["records"]}
    zdx = {u["email"] for u in client.get("/zdx/v1/users", params={"limit": 1000}).json()["users"]}
    devices = client.get(
        "/zcc/papi/public/v1/getDevices", params={"osType": 3, "username": "@", "pageSize": 1000}
    ).json()
    owners = {d["user"] for d in devices}
    assert zia == zid == zdx
    assert owners <= zia and len(owners) >= 40
    someone = sorted(owners)[0]
    mine = client.get("/zcc/papi/public/v1/getDevices", params={"osType": 3, "username": someone}).json()
    assert mine and all(d["user"] == someone for d in mine)


def test_zidentity_groups_have_members_from_the_same_people(client):
    groups = client.get("/ziam/admin/api/v1/groups").json()["records"]
    assert len(groups) == 8
    remote = next(g for g in groups if g["name"] == "Remote Workers")
    members = client.get(f"/ziam/admin/api/v1/groups/{remote['id']}/users", params={"limit": 1000}).json()
    assert members["results_total"] > 0
    assert all(m["primaryEmail"].endswith("@example.test") for m in members["records"])


def test_zia_policy_objects_are_seeded(client):
    categories = client.get(f"{ZIA}/urlCategories").json()
    custom = [c for c in categories if c.get("customCategory")]
    assert custom and all(c["urls"] for c in custom)
    assert len(client.get(f"{ZIA}/urlFilteringRules").json()) >= 4
    assert any(r["action"] == "BLOCK_DROP" for r in client.get(f"{ZIA}/firewallFilteringRules").json())
    assert client.get(f"{ZIA}/ipDestinationGroups").json() and client.get(f"{ZIA}/ipSourceGroups").json()
    assert any(d["phrases"] for d in client.get(f"{ZIA}/dlpDictionaries").json())
    assert len(client.get(f"{ZIA}/nssFeeds").json()) >= 1
    locations = client.get(f"{ZIA}/locations").json()
    parent = next(loc for loc in locations if loc.get("childCount"))
    subs = client.get(f"{ZIA}/locations/{parent['id']}/sublocations").json()
    assert subs and subs[0]["parentId"] == parent["id"]


def test_zpa_objects_hang_together(client):
    apps = client.get(f"{ZPA}/application").json()["list"]
    groups = {g["id"] for g in client.get(f"{ZPA}/segmentGroup").json()["list"]}
    servers = {s["id"] for s in client.get(f"{ZPA}/serverGroup").json()["list"]}
    assert len(apps) >= 5 and all(a["segmentGroupId"] in groups for a in apps)
    assert all(s["id"] in servers for a in apps for s in a["serverGroups"])
    connectors = client.get(f"{ZPA}/connector").json()["list"]
    assert {c["controlChannelStatus"] for c in connectors} == {"ZPN_STATUS_AUTHENTICATED", "ZPN_STATUS_DISCONNECTED"}
    assert client.get(f"{ZPA}/appConnectorGroup").json()["list"]
    policy = client.get(f"{ZPA}/policySet/policyType/ACCESS_POLICY").json()
    rules = client.get(f"{ZPA}/policySet/rules/policyType/ACCESS_POLICY").json()["list"]
    assert rules and all(r["policySetId"] == policy["id"] for r in rules)
    rule = client.get(f"{ZPA}/policySet/{policy['id']}/rule/{rules[0]['id']}").json()
    assert rule["name"] == rules[0]["name"]
    idp = client.get("/zpa/mgmtconfig/v2/admin/customers/1/idp").json()["list"][0]
    scim = client.get(f"/zpa/userconfig/v1/customers/1/scimgroup/idpId/{idp['id']}").json()["list"]
    assert len(scim) == 8
    assert client.get("/zpa/mgmtconfig/v2/admin/customers/1/lssConfig").json()["list"]


def test_zdx_apps_have_scores_users_and_alerts(client):
    apps = client.get("/zdx/v1/apps").json()
    assert len(apps) >= 5 and all(0 <= a["score"] <= 100 for a in apps)
    users = client.get(f"/zdx/v1/apps/{apps[0]['id']}/users").json()["users"]
    assert users and all("@" in u["email"] and "score" in u for u in users)
    score = client.get(f"/zdx/v1/apps/{apps[0]['id']}/score").json()
    assert score["datapoints"]
    alerts = client.get("/zdx/v1/alerts/ongoing").json()["alerts"]
    assert alerts and client.get(f"/zdx/v1/alerts/{alerts[0]['id']}").json()["rule_name"] == alerts[0]["rule_name"]


def test_the_same_seed_gives_the_same_tenant_and_another_seed_another():
    assert build_seed(3).collections == build_seed(3).collections
    assert [p.email for p in build_seed(3).people] != [p.email for p in build_seed(4).people]


def test_invented_answers_are_stable_for_a_seed():
    first = TestClient(create_mock_app(seed=5))
    second = TestClient(create_mock_app(seed=5))
    for client in (first, second):
        client.headers["Authorization"] = f"Bearer {client.app.token()}"
    assert first.get(f"{ZIA}/advancedSettings").json() == second.get(f"{ZIA}/advancedSettings").json()
    assert first.get(f"{ZIA}/dlpEngines").json() == second.get(f"{ZIA}/dlpEngines").json()


def test_the_mock_runs_on_a_port_and_prints_its_url_and_credentials(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("ONEAPI_MOCK_RATE_LIMITS", "ONEAPI_MOCK_FAULTS"):
        env.pop(name, None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "oneapi_mcp.mock", "--host", "127.0.0.1", "--port", "0", "--seed", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = [process.stdout.readline() for _ in range(4)]
        ready = time.perf_counter() - started
        text = "".join(banner)
        assert "http://127.0.0.1:" in text and MOCK_CLIENT_ID in text and MOCK_CLIENT_SECRET in text, text
        print(f"\nmock process printed its banner {ready:.2f} s after launch ({banner[0].strip()})")
        base = banner[0].split(" on ", 1)[1].split()[0]
        token = httpx.post(
            f"{base}/oauth2/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": MOCK_CLIENT_ID,
                "client_secret": MOCK_CLIENT_SECRET,
                "audience": "https://api.zscaler.com",
            },
            timeout=10,
        ).json()["access_token"]
        users = httpx.get(f"{base}{ZIA}/users", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert users.status_code == 200 and len(users.json()) >= 50
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_seed_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ONEAPI_MOCK_SEED", "3")
    assert create_mock_app().seed == 3
    assert create_mock_app(seed=4).seed == 4

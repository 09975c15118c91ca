"""The mock's ZIdentity token endpoint and the bearer-token check on every API call."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from oneapi_mcp.mock import AUDIENCE, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH, create_mock_app

ZPA = "/zpa/mgmtconfig/v1/admin/customers/216196257331281920"


class FakeClock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> TestClient:
    return TestClient(create_mock_app(seed=0, token_lifetime=60, clock=clock))


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": MOCK_CLIENT_ID,
        "client_secret": MOCK_CLIENT_SECRET,
        "audience": AUDIENCE,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _jwt(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_good_client_credentials_get_a_bearer_token_with_its_lifetime(client):
    response = client.post(TOKEN_PATH, data=_form())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60 and body["access_token"]
    api = client.get("/zia/api/v1/status", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200


def test_a_wrong_secret_is_an_invalid_client(client):
    response = client.post(TOKEN_PATH, data=_form(client_secret="guess"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_an_unknown_client_id_is_an_invalid_client(client):
    assert client.post(TOKEN_PATH, data=_form(client_id="someone-else")).status_code == 401


def test_a_missing_audience_is_a_bad_request(client):
    response = client.post(TOKEN_PATH, data=_form(audience=None))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "audience" in response.json()["error_description"]


def test_a_wrong_grant_type_is_refused(client):
    response = client.post(TOKEN_PATH, data=_form(grant_type="password"))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_well_formed_jwt_assertion_from_the_client_gets_a_token(client, clock):
    assertion = _jwt({"iss": MOCK_CLIENT_ID, "sub": MOCK_CLIENT_ID, "aud": AUDIENCE, "exp": clock.now + 600})
    form = _form(
        client_secret=None,
        client_assertion=assertion,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    )
    response = client.post(TOKEN_PATH, data=form)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_a_jwt_assertion_for_another_client_or_malformed_is_refused(client, clock):
    kind = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    other = _jwt({"iss": "someone-else", "sub": "someone-else", "exp": clock.now + 600})
    assert (
        client.post(
            TOKEN_PATH, data=_form(client_secret=None, client_assertion=other, client_assertion_type=kind)
        ).status_code
        == 401
    )
    assert (
        client.post(
            TOKEN_PATH, data=_form(client_secret=None, client_assertion="not-a-jwt", client_assertion_type=kind)
        ).status_code
        == 400
    )


def test_a_token_stops_working_when_its_lifetime_is_over(client, clock):
    token = client.post(TOKEN_PATH, data=_form()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    clock.now += 59
    assert client.get("/zia/api/v1/status", headers=headers).status_code == 200
    clock.now += 2
    expired = client.get("/zia/api/v1/status", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "unauthorized"


def test_api_calls_without_a_valid_token_get_the_gateways_401_for_every_service_as_recorded(client):
    # the OneAPI gateway refuses the token, not the service (tests/recorded/zpa.jsonl, ztw.jsonl)
    gateway = {"detail": "unauthorized", "status": "", "title": "", "type": ""}
    zia = client.get("/zia/api/v1/users")
    assert zia.status_code == 401 and zia.json() == gateway
    assert zia.headers["www-authenticate"].startswith("Bearer")
    for path in (f"{ZPA}/application", "/zdx/v1/apps", "/zcc/papi/public/v1/getDevices?osType=1",
                 "/ziam/admin/api/v1/users", "/ztw/api/v1/locationTemplate"):
        other = client.get(path, headers={"Authorization": "Bearer not-a-mock-token"})
        assert other.status_code == 401 and other.json() == gateway, path


def test_token_requests_are_counted_apart_from_api_requests(client):
    mock = client.app
    client.post(TOKEN_PATH, data=_form())
    client.get("/zia/api/v1/users")
    assert mock.requests.token == 1
    assert mock.requests.total == 1 and mock.requests["zia"] == 1

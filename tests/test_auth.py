"""OneAPI OAuth: driven through httpx with an injected transport, no network."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oneapi_mcp._auth import AUDIENCE, AuthError, OneAPIAuth

pytestmark = pytest.mark.anyio

TOKEN_URL = "https://acme.zslogin.net/oauth2/v1/token"


class FakeTenant:
    def __init__(self, expires_in: int = 3600, secret: str = "fake-secret-1"):
        self.token_requests: list[dict] = []
        self.api_calls = 0
        self.expires_in = expires_in
        self.secret = secret
        self.valid: set[str] = set()
        self.reject_next = False

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.token_requests.append(form)
            await asyncio.sleep(0.01)  # let concurrent callers pile up behind the lock
            if form.get("audience") != AUDIENCE:
                return httpx.Response(400, json={"error": "invalid_request"})
            if "client_secret" in form and form["client_secret"] != self.secret:
                return httpx.Response(401, json={"error": "invalid_client", "error_description": "bad secret"})
            token = f"tok-{len(self.token_requests)}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                             "expires_in": self.expires_in})
        self.api_calls += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.reject_next or token not in self.valid:
            self.reject_next = False
            return httpx.Response(401, json={"code": "SESSION_NOT_VALID", "message": "expired"})
        return httpx.Response(200, json={"ok": True, "token": token})


def _client(tenant: FakeTenant, auth: OneAPIAuth) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(tenant.handler), auth=auth)


async def test_a_hundred_concurrent_calls_on_a_cold_cache_make_one_token_request():
    tenant = FakeTenant()
    auth = OneAPIAuth(TOKEN_URL, "fake-client", client_secret=lambda: "fake-secret-1")
    async with _client(tenant, auth) as client:
        responses = await asyncio.gather(*(client.get("https://api.zsapi.net/zia/api/v1/status") for _ in range(100)))
    assert all(r.status_code == 200 for r in responses)
    assert len(tenant.token_requests) == 1
    form = tenant.token_requests[0]
    assert form == {"grant_type": "client_credentials", "client_id": "fake-client", "client_secret": "fake-secret-1",
                    "audience": AUDIENCE}


async def test_the_token_is_refreshed_sixty_seconds_before_it_expires():
    now = [1000.0]
    tenant = FakeTenant(expires_in=3600)
    auth = OneAPIAuth(TOKEN_URL, "fake-client", client_secret=lambda: "fake-secret-1", clock=lambda: now[0])
    async with _client(tenant, auth) as client:
        await client.get("https://api.zsapi.net/x")
        now[0] += 3600 - 61
        await client.get("https://api.zsapi.net/x")
        assert len(tenant.token_requests) == 1
        now[0] += 2
        await client.get("https://api.zsapi.net/x")
        assert len(tenant.token_requests) == 2


async def test_a_401_re_authenticates_once_and_retries_the_call():
    tenant = FakeTenant()
    auth = OneAPIAuth(TOKEN_URL, "fake-client", client_secret=lambda: "fake-secret-1")
    async with _client(tenant, auth) as client:
        await client.get("https://api.zsapi.net/x")
        tenant.reject_next = True
        response = await client.get("https://api.zsapi.net/x")
    assert response.status_code == 200 and response.json()["token"] == "tok-2"
    assert len(tenant.token_requests) == 2 and tenant.api_calls == 3


async def test_a_rotated_secret_is_read_again_after_an_auth_failure():
    tenant = FakeTenant(secret="fake-secret-2")
    current = ["fake-secret-1"]
    auth = OneAPIAuth(TOKEN_URL, "fake-client", client_secret=lambda: current[0])
    async with _client(tenant, auth) as client:
        with pytest.raises(AuthError, match="HTTP 401: bad secret") as info:
            await client.get("https://api.zsapi.net/x")
        assert "fake-secret-1" not in str(info.value)
        current[0] = "fake-secret-2"  # rotated in the vault; no restart
        response = await client.get("https://api.zsapi.net/x")
    assert response.status_code == 200


async def test_a_private_key_client_sends_an_rs256_assertion_with_iss_and_sub_set_to_the_client_id():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    tenant = FakeTenant()
    auth = OneAPIAuth(TOKEN_URL, "fake-client", private_key=lambda: pem)
    async with _client(tenant, auth) as client:
        await client.get("https://api.zsapi.net/x")
    form = tenant.token_requests[0]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    claims = jwt.decode(form["client_assertion"], key.public_key(), algorithms=["RS256"], audience=AUDIENCE)
    assert claims["iss"] == claims["sub"] == "fake-client"
    assert claims["exp"] - claims["iat"] == 600
    assert json.loads(json.dumps(claims))

"""The streamable-HTTP surface as a tester meets it: a real server on 127.0.0.1 with API keys and a
JWKS, stateful sessions. Replays the defences that held (API keys, every kind of bad JWT, Host 421,
Origin 403, public binds refused, the 4 MiB body limit) so they stay held, and a body nested to any
depth, which gets a JSON-RPC parse error (400) and no traceback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import httpx
import jwt
import pytest
from _http_helpers import HEADERS, INITIALIZE, KEY, KEY_B, LEGACY, LIST, JwtIssuer, LiveServer, app, bearer, two_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oneapi_mcp._http_security import HttpSecurity
from oneapi_mcp._ports import free_port
from oneapi_mcp.cli import main

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> JwtIssuer:
    return JwtIssuer(tmp_path_factory.mktemp("jwks"))


@pytest.fixture(scope="module")
def live(issuer):
    security = HttpSecurity(api_keys=two_keys().api_keys, jwt=issuer.verifier)
    with LiveServer(app(security, stateless=False, json_response=True)) as server:
        yield server


@pytest.fixture
def http(live):
    with httpx.Client(base_url=live.base, timeout=30) as client:
        yield client


@pytest.fixture
def server_errors():
    """What uvicorn logs at ERROR (an exception in the app, with its traceback) during the test."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _session(http: httpx.Client) -> str:
    return http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer(KEY)}).headers["mcp-session-id"]


# -- a body nested to any depth ---------------------------------------------------------------------
@pytest.mark.parametrize("depth", [300, 5_000, 100_000, 4 * MIB - 1])
@pytest.mark.parametrize("where", ["opening a session", "in a session", "2026-07-28"])
@pytest.mark.parametrize("bracket", [b"[", b'{"a":'])
def test_a_body_nested_to_any_depth_gets_a_json_rpc_parse_error_and_no_traceback(http, server_errors, depth, where,
                                                                                bracket):
    headers = {**LEGACY, **bearer(KEY)}
    if where == "in a session":
        headers = {**HEADERS, **bearer(KEY), "mcp-session-id": _session(http)}
    elif where == "2026-07-28":
        headers["mcp-protocol-version"] = "2026-07-28"
    body = (bracket * depth)[: 4 * MIB]  # within the body limit
    answer = http.post("/mcp", content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32700  # JSON-RPC parse error
    assert "Traceback" not in answer.text and "RecursionError" not in answer.text
    assert server_errors == []


# -- API keys and JWTs --------------------------------------------------------------------------------
def test_only_a_stored_api_key_opens_the_door_by_either_header(http):
    missing = http.post("/mcp", json=INITIALIZE, headers=LEGACY)
    wrong = http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer("fake-wrong-key")})
    hash_itself = http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer(two_keys().api_keys["a"])})
    by_bearer = http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer(KEY_B)})
    by_header = http.post("/mcp", json=INITIALIZE, headers={**LEGACY, "X-API-Key": KEY})
    assert missing.status_code == wrong.status_code == hash_itself.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert by_bearer.status_code == by_header.status_code == 200


def _unsigned(header: dict, claims: dict, sign=None) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = base64.urlsafe_b64encode(sign(signing_input.encode())).rstrip(b"=").decode() if sign else ""
    return f"{signing_input}.{signature}"


def _bad_jwts(issuer: JwtIssuer) -> dict[str, str]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    good = issuer.token()
    header, payload, signature = good.split(".")
    return {
        "wrong signature": issuer.token(key=stranger),
        "tampered claims": f"{header}.{_unsigned({}, issuer.claims(sub='admin')).split('.')[1]}.{signature}",
        "expired": issuer.token(exp=1_600_000_000, iat=1_599_999_000),
        "not yet valid": issuer.token(nbf=4_000_000_000),
        "wrong audience": issuer.token(aud="someone-else"),
        "wrong issuer": issuer.token(iss="https://evil.example.test"),
        "missing sub": issuer.token(sub=None),
        "missing exp": issuer.token(exp=None),
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": "k1"}, issuer.claims()),
        "HS256 keyed with the public key": _unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": "k1"}, issuer.claims(),
            lambda data: hmac.new(public_pem, data, hashlib.sha256).digest()),
        "unknown kid": jwt.encode(issuer.claims(), issuer.key, algorithm="RS256", headers={"kid": "k9"}),
        "not a JWT": "fake.not-a.jwt",
    }


def test_every_kind_of_bad_jwt_gets_401_and_a_good_one_opens_a_session(http, issuer):
    answers = {kind: http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer(token)}).status_code
               for kind, token in _bad_jwts(issuer).items()}
    good = http.post("/mcp", json=INITIALIZE, headers={**LEGACY, **bearer(issuer.token())})
    assert answers == dict.fromkeys(answers, 401)
    assert good.status_code == 200 and good.headers["mcp-session-id"]


# -- Host, Origin ---------------------------------------------------------------------------------------
def test_a_foreign_host_gets_421_and_a_foreign_origin_403_even_with_a_valid_key(http, live):
    authed = {**LEGACY, **bearer(KEY)}
    rebinding = http.post("/mcp", json=INITIALIZE, headers={**authed, "Host": "attacker.example"})
    rebinding_port = http.post("/mcp", json=INITIALIZE, headers={**authed, "Host": f"attacker.example:{live.port}"})
    cross_site = http.post("/mcp", json=INITIALIZE, headers={**authed, "Origin": "https://attacker.example"})
    null_origin = http.post("/mcp", json=INITIALIZE, headers={**authed, "Origin": "null"})
    local = http.post("/mcp", json=INITIALIZE, headers={**authed, "Origin": f"http://localhost:{live.port}"})
    assert rebinding.status_code == rebinding_port.status_code == 421
    assert cross_site.status_code == null_origin.status_code == 403
    assert local.status_code == 200


# -- binds --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_refuses_a_non_loopback_bind_without_authentication_and_listens_on_nothing(capsys, host):
    port = free_port()
    assert main(["serve", "--transport", "http", "--host", host, "--port", str(port), "--mock"]) == 2
    assert f"refusing to serve HTTP on {host} without client authentication" in capsys.readouterr().err
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


# -- the body limit -------------------------------------------------------------------------------------
def test_a_body_over_4_mib_gets_413_declared_or_streamed_and_one_within_it_is_read(http):
    session = _session(http)
    headers = {**HEADERS, **bearer(KEY), "mcp-session-id": session}
    padded = dict(LIST, params={"_meta": {"padding": ""}})
    room = 4 * MIB - len(json.dumps(padded, separators=(",", ":")))
    within = dict(LIST, params={"_meta": {"padding": "x" * room}})
    over = json.dumps(dict(LIST, params={"_meta": {"padding": "x" * (room + 1)}}), separators=(",", ":")).encode()

    def chunks():
        for start in range(0, len(over), 256 * 1024):
            yield over[start:start + 256 * 1024]

    declared = http.post("/mcp", content=over, headers=headers)
    streamed = http.post("/mcp", content=chunks(), headers=headers)  # chunked: no content-length to go by
    fits = http.post("/mcp", content=json.dumps(within, separators=(",", ":")).encode(), headers=headers)
    assert len(over) == 4 * MIB + 1
    assert declared.status_code == streamed.status_code == 413
    assert fits.status_code == 200 and fits.json()["result"]["tools"]

"""Streamable HTTP security, in process (Starlette's TestClient runs the app and its lifespan; no
socket): /healthz, API keys stored hashed, JWTs against a JWKS (a file: URL), Host 421, Origin 403,
and the binds that are refused."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from oneapi_mcp._http_security import HttpSecurity, JwtVerifier, hash_api_key, parse_api_key_hashes
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ConfigError, ServerSettings
from oneapi_mcp.cli import http_app, main

KEY = "fake-api-key-for-ci"
BASE = "http://127.0.0.1:8000"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
           "mcp-protocol-version": "2025-11-25"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def _app(security: HttpSecurity, tmp_path=None):
    settings = ServerSettings(audit_log=tmp_path / "audit.jsonl") if tmp_path else ServerSettings()
    server = build_server(Runtime(settings=settings, executor_factory=lambda c: None))
    return http_app({"default": server}, stateless=True, json_response=True, host="127.0.0.1", security=security)


def _post(client, body=LIST, **headers):
    return client.post("/mcp", json=body, headers={**HEADERS, **headers})


def test_healthz_needs_no_auth_and_mcp_needs_a_key_that_matches_a_stored_hash(tmp_path):
    security = HttpSecurity(api_keys=parse_api_key_hashes([f"ci:{hash_api_key(KEY)}"]))
    with TestClient(_app(security, tmp_path), base_url=BASE) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        missing = _post(client)
        wrong = _post(client, Authorization="Bearer fake-wrong-key")
        listed = _post(client, Authorization=f"Bearer {KEY}")
        header = _post(client, **{"X-API-Key": KEY})
        call = _post(client, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                              "params": {"name": "describe_operation", "arguments": {"name": "zia_list_users"}}},
                     Authorization=f"Bearer {KEY}")
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert listed.status_code == header.status_code == 200
    assert listed.json()["result"]["tools"][0]["name"] == "search_operations"
    assert call.status_code == 200
    record = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[0])
    assert record["client"] == "apikey:ci" and record["tool"] == "describe_operation"


def test_a_foreign_host_gets_421_and_a_foreign_origin_403():
    security = HttpSecurity(api_keys={"ci": hash_api_key(KEY)})
    with TestClient(_app(security), base_url=BASE) as client:
        rebinding = _post(client, Host="attacker.example:8000", Authorization=f"Bearer {KEY}")
        cross_site = _post(client, Origin="https://attacker.example", Authorization=f"Bearer {KEY}")
        local = _post(client, Origin="http://localhost:8000", Authorization=f"Bearer {KEY}")
    assert rebinding.status_code == 421 and cross_site.status_code == 403 and local.status_code == 200


def test_a_jwt_is_verified_against_the_jwks_with_issuer_and_audience(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    verifier = JwtVerifier((tmp_path / "jwks.json").as_uri(), "https://idp.example.test", "oneapi-mcp")

    def token(**claims):
        now = int(time.time())
        body = {"iss": "https://idp.example.test", "aud": "oneapi-mcp", "sub": "agent-7", "iat": now,
                "exp": now + 300, **claims}
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})

    with TestClient(_app(HttpSecurity(jwt=verifier)), base_url=BASE) as client:
        good = _post(client, Authorization=f"Bearer {token()}")
        other_audience = _post(client, Authorization=f"Bearer {token(aud='someone-else')}")
        other_issuer = _post(client, Authorization=f"Bearer {token(iss='https://evil.example.test')}")
    assert good.status_code == 200
    assert other_audience.status_code == other_issuer.status_code == 401


def test_a_non_loopback_bind_is_refused_without_auth_and_plain_http_without_tls_or_a_proxy():
    HttpSecurity().check_bind("127.0.0.1")
    with pytest.raises(ConfigError, match="without client authentication"):
        HttpSecurity().check_bind("0.0.0.0")
    with pytest.raises(ConfigError, match="refusing plain HTTP on 10.0.0.5"):
        HttpSecurity(api_keys={"ci": hash_api_key(KEY)}).check_bind("10.0.0.5")
    HttpSecurity(api_keys={"ci": hash_api_key(KEY)}, behind_tls_proxy=True).check_bind("10.0.0.5")
    with pytest.raises(ConfigError, match="sha256:<64 hex digits>"):
        parse_api_key_hashes([KEY])  # a key in clear is not a hash


def test_serve_refuses_a_public_bind_without_auth_before_listening(capsys):
    assert main(["serve", "--transport", "http", "--host", "0.0.0.0", "--mock"]) == 2
    assert "refusing to serve HTTP on 0.0.0.0 without client authentication" in capsys.readouterr().err

"""Streamable HTTP security, in process (Starlette's TestClient runs the app and its lifespan; no
socket): /healthz, API keys stored hashed, JWTs against a JWKS (a file: URL), Host 421, Origin 403,
and the binds that are refused."""

from __future__ import annotations

import json

import pytest
from _http_helpers import BASE, KEY, JwtIssuer, app, post
from starlette.testclient import TestClient

from oneapi_mcp._http_security import HttpSecurity, hash_api_key, parse_api_key_hashes
from oneapi_mcp._settings import ConfigError
from oneapi_mcp.cli import main


def _app(security: HttpSecurity, tmp_path=None):
    return app(security, **({"audit_log": tmp_path / "audit.jsonl"} if tmp_path else {}))


def test_healthz_needs_no_auth_and_mcp_needs_a_key_that_matches_a_stored_hash(tmp_path):
    security = HttpSecurity(api_keys=parse_api_key_hashes([f"ci:{hash_api_key(KEY)}"]))
    with TestClient(_app(security, tmp_path), base_url=BASE) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        missing = post(client)
        wrong = post(client, Authorization="Bearer fake-wrong-key")
        listed = post(client, Authorization=f"Bearer {KEY}")
        header = post(client, **{"X-API-Key": KEY})
        call = post(client, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
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
        rebinding = post(client, Host="attacker.example:8000", Authorization=f"Bearer {KEY}")
        cross_site = post(client, Origin="https://attacker.example", Authorization=f"Bearer {KEY}")
        local = post(client, Origin="http://localhost:8000", Authorization=f"Bearer {KEY}")
    assert rebinding.status_code == 421 and cross_site.status_code == 403 and local.status_code == 200


def test_a_jwt_is_verified_against_the_jwks_with_issuer_and_audience(tmp_path):
    issuer = JwtIssuer(tmp_path)
    with TestClient(_app(HttpSecurity(jwt=issuer.verifier)), base_url=BASE) as client:
        good = post(client, Authorization=f"Bearer {issuer.token()}")
        other_audience = post(client, Authorization=f"Bearer {issuer.token(aud='someone-else')}")
        other_issuer = post(client, Authorization=f"Bearer {issuer.token(iss='https://evil.example.test')}")
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

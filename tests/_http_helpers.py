"""Helpers shared by the HTTP security tests: the app behind the security middleware, API keys and
JWTs that are obviously fake, and a live server on 127.0.0.1 (uvicorn in a thread, lifespan on)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from oneapi_mcp._http_security import HttpSecurity, JwtVerifier, hash_api_key, parse_api_key_hashes
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.cli import http_app

KEY = "fake-api-key-for-ci"
KEY_B = "fake-api-key-for-ci-other-client"
BASE = "http://127.0.0.1:8000"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
           "mcp-protocol-version": "2025-11-25"}
LEGACY = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "sec-test", "version": "1"}}}
ISSUER, AUDIENCE = "https://idp.example.test", "oneapi-mcp"


def two_keys() -> HttpSecurity:
    """API keys for two clients, `a` and `b`."""
    return HttpSecurity(api_keys=parse_api_key_hashes([f"a:{hash_api_key(KEY)}", f"b:{hash_api_key(KEY_B)}"]))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def app(security: HttpSecurity | None, *, stateless: bool = True, json_response: bool = True,
        executor_factory: Any = lambda catalog: None, **settings: Any):
    server = build_server(Runtime(settings=ServerSettings(**settings), executor_factory=executor_factory,
                                  customer_id_known=True))
    return http_app({"default": server}, stateless=stateless, json_response=json_response, host="127.0.0.1",
                    security=security)


def post(client, body: Any = LIST, **headers: str):
    return client.post("/mcp", json=body, headers={**HEADERS, **headers})


class JwtIssuer:
    """An RSA key, its JWKS in a file, a verifier for it, and tokens signed with it."""

    def __init__(self, directory: Path):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        path = directory / "jwks.json"
        path.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
        self.verifier = JwtVerifier(path.as_uri(), ISSUER, AUDIENCE)

    def claims(self, **claims: Any) -> dict[str, Any]:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "agent-7", "iat": now, "exp": now + 300, **claims}
        return {k: v for k, v in body.items() if v is not None}  # None: leave the claim out

    def token(self, key: Any = None, algorithm: str = "RS256", **claims: Any) -> str:
        return jwt.encode(self.claims(**claims), key or self.key, algorithm=algorithm, headers={"kid": "k1"})


class LiveServer:
    """Serve an ASGI app (with its lifespan) on a free 127.0.0.1 port for a `with` block."""

    def __init__(self, asgi: Any):
        import uvicorn

        from oneapi_mcp.mock._cli import bind_socket

        self.sock = bind_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server under test did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(5)
        self.sock.close()

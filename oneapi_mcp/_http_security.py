"""Streamable HTTP security: client authentication, Host/Origin checks, and safe binds.

Clients authenticate with a static API key (`Authorization: Bearer <key>` or `X-API-Key`; only its
sha256 is configured) or a JWT verified against a JWKS (issuer and audience checked). A bad Host
gets 421 and a foreign Origin 403 (DNS rebinding). `/healthz` and `/readyz` need no auth and no
Host match (probes come by pod address). `/metrics` is checked like `/mcp` unless `metrics_public`
(scrapers inside the network, by pod address, with no key): it holds counts per server and tool,
never arguments, client identities or secrets. A non-loopback bind is refused without client auth,
and plain HTTP on one needs TLS files or `--behind-tls-proxy`.

An authenticated client's identity (`apikey:<key id>` or `jwt:<sub>`) owns the stateful sessions it
opens: the SDK answers another identity's POST, GET or DELETE with 404, as for an unknown session.
Each identity may hold `sessions_per_client` of them (see `_http_sessions.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ._http_sessions import SessionLimitExceeded, SessionLimits
from ._settings import ConfigError

__all__ = ["HttpSecurity", "JwtVerifier", "SecurityMiddleware", "hash_api_key", "is_loopback"]

_LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]")


def hash_api_key(key: str) -> str:
    """What the config stores for an API key: `sha256:<hex>`."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class JwtVerifier:
    """Verifies RS256/ES256 bearer JWTs against a JWKS, with issuer and audience. The JWKS is an
    https URL (keys cached and refetched for an unknown kid) or a `file:` URL (read at start)."""

    def __init__(self, jwks_url: str, issuer: str, audience: str):
        import jwt

        self._jwt = jwt
        self.client = None
        self.keys = None
        if jwks_url.startswith("file:"):
            from pathlib import Path
            from urllib.parse import urlparse
            from urllib.request import url2pathname

            self.keys = jwt.PyJWKSet.from_dict(json.loads(Path(url2pathname(urlparse(jwks_url).path)).read_text()))
        else:
            self.client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300)
        self.issuer = issuer
        self.audience = audience

    def _key(self, token: str) -> Any:
        if self.client is not None:
            return self.client.get_signing_key_from_jwt(token).key
        kid = self._jwt.get_unverified_header(token).get("kid")
        keys = self.keys.keys if self.keys is not None else []
        for key in keys:
            if key.key_id == kid or (kid is None and len(keys) == 1):
                return key.key
        raise ValueError("no JWKS key for this token's kid")

    def verify(self, token: str) -> str | None:
        """The token's subject when it is valid, else None."""
        jwt = self._jwt
        try:
            claims = jwt.decode(token, self._key(token), algorithms=["RS256", "ES256"], audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, ValueError):
            return None
        return str(claims["sub"])


@dataclass
class HttpSecurity:
    """The HTTP security settings of one `serve --transport http` process."""

    api_keys: dict[str, str] = field(default_factory=dict)  # key id -> "sha256:<hex>"
    jwt: JwtVerifier | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    tls: bool = False
    behind_tls_proxy: bool = False
    metrics_public: bool = False  # /metrics without auth or Host check (a scraper inside the network)

    @property
    def has_auth(self) -> bool:
        return bool(self.api_keys) or self.jwt is not None

    def check_bind(self, host: str) -> None:
        """Refuse a bind that would expose the tenant: non-loopback without auth, or without TLS."""
        if is_loopback(host):
            return
        if not self.has_auth:
            raise ConfigError(f"refusing to serve HTTP on {host} without client authentication: configure API "
                              "keys (--api-key-hash, stored as sha256) or a JWKS (--jwks-url with --jwt-issuer and "
                              "--jwt-audience), or bind 127.0.0.1")
        if not (self.tls or self.behind_tls_proxy):
            raise ConfigError(f"refusing plain HTTP on {host}: give --tls-certfile and --tls-keyfile, or say "
                              "--behind-tls-proxy when a TLS-terminating proxy is in front")

    def hosts_for(self, bind_host: str) -> tuple[str, ...]:
        if self.allowed_hosts:
            return self.allowed_hosts
        return _LOOPBACK_HOSTS if is_loopback(bind_host) else (bind_host, f"{bind_host}:*")

    def identify(self, token: str | None) -> str | None:
        """The client's identity for a presented credential, or None."""
        if not token:
            return None
        digest = hash_api_key(token)
        for key_id, stored in self.api_keys.items():
            if hmac.compare_digest(digest, stored.lower()):
                return f"apikey:{key_id}"
        if self.jwt is not None:
            subject = self.jwt.verify(token)
            if subject:
                return f"jwt:{subject}"
        return None


def parse_api_key_hashes(values: Iterable[str]) -> dict[str, str]:
    """`id:sha256:<hex>` or `sha256:<hex>` (id = a hash prefix) -> {id: "sha256:<hex>"}."""
    out: dict[str, str] = {}
    for raw in values:
        raw = raw.strip()
        if not raw:
            continue
        key_id, _, rest = raw.partition(":") if not raw.startswith("sha256:") else ("", "", raw)
        digest = rest if rest.startswith("sha256:") else ""
        hexpart = digest.removeprefix("sha256:")
        if len(hexpart) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hexpart):
            raise ConfigError("an API key hash must be 'sha256:<64 hex digits>' (optionally 'ID:sha256:...'); "
                              "make one with `oneapi-mcp hash-key`")
        out[key_id or hexpart[:8]] = digest.lower()
    return out


class SecurityMiddleware:
    """ASGI middleware in front of the MCP app: /healthz, Host (421), Origin (403), auth (401); /readyz
    (and /metrics when public) pass to the app unchecked."""

    def __init__(self, app: Any, security: HttpSecurity, bind_host: str, sessions: SessionLimits | None = None):
        from mcp.server.auth.middleware.auth_context import AuthContextMiddleware

        self.app = app
        self._with_auth_context = AuthContextMiddleware(app)
        self.sessions = sessions
        self.security = security
        self.hosts = security.hosts_for(bind_host)
        self.origins = security.allowed_origins

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if scope.get("path") == "/healthz":
            await _respond(send, 200, {"status": "ok"})
            return
        if scope.get("path") == "/readyz" or (scope.get("path") == "/metrics" and self.security.metrics_public):
            await self.app(scope, receive, send)
            return
        host = headers.get("host", "")
        if not any(fnmatchcase(host, pattern) for pattern in self.hosts):
            await _respond(send, 421, {"error": "misdirected_request", "message": f"host {host!r} is not served here"})
            return
        origin = headers.get("origin")
        if origin and not any(fnmatchcase(origin, pattern) for pattern in self.origins or _default_origins(self.hosts)):
            await _respond(send, 403, {"error": "forbidden", "message": f"origin {origin!r} is not allowed"})
            return
        if self.security.has_auth:
            token = headers.get("x-api-key")
            auth = headers.get("authorization", "")
            if not token and auth.lower().startswith("bearer "):
                token = auth[7:].strip()
            identity = await _identify(self.security, token)
            if identity is None:
                await _respond(send, 401, {"error": "unauthorized", "message": "a valid API key or bearer token is "
                                           "required"}, {"www-authenticate": 'Bearer realm="oneapi-mcp"'})
                return
            scope["oneapi_mcp.client"] = identity
            # the SDK binds a stateful session to `scope["user"]` (another principal gets 404, as for an
            # unknown session) and a 2026-07-28 requestState to the access token of the auth context
            scope["user"] = _principal(identity, self.security.jwt)
            if self.sessions is None:
                await self._with_auth_context(scope, receive, send)
                return
            try:
                admitted = await self.sessions.admit(scope, identity)
            except SessionLimitExceeded as exc:
                await _respond(send, 429, {"jsonrpc": "2.0", "id": None, "error": {"code": -32000,
                                                                                    "message": str(exc)}})
                return
            try:
                await self._with_auth_context(scope, receive, admitted.send(send))
            finally:
                admitted.release()
            return
        await self.app(scope, receive, send)


async def _identify(security: HttpSecurity, token: str | None) -> str | None:
    if security.jwt is None or not token:
        return security.identify(token)
    import anyio

    return await anyio.to_thread.run_sync(security.identify, token)  # JWKS fetches block


def _principal(identity: str, jwt: JwtVerifier | None) -> Any:
    """The SDK's authenticated user for an identity. It holds no credential: the SDK compares only
    (client_id, issuer, subject), and nothing downstream needs the key or token itself."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken

    kind, _, subject = identity.partition(":")
    issuer = jwt.issuer if kind == "jwt" and jwt is not None else None
    return AuthenticatedUser(AccessToken(token="", client_id=identity, scopes=[], subject=subject,
                                         claims={"iss": issuer} if issuer else None))


def _default_origins(hosts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{scheme}://{h}" for h in hosts for scheme in ("http", "https"))


async def _respond(send: Any, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})

"""The ZIdentity token endpoint and bearer-token checks.

The mock credentials are fake on purpose: `mock-client-id` / `mock-client-secret`. A private-key
JWT assertion is accepted when it is well formed and its `iss` and `sub` are the client id; its
signature is not checked (the mock holds no public key).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs

__all__ = [
    "AUDIENCE",
    "JWT_BEARER",
    "MOCK_CLIENT_ID",
    "MOCK_CLIENT_SECRET",
    "TOKEN_PATH",
    "TokenIssuer",
]

MOCK_CLIENT_ID = "mock-client-id"
MOCK_CLIENT_SECRET = "mock-client-secret"
AUDIENCE = "https://api.zscaler.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/oauth2/v1/token"


def _oauth_error(status: int, error: str, description: str) -> tuple[int, dict]:
    return status, {"error": error, "error_description": description}


def _jwt_claims(token: str) -> dict | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2]]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    header, claims = decoded
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return claims


class TokenIssuer:
    """Issues opaque bearer tokens and remembers when each one expires."""

    def __init__(self, lifetime: int, clock: Callable[[], float]) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self, body: bytes, content_type: str) -> tuple[int, dict]:
        """Answer one token request: (status, JSON body)."""
        if "application/x-www-form-urlencoded" not in content_type:
            return _oauth_error(400, "invalid_request", "send a form body (application/x-www-form-urlencoded)")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if not form.get("audience"):
            return _oauth_error(400, "invalid_request", f"audience is required (audience={AUDIENCE})")
        if form["audience"] != AUDIENCE:
            return _oauth_error(400, "invalid_request", f"unknown audience; use {AUDIENCE}")
        client_id = form.get("client_id", "")
        if "client_assertion" in form:
            if form.get("client_assertion_type") != JWT_BEARER:
                return _oauth_error(400, "invalid_request", f"client_assertion_type must be {JWT_BEARER}")
            claims = _jwt_claims(form["client_assertion"])
            if claims is None:
                return _oauth_error(400, "invalid_request", "client_assertion is not a well-formed JWT")
            issuer = claims.get("iss")
            expired = isinstance(claims.get("exp"), (int, float)) and claims["exp"] < self.clock()
            if issuer != MOCK_CLIENT_ID or claims.get("sub") != issuer or client_id not in ("", issuer) or expired:
                return _oauth_error(
                    401, "invalid_client", "client assertion rejected: iss and sub must be the client id"
                )
        elif client_id != MOCK_CLIENT_ID or form.get("client_secret") != MOCK_CLIENT_SECRET:
            return _oauth_error(401, "invalid_client", "unknown client id or wrong client secret")
        token = "mock." + secrets.token_urlsafe(24)
        self._expiry[token] = self.clock() + self.lifetime
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        expiry = self._expiry.get(authorization[7:].strip())
        return expiry is not None and self.clock() < expiry

    def mint(self) -> str:
        """A valid token without a request (for in-process tests and the embedded server)."""
        token = "mock." + secrets.token_urlsafe(24)
        self._expiry[token] = self.clock() + self.lifetime
        return token

    def reset(self) -> None:
        self._expiry.clear()

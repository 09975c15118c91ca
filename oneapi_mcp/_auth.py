"""OAuth2 client credentials against ZIdentity, as an `httpx.Auth`.

The token is cached and refreshed 60 s before it expires; concurrent calls share one refresh
(an asyncio lock around the token request); a 401, or a ZIA session-invalid body, triggers one
re-authentication and one retry. The secret is read through a callable each time a token is
requested, so a rotated secret takes effect without a restart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, Callable

import httpx

__all__ = ["AUDIENCE", "AuthError", "OneAPIAuth"]

AUDIENCE = "https://api.zscaler.com"
_REFRESH_MARGIN = 60.0
_SESSION_INVALID = ("SESSION_NOT_VALID", "Session already invalidated", "Resource Access Blocked")


class AuthError(Exception):
    """The token endpoint refused us; the message says why without repeating any secret."""


class OneAPIAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        *,
        client_secret: Callable[[], str | None] | None = None,
        private_key: Callable[[], str | None] | None = None,
        audience: str = AUDIENCE,
        clock: Callable[[], float] = time.time,
        on_token: Callable[[str], None] | None = None,
    ):
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self._private_key = private_key
        self.audience = audience
        self._clock = clock
        self._on_token = on_token  # e.g. register the bearer token for redaction
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.token_requests = 0

    # -- the token request -------------------------------------------------------------------
    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "audience": self.audience}
        key = self._private_key() if self._private_key else None
        if key:
            import jwt  # PyJWT, only needed for private-key clients

            now = int(self._clock())
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = jwt.encode(
                {"iss": self.client_id, "sub": self.client_id, "aud": self.audience, "iat": now,
                 "exp": now + 600, "jti": uuid.uuid4().hex},
                key, algorithm="RS256")
        else:
            secret = self._secret() if self._secret else None
            if not secret:
                raise AuthError("no client secret or private key is available for the token request")
            form["client_secret"] = secret
        return form

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=self._form(),
                             headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            try:
                body = response.json()
                why = body.get("error_description") or body.get("error") or body.get("message") or ""
            except ValueError:
                why = response.text[:200]
            raise AuthError(f"token request to {self.token_url} failed with HTTP {response.status_code}"
                            + (f": {why}" if why else ""))
        body = response.json()
        self._token = body["access_token"]
        if self._on_token is not None:
            self._on_token(self._token)
        self._expires_at = self._clock() + float(body.get("expires_in", 3600))
        self.token_requests += 1

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - _REFRESH_MARGIN

    def invalidate(self, token: str | None = None) -> None:
        if token is None or token == self._token:
            self._token = None
            self._expires_at = 0.0

    # -- the flow ------------------------------------------------------------------------------
    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # Overriding async_auth_flow means reading response bodies ourselves (httpx only does it for
        # the default flow), so every yielded response is read before it is inspected.
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self._accept(token_response)
        token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code in (401, 403):
            await response.aread()
        if response.status_code == 401 or (
                response.status_code == 403 and any(s in response.text for s in _SESSION_INVALID)):
            async with self._lock:
                if self._token == token:
                    self.invalidate(token)
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self._accept(token_response)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def sync_auth_flow(self, request):  # pragma: no cover - the server is async only
        raise RuntimeError("OneAPIAuth is for httpx.AsyncClient")

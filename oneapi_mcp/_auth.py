"""OAuth2 client credentials against ZIdentity, as an `httpx.Auth`.

The token is cached and refreshed 60 s before it expires; concurrent calls share one refresh
(an asyncio lock around the token request); a 401, or a ZIA session-invalid body, triggers one
re-authentication and one retry. The secret is read through a callable each time a token is
requested, so a rotated secret takes effect without a restart.

With `redis_url` (replicas), the token is shared through Redis: a replica whose own copy is not
fresh reads the shared one; if that is missing or due, one replica takes the refresh lock and
fetches it while the others wait and then read it; a 401 deletes the shared token only if it is
still the rejected one, so many replicas rejected at once refresh once. The secret never goes to
Redis; the token does (that is the point), never to a log.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, Callable

import httpx

from ._redact import register_secret, scrub

__all__ = ["AUDIENCE", "AuthError", "OneAPIAuth"]

AUDIENCE = "https://api.zscaler.com"
_REFRESH_MARGIN = 60.0
_SHARED_POLL = 0.05  # seconds between looks at Redis while another replica fetches the token
_SHARED_WAIT = 20.0  # longer than the refresh lock lives: by then we hold the lock ourselves
_SESSION_INVALID = ("SESSION_NOT_VALID", "Session already invalidated", "Resource Access Blocked")


class AuthError(Exception):
    """The token endpoint refused us; the message says why without repeating any secret: it passes
    through `scrub`, so an endpoint or proxy that echoes the request shows no secret in any encoding."""

    def __init__(self, message: str):
        super().__init__(scrub(message))


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
        redis_url: str | None = None,
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
        self.tokens_from_redis = 0  # tokens another replica fetched, read from Redis
        self._shared = None
        if redis_url:
            from ._redis import SharedToken

            self._shared = SharedToken(redis_url, token_url, client_id, audience)

    # -- the token request -------------------------------------------------------------------
    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "audience": self.audience}
        key = self._private_key() if self._private_key else None
        if key:
            register_secret(key)
            import jwt  # PyJWT, only needed for private-key clients

            now = int(self._clock())
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = jwt.encode(
                {"iss": self.client_id, "sub": self.client_id, "aud": self.audience, "iat": now,
                 "exp": now + 600, "jti": uuid.uuid4().hex},
                key, algorithm="RS256")
            register_secret(form["client_assertion"])
        else:
            secret = self._secret() if self._secret else None
            if not secret:
                raise AuthError("no client secret or private key is available for the token request")
            register_secret(secret)  # however it was read (settings, a vault plugin, rotation)
            form["client_secret"] = secret
        return form

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=self._form(),
                             headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            why = ""
            if isinstance(body, dict):
                why = str(body.get("error_description") or body.get("error") or body.get("message") or "")
            elif body is None:
                why = scrub(response.text)[:200]  # scrubbed before the cut, which could keep half a secret
            raise AuthError(f"token request to {self.token_url} failed with HTTP {response.status_code}"
                            + (f": {why}" if why else ""))
        if not (isinstance(body, dict) and isinstance(body.get("access_token"), str)):
            kind = response.headers.get("content-type", "no content type")  # not the body: it may hold a token
            raise AuthError(f"token request to {self.token_url} answered HTTP 200 with no access_token in its "
                            f"body ({kind}); is the token URL right?")
        self._adopt(body["access_token"], float(body.get("expires_in", 3600)))
        self.token_requests += 1

    def _adopt(self, token: str, lifetime: float) -> None:
        self._token = token
        if self._on_token is not None:
            self._on_token(token)
        self._expires_at = self._clock() + lifetime

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - _REFRESH_MARGIN

    def invalidate(self, token: str | None = None) -> None:
        if token is None or token == self._token:
            self._token = None
            self._expires_at = 0.0

    # -- shared through Redis -------------------------------------------------------------------
    async def _adopt_shared(self) -> bool:
        """Take the token another replica stored, if it is not due for a refresh itself."""
        if self._shared is None:
            return False
        found = await self._shared.read()
        if found is None or found[1] <= _REFRESH_MARGIN:
            return False
        self._adopt(*found)
        self.tokens_from_redis += 1
        return True

    async def _obtain(self) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Make the cached token fresh, yielding the token request if this process must send it."""
        if self._shared is None:
            token_response = yield self._token_request()
            await token_response.aread()
            self._accept(token_response)
            return
        for _ in range(int(_SHARED_WAIT / _SHARED_POLL)):
            if await self._adopt_shared():
                return
            lock = await self._shared.lock()
            if lock is None:  # another replica is fetching it: read it once stored
                await asyncio.sleep(_SHARED_POLL)
                continue
            try:
                if await self._adopt_shared():  # stored between our read and our lock
                    return
                token_response = yield self._token_request()
                await token_response.aread()
                self._accept(token_response)
                await self._shared.store(self._token or "", self._expires_at - self._clock())
            finally:
                await self._shared.unlock(lock)
            return
        raise AuthError(f"waited {_SHARED_WAIT:g} s for another replica to refresh the OAuth token through "
                        "Redis, and none did")

    async def _forget(self, token: str) -> None:
        """A rejected token: drop our copy, and the shared one unless a replica has replaced it."""
        self.invalidate(token)
        if self._shared is not None:
            await self._shared.invalidate(token)

    # -- the flow ------------------------------------------------------------------------------
    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # Overriding async_auth_flow means reading response bodies ourselves (httpx only does it for
        # the default flow), so every yielded response is read before it is inspected.
        rejected: str | None = None
        for _attempt in range(2):  # a rejected token gets one re-authentication and one retry
            if rejected is not None or not self._fresh():
                try:
                    async with self._lock:
                        if rejected is not None and self._token == rejected:
                            await self._forget(rejected)
                        if not self._fresh():
                            steps = self._obtain()  # driven by hand: an async generator cannot `yield from`
                            try:
                                step = await steps.__anext__()
                                while True:
                                    step = await steps.asend((yield step))
                            except StopAsyncIteration:
                                pass
                            finally:
                                await steps.aclose()  # its refresh lock is released even if we are closed
                except BaseException:
                    if rejected is None:
                        from ._redis import release_held_slot

                        await release_held_slot()  # the request is never sent: its rate-limit slot is free
                    raise
            token = self._token
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code in (401, 403):
                await response.aread()
            if not (response.status_code == 401 or (
                    response.status_code == 403 and any(s in response.text for s in _SESSION_INVALID))):
                return
            rejected = token

    def sync_auth_flow(self, request):  # pragma: no cover - the server is async only
        raise RuntimeError("OneAPIAuth is for httpx.AsyncClient")

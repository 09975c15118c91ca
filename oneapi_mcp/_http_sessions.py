"""Stateful streamable-HTTP sessions per client: how many one authenticated identity may hold open.

The SDK closes a session once no request has been in flight for `session_idle_timeout`, and caps the
sessions of a whole server (`max_sessions`, 503 beyond it). That cap alone let one API key take every
slot, so everyone else got 503. Here a request that would open a session (a handshake-era request
without `mcp-session-id`, on a stateful server) is refused with 429 and the reason when its identity
already holds `sessions_per_client` sessions there; other identities still get theirs. Sessions being
opened right now count too, so concurrent openings cannot overshoot the limit. Unauthenticated
clients (loopback without keys) have no identity to count by: only the server-wide cap applies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

__all__ = ["SessionLimitExceeded", "SessionLimits"]


class SessionLimitExceeded(Exception):
    """An identity holds as many sessions as it may; the message says what to do."""


class SessionLimits:
    """Per-identity session caps for the MCP paths of one HTTP app (path -> low-level `Server`,
    whose `session_manager` tracks the sessions and whose settings give `sessions_per_client`)."""

    def __init__(self, servers: Mapping[str, Any]):
        self._servers = dict(servers)
        for path, server in self._servers.items():
            # the SDK keeps who opened each session; counting them needs that record
            if not isinstance(getattr(server.session_manager, "_session_owners", None), dict):
                raise RuntimeError(f"{path}: this mcp SDK does not record session owners; per-client session "
                                   "limits cannot be enforced")
        self._opening: Counter[tuple[str, str]] = Counter()

    def hold(self, scope: dict, identity: str) -> AbstractContextManager[None]:
        """Admit this request: a context that counts it while it opens a session (nothing to count when
        it does not open one). Raises `SessionLimitExceeded` when `identity` holds its limit already.
        Checking and counting happen without an await in between, so concurrent requests see each other."""
        path = scope.get("path", "")
        server = self._servers.get(path)
        if server is None or server.session_manager.stateless or not _opens_session(scope):
            return nullcontext()
        limit = server.surface.settings.sessions_per_client
        key = (path, identity)
        held = _owned(server.session_manager, scope["user"]) + self._opening[key]
        if held >= limit:
            idle = server.session_manager.session_idle_timeout
            raise SessionLimitExceeded(
                f"client {identity!r} already holds {held} open MCP sessions on {path}, its limit "
                f"(sessions_per_client = {limit}); end one (HTTP DELETE with its mcp-session-id) or wait until an "
                f"idle one closes (session_idle_timeout = {idle:g} s), then initialize again")
        self._opening[key] += 1
        return self._opened(key)

    @contextmanager
    def _opened(self, key: tuple[str, str]) -> Iterator[None]:
        try:
            yield
        finally:  # by now the SDK has registered the session (counted by _owned) or discarded it
            self._opening[key] -= 1
            if self._opening[key] <= 0:
                del self._opening[key]


def _opens_session(scope: dict) -> bool:
    """Whether the SDK would open a session for this request: no session id, and a handshake-era (or
    absent) MCP-Protocol-Version; 2026-07-28 requests have no sessions."""
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        headers.setdefault(name, value)  # the first of repeated headers, as the SDK reads them
    version = headers.get(b"mcp-protocol-version")
    return b"mcp-session-id" not in headers and (
        version is None or version.decode("latin-1") in HANDSHAKE_PROTOCOL_VERSIONS)


def _owned(manager: Any, user: Any) -> int:
    """Open sessions of `user`'s principal, as the SDK's session manager records their owners."""
    from mcp.server.auth.middleware.bearer_auth import authorization_context

    owner = authorization_context(user)
    return sum(1 for other in list(manager._session_owners.values()) if other == owner)

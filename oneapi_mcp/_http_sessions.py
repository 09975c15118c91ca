"""Stateful streamable-HTTP sessions per client: how many one authenticated identity may hold open.

The SDK closes a session once no request has been in flight for `session_idle_timeout`, and caps the
sessions of a whole server (`max_sessions`, 503 beyond it). That cap alone let one API key take every
slot, so everyone else got 503. Here a request that would open a session (a handshake-era request
without `mcp-session-id`, on a stateful server) is refused with 429 and the reason when its identity
already holds `sessions_per_client` sessions there; other identities still get theirs. One identity's
openings take turns, so concurrent openings can neither overshoot the limit nor count one session
twice. Unauthenticated clients (loopback without keys) have no identity to count by: only the server-wide cap applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        self._turns: dict[tuple[str, str], _Turn] = {}

    async def admit(self, scope: dict, identity: str) -> _Admitted:
        """Admit this request, or raise `SessionLimitExceeded` when it would open a session and `identity`
        holds its limit already. An opening waits for the identity's previous opening to have registered
        its session (or given up) before it counts, and holds the turn until its own session is registered
        (the SDK registers it before it starts the answer): so concurrent openings neither overshoot the
        limit nor count one session twice (once as opening, once as registered)."""
        path = scope.get("path", "")
        server = self._servers.get(path)
        if server is None or server.session_manager.stateless or not _opens_session(scope):
            return _Admitted(None)
        key = (path, identity)
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.users += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            turn.lock.release()
            turn.users -= 1
            if turn.users == 0 and self._turns.get(key) is turn:
                del self._turns[key]

        try:
            await turn.lock.acquire()
        except BaseException:
            turn.users -= 1
            if turn.users == 0 and self._turns.get(key) is turn:
                del self._turns[key]
            raise
        limit = server.surface.settings.sessions_per_client
        held = _owned(server.session_manager, scope["user"])
        if held >= limit:
            release()
            idle = server.session_manager.session_idle_timeout
            raise SessionLimitExceeded(
                f"client {identity!r} already holds {held} open MCP sessions on {path}, its limit "
                f"(sessions_per_client = {limit}); end one (HTTP DELETE with its mcp-session-id) or wait until an "
                f"idle one closes (session_idle_timeout = {idle:g} s), then initialize again")
        return _Admitted(release)


class _Turn:
    """One identity's openings on one path, one at a time."""

    def __init__(self) -> None:
        import anyio

        self.lock = anyio.Semaphore(1)  # not a Lock: the answer may start in another task than admit's
        self.users = 0


class _Admitted:
    """An admitted request. For an opening, `release` gives the turn to the identity's next opening; it runs
    when a successful answer starts (the SDK has registered the session by then) or when the request ends."""

    def __init__(self, release: Callable[[], None] | None):
        self._release = release

    def send(self, send: Any) -> Any:
        release = self._release
        if release is None:
            return send

        async def sending(message: dict) -> None:
            if message.get("type") == "http.response.start" and message.get("status", 500) < 400:
                release()  # a refused opening is discarded after its answer: it keeps the turn till the end
            await send(message)

        return sending

    def release(self) -> None:
        if self._release is not None:
            self._release()


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

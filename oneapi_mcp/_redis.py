"""Redis for replicas: the connection, the shared OAuth token with its refresh lock, the shared
rate-limit windows, and the error a call gets while Redis is away.

Used only when a named server sets `redis_url` (ONEAPI_MCP_REDIS_URL); `redis` is imported on first
use, never at start-up. Any Redis failure becomes `RedisUnavailable`: the call fails closed (nothing
is sent upstream) with a message naming Redis, and the next call tries again (redis-py reconnects).

What Redis holds: per tenant and rate class, a sorted set per documented window (request ids scored
by when their answers came back); per API client, the bearer token, whose key expires with the
token, and for a moment a refresh lock. Never the client secret or private key.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from ._hooktypes import RateLimited

__all__ = ["RedisConfigError", "RedisUnavailable", "SharedToken", "SharedWindows", "check_redis_url", "redacted",
           "release_held_slot", "settle_held_slot"]

CONNECT_TIMEOUT = 2.0  # seconds: a Redis that is away fails the call quickly instead of holding it
COMMAND_TIMEOUT = 2.0
LOCK_TTL_MS = 15_000  # a refresh lock outlives any token request; a replica that dies holding it frees it by then
_SCHEMES = ("redis", "rediss", "unix")
_PASSWORD = re.compile(r"(//[^/@:]*:)[^/]*@")  # //user:password@ (the user may be empty)

# A request's slot in each window of its rate class, all or none, timed by Redis' own clock (replicas
# on different hosts need not agree on the time). A window is a sorted set of requests scored by when
# their answer came back: a request counts until a window after its answer, so one admitted after that
# reaches OneAPI more than a window after it did, however late either was sent or counted there. In
# flight, a request is member "p:<id>" scored `lease` ahead (if its replica dies, the slot frees then).
# Answer: "0" (taken), or the seconds until every window has room (a window at least, if in flight).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lease = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - seconds)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local blocker = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free_in = seconds
    if string.sub(blocker[1], 1, 2) ~= 'p:' then free_in = tonumber(blocker[2]) + seconds - now end
    if free_in > wait then wait = free_in end
  end
end
if wait > 0 then return string.format('%.6f', wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, 'p:' .. ARGV[1])
  redis.call('PEXPIRE', key, math.ceil((lease + tonumber(ARGV[2 + 2 * i])) * 1000))
end
return '0'
"""

# The request's answer came back: from now on it counts from now (if its slot is still there).
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for _, key in ipairs(KEYS) do
  if redis.call('ZREM', key, 'p:' .. ARGV[1]) == 1 then redis.call('ZADD', key, now, ARGV[1]) end
end
return 0
"""

# The request was never sent (its token could not be had): give its slots back.
_RELEASE = """
for _, key in ipairs(KEYS) do redis.call('ZREM', key, 'p:' .. ARGV[1]) end
return 0
"""

# Delete KEYS[1] only while it still holds ARGV[1]: a lock is released only by its holder, and a
# token is invalidated only if no other replica has replaced it already.
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# The shared slot the request this task is sending holds: taken by the rate limiter, settled when
# its answer comes back, released if it is never sent. Per task, so concurrent calls never mix.
_HELD: contextvars.ContextVar[tuple[SharedWindows, list[str], str] | None] = contextvars.ContextVar(
    "oneapi_mcp_held_rate_slot", default=None)
_SETTLING: set[asyncio.Task] = set()  # held until done: the loop keeps only weak references to tasks


class RedisConfigError(Exception):
    """A `redis_url` that cannot be used; the message shows the URL with its password hidden."""


class RedisUnavailable(RateLimited):
    """Redis could not answer, so the call fails closed: nothing was sent upstream."""

    def __init__(self, message: str):
        super().__init__(message, retry_after=1.0)


def redacted(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs (never raises)."""
    return _PASSWORD.sub(r"\1***@", url)


def check_redis_url(url: str) -> str:
    """`url` if redis-py can connect with it (redis://HOST[:PORT][/DB], rediss://..., unix:///path),
    else RedisConfigError saying what is wrong, with any password hidden."""
    shown = redacted(url)
    usage = "redis_url must look like redis://HOST:PORT/DB (rediss:// for TLS, unix:///path/to/redis.sock)"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise RedisConfigError(f"{usage}; {shown!r} does not parse ({exc})") from None
    if parts.scheme not in _SCHEMES:
        raise RedisConfigError(f"{usage}; {shown!r} has scheme {parts.scheme or '(none)'!r}")
    if parts.scheme == "unix":
        if not parts.path:
            raise RedisConfigError(f"{usage}; {shown!r} names no socket path")
        return url.strip()
    if not parts.hostname:
        raise RedisConfigError(f"{usage}; {shown!r} names no host")
    if port == 0:
        raise RedisConfigError(f"{usage}; {shown!r} has port 0")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise RedisConfigError(f"{usage}; the database in {shown!r} must be a number, not {db!r}")
    return url.strip()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class _Redis:
    """A redis.asyncio client made on first use in the running event loop (one pool per loop)."""

    def __init__(self, url: str):
        self.url = check_redis_url(url)
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}

    def client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialBackoff

            # one quick retry: after a Redis restart the pooled connection is dead, the retry reconnects
            self._client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT,
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1), decode_responses=True)
            self._loop = loop
            self._scripts = {}
        return self._client

    def script(self, source: str) -> Any:
        """A registered Lua script (redis-py reloads it after NOSCRIPT, e.g. on a restarted Redis)."""
        client = self.client()
        if source not in self._scripts:
            self._scripts[source] = client.register_script(source)
        return self._scripts[source]

    async def run(self, what: str, operation: Any) -> Any:
        """Await `operation(client)`; any Redis failure becomes RedisUnavailable naming `what`."""
        from redis import exceptions as rx

        try:
            return await operation(self.client())
        except (TimeoutError, rx.ConnectionError, rx.TimeoutError, OSError) as exc:
            raise RedisUnavailable(
                f"{what} need Redis at {redacted(self.url)}, which did not answer ({type(exc).__name__}); "
                "this server fails closed, so nothing was sent upstream: retry in a few seconds, once "
                "Redis is back") from None
        except rx.RedisError as exc:  # e.g. wrong password, a read-only replica
            raise RedisUnavailable(
                f"{what} need Redis at {redacted(self.url)}, which refused ({type(exc).__name__}: "
                f"{str(exc)[:200]}); nothing was sent upstream") from None


class SharedWindows(_Redis):
    """Windows that every replica of a tenant takes request slots from, atomically."""

    async def acquire(self, windows: list[tuple[str, int, float]], *, lease: float,
                      what: str) -> tuple[str | None, float]:
        """Take a slot for one request in every (key, limit, seconds) window at once: (its id, 0.0),
        to settle when the answer comes back; or take none: (None, seconds until all have room)."""
        request_id = uuid.uuid4().hex
        keys = [key for key, _, _ in windows]
        args: list[Any] = [request_id, lease]
        for _, limit, seconds in windows:
            args += [limit, seconds]
        script = self.script(_ACQUIRE)
        wait = float(await self.run(what, lambda client: script(keys=keys, args=args)))
        if wait > 0.0:
            return None, wait
        _HELD.set((self, keys, request_id))
        return request_id, 0.0

    async def settle(self, keys: list[str], request_id: str, *, sent: bool = True) -> None:
        """The request's answer came back (or it failed): its slots count from now. Not sent at all:
        its slots are freed. If Redis cannot be told, they stay counted until their lease ends."""
        script = self.script(_SETTLE if sent else _RELEASE)
        try:
            await self.run("settling a rate-limit slot", lambda client: script(keys=keys, args=[request_id]))
        except RedisUnavailable:
            pass


def settle_held_slot() -> None:
    """The request this task sent has its answer: settle its shared slot (in the background)."""
    held = _HELD.get()
    if held is None:
        return
    _HELD.set(None)
    windows, keys, request_id = held
    task = asyncio.get_running_loop().create_task(windows.settle(keys, request_id))
    _SETTLING.add(task)
    task.add_done_callback(_SETTLING.discard)


async def release_held_slot() -> None:
    """The request this task took a shared slot for will not be sent: free the slot."""
    held = _HELD.get()
    if held is not None:
        _HELD.set(None)
        windows, keys, request_id = held
        await windows.settle(keys, request_id, sent=False)


class SharedToken(_Redis):
    """One API client's bearer token, shared by the replicas: read by all, fetched by one.

    The key expires with the token, so its remaining TTL is the token's lifetime as Redis counts it.
    """

    WHAT = "the shared OAuth token and its refresh lock"

    def __init__(self, url: str, token_url: str, client_id: str, audience: str):
        super().__init__(url)
        client = _digest(token_url, client_id, audience)
        self.key = f"oneapi-mcp:token:{client}"
        self.lock_key = f"oneapi-mcp:token-lock:{client}"

    async def read(self) -> tuple[str, float] | None:
        """(token, seconds it still lives), or None when no replica has stored one."""
        async def get(client: Any) -> tuple[Any, Any]:
            async with client.pipeline(transaction=False) as pipe:
                token, ttl_ms = await pipe.get(self.key).pttl(self.key).execute()
            return token, ttl_ms

        token, ttl_ms = await self.run(self.WHAT, get)
        if not token or ttl_ms is None or ttl_ms <= 0:
            return None
        return token, ttl_ms / 1000.0

    async def store(self, token: str, lifetime: float) -> None:
        if lifetime > 0:
            await self.run(self.WHAT, lambda client: client.set(self.key, token, px=max(1, int(lifetime * 1000))))

    async def invalidate(self, token: str) -> bool:
        """Delete the stored token if it is still `token` (a 401 proved it bad); True if deleted."""
        script = self.script(_DELETE_IF_EQUAL)
        return bool(await self.run(self.WHAT, lambda client: script(keys=[self.key], args=[token])))

    async def lock(self) -> str | None:
        """Take the refresh lock (SET NX PX): its id, or None while another replica holds it."""
        lock_id = uuid.uuid4().hex
        taken = await self.run(self.WHAT, lambda client: client.set(self.lock_key, lock_id, nx=True, px=LOCK_TTL_MS))
        return lock_id if taken else None

    async def unlock(self, lock_id: str) -> None:
        """Release the lock if this holder still has it (it may have expired and been retaken)."""
        script = self.script(_DELETE_IF_EQUAL)
        try:
            await self.run(self.WHAT, lambda client: script(keys=[self.lock_key], args=[lock_id]))
        except RedisUnavailable:
            pass  # it expires by itself after LOCK_TTL_MS

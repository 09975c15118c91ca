"""Built-in plugin: client-side rate limits and the retry policy for upstream requests.

Limits: each rate class's documented windows from the catalog (`"1/minute"`, `"4/hour"`,
`"20/10 seconds"`), all enforced at once with the `limits` library's moving windows, in memory by
default. A request waits when the wait fits in the server's timeout; otherwise the call gets an
error saying when to retry.

Replicas (`redis_url`): the windows live in Redis, keyed by tenant, so every replica of a tenant
spends one budget and two tenants never share one. A slot is taken in all of a class's windows at
once, and a request counts in them until a window after its answer came back (not from when it was
admitted): one admitted later then reaches OneAPI a full window after it, however much event-loop
or network delay either met. Counting from admission, 50 concurrent calls through two replicas on
a busy machine reached twice the limit at the mock. While Redis cannot answer, calls fail closed:
an error naming Redis, nothing sent.

Retries: 429 (every header variant: `Retry-After: 13s`, `x-ratelimit-reset`, `RateLimit-Reset` as an
epoch, `X-Rate-Limit-Retry-After-Seconds`) and ZIA's edit lock (409/412 `EDIT_LOCK_NOT_AVAILABLE`,
backing off 5, 10, 20 s) are refusals before anything was applied, so they are retried for every
method. 5xx and timeouts are retried only for idempotent operations (idempotentHint: GET, PUT,
DELETE), with exponential backoff, jitter and a cap: a non-idempotent write is never sent twice.
A wait longer than the server's timeout is not waited: the call returns the error and when to retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import RateLimited

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    import httpx
    from limits import RateLimitItem

    from oneapi_mcp.plugin_api import Catalog, ServerSettings, ToolDef

RETRYABLE_5XX = (500, 502, 503, 504)
EDIT_LOCK_MARKERS = ("EDIT_LOCK_NOT_AVAILABLE", "Failed during enter Org barrier")
EDIT_LOCK_BACKOFF = (5.0, 10.0, 20.0)
EDIT_LOCK_CAP = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


@hookimpl(trylast=True)
def oneapi_mcp_rate_limiter(settings: ServerSettings, catalog: Catalog) -> RateLimiter:
    windows = catalog.rate_classes if settings.client_rate_limits is not False else {}
    return RateLimiter(windows, timeout=settings.timeout, storage_uri=settings.rate_limit_storage,
                       max_retries=settings.max_retries, namespace=tenant_namespace(settings),
                       redis_url=settings.redis_url)


def tenant_namespace(settings: ServerSettings) -> str:
    """Whose budget the windows are: the tenant, as its API host and token endpoint name it (the
    token URL carries the vanity domain), else its API client id; hashed, so keys stay short."""
    from oneapi_mcp.plugin_api import ConfigError, Credentials, oneapi_urls, read_file_credentials

    creds = Credentials()
    if settings._config_file is not None:
        try:
            named = read_file_credentials(settings._config_file, settings.name)
        except ConfigError:
            named = {}  # the credentials plugin reports it on the first call
        creds = creds.model_copy(update={k: v for k, v in named.items()
                                         if k in ("client_id", "vanity_domain", "cloud")})
    base_url, token_url = oneapi_urls(creds, settings)
    who = "\n".join((base_url, token_url or "", "" if token_url else creds.client_id or ""))
    return "tenant-" + hashlib.sha256(who.encode()).hexdigest()[:16]


class RateLimiter:
    """Moving windows per rate class, and the retry policy (see the module docstring)."""

    def __init__(self, rate_classes: dict[str, dict], *, timeout: float, storage_uri: str = "memory://",
                 max_retries: int = 3, namespace: str = "oneapi", redis_url: str | None = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 random_fraction: Callable[[], float] = random.random, clock: Callable[[], float] = time.time):
        # `clock` dates 429 headers (epochs, HTTP dates); the windows use the storage's own clock
        # (limits is imported here, not at module level: registering plugins is on the start-up path)
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.classes = rate_classes
        self.items: dict[str, list[RateLimitItem]] = {
            name: [parse(limit) for limit in spec.get("limits", ())] for name, spec in rate_classes.items()}
        self.storage = storage_from_string(storage_uri if redis_url is None else "memory://")
        self.windows = MovingWindowRateLimiter(self.storage)
        self.shared = None  # the Redis windows every replica of the tenant shares
        if redis_url is not None:
            from oneapi_mcp.plugin_api import SharedWindows

            self.shared = SharedWindows(redis_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.namespace = namespace
        self._sleep = sleep
        self._random = random_fraction
        self._clock = clock

    # -- client-side windows -------------------------------------------------------------------
    def _admit(self, rate_class: str, items: list[RateLimitItem]) -> float:
        """Take one slot in every window (0.0), or the seconds until all of them have one."""
        blocked = [item for item in items if not self.windows.test(item, self.namespace, rate_class)]
        if not blocked:
            for item in items:  # no await between test and hit: atomic within this event loop
                self.windows.hit(item, self.namespace, rate_class)
            return 0.0
        now = time.time()  # the `limits` storages keep wall-clock time
        return max(max(self.windows.get_window_stats(item, self.namespace, rate_class).reset_time - now, 0.01)
                   for item in blocked)

    async def _admit_shared(self, tool: ToolDef, items: list[RateLimitItem]) -> float:
        windows = [(f"oneapi-mcp:rl:{self.namespace}:{tool.rate_class}:{item.amount}/{item.get_expiry()}",
                    item.amount, item.get_expiry()) for item in items]
        _, wait = await self.shared.acquire(windows, lease=2 * self.timeout,
                                            what=f"{tool.service.upper()}'s shared rate-limit windows")
        return wait

    async def acquire(self, tool: ToolDef) -> None:
        items = self.items.get(tool.rate_class)
        if not items:
            return
        waited = 0.0
        while True:
            wait = (self._admit(tool.rate_class, items) if self.shared is None
                    else await self._admit_shared(tool, items))
            if wait == 0.0:
                return
            if waited + wait > self.timeout:
                spec = self.classes[tool.rate_class]
                retry = math.ceil(waited + wait)
                raise RateLimited(
                    f"{tool.service.upper()} allows {' and '.join(spec.get('limits', ()))} for "
                    f"{spec.get('applies_to', tool.rate_class)}; the next slot is {retry} s away, beyond this "
                    f"server's {self.timeout:g} s timeout, so nothing was sent: retry after {retry} s", retry)
            await self.sleep(wait)
            waited += wait

    # -- retries -------------------------------------------------------------------------------
    def retry_delay(self, tool: ToolDef, attempt: int, response: httpx.Response | None,
                    error: BaseException | None) -> float | None:
        if self.shared is not None:
            from oneapi_mcp.plugin_api import settle_held_slot

            settle_held_slot()  # asked right after every attempt: its answer (or error) is back
        if attempt > self.max_retries:
            return None
        import httpx

        from oneapi_mcp.plugin_api import retry_after_seconds

        idempotent = bool(tool.annotations.get("idempotentHint"))
        delay: float | None = None
        if response is not None:
            status = response.status_code
            if status == 429:
                floor = retry_after_seconds(response, self._clock())
                delay = (floor if floor is not None else self._backoff(attempt)) + self._random()  # jitter above
            elif status in (409, 412) and any(m in response.text for m in EDIT_LOCK_MARKERS):
                delay = min(EDIT_LOCK_BACKOFF[min(attempt, len(EDIT_LOCK_BACKOFF)) - 1], EDIT_LOCK_CAP)
            elif status in RETRYABLE_5XX and idempotent:
                delay = self._backoff(attempt)
        elif isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
            delay = self._backoff(attempt)  # the request never left: safe for every method
        elif isinstance(error, httpx.TransportError) and idempotent:
            delay = self._backoff(attempt)
        if delay is None or delay > self.timeout:
            return None  # the error result says when to retry
        return delay

    def _backoff(self, attempt: int) -> float:
        """Exponential with full jitter, capped: 0.5, 1, 2, 4 ... seconds at most."""
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + self._random() / 2)

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

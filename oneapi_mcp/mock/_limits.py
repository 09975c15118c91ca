"""Each service's documented rate limits, and its own way of saying 429.

Limits come from the specs' `x-oneapi-rate-classes` (e.g. ZIA DELETE "1/minute", "4/hour"; ZPA
GET "20/10 seconds"; ZCC "100/hour"). Windows are fixed (aligned to the clock), which is how the
reset headers of the real services read: seconds until the current window ends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import error_body

__all__ = ["RateLimiter", "Limit", "parse_limit", "rate_limited"]

_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(\d+)?\s*(second|minute|hour|day)s?\s*")
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Limit:
    count: int
    window: int  # seconds
    text: str  # as documented, e.g. "1/minute"

    @property
    def unit(self) -> str:
        """ZTW's spelling in its 429 body: "1/SECOND", "400/HOUR"."""
        for name, seconds in _SECONDS.items():
            if self.window == seconds:
                return f"{self.count}/{name.upper()}"
        return f"{self.count}/{self.window}_SECONDS"


def parse_limit(text: str) -> Limit:
    match = _LIMIT.fullmatch(text)
    if not match:
        raise ValueError(f"unreadable rate limit {text!r}")
    count, multiple, unit = match.groups()
    return Limit(int(count), int(multiple or 1) * _SECONDS[unit], text)


class RateLimiter:
    """Counts requests per (service, rate class, window) and says when one is over its limit."""

    def __init__(self, classes: dict[str, dict[str, list[str]]], clock: Callable[[], float]) -> None:
        self.limits = {
            (service, name): [parse_limit(text) for text in texts]
            for service, by_class in classes.items()
            for name, texts in by_class.items()
        }
        self.clock = clock
        self._counts: dict[tuple[str, str, int, int], int] = {}

    def spend(self, service: str, rate_class: str | None) -> tuple[Limit, float] | None:
        """Count one request; return (the limit hit, seconds until it resets) if it is over."""
        limits = self.limits.get((service, rate_class or ""), [])
        now = self.clock()
        keys = []
        for limit in limits:
            window = int(now // limit.window)
            key = (service, rate_class or "", limit.window, window)
            if self._counts.get(key, 0) >= limit.count:
                return limit, (window + 1) * limit.window - now
            keys.append(key)
        for key in keys:
            self._counts[key] = self._counts.get(key, 0) + 1
        return None

    def reset(self) -> None:
        self._counts.clear()


def rate_limited(service: str, limit: Limit, wait: float, now: float) -> tuple[dict, dict[str, str]]:
    """The 429 body and headers in the service's own style."""
    seconds = max(1, math.ceil(wait))
    message = f"Rate limit exceeded: {limit.text}. Retry in {seconds} s."
    if service == "ztw":
        # ZTW writes whole seconds left, rounded down ("0 seconds" inside the last second).
        body = {"message": f"Rate Limit ({limit.unit}) exceeded", "Retry-After": f"{int(wait)} seconds"}
        return body, {"Retry-After": str(seconds), "x-ratelimit-reset": str(seconds)}
    if service == "zia":
        # as recorded (tests/recorded/zia.jsonl TestAdminRoles): {"Retry-After": "1 seconds", "message":
        # "Rate Limit (2/SECOND) exceeded"} and retry-after: 1; the gateway's x-ratelimit-* stay those of its quota
        body = {"Retry-After": f"{seconds} seconds", "message": f"Rate Limit ({limit.unit}) exceeded"}
        return body, {"retry-after": str(seconds)}
    if service == "zpa":
        # as recorded (tests/recorded/zpa.jsonl): retry-after: 4s and this body
        body = {"exception": "invalid.toomanyrequests", "id": "invalid.toomanyrequests",
                "reason": "Exceeded the number of requests allowed."}
        return body, {"retry-after": f"{seconds}s"}
    body = error_body(service, 429, message)
    if service == "zdx":
        headers = {
            "RateLimit-Limit": str(limit.count),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int(now) + seconds),
        }
    elif service == "zcc":
        headers = {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Retry-After-Seconds": str(seconds)}
    else:
        headers = {"Retry-After": str(seconds)}
    return body, headers

"""What the OneAPI gateway adds to every answer, as recorded (tests/recorded/<svc>.jsonl).

Every API answer of a real tenant carries the gateway's quota headers, whatever the status:
`x-ratelimit-limit` (the quota policy, e.g. ZIA and ZPA "5000, 5000;w=60"), `x-ratelimit-remaining`
and `x-ratelimit-reset` (seconds until the window ends). A bad or missing token is refused by the
gateway, not the service, in one shape for all services (ZPA and ZTW recordings:
`{"detail": "unauthorized", "status": "", "title": "", "type": ""}`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from starlette.responses import Response

from ._errors import json_response

__all__ = ["GATEWAY_POLICIES", "GatewayQuota", "unauthorized"]

# the recorded x-ratelimit-limit of each service (ZDX has no recording: none is invented)
GATEWAY_POLICIES = {
    "zia": "5000, 5000;w=60",
    "zpa": "5000, 5000;w=60",
    "zcc": "100, 100;w=3600, 100;w=3600",
    "zid": "500, 500;w=1, 20000;w=60, 1000, 1000;w=1",
    "ztw": "1000, 1000;w=1",
    "aiguard": "1000, 1000;w=1",  # tests/recorded/aiguard.jsonl (TestLlmApplications and the rest)
}
_FIRST = re.compile(r"\s*(\d+)\s*,\s*\d+;w=(\d+)")


class GatewayQuota:
    """Counts answers per service in the policy's first window and stamps the headers on them.
    It never refuses a request: the mock's per-class limits (`_limits.py`) do that."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._counts: dict[tuple[str, int], int] = {}

    def stamp(self, service: str | None, response: Response) -> Response:
        policy = GATEWAY_POLICIES.get(service or "")
        match = _FIRST.match(policy or "")
        if match is None or not hasattr(response, "headers"):
            return response
        quota, window = int(match.group(1)), int(match.group(2))
        now = self.clock()
        key = (service, int(now // window))
        used = self._counts[key] = self._counts.get(key, 0) + 1
        if len(self._counts) > 64:  # old windows
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= key[1] - 1}
        response.headers["x-ratelimit-limit"] = policy
        response.headers["x-ratelimit-remaining"] = str(max(0, quota - used))
        response.headers["x-ratelimit-reset"] = str(max(1, math.ceil((key[1] + 1) * window - now)))
        return response

    def reset(self) -> None:
        self._counts.clear()


def unauthorized(headers: dict[str, str] | None = None) -> Response:
    return json_response(401, {"detail": "unauthorized", "status": "", "title": "", "type": ""}, headers)

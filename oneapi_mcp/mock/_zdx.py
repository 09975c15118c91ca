"""ZDX rules the planner cannot read from a spec's types: the time window an endpoint takes.

ZDX documents a maximum window for its alert lists: GET /zdx/v1/alerts/ongoing and
/alerts/historical "Cannot exceed 14 days API limit" (specs/zdx.yaml, from Zscaler's zssdk
service-1.json; zscaler-sdk-python zscaler/zdx/alerts.py: "Cannot exceed the 14-day time range limit
for alert rules"). A longer from/to is answered 400 in ZDX's error shape, before anything is read.
Without `to` the window ends now; without `from` ZDX takes the last 2 hours, which always fits.
"""

from __future__ import annotations

import time

from starlette.responses import Response

from ._errors import error_response
from ._requests import Call

__all__ = ["MAX_WINDOW_DAYS", "window_refusal"]

MAX_WINDOW_DAYS = {"ListOngoingAlerts": 14, "ListHistoricalAlerts": 14}  # by operationId


def window_refusal(call: Call) -> Response | None:
    """A 400 when the request's from/to is longer than its ZDX operation documents; else None."""
    days = MAX_WINDOW_DAYS.get(call.op.operation_id) if call.op.service == "zdx" else None
    start = call.query.get("from")
    if days is None or start is None:
        return None
    end = call.query.get("to")
    end = int(time.time()) if end is None else end
    if int(end) - int(start) > days * 86400:
        return error_response("zdx", 400, f"the time range from {start} to {end} exceeds the {days}-day limit "
                                          f"of {call.op.method} {call.op.path}")
    return None

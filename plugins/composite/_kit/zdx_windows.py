"""How long a time window each ZDX read takes, per endpoint, as ZDX documents it.

ZDX documents a maximum window for its alert lists only: GET /zdx/v1/alerts/ongoing and
/alerts/historical "Cannot exceed 14 days API limit" (specs/zdx.yaml, from Zscaler's zssdk
service-1.json; zscaler-sdk-python zscaler/zdx/alerts.py list_ongoing and list_historical: "Cannot
exceed the 14-day time range limit for alert rules"). The other reads the composite tools make (apps,
app score and metric trends, app users, users, devices, device events) document only their default,
the last 2 hours, and no maximum; for those this server keeps its own bound (OWN_BOUND_DAYS) so the
number of upstream calls stays bounded, and says that the bound is its own.

A window longer than an endpoint takes is refused before any request (`check_window`), naming the
argument and the limit; a tool that reads history may instead read it in allowed pieces (`chunks`).
"""

from __future__ import annotations

from collections.abc import Iterable

from oneapi_mcp.plugin_api import Refusal

__all__ = ["DAY", "DOCUMENTED_DAYS", "OWN_BOUND_DAYS", "check_window", "chunks", "limit_days"]

DAY = 86400
DOCUMENTED_DAYS = {"zdx_list_ongoing_alerts": 14, "zdx_list_historical_alerts": 14}
OWN_BOUND_DAYS = 31


def limit_days(operations: Iterable[str]) -> tuple[int, str]:
    """The longest window (days) every one of `operations` takes, and why (which endpoint documents it,
    or this server's own bound)."""
    documented = sorted((DOCUMENTED_DAYS[op], op) for op in set(operations) if op in DOCUMENTED_DAYS)
    if documented and documented[0][0] <= OWN_BOUND_DAYS:
        days = documented[0][0]
        named = sorted(op for d, op in documented if d == days)
        return days, f"ZDX documents at most {days} days for {', '.join(named)}"
    return OWN_BOUND_DAYS, (f"ZDX documents no maximum for these reads; {OWN_BOUND_DAYS} days is this server's own "
                            "bound, which keeps the number of upstream calls bounded")


def check_window(start: int, end: int, operations: Iterable[str], *, argument: str = "from") -> None:
    """Refuse (before any request) a window longer than `operations` take, naming `argument` and the limit."""
    days, why = limit_days(operations)
    if end - start > days * DAY:
        raise Refusal(f"{argument}: the window is {(end - start) / DAY:.1f} days long; at most {days} days ({why}): "
                      "shorten it or split it", "invalid_arguments", field=argument, max_days=days)


def chunks(start: int, end: int, operation: str) -> list[tuple[int, int]]:
    """[start, end) as consecutive pieces no longer than `operation` takes, oldest first."""
    step = limit_days([operation])[0] * DAY
    return [(at, min(at + step, end)) for at in range(start, end, step)]

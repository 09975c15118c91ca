"""Time windows of incident and evidence reports: from/to as ISO 8601 or a time ago (24h, 7d), at most
the 14 days the ZDX alert lists answer; epoch seconds from whatever a service answers (seconds,
milliseconds, digit strings, ISO or ZIA's audit-log text)."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from oneapi_mcp.plugin_api import Refusal

from .zdx_windows import limit_days

__all__ = ["WINDOW_ARGUMENTS", "ZDX_MAX_WINDOW", "Window", "epoch", "iso", "parse_window",
           "window_field"]

UTC = dt.UTC
# every tool here reads the ZDX alert lists over its window, and those document "Cannot exceed 14 days API
# limit" (zdx_windows.py cites the evidence); device events and users document no maximum
_ZDX_ALERTS = ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts")
ZDX_MAX_WINDOW = limit_days(_ZDX_ALERTS)[0] * 86400
_SKEW = 120  # seconds of clock difference tolerated before "to" counts as the future
_RELATIVE = re.compile(r"(\d{1,5})\s*(m|min|h|d|w)", re.IGNORECASE)
_UNIT = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Window:
    start: int  # epoch seconds
    end: int

    def contains(self, ts: int | None) -> bool:
        return ts is not None and self.start <= ts <= self.end

    def overlaps(self, started: Any, ended: Any) -> bool:
        """An alert started_on/ended_on (0 = still going) overlaps the window."""
        start = epoch(started)
        end = epoch(ended) or None
        return start is not None and start <= self.end and (end is None or end >= self.start)

    def report(self) -> dict[str, Any]:
        return {"from": iso(self.start), "to": iso(self.end), "hours": round((self.end - self.start) / 3600, 1)}


def iso(ts: int | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: Any, now: int, what: str) -> int:
    raw = str(text).strip()
    if raw.lower() == "now":
        return now
    relative = _RELATIVE.fullmatch(raw)
    if relative:
        return now - int(relative.group(1)) * _UNIT[relative.group(2).lower()]
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{what} {text!r} is neither ISO 8601 (e.g. 2026-01-01T09:00:00Z) nor a time ago like "
                         "90m, 24h, 7d or 2w") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # a time without offset is read as UTC
    return int(when.timestamp())


def parse_window(args: dict[str, Any], now: int | None = None, *, default_from: str = "24h",
                 max_seconds: int = ZDX_MAX_WINDOW) -> Window:
    """from/to (ISO 8601 or a time ago like 24h) as a window, or Refusal naming every problem."""
    now = int(time.time()) if now is None else now
    problems: list[str] = []
    start = end = None
    for key, default in (("from", default_from), ("to", "now")):
        try:
            value = _instant(args.get(key) or default, now, key)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if key == "from":
            start = value
        else:
            end = value
    if start is not None and start > now + _SKEW:
        problems.append(f"from ({iso(start)}) is in the future")
    if end is not None and end > now + _SKEW:
        problems.append(f"to ({iso(end)}) is in the future; leave it out for now")
    if start is not None and end is not None:
        if start >= end:
            problems.append(f"the window is inverted or empty: from ({iso(start)}) is not before to ({iso(end)})")
        elif end - start > max_seconds:
            problems.append(f"from: the window is {(end - start) / 86400:.1f} days long; at most "
                            f"{max_seconds // 86400} days ({limit_days(_ZDX_ALERTS)[1]}), so shorten or split it")
    if problems:
        raise Refusal("invalid time window: " + "; ".join(problems), "invalid_arguments", problems=problems)
    assert start is not None and end is not None
    return Window(start, min(end, now))


def epoch(value: Any) -> int | None:
    """Epoch seconds from seconds, milliseconds, digit strings or ISO text; None when it is none of them."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(float(value))
        return number // 1000 if number > 10**11 else number
    text = str(value).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%a %b %d %H:%M:%S %Y", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S"):
        try:
            return int(dt.datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp())
        except ValueError:
            pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


WINDOW_ARGUMENTS = {
    "from": {"type": "string", "minLength": 1, "maxLength": 40,
             "description": "Start: ISO 8601 (2026-01-01T09:00:00Z; no offset means UTC) or a time ago (90m, 24h, 7d, "
                            "2w). Default 24h ago."},
    "to": {"type": "string", "minLength": 1, "maxLength": 40,
           "description": "End: ISO 8601, a time ago, or now (default). At most 14 days after from (ZDX API limit)."},
}


def window_field(key: str, description: str | None = None) -> Any:
    """The field of WINDOW_ARGUMENTS[key] ("from" or "to"), optionally with a tool's own description."""
    spec = WINDOW_ARGUMENTS[key]
    return Field(None, alias="from" if key == "from" else None, min_length=spec["minLength"],
                 max_length=spec["maxLength"], description=description or spec["description"])


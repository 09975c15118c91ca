"""ZDX reports' time windows (from/to/period, checked against the ZDX limits in `zdx_windows`), the ZDX
app list and score series over a window: what zdx_metrics and analytics both read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from oneapi_mcp.plugin_api import Refusal

from .reads import Reads
from .zdx_windows import check_window

__all__ = ["WINDOW_PROPERTIES", "Window", "day_of", "iso", "parse_time", "parse_window",
           "score_points", "zdx_apps"]

_FUTURE_SLACK = 300  # seconds of clock skew allowed on `to`
_PERIOD = re.compile(r"(\d{1,4})\s*([hd])", re.IGNORECASE)


WINDOW_PROPERTIES: dict[str, Any] = {
    "from": {"type": "string", "description": "Window start: ISO 8601 (2026-01-01T09:00Z; UTC unless an offset "
                                              "is given) or epoch seconds. Give from or period, not both."},
    "to": {"type": "string", "description": "Window end, same formats (default now)."},
    "period": {"type": "string", "pattern": "^[0-9]{1,4} *[hdHD]$",
               "description": "Window length ending at to, e.g. 24h, 7d or 30d."},
}


@dataclass(frozen=True)
class Window:
    """A checked time window, epoch seconds [start, end)."""

    start: int
    end: int

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def zdx(self) -> dict[str, int]:
        """The from/to arguments of ZDX operations (`from_` is sent as `from`)."""
        return {"from_": self.start, "to": self.end}

    def days(self) -> list[str]:
        """Every UTC day the window touches, as YYYY-MM-DD."""
        first = datetime.fromtimestamp(self.start, UTC).date()
        last = datetime.fromtimestamp(self.end - 1, UTC).date()
        return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def contains(self, ts: int) -> bool:
        return self.start <= ts <= self.end

    def report(self) -> dict[str, Any]:
        return {"from": iso(self.start), "to": iso(self.end), "from_epoch": self.start, "to_epoch": self.end,
                "hours": round(self.seconds / 3600, 2)}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%MZ")


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def parse_time(value: Any, name: str) -> int:
    text = str(value).strip()
    if not text:
        raise Refusal(f"{name} is empty: give an ISO 8601 time (2026-01-01T09:00Z) or epoch seconds",
                      "invalid_arguments", field=name)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        seconds = float(text)
        if seconds > 100_000_000_000:
            raise Refusal(f"{name} {text} looks like epoch milliseconds; ZDX takes epoch seconds "
                          f"({int(seconds // 1000)})", "invalid_arguments", field=name)
        if seconds < 0:
            raise Refusal(f"{name} {text} is before 1970", "invalid_arguments", field=name)
        return int(seconds)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(f"{name} {text!r} is not a time: use ISO 8601 like 2026-01-01T09:00Z or epoch seconds",
                      "invalid_arguments", field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def parse_window(args: dict[str, Any], default_period: str, *, now: float | None = None,
                 operations: tuple[str, ...] = ()) -> Window:
    """The window from `from`/`to`/`period`, or Refusal with the reason (malformed, empty or reversed,
    in the future, longer than the ZDX `operations` read over it take: see `_zdx_windows`)."""
    now = datetime.now(UTC).timestamp() if now is None else now
    end = parse_time(args["to"], "to") if args.get("to") not in (None, "") else int(now)
    if end > now + _FUTURE_SLACK:
        raise Refusal(f"to {iso(end)} is in the future (now is {iso(now)}): ZDX has no data there yet",
                      "invalid_arguments", field="to")
    if args.get("from") not in (None, "") and args.get("period") not in (None, ""):
        raise Refusal("give from or period, not both", "invalid_arguments", field="period")
    if args.get("from") not in (None, ""):
        start = parse_time(args["from"], "from")
    else:
        period = str(args.get("period") or default_period)
        match = _PERIOD.fullmatch(period.strip())
        if not match:
            raise Refusal(f"period {period!r} is not a length like 24h, 7d or 30d", "invalid_arguments",
                          field="period")
        amount = int(match.group(1)) * (3600 if match.group(2).lower() == "h" else 86400)
        if amount <= 0:
            raise Refusal("period must be longer than 0", "invalid_arguments", field="period")
        start = end - amount
    if start >= end:
        raise Refusal(f"from {iso(start)} is not before to {iso(end)}", "invalid_arguments", field="from")
    check_window(start, end, operations, argument="from" if args.get("from") not in (None, "") else "period")
    return Window(start, end)


async def zdx_apps(reads: Reads, window: Window | None = None) -> list[dict[str, Any]] | None:
    data = await reads.get("zdx_list_applications", window.zdx() if window else {})
    if isinstance(data, dict):
        data = data.get("items") or data.get("apps") or []
    return [a for a in data or [] if isinstance(a, dict)] if data is not None else None


def score_points(series: Any, window: Window) -> tuple[list[tuple[int, float]], int]:
    """(timestamp, value) pairs of a ZDX series inside the window, sorted; values below 0 (ZDX's "no
    data") are dropped. Also how many datapoints fell outside the window (not counted)."""
    if isinstance(series, list):  # a SeriesCollection: the score series is the first
        series = next((s for s in series if isinstance(s, dict)), {})
    points, outside = [], 0
    for p in (series or {}).get("datapoints") or []:
        ts, value = p.get("timestamp"), p.get("value")
        if not isinstance(ts, (int, float)) or not isinstance(value, (int, float)) or value < 0:
            continue
        if not window.contains(int(ts)):
            outside += 1
            continue
        points.append((int(ts), float(value)))
    return sorted(points), outside

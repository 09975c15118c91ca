"""Built-in plugin: anomaly alerts on this server's own tool calls.

Each call's audit record (the audit plugin's `record`, whether or not a log file is kept) feeds a
rolling baseline per client and tool: hourly counts over the last `anomaly_baseline_days`, in memory
and bounded, rebuilt from the audit log at start so a restart keeps it. The rebuild counts each call
once (an intent record and its outcome record are one call); a write whose intent has no outcome
(the server was killed mid-call) has outcome "unknown" and counts as a call that ran. Three alerts:

- `write_spike`: one client's write or destructive calls, to one tool or to all of them together,
  in the last `anomaly_window` seconds reach `anomaly_spike_min_calls` and `anomaly_spike_ratio`
  times what its baseline expects in such a window;
- `auth_failures`: `anomaly_auth_failures` calls of one client fail on authorisation within
  `anomaly_auth_window` seconds (upstream 401/403, the token request, scope refusals, bad confirm
  tokens);
- `unusual_hour`: a client calls outside `anomaly_business_hours` (in `anomaly_timezone`), or, with
  none configured, at an hour of day it has not worked before (learned once its history, older than
  the last 24 hours, holds `anomaly_hours_min_calls` calls on three days or more).

An alert is a JSON line in the audit log (`"event": "alert"`), a `security` event of type
`anomaly_alert` in the SIEM outbox, and a WARNING on the `oneapi_mcp.anomaly` logger. Each fires at
most once per window for its client and tool.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import weakref
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings

    from .anomaly_settings import AnomalySettings

__all__ = ["Detector", "Thresholds", "alert_event", "check_business_days", "check_timezone", "detector_for",
           "parse_business_hours"]

_log = logging.getLogger("oneapi_mcp.anomaly")
_clock = time.time  # tests replace it with a fake clock

WRITE_SCOPES = ("write", "destructive")
AUTH_ERRORS = frozenset({"auth", "scope_denied", "confirmation_invalid"})
_NOT_RUN = frozenset({"denied", "confirmation_required", "declined"})  # nothing was attempted upstream
_ALL_WRITES = "*"  # the pseudo tool of one client's write and destructive calls together
_USUAL_SHARE = 0.01  # an hour of day is usual when it, or an hour beside it, holds 1% of the client's calls
_LEARN_DAYS = 3  # usual hours are learned only from a history that covers this many days
_PER_CLIENT = frozenset({"auth_failures", "unusual_hour"})  # alerts kept quiet per client, whatever the tool
_MAX_SERIES = 5_000  # (client, tool) baselines kept; the least recently used goes first
_MAX_CLIENTS = 1_000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*")


# -- thresholds ----------------------------------------------------------------------------------
def parse_business_hours(text: str) -> tuple[int, int]:
    """'08:00-18:00' (or '8-18'; '22:00-06:00' spans midnight) as (start, end) minutes of the day."""
    match = _RANGE.fullmatch(str(text))
    if match:
        sh, sm, eh, em = (int(g or 0) for g in match.groups())
        start, end = sh * 60 + sm, eh * 60 + em
        if sm < 60 and em < 60 and start < 1440 and end <= 1440 and start != end:
            return start, end
    raise ValueError(f"anomaly_business_hours {text!r} is not a range of the day like 08:00-18:00")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"anomaly_timezone {name!r} is not an IANA time zone such as UTC or Europe/Berlin") from None
    return str(name)


def check_business_days(days: tuple[str, ...]) -> tuple[str, ...]:
    wanted = tuple(d.strip().lower()[:3] for d in days)
    bad = [d for d, w in zip(days, wanted, strict=True) if w not in DAYS]
    if bad or not wanted:
        raise ValueError(f"anomaly_business_days must name days as {', '.join(DAYS)} (got {', '.join(bad) or 'none'})")
    return tuple(d for d in DAYS if d in wanted)


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"anomaly": f"{__name__}_settings:AnomalySettings"}  # by import path: defined when first validated


@dataclass(frozen=True)
class Thresholds:
    """A server's anomaly settings, parsed once."""

    window: float = 900.0
    baseline_days: int = 14
    spike_ratio: float = 5.0
    spike_min_calls: int = 20
    auth_failures: int = 5
    auth_window: float = 300.0
    timezone: ZoneInfo = ZoneInfo("UTC")
    business_hours: tuple[int, int] | None = None
    business_days: frozenset[int] = frozenset(range(5))
    hours_min_calls: int = 200

    @classmethod
    def of(cls, settings: ServerSettings) -> Thresholds:
        own: AnomalySettings = settings.plugin_settings("anomaly")
        hours = own.business_hours
        return cls(window=own.window, baseline_days=own.baseline_days,
                   spike_ratio=own.spike_ratio, spike_min_calls=own.spike_min_calls,
                   auth_failures=own.auth_failures, auth_window=own.auth_window,
                   timezone=ZoneInfo(own.timezone),
                   business_hours=parse_business_hours(hours) if hours else None,
                   business_days=frozenset(DAYS.index(d) for d in own.business_days),
                   hours_min_calls=own.hours_min_calls)


# -- the baseline --------------------------------------------------------------------------------
class _Series:
    """One client's calls to one tool (or to all its write tools): hourly counts for the baseline,
    per-minute counts for the current window."""

    __slots__ = ("_cached", "first", "hours", "recent")

    def __init__(self, hour: int):
        self.first = hour
        self.hours: dict[int, int] = {}
        self.recent: deque[list[int]] = deque()  # [minute, count], oldest first
        self._cached: tuple[int, int, float] | None = None  # (window start hour, oldest hour, calls before)

    def add(self, now: float, keep_hours: int) -> None:
        hour, minute = int(now // 3600), int(now // 60)
        self.hours[hour] = self.hours.get(hour, 0) + 1
        if len(self.hours) > keep_hours + 48:
            for old in [h for h in self.hours if h < hour - keep_hours]:
                del self.hours[old]
        if self.recent and self.recent[-1][0] == minute:
            self.recent[-1][1] += 1
        elif not self.recent or self.recent[-1][0] < minute:
            self.recent.append([minute, 1])
        else:  # an older call read back late (an intent whose outcome never came): keep the minutes in order
            at = next(i for i, (m, _) in enumerate(self.recent) if m >= minute)
            if self.recent[at][0] == minute:
                self.recent[at][1] += 1
            else:
                self.recent.insert(at, [minute, 1])

    def in_window(self, now: float, window: float) -> int:
        while self.recent and (self.recent[0][0] + 1) * 60 <= now - window:
            self.recent.popleft()
        return sum(count for _, count in self.recent)

    def expected(self, now: float, window: float, days: int) -> float:
        """Calls the baseline expects in one window: its hourly rate before the window began (over at
        least a day, so a new client is judged by the absolute floor alone), times the window."""
        start, oldest = int((now - window) // 3600), int(now // 3600) - days * 24
        if self._cached is None or self._cached[:2] != (start, oldest):
            before = sum(c for h, c in self.hours.items() if oldest <= h < start)
            self._cached = (start, oldest, before)
        span = max(24, start - max(self.first, oldest))
        return self._cached[2] / span * window / 3600


class _Client:
    __slots__ = ("failures", "hours", "usual")

    def __init__(self) -> None:
        self.hours: dict[int, int] = {}  # calls that ran, per hour
        self.failures: deque[tuple[float, str, str]] = deque()  # (time, tool, why)
        self.usual: tuple[int, frozenset[int] | None] | None = None  # (computed at hour, usual hours of day)


def auth_failure(record: dict[str, Any]) -> str | None:
    """Why a call failed on authorisation, or None: its error kind, or the upstream 401/403."""
    if record.get("error_kind") in AUTH_ERRORS:
        return str(record["error_kind"])
    statuses = [u.get("status") for u in record.get("upstream") or () if isinstance(u, dict)]
    # the last answer counts: a 401 followed by a success was a token refreshed in time
    return f"upstream {statuses[-1]}" if statuses and statuses[-1] in (401, 403) else None


class Detector:
    """One server's baselines and alert state; `observe` takes audit records in time order."""

    def __init__(self, server: str):
        self.server = server
        self._series: OrderedDict[tuple[str, str], _Series] = OrderedDict()
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._fired: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._limits: tuple[Any, Thresholds] | None = None

    def limits(self, settings: ServerSettings) -> Thresholds:
        """The thresholds of `settings`, parsed again only when the settings object changes (a reload)."""
        cached = self._limits
        if cached is None or cached[0] is not settings:
            cached = self._limits = (settings, Thresholds.of(settings))
        return cached[1]

    def observe(self, record: dict[str, Any], limits: Thresholds, now: float, *, alert: bool = True) -> list[dict]:
        """Add one call; the alerts it raises (none when `alert` is false: a replay of old records)."""
        client, tool, scope = record.get("client") or "unknown", record.get("tool") or "?", record.get("scope")
        out: list[dict] = []
        with self._lock:
            state = self._client(client)
            why = auth_failure(record)
            if why:
                out += self._auth_failure(state, client, tool, why, limits, now, alert)
            if record.get("outcome") in _NOT_RUN:
                return out
            if alert:
                out += self._unusual_hour(state, client, tool, scope, limits, now)
            hour = int(now // 3600)
            state.hours[hour] = state.hours.get(hour, 0) + 1
            if len(state.hours) > limits.baseline_days * 24 + 48:
                for old in [h for h in state.hours if h < hour - limits.baseline_days * 24]:
                    del state.hours[old]
            if scope in WRITE_SCOPES:
                for key in ((client, tool), (client, _ALL_WRITES)):
                    series = self._series_for(key, hour)
                    series.add(now, limits.baseline_days * 24)
                    if alert:
                        out += self._spike(series, client, key[1], scope, limits, now)
        return out

    def restore(self, alert: dict[str, Any], at: float) -> None:
        """An alert read back from the audit log: it is not raised again within its window."""
        kind = str(alert.get("kind"))
        key = (kind, str(alert.get("client")), "*" if kind in _PER_CLIENT else str(alert.get("tool")))
        keys = [key, (kind, key[1], _ALL_WRITES)] if kind == "write_spike" else [key]
        with self._lock:
            for k in keys:
                self._fired[k] = max(at, self._fired.get(k, 0.0))

    # -- the three checks ---------------------------------------------------------------------
    def _spike(self, series: _Series, client: str, tool: str, scope: str, limits: Thresholds,
               now: float) -> list[dict]:
        count = series.in_window(now, limits.window)
        expected = series.expected(now, limits.window, limits.baseline_days)
        if count < limits.spike_min_calls or count < limits.spike_ratio * expected:
            return []
        if not self._fire("write_spike", client, tool, now, limits.window):
            return []
        if tool != _ALL_WRITES:  # the same burst, counted over all the client's writes, is this alert too
            self._fired[("write_spike", client, _ALL_WRITES)] = now
        what = "write and destructive calls" if tool == _ALL_WRITES else f"{scope} calls to {tool}"
        return [self._alert("write_spike", client, tool, now, scope=None if tool == _ALL_WRITES else scope,
                            count=count, window_seconds=limits.window, baseline=round(expected, 2),
                            threshold={"ratio": limits.spike_ratio, "min_calls": limits.spike_min_calls},
                            message=f"{client} made {count} {what} in {limits.window:g} s; its baseline for such a "
                                    f"window is {expected:.1f} (alert at {limits.spike_ratio:g}x and at least "
                                    f"{limits.spike_min_calls})")]

    def _auth_failure(self, state: _Client, client: str, tool: str, why: str, limits: Thresholds, now: float,
                      alert: bool) -> list[dict]:
        state.failures.append((now, tool, why))
        while state.failures and state.failures[0][0] <= now - limits.auth_window:
            state.failures.popleft()
        while len(state.failures) > max(1_000, limits.auth_failures):
            state.failures.popleft()
        count = len(state.failures)
        if not alert or count < limits.auth_failures:
            return []
        if not self._fire("auth_failures", client, "*", now, limits.auth_window):
            return []
        tools = Counter(t for _, t, _ in state.failures)
        reasons = Counter(w for _, _, w in state.failures)
        return [self._alert("auth_failures", client, "*", now, count=count, window_seconds=limits.auth_window,
                            threshold={"failures": limits.auth_failures}, tools=dict(tools.most_common(10)),
                            reasons=dict(reasons),
                            message=f"{client}: {count} calls failed on authorisation in {limits.auth_window:g} s "
                                    f"({', '.join(f'{k} x{v}' for k, v in reasons.most_common())})")]

    def _unusual_hour(self, state: _Client, client: str, tool: str, scope: str | None, limits: Thresholds,
                      now: float) -> list[dict]:
        local = datetime.fromtimestamp(now, limits.timezone)
        details: dict[str, Any]
        if limits.business_hours is not None:
            start, end = limits.business_hours
            minute = local.hour * 60 + local.minute
            inside = start <= minute < end if start < end else (minute >= start or minute < end)
            if inside and local.weekday() in limits.business_days:
                return []
            hours = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
            details = {"business_hours": hours, "business_days": [DAYS[d] for d in sorted(limits.business_days)],
                       "threshold": {"business_hours": hours}}
            why = "outside the configured business hours"
        else:
            usual = self._usual_hours(state, limits, int(now // 3600))
            if usual is None or local.hour in usual:
                return []
            details = {"usual_hours": sorted(usual),
                       "threshold": {"min_calls": limits.hours_min_calls, "usual_share": _USUAL_SHARE}}
            why = "at an hour it has not worked before"
        if not self._fire("unusual_hour", client, "*", now, limits.window):
            return []
        return [self._alert("unusual_hour", client, tool, now, scope=scope, hour=local.hour,
                            timezone=str(limits.timezone), **details,
                            message=f"{client} called {tool} at {local:%H:%M} {limits.timezone}, {why}")]

    def _usual_hours(self, state: _Client, limits: Thresholds, hour: int) -> frozenset[int] | None:
        """The hours of day this client works in, from its history before the last 24 hours (so a
        night of unusual calls does not teach itself as usual), or None until enough is known."""
        if state.usual is not None and state.usual[0] == hour:
            return state.usual[1]
        oldest, newest = hour - limits.baseline_days * 24, hour - 24
        by_hour: Counter[int] = Counter()
        days = set()
        for h, count in state.hours.items():
            if oldest <= h < newest:
                local = datetime.fromtimestamp(h * 3600, limits.timezone)
                by_hour[local.hour] += count
                days.add(local.date())
        total = sum(by_hour.values())
        usual = None
        if total >= limits.hours_min_calls and len(days) >= _LEARN_DAYS:
            busy = {h for h, count in by_hour.items() if count >= _USUAL_SHARE * total}
            usual = frozenset(h for h in range(24) if busy & {h, (h - 1) % 24, (h + 1) % 24})
        state.usual = (hour, usual)
        return usual

    # -- bookkeeping ----------------------------------------------------------------------------
    def _fire(self, kind: str, client: str, tool: str, now: float, period: float) -> bool:
        """True once per `period` for an alert of this kind, client and tool (no storms)."""
        key = (kind, client, tool)
        if now - self._fired.get(key, float("-inf")) < period:
            return False
        if len(self._fired) > 10_000:
            for old in [k for k, at in self._fired.items() if now - at > 86400]:
                del self._fired[old]
        self._fired[key] = now
        return True

    def _alert(self, kind: str, client: str, tool: str, now: float, **data: Any) -> dict[str, Any]:
        return {"event": "alert", "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
                "server": self.server, "kind": kind, "client": client, "tool": tool,
                **{k: v for k, v in data.items() if v is not None}}

    def _client(self, client: str) -> _Client:
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client()
            if len(self._clients) > _MAX_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client)
        return state

    def _series_for(self, key: tuple[str, str], hour: int) -> _Series:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(hour)
            if len(self._series) > _MAX_SERIES:
                self._series.popitem(last=False)
        else:
            self._series.move_to_end(key)
        return series

    def replay(self, settings: ServerSettings) -> int:
        """Rebuild the baseline from the server's audit log (rotated files too): its records of the
        last `anomaly_baseline_days`, and the alerts already raised. Returns the records read."""
        from oneapi_mcp.plugin_api import one_per_call, read_audit

        limits = self.limits(settings)
        since = _clock() - limits.baseline_days * 86400
        read = 0
        for at, record in one_per_call(read_audit(Path(settings.audit_log).expanduser(), since=since)):
            if record.get("server") != self.server:
                continue
            if record.get("event") == "alert":
                self.restore(record, at)
            elif "tool" in record:
                self.observe(record, limits, at, alert=False)
                read += 1
        return read


# -- one detector per running server -------------------------------------------------------------
_detectors: dict[int, tuple[weakref.ref, Detector]] = {}
_detectors_lock = threading.Lock()


def detector_for(runtime: Any, server: str) -> Detector:
    """The detector of a server's runtime (a fresh one for a new runtime, kept across reloads)."""
    key = id(runtime)
    with _detectors_lock:
        entry = _detectors.get(key)
        if entry is None or entry[0]() is not runtime:
            def forget(ref: weakref.ref, key: int = key) -> None:
                with _detectors_lock:
                    if _detectors.get(key, (None,))[0] is ref:
                        del _detectors[key]

            entry = _detectors[key] = (weakref.ref(runtime, forget), Detector(server))
        return entry[1]


def alert_event(alert: dict[str, Any]) -> dict[str, Any]:
    """The SIEM outbox event of an alert; its id is stable, so a re-queued alert is not sent twice."""
    from ._outbox import make_event, stable_event_id

    event_id = stable_event_id("anomaly", alert["server"], alert["kind"], alert["client"], alert["tool"],
                               alert["time"])
    return make_event("security", "anomaly_alert", alert, server=alert["server"], severity="warning",
                      event_id=event_id, at=alert["time"])


async def deliver(runtime: Any, settings: ServerSettings, alerts: list[dict[str, Any]]) -> None:
    """Log each alert, hand it to the plugins as a server event (the audit plugin writes it to the audit
    log), and queue it in the SIEM outbox."""
    from ._siem import siem_for

    for alert in alerts:
        _log.warning("anomaly on server %s: %s: %s", settings.name, alert["kind"], alert["message"])
        runtime.plugins.hook.oneapi_mcp_server_event(settings=settings, event=alert)
    siem = siem_for(settings, create=False)
    if siem is not None and siem.takes("security"):
        await siem.add([alert_event(a) for a in alerts])


# -- hooks ---------------------------------------------------------------------------------------
@hookimpl
def oneapi_mcp_startup(settings: ServerSettings, runtime: Any):
    if settings.audit_log is None or not settings.plugin_settings("anomaly").alerts:  # no log: nothing to rebuild
        return None
    detector = detector_for(runtime, settings.name)

    async def rebuild() -> None:
        try:
            read = await asyncio.to_thread(detector.replay, settings)
        except OSError as exc:  # an unreadable log costs the baseline, not the server
            _log.warning("server %s: could not rebuild the anomaly baseline from the audit log: %s", settings.name,
                         exc)
            return
        _log.info("server %s: anomaly baseline rebuilt from %d audit records", settings.name, read)

    return rebuild()


@hookimpl
def oneapi_mcp_audit_record(settings: ServerSettings, record: dict[str, Any], call: Any):
    """Each call's outcome record (handed over after the audit log has it): a call's alert follows its record."""
    if call is None or call.runtime is None or record.get("phase") != "outcome" \
            or not settings.plugin_settings("anomaly").alerts:
        return None
    return _watch(call.runtime, settings, record)


async def _watch(runtime: Any, settings: ServerSettings, entry: dict[str, Any]) -> None:
    try:
        detector = detector_for(runtime, settings.name)
        alerts = detector.observe(dict(entry), detector.limits(settings), _clock())
        if alerts:
            await deliver(runtime, settings, alerts)
    except Exception as exc:  # watching must never cost the call its answer
        _log.warning("anomaly detection failed for %s: %s", entry.get("tool"), type(exc).__name__)

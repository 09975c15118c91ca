"""A durable outbox for SIEM export: events are written to SQLite before any send, delivered at least
once to each destination, and taken off the queue only when the receiver acknowledged them (or, for
a transport that cannot acknowledge, when they were sent, and then status says so).

Destinations (the `siem_destinations` setting, plus webhooks registered at run time):

- `syslog`: RFC 5424 messages over a `transport` (`_syslog.py`): `tls` (RFC 5425; a clean TLS
  close_notify exchange after the batch acknowledges it), `relp` (one `200 OK` rsp per event), or the
  best-effort `tcp` and `udp`, which can only say an event was *sent*;
- `hec`: an HTTP event collector (Splunk HEC style): one POST of concatenated JSON events with
  `Authorization: Splunk <token>`; a 2xx whose JSON body, if any, has `code` 0 acknowledges the batch;
- `webhook`: one signed POST per event: `X-OneAPI-MCP-Timestamp` and
  `X-OneAPI-MCP-Signature: sha256=<hex>`, the HMAC-SHA256 of `"<timestamp>.<raw body>"`; 2xx
  acknowledges it.

Every event carries a stable id (a UUID) so receivers can drop the duplicates at-least-once
delivery may produce. A destination that fails is retried with exponential backoff (capped,
jittered); its events stay queued, in order, across outages and restarts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import random
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..composite._kit.receivers import check_url
from ._syslog import ACKNOWLEDGING, TRANSPORTS, SyslogError, octet_counted
from ._syslog import send as send_syslog_messages

__all__ = [
    "EVENT_KINDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Delivery",
    "DeliveryError",
    "Destination",
    "TRANSPORTS",
    "Outbox",
    "SiemConfigError",
    "backoff_delay",
    "make_event",
    "parse_destinations",
    "sign",
    "stable_event_id",
    "syslog_frame",
    "syslog_message",
    "verify_signature",
]

EVENT_KINDS = ("audit", "security")
SIGNATURE_HEADER = "X-OneAPI-MCP-Signature"
TIMESTAMP_HEADER = "X-OneAPI-MCP-Timestamp"
EVENT_ID_HEADER = "X-OneAPI-MCP-Event-Id"
BATCH = 200
_NAMESPACE = uuid.UUID("5b0f3c3e-7d4e-4e43-9a53-0f1d6b1c2a77")  # stable event ids: uuid5 in this namespace
_SD_ID = "oneapi@32473"  # 32473: the example enterprise number (RFC 5612), as SD-IDs need one
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SEVERITY = {"emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4, "notice": 5, "info": 6,
             "debug": 7}
_log = logging.getLogger("oneapi_mcp.siem")


# -- destinations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Destination:
    """Where events go. `secret` is the HEC token or the webhook signing secret (never shown)."""

    name: str
    type: str  # syslog | hec | webhook
    events: frozenset[str] = frozenset(EVENT_KINDS)
    host: str | None = None
    port: int | None = None
    tls: bool = False
    transport: str | None = None  # syslog: tls | relp | tcp | udp (None: tls if `tls` else tcp)
    ack_timeout: float = 10.0  # syslog: seconds to wait for the receiver to read or acknowledge
    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    verify: bool = True
    ca_file: str | None = None
    facility: int = 13  # log audit
    index: str | None = None
    sourcetype: str | None = None
    origin: str = "settings"  # settings | registered

    @property
    def syslog_transport(self) -> str:
        return self.transport or ("tls" if self.tls else "tcp")

    @property
    def acknowledges(self) -> bool:
        """Whether the receiver confirms each event (else an event is only ever *sent*)."""
        return self.type != "syslog" or self.syslog_transport in ACKNOWLEDGING

    def target(self) -> str:
        """Where it sends, without credentials or query strings."""
        if self.type == "syslog":
            scheme = self.syslog_transport + ("+tls" if self.syslog_transport == "relp" and self.tls else "")
            return f"{scheme}://{self.host}:{self.port}"
        parts = urlsplit(self.url or "")
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "target": self.target(), "events": sorted(self.events),
                "origin": self.origin, "guarantee": "acknowledged" if self.acknowledges else "best-effort"}


_COMMON = {"name", "type", "events"}
_KEYS = {
    "syslog": _COMMON | {"host", "port", "transport", "tls", "ack_timeout", "verify", "ca_file", "facility"},
    "hec": _COMMON | {"url", "token", "token_env", "verify", "ca_file", "index", "sourcetype"},
    "webhook": _COMMON | {"url", "secret", "secret_env", "verify", "ca_file"},
}


class SiemConfigError(Exception):
    """Invalid `siem_destinations`. Deliberately not a ValueError: pydantic would wrap one and print the
    rejected input beside it, and these tables hold tokens. `load_servers` names the server."""


def parse_destinations(raw: Any) -> tuple[Destination, ...]:
    """Validate the `siem_destinations` setting (a list of tables, or its JSON text); every problem
    is reported together, each naming the destination and the key, as a `SiemConfigError`."""
    try:
        return _parse(raw)
    except ValueError as exc:
        raise SiemConfigError(str(exc)) from None


def _parse(raw: Any) -> tuple[Destination, ...]:
    if isinstance(raw, Destination):
        raw = [raw]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"siem_destinations is not valid JSON ({exc})") from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise ValueError("siem_destinations must be a list of tables (TOML [[...siem_destinations]]) or a JSON "
                         "array of objects")
    out: list[Destination] = []
    problems: list[str] = []
    for n, item in enumerate(raw):
        if isinstance(item, Destination):
            out.append(item)
            continue
        label = f"siem_destinations[{n}]"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']})"
        try:
            out.append(_destination(item))
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    names = [d.name for d in out]
    problems += [f"siem_destinations: the name {name!r} is used more than once" for name in sorted(set(names))
                 if names.count(name) > 1]
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(out)


def _destination(item: Any) -> Destination:
    if not isinstance(item, dict):
        raise ValueError("must be a table with name and type")
    kind = item.get("type")
    if kind not in _KEYS:
        raise ValueError(f"type must be one of syslog, hec, webhook (got {kind!r})")
    unknown = sorted(set(item) - _KEYS[kind])
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} for a {kind} destination (it takes "
                         f"{', '.join(sorted(_KEYS[kind]))})")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError("name must be 1-64 letters, digits, '.', '_' or '-'")
    events = item.get("events", list(EVENT_KINDS))
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not events or any(e not in EVENT_KINDS for e in events):
        raise ValueError(f"events must be a non-empty list of {', '.join(EVENT_KINDS)}")
    common: dict[str, Any] = {"name": name, "type": kind, "events": frozenset(events),
                              "verify": _bool(item, "verify", True), "ca_file": _ca_file(item)}
    if kind == "syslog":
        host = item.get("host")
        if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
            raise ValueError("host is required (a hostname or IP address)")
        port = item.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError(f"port must be an integer from 1 to 65535 (got {port!r})")
        facility = item.get("facility", 13)
        if not isinstance(facility, int) or isinstance(facility, bool) or not 0 <= facility <= 23:
            raise ValueError(f"facility must be a syslog facility number from 0 to 23 (got {facility!r})")
        transport, tls = _transport(item)
        timeout = item.get("ack_timeout", 10.0)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0.1 <= timeout <= 300:
            raise ValueError(f"ack_timeout must be a number of seconds from 0.1 to 300 (got {timeout!r})")
        return Destination(**common, host=host.strip(), port=port, tls=tls, transport=transport,
                           ack_timeout=float(timeout), facility=facility)
    url = check_url(item.get("url"), "url")
    secret_key = "token" if kind == "hec" else "secret"
    secret = _secret(item, secret_key)
    if kind == "hec":
        for key in ("index", "sourcetype"):
            if key in item and (not isinstance(item[key], str) or not item[key]):
                raise ValueError(f"{key} must be a non-empty string")
        return Destination(**common, url=url, secret=secret, index=item.get("index"),
                           sourcetype=item.get("sourcetype"))
    if len(secret) < 16:
        raise ValueError("secret must be at least 16 characters (it keys the HMAC-SHA256 signature)")
    return Destination(**common, url=url, secret=secret)


def _transport(item: dict[str, Any]) -> tuple[str, bool]:
    """Plain TCP cannot prove delivery, so it is never the silent default: without `transport`,
    `tls = true` means RFC 5425 and anything else is an error naming the choices."""
    tls = _bool(item, "tls", False)
    transport = item.get("transport")
    if transport is None:
        if not tls:
            raise ValueError('transport is required: "tls" (RFC 5425, the receiver confirms each batch by closing '
                             'TLS cleanly), "relp" (the receiver acks each event), or the best-effort "tcp" or "udp" '
                             "(plain syslog cannot prove an event was received: it is counted sent, never "
                             "acknowledged)")
        transport = "tls"
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)} (got {transport!r})")
    if transport in ("tcp", "udp") and tls:
        raise ValueError(f'tls = true does not go with transport "{transport}"; use transport "tls" (or "relp" with '
                         "tls = true)")
    return transport, tls or transport == "tls"


def _bool(item: dict[str, Any], key: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false (got {value!r})")
    return value


def _ca_file(item: dict[str, Any]) -> str | None:
    path = item.get("ca_file")
    if path is None:
        return None
    if not isinstance(path, str) or not Path(path).expanduser().is_file():
        raise ValueError(f"ca_file {path!r} is not a readable file")
    return str(Path(path).expanduser())


def _secret(item: dict[str, Any], key: str) -> str:
    env_key = f"{key}_env"
    if key in item and env_key in item:
        raise ValueError(f"give {key} or {env_key}, not both")
    if env_key in item:
        var = item[env_key]
        value = os.environ.get(var) if isinstance(var, str) else None
        if not value:
            raise ValueError(f"{env_key}: the environment variable {var!r} is not set")
        return value
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} (or {env_key}, the name of an environment variable holding it) is required")
    return value


# -- events --------------------------------------------------------------------------------------
def stable_event_id(*parts: Any) -> str:
    """The same id for the same source event, however often it is exported."""
    return str(uuid.uuid5(_NAMESPACE, json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)))


def make_event(kind: str, type_: str, data: dict[str, Any], *, server: str, severity: str = "info",
               event_id: str | None = None, at: datetime | str | None = None) -> dict[str, Any]:
    if kind not in EVENT_KINDS:
        raise ValueError(f"event kind must be one of {EVENT_KINDS}")
    if isinstance(at, datetime):
        when = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    elif isinstance(at, str):
        when = at.replace("+00:00", "Z")
    else:
        when = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": event_id or str(uuid.uuid4()), "time": when, "source": "oneapi-mcp", "server": server,
            "kind": kind, "type": type_, "severity": severity if severity in _SEVERITY else "info", "data": data}


def _epoch(event: dict[str, Any]) -> float:
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return time.time()


def _sd_value(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_field(value: Any, limit: int) -> str:
    text = "".join(c for c in str(value) if 33 <= ord(c) <= 126)[:limit]
    return text or "-"


def syslog_frame(event: dict[str, Any], *, facility: int = 13, hostname: str | None = None) -> bytes:
    """One RFC 5424 message, octet-counted per RFC 6587 (as sent over `tls` and `tcp`)."""
    return octet_counted(syslog_message(event, facility=facility, hostname=hostname))


def syslog_message(event: dict[str, Any], *, facility: int = 13, hostname: str | None = None) -> bytes:
    """One RFC 5424 message (MSG: UTF-8 BOM + the event's JSON), unframed (a RELP or UDP payload)."""
    pri = facility * 8 + _SEVERITY.get(str(event.get("severity")), 6)
    stamp = _header_field(event.get("time"), 32)
    host = _header_field(hostname or socket.gethostname(), 255)
    sd = (f'[{_SD_ID} eventId="{_sd_value(event["id"])}" kind="{_sd_value(event.get("kind"))}" '
          f'server="{_sd_value(event.get("server"))}"]')
    body = json.dumps(event, separators=(",", ":"), sort_keys=True, default=str, ensure_ascii=False)
    message = (f"<{pri}>1 {stamp} {host} oneapi-mcp {os.getpid()} {_header_field(event.get('type'), 32)} {sd} "
               ).encode() + b"\xef\xbb\xbf" + body.encode()
    return message


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature header value: `sha256=` + HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300.0,
                     now: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (stops replays)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def backoff_delay(failures: int, initial: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds before the next attempt after `failures` failures in a row: exponential, capped, with
    equal jitter (between half and all of the capped delay)."""
    full = min(cap, initial * 2 ** max(0, failures - 1))
    return full / 2 + rand() * full / 2


# -- the store -----------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered REAL,
    last_error TEXT,
    UNIQUE (event_id, destination)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (destination, delivered, seq);
CREATE TABLE IF NOT EXISTS destinations (
    name TEXT PRIMARY KEY,
    last_error TEXT,
    last_error_at REAL,
    last_success_at REAL,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS webhooks (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created REAL NOT NULL
);
"""


class Outbox:
    """The SQLite file (WAL, synchronous=FULL: a committed event survives a crash). Thread-safe;
    async code calls it through `asyncio.to_thread`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(self.path, 0o600)  # webhook secrets live here
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return out

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # events
    def enqueue(self, events: Iterable[dict[str, Any]], destinations: Iterable[Destination]) -> int:
        """Persist each event once per destination that takes its kind; returns the rows added
        (an event already queued or delivered to a destination is not added again)."""
        now = time.time()
        rows = [(e["id"], d.name, e["kind"], json.dumps(e, sort_keys=True, default=str), now)
                for e in events for d in destinations if e["kind"] in d.events]
        if not rows:
            return 0

        def insert(db: sqlite3.Connection) -> int:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO events (event_id, destination, kind, body, created) "
                           "VALUES (?, ?, ?, ?, ?)", rows)
            return db.total_changes - before

        return self._tx(insert)

    def pending(self, destination: str, limit: int = BATCH) -> list[tuple[int, dict[str, Any]]]:
        rows = self._query("SELECT seq, body FROM events WHERE destination = ? AND delivered IS NULL "
                           "ORDER BY seq LIMIT ?", (destination, limit))
        return [(seq, json.loads(body)) for seq, body in rows]

    def mark_delivered(self, destination: str, seqs: Sequence[int]) -> None:
        now = time.time()

        def mark(db: sqlite3.Connection) -> None:
            db.executemany("UPDATE events SET delivered = ?, attempts = attempts + 1, last_error = NULL "
                           "WHERE seq = ?", [(now, s) for s in seqs])
            db.execute("INSERT INTO destinations (name, last_success_at, failures) VALUES (?, ?, 0) "
                       "ON CONFLICT (name) DO UPDATE SET last_success_at = excluded.last_success_at, failures = 0",
                       (destination, now))

        if seqs:
            self._tx(mark)

    def mark_failed(self, destination: str, seqs: Sequence[int], error: str) -> int:
        """Record a failed attempt; returns the destination's failures in a row."""
        now = time.time()

        def mark(db: sqlite3.Connection) -> int:
            db.executemany("UPDATE events SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                           [(error, s) for s in seqs])
            db.execute("INSERT INTO destinations (name, last_error, last_error_at, failures) VALUES (?, ?, ?, 1) "
                       "ON CONFLICT (name) DO UPDATE SET last_error = excluded.last_error, "
                       "last_error_at = excluded.last_error_at, failures = failures + 1", (destination, error, now))
            return db.execute("SELECT failures FROM destinations WHERE name = ?", (destination,)).fetchone()[0]

        return self._tx(mark)

    def drop(self, destination: str) -> int:
        """Forget a destination (a removed webhook): its undelivered events are dropped."""
        def delete(db: sqlite3.Connection) -> int:
            pending = db.execute("DELETE FROM events WHERE destination = ? AND delivered IS NULL",
                                 (destination,)).rowcount
            db.execute("DELETE FROM events WHERE destination = ?", (destination,))
            db.execute("DELETE FROM destinations WHERE name = ?", (destination,))
            return pending

        return self._tx(delete)

    def prune(self, older_than: float) -> int:
        """Delete delivered events older than `older_than` seconds (their ids are kept no longer)."""
        cutoff = time.time() - older_than
        return self._tx(lambda db: db.execute("DELETE FROM events WHERE delivered IS NOT NULL AND delivered < ?",
                                              (cutoff,)).rowcount)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per destination: pending, delivered, oldest pending event's creation time, last error, last success."""
        out: dict[str, dict[str, Any]] = {}
        for name, pending, delivered, oldest, attempts in self._query(
                "SELECT destination, SUM(delivered IS NULL), SUM(delivered IS NOT NULL), "
                "MIN(CASE WHEN delivered IS NULL THEN created END), MAX(CASE WHEN delivered IS NULL THEN attempts END) "
                "FROM events GROUP BY destination"):
            out[name] = {"pending": pending or 0, "delivered": delivered or 0, "oldest_pending": oldest,
                         "max_attempts": attempts or 0}
        for name, error, error_at, success_at, failures in self._query(
                "SELECT name, last_error, last_error_at, last_success_at, failures FROM destinations"):
            entry = out.setdefault(name, {"pending": 0, "delivered": 0, "oldest_pending": None, "max_attempts": 0})
            entry.update(last_error=error, last_error_at=error_at, last_success_at=success_at, failures=failures)
        return out

    # webhooks registered at run time
    def webhooks(self) -> list[Destination]:
        rows = self._query("SELECT name, url, secret, events, created FROM webhooks ORDER BY name")
        return [Destination(name=n, type="webhook", url=u, secret=s, events=frozenset(json.loads(e)),
                            origin="registered") for n, u, s, e, _c in rows]

    def webhook_created(self, name: str) -> float | None:
        rows = self._query("SELECT created FROM webhooks WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def put_webhook(self, hook: Destination) -> None:
        self._tx(lambda db: db.execute(
            "INSERT INTO webhooks (name, url, secret, events, created) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events",
            (hook.name, hook.url, hook.secret, json.dumps(sorted(hook.events)), time.time())))

    def delete_webhook(self, name: str) -> bool:
        return bool(self._tx(lambda db: db.execute("DELETE FROM webhooks WHERE name = ?", (name,)).rowcount))


# -- sending -------------------------------------------------------------------------------------
OnDone = Callable[[list[int]], None]  # called with the batch indices the receiver took (thread-safe)


class DeliveryError(Exception):
    """What is left of a batch was not acknowledged (what was is already reported through `on_done`)."""


def _ssl_context(dest: Destination):
    import ssl

    context = ssl.create_default_context(cafile=dest.ca_file)
    if not dest.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def send_syslog(dest: Destination, events: Sequence[dict[str, Any]], on_done: OnDone) -> None:
    """RFC 5424 messages over the destination's transport (`_syslog.py` says what each one proves)."""
    hostname = socket.gethostname()
    messages = [syslog_message(e, facility=dest.facility, hostname=hostname) for e in events]
    context = _ssl_context(dest) if dest.tls or dest.syslog_transport == "tls" else None
    try:
        await asyncio.to_thread(send_syslog_messages, dest.syslog_transport, dest.host, dest.port, messages,
                                on_done, context=context, timeout=dest.ack_timeout)
    except SyslogError as exc:
        raise DeliveryError(str(exc)) from None


async def send_hec(dest: Destination, events: Sequence[dict[str, Any]], client: Any, on_done: OnDone) -> None:
    """One POST of concatenated HEC event objects; a 2xx with HEC's `code` 0 (or no JSON body)
    acknowledges the whole batch."""
    host = socket.gethostname()
    lines = []
    for e in events:
        item: dict[str, Any] = {"time": round(_epoch(e), 3), "host": host, "source": f"oneapi-mcp:{e.get('server')}",
                                "sourcetype": dest.sourcetype or f"oneapi:mcp:{e.get('kind')}", "event": e}
        if dest.index:
            item["index"] = dest.index
        lines.append(json.dumps(item, separators=(",", ":"), sort_keys=True, default=str))
    body = "\n".join(lines).encode()
    response = await _post(dest, client, body, {"Authorization": f"Splunk {dest.secret}",
                                                "Content-Type": "application/json"})
    _check_hec_code(dest, response)
    await asyncio.to_thread(on_done, list(range(len(events))))


def _check_hec_code(dest: Destination, response: Any) -> None:
    """Splunk HEC answers `{"text": "Success", "code": 0}`; any other code (e.g. 6 "Invalid data
    format", 12 "Event field is required") means the events were not indexed, whatever the status
    (Splunk docs, "Troubleshoot HTTP Event Collector": HEC response codes)."""
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and "code" in answer and answer["code"] != 0:
        text = str(answer.get("text", ""))[:120]
        raise DeliveryError(f"POST {dest.target()} answered HTTP {response.status_code} with HEC code "
                            f"{answer['code']} ({text}): the batch was not indexed")


async def send_webhook(dest: Destination, events: Sequence[dict[str, Any]], client: Any, on_done: OnDone) -> None:
    """One signed POST per event, in order; stops at the first that is not acknowledged."""
    for n, e in enumerate(events):
        body = json.dumps(e, separators=(",", ":"), sort_keys=True, default=str).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: e["id"], TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: sign(dest.secret or "", stamp, body)}
        await _post(dest, client, body, headers)
        await asyncio.to_thread(on_done, [n])


async def _post(dest: Destination, client: Any, body: bytes, headers: dict[str, str]) -> Any:
    import httpx

    try:
        response = await client.post(dest.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"POST {dest.target()} failed: {_reason(exc)}") from None
    if not 200 <= response.status_code < 300:
        hint = {401: " (check the token or secret)", 403: " (check the token or secret)",
                413: " (the batch is too large for the receiver)"}.get(response.status_code, "")
        raise DeliveryError(f"POST {dest.target()} answered HTTP {response.status_code}{hint}")
    return response


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, OSError) or len(text) < 200 else text[:200]


# -- delivery ------------------------------------------------------------------------------------
@dataclass
class _State:
    failures: int = 0
    next_attempt: float = 0.0  # monotonic
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Delivery:
    """Moves events from the outbox to the destinations: a background loop (`start`/`stop`) and
    `flush` on demand. One attempt at a time per destination; in order within a destination."""

    def __init__(self, outbox: Outbox, destinations: Callable[[], Sequence[Destination]], *,
                 retry_initial: float = 2.0, retry_max: float = 300.0, rand: Callable[[], float] = random.random,
                 clock: Callable[[], float] = time.monotonic):
        self.outbox = outbox
        self.destinations = destinations
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self._rand, self._clock = rand, clock
        self._states: dict[str, _State] = {}
        self._clients: dict[tuple[bool, str | None], Any] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def state(self, name: str) -> _State:
        if name not in self._states:
            self._states[name] = _State()
        return self._states[name]

    def retry_in(self, name: str) -> float | None:
        state = self._states.get(name)
        if state is None or not state.failures:
            return None
        return max(0.0, state.next_attempt - self._clock())

    async def deliver(self, dest: Destination, *, force: bool = False) -> dict[str, Any]:
        """Send what is queued for `dest`, batch by batch, until it is empty or an attempt fails.
        Unless `force`, a destination waiting out its backoff is left alone. The report counts events
        `acknowledged` by the receiver, or only `sent` over a best-effort transport (udp, plain tcp)."""
        state = self.state(dest.name)
        counted = "acknowledged" if dest.acknowledges else "sent"
        report: dict[str, Any] = {"destination": dest.name, "acknowledged": 0, "sent": 0, "error": None}
        async with state.lock:
            if not force and state.failures and self._clock() < state.next_attempt:
                report["skipped"] = "waiting to retry"
                return report
            while True:
                batch = await asyncio.to_thread(self.outbox.pending, dest.name, BATCH)
                if not batch:
                    break
                seqs = [s for s, _ in batch]
                done: set[int] = set()
                lock = threading.Lock()

                def on_done(indices: list[int], seqs: list[int] = seqs, done: set[int] = done,
                            lock: threading.Lock = lock) -> None:
                    with lock:  # each acknowledged event leaves the queue as its ack arrives
                        fresh = [i for i in indices if i not in done]
                        done.update(fresh)
                    self.outbox.mark_delivered(dest.name, [seqs[i] for i in fresh])

                try:
                    await self._send(dest, [e for _, e in batch], on_done)
                    if len(done) < len(seqs):
                        raise DeliveryError(f"{dest.target()} left {len(seqs) - len(done)} event(s) unacknowledged")
                except DeliveryError as exc:
                    report[counted] += len(done)
                    rest = [s for i, s in enumerate(seqs) if i not in done]
                    failures = await asyncio.to_thread(self.outbox.mark_failed, dest.name, rest, str(exc))
                    state.failures = failures
                    state.next_attempt = self._clock() + backoff_delay(failures, self.retry_initial, self.retry_max,
                                                                       self._rand)
                    report["error"] = str(exc)
                    _log.warning("SIEM destination %s: %s (%d failure(s) in a row; events kept in the outbox)",
                                 dest.name, exc, failures)
                    break
                report[counted] += len(done)
                state.failures, state.next_attempt = 0, 0.0
        return report

    async def _send(self, dest: Destination, events: list[dict[str, Any]], on_done: OnDone) -> None:
        if dest.type == "syslog":
            return await send_syslog(dest, events, on_done)
        client = self._client(dest)
        if dest.type == "hec":
            return await send_hec(dest, events, client, on_done)
        return await send_webhook(dest, events, client, on_done)

    def _client(self, dest: Destination) -> Any:
        import httpx

        key = (dest.verify, dest.ca_file)
        if key not in self._clients:
            verify: Any = _ssl_context(dest) if dest.ca_file else dest.verify
            self._clients[key] = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), verify=verify,
                                                   follow_redirects=False,
                                                   headers={"User-Agent": "oneapi-mcp-siem"})
        return self._clients[key]

    async def flush(self, names: Iterable[str] | None = None, *, force: bool = True) -> list[dict[str, Any]]:
        wanted = set(names) if names is not None else None
        targets = [d for d in self.destinations() if wanted is None or d.name in wanted]
        return list(await asyncio.gather(*(self.deliver(d, force=force) for d in targets)))

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="oneapi-mcp-siem-delivery")

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                await self.flush(force=False)
            except Exception as exc:  # a broken destination must not stop delivery to the others
                _log.warning("SIEM delivery pass failed: %s", type(exc).__name__)
            waits = [s.next_attempt - self._clock() for s in self._states.values() if s.failures]
            timeout = max(0.05, min([30.0, *waits]))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self._wake.clear()
        await self.flush(force=False)  # one last pass: what the final calls queued, unless backing off

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (after one last pass over destinations that are not backing off)."""
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            self.wake()
            try:
                await asyncio.wait_for(task, timeout)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

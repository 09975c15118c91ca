"""Syslog transports that report only what the receiver confirmed.

TCP alone proves nothing: a drained socket means the bytes reached our kernel, not that anyone read
them (a receiver that accepted and never read lost 4 of 65 events while we counted them delivered).
So each transport says which of its messages are *done*, and how much that is worth:

- `tls` (RFC 5425): octet-counted frames (RFC 6587) over TLS, then the TLS closing handshake. Our
  close_notify follows the batch in the same record stream; the receiver's TLS stack answers with its
  own close_notify only after its application has read every record before it (RFC 5425 section 4.4,
  "closure": the receiver reads until it sees close_notify, then answers). A clean close_notify
  exchange acknowledges the whole batch; a timeout or a bare TCP close acknowledges nothing.
- `relp`: RELP, the Reliable Event Logging Protocol (librelp, doc/relp.html; rsyslog omrelp/imrelp),
  optionally over TLS: `open` with our offers, one `syslog` command per message, each answered by an
  `rsp` carrying the same txnr and `200 OK`; then `close`. Each `200` acknowledges exactly that message.
- `tcp`, `udp`: best effort (RFC 6587 plain TCP, RFC 5426 one datagram per message). Nothing comes
  back, so a message is only *sent*, never acknowledged; status says so.

Every function here is blocking (run it in a thread) and raises `SyslogError` with a sentence a
person can act on. `on_done(indices)` is called as messages are done, possibly several times.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence

__all__ = ["ACKNOWLEDGING", "RELP_WINDOW", "TRANSPORTS", "SyslogError", "octet_counted", "relp_frame", "send"]

TRANSPORTS = ("tls", "relp", "tcp", "udp")
ACKNOWLEDGING = frozenset({"tls", "relp"})
RELP_WINDOW = 128  # unacknowledged syslog commands in flight (librelp's default window)
_RELP_OFFERS = b"relp_version=0\nrelp_software=oneapi-mcp\ncommands=syslog"
_UDP_MAX = 65_000

OnDone = Callable[[list[int]], None]


class SyslogError(Exception):
    """The batch (or what is left of it) was not confirmed."""


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 octet counting: the message's length in bytes, a space, the message."""
    return str(len(message)).encode() + b" " + message


def relp_frame(txnr: int, command: str, data: bytes = b"") -> bytes:
    """`TXNR SP COMMAND SP DATALEN [SP DATA] LF` (with DATALEN 0 there is no SP before the LF)."""
    head = f"{txnr} {command} {len(data)}".encode()
    return head + (b" " + data if data else b"") + b"\n"


def send(transport: str, host: str, port: int, messages: Sequence[bytes], on_done: OnDone, *,
         context: ssl.SSLContext | None = None, timeout: float = 10.0) -> None:
    """Send RFC 5424 `messages` (unframed) over `transport`; `context` is the TLS context (required for
    `tls`, optional for `relp`, ignored otherwise)."""
    if transport == "udp":
        return _udp(host, port, messages, on_done)
    where = f"{transport}://{host}:{port}"
    sock = _connect(host, port, where, context, timeout)
    try:
        if transport == "tls":
            _tls(sock, where, messages, on_done, timeout)
        elif transport == "relp":
            _Relp(sock, where, timeout).session(messages, on_done)
        else:
            _write(sock, where, b"".join(octet_counted(m) for m in messages), timeout)
            on_done(list(range(len(messages))))
    finally:
        sock.close()


def _connect(host: str, port: int, where: str, context: ssl.SSLContext | None, timeout: float) -> socket.socket:
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise SyslogError(f"cannot connect to {where}: {_reason(exc)}") from None
    if context is None:
        return raw
    try:
        return context.wrap_socket(raw, server_hostname=host)  # the handshake runs under the timeout
    except TimeoutError:
        raw.close()
        raise SyslogError(f"{where} accepted the connection but did not complete the TLS handshake within "
                          f"{timeout:g} s (is it reading?)") from None
    except OSError as exc:
        raw.close()
        raise SyslogError(f"TLS handshake with {where} failed: {_reason(exc)}") from None


def _write(sock: socket.socket, where: str, data: bytes, timeout: float) -> None:
    try:
        sock.sendall(data)
    except TimeoutError:
        raise SyslogError(f"{where} stopped reading: its receive window stayed full for {timeout:g} s; the "
                          "batch stays queued") from None
    except OSError as exc:
        raise SyslogError(f"sending to {where} failed: {_reason(exc)}") from None


def _tls(sock: ssl.SSLSocket, where: str, messages: Sequence[bytes], on_done: OnDone, timeout: float) -> None:
    _write(sock, where, b"".join(octet_counted(m) for m in messages), timeout)
    try:
        sock.unwrap()  # sends our close_notify, then blocks until the receiver's arrives
    except TimeoutError:
        raise SyslogError(f"{where} did not answer the TLS close_notify within {timeout:g} s: it has not "
                          "confirmed reading the batch, which stays queued") from None
    except OSError as exc:
        raise SyslogError(f"{where} closed without a clean TLS close_notify exchange ({_reason(exc)}): the batch "
                          "is not confirmed and stays queued") from None
    on_done(list(range(len(messages))))


def _udp(host: str, port: int, messages: Sequence[bytes], on_done: OnDone) -> None:
    where = f"udp://{host}:{port}"
    too_big = [n for n, m in enumerate(messages) if len(m) > _UDP_MAX]
    if too_big:
        raise SyslogError(f"{len(too_big)} event(s) exceed {_UDP_MAX} bytes, too large for one UDP datagram; use "
                          "transport tls or relp")
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            for n, message in enumerate(messages):
                sock.sendto(message, address)
                on_done([n])
    except OSError as exc:
        raise SyslogError(f"sending to {where} failed: {_reason(exc)}") from None


class _Relp:
    """A RELP client session on a connected (maybe TLS) socket."""

    def __init__(self, sock: socket.socket, where: str, timeout: float):
        self.sock, self.where, self.timeout = sock, where, timeout
        self.buffer, self._last = b"", b""

    def session(self, messages: Sequence[bytes], on_done: OnDone) -> None:
        self._send(relp_frame(1, "open", _RELP_OFFERS))
        code, text, offers = self._answer(1, "an answer to the open command")
        if code != "200":
            raise SyslogError(f"{self.where} refused the RELP session: {code} {text}".rstrip())
        commands = {c for line in offers.splitlines() if line.startswith("commands=")
                    for c in line[len("commands="):].split(",")}
        if "syslog" not in commands:
            raise SyslogError(f"{self.where} does not offer the RELP syslog command (it offers "
                              f"{', '.join(sorted(commands)) or 'nothing'})")
        in_flight: dict[int, int] = {}  # txnr -> message index
        refused: list[str] = []
        for n, message in enumerate(messages):
            txnr = n + 2
            self._send(relp_frame(txnr, "syslog", message))
            in_flight[txnr] = n
            while len(in_flight) >= RELP_WINDOW:
                self._settle(in_flight, on_done, refused)
        while in_flight:
            self._settle(in_flight, on_done, refused)
        close = len(messages) + 2
        self._send(relp_frame(close, "close"))
        self._answer(close, "an answer to the close command")  # its rsp; a serverclose may follow, nothing else matters
        if refused:
            raise SyslogError(f"{self.where} refused {len(refused)} event(s) (first: {refused[0]}); they stay queued")

    def _settle(self, in_flight: dict[int, int], on_done: OnDone, refused: list[str]) -> None:
        txnr, command, data = self._frame(f"the ack of {len(in_flight)} event(s)")
        if command != "rsp" or txnr not in in_flight:
            raise SyslogError(f"{self.where} sent {command} {txnr}, not an ack of an event in flight")
        index = in_flight.pop(txnr)
        code, text, _ = _rsp(data)
        if code == "200":
            on_done([index])
        else:
            refused.append(f"{code} {text}".strip())

    def _answer(self, txnr: int, what: str) -> tuple[str, str, str]:
        got, command, data = self._frame(what)
        if command != "rsp" or got != txnr:
            raise SyslogError(f"{self.where} answered {what} with {command} {got}, not rsp {txnr}")
        return _rsp(data)

    def _send(self, data: bytes) -> None:
        _write(self.sock, self.where, data, self.timeout)

    def _frame(self, what: str) -> tuple[int, str, bytes]:
        txnr = self._token(what, 10)
        command = self._token(what, 32).decode("ascii", "replace")
        size = self._token(what, 10, ends=b" \n")
        if not (txnr.isdigit() and size.isdigit()):
            raise SyslogError(f"{self.where} sent a malformed RELP frame")
        length = int(size)
        data = self._take(length + 1, what) if self._last == b" " else b"\n"
        if not data.endswith(b"\n"):
            raise SyslogError(f"{self.where} sent a RELP frame without its trailer")
        if command == "serverclose":
            raise SyslogError(f"{self.where} closed the RELP session while {what} was awaited")
        return int(txnr), command, data[:-1]

    def _token(self, what: str, limit: int, ends: bytes = b" ") -> bytes:
        while True:
            for n, byte in enumerate(self.buffer[:limit + 1]):
                if bytes([byte]) in ends:
                    token, self._last, self.buffer = self.buffer[:n], bytes([byte]), self.buffer[n + 1:]
                    return token
            if len(self.buffer) > limit:
                raise SyslogError(f"{self.where} sent a malformed RELP frame")
            self._fill(what)

    def _take(self, count: int, what: str) -> bytes:
        while len(self.buffer) < count:
            self._fill(what)
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _fill(self, what: str) -> None:
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise SyslogError(f"{self.where} did not send {what} within {self.timeout:g} s; unacknowledged events "
                              "stay queued") from None
        except OSError as exc:
            raise SyslogError(f"reading from {self.where} failed: {_reason(exc)}") from None
        if not chunk:
            raise SyslogError(f"{self.where} closed the connection before {what}; unacknowledged events stay queued")
        self.buffer += chunk


def _rsp(data: bytes) -> tuple[str, str, str]:
    """An rsp's data: `CODE [SP TEXT] [LF offers]`."""
    head, _, rest = data.decode("utf-8", "replace").partition("\n")
    code, _, text = head.partition(" ")
    return code, text, rest


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]

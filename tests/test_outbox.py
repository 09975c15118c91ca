"""The SIEM outbox against real receivers on 127.0.0.1: an asyncio TCP syslog listener that parses
RFC 5424 octet-counted frames (plain and TLS), and an HTTP receiver that checks the HEC token or
the webhook's HMAC signature; receivers that are down, then back; the store reopened."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from oneapi_mcp.plugins.ops._outbox import (
    Delivery,
    Destination,
    Outbox,
    SiemConfigError,
    backoff_delay,
    make_event,
    parse_destinations,
    sign,
    stable_event_id,
    syslog_frame,
    verify_signature,
)

from oneapi_mcp._settings import ConfigError, ServerSettings, load_servers

pytestmark = pytest.mark.anyio
SECRET = "whsec-0123456789abcdef"
HEC_TOKEN = "11111111-2222-3333-4444-555555555555"


# -- receivers ---------------------------------------------------------------------------------------
def parse_rfc5424(message: bytes) -> dict:
    """One RFC 5424 message: header fields, structured data (id -> params), MSG."""
    head = re.match(rb"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ", message)
    assert head, message[:80]
    pri, stamp, host, app, procid, msgid = head.groups()
    rest = message[head.end():].decode()
    sd: dict[str, dict[str, str]] = {}
    if rest.startswith("-"):
        rest = rest[1:]
    while rest.startswith("["):
        close, n, escaped = None, 1, False
        while close is None:  # the element ends at the first unescaped ]
            ch = rest[n]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "]":
                close = n
            n += 1
        element = rest[1:close]
        sd_id, _, params = element.partition(" ")
        sd[sd_id] = {k: re.sub(r'\\(["\\\]])', r"\1", v)
                     for k, v in re.findall(r'(\S+?)="((?:[^"\\]|\\.)*)"', params)}
        rest = rest[close + 1:]
    assert rest.startswith(" \ufeff"), "MSG starts with a UTF-8 BOM"
    return {"pri": int(pri), "time": stamp.decode(), "host": host.decode(), "app": app.decode(),
            "procid": procid.decode(), "msgid": msgid.decode(), "sd": sd, "msg": json.loads(rest[2:])}


class SyslogReceiver:
    """An asyncio TCP server (in its own thread) reading octet-counted frames (RFC 6587)."""

    def __init__(self, port: int = 0, tls: ssl.SSLContext | None = None):
        self.port, self.tls = port, tls
        self.messages: list[dict] = []
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                digits = await reader.readuntil(b" ")
                length = int(digits[:-1])
                self.messages.append(parse_rfc5424(await reader.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def start(self) -> SyslogReceiver:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self.tls, reuse_address=True))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def ids(self) -> list[str]:
        return [m["msg"]["id"] for m in self.messages]


class HttpReceiver:
    """A threaded http.server: checks HEC tokens or webhook signatures; can fail on purpose."""

    def __init__(self, port: int = 0, *, secret: str | None = None, token: str | None = None):
        self.port, self.secret, self.token = port, secret, token
        self.requests: list[dict] = []
        self.accepted: list[dict] = []  # events acknowledged with a 2xx
        self.fail_next = 0  # answer this many requests with 503
        self.lose_answer_next = 0  # accept this many, then answer 500 (the sender retries: a duplicate)
        self.answer_next: list[bytes] = []  # bodies for the next 2xx answers (HEC's {"text", "code"})
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                entry = {"path": self.path, "headers": dict(self.headers), "body": body}
                receiver.requests.append(entry)
                status = receiver._judge(entry)
                answer = receiver.answer_next.pop(0) if status == 200 and receiver.answer_next else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def _judge(self, entry: dict) -> int:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        if self.token is not None:
            if headers.get("authorization") != f"Splunk {self.token}":
                return 401
            events = [json.loads(line)["event"] for line in entry["body"].decode().splitlines()]
        else:
            stamp = headers.get("x-oneapi-mcp-timestamp", "")
            expected = "sha256=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + entry["body"],
                                            hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, headers.get("x-oneapi-mcp-signature", "")):
                return 401
            if abs(time.time() - int(stamp)) > 300:
                return 401
            events = [json.loads(entry["body"])]
        if self.fail_next:
            self.fail_next -= 1
            return 503
        self.accepted.extend(events)
        if self.lose_answer_next:
            self.lose_answer_next -= 1
            return 500
        return 200

    def ids(self) -> list[str]:
        return [e["id"] for e in self.accepted]


def closed_port() -> int:
    """A port nothing listens on (for a receiver that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def events(n: int, kind: str = "audit") -> list[dict]:
    return [make_event(kind, "tool_call", {"tool": f"tool_{i}", "n": i}, server="test") for i in range(n)]


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "siem.sqlite3")
    yield box
    box.close()


def delivery(outbox: Outbox, *dests: Destination, initial: float = 0.05, cap: float = 0.2) -> Delivery:
    return Delivery(outbox, lambda: list(dests), retry_initial=initial, retry_max=cap)


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# -- syslog ------------------------------------------------------------------------------------------
async def test_syslog_frames_are_octet_counted_rfc5424_and_plain_tcp_counts_them_sent_never_acknowledged(outbox):
    receiver = SyslogReceiver().start()
    try:
        dest = Destination(name="syslog", type="syslog", host="127.0.0.1", port=receiver.port, facility=10,
                           transport="tcp")
        queued = events(3)
        queued[1]["severity"], queued[1]["data"]["tricky"] = "warning", 'quote " bracket ] é'
        assert outbox.enqueue(queued, [dest]) == 3
        report = await delivery(outbox, dest).deliver(dest)
        assert report == {"destination": "syslog", "acknowledged": 0, "sent": 3, "error": None}
        assert dest.describe()["guarantee"] == "best-effort"
        await wait_for(lambda: len(receiver.messages) == 3)
    finally:
        receiver.stop()
    first, second = receiver.messages[0], receiver.messages[1]
    assert receiver.ids() == [e["id"] for e in queued]  # in order
    assert first["pri"] == 10 * 8 + 6 and second["pri"] == 10 * 8 + 4  # facility authpriv; info, warning
    assert first["app"] == "oneapi-mcp" and first["msgid"] == "tool_call" and first["time"].endswith("Z")
    assert first["sd"]["oneapi@32473"] == {"eventId": queued[0]["id"], "kind": "audit", "server": "test"}
    assert second["msg"]["data"]["tricky"] == 'quote " bracket ] é'
    assert outbox.pending("syslog") == [] and outbox.stats()["syslog"]["delivered"] == 3


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_syslog_over_tls_verifies_the_listener_against_the_given_ca(outbox, tmp_path):
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    receiver = SyslogReceiver(tls=server_tls).start()
    try:
        trusting = Destination(name="tls", type="syslog", host="127.0.0.1", port=receiver.port, tls=True,
                               ca_file=str(cert))
        untrusting = Destination(name="tls-no-ca", type="syslog", host="127.0.0.1", port=receiver.port, tls=True)
        batch = events(2)
        outbox.enqueue(batch, [trusting, untrusting])
        sender = delivery(outbox, trusting, untrusting)
        good, bad = await sender.flush()
        await wait_for(lambda: len(receiver.messages) == 2)
    finally:
        receiver.stop()
    assert good["acknowledged"] == 2 and receiver.ids() == [e["id"] for e in batch]  # clean close_notify exchange
    assert outbox.pending("tls") == [] and trusting.describe()["guarantee"] == "acknowledged"
    assert bad["acknowledged"] == 0 and "CERTIFICATE_VERIFY_FAILED" in bad["error"]
    assert len(outbox.pending("tls-no-ca")) == 2  # not verified, not sent, kept


def relp_frame_bytes(txnr: int, command: str, data: bytes = b"") -> bytes:
    return f"{txnr} {command} {len(data)}".encode() + (b" " + data if data else b"") + b"\n"


def read_relp(stream) -> tuple[int, str, bytes] | None:
    """One RELP frame (`TXNR SP COMMAND SP DATALEN [SP DATA] LF`, librelp doc/relp.html), or None at EOF."""
    head = b""
    while head.count(b" ") < 2:
        byte = stream.read(1)
        if not byte:
            return None
        head += byte
    txnr, command, _ = head.split(b" ")
    size = b""
    while (byte := stream.read(1)) not in (b" ", b"\n"):
        size += byte
    data = stream.read(int(size) + 1)[:-1] if byte == b" " else b""
    return int(txnr), command.decode(), data


class RelpReceiver:
    """A RELP server in a thread (one session after another): answers `open` with its offers, parses
    each `syslog` command as RFC 5424, and answers `close` with an rsp and a `serverclose`. With `auto`,
    each syslog command is answered at once (`auto` maps an index to a refusal such as "500 disk
    full"); without it the test acks by hand."""

    def __init__(self, *, auto: dict[int, str] | None = None, commands: str = "syslog"):
        self.auto, self.commands = auto, commands
        self.received: list[tuple[int, dict]] = []
        self.closed_cleanly = False
        self.conn: socket.socket | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:  # one session at a time, as the sender opens them
            try:
                self.conn, _ = self._listener.accept()
            except OSError:
                return
            self._session()

    def _session(self) -> None:
        with self.conn, self.conn.makefile("rb") as stream:
            while (frame := read_relp(stream)) is not None:
                txnr, command, data = frame
                if command == "open":
                    assert b"commands=syslog" in data
                    self.conn.sendall(relp_frame_bytes(txnr, "rsp", b"200 OK\nrelp_version=0\nrelp_software=test\n"
                                                       + f"commands={self.commands}".encode()))
                elif command == "syslog":
                    self.received.append((txnr, parse_rfc5424(data)))
                    if self.auto is not None:
                        answer = self.auto.get(len(self.received) - 1, "200 OK")
                        self.conn.sendall(relp_frame_bytes(txnr, "rsp", answer.encode()))
                elif command == "close":
                    # noted before the answer the sender waits for: set after it, a test could read it first
                    self.closed_cleanly = True
                    self.conn.sendall(relp_frame_bytes(txnr, "rsp") + relp_frame_bytes(0, "serverclose"))
                    return

    def ack(self, index: int) -> None:
        self.conn.sendall(relp_frame_bytes(self.received[index][0], "rsp", b"200 OK"))

    def ids(self) -> list[str]:
        return [m["msg"]["id"] for _, m in self.received]

    def stop(self) -> None:
        self._listener.close()


class SilentReceiver:
    """Accepts connections (completing the TLS handshake when given a context) and never reads a byte more."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.tls, self.held = tls, []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.held.append(self.tls.wrap_socket(conn, server_side=True) if self.tls else conn)

    def stop(self) -> None:
        self._listener.close()
        for conn in self.held:
            conn.close()


def _server_tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.mark.parametrize("transport", ["tls", "relp"])
async def test_a_receiver_that_accepts_and_never_reads_loses_nothing_and_shows_unhealthy(outbox, tmp_path, transport):
    # the finding: 4 of 65 events lost to such a receiver while status showed it healthy
    server_tls, cert = _server_tls(tmp_path)
    receiver = SilentReceiver(server_tls if transport == "tls" else None)
    dest = Destination(name="siem", type="syslog", host="127.0.0.1", port=receiver.port, transport=transport,
                       tls=transport == "tls", ca_file=str(cert), ack_timeout=0.5)
    batch = events(65)
    outbox.enqueue(batch, [dest])
    try:
        report = await delivery(outbox, dest).deliver(dest)
    finally:
        receiver.stop()
    assert report["acknowledged"] == 0 and report["sent"] == 0
    expected = "did not answer the TLS close_notify within 0.5 s" if transport == "tls" else (
        "did not send an answer to the open command within 0.5 s")
    assert expected in report["error"]
    assert [e["id"] for _, e in outbox.pending("siem")] == [e["id"] for e in batch]  # all queued, in order
    stats = outbox.stats()["siem"]
    assert stats["failures"] == 1 and stats["delivered"] == 0 and stats["last_error"] == report["error"]


async def test_a_tls_receiver_acknowledges_only_by_closing_cleanly_not_by_dropping_the_connection(outbox, tmp_path):
    server_tls, cert = _server_tls(tmp_path)
    listener = socket.create_server(("127.0.0.1", 0))
    read: list[bytes] = []

    def serve(clean: bool) -> None:
        raw, _ = listener.accept()
        conn = server_tls.wrap_socket(raw, server_side=True)
        while chunk := conn.recv(65536):  # reads everything, up to our close_notify
            read.append(chunk)
        if clean:
            conn.unwrap()  # answers with its own close_notify
        raw.close()

    dest = Destination(name="tls", type="syslog", host="127.0.0.1", port=listener.getsockname()[1], transport="tls",
                       tls=True, ca_file=str(cert), ack_timeout=2)
    batch = events(3)
    outbox.enqueue(batch, [dest])
    sender = delivery(outbox, dest)
    try:
        for clean in (False, True):
            thread = threading.Thread(target=serve, args=(clean,), daemon=True)
            thread.start()
            report = await sender.deliver(dest, force=True)
            thread.join(5)
            if not clean:  # it read the batch but closed TCP without close_notify: nothing proves it kept it
                assert report["acknowledged"] == 0 and "without a clean TLS close_notify exchange" in report["error"]
                assert len(outbox.pending("tls")) == 3
    finally:
        listener.close()
    assert report == {"destination": "tls", "acknowledged": 3, "sent": 0, "error": None}
    assert outbox.pending("tls") == [] and b"".join(read).count(b"oneapi@32473") == 6  # twice the batch


async def test_each_relp_ack_removes_exactly_its_event_from_the_outbox(outbox):
    receiver = RelpReceiver()
    dest = Destination(name="relp", type="syslog", host="127.0.0.1", port=receiver.port, transport="relp",
                       ack_timeout=5)
    batch = events(3)
    ids = [e["id"] for e in batch]
    outbox.enqueue(batch, [dest])
    try:
        task = asyncio.ensure_future(delivery(outbox, dest).deliver(dest))
        await wait_for(lambda: len(receiver.received) == 3)
        assert receiver.ids() == ids and [n for n, _ in receiver.received] == [2, 3, 4]  # txnr 1 was open
        assert [e["id"] for _, e in outbox.pending("relp")] == ids  # sent, not yet acknowledged
        remaining = list(ids)
        for index in (1, 0, 2):  # acks may come in any order: each removes its own event only
            receiver.ack(index)
            remaining.remove(ids[index])
            await wait_for(lambda: [e["id"] for _, e in outbox.pending("relp")] == remaining)
        report = await task
    finally:
        receiver.stop()
    assert report == {"destination": "relp", "acknowledged": 3, "sent": 0, "error": None}
    assert receiver.closed_cleanly and outbox.stats()["relp"]["delivered"] == 3


async def test_a_relp_refusal_keeps_just_that_event_and_a_receiver_without_syslog_is_refused(outbox):
    receiver = RelpReceiver(auto={1: "500 disk full"})
    dest = Destination(name="relp", type="syslog", host="127.0.0.1", port=receiver.port, transport="relp",
                       ack_timeout=5)
    batch = events(3)
    outbox.enqueue(batch, [dest])
    try:
        report = await delivery(outbox, dest).deliver(dest)
    finally:
        receiver.stop()
    assert report["acknowledged"] == 2 and "refused 1 event(s) (first: 500 disk full)" in report["error"]
    assert [e["id"] for _, e in outbox.pending("relp")] == [batch[1]["id"]]
    assert outbox.stats()["relp"]["failures"] == 1

    other = RelpReceiver(auto={}, commands="eventlog")
    odd = Destination(name="odd", type="syslog", host="127.0.0.1", port=other.port, transport="relp", ack_timeout=5)
    outbox.enqueue(batch, [odd])
    try:
        refused = await delivery(outbox, odd).deliver(odd)
    finally:
        other.stop()
    assert "does not offer the RELP syslog command (it offers eventlog)" in refused["error"]
    assert len(outbox.pending("odd")) == 3 and other.received == []


async def test_udp_is_best_effort_counted_sent_one_datagram_per_message(outbox):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(5)
        dest = Destination(name="udp", type="syslog", host="127.0.0.1", port=listener.getsockname()[1],
                           transport="udp")
        batch = events(3)
        outbox.enqueue(batch, [dest])
        report = await delivery(outbox, dest).deliver(dest)
        datagrams = [listener.recv(65536) for _ in batch]
    assert report == {"destination": "udp", "acknowledged": 0, "sent": 3, "error": None}
    assert [parse_rfc5424(d)["msg"]["id"] for d in datagrams] == [e["id"] for e in batch]  # no length prefix
    assert dest.describe()["guarantee"] == "best-effort" and dest.target().startswith("udp://")


# -- HTTP: HEC and webhooks ----------------------------------------------------------------------------
async def test_hec_batches_carry_the_splunk_token_and_each_event_with_its_id(outbox):
    receiver = HttpReceiver(token=HEC_TOKEN).start()
    try:
        dest = Destination(name="splunk", type="hec", url=receiver.url, secret=HEC_TOKEN, index="security",
                           sourcetype="oneapi:mcp")
        wrong = Destination(name="splunk-wrong", type="hec", url=receiver.url, secret="not-the-token")
        batch = events(5, "security")
        outbox.enqueue(batch, [dest, wrong])
        # HTTP 200 with HEC's code 6 (Splunk docs, "Troubleshoot HTTP Event Collector"): not indexed, kept
        receiver.answer_next = [b'{"text":"Invalid data format","code":6,"invalid-event-number":0}',
                                b'{"text":"Success","code":0}']
        sender = delivery(outbox, dest, wrong)
        invalid = await sender.deliver(dest)
        assert invalid["acknowledged"] == 0 and "HEC code 6 (Invalid data format)" in invalid["error"]
        assert len(outbox.pending("splunk")) == 5
        ok, refused = await sender.flush()
    finally:
        receiver.stop()
    posts = [r for r in receiver.requests if r["headers"]["Authorization"] == f"Splunk {HEC_TOKEN}"]
    assert ok["acknowledged"] == 5 and len(posts) == 2  # one POST for the batch, twice
    lines = [json.loads(line) for line in posts[1]["body"].decode().splitlines()]
    assert [line["event"]["id"] for line in lines] == [e["id"] for e in batch]
    assert {line["index"] for line in lines} == {"security"} and lines[0]["sourcetype"] == "oneapi:mcp"
    assert refused["acknowledged"] == 0 and "HTTP 401" in refused["error"] and "not-the-token" not in refused["error"]
    assert outbox.stats()["splunk-wrong"]["pending"] == 5


def test_webhook_signatures_cover_the_timestamp_and_the_raw_body():
    body = b'{"id":"x"}'
    stamp = str(int(time.time()))
    signature = sign(SECRET, stamp, body)
    assert signature == "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert verify_signature(SECRET, stamp, body, signature)
    assert not verify_signature(SECRET, stamp, body + b" ", signature)  # tampered body
    assert not verify_signature("another-secret-of-16", stamp, body, signature)
    old = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, old, body, sign(SECRET, old, body))  # a replay an hour later


async def test_a_receiver_that_is_down_and_comes_back_loses_nothing_and_duplicates_share_ids(outbox):
    port = closed_port()
    dest = Destination(name="hook", type="webhook", url=f"http://127.0.0.1:{port}/events", secret=SECRET)
    sender = delivery(outbox, dest, initial=60, cap=60)  # the backoff outlasts a loaded machine; retries are forced
    first = events(4)
    outbox.enqueue(first, [dest])
    down = await sender.deliver(dest)
    assert down["acknowledged"] == 0 and down["error"].startswith(f"POST http://127.0.0.1:{port}/events failed: ")
    stats = outbox.stats()["hook"]
    assert stats["pending"] == 4 and stats["failures"] == 1 and stats["last_error"] == down["error"]
    assert (await sender.deliver(dest))["skipped"] == "waiting to retry"  # backing off

    receiver = HttpReceiver(port, secret=SECRET).start()
    try:
        receiver.lose_answer_next = 1  # the first event arrives but its answer is lost: sent again
        receiver.fail_next = 0
        later = events(2)
        outbox.enqueue(later, [dest])
        again = await sender.deliver(dest, force=True)
        assert again["acknowledged"] == 0 and "HTTP 500" in again["error"]
        final = await sender.deliver(dest, force=True)
    finally:
        receiver.stop()
    assert final == {"destination": "hook", "acknowledged": 6, "sent": 0, "error": None}
    sent = [e["id"] for e in first + later]
    assert set(receiver.ids()) == set(sent)  # nothing lost
    assert receiver.ids() == [sent[0], *sent]  # one duplicate, with the same id
    copies = [e for e in receiver.accepted if e["id"] == sent[0]]
    assert copies[0] == copies[1]
    assert outbox.stats()["hook"]["pending"] == 0 and outbox.stats()["hook"]["failures"] == 0


async def test_the_background_loop_retries_with_backoff_until_the_receiver_is_back(outbox):
    port = closed_port()
    dest = Destination(name="syslog", type="syslog", host="127.0.0.1", port=port)
    sender = delivery(outbox, dest, initial=0.05, cap=0.3)
    sender.start()
    try:
        outbox.enqueue(events(3), [dest])
        sender.wake()
        await wait_for(lambda: (outbox.stats().get("syslog") or {}).get("failures", 0) >= 3)
        assert outbox.stats()["syslog"]["pending"] == 3
        receiver = SyslogReceiver(port).start()
        try:
            await wait_for(lambda: len(receiver.messages) == 3, timeout=5)
        finally:
            receiver.stop()
    finally:
        await sender.stop()
    assert outbox.stats()["syslog"]["pending"] == 0 and not sender.running


def test_backoff_is_exponential_capped_and_jittered():
    low, high = (lambda: 0.0), (lambda: 1.0)
    assert [backoff_delay(n, 1.0, 60.0, high) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(3, 1.0, 60.0, low) == 2.0  # jitter: between half and the full delay
    assert backoff_delay(30, 1.0, 60.0, high) == 60.0 and backoff_delay(30, 1.0, 60.0, low) == 30.0


# -- the store -----------------------------------------------------------------------------------------
def test_the_outbox_survives_reopening_and_never_queues_an_event_twice(tmp_path):
    dest = Destination(name="hook", type="webhook", url="https://siem.example/hook", secret=SECRET)
    audit_only = Destination(name="audit", type="syslog", host="127.0.0.1", port=1, events=frozenset({"audit"}))
    alert = make_event("security", "zdx_alert", {"id": 1}, server="t", event_id=stable_event_id("zdx_alert", 1))
    box = Outbox(tmp_path / "siem.sqlite3")
    assert box.enqueue([alert, *events(1)], [dest, audit_only]) == 3  # the alert is not an audit event
    box.close()
    assert oct((tmp_path / "siem.sqlite3").stat().st_mode & 0o777) == "0o600"
    box = Outbox(tmp_path / "siem.sqlite3")
    try:
        assert box.enqueue([alert], [dest]) == 0  # the same source event, queued again: ignored
        assert [e["id"] for _, e in box.pending("hook")][0] == alert["id"]
        assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        box.close()
    assert stable_event_id("zdx_alert", 1) == alert["id"] != stable_event_id("zdx_alert", 2)


def test_a_syslog_frame_is_its_length_then_the_message():
    event = make_event("audit", "tool_call", {"x": "é"}, server="s")
    frame = syslog_frame(event, hostname="host.example")
    length, _, message = frame.partition(b" ")
    assert int(length) == len(message)
    assert parse_rfc5424(message)["host"] == "host.example"


# -- settings ------------------------------------------------------------------------------------------
def test_destinations_come_from_env_json_or_toml_tables_with_secrets_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HEC_TOKEN_FOR_TEST", HEC_TOKEN)
    monkeypatch.setenv("ONEAPI_MCP_SIEM_DESTINATIONS", json.dumps([
        {"name": "splunk", "type": "hec", "url": "https://splunk.example:8088/services/collector/event",
         "token_env": "HEC_TOKEN_FOR_TEST", "events": ["security"]}]))
    (splunk,) = ServerSettings().plugin_settings("siem").destinations  # the legacy variable still works
    assert splunk.secret == HEC_TOKEN and splunk.events == {"security"} and HEC_TOKEN not in repr(splunk)
    monkeypatch.delenv("ONEAPI_MCP_SIEM_DESTINATIONS")
    config = tmp_path / "servers.toml"
    config.write_text(
        '[servers.soc]\nprofile = "read-only"\n'
        '[[servers.soc.siem_destinations]]\nname = "syslog"\ntype = "syslog"\nhost = "siem.example"\nport = 6514\n'
        'tls = true\n'
        '[[servers.soc.siem_destinations]]\nname = "hook"\ntype = "webhook"\nurl = "https://hooks.example/x"\n'
        f'secret = "{SECRET}"\n')
    syslog, hook = load_servers(config)["soc"].plugin_settings("siem").destinations
    assert (syslog.type, syslog.tls, syslog.target()) == ("syslog", True, "tls://siem.example:6514")
    assert hook.secret == SECRET and hook.target() == "https://hooks.example/x"


def test_bad_destinations_are_each_named_with_the_problem_and_no_secret_is_echoed(tmp_path):
    bad = [
        {"name": "ok", "type": "syslog", "host": "siem.example", "port": 514, "transport": "relp"},
        {"name": "ok", "type": "syslog", "host": "siem.example", "port": 515, "transport": "udp"},
        {"name": "plain", "type": "syslog", "host": "siem.example", "port": 514},
        {"name": "udp-tls", "type": "syslog", "host": "siem.example", "port": 514, "transport": "udp", "tls": True},
        {"name": "slow", "type": "syslog", "host": "siem.example", "port": 514, "transport": "tls",
         "ack_timeout": 0},
        {"name": "port", "type": "syslog", "host": "siem.example", "port": 70000},
        {"name": "http", "type": "hec", "url": "http://splunk.example/services/collector", "token": "TOKEN-LEAK-1"},
        {"name": "short", "type": "webhook", "url": "https://h.example", "secret": "LEAKY"},
        {"name": "typo", "type": "syslog", "host": "h", "port": 1, "hots": "x"},
        {"name": "kafka", "type": "kafka"},
        {"name": "noenv", "type": "hec", "url": "https://s.example", "token_env": "NOT_SET_ANYWHERE_42"},
    ]
    with pytest.raises(SiemConfigError) as caught:
        ServerSettings(siem_destinations=bad)
    text = str(caught.value)
    for expected in ("the name 'ok' is used more than once", "siem_destinations[5] (port): port must be an integer "
                     "from 1 to 65535", "(http): url 'http://splunk.example/services/collector' must use https",
                     '(plain): transport is required: "tls" (RFC 5425', "plain syslog cannot prove an event was "
                     "received", '(udp-tls): tls = true does not go with transport "udp"',
                     "(slow): ack_timeout must be a number of seconds from 0.1 to 300 (got 0)",
                     "(short): secret must be at least 16 characters", "(typo): unknown key(s) hots",
                     "(kafka): type must be one of syslog, hec, webhook", "NOT_SET_ANYWHERE_42' is not set"):
        assert expected in text
    assert "TOKEN-LEAK-1" not in text and "LEAKY" not in text
    config = tmp_path / "servers.toml"
    config.write_text('[servers.a]\n[[servers.a.siem_destinations]]\nname = "x"\ntype = "syslog"\nhost = "h"\n')
    with pytest.raises(ConfigError, match=r"servers\.a: siem_destinations\[0\] \(x\): port must be"):
        load_servers(config)
    relp, udp = parse_destinations(json.dumps([
        {"name": "j", "type": "syslog", "host": "h", "port": 1, "transport": "relp", "tls": True},
        {"name": "u", "type": "syslog", "host": "h", "port": 2, "transport": "udp"}]))
    assert (relp.target(), relp.acknowledges, udp.target(), udp.acknowledges) == ("relp+tls://h:1", True,
                                                                                 "udp://h:2", False)


def test_the_audit_export_csv_is_read_as_text_or_base64():
    from oneapi_mcp.plugins.ops.siem import audit_rows

    text = 'Report: Audit Logs\nPeriod,last day\n\nTime,Admin,Action,Result\n"2026-01-01 10:00:00",a@x,UPDATE,FAILURE\n'
    for data in ({"text": text}, {"body": text}, {"body": base64.b64encode(text.encode()).decode()}, text):
        assert audit_rows(data) == [{"Time": "2026-01-01 10:00:00", "Admin": "a@x", "Action": "UPDATE",
                                     "Result": "FAILURE"}]

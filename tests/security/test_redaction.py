"""Issue 12: secrets stay out of the audit log, validation errors, results, logs, `doctor` output and
auth errors: the fields the specs mark secret, and every encoding of the registered client secret.

Evidence for the worst case tested here: the real ZIA answer to POST /vpnCredentials does not echo the
key back (reference/recorded/zia/cassettes/TestTrafficVPNCredential.yaml), but an echoing proxy, a
mock or a future API version might, so the tests' upstream echoes every body it gets.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import subprocess
import sys
from urllib.parse import parse_qs, quote, quote_plus

import httpx
import pytest
from mcp import Client

from oneapi_mcp import _redact
from oneapi_mcp._auth import AuthError, OneAPIAuth
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings

pytestmark = pytest.mark.anyio
REDACTED = "[redacted]"
CLIENT_SECRET = "Ab+/=cd12=="  # obviously fake, and full of characters that encodings change


@pytest.fixture(autouse=True)
def clean_secrets():
    _redact.forget_secrets()
    yield
    _redact.forget_secrets()


# -- through a call: audit record, validation error, result ------------------------------------------
def _fake(name: str) -> str:
    return f"fake-{name}-Zq9+/="


def _body(tool: str, secret_field: str, value: object) -> dict:
    """A valid body for `tool` (every field a real generated input model requires) with `value` in the
    secret field under test and obviously fake values in the other secret fields."""
    if tool == "zia_create_vpn_credential":
        return {"type": "UFQDN", "fqdn": "vpn@example.test", "psk": value}
    if tool == "zia_create_location":
        return {"name": "Branch", "vpnCredentials": [{"type": "UFQDN", "fqdn": "b@example.test", "psk": value}]}
    if tool == "zcc_manage_password":
        body = {"deviceType": 3, "policyName": "Default", "exitPass": _fake("exit"), "logoutPass": _fake("logout")}
        return {**body, secret_field: value}
    if tool == "zpa_create_credential":
        return {"name": "jump host key", "credentialType": "SSH_KEY", "userName": "ops", "passphrase": value}
    if tool == "zia_update_auth_settings":
        return {"orgAuthType": "SAFECHANNEL_DIR", "kerberosEnabled": True, "kerberosPwd": value,
                "samlEnabled": False, "oneTimeAuth": "OTP_DISABLED", "passwordStrength": "NONE",
                "passwordExpiry": "NEVER", "directorySyncMigrateToScimEnabled": False,
                "mobileAdminSamlIdpEnabled": False}
    if tool == "zcc_update_web_policy":
        return {"id": "12", "name": "iOS", "iosPolicy": {"passcode": value}}
    raise AssertionError(tool)


# (tool, secret field, where the field sits in the body): real generated write tools whose spec has it
CASES = [
    ("zia_create_vpn_credential", "psk", ("psk",)),
    ("zcc_manage_password", "uninstallPass", ("uninstallPass",)),
    ("zcc_manage_password", "exitPass", ("exitPass",)),
    ("zcc_manage_password", "zpaDisablePass", ("zpaDisablePass",)),
    ("zpa_create_credential", "passphrase", ("passphrase",)),
    ("zia_update_auth_settings", "kerberosPwd", ("kerberosPwd",)),
    ("zcc_update_web_policy", "passcode", ("iosPolicy", "passcode")),
    ("zia_create_location", "psk", ("vpnCredentials", 0, "psk")),
]
IDS = [f"{tool}.{field}" for tool, field, _ in CASES]


def _at(data, path):
    for step in path:
        data = data[step]
    return data


def _server(tmp_path, handler):
    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                        base_url="https://api.zsapi.net", customer_id="7")

    settings = ServerSettings(name="sec", audit_log=tmp_path / "audit.jsonl", profile="read-write")
    return build_server(Runtime(settings=settings, executor_factory=factory, customer_id_known=True))


async def _call(tmp_path, tool: str, body: dict) -> tuple[object, dict, str, list[dict]]:
    """(result, its audit record, the audit log's text, the bodies upstream received)."""
    received: list[dict] = []

    def echo(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(200, json=received[-1])

    async with Client(_server(tmp_path, echo), cache=None) as client:
        result = await client.call_tool("invoke_operation", {"name": tool, "arguments": {"body": body}})
    text = (tmp_path / "audit.jsonl").read_text()
    return result, json.loads(text.splitlines()[-1]), text, received


@pytest.mark.parametrize(("tool", "field", "path"), CASES, ids=IDS)
async def test_a_secret_field_in_a_write_body_is_sent_upstream_but_redacted_in_the_audit_log_and_result(
        tmp_path, tool, field, path):
    secret = _fake(field)
    result, record, audit_text, received = await _call(tmp_path, tool, _body(tool, field, secret))
    assert not result.is_error, result.content[0].text
    assert _at(received[0], path) == secret  # the request itself is untouched
    assert _at(record["arguments"]["body"], path) == REDACTED
    assert _at(result.structured_content["result"], path) == REDACTED  # the upstream echoed it
    for shown in (audit_text, result.content[0].text, json.dumps(result.structured_content)):
        assert secret not in shown and "fake-" not in shown  # the other secret fields too


@pytest.mark.parametrize(("tool", "field", "path"), CASES, ids=IDS)
async def test_a_mistyped_secret_is_not_echoed_in_the_validation_error_at_any_depth(tmp_path, tool, field, path):
    result, record, audit_text, received = await _call(tmp_path, tool, _body(tool, field, 31415926))
    assert result.is_error and received == []  # nothing was sent upstream
    problems = result.structured_content["error"]["problems"]
    wrong = [p for p in problems if p["field"].split(".")[-1] == field]
    assert wrong and all("got" not in p for p in wrong), problems
    assert _at(record["arguments"]["body"], path) == REDACTED
    for shown in (audit_text, result.content[0].text):
        assert "31415926" not in shown


async def test_a_wrongly_shaped_body_is_echoed_with_its_secret_fields_redacted(tmp_path):
    secret = _fake("psk")
    result, _, audit_text, received = await _call(
        tmp_path, "zia_create_vpn_credential", [{"type": "UFQDN", "psk": secret}])  # a list, not an object
    assert result.is_error and received == []
    (problem,) = [p for p in result.structured_content["error"]["problems"] if p["field"] == "body"]
    assert problem["got"] == [{"type": "UFQDN", "psk": REDACTED}]
    assert secret not in result.content[0].text and secret not in audit_text


# -- which names are secrets -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["psk", "uninstallPass", "exitPass", "zpaDisablePass", "passphrase", "kerberosPwd",
                                  "passcode", "preSharedKey", "exitOtp", "client_secret", "apiKey", "xauthPassword"])
def test_names_of_secret_fields_are_secret(name):
    assert _redact.is_secret_name(name)


@pytest.mark.parametrize("name", [
    "bypass", "appBypass", "enforceIotPolicy", "pskEnabled", "secretId", "ziaSecretKeyName",
    "passwordExpiryDays",  # an integer in the ZIA spec
    "publicKey", "tokenEndpoint", "software_key",  # reviewed in the overlays: x-oneapi-secret: false
])
def test_names_that_only_look_secret_are_not(name):
    assert not _redact.is_secret_name(name)


def test_every_service_lists_its_secret_fields_and_the_runtime_reads_them_without_tables_or_models():
    code = ("import sys; from oneapi_mcp import _redact; secret, cleared = _redact.spec_secret_fields(); "
            "print(sorted(m for m in sys.modules if m.endswith(('.models', '.tools')) or '.inputs.' in m)); "
            "print('psk' in secret, 'uninstallpass' in secret, 'kerberospwd' in secret, 'publickey' in cleared)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:2] == ["[]", "True True True True"]


def test_results_always_hide_spec_marked_fields_but_keep_fields_that_merely_look_secret():
    data = {"id": 1, "psk": "fake-psk-value", "pskEnabled": True, "confirm_token": "shown-to-the-agent"}
    assert _redact.redact(data, names=False) == {"id": 1, "psk": REDACTED, "pskEnabled": True,
                                                 "confirm_token": "shown-to-the-agent"}


# -- every encoding of a registered secret -----------------------------------------------------------
def _base64_runs_decoded(text: str) -> list[bytes]:
    """Every run of base64 characters in `text`, decoded at each of the four alignments, either alphabet."""
    out = []
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    out.append(decode(chunk))
                except (binascii.Error, ValueError):
                    pass
    return out


def _assert_no_encoding_of(secret: str, text: str) -> None:
    for form in (secret, quote(secret, safe=""), quote(secret), quote_plus(secret),
                 quote(secret, safe="").replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d"),
                 json.dumps(secret)[1:-1], json.dumps(secret).replace("/", "\\/")[1:-1]):
        assert form not in text, (form, text)
    assert not any(secret.encode() in decoded for decoded in _base64_runs_decoded(text)), text


ENCODINGS = {
    "raw": lambda s: s,
    "quote": lambda s: quote(s, safe=""),
    "quote keeping slashes": quote,
    "quote_plus": quote_plus,
    "lower-case escapes": lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    "mixed-case escapes": lambda s: quote(s, safe="").replace("%2B", "%2b"),
    "quoted twice": lambda s: quote(quote(s, safe=""), safe=""),
    "form body": lambda s: f"grant_type=client_credentials&client_id=fake-id&secret_copy={quote_plus(s)}&x=1",
    "json": lambda s: json.dumps({"echo": s}),
    "json, slashes escaped": lambda s: json.dumps({"echo": s}).replace("/", "\\/"),
    "json, unicode escapes": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 url-safe": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "base64 unpadded": lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
    "basic auth, offset 1": lambda s: base64.b64encode(f"fake-id:{s}".encode()).decode(),
    "basic auth, offset 2": lambda s: base64.b64encode(f"id:{s}".encode()).decode(),
    "basic auth, offset 0": lambda s: base64.urlsafe_b64encode(f"idx:{s}".encode()).decode(),
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_registered_secret_is_scrubbed_in_every_encoding(encode):
    _redact.register_secret(CLIENT_SECRET)
    text = f"upstream said: {encode(CLIENT_SECRET)} (end)"
    scrubbed = _redact.scrub(text)
    assert REDACTED in scrubbed and scrubbed.startswith("upstream said: ")
    _assert_no_encoding_of(CLIENT_SECRET, scrubbed)


@pytest.mark.parametrize("text", [
    "grant_type=client_credentials&client_secret=x9&audience=https%3A%2F%2Fapi.zscaler.com",
    "client_assertion_type=jwt&client_assertion=eyJhbGciOi.eyJpc3Mi.c2ln",
    'echo: {"client_secret": "x9\\"quoted\'x9", "client_id": "fake-id"}',
    "echo: {'client_id': 'fake-id', 'client_secret': 'x9+/='}",
    "client_secret%3Dx9",
    "CLIENT_SECRET%3dx9",
])
def test_client_secret_and_assertion_form_pairs_are_scrubbed_whatever_their_value(text):
    scrubbed = _redact.scrub(text)  # nothing registered: the value is unknown, the pair is enough
    assert REDACTED in scrubbed and "x9" not in scrubbed and "c2ln" not in scrubbed
    assert "fake-id" in scrubbed or "client_id" not in text


def test_log_records_are_scrubbed_of_an_encoded_secret(caplog):
    _redact.register_secret(CLIENT_SECRET)
    with caplog.at_level(logging.INFO):
        logging.getLogger("oneapi_mcp.test").warning("retrying with %s", quote(CLIENT_SECRET, safe=""))
    assert "retrying with [redacted]" in caplog.text


# -- a token endpoint that echoes the request: AuthError and `doctor` ---------------------------------
def _echoing_token_endpoint(style: str):
    """A token endpoint (or the proxy in front of it) that refuses the client and echoes its request."""
    def handler(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/token"):
            return httpx.Response(500, text="the API is never reached without a token")
        form = request.content.decode()
        fields = {k: v[0] for k, v in parse_qs(form).items()}
        if style == "form":
            return httpx.Response(400, text=f"bad request: {form}")
        if style == "json":
            return httpx.Response(401, json={"error": "invalid_client", "error_description": f"rejected {fields}"})
        if style == "proxy page":
            return httpx.Response(502, headers={"content-type": "text/html"},
                                  text=f"<html><pre>{fields['client_secret']}\n{form.lower()}</pre></html>")
        return httpx.Response(400, json={"message": base64.b64encode(request.content).decode()})
    return handler


STYLES = ["form", "json", "proxy page", "base64"]


@pytest.mark.parametrize("style", STYLES)
async def test_an_auth_error_from_an_echoing_token_endpoint_carries_no_secret_in_any_encoding(style):
    auth = OneAPIAuth("https://fake.zslogin.net/oauth2/v1/token", "fake-id", client_secret=lambda: CLIENT_SECRET)
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(_echoing_token_endpoint(style))) as c:
        with pytest.raises(AuthError) as caught:
            await c.get("https://api.zsapi.net/zia/api/v1/status")
    message = str(caught.value)
    assert "token request to https://fake.zslogin.net/oauth2/v1/token failed with HTTP" in message
    _assert_no_encoding_of(CLIENT_SECRET, message)


async def test_a_short_secret_is_not_registered_but_its_form_pair_is_still_scrubbed():
    auth = OneAPIAuth("https://fake.zslogin.net/oauth2/v1/token", "fake-id", client_secret=lambda: "q+1")
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(_echoing_token_endpoint("form"))) as c:
        with pytest.raises(AuthError) as caught:
            await c.get("https://api.zsapi.net/zia/api/v1/status")
    assert "client_secret=[redacted]" in str(caught.value) and "q%2B1" not in str(caught.value)


async def test_a_token_endpoint_answering_200_without_a_token_is_a_clear_auth_error():
    def handler(request):
        return httpx.Response(200, json={"token": "fake-token-under-the-wrong-key"})

    auth = OneAPIAuth("https://fake.zslogin.net/oauth2/v1/token", "fake-id", client_secret=lambda: CLIENT_SECRET)
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(AuthError, match="no access_token in its body .*is the token URL right") as caught:
            await c.get("https://api.zsapi.net/zia/api/v1/status")
    assert "fake-token-under-the-wrong-key" not in str(caught.value)


@pytest.mark.parametrize("style", STYLES)
async def test_doctor_against_an_echoing_token_endpoint_prints_no_secret_in_any_encoding(style, monkeypatch, capsys):
    from oneapi_mcp._doctor import run_doctor
    from oneapi_mcp.cli import make_runtime

    for name in ("ZSCALER_VANITY_DOMAIN", "ZSCALER_CLOUD", "ZSCALER_PRIVATE_KEY", "ZPA_CUSTOMER_ID",
                 "ZSCALER_CUSTOMER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-client-id")
    monkeypatch.setenv("ZSCALER_CLIENT_SECRET", CLIENT_SECRET)
    transport = httpx.MockTransport(_echoing_token_endpoint(style))
    settings = ServerSettings(name="default", token_url="https://fake.zslogin.net/oauth2/v1/token",
                              base_url="https://api.zsapi.net")

    def runtime(settings, creds, *, mock_app=None):
        return make_runtime(settings, creds, mock_app=mock_app, transport=transport)

    code = await run_doctor(None, runtime, lambda args: {"default": settings}, lambda args: None)
    out = capsys.readouterr()
    assert code == 1 and "FAIL  zia" in out.out and "token request to" in out.out
    _assert_no_encoding_of(CLIENT_SECRET, out.out + out.err)


def test_the_siem_audit_event_of_a_call_carries_its_secret_fields_redacted():
    from oneapi_mcp.plugins.builtin.audit import record
    from oneapi_mcp.plugins.ops.siem import audit_event

    from oneapi_mcp._hooktypes import ToolCall

    secret = _fake("psk")
    arguments = {"body": _body("zia_create_location", "psk", secret)}
    call = ToolCall(name="zia_create_location", arguments=arguments, server=ServerSettings(name="sec"),
                    kind="generated")
    event = json.dumps(audit_event(record(call, arguments, None)))  # the record the audit plugin hands over
    assert secret not in event and '"psk": "[redacted]"' in event and '"fqdn": "b@example.test"' in event


def test_values_that_hold_nothing_stay_as_they_are():
    data = {"psk": "***", "password": "", "token": None, "pskEnabled": True, "kerberosPwd": "*" * 8}
    assert _redact.redact(data) == data

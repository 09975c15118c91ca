"""The credentials and auth plugins: environment, 0600 config file, OS keyring, secret command;
read again per token request, so a rotated secret needs no restart. No network: the tenant is an
injected transport; the keyring is an in-memory backend."""

from __future__ import annotations

import shlex
import sys
from urllib.parse import parse_qs

import httpx
import pytest
from mcp import Client
from oneapi_mcp.plugins.builtin import credentials as plugin

from oneapi_mcp._server import build_server
from oneapi_mcp._settings import Credentials, ServerSettings, load_servers
from oneapi_mcp.cli import make_runtime

pytestmark = pytest.mark.anyio
ENV = ("ZSCALER_CLIENT_ID", "ZSCALER_CLIENT_SECRET", "ZSCALER_PRIVATE_KEY", "ZSCALER_VANITY_DOMAIN",
       "ZSCALER_CLOUD", "ZPA_CUSTOMER_ID", "ZSCALER_CUSTOMER_ID", plugin.SECRET_COMMAND_ENV)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-client")
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "acme")


class Tenant:
    """Accepts whichever secret `accepted` holds now."""

    def __init__(self, accepted: str):
        self.accepted = accepted
        self.secrets_seen: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            secret = parse_qs(request.content.decode())["client_secret"][0]
            self.secrets_seen.append(secret)
            if secret != self.accepted:
                return httpx.Response(401, json={"error": "invalid_client", "error_description": "bad secret"})
            return httpx.Response(200, json={"access_token": f"fake-token-{len(self.secrets_seen)}",
                                             "expires_in": 3600})
        return httpx.Response(200, json={"status": "ACTIVE"})


def _command(*lines: str) -> str:
    code = ";".join(lines)
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_the_environment_comes_first():
    import os

    os.environ["ZSCALER_CLIENT_SECRET"] = "fake-env-secret"
    try:
        creds = plugin.oneapi_mcp_credentials(ServerSettings())
    finally:
        del os.environ["ZSCALER_CLIENT_SECRET"]
    assert creds.client_secret.get_secret_value() == "fake-env-secret"


def test_the_os_keyring_holds_the_secret_under_the_client_id():
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store = {("oneapi-mcp", "fake-client"): "fake-keyring-secret"}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        creds = plugin.oneapi_mcp_credentials(ServerSettings())
    finally:
        keyring.set_keyring(previous)
    assert creds.client_secret.get_secret_value() == "fake-keyring-secret"


def test_a_secret_command_prints_the_secret(monkeypatch):
    monkeypatch.setattr(plugin, "keyring_secret", lambda service, client_id: None)
    monkeypatch.setenv(plugin.SECRET_COMMAND_ENV, _command("print('fake-vault-secret')"))
    creds = plugin.oneapi_mcp_credentials(ServerSettings())
    assert creds.client_secret.get_secret_value() == "fake-vault-secret"


def test_a_failing_secret_command_says_which_command_and_status_without_output(monkeypatch):
    monkeypatch.setattr(plugin, "keyring_secret", lambda service, client_id: None)
    monkeypatch.setenv(plugin.SECRET_COMMAND_ENV, _command("import sys", "print('fake-partial')",
                                                           "sys.exit('vault: permission denied')"))
    with pytest.raises(plugin.CredentialError, match="exited with status 1: vault: permission denied") as info:
        plugin.oneapi_mcp_credentials(ServerSettings())
    assert "fake-partial" not in str(info.value)


async def test_a_rotated_secret_from_the_command_is_used_after_an_auth_failure_without_restart(monkeypatch, tmp_path):
    monkeypatch.setattr(plugin, "keyring_secret", lambda service, client_id: None)
    current = tmp_path / "secret.txt"
    current.write_text("fake-old-secret")
    monkeypatch.setenv(plugin.SECRET_COMMAND_ENV, _command("import pathlib",
                                                           f"print(pathlib.Path({str(current)!r}).read_text())"))
    tenant = Tenant(accepted="fake-new-secret")
    runtime = make_runtime(ServerSettings(), Credentials(), transport=httpx.MockTransport(tenant.handler))
    async with Client(build_server(runtime), cache=None) as client:
        refused = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
        current.write_text("fake-new-secret")  # rotated in the vault
        accepted = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
    assert refused.is_error and "HTTP 401: bad secret" in refused.structured_content["error"]["message"]
    assert "fake-old-secret" not in refused.content[0].text
    assert not accepted.is_error
    assert tenant.secrets_seen == ["fake-old-secret", "fake-new-secret"]


async def test_a_named_server_may_keep_its_own_api_client_in_a_0600_config_file(monkeypatch, tmp_path):
    monkeypatch.setattr(plugin, "keyring_secret", lambda service, client_id: None)
    path = tmp_path / "servers.toml"
    path.write_text('[servers.reporting]\nclient_id = "fake-reporting"\nclient_secret = "fake-file-secret"\n'
                    'vanity_domain = "reports"\n')
    path.chmod(0o600)
    settings = load_servers(path)["reporting"]
    tenant = Tenant(accepted="fake-file-secret")
    requests = []

    def handler(request):
        requests.append(request)
        return tenant.handler(request)

    runtime = make_runtime(settings, Credentials(), transport=httpx.MockTransport(handler))
    async with Client(build_server(runtime), cache=None) as client:
        result = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
    assert not result.is_error
    assert requests[0].url.host == "reports.zslogin.net"
    assert parse_qs(requests[0].content.decode())["client_id"] == ["fake-reporting"]
    path.chmod(0o644)  # loosened after start: the next token request refuses it
    with pytest.raises(plugin.CredentialError, match="must be mode 0600"):
        plugin.oneapi_mcp_credentials(settings)

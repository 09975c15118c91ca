"""Settings: the SDK's env names, clear messages for what is missing, cloud URLs, named servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneapi_mcp._settings import (
    ConfigError,
    Credentials,
    ServerSettings,
    load_servers,
    oneapi_urls,
    read_file_credentials,
)

ROOT = Path(__file__).resolve().parent.parent
ENV = ("ZSCALER_CLIENT_ID", "ZSCALER_CLIENT_SECRET", "ZSCALER_PRIVATE_KEY", "ZSCALER_VANITY_DOMAIN",
       "ZSCALER_CLOUD", "ZPA_CUSTOMER_ID", "ZSCALER_CUSTOMER_ID", "ZPA_MICROTENANT_ID")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("ONEAPI_MCP_"):
            monkeypatch.delenv(name)


def test_credentials_use_the_sdk_env_names_and_accept_zscaler_customer_id(monkeypatch):
    monkeypatch.setenv("ZSCALER_CLIENT_ID", "fake-id")
    monkeypatch.setenv("ZSCALER_CLIENT_SECRET", "fake-secret")
    monkeypatch.setenv("ZSCALER_VANITY_DOMAIN", "acme")
    monkeypatch.setenv("ZSCALER_CUSTOMER_ID", "216196257331281920")
    creds = Credentials()
    assert creds.client_id == "fake-id" and creds.customer_id == "216196257331281920"
    assert creds.missing() == []
    assert "fake-secret" not in repr(creds)


def test_missing_credentials_are_listed_in_one_message_that_suggests_the_mock():
    message = Credentials().missing_message()
    assert "ZSCALER_CLIENT_ID" in message and "ZSCALER_CLIENT_SECRET or ZSCALER_PRIVATE_KEY" in message
    assert "ZSCALER_VANITY_DOMAIN" in message
    assert "only matters for ZPA tools" in message and "--mock" in message


@pytest.mark.parametrize(
    ("cloud", "api", "token"),
    [
        (None, "https://api.zsapi.net", "https://acme.zslogin.net/oauth2/v1/token"),
        ("beta", "https://api.beta.zsapi.net", "https://acme.zsloginbeta.net/oauth2/v1/token"),
        ("gov", "https://api.zscalergov.net", "https://acme.zidentitygov.net/oauth2/v1/token"),
        ("govus", "https://api.zscalergov.us", "https://acme.zidentitygov.us/oauth2/v1/token"),
    ],
)
def test_urls_follow_the_tenants_cloud(cloud, api, token):
    creds = Credentials(vanity_domain="acme", cloud=cloud)
    assert oneapi_urls(creds, ServerSettings()) == (api, token)


def test_explicit_base_and_token_urls_override_the_cloud_defaults():
    settings = ServerSettings(base_url="https://api.example.test/", token_url="https://login.example.test/t")
    assert oneapi_urls(Credentials(vanity_domain="acme"), settings) == (
        "https://api.example.test", "https://login.example.test/t")


def test_the_example_config_defines_two_named_servers_with_their_own_profiles():
    servers = load_servers(ROOT / "examples" / "servers.toml")
    assert set(servers) == {"reporting", "automation"}
    assert servers["reporting"].allowed_scopes == {"read"} and servers["reporting"].timeout == 60
    assert servers["automation"].allowed_scopes == {"read", "write"}
    assert servers["reporting"].toolsets == ("zdx.apps", "zia.users")


def test_a_config_file_holding_a_secret_is_refused_unless_its_mode_is_0600(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text('[servers.ops]\nprofile = "admin"\nclient_id = "fake-id"\nclient_secret = "fake-secret"\n')
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="mode 0644, so other users can read it.*must be mode 0600") as info:
        load_servers(path)
    assert "fake-secret" not in str(info.value)
    path.chmod(0o600)
    servers = load_servers(path)
    assert servers["ops"].allowed_scopes == {"read", "write", "destructive"}
    assert "fake-secret" not in repr(servers["ops"]) + servers["ops"].model_dump_json()
    assert read_file_credentials(path, "ops") == {"client_id": "fake-id", "client_secret": "fake-secret"}


def test_a_secret_key_that_is_not_a_credential_is_refused_even_in_a_0600_file(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text('[servers.ops]\npassword = "fake"\n')
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not a credential"):
        load_servers(path)


def test_config_mistakes_name_the_server_and_the_problem(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text('[servers.ops]\nprofile = "superuser"\n')
    with pytest.raises(ConfigError, match="servers.ops"):
        load_servers(path)
    path.write_text("[servers.ops\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_servers(path)


def test_server_settings_read_the_oneapi_mcp_prefix(monkeypatch):
    monkeypatch.setenv("ONEAPI_MCP_PROFILE", "admin")
    monkeypatch.setenv("ONEAPI_MCP_TOOLSETS", "zia.users,zpa.app_segments")
    settings = ServerSettings()
    assert settings.allowed_scopes == {"read", "write", "destructive"}
    assert settings.toolsets == ("zia.users", "zpa.app_segments")

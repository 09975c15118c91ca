"""Settings: OneAPI credentials (the SDK's env names), server settings (ONEAPI_MCP_*), named servers.

Secrets come from the environment, the OS keyring or a secret command (the credentials plugin);
a config file may hold one only when its mode is 0600.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "CREDENTIAL_KEYS",
    "ConfigError",
    "Credentials",
    "ServerSettings",
    "load_servers",
    "oneapi_urls",
    "read_file_credentials",
]

Scope = Literal["read", "write", "destructive"]
PROFILES: dict[str, tuple[Scope, ...]] = {
    "read-only": ("read",),
    "read-write": ("read", "write"),
    "admin": ("read", "write", "destructive"),
}
CREDENTIAL_KEYS = ("client_id", "client_secret", "private_key", "vanity_domain", "cloud", "customer_id",
                   "microtenant_id", "zms_customer_id")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECRET_KEYS = {"client_secret", "secret", "private_key", "password", "token", "access_token",
                "zscaler_client_secret", "zscaler_private_key", "api_key"}


class ConfigError(ValueError):
    """A settings or config-file problem, worded for the person who has to fix it."""


class Credentials(BaseSettings):
    """OneAPI credentials, read from the same environment variables as Zscaler's SDK."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    client_id: str | None = Field(None, validation_alias=AliasChoices("ZSCALER_CLIENT_ID", "client_id"))
    client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ZSCALER_CLIENT_SECRET", "client_secret"))
    private_key: SecretStr | None = Field(None, validation_alias=AliasChoices("ZSCALER_PRIVATE_KEY", "private_key"))
    vanity_domain: str | None = Field(
        None, validation_alias=AliasChoices("ZSCALER_VANITY_DOMAIN", "vanity_domain"))
    cloud: str | None = Field(None, validation_alias=AliasChoices("ZSCALER_CLOUD", "cloud"))
    customer_id: str | None = Field(
        None, validation_alias=AliasChoices("ZPA_CUSTOMER_ID", "ZSCALER_CUSTOMER_ID", "customer_id"))
    microtenant_id: str | None = Field(
        None, validation_alias=AliasChoices("ZPA_MICROTENANT_ID", "microtenant_id"))
    # every ZMS query takes the tenant's ZMS customerId; the SDK has no setting for it (each zscaler/zms
    # method takes `customer_id`), so this is ours, named like the SDK's ZCELL_CUSTOMER_ID
    zms_customer_id: str | None = Field(
        None, validation_alias=AliasChoices("ZMS_CUSTOMER_ID", "zms_customer_id"))

    @classmethod
    def of(cls, **values: object) -> Credentials:
        """Credentials from exactly these values, validated (a plugin's vault, a file), never mixed with
        the environment; an unknown key or a wrong type is a `ConfigError` naming the field, not the value."""
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise ConfigError(f"Credentials: unknown field(s) {', '.join(unknown)}; the fields are "
                              f"{', '.join(cls.model_fields)}")
        try:
            # the settings class's __init__ also takes its own _env_file etc.: mypy reads **values as those
            given = _GivenCredentials(**values)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                 for e in exc.errors(include_url=False, include_input=False))
            raise ConfigError(f"Credentials: {problems}") from None
        return cls.model_construct(_fields_set=given.model_fields_set,
                                   **{name: getattr(given, name) for name in cls.model_fields})

    def missing(self, *, have_token_url: bool = False) -> list[str]:
        """What must still be set before a call can authenticate (ZPA's customer id is separate)."""
        out = []
        if not self.client_id:
            out.append("ZSCALER_CLIENT_ID")
        if not (self.client_secret or self.private_key):
            out.append("ZSCALER_CLIENT_SECRET or ZSCALER_PRIVATE_KEY")
        if not (self.vanity_domain or have_token_url):
            out.append("ZSCALER_VANITY_DOMAIN (or --token-url)")
        return out

    def missing_message(self, *, have_token_url: bool = False) -> str | None:
        missing = self.missing(have_token_url=have_token_url)
        if not missing:
            return None
        lines = ["OneAPI credentials are incomplete. Missing: " + ", ".join(missing) + "."]
        if not self.customer_id:
            lines.append("ZPA_CUSTOMER_ID (or ZSCALER_CUSTOMER_ID) is not set either; it only matters for ZPA tools.")
        lines.append("To try the server without a tenant, run it with --mock.")
        return "\n".join(lines)


class _GivenCredentials(Credentials):
    """Credentials validated from the values given only (no environment): see `Credentials.of`."""

    model_config = SettingsConfigDict(extra="forbid", hide_input_in_errors=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_others):  # type: ignore[override]
        return (init_settings,)


class ServerSettings(BaseSettings):
    """One MCP server's behaviour. Env vars use the ONEAPI_MCP_ prefix; a TOML file may name several."""

    # errors never repeat the rejected value: it may be a secret (a Redis URL's password, a misspelt key)
    model_config = SettingsConfigDict(env_prefix="ONEAPI_MCP_", extra="forbid", hide_input_in_errors=True,
                                      env_nested_delimiter="__")

    name: str = "default"
    description: str = "Zscaler OneAPI through MCP"
    timeout: float = Field(30.0, gt=0, le=600, description="seconds per upstream call; 60 suits large payloads")
    production: bool = False
    profile: Literal["read-only", "read-write", "admin"] = "read-only"
    scopes: Annotated[tuple[Scope, ...] | None, NoDecode] = None  # overrides the profile; env: comma-separated
    toolsets: Annotated[tuple[str, ...], NoDecode] = ()  # env: comma-separated
    tools_mode: Literal["discovery", "toolsets", "full"] = "discovery"
    # composite tools are listed directly (about 1.4 KB each); false keeps tools/list small and leaves
    # them to search_operations, describe_operation and invoke_operation
    list_composites: bool = True
    list_page_size: int = Field(100, ge=1, le=1000)
    max_result_bytes: int = Field(60_000, ge=1_000)
    base_url: str | None = None
    token_url: str | None = None
    log_level: str = "WARNING"
    # least privilege beyond the profile: globs matched against a tool's name and its toolset
    allow_tools: Annotated[tuple[str, ...], NoDecode] = ()  # empty: every tool the profile allows
    deny_tools: Annotated[tuple[str, ...], NoDecode] = ()
    # stateful streamable HTTP (read at start): a session closes after this long with no request in flight
    # (its id then gets 404), and one authenticated client may hold at most sessions_per_client open
    session_idle_timeout: float = Field(1800.0, ge=1, le=86400, description="seconds an idle HTTP session lives")
    sessions_per_client: int = Field(32, ge=1, le=10_000, description="open HTTP sessions per API key or JWT sub")
    audit_log: Path | None = None  # one JSON line per tool call; off when unset
    rate_limit_storage: str = "memory://"  # a `limits` storage URI, e.g. redis://host:6379 for replicas
    # replicas: rate-limit windows and the OAuth token shared through this Redis (see docs/deploy.md)
    redis_url: str | None = None
    max_retries: int = Field(3, ge=0, le=10, description="retries of 429, edit lock, and idempotent 5xx/timeouts")
    client_rate_limits: bool | None = None  # client-side windows; None: on for a tenant, off for the mock
    data_dir: Path | None = None  # durable state (schedules, SIEM outbox); default: $XDG_DATA_HOME/oneapi-mcp/<name>
    # plugins' own settings: [servers.<name>.plugins.<table>] tables (ONEAPI_MCP_PLUGINS as JSON), each validated
    # by the model its plugin declares (oneapi_mcp_plugin_settings); read them with plugin_settings(table).
    # A field read by one plugin only belongs there (the scheduler's, the credentials' keyring_service, the
    # scopes' confirm_ttl, templates_file, threat_levels_file, the audit log's rotation); their old keys here
    # still work, with a deprecation warning (_plugin_settings.move_legacy_keys)
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    _config_file: Path | None = PrivateAttr(None)  # the 0600 file holding this server's credentials
    _plugin_values: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _legacy_plugin_keys(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        from ._plugin_settings import move_legacy_keys

        return move_legacy_keys(values, set(cls.model_fields))

    @model_validator(mode="after")
    def _plugin_tables(self) -> ServerSettings:
        if self.plugins:  # tables given: each checked by its plugin's model now (load and reload)
            from ._plugin_settings import declared, validate_table

            models = declared()
            self._plugin_values = {table: (values, validate_table(table, dict(values), models, self.name))
                                   for table, values in self.plugins.items()}
        return self

    def plugin_settings(self, table: str) -> Any:
        """The validated settings of the plugin that owns `[servers.<name>.plugins.<table>]` (its
        model's defaults when the table is absent)."""
        raw = self.plugins.get(table) or {}
        cached = self._plugin_values.get(table)
        if cached is None or cached[0] != raw:  # a copy with other tables (a reload's held settings) revalidates
            from ._plugin_settings import validate_table

            cached = self._plugin_values[table] = (raw, validate_table(table, dict(raw), server=self.name))
        return cached[1]

    @field_validator("toolsets", "scopes", "allow_tools", "deny_tools", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        # checked here, not when applied: a hot reload must refuse a level the logger would reject
        if isinstance(value, str) and value.strip().upper() in _LOG_LEVELS:
            return value.strip().upper()
        raise ValueError(f"log_level must be one of {', '.join(_LOG_LEVELS)}")

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: object) -> object:
        if value in (None, ""):
            return None
        from ._redis import RedisConfigError, check_redis_url

        try:
            return check_redis_url(str(value))
        except RedisConfigError as exc:  # its message hides the password; the model hides the input
            raise ValueError(str(exc)) from None

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return frozenset(self.scopes if self.scopes is not None else PROFILES[self.profile])

    def state_path(self) -> Path:
        """Where this server's durable state lives (not created: see `state_dir`)."""
        import os

        if self.data_dir is not None:
            return Path(self.data_dir).expanduser()
        return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "oneapi-mcp" / self.name

    def state_dir(self) -> Path:
        """The directory for this server's durable state, created on first use (mode 0700)."""
        base = self.state_path()
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        return base


def oneapi_urls(creds: Credentials, settings: ServerSettings) -> tuple[str, str | None]:
    """(API base URL, token URL) for the tenant's cloud; explicit settings win.

    Production: https://api.zsapi.net and https://<vanity>.zslogin.net/oauth2/v1/token; cloud X:
    api.X.zsapi.net and <vanity>.zsloginX.net; gov and govus have their own hosts.
    """
    cloud = (creds.cloud or "").strip().lower()
    if cloud in ("", "production", "prod"):
        api, login = "https://api.zsapi.net", "zslogin.net"
    elif cloud == "gov":
        api, login = "https://api.zscalergov.net", "zidentitygov.net"
    elif cloud == "govus":
        api, login = "https://api.zscalergov.us", "zidentitygov.us"
    else:
        api, login = f"https://api.{cloud}.zsapi.net", f"zslogin{cloud}.net"
    token = f"https://{creds.vanity_domain}.{login}/oauth2/v1/token" if creds.vanity_domain else None
    return (settings.base_url or api).rstrip("/"), settings.token_url or token


def _settings(where: str, values: dict[str, Any]) -> ServerSettings:
    """ServerSettings from `values` and the environment; a problem is a ConfigError saying where and
    what, never the value (a misspelt key may hold a secret)."""
    try:
        return ServerSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors(include_url=False, include_input=False))
        raise ConfigError(f"{where}: {problems}") from None
    except Exception as exc:  # a validator's own error (e.g. SIEM destinations), worded for people without values
        raise ConfigError(f"{where}: {exc}") from None


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    if where:
        return f"{where}: {error['msg']}"
    # a whole-table validator's own message names its place (a plugin's table: [servers.<name>.plugins.<table>])
    return error["msg"].removeprefix("Value error, ")


def load_servers(path: Path | None, **overrides: object) -> dict[str, ServerSettings]:
    """Named servers from a TOML file (`[servers.<name>]` tables), or one default server.

    `overrides` (from the command line) apply to every server. A server table may name its own API
    client (`client_id`, `vanity_domain`, ... see CREDENTIAL_KEYS); a secret in it (`client_secret`,
    `private_key`) is accepted only when the file is mode 0600, and is read again from the file
    for every token request (never kept in the settings).
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if path is None:
        return {"default": _settings("settings (ONEAPI_MCP_* and the command line)", overrides)}
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    servers = data.get("servers")
    if not isinstance(servers, dict) or not servers:
        raise ConfigError(f"{path}: no [servers.<name>] tables")
    out: dict[str, ServerSettings] = {}
    for name, table in servers.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: servers.{name} must be a table")
        _check_secrets(path, name, table)
        settings_table = {k: v for k, v in table.items() if k not in CREDENTIAL_KEYS}
        out[name] = _settings(f"{path}: servers.{name}", {**settings_table, "name": name, **overrides})
        if any(k in table for k in CREDENTIAL_KEYS):
            out[name]._config_file = path
    return out


def _check_secrets(path: Path, name: str, table: dict) -> None:
    secrets = sorted(k for k in table if k.lower() in _SECRET_KEYS)
    if not secrets:
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: servers.{name} holds {', '.join(secrets)} but the file is mode {mode:04o}, so other "
            f"users can read it; a config file that holds a secret must be mode 0600 (chmod 600 {path}), "
            "or keep the secret out of it (ZSCALER_CLIENT_SECRET in the environment, the OS keyring, or "
            "ONEAPI_MCP_SECRET_COMMAND)")
    unknown = [k for k in secrets if k not in CREDENTIAL_KEYS]
    if unknown:
        raise ConfigError(f"{path}: servers.{name} holds {', '.join(unknown)}, which is not a credential "
                          f"oneapi-mcp uses (it reads {', '.join(CREDENTIAL_KEYS)})")


def read_file_credentials(path: Path, name: str) -> dict[str, str]:
    """The credential keys of servers.<name> in `path`, read now (so a rotated secret is picked up),
    with the 0600 check made again."""
    try:
        table = tomllib.loads(path.read_text()).get("servers", {}).get(name, {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the credentials of servers.{name}: {type(exc).__name__}") from exc
    _check_secrets(path, name, table)
    return {k: str(table[k]) for k in CREDENTIAL_KEYS if table.get(k) not in (None, "")}

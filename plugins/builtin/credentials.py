"""Built-in plugin: OneAPI credentials from the environment, the named server's 0600 config file,
the OS keyring (when `keyring` is installed), or a secret command.

Order: the SDK's environment variables (ZSCALER_CLIENT_ID, ...); then the named server's own keys in
its config file (mode 0600 checked on every read); then, while no secret or private key is known,
the OS keyring (service `keyring_service`, user = the client id); then `ONEAPI_MCP_SECRET_COMMAND`,
run without a shell, whose standard output is the secret (e.g. `vault kv get -field=secret ...`).
Everything is read again for every token request, so a rotated secret needs no restart.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import TYPE_CHECKING

from pydantic import SecretStr

from oneapi_mcp.plugin_api import ConfigError, Credentials, read_file_credentials, register_secret

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings

SECRET_COMMAND_ENV = "ONEAPI_MCP_SECRET_COMMAND"
_COMMAND_TIMEOUT = 30.0


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"credentials": f"{__name__}_settings:CredentialSettings"}  # by import path: defined when first validated


class CredentialError(RuntimeError):
    """A credential source was configured but failed; the message names the source, never the secret."""


@hookimpl(trylast=True)
def oneapi_mcp_credentials(settings: ServerSettings) -> Credentials:
    creds = Credentials()
    path = settings._config_file
    if path is not None:
        try:
            from_file = read_file_credentials(path, settings.name)
        except ConfigError as exc:
            raise CredentialError(str(exc)) from exc
        values = {k: v for k, v in from_file.items() if k not in ("client_secret", "private_key")}
        secrets = {k: SecretStr(v) for k, v in from_file.items() if k in ("client_secret", "private_key")}
        creds = creds.model_copy(update={**values, **secrets})
    if not (creds.client_secret or creds.private_key) and creds.client_id:
        secret = keyring_secret(settings.plugin_settings("credentials").keyring_service, creds.client_id)
        if secret is None:
            secret = command_secret()
        if secret:
            creds = creds.model_copy(update={"client_secret": SecretStr(secret)})
    for value in (creds.client_secret, creds.private_key):
        if value is not None:
            register_secret(value.get_secret_value())
    return creds


def keyring_secret(service: str, client_id: str) -> str | None:
    """The client secret stored in the OS keyring, or None (no keyring, no backend, no entry)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(service, client_id)
    except (KeyringError, RuntimeError):  # no usable backend on this machine
        return None


def command_secret() -> str | None:
    """The standard output of `ONEAPI_MCP_SECRET_COMMAND` (stripped), or None when it is not set."""
    command = os.environ.get(SECRET_COMMAND_ENV, "").strip()
    if not command:
        return None
    argv = shlex.split(command)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialError(f"{SECRET_COMMAND_ENV} ({argv[0]}) could not run: {type(exc).__name__}") from exc
    if done.returncode != 0:
        # stderr may echo the secret's path or name, never the secret: still keep it short
        why = done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else "no message"
        raise CredentialError(f"{SECRET_COMMAND_ENV} ({argv[0]}) exited with status {done.returncode}: {why}")
    secret = done.stdout.strip()
    if not secret:
        raise CredentialError(f"{SECRET_COMMAND_ENV} ({argv[0]}) printed nothing; it must print the client secret")
    return secret

"""Built-in plugin: OAuth2 client credentials against ZIdentity (`OneAPIAuth`), with a client secret
or a private-key JWT. The secret is read through `read_credentials` for every token request, and
every bearer token obtained is registered for redaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from oneapi_mcp.plugin_api import register_secret

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    import httpx

    from oneapi_mcp.plugin_api import Credentials, ServerSettings


@hookimpl(trylast=True)
def oneapi_mcp_http_auth(settings: ServerSettings, credentials: Credentials, token_url: str,
                         read_credentials: Callable[[], Credentials]) -> httpx.Auth:
    def secret() -> str | None:
        value = read_credentials().client_secret
        return value.get_secret_value() if value else None

    def private_key() -> str | None:
        value = read_credentials().private_key
        return _pem(value.get_secret_value()) if value else None

    from oneapi_mcp.plugin_api import OneAPIAuth  # httpx is imported on the first call, not at start-up

    return OneAPIAuth(token_url, credentials.client_id or "", client_secret=secret, private_key=private_key,
                      on_token=register_secret, redis_url=settings.redis_url)  # replicas share the token


def _pem(text: str) -> str:
    """ZSCALER_PRIVATE_KEY may be the PEM itself or a path to it (as in Zscaler's SDK)."""
    if text.lstrip().startswith("-----"):
        return text
    try:
        path = Path(text).expanduser()
        pem = path.read_text() if path.is_file() else text
    except OSError:  # not a path after all (e.g. a JWK JSON)
        return text
    register_secret(pem)
    return pem

"""Receivers of logs and events (a SIEM's collector, a webhook): their URLs checked, their secrets masked
in plans and reports. Shared by the log feeds Zscaler sends (composite log_feeds) and this server's outbox
(ops)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = ["check_url", "masked"]

_MASK = "***"


def masked(value: Any) -> Any:
    """Plans and reports show secrets as ***: tokens, client secrets, header values."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("authenticationToken", "clientSecret", "authentication_token") and v not in (None, ""):
                out[k] = _MASK
            elif k == "connectionHeaders" and isinstance(v, list):
                out[k] = [f"{str(h).split(':', 1)[0].strip()}: {_MASK}" for h in v]
            else:
                out[k] = masked(v)
        return out
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def check_url(url: Any, what: str = "url", *, https_only: bool = False) -> str:
    """An http(s) URL with a host; plain http only to loopback unless allowed."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"{what} is required (an https:// URL)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} {_shown_url(url)!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise ValueError(f"{what} must not carry credentials; use the token or secret setting")
    if parts.scheme == "http" and (https_only or parts.hostname not in ("127.0.0.1", "::1", "localhost")):
        raise ValueError(f"{what} {_shown_url(url)!r} must use https (plain http is allowed only to localhost)")
    return url


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else url[:80]

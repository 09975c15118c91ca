"""Indicators as given: MD5 or SHA-256 hashes, device ids or hostnames, and the indicator lists a call names."""

from __future__ import annotations

import re
from typing import Any

from oneapi_mcp.plugin_api import Refusal

from .._kit.lookups import check_domain, check_email, checked

__all__ = ["check_device", "check_hash", "check_indicators", "check_md5"]

_MD5 = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,254}")


def check_hash(text: str) -> str:
    raw = str(text).strip().lower()
    if _MD5.fullmatch(raw) or _SHA256.fullmatch(raw):
        return raw
    reason = "it contains characters other than 0-9 and a-f" if re.search(r"[^0-9a-f]", raw) else \
        f"it has {len(raw)} hex digits"
    raise ValueError(f"{text!r} is not an MD5 (32 hex digits) or SHA-256 (64 hex digits) hash: {reason}")


def check_md5(text: str) -> str:
    raw = check_hash(text)
    if len(raw) != 32:
        raise ValueError(f"{text!r} is a SHA-256 hash; ZIA sandbox reports are looked up by MD5 only")
    return raw


def check_device(text: str) -> str:
    raw = str(text).strip()
    if not _DEVICE.fullmatch(raw):
        raise ValueError(f"{text!r} is not a device id or hostname (letters, digits, '.', '_', ':' and '-', "
                         "starting with a letter or digit, at most 255 characters)")
    return raw


def check_indicators(args: dict[str, Any]) -> dict[str, list[str]]:
    """Every indicator checked by kind; all the malformed ones reported together."""
    kinds = (("users", check_email), ("devices", check_device), ("domains", check_domain), ("hashes", check_hash))
    out: dict[str, list[str]] = {}
    bad: list[str] = []
    for key, check in kinds:
        values = list(args.get(key) or [])
        if not values:
            out[key] = []
            continue
        try:
            out[key] = checked(values, check, key)
        except Refusal as exc:
            bad += exc.extra.get("invalid", [exc.message])
    if bad:
        raise Refusal(f"{len(bad)} malformed indicator(s): " + "; ".join(bad), "invalid_arguments", invalid=bad)
    return out

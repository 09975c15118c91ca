"""Keep secrets out of everything the server writes: logs, the audit log, error messages and results.

Two rules. Values: every secret the server knows (client secret, private key, bearer tokens) is
registered here and replaced wherever it appears, in any encoding it may travel in: raw,
percent-encoded (either case, `quote` or `quote_plus`), JSON-escaped, base64 (standard or URL-safe,
at any alignment, e.g. inside HTTP Basic credentials); and any `client_secret=` or
`client_assertion=` form pair, whatever its value. Names: a mapping key that is a secret has its value
replaced. A key is a secret when the specs mark it (codegen's `SECRET_FIELDS` per service: `format:
password`, `writeOnly`, `x-oneapi-secret: true`, or a string property named like a secret), or when
it is named like one (`looks_secret`) and the specs do not clear it (`NOT_SECRET_FIELDS`: properties
that are booleans, numbers, enums, objects whose own fields are judged, or reviewed in an overlay with
`x-oneapi-secret: false`). Audit records and errors use both; results (`names=False`) only the specs'.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "forget_secrets", "is_secret_name", "looks_secret", "redact", "register_secret",
           "register_secrets", "scrub", "spec_secret_fields"]

REDACTED = "[redacted]"
_NAME = re.compile(
    r"secret|passw|passcode|passphrase|token|authori[sz]ation|cookie|credential|assertion"
    r"|key$|psk$|(?<!by)pass$|pwd$|otp$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?:_|(?<=[a-z]))(?:ids?|names?|count)$", re.IGNORECASE)  # secretId, key_names
_FORM_PAIR = re.compile(r"(?i)\b(?P<form>client_(?:secret|assertion)(?:=|%3D))[^&\s\"'<>]*"  # a form body
                        r"|(?P<key>([\"'])client_(?:secret|assertion)\3\s*:\s*(?P<q>[\"']))"  # JSON, a repr
                        r"(?:(?!(?P=q))[^\\]|\\.)*")
_MIN_LEN = 6  # shorter values would blank out ordinary words
_MIN_BASE64 = 8  # a shorter run of base64 characters is too likely to occur by chance
_MAX_VALUES = 256
_values: list[str] = []  # the registered secrets, longest first
_forms: tuple[str, ...] = ()  # every literal form of them (raw, quoted, escaped, base64 runs), longest first
_encoded: re.Pattern[str] | None = None  # percent / JSON escapes of characters, in any mix or case
_lock = threading.Lock()
_factory_installed = False


def looks_secret(name: object) -> bool:
    """True for names like client_secret, apiKey, Authorization, psk, uninstallPass, kerberosPwd,
    passcode, exitOtp; not for names of identifiers such as secretId or api_client_secret_ids, which
    say which secret, not what, nor for bypass. Codegen applies this rule to spec properties."""
    if not isinstance(name, str):
        return False
    name = name.replace("-", "_")
    return bool(_NAME.search(name)) and not _IDENTIFIER.search(name)


@cache
def spec_secret_fields() -> tuple[frozenset[str], frozenset[str]]:
    """(names the specs mark secret, names they clear), over every generated service, case-folded.
    Read from each service package's small `__init__`: no definition table, no model is imported."""
    import importlib

    secret: set[str] = set()
    cleared: set[str] = set()
    try:
        services = importlib.import_module("oneapi_mcp.generated").SERVICES
    except ImportError:  # pragma: no cover - a runtime without generated tools
        return frozenset(), frozenset()
    for svc in services:
        package = importlib.import_module(f"oneapi_mcp.generated.{svc}")
        secret.update(n.casefold() for n in getattr(package, "SECRET_FIELDS", ()))
        cleared.update(n.casefold() for n in getattr(package, "NOT_SECRET_FIELDS", ()))
    return frozenset(secret), frozenset(cleared - secret)


def is_secret_name(name: object) -> bool:
    """True for a key whose value is a secret: marked so by a spec, or named like one and not cleared."""
    if not isinstance(name, str):
        return False
    secret, cleared = spec_secret_fields()
    folded = name.casefold()
    return folded in secret or (folded not in cleared and looks_secret(name))


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is scrubbed, in every encoding, from logs, audit records, errors
    and results."""
    global _encoded, _forms
    if not value or len(value) < _MIN_LEN:
        return
    with _lock:
        if value in _values:
            return
        _values.append(value)
        _values.sort(key=len, reverse=True)  # longest first: a token containing a secret goes whole
        del _values[_MAX_VALUES:]
        # rebound, never mutated: a scrub running in another thread keeps the tuple it started with
        _forms = tuple(sorted({f for v in _values for f in _literal_forms(v)}, key=len, reverse=True))
        patterns = [_escaped_pattern(v) for v in _values if _escapable(v)]
        _encoded = re.compile("|".join(patterns)) if patterns else None
    _install_log_scrubbing()


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def forget_secrets() -> None:
    """Drop every registered value (tests)."""
    global _encoded, _forms
    with _lock:
        _values.clear()
        _forms = ()
        _encoded = None


def scrub(text: str) -> str:
    """`text` with every registered secret, in any encoding, and every client_secret or
    client_assertion form pair replaced."""
    if "client_" in text.lower():  # the regex is slow on long texts; this test is not
        text = _FORM_PAIR.sub(lambda m: (m.group("form") or m.group("key")) + REDACTED, text)
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    encoded = _encoded
    if encoded is not None and ("%" in text or "\\" in text):
        text = encoded.sub(REDACTED, text)
    return text


def redact(obj: Any, *, names: bool = True) -> Any:
    """A copy of `obj` (JSON-like) with secret values scrubbed. Keys the specs mark secret always have
    their value replaced; with `names`, so do keys merely named like a secret. Booleans are never
    secrets (pskEnabled: true stays readable), and a value masked already (`***`) stays as it is."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {k: (REDACTED if _holds_something(v) and _hides(k, names) else redact(v, names=names))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v, names=names) for v in obj]
    return obj


def _holds_something(value: Any) -> bool:
    """False for values that cannot hold a secret: empty, a boolean, or a mask already (`***`, as
    plugins and Zscaler's own APIs show secrets), which stays as its author chose."""
    if value is None or isinstance(value, bool):
        return False
    return not (isinstance(value, str) and value.strip("*") == "")


def _hides(key: object, names: bool) -> bool:
    if names:
        return is_secret_name(key)
    return isinstance(key, str) and key.casefold() in spec_secret_fields()[0]


# -- encodings ---------------------------------------------------------------------------------
def _literal_forms(value: str) -> set[str]:
    """The exact strings `value` can appear as: raw, percent-encoded (upper and lower case escapes),
    form-encoded, JSON-escaped, and the runs of base64 characters it encodes to at each alignment."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}
    escaped = json.dumps(value)[1:-1]
    forms |= {escaped, escaped.replace("/", "\\/"), json.dumps(value, ensure_ascii=False)[1:-1]}
    raw = value.encode()
    for shift in range(3):  # the secret may start at any byte offset within a base64 group
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        first, end = -(-8 * shift // 6), 8 * (shift + len(raw)) // 6  # characters made of secret bits only
        run = encoded[first:end]
        if len(run) >= _MIN_BASE64:
            forms |= {run, run.translate(str.maketrans("+/", "-_"))}
    return {f for f in forms if len(f) >= _MIN_LEN}


def _escapable(value: str) -> bool:
    return any(not (c.isascii() and (c.isalnum() or c in "-_.~")) for c in value)


def _escaped_pattern(value: str) -> str:
    """A regex for `value` with any of its characters percent-encoded (once or twice, either case)
    or JSON-escaped, in any mix: what no finite list of literal forms covers."""
    parts = []
    for char in value:
        options = [re.escape(char), "".join("%(?:25)?" + _hex(f"{b:02X}") for b in char.encode())]
        if char == " ":
            options.append(r"\+")
        escaped = json.dumps(char)[1:-1]  # \" \\ \n \t ..., and \uXXXX beyond ASCII
        if escaped != char:
            options.append(re.escape(escaped))
        if char == "/":
            options.append(re.escape("\\/"))
        if ord(char) <= 0xFFFF:
            options.append(r"\\u" + _hex(f"{ord(char):04X}"))
        parts.append("(?:" + "|".join(options) + ")")
    return "".join(parts)


def _hex(digits: str) -> str:
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in digits)


def _install_log_scrubbing() -> None:
    """Scrub registered secrets from every log record's message (installed once, on first secret)."""
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _values:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record: leave it to logging to report
                return record
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)

"""Keep secrets out of everything the server writes: logs, the audit log, error messages and results.

Two rules. Values: every secret the server knows (client secret, private key, bearer tokens) is
registered here and replaced wherever it appears. Names: a mapping key named like a secret
(secret, token, password, authorization, *key) has its value replaced in audit records and errors.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "forget_secrets", "is_secret_name", "redact", "register_secret", "register_secrets", "scrub"]

REDACTED = "[redacted]"
_NAME = re.compile(r"secret|passw|token|authori[sz]ation|cookie|credential|assertion|key$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?:_|(?<=[a-z]))(?:ids?|names?|count)$", re.IGNORECASE)  # secretId, key_names
_MIN_LEN = 6  # shorter values would blank out ordinary words
_MAX_VALUES = 256
_values: list[str] = []
_lock = threading.Lock()
_factory_installed = False


def is_secret_name(name: object) -> bool:
    """True for keys like client_secret, apiKey, Authorization, x-access-token, password; not for
    names of identifiers such as secretId or api_client_secret_ids, which say which secret, not what."""
    if not isinstance(name, str):
        return False
    name = name.replace("-", "_")
    return bool(_NAME.search(name)) and not _IDENTIFIER.search(name)


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is scrubbed from logs, audit records, errors and results."""
    if not value or len(value) < _MIN_LEN:
        return
    with _lock:
        if value in _values:
            return
        _values.append(value)
        _values.sort(key=len, reverse=True)  # longest first: a token containing a secret goes whole
        del _values[_MAX_VALUES:]
    _install_log_scrubbing()


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def forget_secrets() -> None:
    """Drop every registered value (tests)."""
    with _lock:
        _values.clear()


def scrub(text: str) -> str:
    """`text` with every registered secret value replaced."""
    for value in _values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact(obj: Any, *, names: bool = True) -> Any:
    """A copy of `obj` (JSON-like) with secret values scrubbed and, when `names`, the values of
    secret-named keys replaced."""
    if isinstance(obj, str):
        return scrub(obj) if _values else obj
    if isinstance(obj, dict):
        return {k: (REDACTED if names and is_secret_name(k) and v not in (None, "") else redact(v, names=names))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v, names=names) for v in obj]
    return obj


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

"""Configuration files people edit by hand (access templates, threat levels): read them, and find
the line of any table, key or listed value, so every bad entry can be reported with its line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from oneapi_mcp.plugin_api import Refusal

__all__ = ["locate", "read_toml", "value_line"]

_HEADER = re.compile(r"\s*\[(?!\[)\s*(.+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(dotted))


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """(data, problems, text): an unreadable file is a `Refusal`; invalid TOML is one problem with its
    line and no data."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise Refusal(f"cannot read the {what} file {path}: {exc.strerror or exc}", "not_configured",
                      file=str(path)) from None
    try:
        return tomllib.loads(text), [], text
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return {}, [{"line": int(found.group(1)) if found else None, "problem": f"invalid TOML: {exc}"}], text


def locate(text: str) -> dict[tuple[str, ...], int]:
    """The line of every table header and key in a TOML text: ("templates", "x") and
    ("templates", "x", "groups") -> line number (1-based). Enough to point at a bad entry."""
    where: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_string = not in_string
            if in_string:
                key = _KEY.match(line)
                if key:
                    where.setdefault(table + _parts(key.group(1)), n)
            continue
        if in_string:
            continue
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            where.setdefault(table, n)
            continue
        key = _KEY.match(line)
        if key:
            where.setdefault(table + _parts(key.group(1)), n)
    return where


def value_line(text: str, start: int | None, value: str) -> int | None:
    """The line, at or after `start`, where the quoted `value` appears (a list may span lines)."""
    lines = text.splitlines()
    begin = max(start or 1, 1)
    for n in range(begin, len(lines) + 1):
        if f'"{value}"' in lines[n - 1] or f"'{value}'" in lines[n - 1]:
            return n
        if n > begin and _HEADER.match(lines[n - 1]):
            break
    return start

"""Path values stay in their segment.

httpx (and many servers behind it) remove `.` and `..` segments, so a path value `..` sent
`zid_remove_group_user {"id": "..", "userId": "u1"}` as `DELETE /ziam/admin/api/v1/users/u1`:
another operation. Values are checked before any request, and the built path is checked against
the operation's template after building, as the last word.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from ._catalog import ToolDef
from ._redact import is_secret_name

__all__ = ["PathEscape", "path_matches", "path_value_problems"]


class PathEscape(ValueError):
    """A built request whose path is not the operation's path (a value would have left its segment)."""


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def path_value_problems(tool: ToolDef, model: Any) -> list[dict[str, Any]]:
    """Path values that could leave their segment: httpx (and servers behind it) drop `.` and `..`
    segments, so `{"id": ".."}` would reach another operation. Values are checked as sent and as a
    server that decodes them (up to three times) would read them."""
    if not any(location == "path" for _f, _w, location, _r, _e in tool.params):
        return []
    values = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    problems = []
    for fname, _wire, location, _req, _ in tool.params:
        if location != "path" or fname not in values:
            continue
        problem = _segment_problem(str(values[fname]))
        if problem:
            shown = {} if is_secret_name(fname) else {"got": str(values[fname])[:120]}
            problems.append({"field": fname, "problem": f"path value {problem}", **shown})
    return problems


def _segment_problem(value: str) -> str | None:
    for _ in range(3):
        if _CONTROL_CHARS.search(value):
            return "must not contain control characters"
        if not value.strip():
            return "must not be empty or blank"
        if any(part and not part.strip(".") for part in re.split(r"[/\\]", value)):
            return "must not be '.' or '..' (a dot segment would reach another endpoint)"
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return None


def path_matches(template: str, sent: str) -> bool:
    """The path as httpx sends it still has the template's segments: the same count, literal text equal."""
    want, got = _segment_patterns(template), sent.split("/")
    if len(want) != len(got):
        return False
    for (regex, templated), segment in zip(want, got, strict=True):
        decoded = unquote(segment) if "%" in segment else segment
        if not regex.fullmatch(decoded) or (templated and not decoded.strip(".")):
            return False
    return True


@lru_cache(maxsize=4096)
def _segment_patterns(template: str) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """Per segment of `template`: a regex for the segments it accepts, and whether it holds a value
    (compiled once per template: this runs on every request)."""
    return tuple((re.compile("".join(".+" if part.startswith("{") else re.escape(part)
                                     for part in re.split(r"(\{[^}]*\})", pattern) if part), re.DOTALL),
                  "{" in pattern) for pattern in template.split("/"))

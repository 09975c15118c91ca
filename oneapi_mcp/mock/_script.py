"""Scripted failures: the next N requests that match a method and a path glob get a chosen status.

Unlike the probabilistic faults (`_faults.py`), a scripted failure hits exactly the request a test
names, so a composite tool's partial failure (step 3 of 5 answers 500) can be reproduced.

From text (flag `--fail`, repeatable; env `ONEAPI_MOCK_FAIL`, entries separated by `;`):
`METHOD PATH [STATUS [TIMES [MESSAGE]]]`, for example `POST /zia/api/v1/firewallFilteringRules* 500 1`.
METHOD is an HTTP method or `*`; PATH is an fnmatch glob on the request path (`*` also crosses
`/`); STATUS defaults to 500 and TIMES to 1 (0: every matching request); MESSAGE is the rest.
In Python, `after=N` lets the first N matching requests through first, so a write midway through a
run fails (the third POST of five) while the ones before it succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

__all__ = ["FailureScript", "ScriptedFailure", "parse_failure", "parse_failures"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "*")
_FORMAT = "'METHOD PATH [STATUS [TIMES [MESSAGE]]]', e.g. 'POST /zia/api/v1/firewallFilteringRules* 500 1'"


@dataclass
class ScriptedFailure:
    """One rule; `hits` counts the requests it has failed so far."""

    method: str
    path: str
    status: int = 500
    times: int = 1  # 0: always
    message: str | None = None
    hits: int = 0
    after: int = 0  # matching requests let through before the rule starts failing
    passed: int = 0

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.method not in _METHODS:
            raise ValueError(f"scripted failure method {self.method!r} is not one of {', '.join(_METHODS)}")
        if not self.path.startswith(("/", "*")):
            raise ValueError(f"scripted failure path {self.path!r} must start with / (it is matched against the path)")
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 400 <= self.status <= 599:
            raise ValueError(f"scripted failure status {self.status!r} must be an HTTP error status (400-599)")
        if isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 0:
            raise ValueError(f"scripted failure times {self.times!r} must be a whole number >= 0 (0: always)")
        if isinstance(self.after, bool) or not isinstance(self.after, int) or self.after < 0:
            raise ValueError(f"scripted failure after {self.after!r} must be a whole number >= 0")

    @property
    def spent(self) -> bool:
        return self.times > 0 and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method.upper()) and fnmatchcase(path, self.path)


def parse_failure(text: str) -> ScriptedFailure:
    """One rule from `METHOD PATH [STATUS [TIMES [MESSAGE]]]`; ValueError names what is wrong."""
    parts = text.split(maxsplit=4)
    if len(parts) < 2:
        raise ValueError(f"scripted failure {text.strip()!r} needs at least a method and a path; use {_FORMAT}")
    numbers = []
    for name, raw in zip(("status", "times"), parts[2:4], strict=False):
        try:
            numbers.append(int(raw))
        except ValueError:
            problem = f"{name} {raw!r} is not a whole number"
            raise ValueError(f"scripted failure {text.strip()!r}: {problem}; use {_FORMAT}") from None
    try:
        return ScriptedFailure(parts[0], parts[1], *numbers, message=parts[4] if len(parts) > 4 else None)
    except ValueError as exc:
        raise ValueError(f"scripted failure {text.strip()!r}: {exc}") from None


def parse_failures(text: str) -> list[ScriptedFailure]:
    """Rules separated by `;` (the env variable's format); empty entries are skipped."""
    return [parse_failure(part) for part in text.split(";") if part.strip()]


class FailureScript:
    """The rules in force, tried in the order they were added; a spent rule is dropped."""

    def __init__(self, rules: list[ScriptedFailure] | tuple[ScriptedFailure, ...] = ()) -> None:
        self.rules: list[ScriptedFailure] = list(rules)

    def add(self, rule: ScriptedFailure) -> ScriptedFailure:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> ScriptedFailure | None:
        """The rule that fails this request (and counts the hit), or None."""
        for rule in self.rules:
            if rule.matches(method, path):
                if rule.passed < rule.after:
                    rule.passed += 1
                    continue
                rule.hits += 1
                if rule.spent:
                    self.rules.remove(rule)
                return rule
        return None

    def __bool__(self) -> bool:
        return bool(self.rules)

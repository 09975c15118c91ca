"""Schema work the mock needs: validate a request, make a value fit a response schema, invent one.

The vendored specs use a small subset of OpenAPI 3.0 schema (type, format int32/int64/binary,
properties, required, items, additionalProperties, readOnly, $ref to components), so a few
dozen lines cover it and run much faster than a general validator on every request.
"""

from __future__ import annotations

import random
import re
from typing import Any

__all__ = ["SchemaKit"]

_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DIGITS = re.compile(r"-?[0-9]+")
_ID_DIGITS = re.compile(r"-?[0-9]{1,19}")
_EPOCH = 1767225600  # 2026-01-01T00:00:00Z: fixed, so generated data never depends on the clock


def _type_of(schema: dict[str, Any]) -> str | None:
    if "type" in schema:
        return schema["type"]
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


class SchemaKit:
    """Schema operations over one service's components.

    `numbers_as_strings` is ZPA's wire format: its API sends every int64 (ids, times) as a
    string of digits and accepts either form in requests.
    """

    def __init__(self, schemas: dict[str, Any], *, numbers_as_strings: bool = False, seed: int = 0) -> None:
        self.schemas = schemas
        self.numbers_as_strings = numbers_as_strings
        self.seed = seed

    def resolve(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        schema = schema or {}
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in schema:  # used only to attach readOnly to a $ref; merge the parts
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for key, value in part.items():
                    if key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key == "required":
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged.setdefault(key, value)
            return merged
        return schema

    def schema_name(self, schema: dict[str, Any] | None) -> str:
        return (schema or {}).get("$ref", "").rsplit("/", 1)[-1]

    # ---------------------------------------------------------------- validation (requests)

    def validate(self, value: Any, schema: dict[str, Any] | None, where: str = "body") -> str | None:
        """The first way `value` breaks `schema`, as a sentence, or None when it fits."""
        s = self.resolve(schema)
        kind = _type_of(s)
        if kind is None:
            return None
        if kind == "object":
            if not isinstance(value, dict):
                return f"{where} must be an object"
            for name in s.get("required", ()):
                if name not in value:
                    return f"{where}.{name} is required"
            props = s.get("properties", {})
            extra = s.get("additionalProperties", True)
            for key, item in value.items():
                if key in props:
                    problem = self.validate(item, props[key], f"{where}.{key}")
                elif extra is False:
                    problem = f"{where}.{key} is not an allowed property"
                elif isinstance(extra, dict):
                    problem = self.validate(item, extra, f"{where}.{key}")
                else:
                    problem = None
                if problem:
                    return problem
            return None
        if kind == "array":
            if not isinstance(value, list):
                return f"{where} must be an array"
            for index, item in enumerate(value):
                problem = self.validate(item, s.get("items"), f"{where}[{index}]")
                if problem:
                    return problem
            return None
        if kind == "integer":
            if self.numbers_as_strings and s.get("format") == "int64" and isinstance(value, str):
                # ZPA ids travel as strings; they are opaque, so only their shape is checked.
                return None if _ID_DIGITS.fullmatch(value) else f"{where} must be an integer or a string of digits"
            if not isinstance(value, int) or isinstance(value, bool):
                return f"{where} must be an integer"
            low, high = _RANGES.get(s.get("format", ""), (None, None))
            if low is not None and not low <= value <= high:
                return f"{where} is out of range for {s['format']}"
            return None
        if kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return None if ok else f"{where} must be a number"
        if kind == "string":
            return None if isinstance(value, str) else f"{where} must be a string"
        if kind == "boolean":
            return None if isinstance(value, bool) else f"{where} must be a boolean"
        return None

    # ---------------------------------------------------------------- conformance (responses)

    def conform(self, value: Any, schema: dict[str, Any] | None, name: str = "", depth: int = 0) -> Any:
        """`value` changed as little as possible so that it fits `schema` (and the wire format)."""
        s = self.resolve(schema)
        kind = _type_of(s)
        if kind is None:
            return value
        if kind == "object":
            if not isinstance(value, dict):
                return self.example(schema, self._rng(name), name, depth)
            props = s.get("properties", {})
            extra = s.get("additionalProperties", True)
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key in props:
                    out[key] = self.conform(item, props[key], key, depth + 1)
                elif isinstance(extra, dict):
                    out[key] = self.conform(item, extra, key, depth + 1)
                elif extra is not False:
                    out[key] = item
            for key in s.get("required", ()):
                if key not in out:
                    out[key] = self.example(props.get(key, {}), self._rng(key), key, depth + 1)
            return out
        if kind == "array":
            if not isinstance(value, list):
                return []
            return [self.conform(item, s.get("items"), name, depth + 1) for item in value]
        if kind == "integer":
            if self.numbers_as_strings and s.get("format") == "int64" and isinstance(value, str):
                if _ID_DIGITS.fullmatch(value):
                    return value
            number = _as_int(value)
            low, high = _RANGES.get(s.get("format", ""), (None, None))
            if number is None or (low is not None and not low <= number <= high):
                number = self._int_example(name, self._rng(name), s.get("format"))
            if self.numbers_as_strings and s.get("format") == "int64":
                return str(number)
            return number
        if kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            return round(self._rng(name).uniform(0, 100), 2)
        if kind == "string":
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            return self._string_example(name, self._rng(name), s.get("format"))
        if kind == "boolean":
            return value if isinstance(value, bool) else False
        return value

    # ---------------------------------------------------------------- invention (examples)

    def example(self, schema: dict[str, Any] | None, rng: random.Random, name: str = "", depth: int = 0) -> Any:
        """A plausible value for `schema`; the same rng state gives the same value."""
        s = self.resolve(schema)
        kind = _type_of(s)
        if kind == "object":
            props = s.get("properties", {})
            required = set(s.get("required", ()))
            out: dict[str, Any] = {}
            for key, sub in props.items():
                if depth < 2 or key in required or (depth < 6 and key in ("id", "name")):
                    out[key] = self.example(sub, rng, key, depth + 1)
            return out
        if kind == "array":
            if depth >= 2:
                return []
            return [self.example(s.get("items"), rng, name, depth + 1)]
        if kind == "integer":
            value = self._int_example(name, rng, s.get("format"))
            return str(value) if self.numbers_as_strings and s.get("format") == "int64" else value
        if kind == "number":
            return round(rng.uniform(0, 100), 2)
        if kind == "string":
            return self._string_example(name, rng, s.get("format"))
        if kind == "boolean":
            return rng.random() < 0.5
        return {}

    def _rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    @staticmethod
    def _int_example(name: str, rng: random.Random, fmt: str | None) -> int:
        low = name.lower()
        if low.endswith(("time", "date", "timestamp")) or low in ("from", "to", "started_on", "ended_on", "expiry"):
            return _EPOCH - rng.randrange(0, 86400 * 30)
        if low == "id" or low.endswith("id") or low.endswith("ids"):
            return rng.randrange(1000, 999999)
        if "score" in low:
            return rng.randrange(30, 101)
        if "port" in low:
            return rng.choice((80, 443, 8080, 22, 3389))
        return rng.randrange(0, 100)

    @staticmethod
    def _string_example(name: str, rng: random.Random, fmt: str | None) -> str:
        low = name.lower()
        n = rng.randrange(1, 1000)
        if fmt == "binary":
            return "bW9jaw=="
        if "email" in low:
            return f"user{n}@example.test"
        if low in ("name", "displayname", "title", "rulename", "rule_name"):
            return f"Mock {name} {n}"
        if "url" in low or "link" in low or "domain" in low or "fqdn" in low:
            return f"app{n}.example.test"
        if low.endswith("ip") or "ipaddress" in low or low in ("ip", "ipv4", "private_ipv4"):
            return f"10.0.{n % 256}.{rng.randrange(1, 255)}"
        if "mac" in low:
            return f"00:1a:2b:{n % 256:02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}"
        if low.endswith(("time", "date", "timestamp")):
            return "2026-01-01T00:00:00Z"
        if low.endswith("id"):
            return str(rng.randrange(1000, 999999))
        if "version" in low:
            return f"4.{n % 10}.0.{n}"
        if low in ("description", "comments", "comment", "desc"):
            return "Generated by the oneapi-mcp mock"
        if "status" in low or low.endswith("state"):
            return "ACTIVE"
        return f"{name or 'value'}-{n}"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None

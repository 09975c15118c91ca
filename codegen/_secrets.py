"""Which field names hold secrets, decided from a spec at generation time.

A property or parameter is a secret when the spec says so (`format: password`, `writeOnly: true`)
or when it is a string named like a secret (the runtime's own rule, `looks_secret`: psk,
uninstallPass, kerberosPwd, passcode, passphrase, exitOtp, apiKey, clientSecret, token ...). It is
cleared, a reviewed false positive, when it is named like a secret but is a boolean, a number, an
enum, or an object with declared properties (or an array of them: `vpnCredentials`), whose own fields
are judged by their names. An overlay's `x-oneapi-secret: true|false` on the property (or parameter) decides over
both. The runtime redacts the union of the marked names and its name rule, minus the cleared ones.
"""

from __future__ import annotations

from ._load import resolve_pointer

__all__ = ["secret_fields"]

_NOT_SECRET_TYPES = ("boolean", "integer", "number")


def secret_fields(doc: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names marked secret, names cleared) over every schema property and parameter in `doc`, sorted;
    a name marked secret anywhere is never cleared."""
    from .._redact import looks_secret

    verdicts: dict[str, set[bool]] = {}

    def judge(name: object, node: object) -> None:
        if not isinstance(name, str) or not isinstance(node, dict):
            return
        verdict = _verdict(doc, name, node, looks_secret)
        if verdict is not None:
            verdicts.setdefault(name, set()).add(verdict)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for name, schema in props.items():
                    judge(name, schema)
            if node.get("in") in ("path", "query") and "name" in node:
                judge(node["name"], {**(node.get("schema") or {}), **{k: v for k, v in node.items()
                                                                      if k == "x-oneapi-secret"}})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    secret = sorted(n for n, v in verdicts.items() if True in v)
    cleared = sorted(n for n, v in verdicts.items() if v == {False})
    return tuple(secret), tuple(cleared)


def _verdict(doc: dict, name: str, node: dict, looks_secret) -> bool | None:
    """True: a secret; False: named like one but not one; None: not a question for this name."""
    schema = _deref(doc, node)
    for source in (node, schema):
        if isinstance(source.get("x-oneapi-secret"), bool):
            return source["x-oneapi-secret"]
    if schema.get("format") == "password" or schema.get("writeOnly") or node.get("writeOnly"):
        return True
    if not looks_secret(name):
        return None
    return _by_type(schema, lambda node: _deref(doc, node))


def _by_type(schema: dict, deref) -> bool | None:
    """A value named like a secret: strings are secrets; booleans, numbers and enums are not; an object
    with declared properties (or an array of them) is not, because each of its fields is judged by its
    own name; a free-form object is left to the runtime's name rule, which hides it whole."""
    kind = schema.get("type")
    if kind in _NOT_SECRET_TYPES or "enum" in schema:
        return False
    if kind == "array":
        items = deref(schema.get("items") or {})
        return _by_type(items, deref) if isinstance(items, dict) and items.get("type") != "array" else None
    if isinstance(schema.get("properties"), dict) and not schema.get("additionalProperties"):
        return False
    if kind == "string" or (kind is None and not {"properties", "items", "allOf", "anyOf", "oneOf",
                                                   "additionalProperties"} & set(schema)):
        return True
    return None


def _deref(doc: dict, node: dict) -> dict:
    for _ in range(20):
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node
        target = resolve_pointer(doc, ref[1:])
        if not isinstance(target, dict):
            return node
        node = target
    return node

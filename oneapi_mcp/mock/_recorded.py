"""Objects as a real tenant answered them (tests/recorded/), so the mock's collections have the
tenant's field names and shapes.

`recorded_samples.json` (written by `python -m oneapi_mcp._recorded`) holds, per collection
(`"<service> <template>"`), three objects from recorded 2xx GET answers plus any that shows a field
those lack. A collection the
mock would invent from its schema starts with those objects instead (new ids, the rest as the tenant
answered). Hand-seeded collections (`_seed_*.py`: people, devices, policies that the composite tools
reason over) keep their own consistent objects.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["SAMPLES_FILE", "build_samples", "recorded_items"]

SAMPLES_FILE = "recorded_samples.json"
_PER_COLLECTION = 3


def _unredacted(value: Any, key: str, counter: list[int]) -> Any:
    """The recordings redact secrets and some names to "REDACTED"; a mock needs distinct values
    (two VPN credentials must not share an fqdn), so each becomes `redacted-<field>-<n>`."""
    if isinstance(value, dict):
        return {k: _unredacted(v, k, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [_unredacted(v, key, counter) for v in value]
    if isinstance(value, str) and value.startswith("REDACTED"):
        counter[0] += 1
        return f"redacted-{key.lower()}-{counter[0]}"
    return value


def build_samples(interactions: list, mock: Any) -> dict[str, list[dict]]:
    """Up to three recorded objects per mock collection, from 2xx GET answers (lists and single objects)."""
    routes: dict[tuple[str, str], Any] = {}
    for op in mock.operations:
        routes[(op.method, op.path)] = op
    from .._fidelity import Router
    from ._spec import load_document

    routers: dict[str, Router] = {}
    out: dict[str, list[dict]] = {}
    for rec in interactions:
        if rec.method != "GET" or not 200 <= rec.status < 300 or not isinstance(rec.answer, (list, dict)):
            continue
        router = routers.setdefault(rec.service, Router(load_document(rec.service), rec.service))
        route = router.match("GET", rec.path)
        op = routes.get(("GET", route.template)) if route else None
        if op is None or not op.collection:
            continue
        key = (op.pagination or {}).get("result_key", "@")
        if isinstance(rec.answer, list):
            items = rec.answer
        elif key != "@" and isinstance(rec.answer.get(key), list):
            items = rec.answer[key]
        elif op.id_param:
            items = [rec.answer]
        else:
            continue
        kept = out.setdefault(f"{rec.service} {op.collection}", [])
        for item in items:
            if not isinstance(item, dict) or item in kept:
                continue
            seen = set().union(*(set(k) for k in kept)) if kept else set()
            if len(kept) < _PER_COLLECTION or not set(item) <= seen:  # beyond three, only to show new fields
                kept.append(item)
    counter = [0]
    return {k: [_unredacted(item, "", counter) for item in v] for k, v in sorted(out.items()) if v}


@cache
def _samples() -> dict[str, list[dict]]:
    try:
        text = resources.files("oneapi_mcp.mock").joinpath(SAMPLES_FILE).read_text()
    except FileNotFoundError:
        return {}
    return json.loads(text)


def recorded_items(service: str, template: str) -> list[dict]:
    """Copies of the recorded objects of one collection (empty when nothing was recorded)."""
    return copy.deepcopy(_samples().get(f"{service} {template}", []))

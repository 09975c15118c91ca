"""The mock's state: collections of objects with ids, free-standing documents, activation status.

A store key is `(service, path template, values of the template's non-tenant parameters)`, so
`/policySet/{policySetId}/rule` keeps one collection per policy set while `{customerId}` never
splits anything. Collections are filled on first use, from the seed data when it has them and
otherwise with a few invented objects, so state never depends on the order of requests.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._seed import SeedData

__all__ = ["Collection", "Key", "Store", "canonical_id"]

Key = tuple[str, str, tuple[str, ...]]
_DIGITS = re.compile(r"-?[0-9]+")
_ZID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def canonical_id(value: Any) -> str:
    """One spelling per id: `7`, `"7"` and `"007"` are the same object."""
    text = str(value)
    return str(int(text)) if _DIGITS.fullmatch(text) else text


@dataclass
class Collection:
    items: dict[str, dict[str, Any]]
    id_field: str
    next_id: int
    id_style: str  # int | digits | zid

    def new_id(self) -> Any:
        number = self.next_id
        self.next_id += 1
        if self.id_style == "int":
            return number
        if self.id_style == "zid":
            text = ""
            while number:
                number, rest = divmod(number, len(_ZID_ALPHABET))
                text = _ZID_ALPHABET[rest] + text
            return "u" + text
        return str(number)

    def get(self, item_id: Any) -> dict[str, Any] | None:
        return self.items.get(canonical_id(item_id))

    def put(self, obj: dict[str, Any]) -> None:
        self.items[canonical_id(obj[self.id_field])] = obj

    def remove(self, item_id: Any) -> bool:
        return self.items.pop(canonical_id(item_id), None) is not None


@dataclass
class Store:
    seed: SeedData
    collections: dict[Key, Collection] = field(default_factory=dict)
    documents: dict[Key, Any] = field(default_factory=dict)
    activation: dict[str, str] = field(default_factory=lambda: {"zia": "ACTIVE", "ztw": "ACTIVE"})
    created: set[tuple[Key, str]] = field(default_factory=set)  # (collection key, id) made at runtime

    def collection(self, key: Key, id_field: str, id_style: str, invent: Callable[[int], list[dict]]) -> Collection:
        """The collection at `key`, filled from the seed data or `invent(first_id)` on first use.

        An invented collection is stored only once something changes it (`remember`): until then
        the same key invents the same objects again, so made-up ids never grow the store.
        """
        key = self.seed.aliases.get(key, key)
        found = self.collections.get(key)
        if found is not None:
            return found
        first = _first_id(key, id_style)
        seeded = self.seed.collections.get(key)
        objects = [dict(obj) for obj in seeded] if seeded is not None else invent(first)
        coll = Collection({}, id_field, first, id_style)
        for obj in objects:
            if id_field not in obj:
                obj[id_field] = coll.new_id()
            coll.put(obj)
        numbers = [int(k) for k in coll.items if _DIGITS.fullmatch(k)]
        if seeded is not None and numbers:
            coll.next_id = max(numbers) + 1  # new objects follow the seeded ones
        else:
            coll.next_id = max([coll.next_id, *(n + 1 for n in numbers)])
        if seeded is not None:
            self.collections[key] = coll
        return coll

    def remember(self, key: Key, coll: Collection) -> None:
        self.collections[self.seed.aliases.get(key, key)] = coll

    def document(self, key: Key) -> Any:
        if key in self.documents:
            return self.documents[key]
        return self.seed.documents.get(key)

    def reset(self) -> None:
        self.collections.clear()
        self.documents.clear()
        self.created.clear()
        self.activation = {"zia": "ACTIVE", "ztw": "ACTIVE"}


def _first_id(key: Key, id_style: str) -> int:
    # Ids differ between collections (a mix-up shows as a 404, not as the wrong object) and do
    # not depend on which collection was touched first.
    spread = zlib.crc32(repr(key).encode()) % 90_000
    if id_style == "digits":
        return 72_057_594_037_000_000 + spread * 1_000
    return 10_000 + spread * 100 if id_style == "int" else 1_000 + spread

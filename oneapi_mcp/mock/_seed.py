"""Seeded tenant data: one fictional company seen through all six services.

The same people appear in ZIA (users), ZIdentity (users and group members), ZCC (devices owned
by their email) and ZDX (users, app users, devices), so composite tools can join across services
on the email address. Everything comes from one `random.Random(seed)`: the same seed gives the
same tenant. Objects here use the specs' field names; the mock still fits every answer to the
response schema of the operation that returns it.

Keys are `(service, path template, values of the template's non-tenant path parameters)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Person", "SeedData", "build_seed"]

ZIA = "/zia/api/v1"
ZPA = "/zpa/mgmtconfig/v1/admin/customers/{customerId}"
ZPA2 = "/zpa/mgmtconfig/v2/admin/customers/{customerId}"
ZPA_USERS = "/zpa/userconfig/v1/customers/{customerId}"
ZDX = "/zdx/v1"
ZCC = "/zcc/papi/public/v1"
ZID = "/ziam/admin/api/v1"

NOW = 1767225600  # 2026-01-01T00:00:00Z, fixed so the data never depends on the clock
DOMAIN = "example.test"

_FIRST = (
    "Ava Ben Chloe Daniel Elena Farid Grace Hiro Isla Jonas Kavya Liam Maya Noah Olivia Priya Quinn Rafael "
    "Sofia Tariq Uma Victor Wen Xavier Yara Zane Amara Bruno Camila Dmitri Esme Felix"
).split()
_LAST = (
    "Anderson Bauer Chen Dubois Eriksen Fischer Garcia Haddad Ito Johansson Kowalski Lopez Moreau Nakamura "
    "Okafor Patel Rossi Schmidt Tanaka Usman Varga Weber Xu Yilmaz Zhang"
).split()
DEPARTMENTS = ("Engineering", "Finance", "Sales", "Marketing", "Human Resources", "IT Operations")
GROUPS = (
    "Developers",
    "Finance Approvers",
    "Sales Team",
    "Marketing Team",
    "Contractors",
    "Executives",
    "Remote Workers",
    "IT Admins",
)
_DEPT_GROUP = {"Engineering": 0, "Finance": 1, "Sales": 2, "Marketing": 3, "IT Operations": 7}
ZDX_APPS = ("Microsoft 365", "Zoom", "Salesforce", "ServiceNow", "Slack", "Google Workspace")


@dataclass(frozen=True)
class Person:
    index: int
    first: str
    last: str
    department: int  # index into DEPARTMENTS
    groups: tuple[int, ...]  # indexes into GROUPS
    disabled: bool
    devices: int  # ZCC/ZDX devices this person owns (0-2)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}@{DOMAIN}"


@dataclass
class SeedData:
    people: list[Person]
    collections: dict[tuple, list[dict[str, Any]]] = field(default_factory=dict)
    documents: dict[tuple, Any] = field(default_factory=dict)
    aliases: dict[tuple, tuple] = field(default_factory=dict)


def _people(rng: random.Random, count: int = 60) -> list[Person]:
    names = [(first, last) for first in _FIRST for last in _LAST]
    rng.shuffle(names)
    people = []
    for index, (first, last) in enumerate(names[:count]):
        dept = rng.randrange(len(DEPARTMENTS))
        groups = {_DEPT_GROUP[DEPARTMENTS[dept]]} if DEPARTMENTS[dept] in _DEPT_GROUP else set()
        groups |= {g for g in (4, 5, 6) if rng.random() < (0.1, 0.08, 0.35)[g - 4]}
        devices = 0 if rng.random() < 0.15 else (2 if rng.random() < 0.25 else 1)
        people.append(Person(index, first, last, dept, tuple(sorted(groups)), rng.random() < 0.05, devices))
    return people


def build_seed(seed: int = 0) -> SeedData:
    """The whole seeded tenant for `seed` (cheap: a few thousand small dicts)."""
    rng = random.Random(seed)
    data = SeedData(_people(rng))
    from ._seed_access import seed_zpa
    from ._seed_devices import seed_zcc, seed_zdx
    from ._seed_incidents import seed_incidents
    from ._seed_metrics import seed_zdx_history
    from ._seed_people import seed_zia, seed_zid
    from ._seed_siem import seed_siem

    seed_zia(data, rng)
    seed_zid(data, rng)
    seed_zcc(data, rng)
    seed_zdx(data, rng)
    seed_zpa(data, rng)
    seed_incidents(data, rng)
    seed_zdx_history(data, rng)
    seed_siem(data, rng)
    from ._seed_dlp import seed_zwa

    seed_zwa(data, random.Random(f"zwa-{seed}"))  # its own draws: the other services' data do not move
    return data

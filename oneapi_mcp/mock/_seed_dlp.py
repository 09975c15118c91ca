"""Seed data for ZWA (Workflow Automation) DLP incidents, and the mock's answer to their search.

The incidents are about the seeded incident subjects (`incident_subjects`) plus a few other people,
created in the days before `NOW`, in the shape `get_incident_details` reads
(zscaler/zwa/models/incident_details.py: userInfo, severity, status, createdAt, matchingPolicies, ...).
`POST /zwa/dlp/v1/incidents/search` (zscaler/zwa/dlp_incidents.py dlp_incident_search) filters them
by the body's timeRange {startTime, endTime} and fields [{name, value: [...]}] and pages them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ._errors import error_response
from ._seed import DEPARTMENTS, NOW, SeedData
from ._seed_incidents import incident_subjects

if TYPE_CHECKING:
    from ._engine import Engine
    from ._requests import Call

__all__ = ["ZWA_INCIDENTS", "dlp_incident_search", "seed_zwa"]

ZWA_INCIDENTS = ("zwa", "/zwa/dlp/v1/incidents/search", ())  # where the seeded incidents are kept
_POLICIES = (("Block PCI uploads", "PCI", "HIGH"), ("Source code to personal cloud", "Source Code", "MEDIUM"),
             ("Customer list by e-mail", "PII", "HIGH"), ("Confidential label", "Confidential", "LOW"))
_SOURCES = (("WEB", "Upload to drive.example.net"), ("EMAIL", "Mail to personal address"),
            ("ENDPOINT", "Copy to USB storage"))
_MAX_PAGE = 100  # page_size at most 100 (dlp_incident_search's docstring)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed_zwa(data: SeedData, rng: random.Random) -> None:
    people = incident_subjects(data) + [p for p in data.people if not p.disabled][10:14]
    incidents = []
    for n, person in enumerate(people):
        for k in range(2 if n < 3 else 1):
            policy, dictionary, severity = _POLICIES[(n + k) % len(_POLICIES)]
            source, what = _SOURCES[(n + 2 * k) % len(_SOURCES)]
            created = NOW - (n * 7 + k * 3 + 1) * 3600 - rng.randrange(600)
            incidents.append({
                "internalId": f"SVDP-{1741064322997049139 + 10 * n + k}",
                "transactionId": f"tx-{rng.getrandbits(48):012x}",
                "integrationType": "INLINE", "sourceType": source, "sourceSubType": what,
                "sourceActions": ["BLOCK"] if severity == "HIGH" else ["ALLOW"],
                "severity": severity, "priority": "P1" if severity == "HIGH" else "P3",
                "matchCount": 1 + rng.randrange(40),
                "createdAt": _iso(created), "lastUpdatedAt": _iso(created + 600),
                "status": "OPEN" if k == 0 else "RESOLVED",
                "userInfo": {"name": person.name, "email": person.email, "userId": 8000 + person.index,
                             "department": DEPARTMENTS[person.department], "clientIP": f"10.1.{n}.{20 + k}"},
                "matchingPolicies": {"rules": [{"name": policy}], "dictionaries": [{"name": dictionary}]},
            })
    incidents.sort(key=lambda i: i["createdAt"], reverse=True)
    data.documents[ZWA_INCIDENTS] = {"incidents": incidents}


def _when(text: Any) -> str | None:
    """An ISO 8601 instant as the sortable string the seed uses (None: no bound)."""
    if not text:
        return None
    try:
        return _iso(int(datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return "invalid"


def _matches(incident: dict[str, Any], fields: list[Any]) -> bool:
    for f in fields:
        if not isinstance(f, dict) or not f.get("name"):
            continue
        wanted = {str(v).lower() for v in (f.get("value") or [])}
        have = incident.get(str(f["name"]))
        if wanted and str(have).lower() not in wanted:
            return False
    return True


def dlp_incident_search(engine: Engine, call: Call) -> Response:
    body = call.body if isinstance(call.body, dict) else {}
    window = body.get("timeRange") if isinstance(body.get("timeRange"), dict) else {}
    start, end = _when(window.get("startTime")), _when(window.get("endTime"))
    if "invalid" in (start, end):
        return error_response("zwa", 400, "timeRange startTime and endTime must be ISO 8601 instants")
    fields = body.get("fields") if isinstance(body.get("fields"), list) else []
    found = [i for i in (engine.store.document(ZWA_INCIDENTS) or {}).get("incidents", [])
             if (start is None or i["createdAt"] >= start) and (end is None or i["createdAt"] <= end)
             and _matches(i, fields)]
    size = call.query.get("page_size") if isinstance(call.query.get("page_size"), int) else 20
    size = max(1, min(size, _MAX_PAGE))
    page = call.query.get("page") if isinstance(call.query.get("page"), int) else 1
    chunk = found[(max(page, 1) - 1) * size: max(page, 1) * size]
    return engine._answer(call.op, {"cursor": {"totalPages": -(-len(found) // size), "currentPage": page,
                                               "pageSize": size, "totalIncidents": len(found)},
                                    "incidents": chunk})

"""Z-Insights reads shared by the analytics and incident tools: cyber-security incidents (the threats
ZIA blocked, by category, by day and by user) and the shadow IT summary, over a window.

Z-Insights is GraphQL (`POST /zins/graphql`); each read is a generated operation
(`zins_cyber_security_incidents`, `zins_shadow_it_summary`), so auth, rate limits, audit and scopes
apply as to any other read. Times are epoch milliseconds; `categorizeBy` nests the entries in the
order given (reference/recorded/zins/cassettes/TestCyberSecurity.yaml; the SDK's
zscaler/zins/cyber_security.py). A `TIME` entry's name is the bucket's start in epoch milliseconds.
"""

from __future__ import annotations

from typing import Any

__all__ = ["INCIDENTS_OP", "SHADOW_IT_OP", "ZINS_LIMIT", "day_totals", "entries", "incidents_args", "person_incidents",
           "threat_view"]

INCIDENTS_OP = "zins_cyber_security_incidents"
SHADOW_IT_OP = "zins_shadow_it_summary"
ZINS_LIMIT = 500  # entries per level: enough that a person or a day is not cut off a top-N list


def incidents_args(start: int, end: int, *dims: str, limit: int = ZINS_LIMIT) -> dict[str, Any]:
    """Arguments of `zins_cyber_security_incidents` for a window in epoch seconds."""
    return {"startTime": start * 1000, "endTime": end * 1000, "categorizeBy": list(dims), "limit": limit}


def entries(answer: Any) -> list[dict[str, Any]]:
    """The `{name, total, entries?}` rows of an incidents answer (any level), dropping malformed ones."""
    rows = answer.get("entries") if isinstance(answer, dict) else answer
    return [e for e in rows or [] if isinstance(e, dict) and e.get("name") is not None]


def _total(entry: dict[str, Any]) -> int:
    try:
        return int(entry.get("total") or 0)
    except (TypeError, ValueError):
        return 0


def day_totals(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(epoch seconds, total) per TIME entry, in time order; names that are not times are skipped."""
    out = []
    for e in rows:
        try:
            out.append((int(e["name"]) // 1000, _total(e)))
        except (TypeError, ValueError):
            continue
    return sorted(out)


async def threat_view(reads: Any, start: int, end: int, *, top: int = 10) -> dict[str, Any]:
    """Threat categories, blocked threats per day, top users and shadow IT over [start, end] (seconds),
    from Z-Insights, through `reads.get` (None for each read that failed; `reads` records why)."""
    categories = await reads.get(INCIDENTS_OP, incidents_args(start, end, "THREAT_CATEGORY_ID"))
    by_day = await reads.get(INCIDENTS_OP, incidents_args(start, end, "TIME"))
    users = await reads.get(INCIDENTS_OP, incidents_args(start, end, "USER_ID", limit=top))
    shadow = await reads.get(SHADOW_IT_OP, {"startTime": start * 1000, "endTime": end * 1000})
    cats = None if categories is None else [{"category": e["name"], "blocked": _total(e)} for e in entries(categories)]
    days = None if by_day is None else day_totals(entries(by_day))
    return {
        "categories": cats,
        "blocked_total": None if cats is None else sum(c["blocked"] for c in cats),
        "per_day": days,
        "top_users": None if users is None else [{"user": e["name"], "blocked": _total(e)}
                                                 for e in entries(users)][:top],
        "shadow_it": None if not isinstance(shadow, dict) else {
            "apps": shadow.get("total_apps"), "bytes": shadow.get("total_bytes"),
            "by_category": [{"category": e["name"], "apps": _total(e)}
                            for e in entries(shadow.get("group_by_app_cat_for_app"))]},
    }


async def person_incidents(ev: Any, email: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[str]]:
    """A person's Z-Insights cyber-security incidents over [start, end] (seconds): (day, total) per day
    and the threat categories (`name (total)`), through `ev.fetch` (the incident tools' evidence)."""
    source = "Z-Insights cyber-security incidents"
    days: list[tuple[int, int]] = []
    categories: list[str] = []
    ok, by_day = await ev.fetch(source, INCIDENTS_OP, incidents_args(start, end, "USER_ID", "TIME"))
    mine = [e for e in entries(by_day) if str(e["name"]).lower() == email.lower()] if ok else []
    if mine:
        days = day_totals(entries(mine[0]))
    ok, by_category = await ev.fetch(source, INCIDENTS_OP, incidents_args(start, end, "USER_ID",
                                                                         "THREAT_CATEGORY_ID"))
    mine = [e for e in entries(by_category) if str(e["name"]).lower() == email.lower()] if ok else []
    if mine:
        categories = [f"{e['name']} ({_total(e)})" for e in entries(mine[0])]
    return days, categories

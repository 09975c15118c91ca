"""The tenant's own domains, which a block must not hit by accident: the email domains of its
ZIdentity users, and the domains its ZPA application segments serve. Blocking one of them (or a
parent of one) would cut the company off from itself, so it is refused unless forced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import Refusal

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import Workflow

__all__ = ["overlaps", "refuse_own_domains"]

_USERS_READ = 2_000  # enough users to see every email domain of a tenant; more is not needed for that


def overlaps(blocked: str, own: str) -> bool:
    """Whether blocking `blocked` (a leading dot: with subdomains) hits `own` or something under it."""
    a, b = blocked.lower().lstrip("*").lstrip("."), own.lower().lstrip("*").lstrip(".")
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


async def _zid_domains(wf: Workflow) -> set[str]:
    data = await wf.read("zid_list_users", {"all_pages": True, "max_items": _USERS_READ})
    users = data.get("items", []) if isinstance(data, dict) else list(data or [])
    return {str(u.get(key)).rsplit("@", 1)[1].lower() for u in users for key in ("loginName", "primaryEmail")
            if "@" in str(u.get(key) or "")}


async def refuse_own_domains(wf: Workflow, domains: list[str], segments: list[dict[str, Any]] | None, *,
                             force: bool) -> None:
    """Refuse `domains` that hit the tenant's own (ZIdentity users' email domains; the domains of
    `segments`, the ZPA application segments already read) unless `force`; say what was checked."""
    own: dict[str, str] = {}
    try:
        for domain in sorted(await _zid_domains(wf)):
            own.setdefault(domain, "the email domain of ZIdentity users")
    except Refusal as exc:
        wf.cannot(f"the domains were not checked against ZIdentity users' email domains ({exc.message})")
    for segment in segments or []:
        for entry in segment.get("domainNames") or []:
            own.setdefault(str(entry).lower(), f"served by ZPA application segment {segment.get('name')!r}")
    hits = [f"{d} ({own_domain}: {why})" for d in domains for own_domain, why in own.items() if overlaps(d, own_domain)]
    wf.found["own_domains_checked"] = len(own)
    if hits and not force:
        raise Refusal(f"{len(hits)} domain(s) to block are the tenant's own: " + "; ".join(hits[:10])
                      + ". Blocking them would cut users off from the company's own sites; pass force=true if that "
                      "is really meant", "own_domain", own=hits[:50])
    if hits:
        wf.found["own_domains_forced"] = hits[:50]

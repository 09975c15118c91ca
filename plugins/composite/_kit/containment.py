"""Containment that degrades instead of disappearing: the parts of isolating, disabling or
quarantining a person, each planned per service with `Workflow.part`, so a service that cannot be read
(not licensed, no role, an outage) is skipped and reported while the others still act.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import Refusal

from .accounts import RULE_PREFIX, plan_zia_disable, plan_zpa_deny, zpa_user_operand
from .lookups import check_email, find_zid_user, zpa_access_rules

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import Workflow

__all__ = ["CONTAINMENT_SERVICES", "contain_person", "denying_rule", "lock_zid_account"]

CONTAINMENT_SERVICES = ("zid", "zia", "zpa")


async def lock_zid_account(wf: Workflow, who: str, plan: Callable[[dict[str, Any]], Any],
                           what: str = "disable the ZIdentity account") -> str:
    """Find the person in ZIdentity and `plan(user)` their lockout there; the person's email.

    When ZIdentity cannot be read (or is left out with `services`) and `who` is an email, the email is
    enough for the other services; an unknown user is still refused before any write."""

    async def look() -> dict[str, Any]:
        user = await find_zid_user(wf, who)
        wf.found["zid_user"] = {"id": user["id"], "loginName": user.get("loginName"),
                                "displayName": user.get("displayName"), "active": user.get("status")}
        plan(user)
        return user

    user = await wf.part("zid", what, look)
    if user is not None:
        return str(user.get("primaryEmail") or user.get("loginName"))
    try:
        return check_email(who)
    except ValueError:
        raise Refusal(f"ZIdentity was not used to find {who!r} (see not_covered), and it is not an email the other "
                      "services could use: give the person's email", "invalid_arguments") from None


async def contain_person(wf: Workflow, email: str, *, zia: bool, zpa: bool, zpa_rule: str, zpa_why: str) -> None:
    """Disable the person's ZIA user and deny them in ZPA (a rule for this person only, placed first),
    each part skipped and reported on its own when its service cannot be read."""
    if zia:
        await wf.part("zia", "disable the ZIA user", lambda: plan_zia_disable(wf, email))
    if zpa:
        async def deny() -> None:
            operand = await zpa_user_operand(wf, email)
            denying = denying_rule(await zpa_access_rules(wf), operand)
            if denying is not None and denying.get("name") != f"{RULE_PREFIX} {zpa_rule} {email}":
                wf.already(f"ZPA access rule {denying.get('name')!r} already denies {email}")
                return
            await plan_zpa_deny(wf, f"{RULE_PREFIX} {zpa_rule} {email}", [operand], zpa_why)

        # no IdP or attribute to name the person in ZPA is the tenant's set-up, not bad input: skip ZPA only
        await wf.part("zpa", f"deny {email} in ZPA", deny, degrade=("not_found",))


def denying_rule(rules: list[dict[str, Any]], operand: dict[str, Any]) -> dict[str, Any] | None:
    """An enabled ZPA DENY rule whose only condition names the person (`operand`), if any (a rule
    with more conditions denies them only some things)."""
    for rule in rules:
        if str(rule.get("action", "")).upper() != "DENY" or str(rule.get("disabled", "0")) not in ("0", "False",
                                                                                                   "false"):
            continue
        if len(rule.get("conditions") or []) != 1:
            continue
        for condition in rule.get("conditions") or []:
            if condition.get("negated"):
                continue
            for op in condition.get("operands") or []:
                if (op.get("objectType"), str(op.get("lhs")), str(op.get("rhs", "")).lower()) == (
                        operand["objectType"], operand["lhs"], str(operand["rhs"]).lower()):
                    return rule
    return None

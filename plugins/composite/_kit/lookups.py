"""Finding people, groups, devices and policy objects across services, and checking indicators.

Every finder raises `Refusal` naming what it looked for and where when nothing matches, so a
composite tool stops before its first write. The joins follow the tenant's shape: a person is the
same email in ZIdentity (loginName/primaryEmail), ZIA (email), ZCC (device user) and ZDX (email).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import Refusal

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import Workflow

__all__ = [
    "READ_ONLY_FIELDS",
    "body_fields",
    "check_cidr",
    "check_domain",
    "check_email",
    "find_zcc_devices",
    "find_zia_department",
    "find_zia_user",
    "find_zid_group",
    "find_zid_user",
    "zid_user_body",
    "zid_user_groups",
    "zpa_access_policy_set",
    "zpa_access_rules",
]

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ZID_USER_FIELDS = ("displayName", "loginName", "primaryEmail", "status", "firstName", "lastName",
                   "secondaryEmail", "department", "customAttrsInfo")


# -- indicators ------------------------------------------------------------------------------------
def check_domain(text: str) -> str:
    """A domain as ZIA lists take it (lower case, IDNA, an optional leading '.' for subdomains), or
    ValueError with the reason."""
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty domain")
    if "://" in raw or "/" in raw or " " in raw:
        raise ValueError(f"{text!r} is not a domain (no scheme, path or spaces: use example.com)")
    wildcard = raw.startswith(".")
    host = raw[1:] if wildcard else raw
    if host.endswith("."):
        host = host[:-1]
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"{text!r} is not a valid domain name ({exc})") from None
    labels = host.split(".")
    if len(labels) < 2:
        raise ValueError(f"{text!r} is not a domain: it needs at least two labels, like example.com")
    if len(host) > 253:
        raise ValueError(f"{text!r} is longer than 253 characters")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise ValueError(f"{text!r} has an invalid label {label!r} (letters, digits and inner hyphens, "
                             "1-63 characters)")
    if labels[-1].isdigit():
        raise ValueError(f"{text!r} looks like an IP address, not a domain; block IPs with the IP tool")
    return ("." if wildcard else "") + host


def check_cidr(text: str) -> str:
    """An IPv4/IPv6 address or network in canonical form, or ValueError with the reason."""
    raw = str(text).strip()
    try:
        if "/" in raw:
            network = ipaddress.ip_network(raw, strict=True)
            return str(network)
        return str(ipaddress.ip_address(raw))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an IP address or CIDR network ({exc})") from None


def check_email(text: str) -> str:
    raw = str(text).strip()
    if not _EMAIL.fullmatch(raw):
        raise ValueError(f"{text!r} is not an email address")
    return raw.lower()


def checked(values: list[str], check, what: str) -> list[str]:
    """Every value checked; all the bad ones reported together, before anything is read or sent."""
    good, bad = [], []
    for value in values:
        try:
            normal = check(value)
        except ValueError as exc:
            bad.append(str(exc))
            continue
        if normal not in good:
            good.append(normal)
    if bad:
        raise Refusal(f"{len(bad)} invalid {what}: " + "; ".join(bad), "invalid_arguments", invalid=bad)
    if not good:
        raise Refusal(f"no {what} given", "invalid_arguments")
    return good


# -- full-object PUTs ------------------------------------------------------------------------------
# Fields the server sets: sending a read object's lastModifiedTime back makes ZIA answer
# STALE_CONFIGURATION_ERROR once the rule has changed since (terraform-provider-zia zeroes it and drops
# lastModifiedBy before every rule update: zia/resource_zia_dlp_web_rules.go,
# zia/resource_zia_cloud_app_control_rules.go); ZPA's audit fields are likewise the server's.
READ_ONLY_FIELDS = frozenset({"lastModifiedTime", "lastModifiedBy", "modifiedTime", "modifiedBy", "creationTime",
                              "createdBy", "createdTime"})


def body_fields(wf: Workflow, operation: str, obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`obj` (as read) as the body of a full-object PUT with `operation`: only the fields its body
    accepts, without the read-only ones (READ_ONLY_FIELDS), with `changes` applied."""
    runtime = wf.ctx.call.runtime
    names: set[str] | None = None
    if runtime is not None:
        schema = runtime.catalog.input_schema(operation)
        body = schema.get("properties", {}).get("body", {})
        if "$ref" in body:
            body = schema.get("$defs", {}).get(body["$ref"].rsplit("/", 1)[-1], {})
        names = set(body.get("properties") or {}) or None
    kept = {k: v for k, v in obj.items() if k not in READ_ONLY_FIELDS and (names is None or k in names)}
    kept.update(changes)
    return kept


# -- ZIdentity -------------------------------------------------------------------------------------
async def find_zid_user(wf: Workflow, who: str) -> dict[str, Any]:
    """A ZIdentity user by id, login name or email (exact, case-insensitive)."""
    who = str(who).strip()
    if not who:
        raise Refusal("no user given", "invalid_arguments")
    wanted = who.lower()
    if "@" in who:
        found = await wf.read_all("zid_list_users", {"loginname": [who]})
        match = [u for u in found if str(u.get("loginName", "")).lower() == wanted]
        if not match:
            found = await wf.read_all("zid_list_users", {"primaryemail_like": who})
            match = [u for u in found if str(u.get("primaryEmail", "")).lower() == wanted]
    else:
        user = await wf.read("zid_get_user", {"id": who}, missing_ok=True)
        match = [user] if isinstance(user, dict) and user.get("id") else []
    if not match:
        raise Refusal(f"no ZIdentity user {who!r}: searched " + (
            "loginName and primaryEmail with zid_list_users" if "@" in who else "by id with zid_get_user"),
            "not_found", searched=["zid_list_users"] if "@" in who else ["zid_get_user"], who=who)
    if len(match) > 1:
        raise Refusal(f"{who!r} matches {len(match)} ZIdentity users; give the user id", "ambiguous",
                      ids=[u.get("id") for u in match])
    return match[0]


def zid_user_body(user: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A full ZIdentity user body for PUT (it replaces the user), with `changes` applied."""
    body = {k: user[k] for k in ZID_USER_FIELDS if user.get(k) is not None}
    body.update(changes)
    return body


async def zid_user_groups(wf: Workflow, user_id: str) -> list[dict[str, Any]]:
    return await wf.read_all("zid_list_user_groups", {"id": user_id})


async def find_zid_group(wf: Workflow, name: str, groups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A ZIdentity group by exact name (case-insensitive) or id."""
    groups = groups if groups is not None else await wf.read_all("zid_list_groups")
    wanted = str(name).strip().lower()
    match = [g for g in groups if str(g.get("name", "")).lower() == wanted or str(g.get("id")) == str(name)]
    if not match:
        raise Refusal(f"no ZIdentity group {name!r}: searched {len(groups)} groups by name and id with "
                      "zid_list_groups", "not_found", searched=["zid_list_groups"], group=name)
    return match[0]


# -- ZIA -------------------------------------------------------------------------------------------
async def find_zia_user(wf: Workflow, email: str) -> dict[str, Any] | None:
    """The ZIA user with this email, or None (ZIA users exist only where ZIA provisions them).

    Found with `search` and an exact email match: `name` filters the display name only
    (zscaler-sdk-python zscaler/zia/user_management.py list_users; the SDK's recording
    tests/integration/zia/cassettes/TestUserManagement.yaml searches with ?search=)."""
    found = await wf.read_all("zia_list_users", {"search": email})
    match = [u for u in found if str(u.get("email", "")).lower() == email.lower()]
    return match[0] if match else None


async def find_zia_department(wf: Workflow, name: str) -> dict[str, Any]:
    found = await wf.read_all("zia_list_departments", {"search": name})
    match = [d for d in found if str(d.get("name", "")).lower() == str(name).lower()]
    if not match:
        raise Refusal(f"no ZIA department {name!r}: searched by name with zia_list_departments", "not_found",
                      searched=["zia_list_departments"], department=name)
    return match[0]


# -- ZCC -------------------------------------------------------------------------------------------
async def find_zcc_devices(wf: Workflow, email: str) -> list[dict[str, Any]]:
    """The Client Connector devices enrolled by this user (ZCC matches on the user name)."""
    found = await wf.read_all("zcc_list_devices", {"username": email})
    return [d for d in found if str(d.get("user", "")).lower() == email.lower()]


# -- ZPA -------------------------------------------------------------------------------------------
async def zpa_access_policy_set(wf: Workflow) -> str:
    policy = await wf.read("zpa_get_policy_set_by_policy_type", {"policyType": "ACCESS_POLICY"})
    if not isinstance(policy, dict) or not policy.get("id"):
        raise Refusal("ZPA has no access policy set (zpa_get_policy_set_by_policy_type ACCESS_POLICY)",
                      "not_found")
    return str(policy["id"])


async def zpa_access_rules(wf: Workflow) -> list[dict[str, Any]]:
    return await wf.read_all("zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"})

"""Built-in plugin: directory sync (import an AD/LDAP or HRIS export into ZIdentity; compare SCIM groups).

OneAPI has no AD or HRIS import API: directories reach Zscaler by the IdP pushing SCIM. What the API
can do is write ZIdentity users and groups directly, so `directory_sync_users` compares an export
(CSV, JSON or LDIF, given as text) with ZIdentity and applies the difference, and says so. An export
with any bad row is refused whole, every bad row named by its line. `directory_compare_scim_groups`
shows what the IdP already pushes (ZPA's read-only SCIM view) next to ZIdentity's groups.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Ref,
    Refusal,
    Workflow,
    refusal_result,
    tool_result,
)

from ..hookspecs import hookimpl
from ._kit.lookups import check_email, zid_user_body

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["COLUMNS", "ExportRow", "TOOLS", "oneapi_mcp_register_tools", "parse_export"]

COLUMNS = ("email", "first_name", "last_name", "display_name", "department", "groups", "status")
_STATUS = {"active": True, "enabled": True, "disabled": False, "inactive": False}
_NO_IMPORT_API = ("OneAPI has no AD/LDAP or HRIS import API (directories reach Zscaler by the IdP pushing SCIM): this "
                  "writes the export's users and groups into ZIdentity directly. Users an IdP provisions by SCIM "
                  "may be changed back by its next push")
_PERSON_CLASSES = {"person", "inetorgperson", "organizationalperson", "user"}
_GROUP_CLASSES = {"group", "groupofnames", "groupofuniquenames"}
NEW_ID = "new-id"  # stands in for an id ZIdentity gives to a user or group created earlier in the same plan


@dataclass
class ExportRow:
    line: int
    email: str
    first: str | None = None
    last: str | None = None
    display: str | None = None
    department: str | None = None
    groups: dict[str, int] | None = None  # group name -> line that names it; None: the export does not say
    active: bool | None = None  # None: the export does not say


@dataclass
class _Parsed:
    rows: list[ExportRow] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def bad(self, line: int | None, problem: str) -> None:
        self.problems.append({"line": line, "problem": problem})


def parse_export(content: str, fmt: str) -> _Parsed:
    """The export's rows and every problem found in it (each with its line number)."""
    parsed = {"csv": _parse_csv, "json": _parse_json, "ldif": _parse_ldif}[fmt](content.lstrip("\ufeff"))
    seen: dict[str, int] = {}
    for row in parsed.rows:
        if row.email in seen:
            parsed.bad(row.line, f"duplicate email {row.email} (first at line {seen[row.email]})")
        else:
            seen[row.email] = row.line
    return parsed


def _row(parsed: _Parsed, line: int, values: dict[str, Any]) -> None:
    """One person from a CSV row or JSON object (keys already checked), validated."""
    raw = values.get("email")
    if raw is None or not str(raw).strip():
        parsed.bad(line, "missing email")
        return
    try:
        email = check_email(str(raw))
    except ValueError as exc:
        parsed.bad(line, str(exc))
        return
    row = ExportRow(line, email, *(_text(values.get(k)) for k in ("first_name", "last_name", "display_name",
                                                                    "department")))
    if "groups" in values:
        groups = values["groups"]
        names = groups if isinstance(groups, list) else str(groups or "").split(";")
        if not all(isinstance(n, str) for n in names):
            parsed.bad(line, "groups must be group names (text)")
            return
        row.groups = {n.strip(): line for n in names if n.strip()}
    status = _text(values.get("status"))
    if status is not None:
        if status.lower() not in _STATUS:
            parsed.bad(line, f"status {status!r} is not active or disabled")
            return
        row.active = _STATUS[status.lower()]
    parsed.rows.append(row)


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _parse_csv(content: str) -> _Parsed:
    parsed = _Parsed()
    reader = csv.reader(io.StringIO(content))
    header: list[str] | None = None
    last_line = 0
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower().replace(" ", "_") for c in cells]
            unknown = [c for c in header if c not in COLUMNS]
            if unknown:
                parsed.bad(line, f"unknown column(s) {', '.join(map(repr, unknown))} (known: {', '.join(COLUMNS)})")
            if "email" not in header:
                parsed.bad(line, "no email column (the header must name one)")
            if len(set(header)) != len(header):
                parsed.bad(line, "a column is named twice")
            if parsed.problems:
                return parsed
            continue
        if len(cells) > len(header):
            parsed.bad(line, f"{len(cells)} fields, but the header names {len(header)} columns")
            continue
        _row(parsed, line, dict(zip(header, cells, strict=False)))
    if header is None:
        parsed.bad(None, "the export is empty (no header row)")
    return parsed


def _parse_json(content: str) -> _Parsed:
    parsed = _Parsed()
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        parsed.bad(exc.lineno, f"invalid JSON: {exc.msg}")
        return parsed
    if isinstance(document, dict) and isinstance(document.get("users"), list):
        start = re.search(r'"users"\s*:\s*\[', content).end() - 1
    elif isinstance(document, list):
        start = content.index("[")
    else:
        parsed.bad(1, 'the JSON must be a list of user objects, or {"users": [...]}')
        return parsed
    decoder, at = json.JSONDecoder(), start + 1
    while True:  # walk the array again to learn where each object starts
        at = _skip(content, at)
        if content[at] == "]":
            break
        line = content.count("\n", 0, at) + 1
        item, at = decoder.raw_decode(content, at)
        at = _skip(content, at)
        if content[at] == ",":
            at += 1
        if not isinstance(item, dict):
            parsed.bad(line, "not a user object")
            continue
        unknown = [k for k in item if k not in COLUMNS]
        if unknown:
            parsed.bad(line, f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(COLUMNS)})")
            continue
        _row(parsed, line, item)
    return parsed


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _ldif_entries(content: str, parsed: _Parsed) -> list[tuple[int, list[tuple[str, str, int]]]]:
    """LDIF entries: (line of the entry, [(attribute lower-cased, value, line)]), continuation lines
    joined, base64 values decoded."""
    logical: list[tuple[str, int]] = []
    for n, line in enumerate(content.splitlines(), 1):
        if line.startswith(" ") and logical and logical[-1][0]:
            logical[-1] = (logical[-1][0] + line[1:], logical[-1][1])
        else:
            logical.append((line, n))
    entries: list[tuple[int, list[tuple[str, str, int]]]] = []
    current: list[tuple[str, str, int]] = []
    for text, n in [*logical, ("", 0)]:
        if not text.strip():
            if current:
                entries.append((current[0][2], current))
            current = []
            continue
        if text.startswith("#") or (not current and text.lower().startswith("version:")):
            continue
        name, sep, value = text.partition(":")
        if not sep:
            parsed.bad(n, f"not an LDIF line (attribute: value): {text[:60]!r}")
            continue
        if value.startswith(":"):
            try:
                value = base64.b64decode(value[1:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                parsed.bad(n, f"{name}: the base64 value does not decode to text")
                continue
        elif value.startswith("<"):
            parsed.bad(n, f"{name}: values read from a URL (:<) are not supported")
            continue
        current.append((name.strip().lower(), value.strip(), n))
    return entries


def _dn_key(dn: str) -> str:
    return ",".join(part.strip().lower() for part in dn.split(","))


def _dn_mail(dn: str) -> str | None:
    found = re.search(r"(?:^|,)\s*mail=([^,]+)", dn, re.IGNORECASE)
    if found:
        return found.group(1).strip()
    return dn.strip() if "@" in dn and "=" not in dn else None


def _parse_ldif(content: str) -> _Parsed:
    """Person entries (mail, givenName, sn, displayName/cn, department, userAccountControl) and group
    entries (cn, member/uniqueMember naming a person of the export, a DN with mail=, or an email)."""
    parsed = _Parsed()
    people: dict[str, ExportRow] = {}  # DN -> row
    by_email: dict[str, ExportRow] = {}
    groups: list[tuple[int, str, list[tuple[str, int]]]] = []
    for start, attrs in _ldif_entries(content, parsed):
        first = {}
        for name, value, _n in attrs:
            first.setdefault(name, value)
        if "dn" not in first:
            parsed.bad(start, "entry without a dn line")
            continue
        change = first.get("changetype", "add").lower()
        if change != "add":
            parsed.bad(start, f"changetype {change} is not supported: give the directory's entries, not changes")
            continue
        classes = {v.lower() for name, v, _n in attrs if name == "objectclass"}
        members = [(v, n) for name, v, n in attrs if name in ("member", "uniquemember")]
        if classes & _GROUP_CLASSES or (members and not classes & _PERSON_CLASSES):
            name = first.get("cn") or re.sub(r"^[^=]*=", "", first["dn"].split(",")[0])
            groups.append((start, name.strip(), members))
        elif classes & _PERSON_CLASSES or "mail" in first:
            values = {"email": first.get("mail"), "first_name": first.get("givenname"), "last_name": first.get("sn"),
                      "display_name": first.get("displayname") or first.get("cn"),
                      "department": first.get("department") or first.get("departmentnumber")}
            control = first.get("useraccountcontrol")
            if control is not None:
                if not control.isdigit():
                    parsed.bad(start, f"userAccountControl {control!r} is not a number")
                    continue
                values["status"] = "disabled" if int(control) & 2 else "active"
            before = len(parsed.rows)
            _row(parsed, start, values)
            if len(parsed.rows) > before:
                people[_dn_key(first["dn"])] = by_email.setdefault(parsed.rows[-1].email, parsed.rows[-1])
    if groups:
        for row in parsed.rows:
            row.groups = {}
    for start, name, members in groups:
        for member, n in members:
            row = people.get(_dn_key(member))
            if row is None:
                mail = _dn_mail(member)
                if mail is None:
                    parsed.bad(n, f"member {member!r} of group {name!r} is not a person in this export and its DN "
                                  "has no mail=")
                    continue
                try:
                    email = check_email(mail)
                except ValueError as exc:
                    parsed.bad(n, f"member of group {name!r}: {exc}")
                    continue
                row = by_email.get(email)
                if row is None:  # named only as a member: a person with just an email
                    row = by_email[email] = ExportRow(n, email, groups={})
                    parsed.rows.append(row)
            row.groups.setdefault(name, start)
    return parsed


# -- the sync ----------------------------------------------------------------------------------------
def _display(row: ExportRow) -> str:
    named = " ".join(p for p in (row.first, row.last) if p)
    local = " ".join(p.capitalize() for p in re.split(r"[._-]+", row.email.split("@")[0]) if p)
    return row.display or named or local


def _dynamic(group: dict[str, Any]) -> bool:
    return bool(group.get("dynamicGroup") or group.get("isDynamicGroup"))


async def sync_users(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    wf.cannot(_NO_IMPORT_API)
    try:
        plan = await _plan_sync(wf, args)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"sync {plan} from the {args['format'].upper()} export into ZIdentity")


async def _plan_sync(wf: Workflow, args: dict[str, Any]) -> str:
    parsed = parse_export(args["content"], args["format"])
    groups = {str(g.get("name", "")).lower(): g for g in await wf.read_all("zid_list_groups")}
    named = {}  # lower name -> name as the export spells it (first seen)
    for row in parsed.rows:
        for name, line in (row.groups or {}).items():
            named.setdefault(name.lower(), name)
            if name.lower() not in groups and not args.get("create_groups"):
                parsed.bad(line, f"{row.email}: no ZIdentity group {name!r} (searched {len(groups)} groups with "
                                 "zid_list_groups; create_groups=true creates it)")
            elif name.lower() in groups and _dynamic(groups[name.lower()]):
                parsed.bad(line, f"{row.email}: ZIdentity group {name!r} is dynamic; its members follow its rule")
    if parsed.problems:
        problems = sorted({(p["line"] or 0, p["problem"]): p for p in parsed.problems}.values(),
                          key=lambda p: p["line"] or 0)
        raise Refusal(f"the export has {len(problems)} bad row(s), so nothing was applied: "
                      + "; ".join(f"line {p['line'] or '?'}: {p['problem']}" for p in problems[:50])
                      + ("; ..." if len(problems) > 50 else ""), "invalid_import", problems=problems)
    if not parsed.rows:
        raise Refusal("the export names no users", "invalid_import")
    rows = {r.email: r for r in parsed.rows}
    domains = sorted({e.split("@")[1] for e in rows})
    users: dict[str, dict[str, Any]] = {}
    for user in await wf.read_all("zid_list_users"):
        for key in ("loginName", "primaryEmail"):
            users.setdefault(str(user.get(key) or "").lower(), user)
    departments = {str((u.get("department") or {}).get("name", "")).lower(): u["department"]
                   for u in users.values() if isinstance(u.get("department"), dict) and u["department"].get("id")}
    group_ids: dict[str, Any] = {}
    for lower, name in named.items():
        if lower in groups:
            group_ids[lower] = str(groups[lower]["id"])
            continue
        create = wf.add("zid_create_group", {"body": {
            "name": name, "description": "Created by oneapi-mcp from a directory export", "source": "UI",
            "dynamicGroup": False, "adminEntitlementEnabled": False, "serviceEntitlementEnabled": True}},
            f"create ZIdentity group {name!r} (named in the export)", manual=f"delete ZIdentity group {name!r}")
        group_ids[lower] = Ref(create, "id", NEW_ID)
    diff: dict[str, Any] = {"domains": domains, "create": [], "update": [], "skipped": [], "disable": [],
                            "delete": [], "create_groups": [named[g] for g in group_ids if isinstance(group_ids[g],
                                                                                                      Ref)]}
    user_ids: dict[str, Any] = {}
    for email, row in rows.items():
        user = users.get(email)
        if user is None:
            if row.active is False:
                diff["skipped"].append(email)
                wf.already(f"{email} is disabled in the export and not in ZIdentity: not created")
                continue
            user_ids[email] = _plan_create(wf, row, departments)
            diff["create"].append(email)
        else:
            user_ids[email] = str(user["id"])
            changes = _changes(row, user, departments)
            if changes:
                wf.add("zid_update_user", {"id": str(user["id"]), "body": zid_user_body(user, **changes)},
                       f"update ZIdentity user {email}: " + ", ".join(
                           f"{k}={'enabled' if v else 'disabled'}" if k == "status" else k for k, v in changes.items()),
                       undo=lambda _r, u=user: ("zid_update_user", {"id": str(u["id"]), "body": zid_user_body(u)},
                                                "restore the user"))
                diff["update"].append({"user": email, "changes": sorted(changes)})
        if row.department and row.department.lower() not in departments and user is None:
            wf.already(f"{email}: department {row.department!r} was not set (ZIdentity departments are referenced "
                       "by id and no ZIdentity user has this one yet)")
    await _plan_memberships(wf, rows, user_ids, group_ids, named, diff)
    if args.get("remove_missing"):
        _plan_removals(wf, rows, users, domains, args.get("missing_action", "disable"), diff)
    wf.found["diff"] = diff
    wf.found["export"] = {"users": len(rows), "domains": domains,
                          "groups": sorted(named.values())}
    return f"{len(rows)} user(s)"


def _plan_create(wf: Workflow, row: ExportRow, departments: dict[str, Any]) -> Ref:
    body: dict[str, Any] = {"loginName": row.email, "primaryEmail": row.email, "displayName": _display(row),
                            "status": row.active is not False}
    body.update({k: v for k, v in (("firstName", row.first), ("lastName", row.last)) if v})
    if row.department and row.department.lower() in departments:
        body["department"] = dict(departments[row.department.lower()])
    create = wf.add("zid_create_user", {"body": body}, f"create ZIdentity user {row.email} (export line {row.line})",
                    manual=f"delete ZIdentity user {row.email} if it should not exist")
    return Ref(create, "id", NEW_ID)


def _changes(row: ExportRow, user: dict[str, Any], departments: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in (("firstName", row.first), ("lastName", row.last), ("displayName", row.display)):
        if value is not None and user.get(key) != value:
            changes[key] = value
    if row.active is not None and (user.get("status") is not False) != row.active:
        changes["status"] = row.active
    if row.department and row.department.lower() in departments:
        have = str((user.get("department") or {}).get("name", "")).lower()
        if have != row.department.lower():
            changes["department"] = dict(departments[row.department.lower()])
    return changes


async def _plan_memberships(wf: Workflow, rows: dict[str, ExportRow], user_ids: dict[str, Any],
                            group_ids: dict[str, Any], named: dict[str, str], diff: dict[str, Any]) -> None:
    """For the groups the export names: add the export's users listed in them, and remove the export's
    users not listed in them (groups the export does not name, and people it does not list, are left alone)."""
    adds: dict[str, list[str]] = {}
    removes: dict[str, list[str]] = {}
    for lower, group_id in group_ids.items():
        members: set[str] = set()
        if not isinstance(group_id, Ref):
            members = {str(m.get("id")) for m in await wf.read_all("zid_list_group_members", {"id": group_id})}
        name = named[lower]
        existing_add, new_users = [], []
        for email, row in rows.items():
            if row.groups is None or email not in user_ids:
                continue
            listed = lower in {g.lower() for g in row.groups}
            uid = user_ids[email]
            if listed and isinstance(uid, Ref):
                new_users.append((email, uid))
            elif listed and uid not in members:
                existing_add.append((email, uid))
            elif not listed and not isinstance(uid, Ref) and uid in members:
                removes.setdefault(name, []).append(email)
        for email, uid in new_users:
            wf.add("zid_add_group_user", {"id": group_id, "userId": uid}, f"add new user {email} to group {name!r}",
                   after=uid.step)
        if existing_add:
            wf.add("zid_add_group_users", {"id": group_id, "body": [{"id": uid} for _e, uid in existing_add]},
                   f"add {len(existing_add)} user(s) to ZIdentity group {name!r}: "
                   + ", ".join(e for e, _u in existing_add))
        if new_users or existing_add:
            adds[name] = [e for e, _u in new_users + existing_add]
        if removes.get(name):
            gone = removes[name]
            wf.add("zid_bulkremove", {"id": group_id, "body": [{"id": user_ids[e]} for e in gone]},
                   f"remove {len(gone)} user(s) the export does not list in ZIdentity group {name!r}: "
                   + ", ".join(gone),
                   manual=f"add them back to {name!r} with zid_add_group_users if that was wrong")
        in_both = sum(1 for e, r in rows.items() if r.groups is not None and lower in {g.lower() for g in r.groups})
        if not adds.get(name) and not removes.get(name) and not isinstance(group_id, Ref):
            wf.already(f"ZIdentity group {name!r} already matches the export ({in_both} listed member(s))")
    diff["add_members"], diff["remove_members"] = adds, removes


def _plan_removals(wf: Workflow, rows: dict[str, ExportRow], users: dict[str, dict[str, Any]], domains: list[str],
                   action: str, diff: dict[str, Any]) -> None:
    """Users of the export's domains that the export does not list: disabled (or deleted). Users of other
    domains (admins, service accounts) are never touched."""
    missing: dict[str, dict[str, Any]] = {}
    for user in users.values():
        email = str(user.get("loginName") or user.get("primaryEmail") or "").lower()
        if email.rpartition("@")[2] in domains and email not in rows and str(user.get("primaryEmail") or "").lower() \
                not in rows:
            missing.setdefault(str(user["id"]), user)
    targets = sorted(missing.values(), key=lambda u: str(u.get("loginName")))
    if action == "delete":
        if targets:
            wf.add("zid_bulkdelete", {"body": [{"id": str(u["id"])} for u in targets]},
                   f"delete {len(targets)} ZIdentity user(s) of {', '.join(domains)} the export does not list: "
                   + ", ".join(str(u.get("loginName")) for u in targets),
                   manual="deleted ZIdentity users cannot be restored; recreate them from the export if needed")
            diff["delete"] = [u.get("loginName") for u in targets]
        else:
            wf.already(f"every ZIdentity user of {', '.join(domains)} is in the export")
        return
    active = [u for u in targets if u.get("status") is not False]
    for user in active:
        wf.add("zid_update_user", {"id": str(user["id"]), "body": zid_user_body(user, status=False)},
               f"disable ZIdentity user {user.get('loginName')} (in {user.get('loginName', '').partition('@')[2]}, "
               "not in the export)",
               undo=lambda _r, u=user: ("zid_update_user", {"id": str(u["id"]), "body": zid_user_body(u)},
                                        "re-enable the user"))
    diff["disable"] = [u.get("loginName") for u in active]
    if len(targets) > len(active):
        wf.already(f"{len(targets) - len(active)} user(s) of {', '.join(domains)} not in the export are already "
                   "disabled")
    if not targets:
        wf.already(f"every ZIdentity user of {', '.join(domains)} is in the export")


# -- read-only: what the IdP pushes ----------------------------------------------------------------
async def compare_scim_groups(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {})
    try:
        idps = await wf.read_all("zpa_get_all_idps")
        wanted = str(args.get("idp") or "").strip().lower()
        if wanted:
            idps = [i for i in idps if wanted in (str(i.get("id")), str(i.get("name", "")).lower())]
            if not idps:
                raise Refusal(f"no ZPA IdP {args['idp']!r} (searched by id and name with zpa_get_all_idps)",
                              "not_found", idp=args["idp"])
        zid = await wf.read_all("zid_list_groups")
        zid_names = {str(g.get("name", "")).lower(): g for g in zid}
        out = []
        for idp in idps:
            entry: dict[str, Any] = {"id": idp.get("id"), "name": idp.get("name"), "enabled": idp.get("enabled"),
                                     "scim_enabled": bool(idp.get("scimEnabled")),
                                     "scim_based_policy": bool(idp.get("enableScimBasedPolicy"))}
            if not idp.get("scimEnabled"):
                entry["note"] = "this IdP does not push SCIM: ZPA knows its users only from SAML assertions"
                out.append(entry)
                continue
            scim = await wf.read_all("zpa_get_all_scim_groups", {"idpId": idp["id"]})
            attrs = await wf.read_all("zpa_get_all_scim_attributes", {"idpId": idp["id"]})
            scim_names = {str(g.get("name", "")).lower(): g for g in scim}
            entry.update({
                "scim_groups": len(scim),
                "scim_attributes": sorted(str(a.get("name")) for a in attrs),
                "in_both": sorted(str(scim_names[n].get("name")) for n in scim_names.keys() & zid_names.keys()),
                "only_in_scim": sorted(str(scim_names[n].get("name")) for n in scim_names.keys() - zid_names.keys()),
                "only_in_zidentity": [{"name": str(zid_names[n].get("name")), "source": zid_names[n].get("source")}
                                      for n in sorted(zid_names.keys() - scim_names.keys())],
            })
            out.append(entry)
    except Refusal as exc:
        return refusal_result(exc)
    return tool_result({
        "tool": ctx.call.name, "zidentity_groups": len(zid), "idps": out,
        "summary": f"{len(out)} ZPA IdP(s) compared with {len(zid)} ZIdentity group(s)",
        "api_limits": ["OneAPI only reads what the IdP pushes by SCIM (ZPA's SCIM groups and attributes are "
                       "read-only); groups only in ZIdentity were made there or come from another IdP"],
    })


TOOLS = [
    CompositeTool(
        name="directory_sync_users",
        keywords=("bulk import users", "CSV import", "Active Directory export", "LDAP import", "LDIF file",
                  "HRIS feed", "Workday export", "HR system sync", "bulk user load", "reconcile with HR",
                  "disable missing users", "mass provisioning", "directory reconciliation"),
        title="Sync an AD/LDAP or HRIS export into ZIdentity",
        description=(
            "OneAPI has no AD or HRIS import API (IdPs push SCIM); this imports an export into ZIdentity "
            "directly. Give the export as text: CSV (columns email, first_name, last_name, display_name, department, "
            "groups separated by ';', status active/disabled), JSON (a list of objects with those keys) or LDIF "
            "(person entries with mail, and group entries whose member/uniqueMember name people of the export or "
            "carry mail= in the DN). Every bad row is reported with its line and nothing is applied. Plans: users "
            "to create or update, memberships to add or remove in the groups the export names (people it does not "
            "list are left alone), and with remove_missing, users of the export's email domains that it does not "
            "list are disabled (deleted with missing_action=delete); other domains are never touched. Keeps going "
            "past a failed step; re-running applies what is left. Dry run by default."),
        handler=sync_users, toolset="composite.directory", scope="destructive",
        operations=("zid_list_groups", "zid_list_users", "zid_list_group_members", "zid_create_group",
                    "zid_create_user", "zid_update_user", "zid_add_group_user", "zid_add_group_users",
                    "zid_bulkremove", "zid_bulkdelete"),
        input_model=f"{_INPUTS}:_SyncUsersInput",
    ),
    CompositeTool(
        name="directory_compare_scim_groups",
        keywords=("SCIM mismatch", "Okta groups", "Entra ID groups", "Azure AD sync", "identity provider groups",
                  "group sync discrepancy", "SCIM provisioning check", "IdP vs ZIdentity", "missing groups",
                  "group reconciliation", "SCIM attributes", "groups not syncing"),
        title="Compare what the IdP pushes by SCIM with ZIdentity groups",
        description=(
            "Read-only. For each ZPA IdP (or the one named): whether it pushes SCIM, the SCIM attributes it sends, "
            "and its SCIM groups compared with ZIdentity's groups by name (in both, only in SCIM, only in "
            "ZIdentity, with the ZIdentity group's source). OneAPI can read SCIM results but not change them."),
        handler=compare_scim_groups, toolset="composite.directory", scope="read",
        operations=("zpa_get_all_idps", "zpa_get_all_scim_groups", "zpa_get_all_scim_attributes", "zid_list_groups"),
        input_model=f"{_INPUTS}:_CompareScimInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

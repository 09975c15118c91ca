"""Unified user management end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock
on a real socket, and the mock's state and request journal checked afterwards."""

from __future__ import annotations

import pytest
from _composites import call, call_error, people, serve, step_statuses, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA, ZID, ZCC = "/zia/api/v1", "/ziam/admin/api/v1", "/zcc/papi/public/v1"
ZPA_RULES = "/zpa/mgmtconfig/v1/admin/customers/{customerId}/policySet/{policySetId}/rule"
POLICY_SET = "216196257331281921"
NEWCOMER = "new.hire@example.test"
VICTIM = "isla.fischer@example.test"  # seeded: ZIdentity, ZIA, two ZCC devices
CONTRACTOR = next(p for p in people() if 4 in p.groups and p.devices and not p.disabled)  # ZIA group Contractors
DEVELOPERS = [p.email for p in people() if 0 in p.groups]
OUTSIDERS = [p.email for p in people() if 0 not in p.groups]


def _zid_user(upstream, email: str) -> dict | None:
    return next((u for u in store_items(upstream, "zid", f"{ZID}/users") if u["loginName"] == email), None)


def _zid_group(upstream, name: str) -> dict:
    return next(g for g in store_items(upstream, "zid", f"{ZID}/groups") if g["name"] == name)


def _members(upstream, group: str) -> set[str]:
    """A group's members, read from the group side (GET /groups/{id}/users)."""
    gid = _zid_group(upstream, group)["id"]
    return {u["loginName"] for u in store_items(upstream, "zid", f"{ZID}/groups/{{id}}/users", gid)}


def _zia_user(upstream, email: str) -> dict | None:
    return next((u for u in store_items(upstream, "zia", f"{ZIA}/users") if u.get("email") == email), None)


def _zia_blocks(upstream, email: str) -> bool:
    """Whether an enabled ZIA firewall rule, first, drops all traffic of this ZIA user and no one else's
    (terraform-provider-zia zia/resource_zia_firewall_filtering_rules.go: rules take a list of users)."""
    user = _zia_user(upstream, email)
    return any(r.get("users") == [{"id": user["id"], "name": user["name"]}] and r["action"] == "BLOCK_DROP"
               and r["state"] == "ENABLED" and r["order"] == 1
               for r in store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules"))


# -- create ----------------------------------------------------------------------------------------
NEW = {"email": NEWCOMER, "first_name": "New", "last_name": "Hire", "groups": ["Developers", "Remote Workers"],
       "zia_department": "Engineering"}


async def test_creating_a_user_plans_then_provisions_zidentity_groups_and_zia_once(upstream):
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "users_create_user", NEW)
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == [
            "zid_create_user", "zid_add_group_user", "zid_add_group_user", "zia_create_user"]
        assert planned["steps"][0]["body"]["loginName"] == NEWCOMER
        assert planned["steps"][1]["call"].endswith("/users/<id of step 1>")  # the id the create returns
        assert planned["steps"][3]["body"]["department"]["name"] == "Engineering"
        assert [g["name"] for g in planned["steps"][3]["body"]["groups"]] == ["Developers", "Remote Workers"]

        applied = await call(client, "users_create_user", {**NEW, "dry_run": False})
        again = await call(client, "users_create_user", {**NEW, "dry_run": False})
        writes_after_apply = len(_writes(upstream))
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    user = _zid_user(upstream, NEWCOMER)
    assert user["status"] is True and user["displayName"] == "New Hire"
    assert NEWCOMER in _members(upstream, "Developers") and NEWCOMER in _members(upstream, "Remote Workers")
    zia = _zia_user(upstream, NEWCOMER)
    assert zia["department"]["name"] == "Engineering" and len(zia["groups"]) == 2
    assert again["outcome"] == "nothing_to_do" and again["steps"] == []
    assert any("already in ZIdentity group 'Developers'" in u for u in again["unchanged"])
    assert writes_after_apply == 5  # 4 steps and one activation; the re-run wrote nothing


async def test_an_existing_user_gets_only_the_missing_membership_and_zia_user(upstream):
    person = next(p for p in people() if p.groups == (6,) and not p.disabled)  # in Remote Workers only
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "users_create_user", {"email": person.email, "groups": ["Remote Workers",
                                                                                           "Executives"]})
    assert [s["operation"] for s in planned["steps"]] == ["zid_add_group_user"]
    assert planned["steps"][0]["why"].endswith("'Executives'")
    assert any("already in ZIdentity group 'Remote Workers'" in u for u in planned["unchanged"])


async def test_a_failed_step_rolls_back_the_user_and_memberships_on_an_admin_server(upstream):
    upstream.mock.fail("POST", f"{ZIA}/users", 500)
    async with serve(upstream, profile="admin") as client:
        result = await call_error(client, "users_create_user", {**NEW, "dry_run": False})
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [("zid_create_user", "undone"), ("zid_add_group_user", "undone"),
                                     ("zid_add_group_user", "undone"), ("zia_create_user", "failed")]
    assert result["steps"][3]["http_status"] == 500
    assert _zid_user(upstream, NEWCOMER) is None and NEWCOMER not in _members(upstream, "Developers")
    assert _zia_user(upstream, NEWCOMER) is None
    assert not any("activate" in w for w in _writes(upstream))


async def test_on_a_read_write_server_the_rollback_disables_the_user_and_lists_what_is_left(upstream):
    upstream.mock.fail("POST", f"{ZIA}/users", 500)
    async with serve(upstream, profile="read-write") as client:
        result = await call_error(client, "users_create_user", {**NEW, "dry_run": False})
    assert result["outcome"] == "partial"  # the group memberships are still in effect: not "rolled back"
    assert step_statuses(result) == [("zid_create_user", "undone"), ("zid_add_group_user", "done"),
                                     ("zid_add_group_user", "done"), ("zia_create_user", "failed")]
    assert _zid_user(upstream, NEWCOMER)["status"] is False  # deleting needs a destructive scope
    actions = result["operator_actions"]
    assert any("remove new.hire@example.test from ZIdentity group 'Developers'" in a for a in actions)
    assert any("zia_create_user" in a and "still needs doing" in a for a in actions)


async def test_an_unknown_group_or_department_or_a_bad_email_is_refused_before_any_write(upstream):
    async with serve(upstream, profile="read-write") as client:
        group = await call_error(client, "users_create_user", {"email": NEWCOMER, "groups": ["Developers", "Nope"],
                                                               "dry_run": False})
        dept = await call_error(client, "users_create_user", {"email": NEWCOMER, "zia_department": "Nowhere",
                                                              "dry_run": False})
        email = await call_error(client, "users_create_user", {"email": "not-an-email", "dry_run": False})
    assert group["error"]["kind"] == "not_found" and "'Nope'" in group["error"]["message"]
    assert "zid_list_groups" in group["error"]["message"]
    assert dept["error"]["kind"] == "not_found" and "'Nowhere'" in dept["error"]["message"]
    assert email["error"]["kind"] == "invalid_arguments" and "not an email" in email["error"]["message"]
    assert _writes(upstream) == []


# -- disable ---------------------------------------------------------------------------------------
async def test_disabling_a_user_covers_zidentity_zia_and_zpa_once_and_leaves_devices(upstream):
    devices_before = [d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices") if d["user"] == VICTIM]
    args = {"user": VICTIM, "zpa": True}
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "users_disable", args)
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == [
            "zid_update_user", "zia_create_firewall_filtering_rule", "zia_get_firewall_filtering_rule",
            "zpa_add_rule_to_policy_set", "zpa_re_order_policy_rule"]
        applied = await call(client, "users_disable", {**args, "dry_run": False})
        writes = len(_writes(upstream))
        again = await call(client, "users_disable", {**args, "dry_run": False})
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    assert _zid_user(upstream, VICTIM)["status"] is False
    assert _zia_blocks(upstream, VICTIM)
    rules = {r["name"]: r for r in store_items(upstream, "zpa", ZPA_RULES, POLICY_SET)}
    rule = rules[f"oneapi-mcp disabled {VICTIM}"]
    assert rule["action"] == "DENY" and rule["conditions"][0]["operands"][0]["rhs"] == VICTIM
    assert [d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices") if d["user"] == VICTIM] == devices_before
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 3
    assert len(_writes(upstream)) == writes


async def test_disabling_carries_on_past_a_failed_service_and_an_unknown_user_writes_nothing(upstream):
    upstream.mock.fail("POST", f"{ZIA}/firewallFilteringRules", 500, times=0)
    async with serve(upstream, profile="read-write", ONEAPI_MCP_MAX_RETRIES="0") as client:  # PUT: retried
        result = await call_error(client, "users_disable", {"user": VICTIM, "dry_run": False})
        writes = len(_writes(upstream))
        unknown = await call_error(client, "users_disable", {"user": "mallory@example.test", "dry_run": False})
    assert result["outcome"] == "partial"
    assert step_statuses(result) == [("zid_update_user", "done"), ("zia_create_firewall_filtering_rule", "failed"),
                                     ("zia_get_firewall_filtering_rule", "skipped")]
    assert _zid_user(upstream, VICTIM)["status"] is False and not _zia_blocks(upstream, VICTIM)
    assert any("zia_create_firewall_filtering_rule" in a for a in result["operator_actions"])
    assert result.get("activation") is None  # nothing in ZIA changed, so nothing to activate
    assert unknown["error"]["kind"] == "not_found" and "mallory@example.test" in unknown["error"]["message"]
    assert len(_writes(upstream)) == writes


# -- show access -----------------------------------------------------------------------------------
async def test_one_users_access_is_joined_across_services_with_reads_only(upstream):
    email = CONTRACTOR.email
    async with serve(upstream, profile="read-only") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        shown = await call(client, "users_show_access", {"user": email})
    assert "users_show_access" in names and not names & {"users_create_user", "users_disable",
                                                         "users_add_to_group", "users_remove_from_group"}
    assert "Contractors" in shown["zidentity"]["groups"]
    zia = shown["zia"]
    assert zia["user"]["id"] == _zia_user(upstream, email)["id"] and "Contractors" in zia["groups"]
    named = zia["rules"]["url_filtering"]["naming_the_user"]
    assert [r["name"] for r in named] == ["Contractors No Webmail"] and named[0]["matched_by"] == ["group Contractors"]
    assert "Block Gambling" in zia["rules"]["url_filtering"]["for_everyone"]
    udids = {d["udid"] for d in store_items(upstream, "zcc", f"{ZCC}/getDevices") if d["user"] == email}
    assert {d["udid"] for d in shown["zcc"]["devices"]} == udids
    zdx = next(u for u in store_items(upstream, "zdx", "/zdx/v1/users") if u["email"] == email)
    assert shown["zdx"]["user"]["score"] == zdx["score"]
    assert "Contractors" in {g["name"] for g in shown["zpa"]["scim_groups"]}
    zpa_rules = shown["zpa"]["access_rules"]
    assert "Deny Contractors SSH" in [r["name"] for r in zpa_rules["naming_the_user"]]
    assert zpa_rules["without_user_criteria"] == ["Allow Everyone Intranet"]
    assert {j["method"] for j in upstream.mock.journal} == {"GET"}


async def test_the_zia_user_is_found_by_search_and_exact_email_since_name_filters_the_display_name(upstream):
    # zscaler-sdk-python tests/integration/zia/cassettes/TestUserManagement.yaml: GET /users?search=...
    email = CONTRACTOR.email
    async with serve(upstream, profile="read-only") as client:
        shown = await call(client, "users_show_access", {"user": email})
    assert shown["zia"]["user"]["id"] == _zia_user(upstream, email)["id"]
    lookups = [j["query"] for j in upstream.mock.journal if j["path"] == f"{ZIA}/users"]
    assert lookups and all(q.get("search") == email and "name" not in q for q in lookups)


async def test_a_service_that_cannot_be_read_is_reported_and_an_unknown_user_is_an_error(upstream):
    upstream.mock.fail("GET", "/zdx/*", 403, times=0)
    async with serve(upstream, profile="read-only") as client:
        shown = await call(client, "users_show_access", {"user": VICTIM})
        unknown = await call_error(client, "users_show_access", {"user": "nobody@example.test"})
    assert "403" in shown["zdx"]["error"] and shown["zcc"]["devices"] and shown["zia"]["user"]
    assert "ZDX unreadable" in shown["summary"]
    assert unknown["error"]["kind"] == "not_found" and "nobody@example.test" in unknown["error"]["message"]


# -- group membership ------------------------------------------------------------------------------
async def test_adding_users_to_a_group_adds_only_the_missing_ones_once(upstream):
    args = {"group": "Developers", "users": [DEVELOPERS[0], OUTSIDERS[0], OUTSIDERS[1]]}
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "users_add_to_group", args)
        assert _writes(upstream) == []
        applied = await call(client, "users_add_to_group", {**args, "dry_run": False})
        again = await call(client, "users_add_to_group", {**args, "dry_run": False})
    gid = _zid_group(upstream, "Developers")["id"]
    ids = {p: _zid_user(upstream, p)["id"] for p in args["users"]}
    assert planned["steps"][0]["body"] == [{"id": ids[OUTSIDERS[0]]}, {"id": ids[OUTSIDERS[1]]}]
    assert planned["steps"][0]["call"] == f"POST {ZID}/groups/{gid}/users"
    assert applied["outcome"] == "applied"
    assert set(args["users"]) <= _members(upstream, "Developers")
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 3
    assert _writes(upstream) == [f"POST {ZID}/groups/{gid}/users"]


async def test_a_failed_add_is_reported_and_bad_input_is_refused_before_any_write(upstream):
    upstream.mock.fail("POST", f"{ZID}/groups/*/users", 500)
    async with serve(upstream, profile="read-write") as client:
        failed = await call_error(client, "users_add_to_group", {"group": "Developers", "users": [OUTSIDERS[0]],
                                                                 "dry_run": False})
        group = await call_error(client, "users_add_to_group", {"group": "No Such Group", "users": [OUTSIDERS[0]],
                                                                "dry_run": False})
        unknown = await call_error(client, "users_add_to_group", {"group": "Developers", "dry_run": False,
                                                                  "users": ["ghost@example.test", OUTSIDERS[0],
                                                                            "phantom@example.test"]})
        bad = await call_error(client, "users_add_to_group", {"group": "Developers", "users": ["nope"],
                                                              "dry_run": False})
    assert step_statuses(failed) == [("zid_add_group_users", "failed")] and failed["steps"][0]["http_status"] == 500
    assert any("still needs doing" in a for a in failed["operator_actions"])
    assert OUTSIDERS[0] not in _members(upstream, "Developers")
    assert group["error"]["kind"] == "not_found" and "'No Such Group'" in group["error"]["message"]
    assert unknown["error"]["users"] == ["ghost@example.test", "phantom@example.test"]
    assert bad["error"]["kind"] == "invalid_arguments"
    assert len(_writes(upstream)) == 1  # only the failed POST


async def _confirmed(client, tool: str, args: dict) -> dict:
    ask = await call_error(client, tool, args)
    assert ask["error"]["kind"] == "confirmation_required", ask
    return await client.call_tool(tool, {**args, "confirm_token": ask["error"]["confirm_token"]})


async def test_removing_users_from_a_group_asks_for_confirmation_then_removes_them_once(upstream):
    args = {"group": "Developers", "users": [DEVELOPERS[0], DEVELOPERS[1], OUTSIDERS[0]]}
    async with serve(upstream, profile="read-write") as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "users_add_to_group" in names and "users_remove_from_group" not in names
    async with serve(upstream, profile="admin") as client:
        planned = await call(client, "users_remove_from_group", args)
        assert planned["steps"][0]["operation"] == "zid_bulkremove" and planned["steps"][0]["scope"] == "destructive"
        assert len(planned["steps"][0]["body"]) == 2
        assert any(OUTSIDERS[0] in u and "is not in" in u for u in planned["unchanged"])
        result = await _confirmed(client, "users_remove_from_group", {**args, "dry_run": False})
        assert not result.is_error and result.structured_content["outcome"] == "applied"
        again = await call(client, "users_remove_from_group", {**args, "dry_run": False})  # nothing destructive
    members = _members(upstream, "Developers")
    assert DEVELOPERS[0] not in members and DEVELOPERS[1] not in members and DEVELOPERS[2] in members
    assert _zid_user(upstream, DEVELOPERS[0]) is not None  # the account is kept
    assert again["outcome"] == "nothing_to_do"
    gid = _zid_group(upstream, "Developers")["id"]
    assert _writes(upstream) == [f"POST {ZID}/groups/{gid}/users:bulkremove"]


async def test_a_failed_removal_is_reported_step_by_step(upstream):
    upstream.mock.fail("POST", f"{ZID}/groups/*/users:bulkremove", 500)
    async with serve(upstream, profile="admin") as client:
        result = await _confirmed(client, "users_remove_from_group", {"group": "Developers", "users": [DEVELOPERS[0]],
                                                                      "dry_run": False})
        unknown = await call_error(client, "users_remove_from_group", {"group": "Developers", "dry_run": False,
                                                                       "users": ["ghost@example.test"]})
    assert result.is_error
    report = result.structured_content
    assert step_statuses(report) == [("zid_bulkremove", "failed")] and report["steps"][0]["http_status"] == 500
    assert DEVELOPERS[0] in _members(upstream, "Developers")
    assert unknown["error"]["kind"] == "not_found" and "ghost@example.test" in unknown["error"]["message"]

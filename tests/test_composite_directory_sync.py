"""Directory sync end to end: exports (CSV, JSON, LDIF fixtures) through the SDK's MCP client over stdio,
`oneapi-mcp serve` against the mock on a real socket, and ZIdentity's state in the mock checked afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from _composites import call, call_error, serve, step_statuses, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZID = "/ziam/admin/api/v1"
FIXTURES = Path(__file__).parent / "fixtures" / "directory"
GROUP_IDS = {"Developers": "g64mock", "Sales Team": "g66mock", "Marketing Team": "g67mock",
             "Remote Workers": "g6amock", "IT Admins": "g6bmock"}


def _export(name: str) -> str:
    return (FIXTURES / name).read_text()


def _users(upstream) -> dict[str, dict]:
    return {u["loginName"]: u for u in store_items(upstream, "zid", f"{ZID}/users")}


def _members(upstream, group: str) -> set[str]:
    users = {u["id"]: u["loginName"] for u in store_items(upstream, "zid", f"{ZID}/users")}
    return {users.get(u["id"], u["id"]) for u in store_items(upstream, "zid", f"{ZID}/groups/{{id}}/users",
                                                            GROUP_IDS[group])}


def _user_groups(upstream, email: str) -> set[str]:
    user = _users(upstream)[email]
    return {g["name"] for g in store_items(upstream, "zid", f"{ZID}/users/{{id}}/groups", user["id"])}


async def _confirmed(client, tool: str, args: dict) -> dict:
    ask = await call_error(client, tool, {**args, "dry_run": False})
    assert ask["error"]["kind"] == "confirmation_required", ask
    return await call(client, tool, {**args, "dry_run": False, "confirm_token": ask["error"]["confirm_token"]})


async def test_a_csv_export_is_diffed_applied_after_confirmation_and_a_second_run_changes_nothing(upstream):
    args = {"content": _export("users_good.csv"), "format": "csv"}
    async with serve(upstream, profile="admin") as client:
        planned = await call(client, "directory_sync_users", args)
        assert _writes(upstream) == []
        diff = planned["found"]["diff"]
        assert diff["create"] == ["new.hire@example.test"]
        assert diff["update"] == [{"user": "chloe.eriksen@example.test", "changes": ["status"]}]
        assert diff["add_members"] == {"Remote Workers": ["new.hire@example.test", "yara.ito@example.test"],
                                       "Developers": ["new.hire@example.test"]}
        assert diff["remove_members"] == {"Remote Workers": ["isla.fischer@example.test",
                                                             "chloe.eriksen@example.test"]}
        assert any("no AD/LDAP or HRIS import API" in limit for limit in planned["api_limits"])
        applied = await _confirmed(client, "directory_sync_users", args)
        writes = len(_writes(upstream))
        again = await call(client, "directory_sync_users", {**args, "dry_run": False})
    assert applied["outcome"] == "applied"
    users = _users(upstream)
    hire = users["new.hire@example.test"]
    assert (hire["displayName"], hire["department"]["name"], hire["status"]) == ("Hire, New", "Engineering", True)
    assert users["chloe.eriksen@example.test"]["status"] is False
    assert "yara.ito@example.test" in _members(upstream, "Remote Workers")
    assert {"isla.fischer@example.test", "chloe.eriksen@example.test"}.isdisjoint(_members(upstream, "Remote Workers"))
    assert "new.hire@example.test" in _members(upstream, "Developers")
    assert _user_groups(upstream, "isla.fischer@example.test") == {"Sales Team", "Executives"}
    assert again["outcome"] == "nothing_to_do" and len(_writes(upstream)) == writes


async def test_every_bad_row_is_reported_with_its_line_and_nothing_is_applied(upstream):
    async with serve(upstream, profile="admin") as client:
        bad = await call_error(client, "directory_sync_users", {"content": _export("users_bad.csv"),
                                                                "format": "csv", "dry_run": False})
        columns = await call_error(client, "directory_sync_users", {
            "content": "email,name,groups\na.b@example.test,A B,Developers\n", "format": "csv"})
        no_email = await call_error(client, "directory_sync_users", {
            "content": "\nfirst_name,last_name\nA,B\n", "format": "csv"})
    assert bad["error"]["kind"] == "invalid_import" and "nothing was applied" in bad["error"]["message"]
    assert [(p["line"], p["problem"].split(" (")[0]) for p in bad["error"]["problems"]] == [
        (3, "missing email"), (4, "'not-an-email' is not an email address"),
        (5, "duplicate email yara.ito@example.test"), (6, "sam.new@example.test: no ZIdentity group 'Astronauts'"),
        (7, "status 'sometimes' is not active or disabled")]
    assert [p["line"] for p in columns["error"]["problems"]] == [1]
    assert "unknown column(s) 'name'" in columns["error"]["message"]
    assert "line 2: no email column" in no_email["error"]["message"]
    assert _writes(upstream) == []


async def test_a_json_export_creates_missing_groups_only_when_asked(upstream):
    content = _export("users.json").replace('"Sales Team"]', '"Sales Team", "Partners"]', 1)
    async with serve(upstream, profile="admin") as client:
        refused = await call_error(client, "directory_sync_users", {"content": content, "format": "json"})
        planned = await call(client, "directory_sync_users", {"content": content, "format": "json",
                                                              "create_groups": True})
        applied = await _confirmed(client, "directory_sync_users", {"content": content, "format": "json",
                                                                    "create_groups": True})
    assert [(p["line"], "Partners" in p["problem"]) for p in refused["error"]["problems"]] == [(3, True)]
    assert planned["found"]["diff"]["create_groups"] == ["Partners"]
    assert [s["operation"] for s in planned["steps"]][:2] == ["zid_create_group", "zid_create_user"]
    assert planned["found"]["diff"]["remove_members"] == {"Sales Team": ["isla.okafor@example.test"]}
    assert applied["outcome"] == "applied"
    partners = next(g for g in store_items(upstream, "zid", f"{ZID}/groups") if g["name"] == "Partners")
    users = _users(upstream)
    assert [m["id"] for m in store_items(upstream, "zid", f"{ZID}/groups/{{id}}/users", partners["id"])] == [
        users["json.person@example.test"]["id"]]
    assert users["victor.fischer@example.test"]["displayName"] == "Victor F."
    assert _members(upstream, "Sales Team") >= {"json.person@example.test", "victor.fischer@example.test"}
    assert "isla.okafor@example.test" not in _members(upstream, "Sales Team")


async def test_an_ldif_export_maps_group_members_to_people_by_dn_mail_or_email(upstream):
    args = {"content": _export("groups.ldif"), "format": "ldif"}
    async with serve(upstream, profile="admin") as client:
        planned = await call(client, "directory_sync_users", args)
        applied = await _confirmed(client, "directory_sync_users", args)
        broken = await call_error(client, "directory_sync_users", {
            "content": args["content"] + "\ndn: cn=Finance Approvers,ou=Groups,dc=example,dc=test\n"
                                         "objectClass: groupOfNames\ncn: Finance Approvers\n"
                                         "member: cn=Nobody,ou=People,dc=example,dc=test\n"
                                         "member: mail=bad@,ou=People\n", "format": "ldif"})
    diff = planned["found"]["diff"]
    assert planned["found"]["export"] == {"users": 3, "domains": ["example.test"],
                                          "groups": ["Developers", "IT Admins"]}
    assert diff["update"] == [{"user": "felix.lopez@example.test", "changes": ["status"]}]  # userAccountControl 514
    assert diff["add_members"] == {"Developers": ["wen.nakamura@example.test", "priya.anderson@example.test"]}
    assert diff["remove_members"] == {"IT Admins": ["felix.lopez@example.test"]}
    assert applied["outcome"] == "applied"
    assert _members(upstream, "Developers") >= {"wen.nakamura@example.test", "priya.anderson@example.test"}
    assert "felix.lopez@example.test" not in _members(upstream, "IT Admins")
    assert _users(upstream)["felix.lopez@example.test"]["status"] is False
    assert [p["line"] for p in broken["error"]["problems"]] == [41, 42]


async def test_remove_missing_disables_only_people_of_the_exports_domains(upstream):
    content = "email,groups\nyara.ito@example.test,Marketing Team\nvictor.fischer@example.test,Marketing Team\n"
    async with serve(upstream, profile="admin") as client:
        await call(client, "zid_create_user", {"body": {"loginName": "root@ops.example", "displayName": "Ops admin",
                                                        "primaryEmail": "root@ops.example", "status": True}})
        planned = await call(client, "directory_sync_users", {"content": content, "format": "csv",
                                                              "remove_missing": True})
        deleting = await call(client, "directory_sync_users", {"content": content, "format": "csv",
                                                               "remove_missing": True, "missing_action": "delete"})
        applied = await call(client, "directory_sync_users", {"content": content, "format": "csv",
                                                              "remove_missing": True, "dry_run": False})
    seeded = {u["loginName"]: u for u in store_items(upstream, "zid", f"{ZID}/users")}
    others = [e for e, u in seeded.items() if e.endswith("@example.test") and e not in (
        "yara.ito@example.test", "victor.fischer@example.test")]
    disabled = planned["found"]["diff"]["disable"]
    assert "root@ops.example" not in disabled and "yara.ito@example.test" not in disabled
    assert len(disabled) == len(planned["steps"]) and len(disabled) > 40
    assert any("already disabled" in u for u in planned["unchanged"])
    assert [s["operation"] for s in deleting["steps"]] == ["zid_bulkdelete"]
    assert len(deleting["steps"][0]["body"]) == len(others)
    assert applied["outcome"] == "applied"  # no destructive step: disabling needs no confirmation
    after = _users(upstream)
    assert after["root@ops.example"]["status"] is True and after["yara.ito@example.test"]["status"] is True
    assert all(after[e]["status"] is False for e in others)


async def test_a_failed_step_does_not_stop_the_rest_and_a_rerun_finishes_the_job(upstream):
    args = {"content": _export("users_good.csv"), "format": "csv"}
    upstream.mock.fail("POST", f"{ZID}/groups/*/users:bulkremove", 503)
    async with serve(upstream, profile="admin") as client:
        ask = await call_error(client, "directory_sync_users", {**args, "dry_run": False})
        result = await call_error(client, "directory_sync_users", {
            **args, "dry_run": False, "confirm_token": ask["error"]["confirm_token"]})
        rerun = await call(client, "directory_sync_users", args)
    assert result["outcome"] == "partial"
    assert ("zid_bulkremove", "failed") in step_statuses(result)
    assert all(status == "done" for op, status in step_statuses(result) if op != "zid_bulkremove")
    assert any("zid_bulkremove" in a and "still needs doing" in a for a in result["operator_actions"])
    assert [s["operation"] for s in rerun["steps"]] == ["zid_bulkremove"]


async def test_scim_groups_are_compared_with_zidentity_groups(upstream):
    async with serve(upstream, profile="admin") as client:
        before = await call(client, "directory_compare_scim_groups", {})
        await call(client, "zid_create_group", {"body": {"name": "Local Only", "source": "UI", "dynamicGroup": False,
                                                         "adminEntitlementEnabled": False,
                                                         "serviceEntitlementEnabled": True}})
        after = await call(client, "directory_compare_scim_groups", {"idp": "Okta (mock)"})
        unknown = await call_error(client, "directory_compare_scim_groups", {"idp": "Azure"})
    okta = before["idps"][0]
    assert okta["scim_enabled"] and len(okta["in_both"]) == 8 and okta["only_in_scim"] == []
    assert {"userName", "emails.value"} <= set(okta["scim_attributes"])
    assert after["idps"][0]["only_in_zidentity"] == [{"name": "Local Only", "source": "UI"}]
    assert unknown["error"]["kind"] == "not_found" and "zpa_get_all_idps" in unknown["error"]["message"]
    assert _writes(upstream) == ["POST /ziam/admin/api/v1/groups"]


async def test_the_sync_is_not_listed_on_a_read_write_server(upstream):
    async with serve(upstream, profile="read-write") as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert "directory_compare_scim_groups" in names and "directory_sync_users" not in names


async def test_the_result_cap_for_agents_does_not_cut_the_state_the_sync_plans_from(upstream):
    async with serve(upstream, profile="admin", ONEAPI_MCP_MAX_RESULT_BYTES="2000") as client:
        capped = await call(client, "zid_list_users", {"all_pages": True})
        planned = await call(client, "directory_sync_users", {"content": _export("users_good.csv"),
                                                              "format": "csv", "remove_missing": True})
    async with serve(upstream, profile="admin") as client:
        uncapped = await call(client, "directory_sync_users", {"content": _export("users_good.csv"),
                                                               "format": "csv", "remove_missing": True})
    assert capped["result"]["truncated"] is True  # what reaches the agent is cut, what the tool reads is not:
    assert planned["found"]["diff"] == uncapped["found"]["diff"] and len(planned["found"]["diff"]["disable"]) > 10
    assert _writes(upstream) == []

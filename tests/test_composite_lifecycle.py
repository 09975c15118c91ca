"""User lifecycle end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on a
real socket, access templates from a file, and the mock's state checked afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _composites import ROOT, call, call_error, serve, step_statuses, store_document, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA, ZID, ZCC = "/zia/api/v1", "/ziam/admin/api/v1", "/zcc/papi/public/v1"
TEMPLATES = str(ROOT / "examples" / "access_templates.toml")
GROUP_IDS = {"Developers": "g64mock", "Sales Team": "g66mock", "Marketing Team": "g67mock", "Contractors": "g68mock",
             "Remote Workers": "g6amock"}
LEAVER = "yara.ito@example.test"  # seeded: Marketing Team, a ZIA user, two ZCC devices
SPONSOR = "isla.fischer@example.test"


def _zid_user(upstream, email: str) -> dict | None:
    return next((u for u in store_items(upstream, "zid", f"{ZID}/users") if u["loginName"] == email), None)


def _members(upstream, group: str) -> set[str]:
    return {u["id"] for u in store_items(upstream, "zid", f"{ZID}/groups/{{id}}/users", GROUP_IDS[group])}


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


# -- onboarding ------------------------------------------------------------------------------------
async def test_onboarding_from_a_template_plans_applies_and_a_second_run_changes_nothing(upstream):
    args = {"email": "Nina.Park@example.test", "first_name": "Nina", "last_name": "Park", "template": "sales"}
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        planned = await call(client, "lifecycle_onboard_user", args)
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == ["zid_create_user", "zid_add_group_user",
                                                               "zid_add_group_user"]
        assert planned["steps"][0]["body"] == {"loginName": "nina.park@example.test",
                                               "primaryEmail": "nina.park@example.test", "displayName": "Nina Park",
                                               "firstName": "Nina", "lastName": "Park", "status": True}
        assert planned["found"]["template"]["groups"] == ["Sales Team", "Remote Workers"]

        applied = await call(client, "lifecycle_onboard_user", {**args, "dry_run": False})
        writes = len(_writes(upstream))
        again = await call(client, "lifecycle_onboard_user", {**args, "dry_run": False})
    assert applied["outcome"] == "applied" and step_statuses(applied) == [
        ("zid_create_user", "done"), ("zid_add_group_user", "done"), ("zid_add_group_user", "done")]
    user = _zid_user(upstream, "nina.park@example.test")
    assert user is not None and user["status"] is True
    assert user["id"] in _members(upstream, "Sales Team") and user["id"] in _members(upstream, "Remote Workers")
    assert again["outcome"] == "nothing_to_do" and len(_writes(upstream)) == writes
    assert any("already exists" in u for u in again["unchanged"])


async def test_onboarding_creates_the_zia_user_and_entitles_the_groups_in_client_connector(upstream):
    args = {"email": "omar.lee@example.test", "template": "engineer", "dry_run": False}
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        applied = await call(client, "lifecycle_onboard_user", args)
        again = await call(client, "lifecycle_onboard_user", args)
    assert again["outcome"] == "nothing_to_do"  # the entitlements included
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    zia = next(u for u in store_items(upstream, "zia", f"{ZIA}/users") if u["email"] == "omar.lee@example.test")
    assert zia["name"] == "Omar Lee" and zia["department"]["name"] == "Engineering"
    assert {g["name"] for g in zia["groups"]} == {"Developers", "Remote Workers"}
    entitled = [j for j in upstream.mock.journal if j["method"] == "PUT" and "Group" in j["path"]]
    assert [j["path"] for j in entitled] == [f"{ZCC}/updateZpaGroupEntitlement", f"{ZCC}/updateZdxGroupEntitlement"]
    zpa = next(s for s in applied["steps"] if s["operation"] == "zcc_update_zpa_group_entitlement")
    assert "Remote Workers" in zpa["why"] and "keeping the 2 group(s) and 1 device group(s)" in zpa["why"]
    entitled_now = store_document(upstream, "zcc", f"{ZCC}/getZpaGroupEntitlements")["groupList"]
    assert {g["groupName"] for g in entitled_now} == {"Developers", "IT Admins", "Remote Workers"}
    assert upstream.mock.state.activation["zia"] == "ACTIVE"


async def test_an_entitlement_update_keeps_device_groups_and_flags_as_the_sdk_puts_the_whole_object(upstream):
    # the update replaces the whole entitlement (zscaler-sdk-python zcc/models/zpagroupentitlements.py
    # request_format); the mock clears what a request leaves out, as the tenant would
    before = {svc: store_document(upstream, "zcc", f"{ZCC}/get{svc}GroupEntitlements") for svc in ("Zpa", "Zdx")}
    assert before["Zpa"]["deviceGroupList"] and before["Zdx"]["upmDeviceGroupList"]  # seeded: Corporate Laptops
    args = {"email": "omar.lee@example.test", "template": "engineer"}
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        planned = await call(client, "lifecycle_onboard_user", args)
        await call(client, "lifecycle_onboard_user", {**args, "dry_run": False})
    zpa = next(s for s in planned["steps"] if s["operation"] == "zcc_update_zpa_group_entitlement")
    assert zpa["body"] == {"computeDeviceGroups": 1, "machineTunEnabledForAll": 0, "enableForAll": 0,
                           "groupNames": ["Developers", "IT Admins", "Remote Workers"],
                           "deviceGroupNames": ["Corporate Laptops"]}
    assert "1 device group(s)" in zpa["why"]
    after = {svc: store_document(upstream, "zcc", f"{ZCC}/get{svc}GroupEntitlements") for svc in ("Zpa", "Zdx")}
    for svc, devices, flags in (("Zpa", "deviceGroupList", ("computeDeviceGroupsForZPA", "machineTunEnabledForAll",
                                                            "zpaEnableForAll")),
                                ("Zdx", "upmDeviceGroupList", ("computeDeviceGroupsForZDX", "logoutZCCForZDXService",
                                                               "upmEnableForAll"))):
        assert [(g["groupId"], g["groupName"]) for g in after[svc][devices]] == [(93001, "Corporate Laptops")]
        assert {f: after[svc][f] for f in flags} == {f: before[svc][f] for f in flags}
    developers = next(g for g in after["Zpa"]["groupList"] if g["groupName"] == "Developers")
    assert developers["groupId"] == 82000  # an entry named in the update keeps its id


def test_the_entitlement_body_names_ids_only_where_the_list_gives_no_name_and_skips_unentitled_entries():
    from oneapi_mcp.plugins.composite.lifecycle import entitlement_body

    listed = {"zpaEnableForAll": 0, "computeDeviceGroupsForZPA": 0, "machineTunEnabledForAll": 1, "totalCount": 3,
              "groupList": [{"groupId": 1, "groupName": "A", "zpaEnabled": 1, "authType": "SAML"},
                            {"groupId": 2, "zpaEnabled": 1}, {"groupId": 3, "groupName": "Off", "zpaEnabled": 0}],
              "deviceGroupList": [{"groupId": 9, "active": 1}]}
    assert entitlement_body("zpa", listed, ["New"]) == {
        "computeDeviceGroups": 0, "machineTunEnabledForAll": 1, "enableForAll": 0, "groupNames": ["A", "New"],
        "groupIds": [2], "deviceGroupIds": [9]}


async def test_a_failed_onboarding_step_undoes_the_ones_before_it(upstream):
    upstream.mock.fail("POST", f"{ZIA}/users", 500)
    async with serve(upstream, profile="admin", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        result = await call_error(client, "lifecycle_onboard_user", {"email": "omar.lee@example.test",
                                                                     "template": "engineer", "dry_run": False})
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [
        ("zid_create_user", "undone"), ("zid_add_group_user", "undone"), ("zid_add_group_user", "undone"),
        ("zia_create_user", "failed"), ("zcc_update_zpa_group_entitlement", "not_run"),
        ("zcc_update_zdx_group_entitlement", "not_run")]
    assert result["steps"][3]["http_status"] == 500
    assert _zid_user(upstream, "omar.lee@example.test") is None
    assert not any(u["email"] == "omar.lee@example.test" for u in store_items(upstream, "zia", f"{ZIA}/users"))
    assert upstream.mock.state.activation["zia"] == "ACTIVE"  # nothing in ZIA was staged


async def test_a_template_file_with_errors_is_reported_line_by_line_and_nothing_is_applied(upstream, tmp_path):
    bad = tmp_path / "templates.toml"
    bad.write_text(
        '[templates.engineer]\n'                          # 1
        'groups = ["Developers",\n'                       # 2
        '          "Astronauts"]\n'                       # 3: no such ZIdentity group
        'zia_user = "yes"\n'                              # 4: not a boolean
        'laptop = "macbook"\n'                            # 5: unknown key
        '\n'
        '[templates.finance]\n'                           # 7
        'groups = ["Finance Approvers"]\n'                # 8
        'department = "Finance"\n'                        # 9: needs zia_user = true
        '\n'
        '[templates.ops]\n'                               # 11
        'groups = ["IT Admins"]\n'
        'zia_user = true\n'
        'department = "Space Program"\n'                  # 14: no such ZIA department
        'entitlements = ["zpa", "zta"]\n')                # 15: unknown entitlement
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=str(bad)) as client:
        error = await call_error(client, "lifecycle_onboard_user", {"email": "a.b@example.test",
                                                                    "template": "finance", "dry_run": False})
        listed = await call_error(client, "lifecycle_list_templates", {})
    assert error["error"]["kind"] == "invalid_template"
    lines = {(p["line"], p["template"]) for p in error["error"]["problems"]}
    assert lines == {(4, "engineer"), (5, "engineer"), (9, "finance"), (15, "ops")}  # static problems first
    assert "nothing was applied" in error["error"]["message"] and _writes(upstream) == []
    assert listed["error"]["problems"] == error["error"]["problems"]

    bad.write_text('[templates.ops]\ngroups = ["IT Admins",\n  "Astronauts"]\nzia_user = true\n'
                   'department = "Space Program"\n')
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=str(bad)) as client:
        error = await call_error(client, "lifecycle_onboard_user", {"email": "a.b@example.test", "template": "ops"})
        unknown = await call_error(client, "lifecycle_onboard_user", {"email": "a.b@example.test",
                                                                      "template": "nope"})
    assert [(p["line"], p["problem"].split(" (")[0]) for p in error["error"]["problems"]] == [
        (3, "no ZIdentity group 'Astronauts'"), (5, "no ZIA department 'Space Program'")]
    assert unknown["error"]["kind"] == "invalid_template"
    assert _writes(upstream) == []


async def test_onboarding_refuses_bad_input_before_any_write(upstream):
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        no_template = await call_error(client, "lifecycle_onboard_user", {"email": "a.b@example.test",
                                                                          "template": "astronaut"})
        bad_email = await call_error(client, "lifecycle_onboard_user", {"email": "not-an-email",
                                                                        "template": "sales"})
        disabled = await call_error(client, "lifecycle_onboard_user", {"email": "olivia.haddad@example.test",
                                                                       "template": "sales", "dry_run": False})
    assert no_template["error"]["kind"] == "not_found" and "engineer" in no_template["error"]["message"]
    assert bad_email["error"]["kind"] == "invalid_arguments" and "not an email" in bad_email["error"]["message"]
    assert disabled["error"]["kind"] == "conflict" and "is disabled" in disabled["error"]["message"]
    assert _writes(upstream) == []


async def test_without_a_templates_file_onboarding_says_how_to_configure_one(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "lifecycle_onboard_user", {"email": "a.b@example.test", "template": "x"})
    assert error["error"]["kind"] == "not_configured"
    assert "ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE" in error["error"]["message"]


# -- contractors -----------------------------------------------------------------------------------
async def test_a_contractor_carries_an_end_date_and_sponsor_and_is_listed_when_due(upstream):
    ends = _day(30)
    args = {"email": "cara.temp@example.test", "end_date": ends, "sponsor": SPONSOR}  # no template, no templates file
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "lifecycle_provision_contractor", args)
        assert _writes(upstream) == []
        assert planned["steps"][0]["body"]["customAttrsInfo"] == {"oneapiAccessExpires": ends,
                                                                  "oneapiSponsor": SPONSOR}
        assert any("no account expiry" in limit for limit in planned["api_limits"])
        applied = await call(client, "lifecycle_provision_contractor", {**args, "dry_run": False})
        writes = len(_writes(upstream))
        again = await call(client, "lifecycle_provision_contractor", {**args, "dry_run": False})
        not_yet = await call(client, "lifecycle_due_offboarding", {})
        soon = await call(client, "lifecycle_due_offboarding", {"within_days": 31})
        extended = await call(client, "lifecycle_provision_contractor", {**args, "end_date": _day(90)})
    assert applied["outcome"] == "applied"
    user = _zid_user(upstream, "cara.temp@example.test")
    assert user["customAttrsInfo"] == {"oneapiAccessExpires": ends, "oneapiSponsor": SPONSOR}
    assert user["id"] in _members(upstream, "Contractors")
    assert again["outcome"] == "nothing_to_do" and len(_writes(upstream)) == writes
    assert not_yet["due"] == [] and "1 end later" in not_yet["summary"]
    assert [(d["user"], d["sponsor"], d["days_left"]) for d in soon["due"]] == [
        ("cara.temp@example.test", SPONSOR, 30)]
    assert [s["operation"] for s in extended["steps"]] == ["zid_update_user"]
    assert extended["steps"][0]["body"]["customAttrsInfo"]["oneapiAccessExpires"] == _day(90)


async def test_due_offboarding_lists_overdue_active_users_first_and_counts_disabled_ones(upstream):
    overdue = {"yara.ito@example.test": _day(-10), "chloe.garcia@example.test": _day(-2)}
    async with serve(upstream, profile="read-write") as client:
        for email, day in overdue.items():
            user = _zid_user(upstream, email)
            body = {k: user[k] for k in ("loginName", "displayName", "primaryEmail", "status")}
            body["customAttrsInfo"] = {"oneapiAccessExpires": day, "oneapiSponsor": SPONSOR}
            await call(client, "zid_update_user", {"id": user["id"], "body": body})
        olivia = _zid_user(upstream, "olivia.haddad@example.test")  # seeded disabled
        await call(client, "zid_update_user", {"id": olivia["id"], "body": {
            "loginName": olivia["loginName"], "displayName": olivia["displayName"],
            "primaryEmail": olivia["primaryEmail"], "status": False,
            "customAttrsInfo": {"oneapiAccessExpires": _day(-5)}}})
        due = await call(client, "lifecycle_due_offboarding", {})
        everyone = await call(client, "lifecycle_due_offboarding", {"include_disabled": True})
    assert [(d["user"], d["days_left"]) for d in due["due"]] == [("yara.ito@example.test", -10),
                                                                   ("chloe.garcia@example.test", -2)]
    assert due["already_disabled_count"] == 1 and "lifecycle_offboard_user" in due["next"]
    assert [d["user"] for d in everyone["already_disabled"]] == ["olivia.haddad@example.test"]


async def test_contractor_end_dates_and_sponsors_are_checked_before_any_write(upstream):
    base = {"email": "cara.temp@example.test", "sponsor": SPONSOR, "dry_run": False}
    async with serve(upstream, profile="read-write", ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE=TEMPLATES) as client:
        past = await call_error(client, "lifecycle_provision_contractor", {**base, "end_date": _day(-1)})
        far = await call_error(client, "lifecycle_provision_contractor", {**base, "end_date": _day(400)})
        garbled = await call_error(client, "lifecycle_provision_contractor", {**base, "end_date": "31/12/2026xx"})
        nobody = await call_error(client, "lifecycle_provision_contractor", {
            **base, "end_date": _day(30), "sponsor": "ghost@example.test"})
        group = await call_error(client, "lifecycle_provision_contractor", {
            **base, "end_date": _day(30), "contractors_group": "Temps"})
        longer = await call(client, "lifecycle_provision_contractor", {**base, "end_date": _day(400), "max_days": 500,
                                                                       "template": "contractor-dev", "dry_run": True})
    assert "not in the future" in past["error"]["message"]
    assert "more than 365 days" in far["error"]["message"]
    assert "ISO 8601" in garbled["error"]["message"]
    assert nobody["error"]["kind"] == "not_found" and "ghost@example.test" in nobody["error"]["message"]
    assert group["error"]["kind"] == "not_found" and "Temps" in group["error"]["message"]
    assert [s["call"] for s in longer["steps"]] == [  # the template's groups, then Contractors, then ZCC
        f"POST {ZID}/users", f"POST {ZID}/groups/g64mock/users/<id of step 1>",
        f"POST {ZID}/groups/g68mock/users/<id of step 1>"]  # Developers is entitled to ZPA already
    assert _writes(upstream) == []


# -- offboarding -----------------------------------------------------------------------------------
def _block_rules(upstream, zia_user_id: int) -> list[dict]:
    """Enabled BLOCK firewall rules that name only this ZIA user."""
    return [r for r in store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules")
            if str(r.get("action", "")).startswith("BLOCK") and r.get("state") == "ENABLED"
            and [u["id"] for u in r.get("users") or []] == [zia_user_id]]


async def test_offboarding_disables_revokes_blocks_in_zia_and_removes_everything_after_confirmation(upstream):
    devices = [d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices") if d["user"] == LEAVER]
    user_id = _zid_user(upstream, LEAVER)["id"]
    zia_user = next(u for u in store_items(upstream, "zia", f"{ZIA}/users") if u["email"] == LEAVER)
    async with serve(upstream, profile="admin") as client:
        planned = await call(client, "lifecycle_offboard_user", {"user": LEAVER})
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == [
            "zid_update_user", "zid_reset_password", "zid_remove_group_user", "zcc_remove_devices",
            "zia_create_firewall_filtering_rule", "zia_get_firewall_filtering_rule"]
        ask = await call_error(client, "lifecycle_offboard_user", {"user": LEAVER, "dry_run": False})
        assert ask["error"]["kind"] == "confirmation_required" and ask["error"]["plan"]["destructive_steps"] == [3, 4]
        done = await call(client, "lifecycle_offboard_user", {"user": LEAVER, "dry_run": False,
                                                              "confirm_token": ask["error"]["confirm_token"]})
        writes = len(_writes(upstream))
        again = await call(client, "lifecycle_offboard_user", {"user": LEAVER, "dry_run": False,
                                                               "reset_password": False})
    assert done["outcome"] == "applied" and done["activation"]["activated"] == ["zia"]
    assert _zid_user(upstream, LEAVER)["status"] is False
    assert user_id not in _members(upstream, "Marketing Team")
    after = {d["udid"]: d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices")}
    assert all(after[d["udid"]]["state"] == "Removal Pending" for d in devices)
    # ZIA end users have no disabled field (recorded/zia/cassettes/TestUsers.yaml): a user-only BLOCK rule
    assert len(_block_rules(upstream, zia_user["id"])) == 1
    assert f"PUT {ZIA}/users/{zia_user['id']}" not in _writes(upstream)  # no write of a field ZIA users lack
    assert [j["path"] for j in upstream.mock.journal].count(f"{ZID}/users/{user_id}:resetpassword") == 1
    assert again["outcome"] == "nothing_to_do" and len(_writes(upstream)) == writes
    assert any("already blocks" in u for u in again["unchanged"])


async def test_a_re_run_of_offboarding_finishes_a_password_reset_that_failed(upstream):
    user_id = _zid_user(upstream, LEAVER)["id"]
    reset = f"{ZID}/users/{user_id}:resetpassword"
    upstream.mock.fail("POST", reset, 500)
    args = {"user": LEAVER, "dry_run": False, "remove_groups": False, "remove_devices": False}
    async with serve(upstream, profile="admin") as client:
        first = await call_error(client, "lifecycle_offboard_user", args)
        second = await call(client, "lifecycle_offboard_user", args)
    assert first["outcome"] == "partial" and ("zid_reset_password", "failed") in step_statuses(first)
    assert _zid_user(upstream, LEAVER)["status"] is False  # disabled by the first run
    assert step_statuses(second) == [("zid_reset_password", "done")]  # planned although already disabled
    assert [(j["path"], j["status"]) for j in upstream.mock.journal if j["path"] == reset] == [(reset, 500),
                                                                                              (reset, 200)]
    assert any("password-reset state" in limit for limit in second["api_limits"])


async def test_offboarding_can_delete_the_zia_user_with_bulk_delete(upstream):
    async with serve(upstream, profile="admin") as client:
        ask = await call_error(client, "lifecycle_offboard_user", {
            "user": LEAVER, "delete_zia_user": True, "remove_devices": False, "remove_groups": False,
            "dry_run": False})
        done = await call(client, "lifecycle_offboard_user", {
            "user": LEAVER, "delete_zia_user": True, "remove_devices": False, "remove_groups": False,
            "dry_run": False, "confirm_token": ask["error"]["confirm_token"]})
    assert step_statuses(done) == [("zid_update_user", "done"), ("zid_reset_password", "done"),
                                   ("zia_bulk_delete_user", "done")]
    assert f"POST {ZIA}/users/bulkDelete" in _writes(upstream)
    assert not any(u["email"] == LEAVER for u in store_items(upstream, "zia", f"{ZIA}/users"))


async def test_offboarding_keeps_going_past_a_failed_step_and_lists_it(upstream):
    upstream.mock.fail("POST", f"{ZCC}/removeDevices", 500)
    async with serve(upstream, profile="admin") as client:
        ask = await call_error(client, "lifecycle_offboard_user", {"user": LEAVER, "dry_run": False})
        result = await call_error(client, "lifecycle_offboard_user", {
            "user": LEAVER, "dry_run": False, "confirm_token": ask["error"]["confirm_token"]})
    assert result["outcome"] == "partial"
    assert step_statuses(result) == [("zid_update_user", "done"), ("zid_reset_password", "done"),
                                     ("zid_remove_group_user", "done"), ("zcc_remove_devices", "failed"),
                                     ("zia_create_firewall_filtering_rule", "done"),
                                     ("zia_get_firewall_filtering_rule", "done")]
    assert any("zcc_remove_devices" in a and "still needs doing" in a for a in result["operator_actions"])
    assert _zid_user(upstream, LEAVER)["status"] is False
    assert result["activation"]["activated"] == ["zia"]


async def test_offboarding_an_unknown_user_names_it_and_writes_nothing(upstream):
    async with serve(upstream, profile="admin") as client:
        error = await call_error(client, "lifecycle_offboard_user", {"user": "ghost@example.test", "dry_run": False})
        names = [t.name for t in (await client.list_tools()).tools]
    assert error["error"]["kind"] == "not_found" and "ghost@example.test" in error["error"]["message"]
    assert _writes(upstream) == []
    assert {"lifecycle_onboard_user", "lifecycle_offboard_user", "lifecycle_due_offboarding"} <= set(names)


async def test_offboarding_is_not_listed_on_a_read_write_server(upstream):
    async with serve(upstream, profile="read-write") as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert "lifecycle_onboard_user" in names and "lifecycle_offboard_user" not in names

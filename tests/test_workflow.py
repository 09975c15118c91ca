"""The look-plan-apply shape of composite tools (oneapi_mcp/composite/_workflow.py), with a throwaway composite
tool over the in-process mock: dry runs send no write, every step is validated before the first
write, rollback and continue on failure, results of one step feeding the next, activation once at
the end, progress, and confirmation of plans with destructive steps."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from oneapi_mcp.plugins import CompositeTool, hookimpl

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.mock import create_mock_app
from oneapi_mcp.plugin_api import Ref, Refusal, Workflow, plan_schema, refusal_result

pytestmark = pytest.mark.anyio
ZID = "/ziam/admin/api/v1"
MEMBER = "u3e9mock"  # a seeded ZIdentity user


async def _group_with_member(ctx, args):
    """Create a ZIdentity group, then add a member to it (the second step needs the first's id)."""
    wf = Workflow(ctx, args, on_failure=args.get("on_failure", "rollback"))
    try:
        if args.get("unknown"):
            raise Refusal(f"no ZIdentity group {args['unknown']!r}: searched zid_list_groups", "not_found")
        groups = await wf.read_all("zid_list_groups")
        if any(g.get("name") == args["name"] for g in groups):
            wf.already(f"group {args['name']} exists")
        else:
            create = wf.add("zid_create_group", {"body": {"name": args["name"], "description": "test",
                                                           "source": "UI", "dynamicGroup": False,
                                                           "adminEntitlementEnabled": False,
                                                           "serviceEntitlementEnabled": True}},
                            f"create group {args['name']}",
                            undo=lambda r: ("zid_remove_group", {"id": r["id"]}, "delete it"),
                            manual=f"delete group {args['name']}")
            wf.add("zid_add_group_user", {"id": Ref(create, "id", "g0"), "userId": args.get("member", MEMBER)},
                   "add the member")
        for n in range(args.get("departments", 0)):
            wf.add("zia_create_department", {"body": {"name": f"{args['name']} {n}"}}, f"department {n}")
        if args.get("bad_step"):
            wf.add("zia_create_department", {"body": {"name": 7}}, "a step whose arguments are wrong")
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"group {args['name']}")


async def _remove_member(ctx, args):
    wf = Workflow(ctx, args)
    members = await wf.read_all("zid_list_group_members", {"id": args["group"]})
    if any(m.get("id") == MEMBER for m in members):
        wf.add("zid_remove_group_user", {"id": args["group"], "userId": MEMBER}, "remove the member")
    else:
        wf.already("not a member")
    return await wf.finish("remove member")


class _Tools:
    @hookimpl
    def oneapi_mcp_register_tools(self, settings):
        return [
            CompositeTool(name="test_group_with_member", description="test", handler=_group_with_member,
                          operations=("zid_list_groups", "zid_create_group", "zid_add_group_user",
                                      "zia_create_department", "zia_activate"),
                          input_schema=plan_schema({
                              "name": {"type": "string"}, "member": {"type": "string"},
                              "on_failure": {"type": "string"}, "departments": {"type": "integer"},
                              "bad_step": {"type": "boolean"}, "unknown": {"type": "string"}}, ["name"])),
            CompositeTool(name="test_remove_member", description="test", handler=_remove_member,
                          operations=("zid_list_group_members", "zid_remove_group_user"),
                          input_schema=plan_schema({"group": {"type": "string"}}, ["group"], activation=False)),
        ]


@pytest.fixture
def mock(plugin_manager):
    plugin_manager.register(_Tools())
    return create_mock_app(seed=0)


def _client(mock, profile="admin", max_result_bytes=60_000) -> Client:
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="1", max_result_bytes=max_result_bytes)

    return Client(build_server(Runtime(settings=ServerSettings(profile=profile), executor_factory=factory,
                                       customer_id_known=True)), cache=None)


def _writes(mock) -> list[str]:
    return [f"{j['method']} {j['path']}" for j in mock.journal if j["method"] != "GET"]


def _groups(mock) -> list[str]:
    found = mock.state.collections.get(("zid", f"{ZID}/groups", ()))
    return [g["name"] for g in found.items.values()] if found else []


async def test_a_dry_run_shows_the_exact_calls_and_sends_no_write(mock):
    async with _client(mock) as client:
        result = await client.call_tool("test_group_with_member", {"name": "Incident 42"})
    data = result.structured_content
    assert not result.is_error and data["outcome"] == "planned" and data["dry_run"] is True
    assert [s["call"] for s in data["steps"]] == ["POST /ziam/admin/api/v1/groups",
                                                  "POST /ziam/admin/api/v1/groups/<id of step 1>/users/" + MEMBER]
    assert data["steps"][0]["body"]["name"] == "Incident 42"
    assert "dry_run=false" in data["next"]
    assert _writes(mock) == []


async def test_applying_runs_the_steps_feeding_one_result_into_the_next_and_a_rerun_does_nothing(mock):
    async with _client(mock) as client:
        applied = (await client.call_tool("test_group_with_member", {"name": "Incident 42", "dry_run": False}))
        again = (await client.call_tool("test_group_with_member", {"name": "Incident 42", "dry_run": False}))
    data = applied.structured_content
    assert data["outcome"] == "applied" and [s["status"] for s in data["steps"]] == ["done", "done"]
    assert [s["http_status"] for s in data["steps"]] == [200, 200] or all(s["http_status"] < 300 for s in data["steps"])
    group_id = next(g["id"] for g in mock.state.collections[("zid", f"{ZID}/groups", ())].items.values()
                    if g["name"] == "Incident 42")
    members = mock.state.collections[("zid", f"{ZID}/groups/{{id}}/users", (group_id,))]
    assert MEMBER in members.items
    assert again.structured_content["outcome"] == "nothing_to_do"
    assert again.structured_content["unchanged"] == ["group Incident 42 exists"]


async def test_a_failed_step_rolls_back_the_steps_before_it(mock):
    mock.fail("POST", f"{ZID}/groups/*/users/*", 500)
    async with _client(mock) as client:
        result = await client.call_tool("test_group_with_member", {"name": "Incident 43", "dry_run": False})
    data = result.structured_content
    assert result.is_error and data["outcome"] == "rolled_back" and data["error"]["kind"] == "rolled_back"
    assert [(s["status"], s.get("http_status")) for s in data["steps"]] == [("undone", 201), ("failed", 500)]
    called = data["steps"][1]["call"]
    assert called.startswith("POST /ziam/admin/api/v1/groups/") and "<" not in called  # the real id, once run
    assert "step 2 failed" in data["summary"]
    assert "Incident 43" not in _groups(mock)
    assert [w.split()[0] for w in _writes(mock)] == ["POST", "POST", "DELETE"]


async def test_an_undo_the_server_does_not_allow_is_listed_for_the_operator(mock):
    mock.fail("POST", f"{ZID}/groups/*/users/*", 500)
    async with _client(mock, profile="read-write") as client:  # zid_remove_group is destructive: not here
        result = await client.call_tool("test_group_with_member", {"name": "Incident 44", "dry_run": False})
    data = result.structured_content
    assert [s["status"] for s in data["steps"]] == ["undo_failed", "failed"]
    assert "scope" in data["steps"][0]["error"]
    assert any("delete group Incident 44" in a for a in data["operator_actions"])
    assert "Incident 44" in _groups(mock)


async def test_continue_runs_the_independent_steps_and_skips_the_dependent_one(mock):
    mock.fail("POST", f"{ZID}/groups", 503, times=0)
    async with _client(mock) as client:
        result = await client.call_tool("test_group_with_member", {
            "name": "Incident 45", "dry_run": False, "on_failure": "continue", "departments": 1})
    data = result.structured_content
    assert data["outcome"] == "partial"
    assert [s["status"] for s in data["steps"]] == ["failed", "skipped", "done"]
    assert data["activation"]["activated"] == ["zia"]
    assert any("step 1 (zid_create_group) failed" in a for a in data["operator_actions"])


async def test_an_invalid_step_refuses_the_whole_plan_before_any_write(mock):
    async with _client(mock) as client:
        result = await client.call_tool("test_group_with_member", {"name": "Incident 46", "dry_run": False,
                                                                   "bad_step": True})
    data = result.structured_content
    assert result.is_error and data["outcome"] == "refused"
    assert data["problems"][0]["step"] == 3 and "body.name" in data["problems"][0]["problem"]
    assert _writes(mock) == []


async def test_a_refusal_names_what_was_searched_and_changes_nothing(mock):
    async with _client(mock) as client:
        result = await client.call_tool("test_group_with_member", {"name": "x", "unknown": "Ghosts"})
    assert result.is_error
    assert result.structured_content["error"]["kind"] == "not_found"
    assert "Ghosts" in result.structured_content["error"]["message"]
    assert "nothing was changed" in result.structured_content["error"]["message"]


async def test_zia_is_activated_once_at_the_end_or_left_pending_when_asked(mock):
    async with _client(mock) as client:
        pending = await client.call_tool("test_group_with_member", {
            "name": "Incident 47", "dry_run": False, "departments": 2, "activate": False})
        assert pending.structured_content["activation"]["pending"] == ["zia"]
        assert mock.state.activation["zia"] == "PENDING"
        activated = await client.call_tool("test_group_with_member", {
            "name": "Incident 48", "dry_run": False, "departments": 2})
    assert activated.structured_content["activation"]["activated"] == ["zia"]
    assert mock.state.activation["zia"] == "ACTIVE"
    assert [j["path"] for j in mock.journal].count("/zia/api/v1/status/activate") == 1


async def test_more_than_a_few_steps_send_progress_notifications(mock):
    seen = []

    async def on_progress(done, total, message):
        seen.append((done, total, message))

    async with _client(mock) as client:
        await client.call_tool("test_group_with_member", {"name": "Incident 49", "dry_run": False,
                                                          "departments": 4}, progress_callback=on_progress)
    assert len(seen) == 7 and seen[-1][:2] == (6, 6)
    assert seen[0][2] == "step 1/6: zid_create_group"


async def test_applying_a_plan_with_destructive_steps_needs_a_confirm_token(mock):
    group = "g67mock"  # Marketing Team: MEMBER (Yara Ito, Marketing) is seeded in it
    async with _client(mock) as client:
        dry = await client.call_tool("test_remove_member", {"group": group})
        assert not dry.is_error  # planning needs no confirmation
        assert dry.structured_content["outcome"] == "planned"
        first = await client.call_tool("test_remove_member", {"group": group, "dry_run": False})
        error = first.structured_content["error"]
        assert error["kind"] == "confirmation_required"
        assert error["plan"]["destructive_steps"] == [1]
        assert error["plan"]["steps"][0]["operation"] == "zid_remove_group_user"
        assert not [w for w in _writes(mock)]
        done = await client.call_tool("test_remove_member", {"group": group, "dry_run": False,
                                                             "confirm_token": error["confirm_token"]})
        assert done.structured_content["outcome"] == "applied", done.content[0].text
        again = await client.call_tool("test_remove_member", {"group": group, "dry_run": False})
    assert again.structured_content["outcome"] == "nothing_to_do"  # nothing destructive left: no token asked


async def test_search_and_describe_cover_composite_tools(mock):
    async with _client(mock, profile="read-write") as client:
        found = await client.call_tool("search_operations", {"query": "group with member"})
        described = await client.call_tool("describe_operation", {"name": "test_remove_member"})
    hit = next(r for r in found.structured_content["results"] if r["name"] == "test_group_with_member")
    assert hit["composite"] is True and hit["operations"] == 5
    data = described.structured_content
    assert data["composite"] is True and data["operations"] == ["zid_list_group_members", "zid_remove_group_user"]
    assert data["scope"] == "destructive" and data["allowed_here"] is False  # read-write lacks destructive
    assert "confirm_token" in data["input_schema"]["properties"]


async def test_a_composite_tool_reads_whole_answers_whatever_the_result_byte_cap(mock):
    async with _client(mock, max_result_bytes=1_000) as client:
        capped = await client.call_tool("zid_list_groups", {"all_pages": True})
        planned = await client.call_tool("test_group_with_member", {"name": "IT Admins"})  # the last group
    assert capped.structured_content["result"]["truncated"] is True  # what reaches the agent stays small
    assert planned.structured_content["outcome"] == "nothing_to_do"  # the tool saw every group


async def test_with_list_composites_off_they_are_not_listed_but_still_found_and_run(mock):
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="1")

    settings = ServerSettings(profile="admin", list_composites=False)
    server = build_server(Runtime(settings=settings, executor_factory=factory, customer_id_known=True))
    async with Client(server, cache=None) as client:
        listed = [t.name for t in (await client.list_tools()).tools]
        found = await client.call_tool("search_operations", {"query": "group with member"})
        ran = await client.call_tool("invoke_operation", {"name": "test_group_with_member",
                                                          "arguments": {"name": "Incident 50"}})
    assert listed == ["search_operations", "describe_operation", "invoke_operation"]  # 2026-07-28
    assert any(r["name"] == "test_group_with_member" for r in found.structured_content["results"])
    assert ran.structured_content["outcome"] == "planned"

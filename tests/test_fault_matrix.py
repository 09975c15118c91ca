"""The write composite tools under injected faults, as a SOC engineer would meet them: ZIA activation
fails, a read is forbidden (403: not licensed, no role), a write fails midway (500), an undo is rate
limited (429 on the undo's DELETE), and a re-run after each. The matrix takes every write or
destructive composite tool from the live registry (a new one without a scenario in `_fault_harness`
fails `test_every_write_tool_has_a_fault_scenario`) and checks the outcome, is_error, the operator
actions, the rollback notes against the requests the mock really answered, and the tenant in the mock
afterwards: a re-run finishes the job and leaves the tenant as one clean run does. Across the matrix
no tool says `applied` while anything is staged, failed, skipped, not covered or undone.

One mock for the module (reset per test); tools run in this process through `Runtime.call_tool`.
"""

from __future__ import annotations

import re
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

import pytest
from _fault_harness import ACTIVATE_PATHS, SCENARIOS, VICTIM, Tenant, write_tools
from oneapi_mcp.plugins.ops.scheduler import Runner

from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio
ZIA, ZID = "/zia/api/v1", "/ziam/admin/api/v1"
ACTIVATE = f"{ZIA}/status/activate"
TOOLS = {name: SCENARIOS[name].arguments for name in (
    "threat_block_domains", "threat_isolate_account", "users_disable", "threat_quarantine_endpoint",
    "policy_sync_block_destination", "policy_set_threat_level", "remediation_enable_enhanced_scanning")}
TOOLS["remediation_enable_enhanced_scanning"] = {"users": [VICTIM]}
CONTAINMENT = ("threat_block_domains", "threat_isolate_account", "users_disable", "threat_quarantine_endpoint")
ZIA_TOOLS = [t for t in TOOLS if t != "threat_quarantine_endpoint"]
_LIVE = ("done", "undo_failed")
_OUTCOMES = ("partial", "staged_not_active", "failed", "rolled_back", "refused", "nothing_to_do", "planned")


@pytest.fixture(scope="module")
def _mock():
    return create_mock_app(seed=0)


@pytest.fixture
def mock(_mock):
    _mock.reset()
    return _mock


@pytest.fixture
async def tenant(mock, tmp_path):
    return Tenant(mock, tmp_path / "data")


@pytest.fixture(autouse=True)
async def _shut_down_runtimes():
    yield
    await Tenant.close_all()


async def _apply(tenant: Tenant, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    return await tenant.apply(tool, arguments)


def _writes(tenant: Tenant) -> list[str]:
    return [f"{j['method']} {j['path']}" for j in tenant.mock.journal if j["method"] != "GET"]


def _truthful(is_error: bool, data: dict[str, Any]) -> None:
    """The invariant of the outcome model, for any result."""
    statuses = {s["status"] for s in data.get("steps", [])}
    activation = data.get("activation") or {}
    if data.get("outcome") == "applied":
        assert not is_error and statuses <= {"done"}, data
        assert not data.get("not_covered") and not activation.get("failed") and not activation.get("pending")
        assert not activation.get("not_verified")
    elif "steps" in data:
        assert data["outcome"] in _OUTCOMES or "error" in data, data
    if statuses & {"failed", "skipped", "not_run", "undo_failed"} or data.get("not_covered"):
        assert is_error and data.get("operator_actions"), data


# -- the matrix: every write tool x every fault, then a re-run ---------------------------------------
async def test_every_write_tool_has_a_fault_scenario(tenant):
    registered = write_tools(tenant.runtime)
    missing = sorted(set(registered) - set(SCENARIOS))
    assert not missing, f"write tools without a fault scenario in tests/_fault_harness.py: {missing}"
    assert not set(SCENARIOS) - set(registered), "scenarios for tools that are no longer write tools"
    for name in registered:  # each scenario changes something: its plan has steps, or it is a local change
        assert SCENARIOS[name].upstream or "dry_run" not in tenant.properties(name) or name in (
            "policy_schedule_change", "siem_export_events"), name


class Run:
    """One tool's run under one fault: the plan, what was injected, the result, the journal."""

    def __init__(self, tenant: Tenant, tool: str, arguments: dict[str, Any], plan: list[dict[str, Any]]):
        self.tenant, self.tool, self.arguments, self.plan = tenant, tool, arguments, plan
        self.injected: list[str] = []
        self.mark = len(tenant.mock.journal)
        self.before = tenant.fingerprint()
        self.is_error, self.data = False, {}

    @property
    def writes(self) -> list[dict[str, Any]]:
        return [s for s in self.plan if not s["call"].startswith("GET ")]

    def fail_step(self, step: dict[str, Any], status: int = 500) -> None:
        """Fail exactly this planned write (earlier writes to the same path pattern go through)."""
        method, path = step["call"].split(" ", 1)
        pattern = re.sub(r"<[^>]+>", "*", path)
        earlier = [s for s in self.writes[:self.writes.index(step)]
                   if s["call"].split(" ", 1)[0] == method and fnmatchcase(re.sub(r"<[^>]+>", "X", s["call"]
                                                                                  .split(" ", 1)[1]), pattern)]
        self.tenant.mock.fail(method, pattern, status, after=len(earlier))
        self.injected.append(f"{status} on {step['call']} (step {self.plan.index(step) + 1})")

    def steps(self, *statuses: str, service: str | None = None) -> list[dict[str, Any]]:
        return [s for s in self.data.get("steps", []) if s["status"] in statuses
                and (service is None or s["service"] == service)]

    def actions(self) -> str:
        return " | ".join(self.data.get("operator_actions") or [])

    def journal(self) -> list[dict[str, Any]]:
        return self.tenant.mock.journal[self.mark:]


async def _clean_fingerprint(mock, tmp_path, tool: str) -> dict[str, Any]:
    """The tenant after one clean run of `tool` (its preparation included)."""
    mock.reset()
    tenant = Tenant(mock, tmp_path / "clean")
    arguments = await SCENARIOS[tool].resolve(tenant)
    is_error, data = await tenant.apply(tool, arguments)
    assert not is_error and data.get("outcome") not in ("partial", "failed"), data
    fingerprint = tenant.fingerprint()
    mock.reset()
    return fingerprint


async def _start(mock, tmp_path, tool: str) -> Run:
    tenant = Tenant(mock, tmp_path / "data")
    arguments = await SCENARIOS[tool].resolve(tenant)
    plan: list[dict[str, Any]] = []
    if "dry_run" in tenant.properties(tool):
        _, planned = await tenant.call(tool, arguments)
        plan = planned.get("steps", [])
    return Run(tenant, tool, arguments, plan)


def _forbid_reads(run: Run) -> None:
    """403 on every read of the service the first change is made in (no licence, no role for it)."""
    first = run.writes[0]["call"].split(" ", 1)[1] if run.writes else next(
        (j["path"] for j in run.tenant.mock.journal if j["method"] == "GET" and "/status" not in j["path"]), ZIA)
    prefix = "/" + first.split("/")[1] + "/*"
    run.tenant.mock.fail("GET", prefix, 403, times=0)
    run.injected.append(f"403 on GET {prefix}")


async def _inject(run: Run, fault: str) -> None:
    if fault == "activation_fails":
        for path in ACTIVATE_PATHS:
            run.tenant.mock.fail("POST", path, 500, times=0)
        run.injected.append("500 on activation")
    elif fault == "read_forbidden":
        _forbid_reads(run)
    elif fault == "write_fails_midway":
        run.fail_step(run.writes[len(run.writes) // 2])
    elif fault == "undo_rate_limited":
        run.fail_step(run.writes[-1])  # everything before it is done, then undone
        deletes = sum(s["call"].startswith("DELETE ") for s in run.writes[:-1])  # the run's own DELETEs go through
        run.tenant.mock.fail("DELETE", "/*", 429, times=0, after=deletes)  # ZIA DELETE: 1/minute, 4/hour
        run.injected.append("429 on every DELETE")
        if "on_failure" in run.tenant.properties(run.tool):
            run.arguments = {**run.arguments, "on_failure": "rollback"}


def _check_activation_failed(run: Run) -> None:
    staged = {s["service"] for s in run.steps(*_LIVE) if s["service"] in ("zia", "ztw")}
    if not staged:  # nothing to activate: the fault must not change the answer
        assert run.data.get("outcome") in ("applied", "nothing_to_do", "cancelled", "removed", "registered",
                                           "scheduled", "queued", "delivered"), run.data
        return
    assert run.is_error and run.data["outcome"] in ("staged_not_active", "partial"), run.data["summary"]
    assert {f["service"] for f in run.data["activation"]["failed"]} == staged
    for service in staged:
        assert run.tenant.mock.state.activation[service] == "PENDING"
        assert f"{service.upper()} activation failed" in run.actions() and "staged, not live" in run.actions()
    assert "staged, not active" in run.data["summary"]


def _check_read_forbidden(run: Run) -> None:
    service_prefix = run.injected[0].split()[-1].rstrip("*")
    wrote = [f"{j['method']} {j['path']}" for j in run.tenant.writes(run.mark)]
    assert not [w for w in wrote if w.split(" ", 1)[1].startswith(service_prefix)], wrote
    if not any(j["status"] == 403 for j in run.journal()):  # it reads nothing there: the fault cannot touch it
        assert not run.is_error, run.data
        return
    if "steps" not in run.data or not run.data["steps"]:  # refused (or nothing it could do): nothing changed
        assert run.is_error, run.data
        assert wrote == [], wrote
        message = " ".join([(run.data.get("error") or {}).get("message", ""), run.data.get("summary", ""),
                            run.actions()])
        assert "403" in message or "forbidden" in message.lower() or "could not" in message, message
        return
    assert run.is_error and run.data["outcome"] in ("partial", "failed"), run.data["summary"]
    assert run.data.get("not_covered"), run.data
    assert any("was not covered" in a for a in run.data["operator_actions"])


def _check_failed_write(run: Run, fault: str) -> None:
    failed = run.steps("failed")
    assert failed and failed[0]["http_status"] == 500, run.data.get("steps")
    assert run.is_error and run.data["outcome"] in ("partial", "failed", "rolled_back"), run.data["summary"]
    n = failed[0]["step"]
    assert f"step {n} ({failed[0]['operation']}) failed" in run.actions()
    # what the result says was undone, the mock really did: one successful write after the failure each
    at = next(i for i, j in enumerate(run.journal()) if j["status"] == 500 and j["method"] != "GET")
    after = [j for j in run.tenant.writes(run.mark + at + 1) if 200 <= j["status"] < 300]
    ran_after = [s for s in run.data["steps"] if s["step"] > n and s["status"] in ("done", "undone", "undo_failed")
                 and not s["call"].startswith("GET ")]
    undos = after[len(ran_after):]  # the steps after the failed one ran first (continue), then any undos
    assert len(run.steps("undone")) == len(undos), (run.data["steps"], undos)
    if run.data["outcome"] in ("rolled_back", "failed"):  # nothing this run tried is in effect
        assert not run.steps(*_LIVE), run.data["summary"]
        assert [d for d in run.tenant.same_tenant(run.tenant.fingerprint(), run.before) if d != "activation"] == []
    for step in run.steps("undo_failed"):
        assert run.data["outcome"] == "partial" and "still in effect (undo failed)" in run.data["summary"]
        assert f"step {step['step']} ({step['operation']})" in run.actions()
        if step["service"] in ("zia", "ztw"):
            assert "anyone's next activation makes it live" in run.actions()
            assert run.tenant.mock.state.activation[step["service"]] == "PENDING"
    if fault == "undo_rate_limited":
        assert not [j for j in undos if j["method"] == "DELETE"]
    live = {s["service"] for s in run.steps("done") if s["service"] in ("zia", "ztw")}
    for service in live - {s["service"] for s in run.steps("undo_failed")}:
        assert run.data["activation"]["activated"] == sorted(live) or service in run.data["activation"].get(
            "pending", []), run.data["activation"]
        expected = "ACTIVE" if service in run.data["activation"]["activated"] else "PENDING"
        assert run.tenant.mock.state.activation[service] == expected


@pytest.mark.parametrize("fault", ["activation_fails", "read_forbidden", "write_fails_midway", "undo_rate_limited"])
@pytest.mark.parametrize("tool", sorted(SCENARIOS))
async def test_a_write_tool_under_a_fault_tells_the_truth_and_a_rerun_finishes_the_job(mock, tmp_path, tool,
                                                                                      fault):
    scenario = SCENARIOS[tool]
    if fault in ("write_fails_midway", "undo_rate_limited") and not scenario.upstream:
        pytest.skip(f"{tool} makes no upstream write (it changes only this server's state)")
    clean = await _clean_fingerprint(mock, tmp_path, tool) if scenario.upstream else None
    run = await _start(mock, tmp_path, tool)
    await _inject(run, fault)
    run.is_error, run.data = await run.tenant.apply(tool, run.arguments)
    _truthful(run.is_error, run.data)
    if fault == "activation_fails":
        _check_activation_failed(run)
    elif fault == "read_forbidden":
        _check_read_forbidden(run)
    else:
        _check_failed_write(run, fault)

    mock.clear_failures()  # the re-run, once the fault is gone, finishes the job
    is_error, again = await run.tenant.apply(tool, run.arguments)
    _truthful(is_error, again)
    if scenario.rerun_error and not run.is_error:  # done the first time: a re-run says there is nothing to do
        assert is_error and again["error"]["kind"] == scenario.rerun_error, again
    else:
        assert not is_error, again
    if "steps" in again:
        assert again["outcome"] in ("applied", "nothing_to_do"), again["summary"]
    if scenario.upstream:
        differ = run.tenant.same_tenant(run.tenant.fingerprint(), clean)
        assert differ == [], f"after {run.injected} and a re-run the tenant is not as after a clean run: {differ}"
    if scenario.idempotent and "dry_run" in run.tenant.properties(tool):
        _, planned = await run.tenant.call(tool, run.arguments)
        assert planned["outcome"] == "nothing_to_do", planned.get("steps")


# -- scheduled raw ZIA writes: staged until activated -------------------------------------------------
async def _run_due(tenant: Tenant, change_id: str) -> dict[str, Any]:
    """Run the scheduled change now, as the server's runner does when its time comes."""
    _, listed = await tenant.call("policy_list_scheduled_changes", {"id": change_id})
    due = datetime.fromisoformat(listed["changes"][0]["run_at"].replace("Z", "+00:00")).timestamp()
    await Runner(tenant.runtime, tenant.settings, clock=lambda: due + 1).tick()
    _, listed = await tenant.call("policy_list_scheduled_changes", {"id": change_id})
    return listed["changes"][0]


async def test_a_scheduled_raw_zia_write_whose_activation_fails_is_staged_not_active_and_a_new_one_finishes(
        tenant, mock):
    args = await SCENARIOS["policy_schedule_change"].resolve(tenant)
    is_error, scheduled = await tenant.apply("policy_schedule_change", args)
    assert not is_error and scheduled["outcome"] == "scheduled", scheduled
    mock.fail("POST", ACTIVATE, 500, times=0)
    change = await _run_due(tenant, scheduled["change"]["id"])
    assert change["status"] == "failed" and change["result"]["outcome"] == "staged_not_active", change
    assert any("staged, not live" in a for a in change["result"]["operator_actions"])
    assert mock.state.activation["zia"] == "PENDING"
    assert "DELETE /zia/api/v1/urlFilteringRules/304" in _writes(tenant)

    mock.clear_failures()  # the operator schedules the activation the result asked for; it finishes
    again = {"tool": "zia_activate", "arguments": {}, "run_at": args["run_at"]}
    is_error, data = await tenant.apply("policy_schedule_change", again)
    assert not is_error, data
    change = await _run_due(tenant, data["change"]["id"])
    assert change["status"] == "done" and mock.state.activation["zia"] == "ACTIVE", change


async def test_a_scheduled_raw_zia_write_that_fails_is_failed_and_nothing_is_activated(tenant, mock):
    args = await SCENARIOS["policy_schedule_change"].resolve(tenant)
    _, scheduled = await tenant.apply("policy_schedule_change", args)
    mock.fail("DELETE", f"{ZIA}/urlFilteringRules/304", 500)
    change = await _run_due(tenant, scheduled["change"]["id"])
    assert change["status"] == "failed" and change["result"].get("outcome") != "applied", change
    assert ACTIVATE not in " ".join(_writes(tenant)) and mock.state.activation["zia"] == "ACTIVE"


# -- activation fails --------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", ZIA_TOOLS)
async def test_a_failed_zia_activation_is_never_reported_as_applied(tenant, mock, tool):
    mock.fail("POST", ACTIVATE, 500, times=0)
    is_error, data = await _apply(tenant, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "staged_not_active", data["summary"]
    assert data["activation"]["failed"][0]["service"] == "zia"
    assert mock.state.activation["zia"] == "PENDING"
    actions = " | ".join(data["operator_actions"])
    assert "ZIA activation failed" in actions and "staged, not live" in actions and "zia_activate" in actions
    zpa_done = [s["step"] for s in data["steps"] if s["service"] == "zpa"]
    if zpa_done:  # the ZPA half is live while ZIA is not: said in so many words
        assert "in other services live" in actions and "staged, not active" in data["summary"]


async def test_activation_says_when_other_admins_edits_were_pending_and_are_committed_with_ours(tenant, mock):
    mock.state.activation["zia"] = "PENDING"  # someone else's edit, not yet activated
    _, planned = await tenant.call("threat_isolate_account", {"user": VICTIM})
    assert planned["activation"]["others_pending_before"] == ["zia"]
    assert any("would be committed with ours" in a for a in planned["operator_actions"])
    is_error, data = await _apply(tenant, "threat_isolate_account", {"user": VICTIM})
    assert not is_error and data["outcome"] == "applied"
    assert data["activation"] == {"activated": ["zia"], "others_pending_before": ["zia"]}
    assert any("were committed with ours" in a for a in data["operator_actions"])


async def test_leaving_zia_staged_on_request_is_staged_not_active_not_applied(tenant, mock):
    is_error, data = await _apply(tenant, "threat_isolate_account", {"user": VICTIM, "activate": False})
    _truthful(is_error, data)
    assert data["outcome"] == "staged_not_active" and not is_error  # what was asked, said plainly
    assert data["activation"]["pending"] == ["zia"] and mock.state.activation["zia"] == "PENDING"
    assert any("staged, not active" in a for a in data["operator_actions"])


# -- a read is forbidden -----------------------------------------------------------------------------
@pytest.mark.parametrize("tool", CONTAINMENT)
async def test_containment_skips_a_service_it_cannot_read_and_does_the_rest(tenant, mock, tool):
    mock.fail("GET", "/zpa/*", 403, times=0)  # ZPA not licensed, or no role for it
    is_error, data = await _apply(tenant, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "partial", data["summary"]
    assert [c["service"] for c in data["not_covered"]] == ["zpa"] and "403" in str(data["not_covered"])
    assert all(s["service"] != "zpa" and s["status"] == "done" for s in data["steps"]) and data["steps"]
    assert any(a.startswith("ZPA was not covered") for a in data["operator_actions"])
    assert not [w for w in _writes(tenant) if "/zpa/" in w]
    if tool in ("threat_isolate_account", "users_disable"):  # the compromised account is disabled regardless
        user = next(u for u in mock.state.collections[("zid", f"{ZID}/users", ())].items.values()
                    if u["loginName"] == VICTIM)
        assert user["status"] is False
    if any(s["service"] == "zia" for s in data["steps"]):
        assert mock.state.activation["zia"] == "ACTIVE"


async def test_with_zidentity_forbidden_the_account_is_still_cut_off_in_zia_and_zpa_by_its_email(tenant, mock):
    mock.fail("GET", f"{ZID}/*", 403, times=0)
    is_error, data = await _apply(tenant, "threat_isolate_account", {"user": VICTIM})
    assert is_error and data["outcome"] == "partial"
    assert [c["service"] for c in data["not_covered"]] == ["zid"]
    assert {s["service"] for s in data["steps"]} == {"zia", "zpa"}
    assert all(s["status"] == "done" for s in data["steps"])


async def test_services_chooses_what_is_covered_and_what_is_left_out_is_said(tenant, mock):
    _, data = await tenant.call("threat_isolate_account", {"user": VICTIM, "services": ["zid", "zia"]})
    assert {s["service"] for s in data["steps"]} == {"zid", "zia"} and data["outcome"] == "planned"
    assert any(x.startswith("ZPA") for x in data["left_out"]) and "not_covered" not in data


# -- a write fails midway ----------------------------------------------------------------------------
def _fail_zpa_rule_writes(mock) -> None:
    for method in ("POST", "PUT"):
        mock.fail(method, "/zpa/*/rule*", 500, times=0)


@pytest.mark.parametrize("tool", ["threat_isolate_account", "users_disable", "policy_sync_block_destination",
                                  "policy_set_threat_level", "threat_block_domains"])
async def test_a_zpa_500_keeps_the_zia_containment_and_activates_it(tenant, mock, tool):
    _fail_zpa_rule_writes(mock)
    is_error, data = await _apply(tenant, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "partial", data["summary"]
    assert any(s["service"] == "zpa" and s["status"] == "failed" for s in data["steps"])
    assert all(s["status"] == "done" for s in data["steps"] if s["service"] != "zpa")
    assert data["activation"]["activated"] == ["zia"] and mock.state.activation["zia"] == "ACTIVE"
    assert any("failed" in a and "still needs doing" in a for a in data["operator_actions"])


async def test_all_or_nothing_on_request_rolls_back_and_says_exactly_what_was_undone(tenant, mock):
    _fail_zpa_rule_writes(mock)
    is_error, data = await _apply(tenant, "policy_set_threat_level", {"level": "severe", "on_failure": "rollback"})
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "rolled_back"
    assert {s["status"] for s in data["steps"] if s["service"] == "zia"} <= {"undone", "not_run"}
    assert "ZIA" in data["activation"]["note"] and "undone" in data["activation"]["note"]
    assert ACTIVATE not in " ".join(_writes(tenant))


# -- an undo is rate limited -------------------------------------------------------------------------
async def test_undos_refused_by_the_zia_delete_budget_are_reported_as_still_staged_never_as_undone(tenant, mock):
    _fail_zpa_rule_writes(mock)
    mock.fail("DELETE", f"{ZIA}/*", 429, times=0)  # ZIA DELETE: 1/minute, 4/hour
    is_error, data = await _apply(tenant, "threat_block_domains", {**TOOLS["threat_block_domains"],
                                                                 "on_failure": "rollback"})
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "partial"
    zia = [s for s in data["steps"] if s["service"] == "zia"]
    assert zia and {s["status"] for s in zia} == {"undo_failed"}
    assert "could not be undone and stay staged" in data["activation"]["note"]
    assert data["activation"]["pending"] == ["zia"]
    assert "still in effect (undo failed)" in data["summary"] and "undone" not in data["summary"].replace(
        "(undo failed)", "")
    actions = " | ".join(data["operator_actions"])
    assert "anyone's next activation makes it live" in actions
    assert "delete ZIA URL filtering rule 'Block oneapi-mcp blocked domain'" in actions
    # the half-built block is still there, staged: nobody activated it
    rules = mock.state.collections[("zia", f"{ZIA}/urlFilteringRules", ())].items.values()
    assert any(r["name"] == "Block oneapi-mcp blocked domain" for r in rules)
    assert mock.state.activation["zia"] == "PENDING" and ACTIVATE not in " ".join(_writes(tenant))


# -- safe defaults -----------------------------------------------------------------------------------
async def test_enhanced_scanning_leaves_tenant_wide_settings_alone_unless_asked(tenant, mock):
    _, default = await tenant.call("remediation_enable_enhanced_scanning", {"users": [VICTIM]})
    _, asked = await tenant.call("remediation_enable_enhanced_scanning", {"users": [VICTIM], "tenant_settings": True})
    tenant_wide = {"zia_update_advanced_threat_settings", "zia_update_malware_settings",
                   "zia_update_atp_malware_inspection"}
    assert not tenant_wide & {s["operation"] for s in default["steps"]}
    assert tenant_wide <= {s["operation"] for s in asked["steps"]}


async def test_revoking_this_servers_own_api_client_is_refused_before_any_write(tenant, mock, monkeypatch):
    _, listed = await tenant.call("invoke_operation", {"name": "zid_list_api_clients", "arguments": {}})
    result = listed["result"]
    own = (result.get("records") or result.get("items") if isinstance(result, dict) else result)[0]
    monkeypatch.setenv("ZSCALER_CLIENT_ID", str(own["id"]))  # the server signs in as this client
    is_error, data = await _apply(tenant, "remediation_revoke_credentials", {"api_client": str(own["name"])})
    assert is_error and data["error"]["kind"] == "own_client"
    assert "signs in with" in data["error"]["message"]
    assert _writes(tenant) == []

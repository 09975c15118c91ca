"""The write composite tools under injected faults, as a SOC engineer would meet them: ZIA activation
fails, a read is forbidden (403: not licensed, no role), a write fails midway (500), an undo is rate
limited (429). Each run checks the outcome, is_error, the operator actions and the mock's state
afterwards; across the whole matrix no tool says `applied` while anything is staged, failed, skipped,
not covered or undone.

One mock for the module (reset per test), driven in process through the MCP SDK's client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent
ZIA, ZID = "/zia/api/v1", "/ziam/admin/api/v1"
ACTIVATE = f"{ZIA}/status/activate"
VICTIM = "yara.ito@example.test"  # seeded: ZIdentity, ZIA, two ZCC devices
ZPA_RULES = "/zpa/mgmtconfig/v1/admin/customers/{customerId}/policySet/{policySetId}/rule"
POLICY_SET = "216196257331281921"

# the write composite tools, with arguments that make them change something in the seeded tenant
TOOLS: dict[str, dict[str, Any]] = {
    "threat_block_domains": {"domains": ["evil.example", "wiki.example.test"], "force": True,
                             "zpa_groups": ["Contractors"]},
    "threat_isolate_account": {"user": VICTIM},
    "users_disable": {"user": VICTIM, "zpa": True},
    "threat_quarantine_endpoint": {"user": VICTIM},
    "policy_sync_block_destination": {"name": "eng wiki", "group": "Contractors",
                                      "destinations": ["wiki.example.test", "203.0.113.9"]},
    "policy_set_threat_level": {"level": "severe"},
    "remediation_enable_enhanced_scanning": {"users": [VICTIM]},
}
ZIA_TOOLS = [t for t in TOOLS if t != "threat_quarantine_endpoint"]
CONTAINMENT = ("threat_block_domains", "threat_isolate_account", "users_disable", "threat_quarantine_endpoint")


@pytest.fixture(scope="module")
def _mock():
    return create_mock_app(seed=0)


@pytest.fixture
def mock(_mock):
    _mock.reset()
    return _mock


def _client(mock, **env: Any) -> Client:
    def factory(catalog):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                   headers={"Authorization": f"Bearer {mock.token()}"})
        return Executor(catalog, client, base_url="http://mock", customer_id="216196257331281920")

    settings = ServerSettings(profile="admin", threat_levels_file=ROOT / "examples" / "threat_levels.toml")
    return Client(build_server(Runtime(settings=settings, executor_factory=factory, customer_id_known=True)),
                  cache=None)


async def _apply(mock, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Apply (dry_run=false), answering a destructive tool's confirmation; (is_error, structured content)."""
    args = {**arguments, "dry_run": False}
    async with _client(mock) as client:
        result = await client.call_tool(tool, args)
        error = (result.structured_content or {}).get("error") or {}
        if result.is_error and error.get("kind") == "confirmation_required":
            result = await client.call_tool(tool, {**args, "confirm_token": error["confirm_token"]})
    return result.is_error, result.structured_content


def _writes(mock) -> list[str]:
    return [f"{j['method']} {j['path']}" for j in mock.journal if j["method"] != "GET"]


def _truthful(is_error: bool, data: dict[str, Any]) -> None:
    """The invariant of the outcome model, for any result."""
    statuses = {s["status"] for s in data.get("steps", [])}
    activation = data.get("activation") or {}
    if data["outcome"] == "applied":
        assert not is_error and statuses == {"done"}, data
        assert not data.get("not_covered") and not activation.get("failed") and not activation.get("pending")
        assert not activation.get("not_verified")
    else:
        assert data["outcome"] in ("partial", "staged_not_active", "failed", "rolled_back", "refused",
                                   "nothing_to_do", "planned") or "error" in data, data
    if statuses & {"failed", "skipped", "not_run", "undo_failed"} or data.get("not_covered"):
        assert is_error and data.get("operator_actions"), data


# -- activation fails --------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", ZIA_TOOLS)
async def test_a_failed_zia_activation_is_never_reported_as_applied(mock, tool):
    mock.fail("POST", ACTIVATE, 500, times=0)
    is_error, data = await _apply(mock, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "staged_not_active", data["summary"]
    assert data["activation"]["failed"][0]["service"] == "zia"
    assert mock.state.activation["zia"] == "PENDING"
    actions = " | ".join(data["operator_actions"])
    assert "ZIA activation failed" in actions and "staged, not live" in actions and "zia_activate" in actions
    zpa_done = [s["step"] for s in data["steps"] if s["service"] == "zpa"]
    if zpa_done:  # the ZPA half is live while ZIA is not: said in so many words
        assert "in other services live" in actions and "staged, not active" in data["summary"]


async def test_activation_says_when_other_admins_edits_were_pending_and_are_committed_with_ours(mock):
    mock.state.activation["zia"] = "PENDING"  # someone else's edit, not yet activated
    async with _client(mock) as client:
        planned = (await client.call_tool("threat_isolate_account", {"user": VICTIM})).structured_content
    assert planned["activation"]["others_pending_before"] == ["zia"]
    assert any("would be committed with ours" in a for a in planned["operator_actions"])
    is_error, data = await _apply(mock, "threat_isolate_account", {"user": VICTIM})
    assert not is_error and data["outcome"] == "applied"
    assert data["activation"] == {"activated": ["zia"], "others_pending_before": ["zia"]}
    assert any("were committed with ours" in a for a in data["operator_actions"])


async def test_leaving_zia_staged_on_request_is_staged_not_active_not_applied(mock):
    is_error, data = await _apply(mock, "threat_isolate_account", {"user": VICTIM, "activate": False})
    _truthful(is_error, data)
    assert data["outcome"] == "staged_not_active" and not is_error  # what was asked, said plainly
    assert data["activation"]["pending"] == ["zia"] and mock.state.activation["zia"] == "PENDING"
    assert any("staged, not active" in a for a in data["operator_actions"])


# -- a read is forbidden -----------------------------------------------------------------------------
@pytest.mark.parametrize("tool", CONTAINMENT)
async def test_containment_skips_a_service_it_cannot_read_and_does_the_rest(mock, tool):
    mock.fail("GET", "/zpa/*", 403, times=0)  # ZPA not licensed, or no role for it
    is_error, data = await _apply(mock, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "partial", data["summary"]
    assert [c["service"] for c in data["not_covered"]] == ["zpa"] and "403" in str(data["not_covered"])
    assert all(s["service"] != "zpa" and s["status"] == "done" for s in data["steps"]) and data["steps"]
    assert any(a.startswith("ZPA was not covered") for a in data["operator_actions"])
    assert not [w for w in _writes(mock) if "/zpa/" in w]
    if tool in ("threat_isolate_account", "users_disable"):  # the compromised account is disabled regardless
        user = next(u for u in mock.state.collections[("zid", f"{ZID}/users", ())].items.values()
                    if u["loginName"] == VICTIM)
        assert user["status"] is False
    if any(s["service"] == "zia" for s in data["steps"]):
        assert mock.state.activation["zia"] == "ACTIVE"


async def test_with_zidentity_forbidden_the_account_is_still_cut_off_in_zia_and_zpa_by_its_email(mock):
    mock.fail("GET", f"{ZID}/*", 403, times=0)
    is_error, data = await _apply(mock, "threat_isolate_account", {"user": VICTIM})
    assert is_error and data["outcome"] == "partial"
    assert [c["service"] for c in data["not_covered"]] == ["zid"]
    assert {s["service"] for s in data["steps"]} == {"zia", "zpa"}
    assert all(s["status"] == "done" for s in data["steps"])


async def test_services_chooses_what_is_covered_and_what_is_left_out_is_said(mock):
    async with _client(mock) as client:
        data = (await client.call_tool("threat_isolate_account", {"user": VICTIM, "services": ["zid", "zia"]})
                ).structured_content
    assert {s["service"] for s in data["steps"]} == {"zid", "zia"} and data["outcome"] == "planned"
    assert any(x.startswith("ZPA") for x in data["left_out"]) and "not_covered" not in data


# -- a write fails midway ----------------------------------------------------------------------------
def _fail_zpa_rule_writes(mock) -> None:
    for method in ("POST", "PUT"):
        mock.fail(method, "/zpa/*/rule*", 500, times=0)


@pytest.mark.parametrize("tool", ["threat_isolate_account", "users_disable", "policy_sync_block_destination",
                                  "policy_set_threat_level", "threat_block_domains"])
async def test_a_zpa_500_keeps_the_zia_containment_and_activates_it(mock, tool):
    _fail_zpa_rule_writes(mock)
    is_error, data = await _apply(mock, tool, TOOLS[tool])
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "partial", data["summary"]
    assert any(s["service"] == "zpa" and s["status"] == "failed" for s in data["steps"])
    assert all(s["status"] == "done" for s in data["steps"] if s["service"] != "zpa")
    assert data["activation"]["activated"] == ["zia"] and mock.state.activation["zia"] == "ACTIVE"
    assert any("failed" in a and "still needs doing" in a for a in data["operator_actions"])


async def test_all_or_nothing_on_request_rolls_back_and_says_exactly_what_was_undone(mock):
    _fail_zpa_rule_writes(mock)
    is_error, data = await _apply(mock, "policy_set_threat_level", {"level": "severe", "on_failure": "rollback"})
    _truthful(is_error, data)
    assert is_error and data["outcome"] == "rolled_back"
    assert {s["status"] for s in data["steps"] if s["service"] == "zia"} <= {"undone", "not_run"}
    assert "ZIA" in data["activation"]["note"] and "undone" in data["activation"]["note"]
    assert ACTIVATE not in " ".join(_writes(mock))


# -- an undo is rate limited -------------------------------------------------------------------------
async def test_undos_refused_by_the_zia_delete_budget_are_reported_as_still_staged_never_as_undone(mock):
    _fail_zpa_rule_writes(mock)
    mock.fail("DELETE", f"{ZIA}/*", 429, times=0)  # ZIA DELETE: 1/minute, 4/hour
    is_error, data = await _apply(mock, "threat_block_domains", {**TOOLS["threat_block_domains"],
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
    assert mock.state.activation["zia"] == "PENDING" and ACTIVATE not in " ".join(_writes(mock))


# -- safe defaults -----------------------------------------------------------------------------------
async def test_enhanced_scanning_leaves_tenant_wide_settings_alone_unless_asked(mock):
    async with _client(mock) as client:
        default = (await client.call_tool("remediation_enable_enhanced_scanning", {"users": [VICTIM]})
                   ).structured_content
        asked = (await client.call_tool("remediation_enable_enhanced_scanning", {"users": [VICTIM],
                                                                                 "tenant_settings": True})
                 ).structured_content
    tenant_wide = {"zia_update_advanced_threat_settings", "zia_update_malware_settings",
                   "zia_update_atp_malware_inspection"}
    assert not tenant_wide & {s["operation"] for s in default["steps"]}
    assert tenant_wide <= {s["operation"] for s in asked["steps"]}


async def test_revoking_this_servers_own_api_client_is_refused_before_any_write(mock, monkeypatch):
    async with _client(mock) as client:
        listed = await client.call_tool("invoke_operation", {"name": "zid_list_api_clients", "arguments": {}})
    result = listed.structured_content["result"]
    own = (result.get("records") or result.get("items") if isinstance(result, dict) else result)[0]
    monkeypatch.setenv("ZSCALER_CLIENT_ID", str(own["id"]))  # the server signs in as this client
    is_error, data = await _apply(mock, "remediation_revoke_credentials", {"api_client": str(own["name"])})
    assert is_error and data["error"]["kind"] == "own_client"
    assert "signs in with" in data["error"]["message"]
    assert _writes(mock) == []

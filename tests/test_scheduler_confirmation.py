"""Scheduling a destructive change asks for a person's yes through the `oneapi_mcp_confirm_destructive` hook
(issue 16: the scheduler no longer imports the scopes plugin): the scopes plugin answers it, another plugin
may answer first, and with nobody to answer, scheduling is refused. In process, on the mock (a real socket)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _composites import call, call_error, serve

from oneapi_mcp.plugin_api import hookimpl

pytestmark = pytest.mark.anyio
SCOPES = "oneapi_mcp.plugins.builtin.scopes"
REMOVE = {"tool": "zia_remove_url_filtering_rule", "arguments": {"id": 304}, "dry_run": False}


def _later(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _env(tmp_path) -> dict[str, str]:
    return {"ONEAPI_MCP_DATA_DIR": str(tmp_path)}


class _Approver:
    """A third-party confirmation (say, a change-ticket check) that answers before the scopes plugin."""

    def __init__(self, answer: str | None):
        self.answer, self.asked = answer, []

    @hookimpl
    def oneapi_mcp_confirm_destructive(self, call, plan, token, what):
        self.asked.append((call.name, plan["steps"][0]["call"], token, what))
        if self.answer is None:
            return None

        async def approved():
            return self.answer

        return approved()


async def test_hook_oneapi_mcp_confirm_destructive_gives_the_scheduler_the_scopes_plugins_token(upstream, tmp_path):
    remove = {**REMOVE, "run_at": _later()}
    async with serve(upstream, profile="admin", **_env(tmp_path)) as client:
        asked = (await call_error(client, "policy_schedule_change", remove))["error"]
        assert asked["kind"] == "confirmation_required" and asked["tool"] == "policy_schedule_change"
        assert "DELETE /zia/api/v1/urlFilteringRules/304" in asked["plan"]["steps"][0]["call"]
        wrong = await call_error(client, "policy_schedule_change", {**remove, "arguments": {"id": 305},
                                                                     "confirm_token": asked["confirm_token"]})
        assert wrong["error"]["kind"] == "confirmation_invalid"
        assert wrong["error"]["message"].startswith("scheduling zia_remove_url_filtering_rule at ")
        asked = (await call_error(client, "policy_schedule_change", remove))["error"]
        confirmed = await call(client, "policy_schedule_change", {**remove, "confirm_token": asked["confirm_token"]})
    assert confirmed["outcome"] == "scheduled" and confirmed["change"]["confirmed"] == "confirm_token"


async def test_a_plugin_answering_the_hook_first_confirms_instead_and_one_answering_none_passes_it_on(
        upstream, tmp_path, plugin_manager):
    silent, approver = _Approver(None), _Approver("change ticket CHG-1")
    plugin_manager.register(silent, name="acme_silent")
    async with serve(upstream, profile="admin", **_env(tmp_path)) as client:
        passed_on = (await call_error(client, "policy_schedule_change", {**REMOVE, "run_at": _later(1)}))["error"]
        plugin_manager.register(approver, name="acme_approver")
        approved = await call(client, "policy_schedule_change", {**REMOVE, "run_at": _later(3)})
    assert passed_on["kind"] == "confirmation_required" and passed_on["confirm_token"]  # the scopes plugin's
    assert approved["outcome"] == "scheduled" and approved["change"]["confirmed"] == "change ticket CHG-1"
    assert [a[0] for a in approver.asked] == ["policy_schedule_change"] and approver.asked[0][2] is None
    assert "zia_remove_url_filtering_rule: DELETE /zia/api/v1/urlFilteringRules/304" in approver.asked[0][1]
    assert approver.asked[0][3].startswith("scheduling zia_remove_url_filtering_rule at ")


async def test_without_the_scopes_plugin_a_destructive_change_is_refused_unconfirmed_and_a_write_still_schedules(
        upstream, tmp_path, plugin_manager):
    plugin_manager.unregister(name=SCOPES)
    async with serve(upstream, profile="admin", **_env(tmp_path)) as client:
        refused = (await call_error(client, "policy_schedule_change", {**REMOVE, "run_at": _later()}))["error"]
        listed = await call(client, "policy_list_scheduled_changes", {})
        update = await call(client, "policy_schedule_change", {
            "tool": "zia_update_url_filtering_rule", "run_at": _later(), "dry_run": False,
            "arguments": {"id": 302, "body": {"name": "r", "order": 1, "protocols": ["ANY_RULE"], "action": "BLOCK"}}})
    assert refused["kind"] == "confirmation_unavailable"
    assert "zia_remove_url_filtering_rule is destructive and no loaded plugin confirms destructive changes" \
        in refused["message"] and refused["message"].endswith("nothing was scheduled")
    assert listed["changes"] == []
    assert update["outcome"] == "scheduled" and update["change"].get("confirmed") is None

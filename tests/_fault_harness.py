"""The fault matrix's harness: the mock OneAPI and a server runtime in this process, every write
composite tool with arguments that change something in the seeded tenant, and the faults to inject.

A tool is run with `Runtime.call_tool` (the same filters, confirmation, audit and hooks as a client's
tools/call, without an MCP session), so the whole matrix stays quick.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._executor import Executor
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.mock import build_seed

__all__ = ["ACTIVATE_PATHS", "CUSTOMER_ID", "SCENARIOS", "Scenario", "Tenant", "VICTIM", "write_tools"]

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER_ID = "216196257331281920"
ZIA = "/zia/api/v1"
ACTIVATE_PATHS = (f"{ZIA}/status/activate", "/ztw/api/v1/status/activate")
VICTIM = "yara.ito@example.test"  # seeded: ZIdentity, ZIA, two ZCC devices, Marketing Team
SPONSOR = "isla.fischer@example.test"
_PEOPLE = build_seed(0).people
DEVELOPER = next(p.email for p in _PEOPLE if 0 in p.groups and not p.disabled)
OUTSIDER = next(p.email for p in _PEOPLE if 0 not in p.groups and not p.disabled)
# requests that are not GETs but change no configuration: a format check, the activation (its own
# fault), and the ZIA admin audit log export (POST starts a report, reference/zscaler-api.md)
_CHECKS = re.compile(r"/validateFeedFormat$|/status/activate$|/auditlogEntryReport$")
# One catalog for every runtime of the process (read-only data, as _scopes_report shares one): each runtime
# loading its own re-read every service's tool table and input schemas (ZIA's 1 MB, ZPA's 1.3 MB), ~0.1 s of
# CPU per Tenant and three Tenants per matrix case
CATALOG = load_catalog()


class Tenant:
    """The mock and one server runtime bound to it (data directory in `data_dir`). `Tenant.close_all()`
    shuts down every runtime opened since (their background tasks, such as SIEM delivery, stop)."""

    opened: list[Tenant] = []

    def __init__(self, mock, data_dir: Path):
        self.mock, self.data_dir = mock, data_dir
        Tenant.opened.append(self)

        def factory(catalog):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                       headers={"Authorization": f"Bearer {mock.token()}"})
            return Executor(catalog, client, base_url="http://mock", customer_id=CUSTOMER_ID)

        self.settings = ServerSettings(
            profile="admin", data_dir=data_dir, plugins={
                "policy_automation": {"threat_levels_file": ROOT / "examples" / "threat_levels.toml"},
                "lifecycle": {"templates_file": ROOT / "examples" / "access_templates.toml"},
                "scheduler": {"runner": False},
                "siem": {"destinations": ({"name": "soar", "type": "webhook", "url": "http://127.0.0.1:9/unreachable",
                                           "secret": "fake-webhook-secret-0000", "events": ["security"]},)}})
        self.runtime = Runtime(settings=self.settings, executor_factory=factory, customer_id_known=True,
                               _catalog=CATALOG)
        build_server(self.runtime)

    @classmethod
    async def close_all(cls) -> None:
        while cls.opened:
            await cls.opened.pop().runtime.shutdown()

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(is_error, structured content) of one call, as a client would see it."""
        result = await self.runtime.call_tool(tool, arguments, client="fault-matrix")
        return bool(result.is_error), dict(result.structured_content or {})

    async def apply(self, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Apply (dry_run=false where the tool plans), answering a destructive tool's confirmation."""
        args = {**arguments, "dry_run": False} if "dry_run" in self.properties(tool) else dict(arguments)
        is_error, data = await self.call(tool, args)
        error = data.get("error") or {}
        if is_error and error.get("kind") == "confirmation_required":
            is_error, data = await self.call(tool, {**args, "confirm_token": error["confirm_token"]})
        return is_error, data

    def properties(self, tool: str) -> dict[str, Any]:
        return dict(self.runtime.surface.composites[tool].input_schema.get("properties", {}))

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        """Journal entries (from `since`) of requests that change the tenant."""
        return [j for j in self.mock.journal[since:] if j["method"] != "GET" and not _CHECKS.search(j["path"])]

    def fingerprint(self) -> dict[str, Any]:
        """The tenant's state with what differs between equal runs (ids, timestamps) left out: two runs
        that leave the same objects behind have equal fingerprints (compare them with `same_tenant`)."""
        state = self.mock.state
        made = {str(item_id) for _, item_id in state.created}
        out: dict[str, Any] = {"activation": dict(state.activation)}
        for key, coll in state.collections.items():  # a sub-collection of a created object: by its kind only
            name = repr((*key[:2], tuple("<created>" if str(v) in made else v for v in key[2])))
            out[name] = sorted([*out.get(name, []), *_objects(coll.items.values())])
        for key, doc in state.documents.items():
            out["doc " + repr(key)] = _objects([doc])
        return out

    def seeded(self, name: str) -> Any:
        """What a fingerprint entry is before anything touches it (None: made up on first use)."""
        seed = self.mock.state.seed
        if "<created>" in name:
            return []
        if name.startswith("doc "):
            doc = seed.documents.get(eval(name[4:]))  # noqa: S307 - our own repr of a tuple key
            return None if doc is None else _objects([doc])
        objects = seed.collections.get(eval(name))  # noqa: S307
        return None if objects is None else _objects(objects)

    def same_tenant(self, one: dict[str, Any], other: dict[str, Any]) -> list[str]:
        """The fingerprint entries in which two tenants differ (an entry one side never touched counts as
        seeded; a made-up collection one side never touched is not compared)."""
        differ = []
        for name in sorted(set(one) | set(other)):
            a = one[name] if name in one else self.seeded(name)
            b = other[name] if name in other else self.seeded(name)
            if a is not None and b is not None and a != b:
                differ.append(name)
        return differ


def _objects(objects: Any) -> list[str]:
    return sorted(json.dumps(_stable(obj), sort_keys=True, default=str) for obj in objects)


_VOLATILE = re.compile(r"(^id$|Id$|Ids$|_id$|_ids$|[Tt]ime$|[Tt]imestamp$|Date$|_at$|^modified|^created|^resets$"
                       r"|^secret|^value$|^order$|^rank$)")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not _VOLATILE.search(str(k))}
    if isinstance(value, list):
        return sorted((_stable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, str):  # a ZIA DLP engine expression names its dictionary by id: ((D504.S > 1))
        return re.sub(r"\bD\d+\.", "D<id>.", value)
    return value


# -- scenarios -------------------------------------------------------------------------------------
Prepare = Callable[[Tenant], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Scenario:
    """How to make a write tool change something: its arguments, plus (`prepare`) what must be true
    first (the run a reverse tool undoes, the change to cancel); `prepare` returns extra arguments.
    `upstream` is False for a tool that changes only this server's own state; `idempotent` is False
    when a second run legitimately does something again (a new export, a password reset)."""

    arguments: dict[str, Any]
    prepare: Prepare | None = None
    upstream: bool = True
    idempotent: bool = True
    rerun_error: str | None = None  # the error kind a re-run of a done one-shot change answers

    async def resolve(self, tenant: Tenant) -> dict[str, Any]:
        extra = await self.prepare(tenant) if self.prepare is not None else {}
        return {**self.arguments, **extra}


def _after(tool: str, arguments: dict[str, Any], keep: tuple[str, ...] = ()) -> Prepare:
    """Run `tool` first (cleanly), then pass on its run_id (and `keep` of its arguments)."""

    async def prepare(tenant: Tenant) -> dict[str, Any]:
        is_error, data = await tenant.apply(tool, arguments)
        assert not is_error and data.get("run_id"), f"preparing with {tool} failed: {data.get('summary', data)}"
        tenant.mock.journal.clear()
        return {"run_id": data["run_id"], **{k: arguments[k] for k in keep}}

    return prepare


async def _api_client(tenant: Tenant) -> dict[str, Any]:
    _, listed = await tenant.call("invoke_operation", {"name": "zid_list_api_clients", "arguments": {}})
    result = listed["result"]
    clients = result.get("records") or result.get("items") if isinstance(result, dict) else result
    return {"api_client": str(clients[0]["name"])}


async def _scheduled(tenant: Tenant) -> dict[str, Any]:
    run_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    is_error, data = await tenant.apply("policy_schedule_change", {
        "tool": "threat_block_domains", "arguments": {"domains": ["evil.example"], "zpa": False}, "run_at": run_at})
    assert not is_error, data
    return {"id": data["change"]["id"]}


async def _soon() -> dict[str, Any]:
    return {"run_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")}


async def _webhook(tenant: Tenant) -> dict[str, Any]:
    is_error, data = await tenant.call("siem_register_webhook", {"name": "hook", "url": "http://127.0.0.1:9/h"})
    assert not is_error, data
    return {}


BLOCK = {"domains": ["evil.example", "wiki.example.test"], "force": True, "zpa_groups": ["Contractors"]}
SCANNING = {"users": [VICTIM], "tenant_settings": True}
IPS = {"addresses": ["198.51.100.7", "192.0.2.0/24"]}
_ENDS = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()

SCENARIOS: dict[str, Scenario] = {
    "directory_sync_users": Scenario(
        {"content": (ROOT / "tests" / "fixtures" / "directory" / "users_good.csv").read_text(), "format": "csv"}),
    # a re-run resets the password again (reset_when_disabled: an earlier run's reset may have failed, and
    # ZIdentity says nothing about when a password was last reset), so it is never "nothing to do"
    "lifecycle_offboard_user": Scenario({"user": VICTIM}, idempotent=False),
    "lifecycle_onboard_user": Scenario({"email": "nina.park@example.test", "first_name": "Nina", "last_name": "Park",
                                        "template": "sales"}),
    "lifecycle_provision_contractor": Scenario({"email": "cara.temp@example.test", "end_date": _ENDS,
                                                "sponsor": SPONSOR}),
    "policy_cancel_scheduled_change": Scenario({}, prepare=_scheduled, upstream=False),
    # scheduling itself changes only the server's store; the scheduled run is the matrix's scheduler case
    "policy_schedule_change": Scenario({"tool": "zia_remove_url_filtering_rule", "arguments": {"id": 304}},
                                       prepare=lambda tenant: _soon(), upstream=False),
    "policy_set_threat_level": Scenario({"level": "severe"}),
    "policy_sync_block_destination": Scenario({"name": "eng wiki", "group": "Contractors",
                                               "destinations": ["wiki.example.test", "203.0.113.9"]}),
    "policy_sync_enforce_dlp": Scenario({"name": "Finance PII", "departments": ["Finance", "Human Resources"],
                                         "phrases": ["salary", "IBAN"], "min_matches": 2}),
    "remediation_block_ips": Scenario(IPS),
    "remediation_enable_enhanced_scanning": Scenario(SCANNING),
    "remediation_restore_settings": Scenario({}, prepare=_after("remediation_enable_enhanced_scanning", SCANNING)),
    "remediation_revoke_credentials": Scenario({}, prepare=_api_client),
    "remediation_unblock_ips": Scenario({}, prepare=_after("remediation_block_ips", IPS)),
    "siem_configure_lss_stream": Scenario({"name": "ZPA Audit to SIEM", "host": "siem.example.test", "port": 6514,
                                           "log_type": "zpn_audit_log", "connector_groups": ["SJC Connectors"]}),
    "siem_configure_nss_feed": Scenario({
        "name": "Splunk Admin Audit", "log_type": "ADMIN_AUDIT", "siem_type": "SPLUNK",
        "connection_url": "https://splunk.example.test:8088/services/collector/raw",
        "authentication_token": "fake-hec-token-0000",
        "feed_output_format": '{"sourcetype":"zscalernss-audit","event":{"time":"%s{time}","admin":"%s{adminid}"}}'}),
    # reads ZDX and ZIA, changes only the server's outbox (the SIEM receiver here is unreachable)
    "siem_export_events": Scenario({"hours": 48}, upstream=False, idempotent=False),
    "siem_register_webhook": Scenario({"name": "soc-hook", "url": "http://127.0.0.1:9/soc"}, upstream=False),
    "siem_remove_webhook": Scenario({"name": "hook"}, prepare=_webhook, upstream=False, rerun_error="not_found"),
    "threat_block_domains": Scenario(BLOCK),
    # a re-run resets the password again: ZIdentity keeps no reset state and an earlier reset may have failed
    "threat_isolate_account": Scenario({"user": VICTIM}, idempotent=False),
    "threat_quarantine_endpoint": Scenario({"user": VICTIM}),
    "threat_release_account": Scenario({"user": VICTIM}, prepare=_after("threat_isolate_account", {"user": VICTIM})),
    "threat_unblock_domains": Scenario({"domains": BLOCK["domains"]}, prepare=_after("threat_block_domains", BLOCK)),
    "users_add_to_group": Scenario({"group": "Developers", "users": [OUTSIDER]}),
    "users_create_user": Scenario({"email": "new.hire@example.test", "first_name": "New", "last_name": "Hire",
                                   "groups": ["Developers", "Remote Workers"], "zia_department": "Engineering"}),
    "users_disable": Scenario({"user": VICTIM, "zpa": True}),
    "users_remove_from_group": Scenario({"group": "Developers", "users": [DEVELOPER]}),
}


def write_tools(runtime: Runtime) -> list[str]:
    """Every composite tool registered now whose (effective) scope is write or destructive."""
    return sorted(n for n, tool in runtime.surface.composites.items() if tool.scope in ("write", "destructive"))

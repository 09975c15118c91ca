"""Built-in plugin: policy automation (threat levels from config, testing a change in a local sandbox).

A threat level is a [levels.<name>] table in the TOML file the server's `threat_levels_file` names: ZIA
advanced threat settings values, URL filtering / firewall / ZPA access rules to enable or disable by name,
and userRiskScoreLevels on URL filtering rules. Setting a level plans the difference from the tenant's
current state and applies it (ZIA activated once). What a level does not mention is left as it is.

OneAPI has no dry-run or sandbox API (ZIA's un-activated edits are visible to, and activated by, every
admin). `policy_test_change` therefore reads the tenant's relevant ZIA and ZPA configuration (read-only),
loads it into an in-process copy of this project's mock OneAPI, applies the proposed change there, and
compares URL lookups and the rule matching it can compute before and after. The tenant sees only reads.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Refusal,
    Table,
    Workflow,
    refusal_result,
    report_result,
)

from ..hookspecs import hookimpl
from ._kit.lookups import body_fields, check_domain
from ._kit.tomlfile import locate, read_toml, value_line

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["Level", "TOOLS", "load_levels", "oneapi_mcp_register_tools"]

RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
_RULES = {  # config table: (what it is, list operation, update operation)
    "url_filtering_rules": ("ZIA URL filtering rule", "zia_list_url_filtering_rules", "zia_update_url_filtering_rule"),
    "firewall_rules": ("ZIA firewall filtering rule", "zia_list_firewall_filtering_rules",
                       "zia_update_firewall_filtering_rule"),
    "zpa_access_rules": ("ZPA access rule", "zpa_get_policy_rules_by_page", "zpa_update_rule_to_policy_set"),
}
_LEVEL_KEYS = {"description": "a string", "rank": "an integer (ordering in listings)",
               "advanced_threat_settings": "a table of ZIA advanced threat settings", **{
                   k: "a table with enable / disable lists" for k in _RULES}}
_NO_SANDBOX_API = ("OneAPI has no dry-run or sandbox API, and ZIA's un-activated edits are visible to and activated by "
                   "every admin; this sandbox is a local model of the tenant's configuration, not Zscaler's engine")


# -- the levels file -------------------------------------------------------------------------------
@dataclass
class Level:
    name: str
    description: str = ""
    rank: int | None = None
    advanced: dict[str, Any] = field(default_factory=dict)
    enable: dict[str, list[str]] = field(default_factory=dict)  # config table -> rule names
    disable: dict[str, list[str]] = field(default_factory=dict)
    risk_levels: dict[str, list[str]] = field(default_factory=dict)  # URL filtering rule -> userRiskScoreLevels

    @property
    def empty(self) -> bool:
        return not (self.advanced or any(self.enable.values()) or any(self.disable.values()) or self.risk_levels)


def load_levels(path: Path, settings_types: dict[str, str]) -> tuple[dict[str, Level], list[dict[str, Any]], str]:
    """The levels in `path` and every problem found (each with its line). `settings_types` maps each ZIA
    advanced threat setting to its JSON type (boolean, integer, array)."""
    data, problems, text = read_toml(path, "threat levels")
    if problems:
        return {}, problems, text
    where = locate(text)

    def bad(keys: tuple[str, ...], problem: str, level: str | None = None) -> None:
        line = next((where[keys[:n]] for n in range(len(keys), 0, -1) if keys[:n] in where), None)
        problems.append({"line": line, **({"level": level} if level else {}), "problem": problem})

    for key in data:
        if key != "levels":
            bad((key,), f"unknown top-level key {key!r}: the file holds [levels.<name>] tables only")
    tables = data.get("levels", {})
    if not isinstance(tables, dict) or not tables:
        bad(("levels",), "no [levels.<name>] tables")
        return {}, problems, text
    levels: dict[str, Level] = {}
    for name, table in tables.items():
        here = ("levels", name)
        if not isinstance(table, dict):
            bad(here, f"levels.{name} must be a table", name)
            continue
        level = Level(name)
        for key, value in table.items():
            at = (*here, key)
            if key not in _LEVEL_KEYS:
                bad(at, f"unknown key {key!r} (a level has {', '.join(_LEVEL_KEYS)})", name)
            elif key == "description" and not isinstance(value, str):
                bad(at, "description must be a string", name)
            elif key == "description":
                level.description = value
            elif key == "rank" and (not isinstance(value, int) or isinstance(value, bool)):
                bad(at, "rank must be an integer", name)
            elif key == "rank":
                level.rank = value
            elif not isinstance(value, dict):
                bad(at, f"{key} must be {_LEVEL_KEYS[key]}", name)
            elif key == "advanced_threat_settings":
                level.advanced = _check_settings(value, settings_types, at, name, bad)
            else:
                _read_rules(level, key, value, at, bad)
        for kind in _RULES:
            both = set(level.enable.get(kind, [])) & set(level.disable.get(kind, []))
            for rule in sorted(both):
                bad((*here, kind, "disable"), f"{rule!r} is both enabled and disabled in {kind}", name)
        if level.empty and not any(p.get("level") == name for p in problems):
            bad(here, f"level {name!r} changes nothing", name)
        levels[name] = level
    return levels, problems, text


def _check_settings(values: dict[str, Any], types: dict[str, str], at: tuple[str, ...], level: str, bad) -> dict:
    good = {}
    for key, value in values.items():
        want = types.get(key)
        ok = (want == "boolean" and isinstance(value, bool)
              or want == "integer" and isinstance(value, int) and not isinstance(value, bool)
              or want == "array" and isinstance(value, list) and all(isinstance(v, str) for v in value))
        if want is None:
            bad((*at, key), f"{key!r} is not a ZIA advanced threat setting", level)
        elif not ok:
            words = {"array": "a list of strings", "boolean": "true or false", "integer": "an integer"}
            bad((*at, key), f"{key} must be {words.get(want, want)}", level)
        else:
            good[key] = value
    return good


def _read_rules(level: Level, kind: str, table: dict[str, Any], at: tuple[str, ...], bad) -> None:
    allowed = ("enable", "disable", "user_risk_levels") if kind == "url_filtering_rules" else ("enable", "disable")
    for key, value in table.items():
        if key not in allowed:
            bad((*at, key), f"unknown key {key!r} in {kind} (it takes {', '.join(allowed)})", level.name)
        elif key == "user_risk_levels":
            if not isinstance(value, dict):
                bad((*at, key), "user_risk_levels must be a table: rule name = [levels]", level.name)
                continue
            for rule, risks in value.items():
                wrong = [r for r in risks if r not in RISK_LEVELS] if isinstance(risks, list) else [risks]
                if wrong or not risks:
                    bad((*at, key), f"user_risk_levels for {rule!r} must be a non-empty list of "
                                    f"{', '.join(RISK_LEVELS)}", level.name)
                else:
                    level.risk_levels[rule] = [r for r in RISK_LEVELS if r in risks]
        elif not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            bad((*at, key), f"{kind}.{key} must be a list of rule names", level.name)
        else:
            getattr(level, key)[kind] = list(dict.fromkeys(value))


def _settings_types(wf: Workflow) -> dict[str, str]:
    runtime = wf.ctx.call.runtime
    schema = runtime.catalog.input_schema("zia_update_advanced_threat_settings") if runtime is not None else {}
    body = schema.get("properties", {}).get("body", {})
    if "$ref" in body:
        body = schema.get("$defs", {}).get(body["$ref"].rsplit("/", 1)[-1], {})
    return {k: str(v.get("type")) for k, v in (body.get("properties") or {}).items()}


# -- the tenant's state, and a level's plan --------------------------------------------------------
async def read_state(wf: Workflow, levels: list[Level]) -> dict[str, Any]:
    """What the levels touch, read once: advanced settings, and each rule kind they name."""
    state: dict[str, Any] = {}
    if any(lv.advanced for lv in levels):
        state["advanced"] = await wf.read("zia_get_advanced_threat_settings") or {}
    for kind, (_what, list_op, _update) in _RULES.items():
        if any(lv.enable.get(kind) or lv.disable.get(kind) or (kind == "url_filtering_rules" and lv.risk_levels)
               for lv in levels):
            arguments = {"policyType": "ACCESS_POLICY"} if kind == "zpa_access_rules" else {}
            state[kind] = await wf.read_all(list_op, arguments)
    if "zpa_access_rules" in state:
        from ._kit.lookups import zpa_access_policy_set

        state["policy_set"] = await zpa_access_policy_set(wf)
    return state


def tenant_problems(levels: dict[str, Level], state: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Rules a level names that the tenant does not have, with their lines."""
    where = locate(text)
    problems = []
    for level in levels.values():
        for kind, (what, list_op, _update) in _RULES.items():
            have = {str(r.get("name")) for r in state.get(kind, [])}
            for key, names in (("enable", level.enable.get(kind, [])), ("disable", level.disable.get(kind, [])),
                               ("user_risk_levels", list(level.risk_levels) if kind == "url_filtering_rules" else [])):
                for name in names:
                    if name not in have:
                        start = where.get(("levels", level.name, kind, key)) or where.get(("levels", level.name, kind))
                        problems.append({"line": value_line(text, start, name), "level": level.name,
                                         "problem": f"no {what} {name!r} (searched {len(have)} with {list_op})"})
    return problems


def _enabled(kind: str, rule: dict[str, Any]) -> bool:
    if kind == "zpa_access_rules":
        return str(rule.get("disabled", 0)).lower() in ("0", "false", "none", "")
    return rule.get("state", "ENABLED") == "ENABLED"


def plan_level(wf: Workflow, level: Level, state: dict[str, Any]) -> None:
    """Steps that bring the tenant from `state` to `level`; what already matches goes to `unchanged`."""
    if level.advanced:
        current = state["advanced"]
        differs = {k: v for k, v in level.advanced.items() if current.get(k) != v}
        if differs:
            wf.add("zia_update_advanced_threat_settings",
                   {"body": body_fields(wf, "zia_update_advanced_threat_settings", current, **differs)},
                   "set ZIA advanced threat settings " + ", ".join(f"{k}={json.dumps(v)}" for k, v in differs.items())
                   + f" (level {level.name})",
                   undo=lambda _r, old=current: ("zia_update_advanced_threat_settings", {
                       "body": body_fields(wf, "zia_update_advanced_threat_settings", old)}, "restore the settings"))
        for key in level.advanced:
            if key not in differs:
                wf.already(f"ZIA advanced threat setting {key} is already {json.dumps(level.advanced[key])}")
    for kind, (what, _list, update_op) in _RULES.items():
        rules = {str(r.get("name")): r for r in state.get(kind, [])}
        wanted: dict[str, dict[str, Any]] = {}
        for name in level.enable.get(kind, []):
            wanted.setdefault(name, {})["enabled"] = True
        for name in level.disable.get(kind, []):
            wanted.setdefault(name, {})["enabled"] = False
        if kind == "url_filtering_rules":
            for name, risks in level.risk_levels.items():
                wanted.setdefault(name, {})["risk"] = risks
        for name, want in wanted.items():
            _plan_rule(wf, kind, what, update_op, rules[name], want, state, level.name)


def _plan_rule(wf: Workflow, kind: str, what: str, update_op: str, rule: dict[str, Any], want: dict[str, Any],
               state: dict[str, Any], level: str) -> None:
    name = rule.get("name")
    changes: dict[str, Any] = {}
    said = []
    if "enabled" in want and _enabled(kind, rule) != want["enabled"]:
        if kind == "zpa_access_rules":
            changes["disabled"] = 0 if want["enabled"] else 1
        else:
            changes["state"] = "ENABLED" if want["enabled"] else "DISABLED"
        said.append("enable" if want["enabled"] else "disable")
    elif "enabled" in want:
        wf.already(f"{what} {name!r} is already {'enabled' if want['enabled'] else 'disabled'}")
    if "risk" in want and sorted(rule.get("userRiskScoreLevels") or []) != sorted(want["risk"]):
        changes["userRiskScoreLevels"] = want["risk"]
        said.append(f"apply it to user risk {', '.join(want['risk'])}")
    elif "risk" in want:
        wf.already(f"{what} {name!r} already applies to user risk {', '.join(want['risk'])}")
    if not changes:
        return
    if kind == "zpa_access_rules":
        ids = {"policySetId": state["policy_set"], "ruleId": rule["id"]}
    else:
        ids = {"id": rule["id"]}
    wf.add(update_op, {**ids, "body": body_fields(wf, update_op, rule, **changes)},
           f"{what} {name!r}: {' and '.join(said)} (level {level})",
           undo=lambda _r, old=rule: (update_op, {**ids, "body": body_fields(wf, update_op, old)}, "restore the rule"))


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"policy_automation": f"{__name__}_settings:ThreatLevelSettings"}  # by path: defined when first validated


async def _checked_levels(wf: Workflow) -> tuple[dict[str, Level], dict[str, Any], Path]:
    """Every level in the configured file, checked in full (types, keys, rule names the tenant has), and
    the tenant's state they were checked against; any problem refuses with every bad entry's line."""
    path = wf.ctx.settings.plugin_settings("policy_automation").threat_levels_file
    if path is None:
        raise Refusal(f"no threat levels are configured: set threat_levels_file in [servers.{wf.ctx.settings.name}"
                      ".plugins.policy_automation] of the config file, or "
                      "ONEAPI_MCP_PLUGINS__POLICY_AUTOMATION__THREAT_LEVELS_FILE (see examples/threat_levels.toml)",
                      "not_configured")
    levels, problems, text = load_levels(Path(path), _settings_types(wf))
    state = await read_state(wf, list(levels.values())) if levels else {}
    problems += tenant_problems(levels, state, text)
    if problems:
        problems.sort(key=lambda p: p.get("line") or 0)
        raise Refusal(f"the threat levels file {path} has {len(problems)} problem(s), so nothing was applied: "
                      + "; ".join(f"line {p.get('line') or '?'}: {p['problem']}" for p in problems),
                      "invalid_config", file=str(path), problems=problems)
    return levels, state, Path(path)


def _pick(levels: dict[str, Level], wanted: str, path: Path) -> Level:
    match = [lv for name, lv in levels.items() if name.lower() == str(wanted).strip().lower()]
    if not match:
        known = sorted(levels, key=lambda n: (levels[n].rank is None, levels[n].rank or 0, n))
        raise Refusal(f"no threat level {wanted!r} in {path} (known levels: {', '.join(known)})", "not_found",
                      level=wanted, known=known)
    return match[0]


async def set_threat_level(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        levels, state, path = await _checked_levels(wf)
        level = _pick(levels, args["level"], path)
        wf.found.update({"level": level.name, "description": level.description, "file": str(path)})
        plan_level(wf, level, state)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"set threat level {level.name!r}")


async def list_threat_levels(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {"dry_run": True})
    try:
        levels, state, path = await _checked_levels(wf)
    except Refusal as exc:
        return refusal_result(exc)
    rows = []
    for level in sorted(levels.values(), key=lambda lv: (lv.rank is None, lv.rank or 0, lv.name)):
        probe = Workflow(ctx, {"dry_run": True})
        plan_level(probe, level, state)
        rows.append({"level": level.name, "rank": level.rank, "description": level.description,
                     "settings": len(level.advanced), "rules": sum(map(len, level.enable.values()))
                     + sum(map(len, level.disable.values())) + len(level.risk_levels),
                     "changes_needed": len(probe.steps), "current": not probe.steps,
                     "would_change": [s.why for s in probe.steps]})
    current = [r["level"] for r in rows if r["current"]]
    data = {"tool": ctx.call.name, "file": str(path), "levels": rows, "current": current}
    summary = (f"The tenant matches level {', '.join(map(repr, current))} in full." if current else
               "The tenant matches no level in full; 'changes_needed' says how far each one is.")
    table = Table("Threat levels", ["level", "rank", "description", "settings", "rules", "changes_needed", "current"],
                  rows)
    return report_result(f"Threat levels ({path.name})", data, sections=[summary], tables=[table])


# -- the sandbox -----------------------------------------------------------------------------------
ZIA, ZPA = "/zia/api/v1", "/zpa/mgmtconfig/v1/admin/customers/{customerId}"
_SNAPSHOT = {  # name: (list operation, the mock store's key template)
    "url_categories": ("zia_list_url_categories", f"{ZIA}/urlCategories"),
    "url_filtering_rules": ("zia_list_url_filtering_rules", f"{ZIA}/urlFilteringRules"),
    "firewall_rules": ("zia_list_firewall_filtering_rules", f"{ZIA}/firewallFilteringRules"),
    "ip_destination_groups": ("zia_list_destination_ip_groups", f"{ZIA}/ipDestinationGroups"),
}
_DOCUMENTS = {"advanced_threat_settings": ("zia_get_advanced_threat_settings",
                                           f"{ZIA}/cyberThreatProtection/advancedThreatSettings"),
              "advanced_policy": ("zia_get_advanced_policy", f"{ZIA}/security/advanced")}
_SANDBOXED = (f"{ZIA}/urlCategories", f"{ZIA}/urlFilteringRules", f"{ZIA}/firewallFilteringRules",
              f"{ZIA}/ipDestinationGroups", f"{ZIA}/cyberThreatProtection/advancedThreatSettings",
              f"{ZIA}/security/advanced", f"{ZIA}/status/activate", f"{ZPA}/policySet/{{policySetId}}/rule")


async def _snapshot(wf: Workflow) -> dict[str, Any]:
    from ._kit.lookups import zpa_access_policy_set

    snap: dict[str, Any] = {name: await wf.read_all(op) for name, (op, _key) in _SNAPSHOT.items()}
    for name, (op, _key) in _DOCUMENTS.items():
        snap[name] = await wf.read(op) or {}
    snap["policy_set"] = await zpa_access_policy_set(wf)
    snap["zpa_access_rules"] = await wf.read_all("zpa_get_policy_rules_by_page", {"policyType": "ACCESS_POLICY"})
    return snap


def _sandbox_app(snap: dict[str, Any]):
    """The mock OneAPI holding nothing but the snapshot (no faults, limits or scripted failures)."""
    from oneapi_mcp.mock import FaultConfig, SeedData, create_mock_app

    mock = create_mock_app(seed=0, services=("zia", "zpa"), rate_limits=False, faults=FaultConfig(), failures=())
    seed = SeedData(people=[])
    for name, (_op, template) in _SNAPSHOT.items():
        seed.collections[("zia", template, ())] = copy.deepcopy(snap[name])
    for name, (_op, template) in _DOCUMENTS.items():
        seed.documents[("zia", template, ())] = copy.deepcopy(snap[name])
    rule_key = ("zpa", f"{ZPA}/policySet/{{policySetId}}/rule", (str(snap["policy_set"]),))
    seed.collections[rule_key] = copy.deepcopy(snap["zpa_access_rules"])
    seed.aliases[("zpa", f"{ZPA}/policySet/rules/policyType/{{policyType}}", ("ACCESS_POLICY",))] = rule_key
    seed.documents[("zpa", f"{ZPA}/policySet/policyType/{{policyType}}", ("ACCESS_POLICY",))] = {
        "id": str(snap["policy_set"]), "name": "Access Policies", "enabled": True, "policyType": 1}
    mock.state.seed = seed
    return mock


class _SandboxContext:
    """What a Workflow needs of a CompositeContext, answered by the sandbox mock instead of the tenant."""

    def __init__(self, ctx, mock):
        import httpx

        from oneapi_mcp.plugin_api import Executor

        self.outer = ctx
        self.catalog = ctx.call.runtime.catalog
        self.call = SimpleNamespace(name=f"{ctx.call.name} (sandbox)", upstream=[], runtime=ctx.call.runtime,
                                    tool=ctx.call.tool)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(mock),
                                        headers={"Authorization": f"Bearer {mock.token()}"})
        self.executor = Executor(self.catalog, self.client, base_url="http://sandbox.invalid",
                                 customer_id=str(getattr(ctx.call.runtime.executor(), "customer_id", None) or "0"),
                                 max_result_bytes=1 << 30)

    @property
    def settings(self):
        return self.outer.settings

    def _refused(self, name: str):
        from oneapi_mcp.plugin_api import CallResult

        tool = self.catalog.tools.get(name)
        if tool is None:
            return CallResult({"error": {"kind": "unknown_tool", "message": f"unknown operation {name!r}"}}, True)
        if tool.scope != "read" and not tool.path.startswith(_SANDBOXED):
            return CallResult({"error": {"kind": "not_sandboxed", "message": f"{name} changes {tool.path}, which the "
                                         "sandbox does not model"}}, True)
        return None

    async def call_operation(self, name: str, arguments: dict[str, Any] | None = None):
        return self._refused(name) or await self.executor.call(self.catalog.tools[name], dict(arguments or {}))

    def preview_operation(self, name: str, arguments: dict[str, Any] | None = None):
        from oneapi_mcp.plugin_api import CallResult

        refused = self._refused(name)
        if refused is not None:
            return refused
        op = self.catalog.tools[name]
        prepared = self.executor.prepare(op, dict(arguments or {}))
        if isinstance(prepared, CallResult):
            return prepared
        request = self.executor.build_request(op, prepared[0])
        return CallResult({"operation": name, "scope": op.scope, "service": op.service, "method": request.method,
                           "path": request.url.path, "query": dict(request.url.params),
                           "body": json.loads(request.content) if request.content else None})

    async def progress(self, *_args: Any) -> None:
        return None


def _check_operations(ctx, operations: list[dict[str, Any]]) -> None:
    catalog = ctx.call.runtime.catalog
    bad = []
    for n, item in enumerate(operations, 1):
        tool = catalog.tools.get(str(item.get("operation")))
        if tool is None:
            bad.append(f"change {n}: unknown operation {item.get('operation')!r}")
        elif tool.scope == "read":
            bad.append(f"change {n}: {tool.name} only reads; give write operations")
        elif not tool.path.startswith(_SANDBOXED):
            bad.append(f"change {n}: {tool.name} changes {tool.path}, which the sandbox does not model (it holds URL "
                       "categories, URL filtering and firewall rules, IP destination groups, advanced threat "
                       "settings, the denylist and ZPA access rules)")
    if bad:
        raise Refusal(f"{len(bad)} proposed change(s) cannot be tested: " + "; ".join(bad), "invalid_arguments",
                      invalid=bad)


async def test_change(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {"dry_run": True})
    try:
        if bool(args.get("operations")) == bool(args.get("threat_level")):
            raise Refusal("give either operations (a list of {operation, arguments}) or threat_level, not both",
                          "invalid_arguments")
        urls = _checked_urls(list(args.get("urls") or []))
        ips = _checked_ips(list(args.get("ips") or []))
        if args.get("operations"):
            _check_operations(ctx, list(args["operations"]))
        level = None
        if args.get("threat_level"):
            levels, _state, path = await _checked_levels(wf)
            level = _pick(levels, args["threat_level"], path)
        snap = await _snapshot(wf)
        lookups = await _lookup(wf, urls)
    except Refusal as exc:
        return refusal_result(exc)
    # the sandbox runs in a context of its own: its requests are not the tenant call's (audit, hooks)
    task = asyncio.get_running_loop().create_task(_run_sandbox(ctx, snap, args, level), context=contextvars.Context())
    applied, after = await task
    return _effect_report(ctx, args, level, snap, after, applied, urls, ips, lookups)


async def _run_sandbox(ctx, snap: dict[str, Any], args: dict[str, Any], level: Level | None):
    sandbox = _SandboxContext(ctx, _sandbox_app(snap))
    try:
        box = Workflow(sandbox, {"dry_run": False, "activate": True}, on_failure="continue")  # type: ignore[arg-type]
        if level is not None:
            try:
                plan_level(box, level, await read_state(box, [level]))
            except (Refusal, KeyError) as exc:
                return {"outcome": "refused", "summary": f"the level could not be planned in the sandbox: {exc}"}, snap
        for n, item in enumerate(args.get("operations") or [], 1):
            box.add(str(item["operation"]), dict(item.get("arguments") or {}), f"proposed change {n}")
        result = await box.finish("the proposed change, in the sandbox")
        applied = dict(result.structured_content or {})
        after = await _snapshot(Workflow(sandbox, {"dry_run": True}))  # type: ignore[arg-type]
        return applied, after
    finally:
        await sandbox.client.aclose()


def _checked_urls(values: list[str]) -> list[dict[str, str]]:
    out, bad = [], []
    for value in values:
        raw = str(value).strip()
        text = raw.split("://", 1)[-1]
        host, _, path = text.partition("/")
        host = host.split(":", 1)[0].split("@")[-1]
        try:
            try:
                host = str(ipaddress.ip_address(host))
            except ValueError:
                host = check_domain(host)
        except ValueError as exc:
            bad.append(f"{raw!r}: {exc}")
            continue
        path = "/" + path.split("?", 1)[0].split("#", 1)[0] if path else ""
        out.append({"url": host + path, "host": host, "path": path})
    if bad:
        raise Refusal(f"{len(bad)} invalid URL(s): " + "; ".join(bad), "invalid_arguments", invalid=bad)
    return list({u["url"]: u for u in out}.values())


def _checked_ips(values: list[str]) -> list[str]:
    out, bad = [], []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(str(value).strip())))
        except ValueError:
            bad.append(f"{value!r} is not an IP address")
    if bad:
        raise Refusal(f"{len(bad)} invalid IP(s): " + "; ".join(bad), "invalid_arguments", invalid=bad)
    return list(dict.fromkeys(out))


async def _lookup(wf: Workflow, urls: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """ZIA's classification of each URL (POST /urlLookup reads; at most 100 URLs a request)."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(urls), 100):
        batch = urls[start:start + 100]
        data = await wf.read("zia_lookup_url_classification", {"body": [u["url"] for u in batch]})
        rows = data.get("result", data) if isinstance(data, dict) else data
        rows = rows if isinstance(rows, list) else []
        by_url = {str(r.get("url", "")).lower().split("://")[-1].rstrip("/"): r for r in rows if isinstance(r, dict)}
        for n, u in enumerate(batch):  # by URL; by position when the answer does not echo it
            row = by_url.get(u["url"].lower()) or (rows[n] if n < len(rows) and isinstance(rows[n], dict) else {})
            out[u["url"]] = {"classifications": [str(c) for c in row.get("urlClassifications") or []],
                             "security_alerts": [str(c) for c in row.get("urlClassificationsWithSecurityAlert") or []]}
    return out


# -- the model: which categories a URL is in, which rule it meets ---------------------------------
def _entry_covers(entry: str, url: dict[str, str]) -> bool:
    entry = str(entry).strip().lower()
    host, _, path = entry.partition("/")
    if host.startswith("*."):
        host = host[1:]
    hit = url["host"] == host[1:] or url["host"].endswith(host) if host.startswith(".") else url["host"] == host
    return hit and (not path or url["path"].lower().startswith("/" + path))


def _categories(url: dict[str, str], state: dict[str, Any], classes: list[str]) -> list[str]:
    found = list(classes)
    for cat in state["url_categories"]:
        if any(_entry_covers(e, url) for e in cat.get("urls") or []) and str(cat["id"]) not in found:
            found.append(str(cat["id"]))
    return found


def _who(rule: dict[str, Any], keys: tuple[str, ...]) -> str:
    parts = []
    for key in keys:
        values = rule.get(key) or []
        if values:
            names = [str(v.get("name") or v.get("id")) if isinstance(v, dict) else str(v) for v in values]
            parts.append(f"{key} {', '.join(names)}")
    return "; ".join(parts) or "everyone"


_URL_WHO = ("groups", "departments", "users", "locations", "locationGroups", "userRiskScoreLevels",
            "deviceTrustLevels", "timeWindows")
_FW_WHO = ("groups", "departments", "users", "locations", "locationGroups", "srcIpGroups", "srcIps",
           "deviceTrustLevels", "timeWindows")


def _ordered(rules: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Enabled rules in evaluation order; a rule added at an order ZIA already uses goes before the old
    one (ZIA shifts the existing rules down)."""
    old = {str(r.get("id")) for r in before}
    enabled = [r for r in rules if r.get("state", "ENABLED") == "ENABLED"]
    return sorted(enabled, key=lambda r: (r.get("order") or 0, str(r.get("id")) in old, rules.index(r)))


def _url_matches(url: dict[str, str], cats: list[str], state: dict[str, Any], before: dict[str, Any]) -> list[dict]:
    out: list[dict[str, Any]] = []
    denied = [e for e in state["advanced_policy"].get("blacklistUrls") or [] if _entry_covers(e, url)]
    if denied:
        return [{"rule": "advanced-security denylist", "action": "BLOCK", "who": "everyone"}]
    for rule in _ordered(state["url_filtering_rules"], before["url_filtering_rules"]):
        rule_cats = [str(c) for c in rule.get("urlCategories") or []]
        if not rule_cats or set(rule_cats) & set(cats):
            who = _who(rule, _URL_WHO)
            out.append({"rule": rule.get("name"), "action": rule.get("action"), "who": who})
            if who == "everyone":
                break
    return out


def _in(ip: str, entry: str) -> bool:
    entry = str(entry).strip()
    try:
        if "-" in entry:
            low, high = (ipaddress.ip_address(p.strip()) for p in entry.split("-", 1))
            return low <= ipaddress.ip_address(ip) <= high
        return ipaddress.ip_address(ip) in ipaddress.ip_network(entry, strict=False)
    except (ValueError, TypeError):
        return False


def _ip_matches(ip: str, state: dict[str, Any], before: dict[str, Any]) -> list[dict[str, Any]]:
    groups = {str(g.get("id")): g for g in state["ip_destination_groups"]}
    out = []
    for rule in _ordered(state["firewall_rules"], before["firewall_rules"]):
        refs = [groups.get(str((g or {}).get("id")), {}) for g in rule.get("destIpGroups") or []]
        addresses = [a for g in refs for a in g.get("addresses") or []] + list(rule.get("destAddresses") or [])
        other = rule.get("destIpCategories") or rule.get("destCountries")
        if (not refs and not addresses and not other) or any(_in(ip, a) for a in addresses):
            who = _who(rule, _FW_WHO)
            out.append({"rule": rule.get("name"), "action": rule.get("action"), "who": who})
            if who == "everyone":
                break
    return out


def _says(matches: list[dict[str, Any]], default: str) -> str:
    if not matches:
        return default
    return "; ".join(f"{m['rule']}: {m['action']}" + ("" if m["who"] == "everyone" else f" ({m['who']})")
                     for m in matches)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs in the sandbox after the change: objects added, removed, fields changed."""
    rows = []

    def short(value: Any) -> str:
        text = json.dumps(value, default=str, sort_keys=True)
        return text if len(text) <= 120 else text[:117] + "..."

    for name in [*_SNAPSHOT, "zpa_access_rules"]:
        old = {str(o.get("id")): o for o in before[name]}
        new = {str(o.get("id")): o for o in after[name]}
        for key in new.keys() - old.keys():
            label = new[key].get("name") or new[key].get("configuredName") or key
            rows.append({"object": name, "name": label, "change": "added", "field": "", "before": "",
                         "after": short({k: v for k, v in new[key].items() if k in ("action", "state", "order")})})
        for key in old.keys() - new.keys():
            label = old[key].get("name") or old[key].get("configuredName") or key
            rows.append({"object": name, "name": label, "change": "removed", "field": "", "before": "", "after": ""})
        for key in sorted(old.keys() & new.keys()):
            label = new[key].get("name") or new[key].get("configuredName") or key
            for fname in sorted(set(old[key]) | set(new[key])):
                if fname not in ("lastModifiedTime", "lastModifiedBy", "modifiedTime", "modifiedBy") \
                        and old[key].get(fname) != new[key].get(fname):
                    rows.append({"object": name, "name": label, "change": "changed", "field": fname,
                                 "before": short(old[key].get(fname)), "after": short(new[key].get(fname))})
    for name in _DOCUMENTS:
        for fname in sorted(set(before[name]) | set(after[name])):
            if before[name].get(fname) != after[name].get(fname):
                rows.append({"object": name, "name": "", "change": "changed", "field": fname,
                             "before": short(before[name].get(fname)), "after": short(after[name].get(fname))})
    return rows


def _effect_report(ctx, args, level, before, after, applied, urls, ips, lookups):
    url_rows = []
    for url in urls:
        classes = lookups.get(url["url"], {}).get("classifications", [])
        cats_b, cats_a = _categories(url, before, classes), _categories(url, after, classes)
        was = _says(_url_matches(url, cats_b, before, before), "no URL filtering rule matches (allowed)")
        now = _says(_url_matches(url, cats_a, after, before), "no URL filtering rule matches (allowed)")
        url_rows.append({"url": url["url"], "categories_before": cats_b, "categories_after": cats_a,
                         "security_alerts": lookups.get(url["url"], {}).get("security_alerts", []),
                         "before": was, "after": now, "changed": was != now or cats_b != cats_a})
    ip_rows = []
    for ip in ips:
        was = _says(_ip_matches(ip, before, before), "no firewall rule matches")
        now = _says(_ip_matches(ip, after, before), "no firewall rule matches")
        ip_rows.append({"ip": ip, "before": was, "after": now, "changed": was != now})
    changes = _changes(before, after)
    change = ({"threat_level": level.name} if level is not None else
              {"operations": [i.get("operation") for i in args.get("operations") or []]})
    failed = applied.get("outcome") not in ("applied", "nothing_to_do")
    data = {"tool": ctx.call.name, "sandbox": True, "tenant_writes": 0, "change": change,
            "sandbox_outcome": applied.get("outcome"), "sandbox_summary": applied.get("summary"),
            "sandbox_steps": [{k: s.get(k) for k in ("step", "operation", "call", "why", "status", "error")}
                              for s in applied.get("steps") or []],
            "config_changes": changes, "urls": url_rows, "ips": ip_rows,
            "effect": {"urls_changed": sum(r["changed"] for r in url_rows),
                       "ips_changed": sum(r["changed"] for r in ip_rows), "objects_changed": len(changes)},
            "limits": [_NO_SANDBOX_API,
                       "URL classification comes from the tenant's POST /urlLookup (a read); custom URL categories, "
                       "the denylist and URL filtering rule order are evaluated here; who a rule applies to (groups, "
                       "departments, risk levels) is shown, not evaluated",
                       "advanced threat settings change how ZIA treats whole threat classes; their effect on a URL "
                       "is not modelled, only the setting change is shown"]}
    sections = [f"**Sandbox test** of {json.dumps(change)}: {applied.get('summary')}. The tenant was only read "
                "(no write, no activation).",
                "\n".join("- " + limit for limit in data["limits"]),
                f"Effect: {data['effect']['urls_changed']} of {len(url_rows)} URL(s) and "
                f"{data['effect']['ips_changed']} of {len(ip_rows)} IP(s) meet a different rule; "
                f"{len(changes)} configuration field(s) differ."]
    tables = [Table("Steps run in the sandbox", ["step", "operation", "status", "why", "error"],
                    data["sandbox_steps"]),
              Table("Configuration changes", ["object", "name", "change", "field", "before", "after"], changes)]
    if url_rows:
        tables.append(Table("URL effect", ["url", "categories_after", "before", "after", "changed"], url_rows))
    if ip_rows:
        tables.append(Table("IP effect", ["ip", "before", "after", "changed"], ip_rows))
    return report_result("Sandbox test of a proposed change", data, sections=sections, tables=tables,
                         is_error=failed)


# -- definitions -----------------------------------------------------------------------------------
_LEVEL_OPS = ("zia_get_advanced_threat_settings", "zia_list_url_filtering_rules", "zia_list_firewall_filtering_rules",
              "zpa_get_policy_rules_by_page", "zpa_get_policy_set_by_policy_type")
_LEVELS = ("Levels are [levels.<name>] tables in the TOML file named by threat_levels_file in the server's "
           "[plugins.policy_automation] table (ONEAPI_MCP_PLUGINS__POLICY_AUTOMATION__THREAT_LEVELS_FILE; see "
           "examples/threat_levels.toml); a file with errors is reported line by line and nothing is applied.")


TOOLS = [
    CompositeTool(
        name="policy_set_threat_level",
        keywords=("raise threat level", "lockdown mode", "heightened alert", "phishing campaign",
                  "active compromise", "go to elevated", "back to normal", "DEFCON", "escalate posture",
                  "stand down", "ransomware outbreak", "tighten controls", "de-escalate"),
        title="Set the threat level",
        description=(
            "Bring policy to a configured threat level: ZIA advanced threat settings values, URL filtering, firewall "
            "and ZPA access rules enabled or disabled by name, and userRiskScoreLevels on URL filtering rules. Plans "
            "only the differences from the tenant's current state; ZIA is activated once at the end and verified. "
            + _LEVELS + " A failed step (say in ZPA) keeps the changes already made, so a lockdown is not undone "
            "by one error (on_failure=rollback: all or nothing). Dry run by default; idempotent."),
        handler=set_threat_level, toolset="composite.policy_automation", scope="write",
        operations=(*_LEVEL_OPS, "zia_update_advanced_threat_settings", "zia_update_url_filtering_rule",
                    "zia_update_firewall_filtering_rule", "zpa_update_rule_to_policy_set", "zia_activate",
                    "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_SetLevelInput",
    ),
    CompositeTool(
        name="policy_list_threat_levels",
        keywords=("threat level definitions", "DEFCON levels", "threat condition", "elevated level",
                  "severe lockdown", "current threat posture", "which level are we", "escalation tiers", "threatcon",
                  "level presets"),
        title="List the threat levels",
        description=("Read-only: the configured threat levels, what each one changes, and how many changes the "
                     "tenant is from each (0: the tenant is at that level). " + _LEVELS),
        handler=list_threat_levels, toolset="composite.policy_automation", scope="read", operations=_LEVEL_OPS,
        input_model="oneapi_mcp.composite._input_models:ToolInput",
    ),
    CompositeTool(
        name="policy_test_change",
        keywords=("what-if analysis", "dry run policy", "simulate change", "test before deploy", "preview impact",
                  "sandbox test", "safe to apply", "before and after", "will this break", "staging test",
                  "impact analysis", "which rule matches URL"),
        title="Test a policy change in a sandbox",
        description=(
            "OneAPI has no dry-run or sandbox API, so this builds one locally: it reads the tenant's URL categories, "
            "URL filtering and firewall rules, IP destination groups, advanced threat settings, denylist and ZPA "
            "access rules (reads only), loads them into an in-process mock of OneAPI, applies the proposed change "
            "there (write operations with their arguments, or a threat level), and reports the configuration "
            "differences and, for the given URLs and IPs, the rule they meet before and after. URL categories come "
            "from the tenant's URL lookup (a read). Nothing is written to the tenant."),
        handler=test_change, toolset="composite.policy_automation", scope="read",
        operations=("zia_list_url_categories", "zia_list_url_filtering_rules", "zia_list_firewall_filtering_rules",
                    "zia_list_destination_ip_groups", "zia_get_advanced_threat_settings", "zia_get_advanced_policy",
                    "zpa_get_policy_set_by_policy_type", "zpa_get_policy_rules_by_page",
                    "zia_lookup_url_classification"),
        input_model=f"{_INPUTS}:_TestChangeInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS


"""Built-in plugin: least privilege.

What a named server lists and runs: tools whose scope its profile allows (`read-only` by default,
`read-write`, `admin` adds destructive; or explicit `scopes`), minus `deny_tools` globs, and only
`allow_tools` globs when set (globs match the tool's name or its toolset, e.g. `zia.users` or
`*_delete_*`). The server enforces the same list at call time, whatever name a tool is called by.

Destructive calls need confirmation. A composite tool that plans (`dry_run`) needs it only to apply
a plan that has destructive steps, and the plan shown is its own dry run. With a client that
supports MCP elicitation, the person is asked. Otherwise the first call returns the plan and a
single-use `confirm_token`, bound to the client that asked (its authenticated HTTP identity, else
what the transport names), the tool, its canonical arguments and an expiry; a second call from the
same client with the same arguments plus the token runs it. Redeeming takes the token out under a
lock, so two calls racing with one token run at most once. Other plugins ask for the same
confirmation through the `oneapi_mcp_confirm_destructive` hook (the scheduler, for a destructive change).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import redact, tool_error, tool_result

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings, ToolCall

_clock = time.monotonic  # tests replace it


# -- the filter ----------------------------------------------------------------------------------
@hookimpl
def oneapi_mcp_filter_tools(settings: ServerSettings, tools: Sequence[Any]) -> dict[str, str]:
    hidden = {}
    for tool in tools:
        reason = refusal(settings, tool)
        if reason:
            hidden[tool.name] = reason
    return hidden


def refusal(settings: ServerSettings, tool: Any) -> str | None:
    """Why `tool` is not available on this server, or None."""
    allowed = settings.allowed_scopes
    if tool.scope not in allowed:
        return (f"{tool.name} has scope '{tool.scope}', which server '{settings.name}' does not allow (it allows "
                f"{', '.join(sorted(allowed))}); use a server with a wider profile")
    names = (tool.name, tool.toolset)
    denied = _first_match(settings.deny_tools, names)
    if denied:
        return f"{tool.name} is denied on server '{settings.name}' by deny_tools {denied!r}"
    if settings.allow_tools and not _first_match(settings.allow_tools, names):
        return (f"{tool.name} is not in server '{settings.name}' allow_tools "
                f"({', '.join(settings.allow_tools)})")
    return None


def _first_match(globs: Iterable[str], names: Iterable[str]) -> str | None:
    for glob in globs:
        if any(fnmatchcase(name, glob) for name in names):
            return glob
    return None


# -- confirmation of destructive calls -----------------------------------------------------------
CONFIRM_TOKEN = {"type": "string", "description": "Destructive calls run after confirmation: a first call returns "
                 "the plan and this token; call again with the same arguments plus confirm_token to run it."}


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"scopes": f"{__name__}_settings:ScopeSettings"}  # by import path: defined when first validated


@hookimpl
def oneapi_mcp_tool_arguments(settings: ServerSettings, tool: Any) -> dict[str, Any] | None:
    """Destructive tools take a confirm_token (this plugin's wrapper consumes it)."""
    return {"confirm_token": CONFIRM_TOKEN} if tool.scope == "destructive" else None


@dataclass(frozen=True)
class _Pending:
    client: str | None
    server: str
    tool: str
    digest: str
    expires: float


class ConfirmationTokens:
    """Single-use tokens, each bound to a client, a server, a tool, canonical arguments and an expiry."""

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def issue(self, server: str, tool: str, digest: str, ttl: float, client: str | None = None) -> str:
        token = secrets.token_urlsafe(18)
        now = _clock()
        with self._lock:
            for key in [k for k, p in self._pending.items() if p.expires <= now]:
                del self._pending[key]
            self._pending[token] = _Pending(client, server, tool, digest, now + ttl)
        return token

    def redeem(self, token: str, server: str, tool: str, digest: str, client: str | None = None) -> str | None:
        """None when the token confirms exactly this call by this client; otherwise why not. Used up
        either way (a token another client presents has leaked: it must not stay redeemable)."""
        with self._lock:
            pending = self._pending.pop(token, None)
        if pending is None:
            return "the confirm_token is unknown or was already used"
        if pending.expires <= _clock():
            return "the confirm_token has expired"
        if pending.client != client:
            return "the confirm_token was issued to another client"
        if (pending.server, pending.tool) != (server, tool):
            return f"the confirm_token was issued for {pending.tool}, not {tool}"
        if pending.digest != digest:
            return "the arguments differ from the plan the confirm_token was issued for"
        return None


TOKENS = ConfirmationTokens()


def _declares_confirm_token(tool: Any) -> bool:
    schema = getattr(tool, "input_schema", None)  # a composite's may be a lazily read mapping (InputSchema)
    return isinstance(schema, Mapping) and "confirm_token" in (schema.get("properties") or {})


def canonical_digest(tool: str, arguments: dict[str, Any]) -> str:
    args = {k: v for k, v in arguments.items() if k != "confirm_token"}
    text = json.dumps({"tool": tool, "arguments": args}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@hookimpl(wrapper=True)
def oneapi_mcp_tool_call(call: ToolCall):
    proceed = yield
    if call.parent is not None:  # a composite's operation: its composite's call is the one audited, confirmed, fenced
        return proceed
    if call.refusal is not None or call.scope != "destructive":
        # ours, never an operation's argument: nothing to confirm; a composite tool that takes its own
        # confirm_token (policy_schedule_change confirms the destructive change it schedules) keeps it
        if call.kind in ("generated", "composite") and not _declares_confirm_token(call.tool):
            call.arguments.pop("confirm_token", None)
        return proceed

    async def confirmed():
        token = call.arguments.pop("confirm_token", None)
        if call.preview is not None:  # a composite tool that plans: confirm its destructive steps only
            if call.arguments.get("dry_run", True):
                return await proceed()  # planning only reads
            plan = await _composite_plan(call)
            if not isinstance(plan, dict):
                return plan  # the plan failed (unknown user, invalid step): that is the answer
            if not plan["destructive_steps"]:
                return await proceed()
        else:
            plan = _plan(call)
        if isinstance(plan, dict) and "error" in plan:
            return tool_error(**plan["error"])  # invalid arguments: no token for a call that cannot run
        how = await confirm(call, plan, token)
        return await proceed() if isinstance(how, str) else how

    return confirmed


@hookimpl(trylast=True)
def oneapi_mcp_confirm_destructive(call: ToolCall, plan: Mapping[str, Any], token: str | None, what: str):
    """Other plugins' way to this confirmation (the scheduler's, for a destructive change it stores)."""
    return confirm(call, dict(plan), token, what=what)


async def confirm(call: ToolCall, plan: dict[str, Any], token: str | None, *, what: str | None = None):
    """Confirm `call` (whose `plan` is shown): by MCP elicitation, or by a single-use token bound to
    the call's canonical arguments. Returns how it was confirmed ("elicitation" or "confirm_token"),
    or the result to answer with instead (declined, a fresh token to confirm with, an invalid token)."""
    what = what or call.name
    if token is None:
        answer = await _elicited(call, plan)
        if answer is True:
            return "elicitation"
        if answer is False:
            return tool_error(f"{what} was not run: the person declined it", "confirmation_declined", tool=call.name)
        return _ask_for_token(call, plan)
    problem = TOKENS.redeem(str(token), call.server.name, call.name, canonical_digest(call.name, call.arguments),
                            call.client)
    if problem:
        return tool_error(f"{what} was not run: {problem}; call {call.name} again without confirm_token to get a "
                          "fresh plan and token", "confirmation_invalid", tool=call.name)
    call.extras["confirmation"] = "token redeemed"
    return "confirm_token"


async def _composite_plan(call: ToolCall) -> dict[str, Any] | Any:
    """The steps applying would make, from a dry run of the tool; its error result if it cannot plan."""
    preview = await call.preview(dict(call.arguments))
    planned = preview.structured_content or {}
    if preview.is_error:
        return preview
    steps = planned.get("steps", [])
    return {"tool": call.name, "scope": call.tool.scope, "arguments": redact(call.arguments),
            "effect": planned.get("summary"), "steps": steps,
            "destructive_steps": [s["step"] for s in steps if s.get("scope") == "destructive"]}


def _plan(call: ToolCall) -> dict[str, Any]:
    """What the call would do: the request for a generated operation (arguments validated first),
    the operations a composite tool may use."""
    tool = call.tool
    plan: dict[str, Any] = {"tool": call.name, "scope": tool.scope, "arguments": redact(call.arguments)}
    if call.kind == "composite":
        plan["operations"] = list(tool.operations)
        plan["effect"] = tool.description
        return plan
    plan.update(method=tool.method, path=tool.path, effect=tool.description.split(". ")[0])
    try:
        executor = call.runtime.executor() if call.runtime is not None else None
    except Exception:  # not configured: the template path is plan enough, the call will say what is missing
        executor = None
    if executor is not None:
        prepared = executor.prepare(tool, call.arguments)
        if getattr(prepared, "is_error", False):
            error = dict(prepared.data["error"])
            return {"error": {"message": error.pop("message"), "kind": error.pop("kind"), **error}}
        model, _control = prepared
        request = executor.build_request(tool, model)
        plan["path"] = request.url.path
    return plan


async def _elicited(call: ToolCall, plan: dict[str, Any]) -> bool | None:
    """Ask the person through MCP elicitation: True (confirmed), False (declined), None (cannot ask)."""
    session = getattr(call.ctx, "session", None)
    capabilities = getattr(session, "client_capabilities", None)
    if session is None or getattr(capabilities, "elicitation", None) is None or not getattr(
            session, "can_send_request", False):
        return None
    if "steps" in plan:
        calls = "; ".join(f"{s['step']}. {s['call']}" for s in plan["steps"] if s.get("scope") == "destructive")
        message = (f"Apply {call.name} on server '{call.server.name}'? {plan.get('effect') or ''} "
                   f"Destructive steps: {calls}")
    else:
        message = (f"Run the destructive operation {call.name} on server '{call.server.name}'? "
                   f"{plan.get('method', '')} {plan.get('path', '')}".strip())
    schema = {"type": "object", "required": ["confirm"], "properties": {
        "confirm": {"type": "boolean", "title": "Run it", "description": json.dumps(plan, default=str)[:1000]}}}
    try:
        answer = await session.elicit_form(message, schema, related_request_id=getattr(call.ctx, "request_id", None))
    except Exception:  # no back-channel after all: fall back to the token
        return None
    confirmed = answer.action == "accept" and (answer.content or {}).get("confirm") is True
    call.extras["confirmation"] = "elicitation: " + ("confirmed" if confirmed else "declined")
    return confirmed


def _ask_for_token(call: ToolCall, plan: dict[str, Any]):
    ttl = call.server.plugin_settings("scopes").confirm_ttl
    token = TOKENS.issue(call.server.name, call.name, canonical_digest(call.name, call.arguments), ttl, call.client)
    call.extras["confirmation"] = "token issued"
    message = (f"{call.name} is destructive and was not run. Check the plan, then call {call.name} again with the "
               f"same arguments plus confirm_token (valid once, for {ttl:g} s).")
    # the plan's arguments are redacted already; the token must reach the agent, so no name-based redaction
    return tool_result({"error": {"kind": "confirmation_required", "message": message, "tool": call.name,
                                  "plan": plan, "confirm_token": token, "expires_in_seconds": ttl}},
                       is_error=True, redact_names=False)

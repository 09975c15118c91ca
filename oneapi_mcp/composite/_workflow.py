"""The shape every composite tool that changes things follows: look, plan, then (when asked) apply.

A handler reads the current state (`Workflow.read`, `read_all`), works out what differs from what
was asked, and adds one `Step` per upstream write. `Workflow.finish()` then either returns the plan
(`dry_run`, the default: the exact requests, validated, plus the state they were based on) or
applies it:

- every step's arguments are validated before the first write, so bad input never leaves a change
  half-done;
- steps run in order, with MCP progress notifications when there are more than a few;
- on a failure, a `rollback` workflow undoes the steps already done (newest first) and lists what it
  could not undo; a `continue` workflow (containment: a partial block beats none) runs the steps
  that do not depend on the failed one; tools that offer `on_failure` let the caller choose;
- ZIA and ZTW changes are activated once, at the end, when `activate` is true, after checking
  before the first write whether other admins' edits are pending, and verified (status ACTIVE);
- the result reports each step (service, call, status), the outcome (see `_outcome`) and the
  operator actions that say what is live, what is staged and what to do.

A problem found while looking (an unknown user, a malformed domain) is raised as `Refusal` before
any write and becomes an error result that names it. A read that fails is a `ReadFailure`; inside
`Workflow.part` it skips only that service's part of the plan, which is reported as not covered
(containment degrades instead of disappearing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._hooktypes import tool_result
from ._outcome import ACTIVATE, Activation, read_activation

if TYPE_CHECKING:
    import mcp_types as t

    from .._hooktypes import CompositeContext

__all__ = ["DRY_RUN_ARGUMENTS", "ReadFailure", "Ref", "Refusal", "Step", "Workflow", "delete_created", "plan_schema",
           "refusal_result"]

_LIVE = ("done", "undo_failed")  # step statuses whose change is in effect (for ZIA/ZTW: staged or live)
_PROGRESS_FROM = 4  # more steps than this: progress notifications

DRY_RUN_ARGUMENTS: dict[str, Any] = {
    "dry_run": {"type": "boolean", "default": True,
                "description": "true (default): only look and return the exact calls it would make; "
                               "false: apply them."},
    "activate": {"type": "boolean", "default": True,
                 "description": "Activate ZIA/ZTW changes once at the end (default true); false leaves them "
                                "pending (activation is tenant-wide)."},
}


def plan_schema(properties: dict[str, Any], required: Iterable[str] = (), *, activation: bool = True,
                on_failure: str | None = None, services: Iterable[str] = ()) -> dict[str, Any]:
    """An input schema with the common `dry_run` (and `activate`) arguments added; with `on_failure`
    (its default) the caller may choose continue or rollback; with `services`, which of them to cover."""
    props = dict(properties)
    props["dry_run"] = DRY_RUN_ARGUMENTS["dry_run"]
    if activation:
        props["activate"] = DRY_RUN_ARGUMENTS["activate"]
    if on_failure is not None:
        props["on_failure"] = {
            "type": "string", "enum": ["continue", "rollback"], "default": on_failure,
            "description": "When a step fails: continue (keep what was done, run what does not depend on the failed "
                           "step: a partial containment beats none) or rollback (all-or-nothing: undo what was done)."}
    services = list(services)
    if services:
        props["services"] = {
            "type": "array", "items": {"type": "string", "enum": services}, "minItems": 1, "uniqueItems": True,
            "description": f"Services to act in (default all: {', '.join(services)}). A service whose state cannot "
                           "be read is skipped and reported as not covered; the others proceed."}
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


class Refusal(Exception):
    """Found while looking, before any write: the tool stops and says why (`kind`, extra detail)."""

    def __init__(self, message: str, kind: str = "not_found", **extra: Any):
        super().__init__(message)
        self.message, self.kind, self.extra = message, kind, extra


class ReadFailure(Refusal):
    """A read of the current state failed (no licence, no role, an upstream error)."""


def delete_created(operation: str, id_param: str = "id", why: str = "delete what this run created",
                   **fixed: Any) -> Callable[[Any], tuple[str, dict[str, Any], str] | None]:
    """The undo of a create step: `operation` called with the id the create returned (in
    `id_param`, beside the `fixed` arguments); nothing to undo when the answer carried no id."""

    def undo(result: Any) -> tuple[str, dict[str, Any], str] | None:
        if not isinstance(result, dict) or result.get("id") is None:
            return None
        return operation, {**fixed, id_param: result["id"]}, why

    return undo


@dataclass(frozen=True, eq=False)
class Ref:
    """A value an earlier step returns (the id of an object it creates), used in a later step's
    arguments. Plans show it as `<key of step N>` and validate with `sample` in its place."""

    step: Step
    key: str
    sample: Any


def _substitute(value: Any, replace: Callable[[Ref], Any]) -> Any:
    if isinstance(value, Ref):
        return replace(value)
    if isinstance(value, dict):
        return {k: _substitute(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, replace) for v in value]
    return value


def _path_refs(step: Step) -> list[Ref]:
    """The Refs among a step's top-level (path and query) arguments."""
    return [v for k, v in step.arguments.items() if isinstance(v, Ref) and k != "body"]


@dataclass(eq=False)
class Step:
    """One upstream write the plan makes.

    `undo(result_data)` returns `(operation, arguments, why)` that reverses it, or None; `manual`
    says what the operator must do when it cannot be undone automatically. `after` names the step
    this one needs (it is skipped when that one did not succeed).
    """

    operation: str
    arguments: dict[str, Any]
    why: str
    undo: Callable[[Any], tuple[str, dict[str, Any], str] | None] | None = None
    manual: str | None = None
    after: Step | None = None
    request: dict[str, Any] = field(default_factory=dict)
    status: str = "planned"  # planned | done | failed | skipped | undone | undo_failed
    http_status: int | None = None
    error: dict[str, Any] | None = None
    result: Any = None

    @property
    def service(self) -> str:
        return self.request.get("service") or self.operation.split("_", 1)[0]

    def report(self, n: int) -> dict[str, Any]:
        out: dict[str, Any] = {"step": n, "service": self.service, "operation": self.operation,
                               "call": f"{self.request.get('method', '?')} {self.request.get('path', '?')}",
                               "scope": self.request.get("scope"), "why": self.why, "status": self.status}
        if self.request.get("query"):
            out["query"] = self.request["query"]
        if self.status == "planned" and self.request.get("body") is not None:
            out["body"] = self.request["body"]
        if self.http_status is not None:
            out["http_status"] = self.http_status
        if self.error:
            out["error"] = self.error.get("message")
        return out


class Workflow:
    """One run of a composite tool: the state found, the planned steps, and what happened."""

    def __init__(self, ctx: CompositeContext, arguments: dict[str, Any], *, on_failure: str = "rollback"):
        on_failure = arguments.get("on_failure") or on_failure  # the caller's choice where the tool offers one
        if on_failure not in ("rollback", "continue"):
            raise ValueError("on_failure is rollback or continue")
        self.ctx = ctx
        self.tool = ctx.call.name
        self.dry_run = bool(arguments.get("dry_run", True))
        self.activate = bool(arguments.get("activate", True))
        self.on_failure = on_failure
        self.services = set(arguments["services"]) if arguments.get("services") else None
        self.found: dict[str, Any] = {}
        self.unchanged: list[str] = []
        self.limits: list[str] = []
        self.not_covered: list[dict[str, Any]] = []
        self.left_out: list[str] = []
        self.steps: list[Step] = []
        self.reads = 0
        self.activation = Activation()

    # -- looking -----------------------------------------------------------------------------
    async def read(self, operation: str, arguments: dict[str, Any] | None = None, *,
                   missing_ok: bool = False) -> Any:
        """A read; its failure stops the tool before any write (a 404 gives None with `missing_ok`)."""
        self.reads += 1
        result = await self.ctx.call_operation(operation, arguments or {})
        if result.is_error:
            error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
            if missing_ok and error.get("status") == 404:
                return None
            raise ReadFailure(f"could not read the current state: {operation} failed: "
                              f"{error.get('message', result.data)}", error.get("kind", "upstream"),
                              operation=operation, status=error.get("status"))
        return result.data

    def wants(self, service: str) -> bool:
        """Whether the caller's `services` (default: all) include `service`."""
        return self.services is None or service in self.services

    async def part(self, service: str, what: str, plan: Callable[[], Awaitable[Any]], *,
                   degrade: tuple[str, ...] = ()) -> Any:
        """Plan one service's part of a containment. When `service` is not wanted it is left out; when
        a read fails (or a Refusal of a kind in `degrade`), only this part is dropped and reported as
        not covered, and the rest of the plan proceeds."""
        if not self.wants(service):
            self.left_out.append(f"{service.upper()}: {what} (not in services)")
            return None
        mark = len(self.steps)
        try:
            return await plan()
        except Refusal as exc:
            if not isinstance(exc, ReadFailure) and exc.kind not in degrade:
                raise
            del self.steps[mark:]
            self.not_covered.append({"service": service, "what": what, "reason": exc.message,
                                     **({"status": exc.extra["status"]} if exc.extra.get("status") else {})})
            return None

    async def read_all(self, operation: str, arguments: dict[str, Any] | None = None,
                       max_items: int = 10_000) -> list[Any]:
        """Every item of a paginated list (the executor follows the service's pagination)."""
        runtime = self.ctx.call.runtime
        tool = runtime.catalog.tools.get(operation) if runtime is not None else None
        paged = {"all_pages": True, "max_items": max_items} if tool is not None and tool.pagination else {}
        data = await self.read(operation, {**(arguments or {}), **paged})
        if isinstance(data, dict) and "items" in data:
            if data.get("more"):  # planning from part of the state would be wrong: stop instead
                raise Refusal(f"{operation} has more than {max_items:,} items; this tool reads at most that many "
                              "(narrow the request)", "too_large", operation=operation)
            return list(data["items"])
        return list(data or [])

    # -- planning ----------------------------------------------------------------------------
    def add(self, operation: str, arguments: dict[str, Any], why: str, *,
            undo: Callable[[Any], tuple[str, dict[str, Any], str] | None] | None = None,
            manual: str | None = None, after: Step | None = None) -> Step:
        if after is None:  # a step that uses another's result needs it
            refs: list[Ref] = []
            _substitute(arguments, refs.append)
            after = refs[0].step if refs else None
        step = Step(operation, dict(arguments), why, undo=undo, manual=manual, after=after)
        self.steps.append(step)
        return step

    def already(self, fact: str) -> None:
        """Something that is already as asked (the idempotent part of the report)."""
        self.unchanged.append(fact)

    def cannot(self, what: str) -> None:
        """Something the API cannot do, said plainly in the result."""
        if what not in self.limits:
            self.limits.append(what)

    # -- finishing ---------------------------------------------------------------------------
    async def finish(self, summary: str, **extra: Any) -> t.CallToolResult:
        """Validate every step, then return the plan (dry run) or apply it and report."""
        problems = []
        for n, step in enumerate(self.steps, 1):
            preview = self.ctx.preview_operation(step.operation, _substitute(step.arguments, lambda r: r.sample))
            if preview.is_error:
                problems.append({"step": n, "operation": step.operation,
                                 "problem": preview.data.get("error", {}).get("message", str(preview.data))})
            else:
                step.request = dict(preview.data)
                for ref in _path_refs(step):  # a path segment that an earlier step's result fills in
                    segments = step.request["path"].split("/")
                    placeholder = f"<{ref.key} of step {self.steps.index(ref.step) + 1}>"
                    step.request["path"] = "/".join(placeholder if seg == str(ref.sample) else seg
                                                    for seg in segments)
                refs: list[Ref] = []
                _substitute(step.arguments, refs.append)
                if refs and step.request.get("body") is not None:  # show what the plan cannot know yet as such
                    shown = _substitute(step.arguments, lambda r: f"<{r.key} of step {self.steps.index(r.step) + 1}>")
                    step.request["body"] = shown.get("body", step.request["body"])
        if problems:
            return self._result("refused", f"{self.tool}: the plan is invalid, nothing was changed: "
                                + "; ".join(f"step {p['step']} ({p['operation']}): {p['problem']}" for p in problems),
                                is_error=True, problems=problems, **extra)
        if not self.steps and self.not_covered:
            gaps = ", ".join(sorted({c["service"].upper() for c in self.not_covered}))
            return self._result("partial", f"{summary}: nothing to change in what could be read, but {gaps} could "
                                "not be read (see not_covered and operator_actions)", is_error=not self.dry_run,
                                **extra)
        if not self.steps:
            return await self._finish_staged(summary, **extra)
        zia_ztw = sorted({s.service for s in self.steps if s.service in ACTIVATE})
        if self.dry_run:
            if self.activate and zia_ztw:
                await self.activation.check_before(self._call, zia_ztw)
            return self._result("planned", f"{summary}: {len(self.steps)} change(s) planned, none made; call "
                                f"{self.tool} again with dry_run=false to apply them", **extra)
        if self.activate:  # also the services this tool writes to that an earlier run may have left staged
            zia_ztw = sorted({*zia_ztw, *self._activated_services()})
        if zia_ztw:
            await self.activation.check_before(self._call, zia_ztw)
        await self._apply()
        await self._activate()
        outcome, is_error, text = self._outcome(summary)
        return self._result(outcome, text, is_error=is_error, activation=self.activation.report(), **extra)

    def _activated_services(self) -> list[str]:
        """The ZIA/ZTW services this tool writes to (from the operations it declares)."""
        runtime, tool = self.ctx.call.runtime, self.ctx.call.tool
        catalog = runtime.catalog.tools if runtime is not None else {}
        ops = [catalog[op] for op in getattr(tool, "operations", ()) if op in catalog]
        return sorted({op.service for op in ops if op.service in ACTIVATE and op.scope != "read"})

    async def _finish_staged(self, summary: str, **extra: Any) -> t.CallToolResult:
        """Nothing left to change. A re-run after a failed (or skipped) activation still has to make
        the earlier changes live: when a ZIA/ZTW service this tool writes to reads PENDING, that is
        activated (said whose edits it may commit), and the outcome is applied only once verified."""
        services = self._activated_services() if self.activate else []
        pending = [s for s in services if await read_activation(self._call, s) is False]
        if not pending:
            return self._result("nothing_to_do", f"{summary}: nothing to change, everything is already as asked",
                                **extra)
        names = "/".join(s.upper() for s in pending)
        whose = (f"{names} has pending edits, not yet live: perhaps an earlier run's of this tool whose activation "
                 "failed, perhaps other admins'; the tenant-wide activation commits them all")
        if self.dry_run:
            self.activation.note = whose
            return self._result("planned", f"{summary}: nothing to change, but {whose}; call {self.tool} again with "
                                "dry_run=false to activate", **extra)
        await self.activation.run(self._call, pending)
        self.activation.note = whose
        if self.activation.staged():
            return self._result("staged_not_active", f"{summary}: nothing to change, but {names} could not be "
                                "activated: changes stay staged (see operator_actions)", is_error=True,
                                activation=self.activation.report(), **extra)
        return self._result("applied", f"{summary}: nothing to change; activated {names}, whose pending edits are now "
                            "live", activation=self.activation.report(), **extra)

    async def _call(self, operation: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        result = await self.ctx.call_operation(operation, arguments)
        if result.is_error:
            error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
            return False, error.get("message") or str(result.data)
        return True, result.data

    def _numbers(self, statuses: Iterable[str], service: str | None = None) -> list[int]:
        return [n for n, s in enumerate(self.steps, 1)
                if s.status in statuses and (service is None or s.service == service)]

    def _outcome(self, summary: str) -> tuple[str, bool, str]:
        """The run's outcome, whether it is an error, and a summary that says what is live and what is not."""
        failed, skipped = self._numbers(("failed",)), self._numbers(("skipped", "not_run"))
        undone, undo_failed = self._numbers(("undone",)), self._numbers(("undo_failed",))
        staged_services = self.activation.staged()
        staged = [n for n in self._numbers(_LIVE) if self.steps[n - 1].service in staged_services]
        live = [n for n in self._numbers(_LIVE) if n not in staged]
        parts = [f"{len(live)} change(s) live"]
        if staged:
            parts.append(f"{len(staged)} {'/'.join(s.upper() for s in staged_services)} change(s) staged, not active")
        for label, numbers in (("failed", failed), ("not run", skipped), ("undone", undone),
                               ("still in effect (undo failed)", undo_failed)):
            if numbers:
                parts.append(f"{_steps(numbers)} {label}")
        if self.not_covered:
            parts.append("not covered: " + ", ".join(sorted({c["service"].upper() for c in self.not_covered})))
        text = f"{summary}: " + "; ".join(parts)
        if not (failed or skipped or undo_failed or self.not_covered):
            if not staged:
                return "applied", False, text
            # staging asked for (activate=false) is what the caller wanted; a failed activation is not
            return "staged_not_active", bool(self.activation.failed or self.activation.unverified), text
        if not live and not staged:
            if self.on_failure == "rollback":  # all or nothing, and nothing is left
                return "rolled_back", True, text + " (see steps and operator_actions)"
            return "failed", True, text + "; nothing this run tried is in effect (see operator_actions)"
        return "partial", True, text + " (see operator_actions)"

    async def _apply(self) -> None:
        total = len(self.steps)
        notify = total > _PROGRESS_FROM
        for n, step in enumerate(self.steps, 1):
            if step.after is not None and step.after.status != "done":
                step.status = "skipped"
                step.error = {"message": f"needs step {self.steps.index(step.after) + 1}, which did not succeed"}
                continue
            if self.on_failure == "rollback" and any(s.status == "failed" for s in self.steps):
                step.status = "not_run"
                continue
            if notify:
                await self.ctx.progress(n - 1, total, f"step {n}/{total}: {step.operation}")
            await self._run(step)
        if notify:
            await self.ctx.progress(total, total, "all steps run")
        if self.on_failure == "rollback" and any(s.status == "failed" for s in self.steps):
            for step in reversed([s for s in self.steps if s.status == "done"]):
                await self._undo(step)

    async def _run(self, step: Step) -> None:
        missing: list[str] = []

        def resolve(ref: Ref) -> Any:
            value = ref.step.result.get(ref.key) if isinstance(ref.step.result, dict) else None
            if value is None:
                missing.append(f"step {self.steps.index(ref.step) + 1} returned no {ref.key}")
            return value

        arguments = _substitute(step.arguments, resolve)
        if missing:
            step.status, step.error = "failed", {"message": "; ".join(missing)}
            return
        upstream = self.ctx.call.upstream
        before = len(upstream)
        result = await self.ctx.call_operation(step.operation, arguments)
        sent = upstream[before:]
        step.http_status = sent[-1]["status"] if sent else None
        if sent:
            step.request["path"] = sent[-1]["path"]  # what was actually called
        if result.is_error:
            step.status = "failed"
            step.error = result.data.get("error") if isinstance(result.data, dict) else {"message": str(result.data)}
            if step.http_status is None and step.error:
                step.http_status = step.error.get("status")
        else:
            step.status, step.result = "done", result.data

    async def _undo(self, step: Step) -> None:
        reverse = step.undo(step.result) if step.undo is not None else None
        if reverse is None:
            step.status = "done"  # stays: listed for the operator
            return
        operation, arguments, _why = reverse
        result = await self.ctx.call_operation(operation, arguments)
        step.status = "undo_failed" if result.is_error else "undone"
        if result.is_error:
            step.error = {"message": "undo failed: " + str((result.data.get("error") or {}).get("message"))}

    async def _activate(self) -> None:
        """Activate the ZIA/ZTW services this run left changes in, unless asked not to or the run is
        being rolled back (then leftovers stay staged and are listed for the operator)."""
        services = sorted({s.service for s in self.steps if s.status in _LIVE and s.service in ACTIVATE})
        undone = sorted({s.service for s in self.steps if s.status == "undone" and s.service in ACTIVATE})
        if self.activate and not any(s.status == "failed" for s in self.steps):
            # a re-run finishes the job: edits an earlier run left staged (its activation failed) go live too
            services = sorted({*services, *(s for s in self._activated_services() if s not in undone
                                            and self.activation.pending_before.get(s))})
        if not services:
            if undone:
                self.activation.note = (f"every {'/'.join(u.upper() for u in undone)} change this run made was "
                                        "undone before any activation; no activation was made")
            return
        if not self.activate:
            self.activation.pending = services
            self.activation.note = ("not activated (activate=false): the changes stay staged until someone activates "
                                    + ", ".join(s.upper() for s in services))
            return
        if self.on_failure == "rollback" and any(s.status == "failed" for s in self.steps):
            self.activation.pending = services
            left = [n for n in self._numbers(_LIVE) if self.steps[n - 1].service in services]
            self.activation.note = (f"not activated because a step failed (on_failure=rollback); {_steps(left)} could "
                                    "not be undone and stay staged (see operator_actions)")
            return
        await self.activation.run(self._call, services)

    def _result(self, outcome: str, message: str, *, is_error: bool = False, **extra: Any) -> t.CallToolResult:
        data: dict[str, Any] = {"tool": self.tool, "dry_run": self.dry_run, "outcome": outcome, "summary": message}
        if self.found:
            data["found"] = self.found
        if self.unchanged:
            data["unchanged"] = self.unchanged
        data["steps"] = [s.report(n) for n, s in enumerate(self.steps, 1)]
        if self.not_covered:
            data["not_covered"] = self.not_covered
        if self.left_out:
            data["left_out"] = self.left_out
        actions = self._operator_actions()
        if actions:
            data["operator_actions"] = actions
        if self.limits:
            data["api_limits"] = self.limits
        data.update({k: v for k, v in extra.items() if v is not None})
        if outcome == "planned":
            data["next"] = f"call {self.tool} again with the same arguments and dry_run=false to apply"
            if self.activation.report():
                data["activation"] = self.activation.report()
        if is_error:
            data = {"error": {"kind": outcome if outcome != "refused" else "invalid_plan", "message": message},
                    **data}
        return tool_result(data, is_error=is_error)

    def _operator_actions(self) -> list[str]:
        out = []
        rolling_back = self.on_failure == "rollback" and any(s.status == "failed" for s in self.steps)
        staged_services = set(self.activation.staged())
        for n, step in enumerate(self.steps, 1):
            fix = step.manual or f"reverse it by hand ({step.why})"
            if step.status == "undo_failed" or (rolling_back and step.status == "done"):
                if step.service in ACTIVATE:
                    out.append(f"step {n} ({step.operation}) could not be undone and is staged in "
                               f"{step.service.upper()}: anyone's next activation makes it live; before activating, "
                               + fix)
                else:
                    out.append(f"step {n} ({step.operation}) is still in effect and could not be undone: " + fix)
            elif step.status == "failed":
                out.append(f"step {n} ({step.operation}) failed: {(step.error or {}).get('message')}; "
                           f"it still needs doing: {step.why}")
            elif step.status == "skipped":
                out.append(f"step {n} ({step.operation}) was not run ({(step.error or {}).get('message')}); "
                           f"it still needs doing: {step.why}")
        for service in sorted(staged_services):
            numbers = self._numbers(("done",), service)
            if numbers and not rolling_back:
                live = [n for n in self._numbers(_LIVE) if self.steps[n - 1].service not in staged_services]
                out.append(f"{service.upper()} {_steps(numbers, be=True)} staged, not active"
                           + (f", while {_steps(live, be=True)} in other services live" if live else "")
                           + f": activate {service.upper()} ({ACTIVATE[service]}) once reviewed")
        out.extend(self.activation.actions())
        for gap in self.not_covered:
            out.append(f"{gap['service'].upper()} was not covered ({gap['what']}): {gap['reason']}; do it by hand or "
                       "rerun once the service can be read")
        return out


def _steps(numbers: list[int], be: bool = False) -> str:
    """"step 2" / "steps 1, 3" (with `be`: "step 2 is" / "steps 1, 3 are")."""
    one = len(numbers) == 1
    text = f"step {numbers[0]}" if one else f"steps {', '.join(map(str, numbers))}"
    return text + (" is" if one else " are") if be else text


def refusal_result(exc: Refusal) -> t.CallToolResult:
    from .._hooktypes import tool_error

    return tool_error(f"{exc.message}; nothing was changed", exc.kind, **exc.extra)

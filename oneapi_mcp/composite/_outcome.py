"""One truthful outcome for every change run (composite tools and scheduled changes).

ZIA and ZTW writes are staged until an activation, which is tenant-wide: it commits every admin's
pending edits, not only ours, and until it succeeds our edits are not live (and anyone's next
activation makes them live). So a run is `applied` only when every step succeeded and each ZIA/ZTW
service it wrote to reads ACTIVE after the activation; otherwise it is:

- `staged_not_active`: every step succeeded but ZIA/ZTW changes are staged, not live (activation
  failed, could not be verified, or was not asked for);
- `partial`: some changes are in effect and some are not (a step failed or was skipped, a
  service could not be read, an undo failed);
- `rolled_back`: a step failed and every change made before it was undone;
- `failed`: nothing this run tried is in effect.

Evidence for the status reads: reference/recorded/zia/cassettes/TestActivation.yaml (GET /status
answers {"status":"ACTIVE"} before and after POST /status/activate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["ACTIVATE", "ACTIVATION_STATUS", "Activation", "is_active", "read_activation"]

ACTIVATE = {"zia": "zia_activate", "ztw": "ztw_activate"}
ACTIVATION_STATUS = {"zia": "zia_get_activation_status", "ztw": "ztw_get_status"}

# (operation, arguments) -> (ok, data or error message)
Call = Callable[[str, dict[str, Any]], Awaitable[tuple[bool, Any]]]


def is_active(service: str, body: Any) -> bool | None:
    """True when the status body says nothing is pending, False when edits are pending, None when it
    cannot tell (ZIA: {"status": "ACTIVE" | "PENDING"}; ZTW: orgEditStatus EDITS_PRESENT while pending)."""
    if not isinstance(body, dict):
        return None
    if service == "zia":
        status = str(body.get("status") or "").upper()
        return None if not status else status == "ACTIVE"
    edits = str(body.get("orgEditStatus") or "").upper()
    return None if not edits else edits != "EDITS_PRESENT"


async def read_activation(call: Call, service: str) -> bool | None:
    """Whether `service` reads ACTIVE now (None: the status could not be read)."""
    ok, data = await call(ACTIVATION_STATUS[service], {})
    return is_active(service, data) if ok else None


class Activation:
    """What the activation of one run did, per service: checked before the first write (were other
    admins' edits already pending?), activated, verified ACTIVE afterwards."""

    def __init__(self) -> None:
        self.pending_before: dict[str, bool | None] = {}
        self.activated: list[str] = []
        self.failed: list[dict[str, Any]] = []
        self.unverified: list[str] = []
        self.pending: list[str] = []  # staged and not activated
        self.note: str | None = None

    async def check_before(self, call: Call, services: list[str]) -> None:
        for service in services:
            self.pending_before[service] = (await read_activation(call, service)) is False

    def others_pending(self) -> list[str]:
        return [s for s, pending in self.pending_before.items() if pending]

    async def run(self, call: Call, services: list[str]) -> None:
        for service in services:
            ok, data = await call(ACTIVATE[service], {})
            if not ok:
                self.failed.append({"service": service, "error": data})
                continue
            if await read_activation(call, service) is True:
                self.activated.append(service)
            else:
                self.unverified.append(service)

    def staged(self) -> list[str]:
        """Services whose changes from this run are staged, not (known to be) live."""
        return sorted({*self.pending, *self.unverified, *(f["service"] for f in self.failed)})

    def report(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {"activated": self.activated}
        if self.failed:
            out["failed"] = self.failed
        if self.unverified:
            out["not_verified"] = self.unverified
        if self.pending:
            out["pending"] = self.pending
        others = self.others_pending()
        if others:
            out["others_pending_before"] = others
        if self.note:
            out["note"] = self.note
        if out == {"activated": []}:
            return None
        return out

    def actions(self) -> list[str]:
        """What the operator must know or do about activation."""
        out = []
        for failure in self.failed:
            name = failure["service"].upper()
            out.append(f"{name} activation failed ({failure['error']}): this run's {name} changes are staged, not "
                       f"live, and anyone's next activation makes them live; retry {ACTIVATE[failure['service']]} "
                       "(tenant-wide: it also commits other admins' pending edits)")
        for service in self.unverified:
            out.append(f"{service.upper()} was activated but its status does not read ACTIVE afterwards: check "
                       f"{ACTIVATION_STATUS[service]} and activate again if edits are still pending")
        for service in self.others_pending():
            verb = "were committed with ours" if service in self.activated else "would be committed with ours"
            out.append(f"{service.upper()} already had pending edits from other admins before this run; they {verb} "
                       "by the tenant-wide activation")
        return out

"""A row of the generated services table (`generated/services.py`): one OneAPI service as its spec's
top-level keys describe it. The table holds only data; the row's behaviour lives here, written once."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NamedTuple

__all__ = ["ServiceRow", "service_under"]


class ServiceRow(NamedTuple):
    name: str  # the tool prefix and spec file name
    short: str  # e.g. ZIdentity
    title: str
    kind: str  # rest | graphql
    base_paths: tuple[str, ...]
    rate_classes: dict[str, tuple[str, ...]]  # class -> limits in `limits` notation
    rate_limit_headers: str  # how a 429 says when to retry
    probe: str | None  # one cheap read that answers 2xx only when the tenant is entitled
    probe_fixed: dict  # its arguments...
    probe_relative: dict  # ...and those computed when it runs: name -> (seconds from now, epoch_ms|epoch_s|iso8601)
    operations: int

    @property
    def probe_arguments(self) -> dict:
        """The probe's arguments as of now (a report's window "the last 24 hours" moves with the clock)."""
        return self.probe_arguments_at(time.time())

    def probe_arguments_at(self, now: float) -> dict:
        out = dict(self.probe_fixed)
        for name, (seconds, form) in self.probe_relative.items():
            at = now + seconds
            out[name] = (int(at * 1000) if form == "epoch_ms" else int(at) if form == "epoch_s"
                         else datetime.fromtimestamp(int(at), UTC).isoformat().replace("+00:00", "Z"))
        return out

    @property
    def prefix(self) -> str:
        """The first path segment every operation of the service starts with, e.g. `/ziam/`."""
        first = self.base_paths[0].strip("/").split("/")[0]
        return f"/{first}/" if first else "/"


def service_under(services: Mapping[str, ServiceRow], path: str) -> str | None:
    """The service whose operations live under `path`'s first segment."""
    return next((row.name for row in services.values() if path.startswith(row.prefix)), None)

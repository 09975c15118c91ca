"""The SIEM outbox of a running server: its settings (`[servers.<name>.plugins.siem]`, whose model is in
`siem_settings`), its destinations (settings plus registered webhooks) and delivery, one per server and
data directory while the server runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import register_secrets

from ._outbox import Delivery, Destination, Outbox

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings

    from .siem_settings import SiemSettings

__all__ = ["OPEN", "Siem", "existing_db", "own_settings", "siem_for", "siem_key"]

_DB = "siem.sqlite3"


def own_settings(settings: ServerSettings) -> SiemSettings:
    return settings.plugin_settings("siem")


class Siem:
    """One server's outbox, its destinations (settings plus registered webhooks) and delivery."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        register_secrets([d.secret for d in own_settings(settings).destinations])  # scrubbed wherever they might appear
        self.outbox = Outbox(settings.state_dir() / _DB)
        self._webhooks = self.outbox.webhooks()
        self.delivery = Delivery(self.outbox, self.destinations, retry_initial=own_settings(settings).retry_initial,
                                 retry_max=own_settings(settings).retry_max)

    def destinations(self) -> list[Destination]:
        return [*own_settings(self.settings).destinations, *self._webhooks]

    @property
    def webhooks(self) -> list[Destination]:
        return list(self._webhooks)

    def refresh(self) -> None:
        self._webhooks = self.outbox.webhooks()

    def takes(self, kind: str) -> bool:
        return any(kind in d.events for d in self.destinations())

    async def add(self, events: list[dict[str, Any]], destinations: list[Destination] | None = None) -> int:
        """Persist events (before any send), then wake the delivery task."""
        added = await asyncio.to_thread(self.outbox.enqueue, events, destinations or self.destinations())
        self.delivery.wake()
        return added

    def start(self) -> None:
        try:
            self.delivery.start()
        except RuntimeError:  # no running loop (a synchronous caller): delivery starts with the server
            pass

    async def close(self) -> None:
        await self.delivery.stop()
        self.outbox.close()


OPEN: dict[tuple[str, str], Siem] = {}  # (server, data directory) -> its Siem, while the server runs


def siem_key(settings: ServerSettings) -> tuple[str, str]:
    # by name and place, not by object: a hot reload brings a new settings object for the same server
    return settings.name, str(settings.state_path())


def existing_db(settings: ServerSettings) -> Path | None:
    """The outbox file if it exists already (without creating the data directory, as state_dir does)."""
    path = settings.state_path() / _DB
    return path if path.exists() else None


def siem_for(settings: ServerSettings, *, create: bool = True) -> Siem | None:
    """The server's Siem; opened on first use when destinations are configured, the outbox exists or
    `create` (registering a webhook); None when there is nothing to export to."""
    siem = OPEN.get(siem_key(settings))
    if siem is None and (create or own_settings(settings).destinations or existing_db(settings) is not None):
        siem = OPEN[siem_key(settings)] = Siem(settings)
    elif siem is not None and siem.settings is not settings:
        siem.settings = settings  # reloaded: its destinations and retry settings follow
    return siem

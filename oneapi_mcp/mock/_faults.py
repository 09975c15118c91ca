"""Injected faults: server errors, latency, 429 bursts, malformed JSON and dropped connections.

Each kind has a probability; one `random.Random(seed)` decides for every API request in turn,
so the same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields

__all__ = ["Fault", "FaultConfig", "FaultInjector"]

_ALIASES = {
    "500": "error_500",
    "503": "error_503",
    "latency": "latency",
    "429": "burst_429",
    "malformed": "malformed_json",
    "drop": "drop_connection",
    "seed": "seed",
}


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities (0..1) per API request; all zero means no faults.

    From text (flag `--faults`, env `ONEAPI_MOCK_FAULTS`): comma-separated `name=value` with
    names 500, 503, 429, latency, malformed, drop and seed; `429=0.1:4` makes bursts of 4,
    `latency=0.2:1.5` waits 1.5 s. Example: `500=0.05,429=0.1:3,latency=0.2:0.5,seed=7`.
    """

    error_500: float = 0.0
    error_503: float = 0.0
    burst_429: float = 0.0
    burst_length: int = 3
    latency: float = 0.0
    latency_seconds: float = 0.25
    malformed_json: float = 0.0
    drop_connection: float = 0.0
    seed: int | None = None  # None: the mock's seed

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, raw = part.partition("=")
            field = _ALIASES.get(name.strip())
            if field is None or not raw:
                raise ValueError(f"unknown fault {part!r}; use {', '.join(_ALIASES)} as name=value")
            value, _, extra = raw.partition(":")
            if field == "seed":
                values["seed"] = int(value)
                continue
            values[field] = float(value)
            if extra and field == "burst_429":
                values["burst_length"] = int(extra)
            elif extra and field == "latency":
                values["latency_seconds"] = float(extra)
        config = cls(**values)  # type: ignore[arg-type]
        for f in fields(config):
            if f.name in ("error_500", "error_503", "burst_429", "latency", "malformed_json", "drop_connection"):
                if not 0.0 <= getattr(config, f.name) <= 1.0:
                    raise ValueError(f"fault probability {f.name} must be between 0 and 1")
        return config

    @property
    def active(self) -> bool:
        return any(
            (self.error_500, self.error_503, self.burst_429, self.latency, self.malformed_json, self.drop_connection)
        )


@dataclass(frozen=True)
class Fault:
    kind: str | None  # error_500 | error_503 | burst_429 | malformed_json | drop_connection | None
    delay: float = 0.0


class FaultInjector:
    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.seed = config.seed if config.seed is not None else seed
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(f"faults:{self.seed}")
        self._burst_left = 0

    def next(self) -> Fault:
        """Decide the fault for the next API request (always two draws, so decisions stay aligned)."""
        c = self.config
        delay = c.latency_seconds if self._rng.random() < c.latency else 0.0
        draw = self._rng.random()
        if self._burst_left > 0:
            self._burst_left -= 1
            return Fault("burst_429", delay)
        edge = 0.0
        for kind, probability in (
            ("error_500", c.error_500),
            ("error_503", c.error_503),
            ("burst_429", c.burst_429),
            ("malformed_json", c.malformed_json),
            ("drop_connection", c.drop_connection),
        ):
            edge += probability
            if draw < edge:
                if kind == "burst_429":
                    self._burst_left = max(0, c.burst_length - 1)
                return Fault(kind, delay)
        return Fault(None, delay)

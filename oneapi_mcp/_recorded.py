"""Recorded OneAPI traffic (VCR cassettes from Zscaler's SDK integration tests), trimmed and loaded.

`python -m oneapi_mcp._recorded [<reference/recorded>]` rewrites `tests/recorded/` from the cassettes
(with a path) and the mock's recorded objects (`oneapi_mcp/mock/recorded_samples.json`);
per service one JSON Lines file, one interaction a line, keeping only what the checks and the mock
need (request method, URI without the host, JSON body; answer status, a few headers, JSON body).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["KEPT_HEADERS", "RECORDED_DIRS", "RECORDED_SERVICES", "Interaction", "load_interactions", "trim_cassettes",
           "write_mock_samples"]

RECORDED_SERVICES = ("zia", "zpa", "zcc", "zid", "ztw", "aiguard", "easm", "ztb", "zins", "zms")
# the recordings' directory when it is not the service's name (the SDK calls EASM `zeasm`)
RECORDED_DIRS = {"easm": "zeasm"}
# ZTB was recorded through its own host, where the SDK strips the OneAPI prefix `/ztb` from every path
# (zscaler/request_executor.py remove_oneapi_endpoint_prefix); the OneAPI path puts it back. Its
# `/api/v3/api-key-auth/login` is that host's own sign-in (zscaler/ztb/legacy.py), not an API operation.
_ONEAPI_PREFIX = {"ztb": "/ztb"}
_LEGACY_AUTH = {"ztb": ("/api/v3/api-key-auth/login",)}
# answer headers worth keeping: rate limits (x-ratelimit-*, x-rate-limit-*), retry hints and the body type
KEPT_HEADERS = ("content-type", "retry-after")
_KEPT_PREFIXES = ("x-ratelimit-", "x-rate-limit-")


@dataclass(frozen=True)
class Interaction:
    service: str
    cassette: str
    index: int
    method: str
    uri: str  # path and query, no host
    body: Any  # parsed JSON, a string when not JSON, None when empty
    status: int
    headers: dict[str, str]
    answer: Any  # parsed JSON, a string when not JSON, None when empty
    answer_items: int | None = None  # a long list answer is trimmed; this was its length

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.uri).query, keep_blank_values=True)

    @property
    def where(self) -> str:
        return f"{self.service}/{self.cassette}#{self.index}"


def _json_or_text(raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def _trim_list(items: list, keep: int = 10) -> list:
    """The first `keep` items plus any later item that shows a key not seen yet: every field name
    and shape stays, the bulk of long lists (1,251 network applications) goes."""
    kept: list = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        keys = set(item) if isinstance(item, dict) else set()
        if i < keep or not keys <= seen:
            kept.append(item)
            seen |= keys
    return kept


def _trim(interaction: dict, prefix: str = "") -> dict:
    req, resp = interaction["request"], interaction["response"]
    parts = urlsplit(req["uri"])
    headers = {}
    for name, values in sorted((resp.get("headers") or {}).items()):
        low = name.lower()
        if low in KEPT_HEADERS or low.startswith(_KEPT_PREFIXES):
            headers[low] = ", ".join(values) if isinstance(values, list) else str(values)
    body = req.get("body")
    if body in ("{}", b"{}") and req["method"] in ("GET", "DELETE"):
        body = None  # the SDK sends an empty object with every GET; it is not a body anyone declared
    answer = _json_or_text((resp.get("body") or {}).get("string"))
    extra = {}
    if isinstance(answer, list) and len(answer) > 10:
        extra["answer_items"] = len(answer)  # how long the recorded list was before trimming
        answer = _trim_list(answer)
    return {
        **extra,
        "method": req["method"],
        "uri": prefix + parts.path + (f"?{parts.query}" if parts.query else ""),
        "body": _json_or_text(body),
        "status": resp["status"]["code"],
        "headers": headers,
        "answer": answer,
    }


def trim_cassettes(source: Path, target: Path, services: tuple[str, ...] = RECORDED_SERVICES) -> dict[str, int]:
    """Rewrite target/<svc>.jsonl from source/<dir>/cassettes/*.yaml. Returns interactions per service."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    counts = {}
    for svc in services:
        lines = []
        for cassette in sorted((source / RECORDED_DIRS.get(svc, svc) / "cassettes").glob("*.yaml")):
            doc = yaml.load(cassette.read_bytes(), Loader=loader) or {}
            for i, interaction in enumerate(doc.get("interactions") or []):
                if urlsplit(interaction["request"]["uri"]).path in _LEGACY_AUTH.get(svc, ()):
                    continue
                row = {"cassette": cassette.stem, "index": i, **_trim(interaction, _ONEAPI_PREFIX.get(svc, ""))}
                lines.append(json.dumps(row, sort_keys=True, separators=(",", ":")))
        (target / f"{svc}.jsonl").write_text("\n".join(lines) + "\n")
        counts[svc] = len(lines)
    return counts


def load_interactions(directory: Path, services: tuple[str, ...] = RECORDED_SERVICES) -> Iterator[Interaction]:
    for svc in services:
        path = directory / f"{svc}.jsonl"
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                yield Interaction(service=svc, **row)


def write_mock_samples(directory: Path) -> int:
    """Rewrite the mock's recorded objects (`oneapi_mcp/mock/recorded_samples.json`) from `directory`."""
    from .mock import create_mock_app
    from .mock._recorded import SAMPLES_FILE, build_samples

    samples = build_samples(list(load_interactions(directory)), create_mock_app(seed=0))
    target = Path(__file__).resolve().parent / "mock" / SAMPLES_FILE
    target.write_text(json.dumps(samples, sort_keys=True, indent=0, separators=(",", ":")) + "\n")
    return len(samples)


if __name__ == "__main__":
    dst = Path(__file__).resolve().parent.parent / "tests" / "recorded"
    if len(sys.argv) > 1:  # a path to reference/recorded: trim the cassettes again
        print(trim_cassettes(Path(sys.argv[1]), dst))
    print(f"{write_mock_samples(dst)} mock collections with recorded objects")

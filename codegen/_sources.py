"""Fetch the pinned zscaler-sdk-python wheel and read its service models.

Only `make specs` needs this module (and the network); `make generate` works from `specs/`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SERVICES",
    "WHEEL_NAME",
    "WHEEL_SHA256",
    "WHEEL_VERSION",
    "ServiceModels",
    "fetch_wheel",
    "read_models",
]

SERVICES: tuple[str, ...] = ("zia", "zpa", "zdx", "zcc", "zid", "ztw")
WHEEL_NAME = "zscaler-sdk-python"
WHEEL_VERSION = "2.0.0b2"
WHEEL_FILE = "zscaler_sdk_python-2.0.0b2-py3-none-any.whl"
# Pinned so that a re-published wheel cannot silently change the vendored specs.
WHEEL_SHA256 = "7faa30c2cfd9719cb47f8bd0af0ad52bfb113fd7c915930326550979c1518390"
LICENSE_MEMBER = "zscaler_sdk_python-2.0.0b2.dist-info/licenses/LICENSE.md"


@dataclass(frozen=True)
class ServiceModels:
    """The wheel's data files for one service, with the sha256 of each file as shipped."""

    service: str
    model: dict
    paginators: dict
    errors: dict | None
    resources: dict
    sources: tuple[tuple[str, str], ...]  # (member path, sha256)


def fetch_wheel(cache_dir: Path) -> Path:
    """Download the pinned wheel into cache_dir (once) and check its sha256."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / WHEEL_FILE
    if not wheel.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--pre",
                 f"{WHEEL_NAME}=={WHEEL_VERSION}", "--dest", tmp],
                check=True,
            )
            downloaded = Path(tmp) / WHEEL_FILE
            if not downloaded.exists():
                raise SystemExit(f"pip did not produce {WHEEL_FILE} in {tmp}")
            downloaded.replace(wheel)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise SystemExit(
            f"{WHEEL_FILE}: sha256 {digest} does not match the pinned {WHEEL_SHA256}; "
            "refusing to convert an unexpected wheel"
        )
    return wheel


def _member(archive: zipfile.ZipFile, name: str, sources: list[tuple[str, str]]) -> dict:
    raw = archive.read(name)
    sources.append((name, hashlib.sha256(raw).hexdigest()))
    return json.loads(raw)


def read_models(wheel: Path) -> tuple[dict[str, ServiceModels], str]:
    """Read every service's models from the wheel; returns them and the licence text."""
    out: dict[str, ServiceModels] = {}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for svc in SERVICES:
            sources: list[tuple[str, str]] = []
            base = f"zssdk/zscore/data/{svc}/v1"
            errors_name = f"{base}/errors-1.json"
            out[svc] = ServiceModels(
                service=svc,
                model=_member(archive, f"{base}/service-1.json", sources),
                paginators=_member(archive, f"{base}/paginators-1.json", sources),
                errors=_member(archive, errors_name, sources) if errors_name in names else None,
                resources=_member(archive, f"zssdk/zsresource/data/{svc}/v1/resources-1.json", sources),
                sources=tuple(sources),
            )
        license_text = archive.read(LICENSE_MEMBER).decode()
    return out, license_text

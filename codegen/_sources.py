"""Fetch the pinned Zscaler SDK wheel and read every version of every service model in it.

Only `make specs` needs this module (and the network); `make generate` works from `specs/`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CURRENT",
    "PREVIOUS",
    "SERVICES",
    "ModelError",
    "ServiceModels",
    "WheelPin",
    "fetch_wheel",
    "read_models",
]

SERVICES: tuple[str, ...] = ("zia", "zpa", "zdx", "zcc", "zid", "ztw")


@dataclass(frozen=True)
class WheelPin:
    """One published wheel, pinned by sha256 so that a re-published file cannot change the specs."""

    name: str
    version: str
    sha256: str
    pre: bool = False  # a pre-release needs `pip download --pre`

    @property
    def file(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"

    @property
    def license_member(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}.dist-info/licenses/LICENSE.md"


# The stable models the specs are converted from.
CURRENT = WheelPin("zscaler-oneapi-sdk-python", "1.0.0",
                   "646efe352a9f9b16d1f05549a79a53935441a464b984024afbb37229f3002a13")
# The beta they came from before (kept for SOURCES.md and for replaying the upgrade).
PREVIOUS = WheelPin("zscaler-sdk-python", "2.0.0b2",
                    "7faa30c2cfd9719cb47f8bd0af0ad52bfb113fd7c915930326550979c1518390", pre=True)

_MODEL = re.compile(r"^zssdk/zscore/data/([a-z0-9_]+)/v(\d+)/service-1\.json$")


class ModelError(Exception):
    """The wheel holds something the converter will not guess about (it never drops a model)."""


@dataclass(frozen=True)
class ServiceModels:
    """The wheel's data files for one version of one service, with the sha256 of each file as shipped."""

    service: str
    model: dict
    paginators: dict
    errors: dict | None
    resources: dict
    sources: tuple[tuple[str, str], ...]  # (member path, sha256)
    version: int = 1

    @property
    def operation_count(self) -> int:
        return len(self.model["operations"])


def fetch_wheel(cache_dir: Path, pin: WheelPin = CURRENT) -> Path:
    """Download the pinned wheel into cache_dir (once) and check its sha256."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / pin.file
    if not wheel.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *(["--pre"] if pin.pre else []),
                 f"{pin.name}=={pin.version}", "--dest", tmp],
                check=True,
            )
            downloaded = Path(tmp) / pin.file
            if not downloaded.exists():
                raise SystemExit(f"pip did not produce {pin.file} in {tmp}")
            downloaded.replace(wheel)
    check_pin(wheel, pin)
    return wheel


def check_pin(wheel: Path, pin: WheelPin) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != pin.sha256:
        raise SystemExit(f"{wheel}: sha256 {digest} does not match the pinned {pin.sha256} of {pin.file}; "
                         "refusing to convert an unexpected wheel")


def _member(archive: zipfile.ZipFile, name: str, sources: list[tuple[str, str]]) -> dict:
    raw = archive.read(name)
    sources.append((name, hashlib.sha256(raw).hexdigest()))
    return json.loads(raw)


def read_models(wheel: Path, pin: WheelPin = CURRENT, services: tuple[str, ...] = SERVICES
                ) -> tuple[dict[str, tuple[ServiceModels, ...]], str]:
    """Every version of every service's models in the wheel (oldest first); and the licence text.

    A service directory the product does not know, or a version without its paginators or resources,
    is an error naming the file: a model is never skipped.
    """
    out: dict[str, list[ServiceModels]] = {svc: [] for svc in services}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        found = sorted(((m.group(1), int(m.group(2)), n) for n in names if (m := _MODEL.match(n))),
                       key=lambda t: (t[0], t[1]))
        for svc, version, name in found:
            if svc not in out:
                raise ModelError(f"{wheel.name}: {name} is a service this product does not know "
                                 f"(known: {', '.join(services)}); add it to SERVICES and SERVICE_TITLES")
            base = f"zssdk/zscore/data/{svc}/v{version}"
            required = (f"{base}/paginators-1.json", f"zssdk/zsresource/data/{svc}/v{version}/resources-1.json")
            missing = [r for r in required if r not in names]
            if missing:
                raise ModelError(f"{wheel.name}: {name} has no {', '.join(missing)}")
            sources: list[tuple[str, str]] = []
            errors_name = f"{base}/errors-1.json"
            out[svc].append(ServiceModels(
                service=svc,
                model=_member(archive, name, sources),
                paginators=_member(archive, required[0], sources),
                errors=_member(archive, errors_name, sources) if errors_name in names else None,
                resources=_member(archive, required[1], sources),
                sources=tuple(sources),
                version=version,
            ))
        absent = [svc for svc, versions in out.items() if not versions]
        if absent:
            raise ModelError(f"{wheel.name}: no service model for {', '.join(absent)}")
        license_text = archive.read(pin.license_member).decode()
    return {svc: tuple(v) for svc, v in out.items()}, license_text

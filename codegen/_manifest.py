"""Each generated service's manifest, `generated/<svc>/files.sha256`: the sha256 of every other file the service
holds, in sha256sum's format (`cd generated/zid && sha256sum -c files.sha256` reads it). With the fingerprint of
its inputs (`FINGERPRINT` in its `__init__.py`), it lets `make check-generated` tell an untouched service from an
edited one without regenerating it."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["MANIFEST", "manifest_differences", "service_files", "write_manifest"]

MANIFEST = "files.sha256"


def service_files(directory: Path) -> dict[str, Path]:
    """Every file under a generated service directory by its relative path, bytecode caches and the manifest aside."""
    files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    files.pop(MANIFEST, None)
    return dict(sorted(files.items()))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path) -> None:
    (directory / MANIFEST).write_text("".join(f"{_digest(p)}  {rel}\n" for rel, p in service_files(directory).items()))


def manifest_differences(directory: Path) -> list[str]:
    """How the directory differs from its manifest, file by file (empty: it holds exactly the files listed)."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return [f"no {MANIFEST}"]
    recorded: dict[str, str] = {}
    for line in manifest.read_text().splitlines():
        digest, separator, rel = line.partition("  ")
        if not separator or len(digest) != 64:
            return [f"{MANIFEST} has a line that is not `<sha256>  <file>`: {line[:80]!r}"]
        recorded[rel] = digest
    files = service_files(directory)
    return ([f"{rel} is not in {MANIFEST}" for rel in sorted(files.keys() - recorded.keys())]
            + [f"{rel} is missing" for rel in sorted(recorded.keys() - files.keys())]
            + [f"{rel} differs from {MANIFEST}" for rel in sorted(files.keys() & recorded.keys())
               if _digest(files[rel]) != recorded[rel]])

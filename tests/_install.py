"""The install steps shared by tests/test_install.py and tests/test_image.py: build the wheel once per
session, install it and its dependencies into a fresh virtualenv with no index, from wheels gathered once per
dependency set and interpreter (kept under ~/.cache, like pip's own cache). The Dockerfile's build stage does the
same. The tests reach no network: `make venv` gathers the wheels (`python tests/_install.py`, the one step here that
fetches from the package index), for the test environment's interpreter and for Debian's python3, the image's."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip"]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ZSCALER_", "ZPA_", "ONEAPI_MCP_", "PYTHON"))}
BUILD_TIMEOUT = 300  # gathering the dependency wheels fetches from the package index (at install, not in a test)
DEBIAN_PYTHON = "/usr/bin/python3"  # the image's interpreter


def _run(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=CLEAN_ENV, **kwargs)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


@functools.cache
def wheel() -> Path:
    """This checkout as a wheel (no build isolation: setuptools is in the test environment)."""
    out = Path(tempfile.mkdtemp(prefix="oneapi-mcp-wheel-"))
    _run([*PIP, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)], 120)
    (built,) = out.glob("oneapi_mcp-*.whl")
    return built


def requirements(whl: Path) -> list[str]:
    with zipfile.ZipFile(whl) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode().splitlines()
    return sorted(line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:"))


@functools.cache
def wheelhouse(python: str | None = None, *, gather: bool = False) -> Path:
    """Wheels for every base dependency on `python` (default: the test environment's), gathered once
    per dependency set and interpreter version (markers differ: redis needs async-timeout below 3.11.3).
    Only with `gather` (make venv) are missing wheels fetched; a test finding none fails saying so."""
    version = sys.version if python is None else _run([python, "-c", "import sys; print(sys.version)"], 30).stdout
    key = hashlib.sha256("\n".join([version, *requirements(wheel())]).encode()).hexdigest()[:16]
    house = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "oneapi-mcp-tests" / f"wheelhouse-{key}"
    if not (house / ".complete").exists():
        if not gather:
            raise AssertionError(
                f"no dependency wheels for Python {version.split()[0]} at {house}: the tests fetch nothing; "
                f"`make venv` gathers them (or: {sys.executable} tests/_install.py)")
        house.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            pip = PIP
            if python is not None:  # that interpreter's own pip (ensurepip) in a throwaway venv
                _run([python, "-m", "venv", f"{tmp}/venv"], 120)
                pip = [f"{tmp}/venv/bin/python", "-m", "pip"]
            _run([*pip, "wheel", "--quiet", "--wheel-dir", str(house), str(wheel())], BUILD_TIMEOUT)
        (house / ".complete").touch()
    return house


def install(target: Path, *, user: list[str] | None = None, wheels: Path | None = None,
            python: str | None = None) -> Path:
    """A fresh virtualenv at `target` with the wheel and its base dependencies, no index, and no pip
    left inside (as in the image). `user` prefixes commands (e.g. setpriv as non-root); `wheels` is a
    directory holding the wheel and its dependencies (default: the session's wheel and the wheelhouse).
    `python` (e.g. Debian's /usr/bin/python3, the image's) makes the venv with its own pip, the
    Dockerfile's steps; by default the test environment's pip installs into it (--python), as pipx and
    uvx do. Returns the venv's `oneapi-mcp` script."""
    prefix = user or []
    whl = wheels / wheel().name if wheels else wheel()
    where = ["--no-index", "--no-cache-dir", "--find-links", str(wheels or wheelhouse()), str(whl)]
    venv_python = str(target / "bin" / "python")
    if python:
        _run([*prefix, python, "-m", "venv", str(target)], 120)
        _run([*prefix, venv_python, "-m", "pip", "install", "--quiet", *where], 180)
        _run([*prefix, venv_python, "-m", "pip", "uninstall", "--quiet", "--yes", "pip"], 60)
    else:
        _run([*prefix, sys.executable, "-m", "venv", "--without-pip", str(target)], 60)
        _run([*prefix, *PIP, "--python", venv_python, "install", "--quiet", *where], 180)
    return target / "bin" / "oneapi-mcp"


def tree_megabytes(path: Path) -> float:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


if __name__ == "__main__":  # make venv: the wheels the install tests need, fetched once, before any test runs
    wheelhouse(gather=True)
    if Path(DEBIAN_PYTHON).exists():
        wheelhouse(DEBIAN_PYTHON, gather=True)

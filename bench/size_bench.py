"""Sizes: the wheel, the base install (no charts), the install with the `charts` extra, and the container
image when one exists (`make image`). Printed with the issue's targets; nothing asserts."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _install import PIP, install, requirements, tree_megabytes, wheel  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import _row  # noqa: E402


def _charts_requirement() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["charts"][0]


def _image_megabytes(image: str) -> float | None:
    try:
        out = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", image], capture_output=True,
                             text=True, timeout=60)
    except FileNotFoundError:
        return None
    return int(out.stdout.strip()) / 1e6 if out.returncode == 0 else None


def main() -> None:
    from oneapi_mcp import __version__

    print("install footprint (a fresh venv, as pipx/uvx make; pip itself not counted)")
    whl = wheel()
    _row("wheel", f"{whl.stat().st_size / 1e6:.1f} MB", f"{len(requirements(whl))} deps")
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        install(venv)
        base = tree_megabytes(venv)
        _row("base install (no charts)", f"{base:.0f} MB", "< 110 MB", base / 110)
        subprocess.run([*PIP, "--python", str(venv / "bin" / "python"), "install", "--quiet", _charts_requirement()],
                       check=True, capture_output=True, timeout=600)
        charts = tree_megabytes(venv)
        _row("with the charts extra (matplotlib, numpy, pillow ...)", f"{charts:.0f} MB", "was 272 MB")
    image = f"oneapi-mcp:{__version__}"
    size = _image_megabytes(image)
    _row(f"container image {image}", f"{size:.0f} MB" if size else "no image (make image)")


if __name__ == "__main__":
    main()

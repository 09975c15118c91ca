"""`make specs`: download the pinned SDK wheel and write specs/<svc>.yaml, SOURCES.md and the licence."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import yaml

from ._convert import SERVICE_TITLES, convert_service, count_operations
from ._sources import (
    CURRENT,
    PREVIOUS,
    SERVICES,
    ModelError,
    ServiceModels,
    WheelPin,
    check_pin,
    fetch_wheel,
    read_models,
)

__all__ = ["dump_yaml", "main", "write_specs"]

LICENSE_FILE = "LICENSE-zscaler-sdk-python.md"


def dump_yaml(doc: dict) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True)


def _sources_md(pin: WheelPin, previous: WheelPin | None, models: dict[str, tuple[ServiceModels, ...]],
                written: dict[str, tuple[int, str]]) -> str:
    lines = [
        "# Where the specs come from",
        "",
        "Zscaler publishes no OpenAPI file for OneAPI. These documents are converted mechanically by",
        "`make specs` (`codegen/_make_specs.py`, `codegen/_versions.py`, `codegen/_convert.py`) from the",
        "service models that Zscaler ships in its Python SDK wheel on PyPI, every version of every service",
        "(`zssdk/zscore/data/<svc>/v<N>/`; ZPA has `v1` and `v2`, merged into `zpa.yaml`).",
        "",
        f"- Package: `{pin.name}=={pin.version}` (`{pin.file}`), the stable SDK",
        f"- Wheel sha256: `{pin.sha256}` (pinned in `codegen/_sources.py`; `make specs` refuses any other file)",
        f"- Licence: MIT, copyright Zscaler; the full text is in `{LICENSE_FILE}` beside this file.",
    ]
    if previous:
        lines += [
            f"- Before: `{previous.name}=={previous.version}` (`{previous.file}`, sha256 `{previous.sha256}`),",
            "  the wheel these specs were converted from before this one (see the README's \"After Zscaler",
            "  changes its API\" for what the last upgrade changed).",
        ]
    lines += [
        "- Every model operation is in a spec. Operations that share a method and a path once parameter",
        "  names are unified (ZDX's configured and predefined applications) are listed under the path's",
        "  operation as `x-oneapi-variants`; a later version's operation or shape whose name an earlier",
        "  version already uses is renamed with its version (`V2…` operations, `…V2` schemas).",
        "- The models' documentation strings are partly empty. The converter uses them where present and",
        "  otherwise synthesizes a sentence from the operation name, method, path and pagination.",
        "  Hand-written descriptions come from `overlays/<svc>.yaml` (OpenAPI Overlay 1.0), applied by",
        "  `make generate`.",
        "",
        "| service | spec | model versions | operations | sha256 of the spec |",
        "|---|---|---|---|---|",
    ]
    for svc in models:
        versions = ", ".join(f"v{m.version}" for m in models[svc])
        count, digest = written[svc]
        lines.append(f"| {SERVICE_TITLES[svc][0]} | `{svc}.yaml` | {versions} | {count} | `{digest}` |")
    lines.append(f"| all | | | {sum(c for c, _ in written.values())} | |")
    lines += ["", "Source files inside the wheel:", "", "| file | sha256 |", "|---|---|"]
    for svc in models:
        for version in models[svc]:
            for member, digest in version.sources:
                lines.append(f"| `{member}` | `{digest}` |")
    return "\n".join(lines) + "\n"


def write_specs(wheel: Path, specs_dir: Path, pin: WheelPin = CURRENT, previous: WheelPin | None = PREVIOUS,
                log=print, services: tuple[str, ...] = SERVICES) -> dict[str, int]:
    """Convert every service in `wheel` into `specs_dir`; returns the operations written per service.

    Nothing is written unless every service converts.
    """
    models, license_text = read_models(wheel, pin, services)
    texts: dict[str, str] = {}
    written: dict[str, tuple[int, str]] = {}
    for svc in services:
        doc = convert_service(models[svc])
        texts[svc] = dump_yaml(doc)
        written[svc] = (count_operations(doc), hashlib.sha256(texts[svc].encode()).hexdigest())
    specs_dir.mkdir(parents=True, exist_ok=True)
    for svc in services:
        target = specs_dir / f"{svc}.yaml"
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(texts[svc])
        tmp.replace(target)
        in_models = sum(m.operation_count for m in models[svc])
        log(f"specs: {svc}: wrote {written[svc][0]} operations (of {in_models} in models "
            f"{', '.join(f'v{m.version}' for m in models[svc])}) -> {target}")
    (specs_dir / "SOURCES.md").write_text(_sources_md(pin, previous, models, written))
    (specs_dir / LICENSE_FILE).write_text(license_text)
    total = sum(c for c, _ in written.values())
    log(f"specs: wrote {total} operations in {len(services)} specs from {pin.name}=={pin.version}")
    return {svc: c for svc, (c, _) in written.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make specs", description=__doc__)
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    parser.add_argument("--wheel", type=Path, help="use this wheel file instead of downloading (sha256 still checked)")
    args = parser.parse_args(argv)
    if args.wheel:
        check_pin(args.wheel, CURRENT)
        wheel = args.wheel
    else:
        wheel = fetch_wheel(args.cache_dir, CURRENT)
    try:
        write_specs(wheel, args.specs_dir)
    except ModelError as exc:
        print(f"specs: {exc}; specs/ left untouched", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

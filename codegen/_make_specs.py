"""`make specs`: download the pinned SDK wheel and write specs/<svc>.yaml, SOURCES.md and the licence."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import yaml

from ._convert import SERVICE_TITLES, convert_service
from ._sources import SERVICES, WHEEL_FILE, WHEEL_NAME, WHEEL_SHA256, WHEEL_VERSION, fetch_wheel, read_models

__all__ = ["dump_yaml", "main"]

LICENSE_FILE = "LICENSE-zscaler-sdk-python.md"


def dump_yaml(doc: dict) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True)


def _sources_md(models: dict, written: dict[str, str]) -> str:
    lines = [
        "# Where the specs come from",
        "",
        "Zscaler publishes no OpenAPI file for OneAPI. These documents are converted mechanically by",
        "`make specs` (`codegen/_make_specs.py`, `codegen/_convert.py`) from the service models that",
        f"Zscaler ships in the `{WHEEL_NAME}` wheel, version `{WHEEL_VERSION}`, on PyPI.",
        "",
        f"- Package: `{WHEEL_NAME}=={WHEEL_VERSION}` (`{WHEEL_FILE}`)",
        f"- Wheel sha256: `{WHEEL_SHA256}` (pinned; `make specs` refuses any other file)",
        f"- Licence: MIT, copyright Zscaler; the full text is in `{LICENSE_FILE}` beside this file.",
        "- The models' documentation strings are mostly empty (ZDX documents its 45 operations; ZIA 4,",
        "  ZCC 3, ZTW 2, ZPA and ZIdentity 1 each). The converter uses them where present and otherwise",
        "  synthesizes a sentence from the operation name, method, path and pagination. Hand-written",
        "  descriptions come from `overlays/<svc>.yaml` (OpenAPI Overlay 1.0), applied by `make generate`.",
        "",
        "| service | spec | operations | sha256 of the spec |",
        "|---|---|---|---|",
    ]
    for svc in SERVICES:
        n = len(models[svc].model["operations"])
        lines.append(f"| {SERVICE_TITLES[svc][0]} | `{svc}.yaml` | {n} | `{written[svc]}` |")
    lines += ["", "Source files inside the wheel:", "", "| file | sha256 |", "|---|---|"]
    for svc in SERVICES:
        for member, digest in models[svc].sources:
            lines.append(f"| `{member}` | `{digest}` |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make specs", description=__doc__)
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    parser.add_argument("--wheel", type=Path, help="use this wheel file instead of downloading (sha256 still checked)")
    args = parser.parse_args(argv)
    if args.wheel:
        digest = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{args.wheel}: sha256 {digest} is not the pinned {WHEEL_SHA256}")
        wheel = args.wheel
    else:
        wheel = fetch_wheel(args.cache_dir)
    models, license_text = read_models(wheel)
    args.specs_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for svc in SERVICES:
        text = dump_yaml(convert_service(models[svc]))
        target = args.specs_dir / f"{svc}.yaml"
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(text)
        tmp.replace(target)
        written[svc] = hashlib.sha256(text.encode()).hexdigest()
        print(f"specs: {svc}: {len(models[svc].model['operations'])} operations -> {target}")
    (args.specs_dir / "SOURCES.md").write_text(_sources_md(models, written))
    (args.specs_dir / LICENSE_FILE).write_text(license_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`make specs`: download the pinned SDK wheel and write specs/<svc>.yaml, SOURCES.md and the licence."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import yaml

from ._convert import SERVICE_TITLES, convert_service, count_operations
from ._recorded import ROUTES_FILE, read_routes
from ._restore import Dropped, restore_dropped
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


def _dropped_md(previous: WheelPin, dropped: dict[str, list[Dropped]]) -> list[str]:
    kept = [(svc, d) for svc, ds in dropped.items() for d in ds if d.evidence]
    moved = [(svc, d) for svc, ds in dropped.items() for d in ds if d.moved_to and not d.evidence]
    gone = [(svc, d) for svc, ds in dropped.items() for d in ds if not d.evidence and not d.moved_to]
    lines = [
        "",
        f"## Operations of `{previous.name}=={previous.version}` that the new models dropped",
        "",
        f"Kept: {len(kept)}, because recorded real traffic (`{ROUTES_FILE}`, made by `make recorded-routes` from",
        "Zscaler's SDK integration cassettes) shows the API serving them (a 2xx, or a 401/403 error body",
        "from the service itself); each carries",
        "`x-oneapi-source: {model, evidence}` naming the previous wheel's model and the cassette.",
        "",
        "| service | method | path | operationId | evidence |",
        "|---|---|---|---|---|",
        *(f"| {svc} | {d.method} | `{d.path}` | {d.operation_id} | `{d.evidence}` |" for svc, d in kept),
        "",
        f"Moved: {len(moved)} (the new models serve the same operationId at another path).",
        "",
        "| service | method | path | operationId | now |",
        "|---|---|---|---|---|",
        *(f"| {svc} | {d.method} | `{d.path}` | {d.operation_id} | `{d.moved_to}` |" for svc, d in moved),
        "",
        f"Dropped for lack of evidence: {len(gone)}.",
        "",
        "| service | method | path | operationId |",
        "|---|---|---|---|",
        *(f"| {svc} | {d.method} | `{d.path}` | {d.operation_id} |" for svc, d in gone),
    ]
    return lines


def _sources_md(pin: WheelPin, previous: WheelPin | None, models: dict[str, tuple[ServiceModels, ...]],
                written: dict[str, tuple[int, str]], dropped: dict[str, list[Dropped]] | None = None) -> str:
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
    if previous and dropped is not None:
        lines += _dropped_md(previous, dropped)
    return "\n".join(lines) + "\n"


def write_specs(wheel: Path, specs_dir: Path, pin: WheelPin = CURRENT, previous: WheelPin | None = PREVIOUS,
                log=print, services: tuple[str, ...] = SERVICES, previous_wheel: Path | None = None
                ) -> dict[str, int]:
    """Convert every service in `wheel` into `specs_dir`; returns the operations written per service.

    With `previous_wheel` (the `previous` pin's file), an operation its models had and the new ones
    do not is kept when `specs_dir/recorded_routes.json` shows real traffic to it (see _restore).
    Nothing is written unless every service converts.
    """
    models, license_text = read_models(wheel, pin, services)
    old_models = read_models(previous_wheel, previous, services)[0] if previous and previous_wheel else None
    routes = read_routes(specs_dir)
    texts: dict[str, str] = {}
    written: dict[str, tuple[int, str]] = {}
    dropped: dict[str, list[Dropped]] = {}
    for svc in services:
        doc = convert_service(models[svc])
        if old_models:
            try:
                dropped[svc] = restore_dropped(doc, convert_service(old_models[svc]), routes.get(svc, []),
                                               previous.file)
            except ValueError as exc:
                raise ModelError(f"{svc}: {exc}") from exc
        texts[svc] = dump_yaml(doc)
        written[svc] = (count_operations(doc), hashlib.sha256(texts[svc].encode()).hexdigest())
    specs_dir.mkdir(parents=True, exist_ok=True)
    for svc in services:
        target = specs_dir / f"{svc}.yaml"
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(texts[svc])
        tmp.replace(target)
        in_models = sum(m.operation_count for m in models[svc])
        kept = [d for d in dropped.get(svc, ()) if d.evidence]
        also = f", plus {len(kept)} kept from {previous.file}" if old_models else ""
        log(f"specs: {svc}: wrote {written[svc][0]} operations (of {in_models} in models "
            f"{', '.join(f'v{m.version}' for m in models[svc])}{also}) -> {target}")
        if old_models:
            gone = [d for d in dropped[svc] if not d.evidence and not d.moved_to]
            moved = len(dropped[svc]) - len(kept) - len(gone)
            log(f"specs: {svc}: {len(dropped[svc])} operations of {previous.file} are not in the new models: "
                f"{len(kept)} kept on recorded evidence ({', '.join(sorted({d.evidence for d in kept})) or '-'}), "
                f"{moved} moved to another path, "
                f"{len(gone)} dropped ({', '.join(f'{d.method} {d.path}' for d in gone) or '-'})")
    (specs_dir / "SOURCES.md").write_text(_sources_md(pin, previous, models, written,
                                                      dropped if old_models else None))
    (specs_dir / LICENSE_FILE).write_text(license_text)
    total = sum(c for c, _ in written.values())
    log(f"specs: wrote {total} operations in {len(services)} specs from {pin.name}=={pin.version}")
    if old_models:
        every = [d for ds in dropped.values() for d in ds]
        kept = sum(1 for d in every if d.evidence)
        gone = sum(1 for d in every if not d.evidence and not d.moved_to)
        log(f"specs: of {len(every)} operations of {previous.file} not in the new models, kept {kept} on recorded "
            f"traffic ({ROUTES_FILE}), {len(every) - kept - gone} moved, {gone} dropped (see SOURCES.md)")
    return {svc: c for svc, (c, _) in written.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make specs", description=__doc__)
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    parser.add_argument("--wheel", type=Path, help="use this wheel file instead of downloading (sha256 still checked)")
    parser.add_argument("--previous-wheel", type=Path, help="the same for the PREVIOUS pin")
    parser.add_argument("--sdk-source", type=Path,
                        help="an unpacked zscaler-sdk-python sdist's zscaler/ directory instead of downloading it")
    parser.add_argument("--recorded-dir", type=Path, default=Path("tests/recorded"))
    args = parser.parse_args(argv)
    wheels = []
    for given, pin in ((args.wheel, CURRENT), (args.previous_wheel, PREVIOUS)):
        if given:
            check_pin(given, pin)
        wheels.append(given or fetch_wheel(args.cache_dir, pin))
    try:
        write_specs(wheels[0], args.specs_dir, previous_wheel=wheels[1])
        from ._graphql import write_graphql_specs
        from ._source_specs import fetch_sdk_source, write_source_specs

        sdk_root = args.sdk_source or fetch_sdk_source(args.cache_dir)
        write_source_specs(sdk_root, args.specs_dir, args.recorded_dir)
        write_graphql_specs(sdk_root, args.specs_dir)
    except (ModelError, ValueError, KeyError) as exc:
        print(f"specs: {exc}; specs/ left untouched", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The names Zscaler's own SDK gives each operation, as data for search (`make sdk-names`).

An administrator names an object the way the console does ("app connector groups"); the API path may use
another word (`/appConnectorGroup`, `/assistantGroup`) and our operationIds a third. Zscaler's stable SDK
(`zscaler-sdk-python`, MIT) names each call as its users know it: `client.zpa.app_connector_groups
.list_connector_groups()`, documented as the "App Connector Groups interface", with a docstring whose first
sentence says what it does. This module reads that source (`_sdk_source.read_api_calls`, with `ast`; nothing
is imported), matches each SDK method to our operation by HTTP method and path template, and writes
`specs/sdk_names.json`: operation key ("METHOD path", a GraphQL operation adds its name) -> the SDK's method
names, accessor, interface title and first docstring sentence. `make generate` ships it in the package, where
search reads it on the first search (oneapi_mcp/_search_sdk.py).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ._load import iter_operations
from ._recorded import template_key
from ._sdk_source import SdkAccessor, SdkCall, read_api_calls
from ._source_specs import RELEASE

__all__ = ["NAMES_FILE", "SdkMatch", "clear_copied_titles", "listing_names", "main", "match_calls", "read_operations",
           "sdk_names", "sdk_packages"]

NAMES_FILE = "sdk_names.json"


@dataclass(frozen=True)
class SdkMatch:
    """What matching one service's SDK calls gave: operation key -> its calls, and the calls that matched none."""

    matched: dict[str, list[SdkCall]]
    unmatched: list[SdkCall]


def sdk_packages(specs_dir: Path) -> dict[str, str]:
    """Our service (spec file stem) -> its package in the SDK's `zscaler/` directory."""
    from ._convert_source import SOURCE_SERVICES

    return {spec.stem: SOURCE_SERVICES[spec.stem].package if spec.stem in SOURCE_SERVICES else spec.stem
            for spec in sorted(specs_dir.glob("*.yaml"))}


def read_operations(spec: Path) -> list[tuple[str, str, str, str | None]]:
    """(key, METHOD, path, GraphQL operation name) of each operation of a spec, variants included once."""
    doc = yaml.load(spec.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[str, tuple[str, str, str, str | None]] = {}
    for path, method, _, op, _, _ in iter_operations(doc):
        name = (op.get("x-oneapi-graphql") or {}).get("name")
        key = f"{method.upper()} {path} {name}" if name else f"{method.upper()} {path}"
        out.setdefault(key, (key, method.upper(), path, name))
    return list(out.values())


def _shape(path: str) -> str:
    """A path as matching compares it: parameter names erased, case and a trailing slash ignored."""
    return template_key(path).rstrip("/").lower()


def match_calls(operations: list[tuple[str, str, str, str | None]], calls: list[SdkCall]) -> SdkMatch:
    """Each SDK call to the operation with the same method and path template. A call's path that is the tail of
    one operation's path only (the SDK's base path leaves out a prefix the gateway adds) matches that one."""
    exact: dict[tuple[str, str, str | None], str] = {}
    for key, method, path, graphql in operations:
        exact.setdefault((method, _shape(path), graphql), key)
    matched: dict[str, list[SdkCall]] = {}
    unmatched: list[SdkCall] = []
    for call in calls:
        shape = _shape(call.path)
        key = exact.get((call.method, shape, call.graphql))
        if key is None and shape:
            tails = {k for (m, p, g), k in exact.items() if m == call.method and g == call.graphql
                     and shape.startswith("/") and p.endswith(shape) and shape.count("/") > 1}
            key = tails.pop() if len(tails) == 1 else None
        if key is None:
            unmatched.append(call)
        else:
            matched.setdefault(key, []).append(call)
    return SdkMatch(matched, unmatched)


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(?:\s|$)", text)
    return (m.group(1) if m else text).strip()


def _entry(calls: list[SdkCall]) -> dict:
    """One operation's names: every SDK method that sends it, the files of their resource clients (see
    `resources`) and the first docstring sentence of the first of them."""
    summaries = list(dict.fromkeys(s for s in (_first_sentence(c.summary) for c in calls) if s))
    return {"functions": sorted({c.function for c in calls}), "files": sorted({c.file for c in calls}),
            "summary": summaries[0] if summaries else ""}


def _resource(cls: str, accessors: dict[str, SdkAccessor]) -> dict:
    accessor = accessors.get(cls)
    return {"class": cls, "accessor": accessor.name if accessor else "", "title": accessor.title if accessor else ""}


def _fit(accessor: str, title: str) -> int:
    """How well a documented title names a resource client: the same letters (cloudappcontrol, "Cloud App
    Control"), else the words they share."""
    def squeeze(text: str) -> str:
        return re.sub(r"[^a-z]", "", text.lower()).removesuffix("s")

    if squeeze(accessor) == squeeze(title):
        return 100
    return len({w.rstrip("s") for w in accessor.lower().split("_")} & {w.rstrip("s") for w in title.lower().split()})


def clear_copied_titles(resources: dict[str, dict]) -> dict[str, dict]:
    """A title documented for several resource clients of one package is kept only for the one(s) it fits best: the
    others' docstrings were copied (zia/sub_clouds.py is documented as the "Workload Groups interface")."""
    claims: dict[tuple[str, str], list[str]] = {}
    for file, r in resources.items():
        if r["title"]:
            claims.setdefault((file.split("/", 1)[0], r["title"]), []).append(file)
    out = dict(resources)
    for (_, title), files in claims.items():
        best = max(_fit(resources[f]["accessor"], title) for f in files)
        for f in files:
            if _fit(resources[f]["accessor"], title) < best:
                out[f] = {**resources[f], "title": ""}
    return out


def sdk_names(sdk_root: Path, specs_dir: Path) -> tuple[dict, dict[str, SdkMatch]]:
    """The document `specs/sdk_names.json` holds, and each service's match (for the report)."""
    services: dict[str, dict] = {}
    resources: dict[str, dict] = {}
    matches: dict[str, SdkMatch] = {}
    for service, package in sdk_packages(specs_dir).items():
        if not (sdk_root / package).is_dir():
            continue
        calls, accessors = read_api_calls(sdk_root, package)
        match = match_calls(read_operations(specs_dir / f"{service}.yaml"), calls)
        matches[service] = match
        services[service] = {key: _entry(found) for key, found in sorted(match.matched.items())}
        for call in (c for found in match.matched.values() for c in found):
            resources.setdefault(call.file, _resource(call.cls, accessors))
    doc = {
        "description": f"The names Zscaler's SDK ({RELEASE}, sdist pinned in codegen/_source_specs.py; MIT, "
                       "licence in specs/LICENSE-zscaler-sdk-python.md) gives each operation: its methods, resource "
                       "client (accessor and documented title) and the first sentence of the method's docstring, "
                       "matched by HTTP method and path template. Written by `make sdk-names`, read by search.",
        "source": RELEASE,
        "unmatched_sdk_calls": {s: len(m.unmatched) for s, m in matches.items()},
        "resources": dict(sorted(clear_copied_titles(resources).items())),
        "services": services,
    }
    return doc, matches


def listing_names(path: Path) -> dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]:
    """For `--tools-mode full` (codegen/_listing.py): service -> operation key -> (the documented titles of its
    resource clients, its SDK calls as `accessor.method`). Empty when there is no file."""
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    files = doc["resources"]
    out: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for service, operations in doc["services"].items():
        for key, entry in operations.items():
            titles = tuple(dict.fromkeys(files[f]["title"] for f in entry["files"] if files[f]["title"]))
            accessors = [files[f]["accessor"] for f in entry["files"] if files[f]["accessor"]]
            calls = tuple(f"{accessors[0]}.{fn}" if len(accessors) == 1 else fn for fn in entry["functions"])
            out.setdefault(service, {})[key] = (titles, calls)
    return out


def dumps(doc: dict) -> str:
    """Sorted, one operation or resource a line (a reviewable diff when the SDK moves)."""
    def compact(value: object) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    def table(rows: dict, indent: str) -> list[str]:
        items = [f'{indent}{compact(k)}: {compact(v)}' for k, v in sorted(rows.items())]
        return [line + ("," if n < len(items) - 1 else "") for n, line in enumerate(items)]

    lines = ["{"]
    for key in ("description", "source", "unmatched_sdk_calls"):
        lines.append(f' {compact(key)}: {compact(doc[key])},')
    lines += [' "resources": {', *table(doc["resources"], "  "), " },", ' "services": {']
    services = sorted(doc["services"].items())
    for n, (service, operations) in enumerate(services):
        end = "  }" + ("," if n < len(services) - 1 else "")
        lines += [f"  {compact(service)}: {{", *table(operations, "   "), end]
    return "\n".join([*lines, " }", "}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sdk-names", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdk", type=Path, help=f"the unpacked sdist's zscaler/ directory (default: {RELEASE}, "
                                                 "fetched like `make specs` does)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    parser.add_argument("--verbose", action="store_true", help="list each SDK call that matches no operation")
    args = parser.parse_args(argv)
    if args.sdk is None:
        from ._source_specs import fetch_sdk_source

        args.sdk = fetch_sdk_source(args.cache_dir)
    if not (args.sdk / "zia").is_dir():
        parser.error(f"--sdk {args.sdk} is not the SDK's zscaler/ directory (no zia/ inside)")
    if not (args.specs_dir / "zia.yaml").is_file():
        parser.error(f"--specs-dir {args.specs_dir} holds no specs (no zia.yaml)")
    doc, matches = sdk_names(args.sdk, args.specs_dir)
    target = args.specs_dir / NAMES_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(dumps(doc))
    tmp.replace(target)
    for service, match in matches.items():
        operations = len(read_operations(args.specs_dir / f"{service}.yaml"))
        print(f"sdk-names: {service}: {len(match.matched)} of {operations} operations named, "
              f"{len(match.unmatched)} SDK calls match no operation")
        for call in match.unmatched if args.verbose else ():
            print(f"    {call.method} {call.path} {call.graphql or ''} ({call.file} {call.function})")
    print(f"sdk-names: -> {target}")
    return 0

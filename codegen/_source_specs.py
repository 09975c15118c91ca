"""`make specs` for the services converted from the SDK's hand-written source (see _convert_source).

Fetches the pinned sdist of `zscaler-sdk-python` with pip (or takes `--sdk-source`, an unpacked
`zscaler/` directory), writes `specs/<svc>.yaml` for each SOURCE_SERVICES entry and the per-operation
provenance section of `specs/SOURCES.md` (everything after `SECTION`, rewritten each run).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ._convert import count_operations
from ._convert_source import SOURCE_SERVICES, convert_source_service

__all__ = ["SDIST", "SECTION", "fetch_sdk_source", "write_source_specs"]

SDIST = ("zscaler-sdk-python", "1.11.3")
# pinned like the wheel (codegen/_sources.py): a re-published file cannot change the specs
SDIST_SHA256 = "7dcd6617a0d48766d9cd0243b8453997051002d08e21b6b991fbb00a4cd97003"
RELEASE = f"{SDIST[0]}=={SDIST[1]}"
SECTION = "## Services converted from the SDK's hand-written source"


def fetch_sdk_source(cache_dir: Path) -> Path:
    """Download the sdist with pip (once) and unpack it; returns its `zscaler/` directory."""
    name, version = SDIST
    target = cache_dir / f"{name.replace('-', '_')}-{version}"
    if not (target / "zscaler").is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "--dest", tmp], check=True)
            archive = next(Path(tmp).glob("*.tar.gz"))
            digest = hashlib.sha256(archive.read_bytes()).hexdigest()
            if digest != SDIST_SHA256:
                raise SystemExit(f"{archive.name}: sha256 {digest} is not the pinned {SDIST_SHA256}; "
                                 "refusing to convert an unexpected sdist")
            with tarfile.open(archive) as tar:
                tar.extractall(cache_dir, filter="data")
    return target / "zscaler"


def _section(docs: dict[str, dict], texts: dict[str, str]) -> str:
    lines = [
        SECTION, "",
        f"Zscaler ships no machine-readable model for these services; its SDK `{RELEASE}` (sdist sha256",
        f"`{SDIST_SHA256}`, pinned in `codegen/_source_specs.py`; MIT, the licence beside this file)",
        "implements them by hand. `codegen/_sdk_source.py` reads that source with `ast` (the HTTP method, the",
        "formatted `api_url`, documented and assigned query parameters, the body, the model class the answer is",
        "read into and the `config[...]` fields of each model class); `codegen/_convert_source.py` writes the",
        "OpenAPI document and widens it by the recorded real traffic (`tests/recorded/<svc>.jsonl`): fields and",
        "query parameters only a recording shows carry `x-oneapi-evidence` naming the cassette.", "",
        "| service | spec | operations | sha256 of the spec |", "|---|---|---|---|",
    ]
    for svc, doc in docs.items():
        digest = hashlib.sha256(texts[svc].encode()).hexdigest()
        lines.append(f"| {SOURCE_SERVICES[svc].short} | `{svc}.yaml` | {count_operations(doc)} | `{digest}` |")
    lines += ["", "Per operation (file and line in the SDK source of the release above):", "",
              "| service | method | path | operationId | source |", "|---|---|---|---|---|"]
    for svc, doc in docs.items():
        for path, item in doc["paths"].items():
            for method, op in item.items():
                source = op["x-oneapi-source"].split(" ", 1)[1]
                lines.append(f"| {svc} | {method.upper()} | `{path}` | {op['operationId']} | `{source}` |")
    skipped = [(svc, s) for svc, doc in docs.items() for s in doc.get("x-oneapi-not-converted", ())]
    if skipped:
        lines += ["", "Not converted (listed in the spec as `x-oneapi-not-converted`):", "",
                  "| service | method | path | source | why |", "|---|---|---|---|---|"]
        lines += [f"| {svc} | {s['method']} | `{s['path']}` | `{s['source']}` | {s['why']} |" for svc, s in skipped]
    return "\n".join(lines) + "\n"


def write_source_specs(sdk_root: Path, specs_dir: Path, recorded_dir: Path | None, log=print) -> dict[str, int]:
    from ._make_specs import dump_yaml

    docs = {svc: convert_source_service(sdk_root, svc, RELEASE, recorded_dir) for svc in sorted(SOURCE_SERVICES)}
    texts = {svc: dump_yaml(doc) for svc, doc in docs.items()}
    for svc, text in texts.items():
        target = specs_dir / f"{svc}.yaml"
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(text)
        tmp.replace(target)
        log(f"specs: {svc}: wrote {count_operations(docs[svc])} operations from {RELEASE} zscaler/"
            f"{SOURCE_SERVICES[svc].package}/ -> {target}")
    sources = specs_dir / "SOURCES.md"
    head = sources.read_text().split(SECTION, 1)[0].rstrip("\n") if sources.exists() else "# Where the specs come from"
    sources.write_text(head + "\n\n" + _section(docs, texts))
    return {svc: count_operations(doc) for svc, doc in docs.items()}

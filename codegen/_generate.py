"""`make generate`: specs/ (+ overlays, + name lock) -> generated/ (`make check-generated`: _check).

Runs load -> parse -> render per service, skips services whose inputs did not change (their fingerprint) and
whose files are those of their manifest, renders into a scratch directory and swaps the result into place only
when every service succeeded, formats with ruff, and prints the tool-surface diff against the snapshots.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ._ir import Problem, Service, SpecError
from ._manifest import manifest_differences, write_manifest
from ._naming import NameLock

__all__ = ["LOCK_FILE", "GenerateResult", "copy_shipped", "generate", "generator_fingerprint", "main",
           "merged_lock", "parse_services", "render_tree", "service_fingerprints", "service_names", "stale_reason"]

LOCK_FILE = "names.lock.json"
_CODEGEN_DIR = Path(__file__).parent
# What the output depends on besides the specs (audited for issue 16; tests/test_check_generated.py checks the
# first list against codegen's imports): the runtime modules the generator imports (tokens and stems in listed
# descriptions, the secret-name rule) and the tools that load, check, render and format it, with Python's version.
_RUNTIME_MODULES = ("oneapi_mcp._redact", "oneapi_mcp._vocabulary")
_TOOLS = ("datamodel-code-generator", "jinja2", "jsonpath-ng", "openapi-spec-validator", "pydantic", "pyyaml", "ruff")


@dataclass(frozen=True)
class GenerateResult:
    generated: tuple[str, ...]  # services rendered this run
    skipped: tuple[str, ...]  # services whose inputs had not changed
    stats: tuple  # RenderStats per rendered service
    warnings: tuple[Problem, ...]
    seconds: float


def _update(h, name: str, data: bytes) -> None:
    """One named, length-prefixed record: no two different sets of inputs hash alike."""
    h.update(f"{name}\0{len(data)}\0".encode())
    h.update(data)


def generator_fingerprint() -> str:
    """Everything besides a service's own inputs that decides its output: our code (codegen/ and the runtime
    modules it imports), the tools' versions and Python's."""
    h = hashlib.sha256()
    for path in sorted(_CODEGEN_DIR.rglob("*")):
        if path.suffix in (".py", ".j2") and "__pycache__" not in path.parts:
            _update(h, path.relative_to(_CODEGEN_DIR).as_posix(), path.read_bytes())
    for module in _RUNTIME_MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, module
        _update(h, module, Path(spec.origin).read_bytes())
    for dist in _TOOLS:
        try:
            _update(h, dist, importlib.metadata.version(dist).encode())
        except importlib.metadata.PackageNotFoundError:
            _update(h, dist, b"missing")
    _update(h, "python", f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return h.hexdigest()


def _service_fingerprint(spec: Path, overlay: Path, lock_entries: dict[str, str], gen_fp: str) -> str:
    h = hashlib.sha256(gen_fp.encode())
    _update(h, "spec", spec.read_bytes())
    from ._load import overlay_files

    for file in overlay_files(overlay):
        _update(h, file.name, file.read_bytes())
    # console names and the SDK's names are in every listed description
    for label, shared in (("vocabulary", overlay.parent / "vocabulary.yaml"),
                          ("sdk_names", overlay.parent.parent / "sdk_names.json")):
        if shared.exists():
            _update(h, label, shared.read_bytes())
    _update(h, "lock", NameLock.dumps(lock_entries).encode())
    return h.hexdigest()


def service_fingerprints(specs: Path, lock: NameLock, services: list[str] | None = None) -> dict[str, str]:
    """Each service's fingerprint with the lock's entries as they are."""
    gen_fp = generator_fingerprint()
    return {svc: _service_fingerprint(specs / f"{svc}.yaml", specs / "overlays" / f"{svc}.yaml",
                                      _lock_entries(lock, svc), gen_fp)
            for svc in (services if services is not None else service_names(specs))}


def service_names(specs: Path) -> list[str]:
    names = sorted(p.stem for p in specs.glob("*.yaml"))
    if not names:
        raise SpecError([Problem("error", str(specs), "", "no *.yaml specs found")])
    return names


def stale_reason(out: Path, service: str, fingerprint: str) -> str | None:
    """Why out/<service> must be generated again, or None: its recorded fingerprint is `fingerprint` and its
    files are exactly those its manifest lists."""
    recorded = _recorded_fingerprint(out, service)
    if recorded is None:
        return "not generated"
    if recorded != fingerprint:
        return "its inputs changed"
    differences = manifest_differences(out / service)
    return "; ".join(differences[:3]) + (" ..." if len(differences) > 3 else "") if differences else None


def _recorded_fingerprint(generated: Path, service: str) -> str | None:
    init = generated / service / "__init__.py"
    if not init.exists():
        return None
    m = re.search(r'^FINGERPRINT = "([0-9a-f]+)"', init.read_text(), re.M)
    return m.group(1) if m else None


def _lock_entries(lock: NameLock, service: str) -> dict[str, str]:
    prefix = f"{service} "
    return {k: v for k, v in lock.entries.items() if k.startswith(prefix)}


def _ruff_format(directory: Path) -> None:
    from ._render import LINE_LENGTH

    ruff = Path(sys.executable).parent / "ruff"
    cmd = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    subprocess.run([*cmd, "format", "--isolated", "--line-length", str(LINE_LENGTH), "--quiet", str(directory)],
                   check=True)


def _render_job(service: Service, out: str, fingerprint: str):
    from ._render import render_service

    started = time.perf_counter()
    stats = render_service(service, Path(out), fingerprint)
    return stats, time.perf_counter() - started


def _package_init(services: list[str]) -> str:
    return (
        "# Generated by oneapi-mcp codegen (`make generate`). Do not edit.\n"
        '"""The generated tool surface: one subpackage per OneAPI service."""\n\n'
        f"SERVICES = {tuple(services)!r}\n"
    )


_TABLE_HEAD = '''# Generated by oneapi-mcp codegen (`make generate`). Do not edit.
"""The services table: one row per OneAPI service, gathered from the specs' top-level keys
(`info.title`, `x-oneapi-short-name`, `x-oneapi-base-paths`, `x-oneapi-rate-classes`,
`x-oneapi-rate-limit-headers`, `x-oneapi-probe`). Everything that lists services reads it, so a new
spec needs no hand-kept list. Cheap to import: no tool tables are loaded. The rows' behaviour is in
oneapi_mcp/_service_row.py."""

from __future__ import annotations

from oneapi_mcp._service_row import ServiceRow, service_under

__all__ = ["SERVICES", "ServiceRow", "service_for_path"]


def service_for_path(path: str) -> str | None:
    """The service whose operations live under `path`'s first segment."""
    return service_under(SERVICES, path)


'''


def _read_info(init: Path) -> dict:
    import ast

    tree = ast.parse(init.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "INFO" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SpecError([Problem("error", str(init), "", "no INFO row; run `make generate --force`")])


def _services_table(rows: list[dict]) -> str:
    body = "".join(f"    {row['name']!r}: ServiceRow({', '.join(f'{k}={v!r}' for k, v in row.items())}),\n"
                   for row in sorted(rows, key=lambda r: r["name"]))
    return _TABLE_HEAD + "SERVICES: dict[str, ServiceRow] = {\n" + body + "}\n"


def generate(
    specs: Path,
    out: Path,
    *,
    force: bool = False,
    lock_path: Path | None = None,
    log=print,
    jobs: int | None = None,
    validate: bool = True,
) -> GenerateResult:
    """Generate `out` from `specs`. Raises SpecError (and leaves `out` untouched) on any spec error."""
    started = time.perf_counter()
    lock_path = lock_path or specs / LOCK_FILE
    lock = NameLock.read(lock_path)
    services = service_names(specs)
    todo: list[str] = []
    skipped: list[str] = []
    for svc, fp in service_fingerprints(specs, lock, services).items():
        reason = "forced" if force else stale_reason(out, svc, fp)
        if reason is None:
            skipped.append(svc)
            log(f"generate: {svc}: unchanged (fingerprint {fp[:12]}, files as in its manifest), skipped")
        else:
            todo.append(svc)
            if not force:
                log(f"generate: {svc}: {reason}")

    parsed, new_entries, warnings = parse_services(specs, todo, lock, validate=validate, log=log)
    final_lock = merged_lock(lock, new_entries)
    stats: list = []
    if parsed:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".generate-", dir=out.parent) as scratch:
            scratch_path = Path(scratch)
            stats = render_tree(scratch_path, specs, parsed, new_entries, services, out, jobs=jobs, log=log)
            # swap: only now is `out` touched
            out.mkdir(parents=True, exist_ok=True)
            old = scratch_path / ".old"
            old.mkdir()
            for s in parsed:
                target = out / s.name
                if target.exists():
                    target.rename(old / s.name)
                (scratch_path / s.name).rename(target)
            os.replace(scratch_path / "__init__.py", out / "__init__.py")
            os.replace(scratch_path / "services.py", out / "services.py")
    for stale in sorted(p for p in out.iterdir() if p.is_dir() and p.name not in services
                        and not p.name.startswith((".", "_"))) if out.exists() else ():
        shutil.rmtree(stale)
        log(f"generate: removed {stale} (its spec is gone)")
    copy_shipped(specs, out)
    lock_text = NameLock.dumps(final_lock)
    if not lock_path.exists() or lock_path.read_text() != lock_text:
        tmp = lock_path.with_suffix(".tmp")
        tmp.write_text(lock_text)
        os.replace(tmp, lock_path)
    return GenerateResult(tuple(s.name for s in parsed), tuple(skipped), tuple(stats), warnings,
                          time.perf_counter() - started)


def parse_services(specs: Path, names: list[str], lock: NameLock, *, validate: bool = True, log=print,
                   ) -> tuple[list[Service], dict[str, dict[str, str]], tuple[Problem, ...]]:
    """Load and parse the named services: (services, each one's name-lock entries, warnings). Raises SpecError
    with every error of every service."""
    from ._load import load_spec
    from ._parse import parse_service
    from ._sdk_names import listing_names

    problems: list[Problem] = []
    parsed: list[Service] = []
    vocabulary = _read_vocabulary(specs / "overlays" / "vocabulary.yaml", problems) if names else None
    sdk = listing_names(specs / "sdk_names.json") if names else None
    new_entries: dict[str, dict[str, str]] = {}
    for name in names:
        t = time.perf_counter()
        loaded = load_spec(specs / f"{name}.yaml", specs / "overlays" / f"{name}.yaml", validate=validate)
        problems.extend(loaded.problems)
        if loaded.errors:
            continue
        service, parse_problems, assigned = parse_service(loaded, lock, vocabulary, sdk)
        problems.extend(parse_problems)
        if service is not None:
            parsed.append(service)
            new_entries[service.name] = lock.for_service(service.name, assigned)
            log(f"generate: {service.name}: loaded and parsed {len(service.operations)} operations "
                f"({time.perf_counter() - t:.1f} s)")
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise SpecError(errors)
    return parsed, new_entries, tuple(p for p in problems if p.level == "warning")


def merged_lock(lock: NameLock, new_entries: dict[str, dict[str, str]]) -> dict[str, str]:
    """The name lock after generating: each generated service's entries replaced by its new ones."""
    final_lock = dict(lock.entries)
    for svc, entries in new_entries.items():
        final_lock = {k: v for k, v in final_lock.items() if not k.startswith(f"{svc} ")}
        final_lock.update(entries)
    return final_lock


def render_tree(scratch: Path, specs: Path, parsed: list[Service], new_entries: dict[str, dict[str, str]],
                services: list[str], rows_from: Path, *, jobs: int | None = None, log=print) -> list:
    """Render `parsed` under `scratch` with the package's `__init__.py` and services table (the other services'
    rows read from `rows_from`), format it all and write each rendered service's manifest. Returns RenderStats."""
    gen_fp = generator_fingerprint()
    fingerprints = {s.name: _service_fingerprint(specs / s.spec_file, specs / "overlays" / s.spec_file,
                                                 new_entries[s.name], gen_fp) for s in parsed}
    stats = []
    workers = jobs or min(len(parsed), os.cpu_count() or 1, 4)
    ordered = sorted(parsed, key=lambda s: -len(s.operations))  # biggest first
    for st, secs in _rendered(ordered, scratch, fingerprints, workers):
        stats.append(st)
        log(f"generate: {st.service}: rendered {st.operations} tools, {st.files} files, "
            f"{st.lines:,} lines ({secs:.1f} s)")
    (scratch / "__init__.py").write_text(_package_init(services))
    rows = [_read_info((scratch if (scratch / svc).is_dir() else rows_from) / svc / "__init__.py")
            for svc in services]
    (scratch / "services.py").write_text(_services_table(rows))
    _ruff_format(scratch)
    for s in parsed:
        write_manifest(scratch / s.name)
    return stats


def _rendered(ordered: list[Service], scratch: Path, fingerprints: dict[str, str], workers: int):
    """(RenderStats, seconds) per service, in `ordered`'s order, from a process pool when there is work for two."""
    if workers <= 1:
        for s in ordered:
            yield _render_job(s, str(scratch), fingerprints[s.name])
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_render_job, s, str(scratch), fingerprints[s.name]) for s in ordered]
        for future in futures:
            yield future.result()


def _read_vocabulary(path: Path, problems: list[Problem]) -> dict | None:
    """specs/overlays/vocabulary.yaml (console words), or None when there is none; a broken one is an error."""
    import yaml

    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        problems.append(Problem("error", str(path), "", f"invalid YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem("error", str(path), "", "the vocabulary must be a mapping"))
        return None
    return data


# data search_operations reads, shipped in the package with the tools: console words (overlays/vocabulary.yaml),
# the names Zscaler's SDK gives each operation (sdk_names.json, `make sdk-names`) and the requests administrators
# wrote for each (search_examples.json, `make search-examples`)
_SHIPPED = ("overlays/vocabulary.yaml", "sdk_names.json", "search_examples.json")


def copy_shipped(specs: Path, out: Path) -> None:
    for name in _SHIPPED:
        source, target = specs / name, out / Path(name).name
        if source.exists() and (not target.exists() or target.read_bytes() != source.read_bytes()):
            out.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(source.read_bytes())
            os.replace(tmp, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description="oneapi-mcp generator")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="specs/ -> generated/ (skips unchanged services)")
    gen.add_argument("--force", action="store_true", help="regenerate every service")
    chk = sub.add_parser("check", help="fail when generated/ is stale against specs/")
    chk.add_argument("--full", action="store_true",
                     help="regenerate every service to compare, not only those whose fingerprint or files changed")
    snaps = sub.add_parser("toolsnaps", help="rewrite tests/__toolsnaps__ from generated/")
    for p in (gen, chk, snaps):
        p.add_argument("--specs", type=Path, default=Path("specs"))
        p.add_argument("--out", type=Path, default=Path("generated"))
        p.add_argument("--toolsnaps", type=Path, default=Path("tests/__toolsnaps__"))
    sub.add_parser("specs", help="download the SDK wheel and rewrite specs/ (needs the network)")
    sub.add_parser("recorded-routes", help="index recorded real traffic into specs/recorded_routes.json")
    sub.add_parser("graphql-specs", help="Z-Insights and ZMS GraphQL documents from the SDK source -> specs/")
    sub.add_parser("sdk-names", help="the names the SDK gives each operation -> specs/sdk_names.json")
    args, rest = parser.parse_known_args(argv)

    if args.command == "recorded-routes":
        from ._recorded import main as routes_main

        return routes_main(rest)

    if args.command == "sdk-names":
        from ._sdk_names import main as names_main

        return names_main(rest)

    if args.command == "graphql-specs":
        from ._graphql import main as graphql_main

        return graphql_main(rest)

    if args.command == "specs":
        from ._make_specs import main as specs_main

        return specs_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from ._surface import diff_surfaces, read_generated_surface, read_snapshots, write_snapshots

    if args.command == "toolsnaps":
        write_snapshots(args.toolsnaps, read_generated_surface(args.out))
        print(f"toolsnaps: wrote {args.toolsnaps}")
        return 0
    try:
        if args.command == "check":
            from ._check import check_generated

            return _report_check(check_generated(args.specs, args.out, full=args.full))
        result = generate(args.specs, args.out, force=args.force)
    except SpecError as exc:
        print(f"{args.command}: {len(exc.problems)} error(s); generated/ left untouched:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if result.warnings:
        print(f"generate: {len(result.warnings)} warning(s):")
        for w in result.warnings[:20]:
            print(f"  {w}")
    total_files = sum(s.files for s in result.stats)
    total_lines = sum(s.lines for s in result.stats)
    print(f"generate: {len(result.generated)} service(s) generated, {len(result.skipped)} unchanged; "
          f"{total_files} files, {total_lines:,} lines; {result.seconds:.1f} s")
    print(diff_surfaces(read_snapshots(args.toolsnaps), read_generated_surface(args.out)).render())
    return 0


def _report_check(stale: list[str]) -> int:
    if stale:
        print("check-generated: generated/ is stale against specs/; run `make generate`:", file=sys.stderr)
        for line in stale[:50]:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("check-generated: generated/ matches specs/")
    return 0

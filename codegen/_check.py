"""`make check-generated`: fail when generated/ or specs/names.lock.json is stale against specs/.

A service is regenerated (into a scratch tree) and compared file by file only when it may differ: its inputs'
fingerprint is not the one its `__init__.py` records, or its files are not those its manifest lists (a hand
edit, a file added or removed). The others are what generate would write again, since generate skips them on
the same grounds. The package's own files (`__init__.py`, the services table, the shipped search data) are rebuilt and
compared every time, and any other file is reported as unexpected. `full=True` (`make check-generated FULL=1`)
regenerates every service, as before issue 16.
"""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

from ._generate import (
    LOCK_FILE,
    copy_shipped,
    merged_lock,
    parse_services,
    render_tree,
    service_fingerprints,
    service_names,
    stale_reason,
)
from ._manifest import MANIFEST, service_files
from ._naming import NameLock

__all__ = ["check_generated"]


def _tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def check_generated(specs: Path, generated: Path, *, full: bool = False, log=print) -> list[str]:
    """What differs between `generated` and what `make generate` would write from `specs`: `missing`, `unexpected`
    and `stale` files, and the name lock if it would change. Raises SpecError when a spec it reads is broken."""
    lock_file = specs / LOCK_FILE
    lock = NameLock.read(lock_file)
    services = service_names(specs)
    reasons = {svc: "--full" if full else stale_reason(generated, svc, fp)
               for svc, fp in service_fingerprints(specs, lock, services).items()}
    todo = [svc for svc, reason in reasons.items() if reason]
    for svc in [] if full else todo:
        log(f"check-generated: {svc}: regenerating to compare ({reasons[svc]})")
    log(f"check-generated: {len(todo)} of {len(services)} service(s) regenerated to compare")
    parsed, new_entries, _ = parse_services(specs, todo, lock, log=lambda *_: None)
    with tempfile.TemporaryDirectory(prefix="oneapi-check-") as tmp:
        scratch = Path(tmp)
        render_tree(scratch, specs, parsed, new_entries, services, generated, log=lambda *_: None)
        copy_shipped(specs, scratch)
        regenerated = _tree(scratch)
        # a service left out was checked against its manifest: its files are exactly those listed
        trusted = {Path(svc, rel) for svc in services if svc not in todo
                   for rel in [*service_files(generated / svc), MANIFEST]}
        have = _tree(generated) if generated.exists() else set()
        problems = [f"missing {generated / rel}" for rel in sorted((regenerated | trusted) - have)]
        problems += [f"unexpected {generated / rel}" for rel in sorted(have - regenerated - trusted)]
        problems += [f"stale {generated / rel}" for rel in sorted(regenerated & have)
                     if not filecmp.cmp(scratch / rel, generated / rel, shallow=False)]
    if lock_file.exists() and NameLock.dumps(merged_lock(lock, new_entries)) != lock_file.read_text():
        problems.append(f"{lock_file} would change")
    return problems

"""Routes that recorded real traffic shows the API serving, and which path template each one hits.

The recordings are VCR cassettes of Zscaler's SDK integration tests against real tenants. `make
recorded-routes` indexes their 2xx interactions into `specs/recorded_routes.json` (method, path,
first cassette per service), so that `make specs` can weigh evidence without reading outside the repo.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ._sources import SERVICES

__all__ = ["ROUTES_FILE", "best_template", "index_recordings", "main", "read_routes", "template_key"]

ROUTES_FILE = "recorded_routes.json"

# The path prefix of each service's API; token calls (/oauth2/...) belong to no service.
_PREFIXES: dict[str, tuple[str, ...]] = {
    "zia": ("/zia/",), "zpa": ("/zpa/",), "zdx": ("/zdx/",), "zcc": ("/zcc/",), "zid": ("/ziam/",), "ztw": ("/ztw/",),
    "zins": ("/zins/",), "zms": ("/zms/",),  # GraphQL (codegen/_graphql.py); not in the SDK wheel's models
}
_VAR = re.compile(r"\{[^}]+\}")


def template_key(path: str) -> str:
    """A path template with its parameter names erased: `/a/{id}` and `/a/{roleId}` are one path."""
    return _VAR.sub("{}", path)


def _route_served(response: dict) -> bool:
    """A 2xx, or a 401/403 that the service itself answered with its JSON error body (e.g. ZIA's
    POST /adminRoles: 403 "Only super admins..." in zia/cassettes/TestAdminRoles.yaml): the route exists
    and refused this caller. A 404 or a bare gateway answer proves nothing."""
    status = int(response["status"]["code"])
    if 200 <= status < 300:
        return True
    if status not in (401, 403):
        return False
    try:
        body = json.loads((response.get("body") or {}).get("string") or "")
    except (TypeError, ValueError):
        return False
    return isinstance(body, dict) and bool(body.get("code") or body.get("message"))


def index_recordings(recorded: Path, services: tuple[str, ...] = (*SERVICES, "zins", "zms")
                     ) -> dict[str, list[dict]]:
    """Each service's recorded routes (2xx, or refused by the service itself): method, path (no query)
    and the first cassette that shows it."""
    out: dict[str, list[dict]] = {}
    for svc in services:
        seen: dict[tuple[str, str], str] = {}
        for cassette in sorted((recorded / svc / "cassettes").glob("*.yaml")):
            data = yaml.load(cassette.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
            for interaction in data.get("interactions") or ():
                if not _route_served(interaction["response"]):
                    continue
                path = urlsplit(interaction["request"]["uri"]).path
                if path.startswith(_PREFIXES[svc]):
                    key = (interaction["request"]["method"].upper(), path)
                    seen.setdefault(key, cassette.relative_to(recorded).as_posix())
        out[svc] = [{"method": m, "path": p, "evidence": e} for (m, p), e in sorted(seen.items())]
    return out


def read_routes(specs_dir: Path) -> dict[str, list[dict]]:
    """The committed index (empty when there is none: then no dropped operation has evidence)."""
    path = specs_dir / ROUTES_FILE
    return json.loads(path.read_text())["services"] if path.exists() else {}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join(("(.+)" if p.endswith("+}") else "([^/]+)") if p.startswith("{") else re.escape(p)
                              for p in parts) + "/?")


def _specificity(template: str) -> tuple[int, ...]:
    # literal segments beat parameters, left to right: /adminRoles/lite before /adminRoles/{id}
    return tuple(0 if "{" in seg else 1 for seg in template.strip("/").split("/"))


def best_template(method: str, path: str, templates: set[tuple[str, str]]) -> str | None:
    """The most specific (method, template) among `templates` that this recorded call matches."""
    matches = [t for m, t in templates if m == method and _pattern(t).fullmatch(path)]
    return max(matches, key=lambda t: (_specificity(t), t)) if matches else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make recorded-routes", description=__doc__)
    parser.add_argument("--recorded", type=Path, required=True, help="the recordings: <svc>/cassettes/*.yaml")
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    args = parser.parse_args(argv)
    if not args.recorded.is_dir():
        parser.error(f"--recorded {args.recorded} is not a directory of <svc>/cassettes/*.yaml")
    routes = index_recordings(args.recorded)
    doc = {
        "description": "2xx routes in Zscaler's recorded SDK integration traffic (VCR cassettes of real tenants, "
                       "zscaler/zscaler-sdk-python tests/integration/<svc>/cassettes, MIT); written by "
                       "`make recorded-routes`, read by `make specs`.",
        "services": routes,
    }
    target = args.specs_dir / ROUTES_FILE
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"recorded-routes: {sum(len(r) for r in routes.values())} routes "
          f"({', '.join(f'{s} {len(r)}' for s, r in routes.items())}) -> {target}")
    return 0

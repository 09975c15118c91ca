"""`make contract BASE_URL=...`: read-only contract checks against a real tenant, with a drift report.

Only operations that are both `read`-scoped and GET survive into the document schemathesis sees, so
no write (and no read-scoped POST such as an export job) can be sent: the filter is applied to the
document itself, not to the run. ZPA's `{customerId}` is filled from ZPA_CUSTOMER_ID. The GraphQL
services (Z-Insights, ZMS) send each of their queries, never a mutation (`_contract_graphql`). The checks are
schemathesis' response checks (status codes, content types, response schemas) against the specs plus
the known, documented corrections (`oneapi_mcp.mock.contract_document`): what fails is new drift
between the tenant and the vendored specs.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .generated.services import SERVICES as SERVICE_TABLE

__all__ = ["main", "read_only_document"]

SERVICES = tuple(SERVICE_TABLE)
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def read_only_document(doc: dict, *, customer_id: str | None = None) -> dict:
    """The spec with every operation removed except GETs whose scope is `read`."""
    out = copy.deepcopy(doc)
    paths: dict[str, dict] = {}
    for path, item in out.get("paths", {}).items():
        kept = {m: op for m, op in item.items()
                if m == "get" and isinstance(op, dict) and op.get("x-oneapi-scope") == "read"}
        if not kept:
            continue
        if customer_id and "{customerId}" in path:
            for op in kept.values():
                op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") != "customerId"]
            path = path.replace("{customerId}", customer_id)
        paths[path] = kept
    out["paths"] = paths
    return out


def _token(creds, base_url: str, token_url: str | None) -> str:
    import anyio
    import httpx

    from ._auth import OneAPIAuth

    if not token_url:
        raise SystemExit("contract: no token URL: set ZSCALER_VANITY_DOMAIN or --token-url")
    auth = OneAPIAuth(token_url, creds.client_id,
                      client_secret=lambda: creds.client_secret.get_secret_value() if creds.client_secret else None,
                      private_key=lambda: creds.private_key.get_secret_value() if creds.private_key else None)

    async def fetch() -> str:
        async with httpx.AsyncClient(auth=auth, timeout=30) as client:
            await client.get(base_url + "/zia/api/v1/status")  # any call makes the flow fetch a token
        return auth._token or ""

    token = anyio.run(fetch)
    if not token:
        raise SystemExit("contract: could not obtain a token")
    return token


def _graphql(svc: str, doc: dict, base_url: str, token: str, creds) -> bool:
    """One GraphQL service's queries against the tenant, printed; True when any drifted."""
    import httpx

    from ._contract_graphql import check_graphql_service

    url = base_url + SERVICE_TABLE[svc].base_paths[0]
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        found = check_graphql_service(svc, doc, client, url, {"zms_customer_id": creds.zms_customer_id})
    print(f"contract: {svc}: {len(found.checked)} GraphQL queries answered as declared, "
          f"{len(found.skipped)} skipped, {len(found.drift)} drifted (no mutation is sent)")
    for name, why in sorted(found.skipped.items()):
        print(f"  skipped {name}: {why}")
    for name, what in sorted(found.drift.items()):
        print(f"  DRIFT {name}: {what}")
    return bool(found.drift)


def main(argv: list[str] | None = None) -> int:
    from ._settings import Credentials, ServerSettings, oneapi_urls
    from .mock import contract_document

    parser = argparse.ArgumentParser(prog="make contract", description=__doc__)
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL"))
    parser.add_argument("--token-url", default=os.environ.get("TOKEN_URL"))
    parser.add_argument("--services", default=",".join(SERVICES))
    parser.add_argument("--max-examples", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.base_url:
        raise SystemExit("contract: set BASE_URL (and the ZSCALER_* credentials) to check a tenant; "
                         "without it, `make contract` runs the checks against the mock")
    creds = Credentials()
    missing = creds.missing(have_token_url=bool(args.token_url))
    if missing:
        raise SystemExit("contract: missing " + ", ".join(missing))
    base_url, token_url = oneapi_urls(creds, ServerSettings(base_url=args.base_url, token_url=args.token_url))
    token = _token(creds, base_url, token_url)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for svc in args.services.split(","):
            if svc == "zpa" and not creds.customer_id:
                print("contract: zpa skipped: ZPA_CUSTOMER_ID is not set")
                continue
            doc = contract_document(svc)  # the spec plus the documented wire-format corrections
            if SERVICE_TABLE[svc].kind == "graphql":
                failed += _graphql(svc, doc, base_url, token, creds)
                continue
            filtered = read_only_document(doc, customer_id=creds.customer_id)
            spec = Path(tmp) / f"{svc}.json"
            spec.write_text(json.dumps(filtered))
            count = sum(len(i) for i in filtered["paths"].values())
            print(f"contract: {svc}: {count} read-only GET operations against {base_url}")
            run = subprocess.run(
                [str(Path(sys.executable).parent / "st"), "run", str(spec), "--url", base_url,
                 "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--mode", "positive",
                 "--max-examples", str(args.max_examples), "--phases", "examples,fuzzing",
                 "--generation-database", "none", "--workers", "1"],
                text=True, capture_output=True)
            print(run.stdout.replace(token, "***"))
            failed += run.returncode != 0
    print("contract: no drift found" if not failed else f"contract: drift in {failed} service(s); see above")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

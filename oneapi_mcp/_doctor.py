"""`oneapi-mcp doctor`: settings, token, and per service reachability and entitlement, as pass/fail lines."""

from __future__ import annotations

import time
from typing import Any

from ._redact import scrub
from ._settings import Credentials, oneapi_urls
from .generated.services import SERVICES as SERVICE_TABLE

__all__ = ["PROBES", "run_doctor"]

# one cheap read per service: reachable, authenticated and entitled when it answers 2xx (the spec's
# x-oneapi-probe, through the services table)
PROBES = {name: (row.probe, row.probe_arguments) for name, row in SERVICE_TABLE.items() if row.probe}


def _say(text: str) -> None:
    """Every doctor line goes through `scrub`: a token endpoint or proxy that echoes the request must not
    put the client secret, in any encoding, on the terminal."""
    print(scrub(text))


def _line(ok: bool | None, what: str, detail: str) -> str:
    mark = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
    return f"  {mark}  {what:<22} {detail}"


async def run_doctor(args: Any, make_runtime, servers_of, mock_app_of) -> int:
    from ._compose import plugin_credentials
    from ._plugins import PluginError, get_plugin_manager

    creds = Credentials()
    mock_app = mock_app_of(args)
    failures = 0
    for name, settings in servers_of(args).items():
        _say(f"server {name} (profile {settings.profile}, timeout {settings.timeout:g} s)")
        if mock_app is None:
            try:  # as serve does: what the credentials plugins answer (a vault, the keyring, ...)
                current = plugin_credentials(get_plugin_manager().hook, settings) or creds
            except PluginError as exc:
                _say(_line(False, "credentials", str(exc)))
                failures += 1
                continue
            missing = current.missing(have_token_url=bool(settings.token_url))
            _say(_line(not missing, "credentials", "complete" if not missing else "missing " + ", ".join(missing)))
            if missing:
                _say("        set them in the environment, or run with --mock")
                failures += 1
                continue
            base, token_url = oneapi_urls(current, settings)
            _say(_line(True, "endpoints", f"API {base}; token {token_url}"))
        else:
            _say(_line(True, "credentials", "the mock's (obviously fake) client"))
        runtime = make_runtime(settings, creds, mock_app=mock_app)
        executor = runtime.executor()
        for service, (tool_name, arguments) in PROBES.items():
            if service == "zpa" and not runtime.customer_id_known:
                _say(_line(None, "zpa", "ZPA_CUSTOMER_ID is not set; ZPA tools cannot be called"))
                continue
            if service == "zms" and not runtime.zms_customer_id_known:
                _say(_line(None, "zms", "ZMS_CUSTOMER_ID is not set; ZMS tools need it, or customerId in each call"))
                continue
            tool = runtime.catalog.tools[tool_name]
            started = time.perf_counter()
            result = await executor.call(tool, dict(arguments))
            ms = (time.perf_counter() - started) * 1000
            if not result.is_error:
                _say(_line(True, service, f"reachable, authenticated, entitled ({ms:.0f} ms)"))
                continue
            failures += 1
            err = result.data.get("error", {})
            status = err.get("status")
            if status == 403:
                why = "not entitled: the API client has no role for this service (403)"
            elif status == 401:
                why = "authentication failed (401): check the client id and secret"
            else:
                why = err.get("message", "failed")
            _say(_line(False, service, why))
        await executor.client.aclose()
    _say("doctor: all checks passed" if not failures else f"doctor: {failures} check(s) failed")
    return 0 if not failures else 1

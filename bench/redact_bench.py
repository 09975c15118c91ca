"""Redaction figures for `make bench`: what the spec-driven secret field set costs at start-up, and what
scrubbing every encoding of the registered secrets costs per result. Nothing here asserts."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

PY = sys.executable


def _ms(fn, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _fresh_ms(code: str, runs: int = 7) -> float:
    def run(c: str) -> float:
        t = time.perf_counter()
        subprocess.run([PY, "-c", c], check=True, capture_output=True)
        return time.perf_counter() - t

    bare = statistics.median(run("import oneapi_mcp._redact") for _ in range(runs))
    return (statistics.median(run(code) for _ in range(runs)) - bare) * 1000


def main() -> None:
    from oneapi_mcp import _redact

    print("redaction")
    load = _fresh_ms("from oneapi_mcp import _redact\n_redact.spec_secret_fields()\n")
    print(f"  {'secret field names of every service (fresh interpreter)':<58} {load:>11.0f} ms  (no models)")
    _redact.register_secret("Ab+/=cd12==-fake-client-secret")
    for i in range(255):  # a long-running server's bearer tokens, up to the cap
        _redact.register_secret(f"eyJhbGciOiJSUzI1NiJ9.fake-token-{i:04d}." + "x" * 600)
    result = json.dumps([{"id": i, "name": f"dept {i}", "comments": "100% of R&D \\ ops"} for i in range(900)])
    per = _ms(lambda: _redact.scrub(result))
    print(f"  {f'scrub a {len(result) // 1000} KB result, 256 secrets registered':<58} {per:>11.2f} ms")
    arguments = {"body": {"name": "Branch", "vpnCredentials": [{"type": "UFQDN", "fqdn": "b@example.test",
                                                               "psk": "fake-psk-value"}]}}
    per = _ms(lambda: _redact.redact(arguments), runs=200)
    print(f"  {'redact one audit record arguments':<58} {per * 1000:>11.0f} us")
    _redact.forget_secrets()


if __name__ == "__main__":
    main()

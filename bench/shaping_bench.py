"""Figures for result shaping within limits: what the budgeted JMESPath interpreter costs over the
plain one, how fast hostile queries are stopped, and the bounded encoder against `json.dumps`.

Run: `.venv/bin/python bench/shaping_bench.py`. Prints; asserts nothing (shared, noisy machines).
Targets: a legitimate query on 10,000 users within 3x of plain jmespath; a hostile query stopped by
a named limit within 3 s (in a query thread: the event loop keeps serving); the cap on a value of
shared references within 0.2 s.
"""

from __future__ import annotations

import json
import statistics
import time

import jmespath

from oneapi_mcp import _shaping


def _median(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _stopped(query: str, data) -> str:
    try:
        _shaping.run_query(query, data)
    except _shaping.QueryLimit as exc:
        return exc.limit
    return "not stopped"


def main() -> None:
    users = [{"id": i, "name": f"user{i:05d}", "email": f"user{i}@example.test", "disabled": i % 7 == 0}
             for i in range(10_000)]
    print("legitimate queries on 10,000 users (plain jmespath / budgeted / ratio, target <= 3x)")
    for query in ("[?disabled].{id: id, name: name}", "sort_by(@, &email)[*].[id, name][]", "length(@)"):
        plain = _median(lambda q=query: jmespath.search(q, users))
        budgeted = _median(lambda q=query: _shaping.run_query(q, users))
        print(f"  {query:<44} {plain * 1000:8.1f} ms {budgeted * 1000:8.1f} ms {budgeted / plain:6.2f}x")

    small = users[:5]
    print("hostile queries (time to stop / the limit that stopped it, target <= 3 s)")
    for label, query, data in (
        ("{a:@,b:@}| x22", "|".join(["{a:@,b:@}"] * 22), small),
        ("join doubling x30", "join('', [@, @])|" * 30 + "@", "x"),
        ("flatten doubling x30", "[@, @][]|" * 30 + "length(@)", small),
    ):
        took = _median(lambda q=query, d=data: _stopped(q, d), runs=3)
        print(f"  {label:<44} {took * 1000:8.1f} ms  {_stopped(query, data)}")

    shared = small
    for _ in range(40):
        shared = {"a": shared, "b": shared}
    took = _median(lambda: _shaping.cap(shared, 60_000), runs=3)
    print(f"cap of 5 users doubled 40 times (60,000-byte cap, target <= 0.2 s): {took * 1000:.1f} ms")
    took = _median(lambda: _shaping.fits_within(shared, _shaping.MAX_RESULT_TEXT), runs=3)
    print(f"fits_within on the same value: {took * 1000:.2f} ms")

    plain = _median(lambda: json.dumps(users, separators=(",", ":")))
    bounded = _median(lambda: _shaping.encode_within(users, 10**9))
    print(f"encoding 10,000 users whole: json.dumps {plain * 1000:.1f} ms, encode_within {bounded * 1000:.1f} ms; "
          f"encode_within to 60,000 bytes: {_median(lambda: _shaping.encode_within(users, 60_000)) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

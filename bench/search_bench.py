"""`make bench` (search part): retrieval quality of search_operations on tests/search_benchmark.yaml and
its latency, plus the same requests over a plain search of the `--tools-mode full` listing text.

Prints hit@1, hit@5 and MRR for the tuned requests, the held-out ones (set aside while tuning) and the
blind ones (written after tuning ended), search p50/p95 over all requests with the index warm, and the index build time.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search import SearchIndex
from oneapi_mcp._search_eval import evaluate, full_listing_index, load_benchmark, parts

ROOT = Path(__file__).resolve().parent.parent


def _line(label: str, result: dict) -> None:
    print(f"  {label:<70} n={result['n']:<4} hit@1 {result['hit@1']:6.1%}  hit@5 {result['hit@5']:6.1%}  "
          f"MRR {result['mrr']:.3f}")


def bench_search() -> None:
    print("search_operations retrieval (tests/search_benchmark.yaml; targets hit@5 >= 95%, hit@1 >= 80%)")
    catalog = load_catalog()
    requests = load_benchmark(ROOT / "tests" / "search_benchmark.yaml", catalog)
    started = time.perf_counter()
    index = SearchIndex(catalog.tools.values(), areas={n: ts.description for n, ts in catalog.toolsets.items()})
    built_ms = (time.perf_counter() - started) * 1000
    plain = full_listing_index(catalog.tools.values())
    for label, idx in (("search_operations", index), ("plain BM25 over the full listing's text", plain)):
        def search(q, idx=idx):
            return [t.name for _, t in idx.search(q, limit=10)]
        for part, subset in (*parts(requests).items(), ("all", requests)):
            _line(f"{label}, {part}", evaluate(search, subset))
    times = []
    for _ in range(3):
        for r in requests:
            t = time.perf_counter()
            index.search(r.query, limit=10)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"  {'search latency p50 / p95 (target p50 < 20 ms)':<70} {statistics.median(times):7.2f} ms / "
          f"{times[int(len(times) * 0.95)]:.2f} ms")
    print(f"  {'index build (lazy, on the first search)':<70} {built_ms:7.0f} ms")


if __name__ == "__main__":
    bench_search()

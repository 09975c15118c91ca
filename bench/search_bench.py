"""`make bench` (search part): retrieval quality of search_operations on tests/search_benchmark.yaml and
its latency, plus the same requests over a plain search of the `--tools-mode full` listing text.

Prints hit@1, hit@5 and MRR for the tuned requests, the held-out ones (set aside while tuning) and the
blind ones (written after tuning ended), search p50/p95 over all requests with the index warm, and the index build time.
`--misses N` lists blind round N's misses by class; `--composites` measures search_operations with composite tools.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search import Ranking, SearchIndex
from oneapi_mcp._search_eval import (
    evaluate,
    first_measurements,
    full_listing_index,
    held_out,
    leave_one_round_out,
    load_benchmark,
    load_composite_benchmark,
    miss_class,
    parts,
)

ROOT = Path(__file__).resolve().parent.parent


def _line(label: str, result: dict) -> None:
    print(f"  {label:<70} n={result['n']:<4} hit@1 {result['hit@1']:6.1%}  hit@5 {result['hit@5']:6.1%}  "
          f"MRR {result['mrr']:.3f}")


def bench_search() -> None:
    print("search_operations retrieval (tests/search_benchmark.yaml; targets hit@5 >= 95%, hit@1 >= 80%)")
    catalog = load_catalog()
    requests = load_benchmark(ROOT / "tests" / "search_benchmark.yaml", catalog)
    started = time.perf_counter()
    index = SearchIndex.for_catalog(catalog)
    built_ms = (time.perf_counter() - started) * 1000
    plain = full_listing_index(catalog.tools.values())
    # every request is an example of its operations (_search_examples.py): each is searched with its round's left out
    answers = held_out(lambda n: SearchIndex.for_catalog(catalog, leave_out=n), requests)
    for label, search in (("search_operations (its round's examples left out)", answers.__getitem__),
                          ("plain BM25 over the full listing's text",
                           lambda q: [t.name for _, t in plain.search(q, limit=10)])):
        for part, subset in (*parts(requests).items(), ("all", requests)):
            _line(f"{label}, {part}", evaluate(search, subset))
    _line("search_operations as shipped, all (every request an example: trained on)",
          evaluate(lambda q: [t.name for _, t in index.search(q, limit=10)], requests))
    bare = SearchIndex.for_catalog(catalog, examples=False)
    _line("search_operations without examples, all (the ranking's rules alone)",
          evaluate(lambda q: [t.name for _, t in bare.search(q, limit=10)], requests))
    _generalisation(catalog, answers, requests)
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
    _composite_requests(*_server_search())  # `--composites`: with the operations benchmark through the server


# the weights re-fitted per fold: the shipped ones and a step either side of each, one at a time
_STEPS = {"other_service": (0.12, 0.3), "hinted_other": (0.2, 0.45), "no_one_named": (0.65, 0.8),
          "coverage": (0.5, 0.8), "subject": (0.45, 0.75), "prior": (0.0, 2.0), "head": (0.15, 0.5),
          "family": (0.6, 0.9)}
_GRID = [Ranking(), *(Ranking(**{k: v}) for k, vs in _STEPS.items() for v in vs)]


def _changed(ranking: Ranking) -> str:
    changed = {k: v for k, v in vars(ranking).items() if v != getattr(Ranking(), k)}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "shipped weights"


def _generalisation(catalog, answers: dict[str, list[str]], requests: list) -> None:
    """Each blind round: its first measurement (before any change for it; the figure that says how search does
    on requests nobody has seen), today's figure, and leave-one-round-out (weights fitted on all other requests)."""
    print("  generalisation per blind round (hit@1 / hit@5): first measurement | today | leave-one-round-out")
    first = first_measurements(ROOT / "tests" / "search_benchmark.yaml")
    loro = leave_one_round_out(lambda n: SearchIndex.for_catalog(catalog, leave_out=n), requests, _GRID)
    rounds = parts(requests)
    for n, left in loro.items():
        now = evaluate(answers.__getitem__, rounds[f"blind round {n}"])
        f = first.get(n, {})
        was = f"{f['hit1']:6.1%} / {f['hit5']:6.1%}" if f else "   (not recorded)"
        print(f"    round {n} (n={left['n']:<3}) {was} | {now['hit@1']:6.1%} / {now['hit@5']:6.1%} | "
              f"{left['hit@1']:6.1%} / {left['hit@5']:6.1%}  ({_changed(left['ranking'])})")
    weights = [first[n] for n in loro if n in first]
    total = sum(w["n"] for w in weights) or 1
    hit1, hit5 = (sum(w[k] * w["n"] for w in weights) / total for k in ("hit1", "hit5"))
    print(f"    first measurements, weighted by round size {hit1:6.1%} / {hit5:6.1%}")


def misses_by_class(round_: int) -> None:
    """`python bench/search_bench.py --misses N`: blind round N's hit@1 and hit@5 misses by class, then each miss."""
    catalog = load_catalog()
    index = SearchIndex.for_catalog(catalog)
    rows = []
    for r in load_benchmark(ROOT / "tests" / "search_benchmark.yaml", catalog):
        if r.blind_round != round_:
            continue
        names = [t.name for _, t in index.search(r.query, limit=10)]
        rank = next((i for i, n in enumerate(names, 1) if n in r.want), None)
        if rank != 1:
            rows.append((miss_class(catalog, r.want, names[0] if names else None), rank, r.query))
    for label, kept in (("hit@1", rows), ("hit@5", [m for m in rows if m[1] is None or m[1] > 5])):
        print(f"round {round_} {label} misses: {len(kept)}", dict(Counter(c for c, _, _ in kept).most_common()))
    for cls, rank, query in sorted(rows, key=lambda m: (m[0], m[1] or 99)):
        print(f"  {cls:<30} {rank or '-':>3}  {query}")


def _composite_requests(runtime, surface, results) -> None:
    """The requests a composite tool answers (tests/search_composites.yaml), each round, through search_operations,
    with that round's requests left out of the composite tools' examples."""
    requests = load_composite_benchmark(ROOT / "tests" / "search_composites.yaml", surface.composites)
    first = first_measurements(ROOT / "tests" / "search_composites.yaml")
    shipped = runtime.index
    for n in sorted({r.blind_round for r in requests}):
        f = first.get(n, {})
        runtime._index = SearchIndex.for_catalog(runtime.catalog, leave_out_composites=n)
        _line(f"requests a composite tool answers, round {n} (first {f.get('hit1', 0):.1%} / {f.get('hit5', 0):.1%})",
              evaluate(lambda q: [x["name"] for x in results(q)], [r for r in requests if r.blind_round == n]))
    runtime._index = shipped


def _server_search():
    from oneapi_mcp.plugins.builtin.discovery_tools import search

    from oneapi_mcp._server import Runtime, build_server
    from oneapi_mcp._settings import ServerSettings

    runtime = Runtime(settings=ServerSettings(profile="admin"), executor_factory=lambda catalog: None)
    build_server(runtime)
    surface = runtime.surface

    def results(query: str) -> list[dict]:
        return search(surface, {"query": query, "limit": 10}).structured_content["results"]

    return runtime, surface, results


def composites_in_search() -> None:
    """`python bench/search_bench.py --composites`: search_operations as a server answers it (operations and composite
    tools together, admin profile): the benchmark's hit@1 / hit@5 that way, how often a composite tool lands in an
    operations request's top five, and how often a composite is found first by its own title or name."""
    runtime, surface, results = _server_search()
    requests = load_benchmark(ROOT / "tests" / "search_benchmark.yaml", runtime.catalog)
    shipped = runtime.index

    def fold(n: int):  # the operations' examples without round n's requests, the composite tools' all
        runtime._index = SearchIndex.for_catalog(runtime.catalog, leave_out=n)
        return runtime._index

    found = held_out(fold, requests, search=lambda _index, q: results(q))
    runtime._index = shipped
    _line("through search_operations (composite tools included; its round's examples left out), all",
          evaluate(lambda q: [x["name"] for x in found[q]], requests))
    _composite_requests(runtime, surface, results)
    among = sum(any(x.get("composite") for x in found[r.query][:5]) for r in requests)
    print(f"  a composite tool in the top five of an operations request: {among} of {len(requests)}")
    ranks = []
    for name, tool in surface.composites.items():
        for query in {tool.title or name, name.replace("_", " ")}:
            names = [x["name"] for x in results(query)]
            ranks.append(names.index(name) + 1 if name in names else None)
    print(f"  a composite tool found by its own title or name: first {sum(r == 1 for r in ranks)} of {len(ranks)}, "
          f"top five {sum(bool(r and r <= 5) for r in ranks)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--misses"]:
        misses_by_class(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--composites"]:
        composites_in_search()
    else:
        bench_search()

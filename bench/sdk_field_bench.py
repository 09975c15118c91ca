"""Fit the weights of search's SDK fields (oneapi_mcp/_search_sdk.py): the names Zscaler's SDK gives each operation
and its docstring's first sentence.

For each pair of weights on a grid, the index is rebuilt and every request of tests/search_benchmark.yaml ranked;
prints hit@1 / hit@5 over all requests and per blind round 6-9, then leave-one-round-out: for each blind round,
the pair that does best (MRR) on every other request, and what it scores on the round left out.

    .venv/bin/python bench/sdk_field_bench.py [--names 0,1,2] [--text 0,0.5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oneapi_mcp import _search
from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search_eval import load_benchmark

ROOT = Path(__file__).resolve().parent.parent
_ROUNDS = (6, 7, 8, 9)


def _ranks(catalog, requests, names: float, text: float) -> list[int | None]:
    fields = dict(_search._FIELDS)
    _search._FIELDS.update(sdk=(names, fields["sdk"][1]), sdk_text=(text, fields["sdk_text"][1]))
    try:
        index = _search.SearchIndex.for_catalog(catalog)
    finally:
        _search._FIELDS.update(fields)
    out = []
    for r in requests:
        found = [t.name for _, t in index.search(r.query, limit=10)]
        out.append(next((i for i, n in enumerate(found, 1) if n in r.want), None))
    return out


def _score(ranks: list[int | None]) -> tuple[float, float, float]:
    n = len(ranks) or 1
    return (sum(r == 1 for r in ranks) / n, sum(r is not None and r <= 5 for r in ranks) / n,
            sum(1 / r for r in ranks if r) / n)


def _fmt(ranks: list[int | None]) -> str:
    hit1, hit5, _ = _score(ranks)
    return f"{hit1:6.1%}/{hit5:6.1%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", default="0,0.5,1,1.5,2,3", help="weights of the SDK names field")
    parser.add_argument("--text", default="0,0.3,0.6,1", help="weights of the SDK docstring field")
    args = parser.parse_args(argv)
    grid = [(float(a), float(b)) for a in args.names.split(",") for b in args.text.split(",")]
    catalog = load_catalog()
    requests = load_benchmark(ROOT / "tests" / "search_benchmark.yaml", catalog)
    rounds = {n: [i for i, r in enumerate(requests) if r.blind_round == n] for n in _ROUNDS}
    print(f"{'names':>5} {'text':>5} | {'all':^13} | " + " | ".join(f"{'round ' + str(n):^13}" for n in _ROUNDS))
    ranks = {}
    for weights in grid:
        ranks[weights] = r = _ranks(catalog, requests, *weights)
        print(f"{weights[0]:5.2f} {weights[1]:5.2f} | {_fmt(r)} | "
              + " | ".join(_fmt([r[i] for i in rounds[n]]) for n in _ROUNDS), flush=True)
    print("leave-one-round-out (weights fitted on every other request, by MRR):")
    for n in sorted({r.blind_round for r in requests} - {0}):
        inside = {i for i, r in enumerate(requests) if r.blind_round == n}
        best = max(grid, key=lambda w: (_score([x for i, x in enumerate(ranks[w]) if i not in inside])[2],
                                        -w[0], -w[1]))
        print(f"  round {n}: names {best[0]}, text {best[1]} -> {_fmt([ranks[best][i] for i in sorted(inside)])}"
              f" (off: {_fmt([ranks[grid[0]][i] for i in sorted(inside)])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

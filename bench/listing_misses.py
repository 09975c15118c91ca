"""Where a client's own search over `--tools-mode full` misses what search_operations finds, by class (issue 15).

For every request of tests/search_benchmark.yaml that search_operations ranks right (first, or in the top five)
while plain BM25 over the full listing's text (bench/search_bench.py's second index) does not, it names why:
- near-duplicate in another service: the first result is the same object in another product (ZIA / ZTW ...);
- product named, listing lacks it: the request names a product and the first result is another product's;
- console word missing from listing: a console word of the request (vocabulary.yaml) names the right
  operation's API words, but its listed text lacks the console word;
- count vs list, kind: a list ranked below a get or a write of the same object, other kind mix-up: the right
  object in the right product, but another kind of operation ranked first;
- other: query words absent from the right operation's listed text, or ranking (length, ties).
A request may fall in more than one class. Run: `.venv/bin/python bench/listing_misses.py [--examples N]`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search import SearchIndex, operation_kind, words
from oneapi_mcp._search_eval import full_listing_index, load_benchmark

ROOT = Path(__file__).resolve().parent.parent


def _listed(tool) -> set[str]:
    return set(words(tool.name)) | set(words(tool.title)) | set(words(tool.description))


def _bare(tool) -> str:
    return tool.name.split("_", 1)[1]


def _classes(reading, top, want: list) -> list[str]:
    services = {w.service for w in want}
    labels = []
    if top is not None and top.service not in services:
        if any(_bare(top) == _bare(w) for w in want):
            labels.append("near-duplicate in another service")
        elif reading.services and top.service not in reading.services:
            labels.append("product named, listing lacks it")
    if any(word not in _listed(w) and set(api) & _listed(w) for word, api in reading.mapped.items() for w in want):
        labels.append("console word missing from listing")
    if top is not None and top.service in services and operation_kind(top) not in {operation_kind(w) for w in want}:
        if reading.intent == "count" or operation_kind(want[0]) == "count":
            labels.append("count vs list")
        elif operation_kind(want[0]) == "list":
            labels.append("kind: a get or write ranked over the list")
        else:
            labels.append("kind: other mix-up")
    if not labels:
        absent = reading.terms.keys() - set().union(*(_listed(w) for w in want))
        labels.append("other: query words absent from the listing" if absent else "other: ranking (length, ties)")
    return labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--examples", type=int, default=0, help="requests to show per class")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    requests = load_benchmark(ROOT / "tests" / "search_benchmark.yaml", catalog)
    ours = SearchIndex(catalog.tools.values(), areas={n: ts.description for n, ts in catalog.toolsets.items()})
    plain = full_listing_index(catalog.tools.values())

    def ranked(index, request) -> tuple[int | None, list[str]]:
        names = [t.name for _, t in index.search(request.query, limit=10)]
        return next((i for i, n in enumerate(names, 1) if n in request.want), None), names

    results = [(r, ranked(ours, r)[0], *ranked(plain, r)) for r in requests]
    for k in (1, 5):
        counts: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        missed = [(r, names) for r, got, rank, names in results
                  if got is not None and got <= k and not (rank is not None and rank <= k)]
        for r, names in missed:
            want = [catalog.tools[n] for n in sorted(r.want)]
            for label in _classes(ours.read(r.query), catalog.tools[names[0]] if names else None, want):
                counts[label] += 1
                examples.setdefault(label, []).append(f"{r.query!r}: {names[0] if names else None} over {want[0].name}")
        print(f"hit@{k}: {len(missed)} requests search_operations finds and the plain listing search does not")
        for label, n in counts.most_common():
            print(f"  {n:4d}  {label}")
            for line in examples[label][:args.examples]:
                print(f"          {line}")


if __name__ == "__main__":
    main()

"""The retrieval benchmark (`tests/search_benchmark.yaml`): hit@1, hit@5 and MRR of search_operations.

Right answers are keyed by "METHOD path", which survives a spec re-conversion that renames
operationIds; they are mapped to today's tool names here. The same requests also measure a plain
BM25 search over what `--tools-mode full` lists (names, titles, descriptions; no vocabulary), which is
roughly what a client-side tool search sees. Every request is also an example of the operations it wants
(_search_examples.py): `held_out` searches each with its own round's left out, and `python -m
oneapi_mcp._search_eval` (`make search-examples`) reads them all into specs/search_examples.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._search_examples import EXAMPLES_FILE
from ._search_sdk import operation_key

__all__ = ["BenchRequest", "dumps", "evaluate", "miss_class", "first_measurements", "full_listing_index", "held_out",
           "leave_one_round_out", "load_benchmark", "load_composite_benchmark", "operation_key", "parts",
           "read_examples"]

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BenchRequest:
    query: str
    want: frozenset[str]  # tool names
    holdout: bool  # set aside while tuning
    blind: bool = False  # written after tuning was finished, measured once
    blind_round: int = 0  # which blind set: 1 (45 requests), 2 (written before round 2's ranking changes)


def first_measurements(path: Path) -> dict[int, dict[str, Any]]:
    """Each blind round's figures when it was first measured, before any change for it (recorded in the file)."""
    return {int(k): v for k, v in (yaml.safe_load(path.read_text()).get("first_measurements") or {}).items()}


def load_benchmark(path: Path, catalog: Any) -> list[BenchRequest]:
    """Read the requests; a right answer that matches no operation is an error (the set went stale)."""
    by_key: dict[str, set[str]] = {}  # ZDX lists configured and predefined applications under one path: two tools
    for t in catalog.tools.values():
        by_key.setdefault(operation_key(t), set()).add(t.name)
    out = []
    for i, item in enumerate(yaml.safe_load(path.read_text())["requests"]):
        missing = [k for k in item["want"] if k not in by_key]
        if missing:
            raise ValueError(f"{path}: request {i} ({item['q']!r}): no operation {', '.join(missing)}")
        blind = bool(item.get("blind"))
        want = frozenset(n for k in item["want"] for n in by_key[k])
        out.append(BenchRequest(item["q"], want, bool(item.get("holdout")), blind,
                                int(item.get("blind_round", 1 if blind else 0))))
    return out


def load_composite_benchmark(path: Path, composites: Any) -> list[BenchRequest]:
    """The requests a composite tool answers (`tests/search_composites.yaml`), keyed by the composite tools' names
    (`composites`: the names a server lists), each with the round it was written in (`blind_round`); a name that is
    no composite tool is an error (the set went stale)."""
    known = set(composites)
    out = []
    for i, item in enumerate(yaml.safe_load(path.read_text())["requests"]):
        missing = [n for n in item["want"] if n not in known]
        if missing:
            raise ValueError(f"{path}: request {i} ({item['q']!r}): no composite tool {', '.join(missing)}")
        out.append(BenchRequest(item["q"], frozenset(item["want"]), False, True, int(item["round"])))
    return out


def parts(requests: list[BenchRequest]) -> dict[str, list[BenchRequest]]:
    """The benchmark's parts: tuned, held out (set aside while tuning) and each blind round."""
    rounds = sorted({r.blind_round for r in requests} - {0})
    return {"tuned": [r for r in requests if not (r.holdout or r.blind)],
            "held out": [r for r in requests if r.holdout],
            **{f"blind round {n}": [r for r in requests if r.blind_round == n] for n in rounds}}


def evaluate(search, requests: list[BenchRequest]) -> dict[str, Any]:
    """`search(query) -> [tool name, ...]` best first. Returns hit@1, hit@5, MRR, p50 ms and the misses."""
    hit1 = hit5 = 0
    rr = 0.0
    times, misses = [], []
    for r in requests:
        started = time.perf_counter()
        names = search(r.query)
        times.append((time.perf_counter() - started) * 1000)
        rank = next((i for i, n in enumerate(names[:10], 1) if n in r.want), None)
        hit1 += rank == 1
        hit5 += rank is not None and rank <= 5
        rr += 1 / rank if rank else 0.0
        if rank != 1:
            misses.append({"query": r.query, "rank": rank, "top": names[:3], "want": sorted(r.want)})
    n = len(requests) or 1
    return {"n": len(requests), "hit@1": hit1 / n, "hit@5": hit5 / n, "mrr": rr / n,
            "p50_ms": statistics.median(times) if times else 0.0, "misses": misses}


_READS = {"list", "get", "count"}


def miss_class(catalog: Any, want: frozenset[str], top: str | None) -> str:
    """Why the first result is not a right one, told from the operations alone: another product, the right resource
    but another kind of operation (a read for a write, ...), or another object of the same product."""
    from ._search import operation_kind

    if top is None:
        return "nothing found"
    wanted = [catalog.tools[n] for n in want]
    first = catalog.tools[top]
    if first.service not in {t.service for t in wanted}:
        return "wrong product"
    if _resource(first) not in {_resource(t) for t in wanted}:
        return "sibling object, same product"
    kinds, kind = {operation_kind(t) for t in wanted}, operation_kind(first)
    if not kinds & _READS and kind in _READS:
        return "write asked, read ranked"
    if kinds <= _READS and kind not in _READS:
        return "read asked, write ranked"
    return "wrong kind, same resource"


def _resource(tool: Any) -> tuple[str, str]:
    """/sandboxRules and /sandboxRules/{id}: one resource, whose list, get, create, update and delete are siblings."""
    return tool.service, re.sub(r"(/\{[^}]*\})+/?$", "", tool.path)


def _ranks(search, requests: list[BenchRequest]) -> list[int | None]:
    return [next((i for i, n in enumerate(search(r.query)[:10], 1) if n in r.want), None) for r in requests]


def _score(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {"n": len(ranks), "hit@1": sum(r == 1 for r in ranks) / n,
            "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n}


def held_out(index_of: Any, requests: list[BenchRequest], search: Any = None) -> dict[str, list[Any]]:
    """Each request's answer (tool names, best first) from an index whose examples leave its round out: every
    benchmark request is an example of its operations (_search_examples.py), so the shipped index has seen them all.
    `index_of(round)` builds that round's index (`SearchIndex.for_catalog(catalog, leave_out=round)`); one round's
    index at a time is kept. `search(index, query)`: the names, by default `index.search`'s ten best."""
    search = search or (lambda index, q: [t.name for _, t in index.search(q, limit=10)])
    out: dict[str, list[Any]] = {}
    for n in sorted({r.blind_round for r in requests}):
        index = index_of(n)
        out.update((r.query, search(index, r.query)) for r in requests if r.blind_round == n)
    return out


def leave_one_round_out(index_of: Any, requests: list[BenchRequest], grid: list[Any]) -> dict[int, dict[str, Any]]:
    """For each blind round: the ranking weights (`grid`, a list of `Ranking`) that do best (MRR) on every other
    request, and what they score on the round left out. It estimates how well fitting the weights generalises;
    the vocabulary and descriptions were written knowing the earlier rounds, so only each round's first
    measurement (`first_measurements`) is free of that. `index_of(round)`: the index whose examples leave that round
    out (`held_out`), each request searched with its own round's. The weights for round n are chosen on the other
    rounds' answers, whose indexes hold round n's requests as examples: a small leak, which fitting a grid of eight
    weights leaves small."""
    ranks: list[list[int | None]] = [[] for _ in grid]
    order: list[BenchRequest] = []
    for n in sorted({r.blind_round for r in requests}):
        index, mine = index_of(n), [r for r in requests if r.blind_round == n]
        order += mine
        for g, rk in enumerate(grid):
            ranks[g] += _ranks(lambda q, rk=rk, index=index: [t.name for _, t in index.search(q, limit=10, ranking=rk)],
                               mine)
    requests = order
    out = {}
    for n in sorted({r.blind_round for r in requests} - {0}):
        inside = [i for i, r in enumerate(requests) if r.blind_round == n]
        outside = [i for i, r in enumerate(requests) if r.blind_round != n]
        best = max(range(len(grid)), key=lambda g: (_score([ranks[g][i] for i in outside])["mrr"], -g))
        out[n] = {**_score([ranks[best][i] for i in inside]), "ranking": grid[best]}
    return out


def full_listing_index(tools):
    """Plain BM25 over what `--tools-mode full` lists of each tool (name, title, description) and nothing
    else: no vocabulary, paths, toolsets or intents, so the names and descriptions have to carry the meaning."""
    from ._search import SearchIndex
    from ._vocabulary import Vocabulary

    listed = [_Listed(t.name, t.title, t.description, t.scope, t.service) for t in tools]
    stop = ["a", "an", "the", "of", "in", "to", "for", "and", "or", "on", "by", "with", "is", "are", "my", "our"]
    return SearchIndex(listed, plain=True, vocabulary=Vocabulary({"stop": stop}))


@dataclass(frozen=True)
class _Listed:
    """A tool as tools/list shows it (the fields a client's search can read)."""

    name: str
    title: str
    description: str
    scope: str
    service: str
    operation_id: str = ""
    toolset: str = ""
    path: str = ""
    method: str = ""


def read_examples(benchmark: Path, composites: Path, catalog: Any) -> dict[str, Any]:
    """Every benchmark request, read as search reads a request (its terms after the vocabulary and the speller of an
    index without examples), under each operation that answers it (`benchmark`) or each composite tool (`composites`,
    tests/search_composites.yaml: its names are checked by tests/test_search_composites.py); in file order."""
    from ._search import SearchIndex

    index = SearchIndex.for_catalog(catalog, examples=False)
    keys = {operation_key(t) for t in catalog.tools.values()}
    out: dict[str, list[list[Any]]] = {}
    for i, item in enumerate(yaml.safe_load(benchmark.read_text())["requests"]):
        blind = bool(item.get("blind"))
        round_ = int(item.get("blind_round", 1 if blind else 0))
        terms = sorted(index.read(item["q"]).terms)
        for key in item["want"]:
            if key not in keys:
                raise ValueError(f"{benchmark}: request {i} ({item['q']!r}): no operation {key}")
            out.setdefault(key, []).append([round_, terms])
    jobs: dict[str, list[list[Any]]] = {}
    for item in yaml.safe_load(composites.read_text())["requests"]:
        terms = sorted(index.read(item["q"]).terms)
        for name in item["want"]:
            jobs.setdefault(name, []).append([int(item["round"]), terms])
    return {"about": "tests/search_benchmark.yaml's and tests/search_composites.yaml's requests as search reads them "
                     "(make search-examples; oneapi_mcp/_search_eval.py reads them, _search_examples.py ships them)",
            "examples": dict(sorted(out.items())), "composites": dict(sorted(jobs.items()))}


def dumps(data: dict[str, Any]) -> str:
    """One operation per line: diffs stay readable when a round is added."""
    def section(name: str) -> str:
        rows = [f"    {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in data[name].items()]
        return f'  "{name}": {{\n' + ",\n".join(rows) + "\n  }"

    about = f'  "about": {json.dumps(data["about"])},\n'
    return "{\n" + about + section("examples") + ",\n" + section("composites") + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oneapi_mcp._search_eval",
                                     description="the benchmark's requests as search reads them -> specs/")
    parser.add_argument("--benchmark", type=Path, default=_ROOT / "tests" / "search_benchmark.yaml")
    parser.add_argument("--composites", type=Path, default=_ROOT / "tests" / "search_composites.yaml")
    parser.add_argument("--out", type=Path, default=_ROOT / "specs" / EXAMPLES_FILE)
    args = parser.parse_args(argv)
    from ._catalog import load_catalog

    data = read_examples(args.benchmark, args.composites, load_catalog())
    args.out.write_text(dumps(data))
    print(f"search-examples: {sum(len(v) for v in data['examples'].values())} examples of "
          f"{len(data['examples'])} operations, {sum(len(v) for v in data['composites'].values())} of "
          f"{len(data['composites'])} composite tools -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # make search-examples
    raise SystemExit(main())

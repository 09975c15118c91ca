"""search_operations finds the composite tool that does an administrator's job (issue 15), measured on
tests/search_composites.yaml: requests written blind (by engineers who read only the composite tools' titles,
descriptions and code, never the search) and answered through the server's own search, operations and composite
tools ranked together, as an agent sees them. `python bench/search_bench.py --composites` prints the figures; each
round's first measurement is in the YAML file (round 1 was 17.4% / 34.0% before composites were ranked as jobs)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from oneapi_mcp.plugins.builtin.discovery_tools import search

from oneapi_mcp._search import SearchIndex
from oneapi_mcp._search_eval import evaluate, first_measurements, load_composite_benchmark
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.plugin_api import CompositeTool

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = ROOT / "tests" / "search_composites.yaml"
# reached: round 1 (tuned on) 0.674 / 0.889, round 2 (first measured after the changes at 0.709 / 0.865) 0.702 / 0.865;
# after session 9 (operations' ranking and descriptions) 0.674 / 0.903 and 0.723 / 0.894; after session 10 0.681 / 0.903
# and 0.723 / 0.894. Session 11: each round's requests are examples of their composite tools
# (oneapi_mcp/_search_examples.py), so each round is searched with its own left out, the other's examples in:
# 0.882 / 0.972 and 0.858 / 0.972 with rounds 0-24 of the operations benchmark as examples (round 2 0.844 / 0.972 with
# rounds 0-19; the operations' examples alone, without the composite tools': 0.632 / 0.868 and 0.631 / 0.865). Floors
# a request or two under
FLOORS = {1: (0.875, 0.955), 2: (0.83, 0.965)}


@pytest.fixture(scope="module")
def surface():
    """A server whose search ranks by its rules alone, no request an example (the rule tests below state rules)."""
    def factory(catalog):
        raise AssertionError("search needs no upstream")

    runtime = Runtime(settings=ServerSettings(profile="admin"), executor_factory=factory, customer_id_known=True)
    build_server(runtime)
    runtime._index = SearchIndex.for_catalog(runtime.catalog, examples=False)
    return runtime.surface


@pytest.fixture(scope="module")
def held_out_surface():
    """round -> a server's surface whose search leaves that round's requests out of the composite tools' examples."""
    def factory(catalog):
        raise AssertionError("search needs no upstream")

    def build(round_: int):
        runtime = Runtime(settings=ServerSettings(profile="admin"), executor_factory=factory, customer_id_known=True)
        build_server(runtime)
        runtime._index = SearchIndex.for_catalog(runtime.catalog, leave_out_composites=round_)
        return runtime.surface

    return build


def _names(surface, query: str) -> list[str]:
    return [r["name"] for r in search(surface, {"query": query, "limit": 10}).structured_content["results"]]


def test_every_composite_tool_has_requests_in_each_round_and_every_right_answer_is_one(surface):
    requests = load_composite_benchmark(REQUESTS, surface.composites)  # raises naming a stale tool name
    for round_ in FLOORS:
        asked = Counter(name for r in requests if r.blind_round == round_ for name in r.want)
        assert not [name for name in surface.composites if asked[name] < 2], f"round {round_}: two requests per tool"
    assert len({r.query for r in requests}) == len(requests)
    assert set(first_measurements(REQUESTS)) == set(FLOORS)


@pytest.mark.parametrize("round_", sorted(FLOORS))
def test_search_finds_the_composite_tool_that_does_the_job_above_the_floors(held_out_surface, round_):
    surface = held_out_surface(round_)
    requests = [r for r in load_composite_benchmark(REQUESTS, surface.composites) if r.blind_round == round_]
    result = evaluate(lambda q: _names(surface, q), requests)
    hit1_floor, hit5_floor = FLOORS[round_]
    assert result["hit@5"] >= hit5_floor and result["hit@1"] >= hit1_floor, (
        f"round {round_}: hit@1 {result['hit@1']:.3f} hit@5 {result['hit@5']:.3f} mrr {result['mrr']:.3f}\n"
        + "\n".join(f"  rank {m['rank']}: {m['query']!r} -> {m['top']} (want {m['want']})"
                    for m in result["misses"]))


def test_a_composite_in_the_product_a_request_names_is_not_ranked_as_another_products_operation(surface):
    # its service is "composite": it was weighed as an operation of another product (x0.2) as soon as a request named
    # one, though it works in the products its operations belong to
    assert _names(surface, "stream zpa user activity logs to splunk")[0] == "siem_configure_lss_stream"
    assert _names(surface, "what can jdoe reach in zia and zpa")[0] == "users_show_access"


def test_a_composite_is_a_job_not_a_rest_verb_so_a_request_in_its_words_finds_it(surface):
    # a destructive composite was weighed as a delete (x0.4 for a request with no verb), and its name's nouns as an
    # operation's object; its keywords say what administrators call the job
    assert _names(surface, "lock down jdoe everywhere, his account was phished")[0] == "threat_isolate_account"
    assert _names(surface, "run the leaver process for d.ortiz@acme.com")[0] == "lifecycle_offboard_user"


@pytest.mark.parametrize("keywords", ["compromised account", ("lock out", ""), ("lock out", 3)])
def test_keywords_that_are_not_phrases_are_refused_naming_the_tool(keywords):
    async def handler(ctx, arguments):
        return {}

    with pytest.raises(ValueError, match="composite tool acme_lock: keywords must be a tuple of phrases"):
        CompositeTool(name="acme_lock", description="Lock an account.", handler=handler, keywords=keywords)
    assert CompositeTool(name="acme_lock", description="d", handler=handler, keywords=["lock out"]).keywords == (
        "lock out",)

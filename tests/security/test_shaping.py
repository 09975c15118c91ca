"""One read-only call cannot freeze the server (issue 12, item 2).

Before this fix `{a:@,b:@}|` repeated 22 times on 5 users blocked every client for 101 s: JMESPath
builds that value by reference in 66 cheap steps, then `json.dumps` expanded 2^22 copies on the
event loop; a 3 MB expression added 700 MB RSS. Queries are now limited (length, depth, steps,
time, the size a value may expand to), run off the event loop, and every result is serialised by
an encoder that stops at the byte limit.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from oneapi_mcp import _shaping
from oneapi_mcp._executor import Executor
from oneapi_mcp._hooktypes import tool_result

pytestmark = pytest.mark.anyio

DOUBLING_22 = "|".join(["{a:@,b:@}"] * 22)
HANG_GUARD = 60  # seconds: only so that a regression fails instead of hanging; not a timing target
LOOP_GUARD = 10  # seconds a query waits for the loop to tick (instantly off the loop, never on it); not a target


def _executor(catalog, users) -> tuple[Executor, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=users)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return Executor(catalog, client, base_url="https://api.zsapi.net"), sent


def _users(n: int) -> list[dict]:
    return [{"id": i, "name": f"user{i:05d}", "email": f"user{i}@example.test"} for i in range(n)]


def _doubled(value, times: int):
    for _ in range(times):
        value = {"a": value, "b": value}
    return value


async def test_the_22_pipe_query_is_stopped_by_the_size_limit_and_names_it(catalog):
    executor, sent = _executor(catalog, _users(5))
    call = executor.call(catalog.tools["zia_list_users"], {"query": DOUBLING_22})
    result = await asyncio.wait_for(call, HANG_GUARD)
    err = result.data["error"]
    assert result.is_error and err["kind"] == "query_limit" and err["limit"] == "size"
    assert "32,000,000 bytes" in err["message"] and len(sent) == 1


@pytest.mark.parametrize("query", [
    "to_string(" + DOUBLING_22 + ")",  # to_string runs json.dumps inside the interpreter
    "join('', [@, @])|" * 30 + "@",  # a string doubled 30 times
    "[@, @][]|" * 30 + "length(@)",  # a list doubled 30 times by flattening
])
def test_values_that_double_inside_functions_and_flattens_are_stopped_too(query):
    data = "x" if query.startswith("join") else _users(5)
    with pytest.raises(_shaping.QueryLimit) as caught:
        _shaping.run_query(query, data)
    assert caught.value.limit in ("size", "steps")


async def test_a_3_mb_query_is_refused_by_length_before_any_request(catalog):
    executor, sent = _executor(catalog, _users(5))
    result = await executor.call(catalog.tools["zia_list_users"], {"query": "[?name=='" + "x" * 3_000_000 + "']"})
    err = result.data["error"]
    assert result.is_error and err["kind"] == "invalid_arguments"
    assert "3,000,011 characters; the limit is 4,096" in err["message"] and sent == []


async def test_a_deeply_nested_query_is_refused_before_any_request(catalog):
    executor, sent = _executor(catalog, _users(5))
    for query in ("id|" * 60 + "id", "(" * 2000 + "id" + ")" * 2000):
        result = await executor.call(catalog.tools["zia_list_users"], {"query": query})
        assert result.is_error and "nested more than 40 levels" in result.data["error"]["message"]
    assert sent == []


async def test_a_projection_with_a_huge_list_of_fields_is_refused_before_any_request(catalog):
    """Projection runs on the event loop and costs items x names, so the names are bounded."""
    executor, sent = _executor(catalog, _users(5))
    result = await executor.call(catalog.tools["zia_list_users"], {"fields": [f"f{i}" for i in range(400_000)]})
    assert result.is_error and "fields takes at most 200 names (got 400,000)" in result.data["error"]["message"]
    assert sent == []


@pytest.mark.parametrize(("limit", "setting", "value"), [("steps", "MAX_QUERY_STEPS", 1_000),
                                                          ("time", "MAX_QUERY_SECONDS", 0.0)])
async def test_the_step_and_time_budgets_stop_a_query_and_say_which(catalog, monkeypatch, limit, setting, value):
    monkeypatch.setattr(_shaping, setting, value)
    executor, _ = _executor(catalog, _users(2_000))
    result = await executor.call(catalog.tools["zia_list_users"], {"query": "[*].{a: id, b: name, c: email}"})
    err = result.data["error"]
    assert result.is_error and err["kind"] == "query_limit" and err["limit"] == limit


async def test_the_event_loop_keeps_ticking_while_a_costly_query_runs(catalog, monkeypatch):
    # Deterministic, not timed: the query, once started, waits until the loop has ticked three more times. Run off
    # the loop, those ticks come at once; run on it, they never could (the wait gives up, and the test fails).
    executor, _ = _executor(catalog, _users(10_000))
    ticks: list[float] = []
    ticked = threading.Condition()
    stop = asyncio.Event()
    seen_by_query: list[bool] = []
    real = _shaping._run_parsed

    def query_that_waits_for_the_loop(parsed, data):
        with ticked:
            at = len(ticks)
            seen_by_query.append(ticked.wait_for(lambda: len(ticks) >= at + 3, timeout=LOOP_GUARD))
        return real(parsed, data)

    monkeypatch.setattr(_shaping, "_run_parsed", query_that_waits_for_the_loop)

    async def heartbeat() -> None:
        while not stop.is_set():
            with ticked:
                ticks.append(time.monotonic())
                ticked.notify_all()
            await asyncio.sleep(0.005)

    beating = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.02)
    result = await asyncio.wait_for(executor.call(
        catalog.tools["zia_list_users"], {"query": "sort_by(@, &email)[*].[id, name, email, id, name][][]"},
        cap=False), HANG_GUARD)
    stop.set()
    await beating
    assert not result.is_error and len(result.data) == 50_000
    # while the query ran, the event loop went on ticking: the query runs off the loop
    assert seen_by_query == [True]


def test_the_byte_cap_stops_serialising_a_value_of_shared_references():
    """The serialisation bound alone (no query): 5 users doubled 40 times would be 10^13 bytes."""
    data, note = _shaping.cap(_doubled(_users(5), 40), 60_000)
    assert data["truncated"] is True and len(data["preview"]) == 30_000
    assert "60,000-byte cap" in note


def test_a_list_of_huge_items_keeps_what_fits_without_encoding_each_item_whole():
    items = [{"id": 1}, _doubled(_users(5), 40), {"id": 3}]
    data, note = _shaping.cap(items, 60_000)
    assert data["items"] == [{"id": 1}] and data["total"] == 3 and "returned 1 of 3 items" in note


def test_a_tool_result_too_large_to_send_becomes_an_error_naming_the_limit():
    result = tool_result({"result": _doubled(_users(5), 40)})
    assert result.is_error
    assert result.structured_content["error"]["kind"] == "result_too_large"
    assert "8,000,000 bytes" in result.content[0].text


def test_encode_within_returns_whole_text_when_it_fits_and_a_prefix_when_not():
    assert _shaping.encode_within({"a": [1, "é"]}, 100) == ('{"a":[1,"é"]}', True)
    assert _shaping.encode_within(list(range(100)), 10) == ("[0,1,2,3,4", False)


# -- the cap's shortcut for plain answers (no query): the text bound it relies on, and that it still caps

@pytest.mark.parametrize("body", [
    b"1e15", b"[1e15,1e15,1e9]", b'{"a":1E15}', b"1e999", b"-1e999", b"NaN", b"0e0", b"[-0.0,5e-324]",
    b'"\\u0001\\u001f\\"\\\\\\/"', b'"\\u00e9\\ud83d\\ude00\\ud800"', "\"é😀\u2028\x7f\"".encode(),
    b'{"a":1,"a":2}', b' [ {"k" : [ ] , "x" : null , "t" : true } ] ', b"[[[[[[[[[[]]]]]]]]]]",
    b'{"items":[1],"count":123456789,"more":false}', b"[12345678901234567890123, \"\\n\\t\"]",
])
def test_the_text_of_parsed_json_stays_within_the_growth_bound_the_cap_relies_on(body):
    import json

    text = json.dumps(json.loads(body), separators=(",", ":"), default=str, ensure_ascii=False)
    assert len(text) <= _shaping.TREE_GROWTH * len(body)


def test_the_growth_bound_is_tight_a_lower_one_would_be_wrong():
    import json

    assert len(json.dumps(json.loads(b"1e15"))) == _shaping.TREE_GROWTH * len(b"1e15")


@pytest.mark.parametrize("count", [0, 1, 40, 150, 300, 2_000])
@pytest.mark.parametrize("gathered", [False, True])
def test_the_cap_with_the_received_size_gives_what_the_incremental_encoder_gives(count, gathered):
    import json

    body = json.dumps(_users(count), indent=None).encode()
    data = json.loads(body)
    if gathered:
        data = {"items": data, "count": len(data), "more": False}
    assert _shaping.cap(data, 6_000, received=len(body)) == _shaping.cap(data, 6_000)


async def test_a_query_that_multiplies_a_small_answer_is_still_capped(catalog):
    """The answer is a few hundred bytes; the query's value 64 copies of it: the received size
    must not vouch for a value a query built."""
    executor, _sent = _executor(catalog, _users(5))
    executor.max_result_bytes = 4_000
    query = "|".join(["{a:@,b:@}"] * 6)
    result = await executor.call(catalog.tools["zia_list_users"], {"query": query})
    assert not result.is_error and result.data["truncated"] is True
    assert any("4,000-byte cap" in note for note in result.notes)


async def test_pages_each_small_are_capped_on_what_they_add_up_to(catalog):
    from urllib.parse import parse_qsl

    def page(request: httpx.Request) -> httpx.Response:
        n = int(dict(parse_qsl(request.url.query.decode()))["page"])
        return httpx.Response(200, json=_users(100)[(n - 1) * 10: n * 10])

    client = httpx.AsyncClient(transport=httpx.MockTransport(page))
    executor = Executor(catalog, client, base_url="https://api.zsapi.net", max_result_bytes=2_000)
    result = await executor.call(catalog.tools["zia_list_users"], {"all_pages": True, "pageSize": 10})
    assert result.data["truncated"] is True and 0 < result.data["count"] < 100
    assert any("2,000-byte cap" in note for note in result.notes)

"""Shaping a result for the agent within limits: projection, a JMESPath `query`, the byte cap.

One call must not stall the server. A query is refused before evaluation when it is long or deeply
nested; it is evaluated off the event loop by an interpreter that counts its steps, watches the
clock and refuses any value that would expand past a size (JMESPath builds results by reference:
`{a:@,b:@}|` repeated 22 times is 66 cheap steps whose value expands to 2^22 copies of the input).
Serialisation stops as soon as the byte limit is passed: nothing here ever encodes an unbounded
value in one go.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.visitor import Options, TreeInterpreter

__all__ = ["MAX_FIELDS", "MAX_QUERY_CHARS", "MAX_QUERY_DEPTH", "MAX_RESULT_TEXT", "TREE_GROWTH", "TREE_WRAPPER",
           "QueryLimit", "cap", "compile_query",
           "encode_within", "evaluate", "fits_within", "project", "run_query"]

MAX_QUERY_CHARS = 4_096
MAX_QUERY_DEPTH = 40  # nesting of the parsed expression (each `|` adds one)
MAX_QUERY_STEPS = 1_000_000  # interpreter visits, plus the elements of every value it builds
MAX_QUERY_SECONDS = 5.0
QUERY_THREADS = 2  # queries evaluated at once per process; more wait their turn
MAX_VALUE_BYTES = 32_000_000  # no value the query builds may expand past this many bytes of JSON
MAX_RESULT_TEXT = 8_000_000  # the JSON of one tool result, whatever built it (composite tools too)
MAX_FIELDS = 200  # names in `fields`: projection costs items x names, on the event loop


_threads: ThreadPoolExecutor | None = None


class QueryLimit(ValueError):
    """A query refused or stopped; `limit` names which limit (length, depth, syntax, steps, time, size)."""

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit


def compile_query(text: str) -> Any:
    """The parsed expression, or QueryLimit when it is too long, too deep or not JMESPath."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryLimit("length", f"query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    try:
        parsed = jmespath.compile(text)
    except jmespath_errors.JMESPathError as exc:
        raise QueryLimit("syntax", f"query is not valid JMESPath: {exc}") from None
    except RecursionError:
        raise QueryLimit("depth", f"query is nested more than {MAX_QUERY_DEPTH} levels deep") from None
    if _depth(parsed.parsed) > MAX_QUERY_DEPTH:
        raise QueryLimit("depth", f"query is nested more than {MAX_QUERY_DEPTH} levels deep "
                                  "(each '|' and each bracket adds one)")
    return parsed


def _depth(node: dict) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in current.get("children", ()) if isinstance(child, dict))
    return deepest


async def evaluate(text: str, data: Any) -> Any:
    """`run_query` in the query threads: the event loop keeps serving while it runs, and a few costly
    queries at once wait for each other, not for the threads every other call uses."""
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(max_workers=QUERY_THREADS, thread_name_prefix="oneapi-mcp-query")
    parsed = compile_query(text)  # here: jmespath's parse cache is not made for threads
    running = asyncio.get_running_loop().run_in_executor(_threads, _run_parsed, parsed, data)
    try:
        return await asyncio.wait_for(running, timeout=3 * MAX_QUERY_SECONDS + 1)
    except TimeoutError:  # queued behind other queries (each stops itself at its own deadline)
        raise QueryLimit("time", "the server is busy evaluating other queries; retry shortly") from None


def run_query(text: str, data: Any) -> Any:
    """Evaluate `text` on `data` within the step, time and size limits (blocking: run it in a thread)."""
    return _run_parsed(compile_query(text), data)


def _run_parsed(parsed: Any, data: Any) -> Any:
    interpreter = _BudgetedInterpreter(_Sizer(MAX_VALUE_BYTES))
    try:
        return interpreter.visit(parsed.parsed, data)
    except jmespath_errors.JMESPathError as exc:  # a type error in a function call, for instance
        raise QueryLimit("syntax", f"query failed: {exc}") from None
    except RecursionError:
        raise QueryLimit("depth", "query or data is nested too deeply to evaluate") from None


class _Sizer:
    """Approximate JSON size of values, memoised by identity, so shared references cost once to measure
    and a value built from references is measured as the text it would become."""

    def __init__(self, limit: int):
        self.limit = limit
        self.work = 0  # elements walked (memoised values are walked once)
        self._seen: dict[int, tuple[Any, int]] = {}  # id -> (value kept alive, size)

    def size(self, value: Any) -> int:
        if isinstance(value, str):
            total = len(value) + 2
        elif not isinstance(value, (dict, list)):
            return 8
        elif (hit := self._seen.get(id(value))) is not None:
            return hit[1]
        else:
            total = self._walk(value)
        if total > self.limit:
            raise self._over()
        return total

    def _walk(self, value: dict | list) -> int:
        seen, limit = self._seen, self.limit
        self.work += len(value)
        total = 2
        if isinstance(value, dict):
            total += sum(len(k) + 4 if isinstance(k, str) else 12 for k in value)
            value_items: Any = value.values()
        else:
            value_items = value
        for item in value_items:  # inlined for the common cases: this loop is most of a query's cost
            if isinstance(item, str):
                total += len(item) + 3
            elif isinstance(item, (dict, list)):
                hit = seen.get(id(item))
                total += 1 + (hit[1] if hit is not None else self.size(item))
            else:
                total += 9
            if total > limit:
                raise self._over()
        seen[id(value)] = (value, total)
        return total

    def _over(self) -> QueryLimit:
        return QueryLimit("size", f"the query builds a value of more than {self.limit:,} bytes; "
                                  "select less (fields, filters, slices)")


class _BudgetedInterpreter(TreeInterpreter):
    def __init__(self, sizer: _Sizer):
        super().__init__(Options())
        self.sizer = sizer
        self.steps = 0
        self.max_steps = MAX_QUERY_STEPS
        self.deadline = time.monotonic() + MAX_QUERY_SECONDS

    def visit(self, node: dict, *args: Any, **kwargs: Any) -> Any:
        self.steps += 1
        if not self.steps & 255:  # every 256 visits: cheap enough to leave the common path alone
            self._check_budget()
        kind = node["type"]
        method = self._method_cache.get(kind)
        if method is None:
            method = self._method_cache[kind] = getattr(self, "visit_" + kind, self.default_visit)
        result = method(node, *args, **kwargs)
        if kind in _BUILDS_VALUES:  # the other nodes return a part of a value already measured
            self.sizer.size(result)
        return result

    def _check_budget(self) -> None:
        if self.steps + self.sizer.work > self.max_steps:
            raise QueryLimit("steps", f"the query took more than {self.max_steps:,} steps; simplify it or "
                                      "narrow the data first (fields, max_items)")
        if time.monotonic() > self.deadline:
            raise QueryLimit("time", f"the query ran for more than {MAX_QUERY_SECONDS:g} s; simplify it")


_BUILDS_VALUES = frozenset({"multi_select_dict", "multi_select_list", "projection", "filter_projection",
                            "value_projection", "flatten", "function_expression", "slice", "literal"})


# -- serialising within a byte limit ---------------------------------------------------------------

# The compact JSON of a value `json.loads` parsed from N bytes has at most TREE_GROWTH * N characters:
# strings never grow (the same escapes are needed on the way in, and \uXXXX, \/ and UTF-8 shrink),
# whitespace and duplicate keys go, and only a float's spelling grows, `1e15` (4) becoming
# `1000000000000000.0` (18). TREE_WRAPPER covers the `{"items": ..., "count": ..., "more": ...}` of
# gathered pages. tests/test_shaping.py checks both against json's output.
TREE_GROWTH = 4.5
TREE_WRAPPER = 64

def fits_within(value: Any, limit: int) -> bool:
    """Whether the JSON of `value` is about `limit` bytes or less; measured without expanding shared
    references (each distinct object is visited once), so it is cheap however large the text would be."""
    try:
        _Sizer(limit).size(value)
    except (QueryLimit, RecursionError):
        return False
    return True


def encode_within(value: Any, limit: int, *, indent: int | None = None) -> tuple[str, bool]:
    """JSON text of `value` and True, or, as soon as the text passes `limit` characters, the first
    `limit` characters and False. Encodes incrementally: never more than one chunk past the limit."""
    encoder = json.JSONEncoder(indent=indent, separators=(",", ":") if indent is None else (",", ": "),
                               default=str, ensure_ascii=False)
    parts: list[str] = []
    size = 0
    for chunk in encoder.iterencode(value):  # not one-shot: the incremental (generator) encoder
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return "".join(parts)[:limit], False
    return "".join(parts), True


def cap(data: Any, max_bytes: int, *, received: int | None = None) -> tuple[Any, str | None]:
    """`data` when its JSON fits in `max_bytes`, else what fits (whole items of a list) and a note.

    `received`: `data` is what `json.loads` made of upstream answers of this many bytes in all,
    perhaps projected or gathered into `{"items", "count", "more"}` (`TREE_GROWTH`). Its text is then
    known to fit without encoding it when the bound says so, and is encoded in one go by the C
    encoder when it is about the cap's size; otherwise (a query's value, a large answer) the
    incremental encoder stops at the cap."""
    if received is not None and received * TREE_GROWTH + TREE_WRAPPER <= max_bytes:
        return data, None
    if received is not None and received <= max_bytes:
        if len(json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=False)) <= max_bytes:
            return data, None
    else:
        _text, complete = encode_within(data, max_bytes)
        if complete:
            return data, None
    items_key = None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items_key, items = "items", data["items"]
    elif isinstance(data, list):
        items = data
    else:
        preview, _ = encode_within(data, max_bytes // 2)
        return ({"truncated": True, "bytes_over": max_bytes, "preview": preview},
                f"result is over the {max_bytes:,}-byte cap; narrow it with fields or query")
    kept, size = [], 2
    for item in items:
        room = max_bytes - 500 - size
        item_text, fits = encode_within(item, room)
        if not fits:
            break
        kept.append(item)
        size += len(item_text) + 1
    note = (f"returned {len(kept)} of {len(items)} items ({max_bytes:,}-byte cap); "
            "narrow with fields or query, or page with max_items and the paging arguments")
    if items_key:
        return {**data, "items": kept, "count": len(kept), "more": True, "truncated": True}, note
    return {"items": kept, "count": len(kept), "total": len(items), "truncated": True}, note


def project(data: Any, fields: list[str]) -> Any:
    """Keep only `fields` of each object (of a list, of a list under items/list/records, or the object)."""
    def pick(obj: Any) -> Any:
        return {k: obj[k] for k in fields if k in obj} if isinstance(obj, dict) else obj

    if isinstance(data, list):
        return [pick(x) for x in data]
    for key in ("items", "list", "records"):
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return {**data, key: [pick(x) for x in data[key]]}
    return pick(data)

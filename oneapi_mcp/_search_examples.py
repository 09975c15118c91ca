"""Requests administrators wrote for each operation, as search reads them: a field of the operation's own.

The retrieval benchmark (tests/search_benchmark.yaml) holds about 4,800 requests written by people who never saw the
search, each with the operations that answer it. They say what an operation is called in the console and on a SOC
shift far better than its description does ("remove the GRE tunnel for the old Paris office", "who is allowed to
log in to the ZPA admin portal"), so search indexes each operation's requests as words of that operation
(`SearchIndex`'s `examples` field). A new request phrased the way an earlier one was finds the operation that one
wanted.

Measured on requests nobody had seen (rounds 18 and 19, 198 requests each, written blind by two writers while the
field was built; before anyone looked at them): round 18 81.3% -> 85.4% hit@1 and 96.0% -> 99.0% hit@5, round 19
69.2% -> 78.3% and 89.9% -> 97.5% (the field's weight was chosen leaving one round out on rounds 12-17); rounds
20-23, written later, 75.0 / 75.5 / 81.0 / 80.0% -> 82.5 / 84.0 / 86.0 / 82.5% hit@1 (tests/search_benchmark.yaml's
first_measurements). An operation no request asked for stands in its own title (STAND_IN, below). Because
every benchmark request is an example, the benchmark measures search with the requests of the round being measured
left out (`SearchIndex.for_catalog(leave_out=round)`): the shipped index has seen every request in the file.

`make search-examples` (`_search_eval.read_examples`) reads every request with the vocabulary and the index's
speller, once, into `specs/search_examples.json` ("METHOD path", or a composite tool's name -> [round, its words as
search reads them]); `make generate` ships it in `oneapi_mcp.generated`, and it is read when the search index is
first built, never at start-up (reading every request at run time would take about 3 s).
tests/test_search_benchmark.py fails when the file is stale.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from importlib import resources
from typing import Any

from ._search_sdk import operation_key

__all__ = ["EXAMPLES_FILE", "examples_by_tool"]

EXAMPLES_FILE = "search_examples.json"


# An operation nobody asked for had no example, and lost to those with some: the coverage round (round 24, one request
# for each of the 180 operations no earlier request wanted) scored 56.7% / 89.4% before the examples and 48.3% / 84.4%
# with them. Its own title and first sentence, read as a request and counted as about as many examples as an
# operation has (4.2 on average), level that: 55.0% / 87.8% on round 24 left out (its operations then have none),
# the whole set 82.6% / 97.3% -> 83.4% / 97.7%; once, twice, three and six times: 52.8, 53.3, 55.0 and 55.0% on round 24
STAND_IN = 4
_SENTENCE = re.compile(r"(?<=\.)\s")


def examples_by_tool(tools: Any, *, leave_out: int | None = None, leave_out_composites: int | None = None,
                     data: dict[str, Any] | None = None,
                     read: Callable[[str], list[str]] | None = None) -> dict[str, list[list[str]]]:
    """Tool name -> each example request's words, from the shipped file (or `data`): an operation's by its key
    ("METHOD path"), a composite tool's by its name. `leave_out` / `leave_out_composites`: a round of
    tests/search_benchmark.yaml / tests/search_composites.yaml whose requests are not examples (measuring it).
    `read(text) -> words`: a tool with no example stands in its title and first sentence, read so, STAND_IN times."""
    data = _shipped() if data is None else data
    by_key = data.get("examples", {}) if data else {}
    by_name = data.get("composites", {}) if data else {}
    out: dict[str, list[list[str]]] = {}
    for tool in tools:
        composite = getattr(tool, "method", "") == "COMPOSITE"
        rows = by_name.get(tool.name) if composite else by_key.get(operation_key(tool))
        if rows:
            left = leave_out_composites if composite else leave_out
            kept = [[sys.intern(w) for w in terms] for round_, terms in rows if round_ != left]  # one str a word
            if kept:
                out[tool.name] = kept
        if read is not None and tool.name not in out:
            own = read(f"{tool.title}. {_SENTENCE.split(tool.description or '', maxsplit=1)[0]}")
            out[tool.name] = [own] * STAND_IN
    return out


def _shipped() -> dict[str, Any] | None:
    try:
        text = resources.files("oneapi_mcp.generated").joinpath(EXAMPLES_FILE).read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    return json.loads(text)

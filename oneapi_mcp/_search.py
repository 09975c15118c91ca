"""Ranking operations for `search_operations`: BM25F over names, paths, toolsets and descriptions.

A request is first read with the console vocabulary (`_vocabulary.py`): the services it names, what it
asks to do (list, count, create, delete, ...) and its words in API terms. Each operation is scored by
BM25 with per-field weights (a word in the tool's name says more than one in its description), then
weighed by how much of the request it covers, whether it is the kind of operation asked for (a
`count` for "how many", a list for a plural question, a DELETE for "remove") and whether it belongs to
a service the request names. The index is built on first use from the definition tables alone.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ._vocabulary import CONSUMED, ORIGINAL, VERB, Reading, Speller, Vocabulary, load_vocabulary, stem, tokens
from .generated.services import SERVICES as SERVICE_TABLE

__all__ = ["Ranking", "SearchIndex", "operation_kind", "words"]

# the names Zscaler's SDK gives an operation (methods, resource client) and its docstring's first sentence
# (_search_sdk.py): the console's names where the path and our name use the API's; fitted in bench/sdk_field_bench.py
SDK_NAMES, SDK_TEXT = 0.5, 0.5
KEYWORDS = 1.0  # a composite tool's keywords (what administrators call its job) weigh as its description does
# the requests administrators wrote for an operation (_search_examples.py), chosen leaving one round out on rounds
# 12-17 (81.4% -> 85.6% hit@1, 95.8% -> 97.9% hit@5 on the six; 0.5 to 2.5 and b 0.0 to 0.9 within a point). An
# operation credited with the requests of its whole resource (list, get, create, ... of /rules) did worse: 84.0% / 97.5%
# (0.3 each), 83.6% / 97.3% (the resource's alone) against 84.2% / 98.0% on every round left out in turn
EXAMPLES = 0.5
# field -> (weight, length normalisation b)
_FIELDS = {"name": (3.0, 0.3), "path": (1.5, 0.3), "toolset": (1.2, 0.0), "area": (0.4, 0.5),
           "text": (1.0, 0.6), "family": (0.25, 0.5), "sdk": (SDK_NAMES, 0.3), "sdk_text": (SDK_TEXT, 0.6),
           "keywords": (KEYWORDS, 0.0), "examples": (EXAMPLES, 0.5)}
# the property names an operation sends and returns: a separate, light index (its own document frequencies, so
# the many `url`/`user` properties do not make those words common in names and descriptions)
_FIELD_WEIGHT, _FIELD_COVERAGE = 0.1, 0.0
_K1 = 1.2
_PATH_NOISE = {*SERVICE_TABLE, "api", "v1", "v2", "v3", "mgmtconfig", "admin", "customers",
               "customer", "papi", "public", "ziam", "userconfig"}
# how well an operation of one kind answers a request of another (rows: intent; None: no verb, a read)
_READ = {"list": 1.0, "get": 0.7, "count": 0.7}
_COMPAT: dict[str | None, dict[str, float]] = {
    None: {**_READ, "create": 0.55, "update": 0.55, "action": 0.55, "delete": 0.4},
    "list": {**_READ, "create": 0.45, "update": 0.45, "action": 0.45, "delete": 0.35},
    "get": {"get": 1.0, "list": 0.85, "count": 0.6, "create": 0.45, "update": 0.45, "action": 0.45, "delete": 0.35},
    "count": {"count": 1.0, "list": 0.85, "get": 0.55, "create": 0.4, "update": 0.4, "action": 0.4, "delete": 0.3},
    "create": {"create": 1.0, "action": 0.8, "update": 0.75, "delete": 0.4, "list": 0.35, "get": 0.3, "count": 0.3},
    # an update asked for: its create sibling no higher than the share of the create's match the update is credited
    # with (Ranking.family), so the kind asked wins a tie (0.8 had left them level, the alphabet choosing the create)
    "update": {"update": 1.0, "action": 0.85, "create": 0.75, "delete": 0.4, "list": 0.35, "get": 0.3, "count": 0.3},
    "delete": {"delete": 1.0, "update": 0.6, "action": 0.6, "create": 0.45, "list": 0.3, "get": 0.3, "count": 0.3},
    "activate": {"action": 1.0, "create": 0.9, "update": 0.85, "list": 0.55, "get": 0.5, "count": 0.45,
                 "delete": 0.35},
}
# a composite tool does a job, not one REST verb on one object: a read-only one ("report") answers a question, one that
# changes things ("job") any change asked for, whatever verb says it ("lock him out", "take them out of the group")
_COMPOSITE_COMPAT = {None: {"report": 1.0, "job": 0.8}, "list": {"report": 0.9, "job": 0.5},
                     "get": {"report": 0.9, "job": 0.5}, "count": {"report": 0.8, "job": 0.4}}
_COMPOSITE_KINDS = {"report", "job"}
# a composite tool's share of its match, and what each keyword phrase the request says whole adds (fitted on the
# first set of tests/search_composites.yaml against the operations benchmark searched with composites, where a
# composite first is a miss: 0.5 / 0.6 / 0.7 gave 64.6 / 67.4 / 72.2% on the one and 72.8 / 71.7 / 70.5% on the other)
_COMPOSITE_FIT, _COMPOSITE_PHRASE = 0.6, 0.3
for _intent, _row in _COMPAT.items():  # a write asked: a job answers it, a report less
    _row.update(_COMPOSITE_COMPAT.get(_intent, {"job": 1.0, "report": 0.5}))


@dataclass(frozen=True)
class Ranking:
    """The ranking's global weights (bench/search_bench.py re-fits them leaving one blind round out)."""

    other_service: float = 0.2  # an operation of another product than the one named
    hinted_other: float = 0.3  # a console word of one product ("app segment") points to it as naming it would
    no_one_named: float = 1.0  # a `get` for a request naming no object (0.8 until every LORO fold chose 1.0)
    coverage: float = 0.65  # how much of the score depends on covering all of the request's words
    subject: float = 0.6  # ... on the tool name's nouns being the ones asked about
    prior: float = 1.0  # exponent on the service prior: 0 ignores it
    head: float = 0.3  # bonus when the tool name's last noun is the request's head noun ("users" of "users in a group")
    spelled: float = 1.0  # bonus when the request is the tool's name spelled out, its prefix left off
    every: float = 0.15  # an operation on all objects at once (named *_all) for a request saying all or every
    window: float = 0.3  # an operation taking a time window, for a request that gives one
    qualified: float = 0.3  # an operation on what the request's object is for, not on the object
    activating: float = 1.0  # an operation named activate or sync, for a request to push changes live
    looked_up: float = 0.5  # an operation named lookup, for a question about a site the request names
    family: float = 0.8  # share of its create/update sibling's match a write of the kind asked is credited with


_EVERY = {"all", "every", "everything", "everyone"}  # a request about all the objects at once
# the argument names of a time window: ZDX from/to, Z-Insights startTime/endTime, a composite tool's period or hours
_TIMED = re.compile(r"(from_?|to|start_?time|end_?time|start_?date(_?time)?|end_?date(_?time)?|since|until|period|"
                    r"hours)$", re.I)
# the verbs tool names use for one kind of operation: a request saying one of them means all of them
_NAMING_VERBS = {"delete": ("delete", "remove"), "create": ("create", "add")}
_EDITS = {"create", "update"}
_PRODUCT_IN_NAME = 0.5
_NAMED_SITE = 0.5
# words of a tool name that say what it does, not what it is about
_VERBS = {stem(w) for w in ("list", "get", "all", "create", "update", "remove", "delete", "add", "by", "id", "lite",
                             *SERVICE_TABLE, "info")}  # stemmed, as words() gives them ("creat", "remov")


# name words that qualify the noun before them: list_users_summaries is about users
_NOT_HEAD = {"lite", "summary", "count", "bulk", "v2", "v3", "name"}
_QUALIFIERS = {"by", "for", "with", "in", "to", "from", "of", "via", "on"}


def name_head(name: str) -> str | None:
    """The noun a tool is about: the last noun of its name (zdx_list_group_users -> user, zid_list_user_groups ->
    group), which is how English compounds read."""
    named = words(name)
    # what follows a preposition qualifies the noun before it: get_policy_rules_by_page and add_rule_to_policy_set
    # are about rules, get_auth_domains_for_customer about domains
    cut = next((j for j, w in enumerate(named) if w in _QUALIFIERS and j > 1), len(named))
    nouns = [w for w in named[:cut] if w not in _VERBS and w not in _NOT_HEAD]
    return nouns[-1] if nouns else None


# "(Zscaler Cloud & Branch Connector)" after a service's short name: the service is matched as a service
_PRODUCT = re.compile(r"\(Zscaler [^)]*\)")
# the note every ZIA/ZTW write carries: it says nothing about the object, but matches "pending changes" requests
_STAGED = re.compile(r"The change is staged until the tenant's pending changes are activated\.")


# "the PUT on the same path adds them": an HTTP method a description names is no word of its object ("what category
# does zia put this site in")
_METHOD = re.compile(r"\b(GET|PUT|POST|PATCH|DELETE)\b")


def words(text: str) -> list[str]:
    """`ListURLCategories user_groups /zia/api/v1` -> ['list', 'url', 'category', 'user', 'group', 'zia', ...]."""
    return [stem(w) for w in tokens(text)]


_TENANT_SEGMENTS = {"customers", "customer", "organizations", "orgs", "tenants"}


def operation_kind(tool: Any) -> str:
    """list, get, count (reads); create, update, delete, action (writes) - from scope, method, path and name; a
    composite tool's is report (read-only) or job."""
    if tool.method == "COMPOSITE":
        return "report" if tool.scope == "read" else "job"
    name = tokens(tool.name)
    segments = [s for s in tool.path.split("/") if s]
    if tool.scope == "read":
        last = tokens(segments[-1]) if segments else []
        if {"count", "quota"} & set(last) or name[-1:] == ["count"]:  # a quota answers "how many more"
            return "count"  # (by words: /accountGroups and /usage/countries are no counts)
        if segments and segments[-1].startswith("{"):
            # /webApplicationRules/{rule_type}, /inventory/software/{softwareKey}: named list_*, the rules of a type
            return "list" if name[1:2] == ["list"] else "get"
        if any(p[2] == "query" and p[3] and p[0].lower().endswith("id") for p in getattr(tool, "params", ())):
            return "get"  # ZCC's getDeviceDetails?udid=...: one device, named by a required query parameter
        # /findings/{finding_id}/details is one finding's; /customers/{id}/connector or /organizations/{org_id}/findings
        # (the tenant's own id) and ZPA's get_all_* are lists
        one = any(s.startswith("{") and segments[j - 1].lower() not in _TENANT_SEGMENTS
                  for j, s in enumerate(segments[-3:], start=len(segments) - 3) if j > 0)
        return "get" if one and name[1:2] == ["get"] and "all" not in name else "list"
    # a destructive PUT named by another verb ("deactivate a monitor") acts on the object: an action, not a delete
    removes = any("delete" in w or "remove" in w for w in name) or "revoke" in name
    if tool.method == "DELETE" or removes or (tool.scope == "destructive" and tool.method not in ("PUT", "PATCH")):
        return "delete"
    if tool.scope == "destructive":
        return "action"
    if tool.method in ("PUT", "PATCH"):
        return "update"
    return "create" if {"create", "add"} & set(name[1:3]) else "action"


class SearchIndex:
    @classmethod
    def for_catalog(cls, catalog: Any, *, examples: bool = True, leave_out: int | None = None,
                    leave_out_composites: int | None = None, **kw: Any) -> SearchIndex:
        """The index search_operations uses: each toolset's description, each operation's field names and the
        requests administrators wrote for it (`examples`; `leave_out` / `leave_out_composites`: a round of the
        operations' / the composite tools' benchmark whose requests are not, to measure it)."""
        from ._search_examples import examples_by_tool
        from ._search_fields import operation_fields
        from ._search_sdk import operation_sdk_names

        tools = list(catalog.tools.values())
        vocabulary = kw.get("vocabulary") or load_vocabulary()
        nobody = Speller({})  # titles need no spelling corrected, and the index's speller is not built yet

        def read(text: str) -> list[str]:
            return sorted(vocabulary.read(text, nobody).terms)

        written = functools.partial(examples_by_tool, leave_out=leave_out, leave_out_composites=leave_out_composites,
                                    read=read)
        index = cls(tools, areas={n: ts.description for n, ts in catalog.toolsets.items()},
                    fields=operation_fields(tools), sdk=operation_sdk_names(tools),
                    examples=written(tools) if examples else None, **kw)
        index._written = written if examples else None
        return index

    def __init__(self, tools: Iterable[Any], *, areas: dict[str, str] | None = None,
                 fields: dict[str, list[str]] | None = None, sdk: dict[str, tuple[str, str]] | None = None,
                 vocabulary: Vocabulary | None = None, examples: dict[str, list[list[str]]] | None = None,
                 plain: bool = False, ranking: Ranking | None = None, statistics: SearchIndex | None = None):
        """`areas`: toolset name -> its description (console words for the whole family). `fields`: tool name ->
        the names of the properties it sends and returns (matched lightly). `sdk`: tool name -> the SDK's names for
        it and its docstring's first sentence. `examples`: tool name -> the words of each request written for it, as
        search read them (_search_examples.py). `plain`: BM25 and coverage only (no
        intents, names' subjects or services), as a client's own search would rank. `statistics`: another index whose
        document frequencies, field lengths and speller score these tools too (see `alongside`)."""
        self.vocabulary = vocabulary or load_vocabulary()
        self.plain = plain
        self.ranking = ranking or Ranking()
        self._tools: list[Any] = []
        self._kinds: list[str] = []
        self._subjects: list[frozenset[str]] = []  # the name's nouns: what the operation is about
        self._lite: list[bool] = []
        self._bulk: list[bool] = []
        self._heads: list[str | None] = []
        self._timed: list[bool] = []  # takes a time window (ZDX from/to, Z-Insights startTime/endTime)
        self._every: list[bool] = []  # named *_all: every object at once (ztb_bulk_ignore_all)
        self._adds: list[bool] = []  # named "add": zid_add_group_user adds to an object that is there
        self._lookup: list[bool] = []  # named lookup: zia_lookup_url_classification
        self._inside: list[bool] = []  # its path has an object's id before its last segment
        self._activating: list[bool] = []  # named activate or sync: zia_activate, zpa_activate_emergency_access_user
        self._products: list[frozenset[str]] = []
        self._keywords: list[tuple[frozenset[str], ...]] = []
        self._parts: list[bool] = []  # a read of one object's part: /incidents/{id}/tickets, /users/{uid}/department
        self._spelled: dict[tuple[str, ...], list[int]] = {}  # a name without its prefix, as words
        docs: list[dict[str, list[str]]] = []
        field_docs: list[list[str]] = []
        area_words = {name: words(text) for name, text in (areas or {}).items()}
        for tool in tools:
            path = re.sub(r"\{[^}]*\}", " ", tool.path)
            listed = f"{tool.title} {tool.description}"  # a client's own search reads it whole, product names too
            # a composite tool's: what administrators call its job (CompositeTool.keywords), phrase by phrase
            phrases = [] if plain else [p for p in (words(k) for k in getattr(tool, "keywords", ())) if p]
            docs.append({
                "name": list(dict.fromkeys(words(tool.name) + words(tool.operation_id))),
                "path": [w for w in words(path) if w not in _PATH_NOISE],
                "toolset": words(tool.toolset),
                "area": area_words.get(tool.toolset, []),
                "text": words(listed if plain else _METHOD.sub("", _STAGED.sub("", _PRODUCT.sub("", listed)))),
                **dict(zip(("sdk", "sdk_text"), (words(t) for t in (sdk or {}).get(tool.name, ("", ""))), strict=True)),
                "keywords": [w for p in phrases for w in p],
                "examples": [] if plain else [w for terms in (examples or {}).get(tool.name, ()) for w in terms],
            })
            field_docs.append(list(dict.fromkeys(w for f in (fields or {}).get(tool.name, ()) for w in words(f))))
            self._tools.append(tool)
            self._kinds.append(operation_kind(tool))
            typed, stems = tokens(tool.name), words(tool.name)
            named = set(typed)
            self._lite.append(bool({"lite", "summary", "summaries"} & named))
            self._bulk.append(any(w.startswith("bulk") for w in named))
            self._subjects.append(frozenset(w for w in stems if w not in _VERBS))
            self._heads.append(name_head(tool.name))
            self._adds.append(typed[1:2] == ["add"])
            segments = tool.path.split("/")  # POST /applications/{aid}/monitors: made inside an object that is there
            self._inside.append(any(s.startswith("{") and segments[j - 1].lower() not in _TENANT_SEGMENTS
                                    for j, s in enumerate(segments[:-1]) if j))
            self._every.append(typed[-1] == "all")
            self._activating.append(bool({"activat", "sync"} & set(stems)))
            self._lookup.append("lookup" in named)
            self._timed.append(any(_TIMED.match(a) for a in [
                *(p[1] for p in getattr(tool, "params", ()) if p[2] in ("query", "variable")),
                *getattr(tool, "arguments", ())]))  # a composite tool's (its input schema's properties)
            self._keywords.append(tuple(frozenset(p) for p in phrases))
            # a composite tool works in the products its operations belong to: a request naming one of them is its
            self._products.append(frozenset(getattr(tool, "services", ()) or (tool.service,)))
            self._spelled.setdefault(tuple(stems[1:]), []).append(len(self._tools) - 1)
            last = tool.path.rstrip("/").rsplit("/", 1)[-1]
            self._parts.append(self._kinds[-1] == "get" and "{" in tool.path and not last.startswith("{")
                               and self._heads[-1] in words(last))
        # the titles of the operations on the same resource (list, get, create, update, delete of /reports/{type}):
        # console words written for one of them ("report schedules") name the others' object too
        families: dict[tuple[str, str], set[str]] = {}
        resource = [(t.service, re.sub(r"(/\{[^}]*\})+/?$", "", t.path)) for t in self._tools]
        for key, t in zip(resource, self._tools, strict=True):
            families.setdefault(key, set()).update(w for w in words(t.title) if w not in _VERBS)
        for doc, key in zip(docs, resource, strict=True):  # a client's own search sees no resources
            doc["family"] = [] if plain else sorted(families[key])
        keys = {key: n for n, key in enumerate(dict.fromkeys(resource))}
        self._family = [keys[key] for key in resource]
        avg = {f: (sum(len(d[f]) for d in docs) / len(docs) if docs else 1.0) or 1.0 for f in _FIELDS}
        self._avg: dict[str, float] = statistics._avg if statistics is not None else avg
        avg = self._avg
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for i, doc in enumerate(docs):
            weighted: defaultdict[str, float] = defaultdict(float)
            for f, (weight, b) in _FIELDS.items():
                if not weight:  # a field weighed 0 is off: its words are no postings (nor coverage, nor spelling)
                    continue
                norm = 1 - b + b * len(doc[f]) / avg[f]
                for w, tf in Counter(doc[f]).items():
                    weighted[w] += weight * tf / norm
            for w, tfw in weighted.items():
                self._postings.setdefault(w, []).append((i, tfw / (_K1 + tfw)))
        self._services_of: dict[str, set[str]] = {}  # word -> the services whose operations use it
        for w, postings in self._postings.items():
            self._services_of[w] = {self._tools[i].service for i, _ in postings}
        self._n: int = len(docs) + (statistics._n if statistics is not None else 0)
        n = self._n
        self._df: dict[str, int] = {w: len(p) + (statistics._df.get(w, 0) if statistics is not None else 0)
                    for w, p in self._postings.items()}
        self._idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in self._df.items()}
        self._speller: Speller = statistics._speller if statistics is not None else Speller(self._df)
        self._alongside: dict[tuple[str, ...], SearchIndex] = {}
        self._written: Callable[[list[Any]], dict[str, list[list[str]]]] | None = None  # tools -> their examples
        self._field_postings: dict[str, list[int]] = {}
        for i, names in enumerate(field_docs):
            for w in names:
                self._field_postings.setdefault(w, []).append(i)
        self._field_idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
                           for w, p in self._field_postings.items()}

    def alongside(self, tools: Iterable[Any]) -> SearchIndex:
        """An index over other tools (a server's composite tools) scored with this one's statistics: a word is as
        rare, a field as long and a typo corrected as among the operations, so their scores compare with the
        operations' (an index of 50 composite tools alone makes every word it has rare). Kept per set of tools."""
        tools = list(tools)
        key = tuple(sorted(t.name for t in tools))
        if key not in self._alongside:
            self._alongside[key] = SearchIndex(tools, vocabulary=self.vocabulary, ranking=self.ranking, statistics=self,
                                               examples=self._written(tools) if self._written else None)
        return self._alongside[key]

    def read(self, query: str) -> Reading:
        return self.vocabulary.read(query, self._speller)

    def search(self, query: str, *, service: str | None = None, scope: str | None = None,
               allowed: Iterable[str] | None = None, limit: int = 10,
               ranking: Ranking | None = None) -> list[tuple[float, Any]]:
        rk = ranking or self.ranking
        reading = self.read(query)
        terms = dict(reading.terms)
        if reading.services:  # in the named product a console word means that product's word ("ztb sites")
            named_services = set(reading.services)
            for word, api_words in reading.mapped.items():
                foreign = [w for w in api_words if not self._services_of.get(w, set()) & named_services]
                for w in foreign:
                    if w not in reading.mapped:
                        terms[w] = min(terms.get(w, 0.0), CONSUMED)
                if len(foreign) == len(api_words):
                    terms[word] = ORIGINAL
        for verb in _NAMING_VERBS.get(reading.intent or "", ()):  # "delete" finds remove_*, "add" create_*
            terms[verb] = max(terms.get(verb, 0.0), VERB)
        for product in reading.services if len(reading.services) > 1 else ():  # zcc_sync_zpa_admin_users: a
            terms[product] = max(terms.get(product, 0.0), _PRODUCT_IN_NAME)  # product in another's name
        if reading.intent in ("count", "activate"):  # the operations are named so: get_*_count, activate
            terms[stem(reading.intent)] = max(terms.get(stem(reading.intent), 0.0), 0.25)
        unknown = False
        for term, weight in list(terms.items()):
            if term not in self._postings and len(term) >= 4:  # a word's beginning: "categor", "provision"
                del terms[term]
                starts = sorted((w for w in self._postings if w.startswith(term)), key=lambda w: -self._df[w])[:3]
                for w in starts:
                    terms[w] = max(terms.get(w, 0.0), weight / 2)
                unknown |= (weight >= 1.0 and not starts and term not in self._field_postings
                            and term not in reading.inflected)  # "requests carrying a header": no app's name
        unknown |= reading.site  # a host name: a site
        if (unknown and reading.intent in (None, "update") and set(self.vocabulary.site_verbs) & terms.keys()
                and set(reading.services) <= {"zia"}):
            for w in self.vocabulary.site_words:  # "block bittorrent", "let them use facebook": a site or an app
                terms[w] = max(terms.get(w, 0.0), _NAMED_SITE)
        if not terms and not reading.services:
            return []
        allowed_set = set(allowed) if allowed is not None else None
        total = sum(terms.values()) or 1.0
        score: dict[int, float] = {}
        covered: dict[int, float] = {}
        for term, weight in terms.items():
            idf = self._idf.get(term, 0.0)
            for i, part in self._postings.get(term, ()):
                score[i] = score.get(i, 0.0) + weight * idf * part
                covered[i] = covered.get(i, 0.0) + weight
            if not self.plain:  # "the category of a URL": an operation whose fields say so
                field_idf = self._field_idf.get(term, 0.0) * _FIELD_WEIGHT
                for i in self._field_postings.get(term, ()):
                    score[i] = score.get(i, 0.0) + weight * field_idf / (_K1 + 1)
                    covered[i] = covered.get(i, 0.0) + weight * _FIELD_COVERAGE
        if not terms:  # only a product name: its operations, lists first
            score = {i: 1.0 for i, t in enumerate(self._tools) if t.service in reading.services}
        compat = _COMPAT[reading.intent]
        if reading.intent in (None, "list") and not reading.names_one:
            compat = {**compat, "get": compat["get"] * rk.no_one_named}  # "lookalike domains" lists them all
        relevance: dict[int, float] = {}  # how well an operation's words match, before what kind it is
        for i, raw in score.items():
            fit = raw * (1 - rk.coverage + rk.coverage * covered.get(i, total) / total)
            if not self.plain:
                subject = self._subjects[i]
                # "app connectors" is answered by list_all_assistants, not list_assistant_groups. A composite tool's
                # name says what job it does, not which object it is about: instead, a share of its match, all of it
                # when the request says one of its keyword phrases whole ("compromised account")
                if self._kinds[i] in _COMPOSITE_KINDS:
                    said = sum(1 for phrase in self._keywords[i] if phrase <= terms.keys())
                    fit *= min(1.0, _COMPOSITE_FIT + _COMPOSITE_PHRASE * said)
                else:
                    named = len(subject & terms.keys()) / len(subject) if subject else 0.5
                    fit *= 1 - rk.subject + rk.subject * named
            relevance[i] = fit
        if not self.plain:
            # the create and the update of one resource (POST /nssFeeds, PUT /nssFeeds/{id}) change the same object,
            # but their descriptions were written with different detail: the one of the kind asked is credited with
            # most of the better match of the two, so the kind asked decides ("add the scim group to the existing
            # access rule" had ranked the update of ZPA policy rules fifth, under creates). Reads lend nothing: a list's
            # description says what the objects do, which would lift every write on them
            best: dict[int, float] = {}
            for i, fit in relevance.items():
                if self._kinds[i] in _EDITS:
                    best[self._family[i]] = max(best.get(self._family[i], 0.0), fit)
            asked = {reading.intent} & _EDITS
            relevance = {i: max(fit, rk.family * best[self._family[i]]) if self._kinds[i] in asked else fit
                         for i, fit in relevance.items()}
        # "group with member", "list all assistants": a request that spells a tool's name without its prefix (the
        # service, a composite family) means that tool, whatever the vocabulary made of its words
        spelled = set(self._spelled.get(tuple(words(query)), ())) if not self.plain else set()
        adding = reading.intent == "update" and "add" in terms
        every = bool(_EVERY & set(tokens(query)))
        ranked: list[tuple[float, str, Any]] = []
        for i, fit in relevance.items():
            tool = self._tools[i]
            if (service and tool.service != service) or (scope and tool.scope != scope):
                continue
            if allowed_set is not None and tool.name not in allowed_set:
                continue
            if self.plain:
                ranked.append((fit, tool.name, tool))
                continue
            inside = self._heads[i] in reading.container
            head = inside or self._heads[i] in reading.head
            # "tickets raised for an incident" asks for one object's tickets without giving its id: the part named
            # is what is wanted, as a list would be; so is the named object that holds what is asked about
            kind = "list" if head and (self._parts[i] or (inside and self._kinds[i] == "get")) else self._kinds[i]
            if kind == "create" and adding and self._adds[i] and self._heads[i] in reading.head:
                kind = "update"  # "add user 8812 to group 301": zid_add_group_user (a POST) changes the group
            elif kind == "create" and adding and self._inside[i] and self._heads[i] in reading.head:
                kind = "update"  # "add a web probe to the Intranet app": POST /applications/{aid}/monitors
            s = fit * compat[kind]
            products = self._products[i]
            if reading.services and not products & set(reading.services):
                s *= rk.other_service
            elif not reading.services and reading.hinted and not products & set(reading.hinted):
                s *= rk.hinted_other
            elif not reading.services and not reading.hinted:
                s *= self.vocabulary.prior.get(tool.service, 1.0) ** rk.prior
            if head:
                s *= 1 + rk.head
            elif reading.qualifier and self._subjects[i] and self._subjects[i] <= reading.qualifier:
                s *= 1 - rk.qualified  # "provisioning keys for app connectors" asks for keys, not connectors
            if i in spelled:
                s *= 1 + rk.spelled
            if reading.intent == "activate" and self._activating[i]:
                s *= 1 + rk.activating  # "the url edits are saved, now activate them": the edits are done
            if reading.site and self._lookup[i] and reading.intent in (None, "list", "get"):
                s *= 1 + rk.looked_up  # "what category does zia put fr-login-microsoft.top in": look the site up
            if reading.window and self._timed[i]:
                s *= 1 + rk.window
            if self._lite[i]:
                s *= 0.97  # the full listing first; the lite one is there too
            if self._bulk[i] and "bulk" not in terms:
                s *= 0.9  # "delete a group" is the one-group call; the bulk one is for "several"
            if self._every[i] and every:
                s *= 1 + rk.every  # "acknowledge all alarms": ztb_bulk_acknowledge_all, not the chosen ones'
            ranked.append((s, tool.name, tool))
        ranked.sort(key=lambda r: (-r[0], len(r[1]), r[1]))
        return [(round(s, 3), t) for s, _, t in ranked[:limit]]

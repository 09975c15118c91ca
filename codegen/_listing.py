"""What `--tools-mode full` lists of an operation: its description in the words an administrator searches with.

Clients that search tool definitions themselves (deferred tools) see only names, titles and descriptions, not
search_operations' vocabulary, intents or product hints (oneapi_mcp/_search.py). So the description carries them,
from data, kept short and true:

- what kind of operation it is, in the words people ask for it ("Lists all ... (shows which exist)",
  "Counts ...: how many there are", "Creates (adds) a new ...") when the title names its object;
  a read is a list only when its answer is a collection (an array, a page of one, or paging);
- the product's name ("ZIA (Internet Access)", from the spec's title and short name) where the text lacks it;
- the console names that specs/overlays/vocabulary.yaml maps to the words the tool's name starts with
  ("app connector" for ZPA's `assistant` operations);
- the names Zscaler's SDK gives it (specs/sdk_names.json): its resource client's documented title among the
  "Also called" names, and the SDK call (`app_connector_groups.list_connector_groups`), where they add words;
- a generated description loses its ", calling GET /path": the path repeats the tool's name word for word
  (so it outweighs what a hand-written description says), and the definition keeps method and path; a
  generated read of one object says so ("Returns one rule label by id"), so it does not pass for the list.
Names never change here; hand-written descriptions keep their words and only gain these sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._vocabulary import stem, tokens

__all__ = ["ConsoleNames", "listed_description", "operation_kind", "product_label"]

# the first word of a title that says what the operation does, for each kind; what follows names the object
_TITLE_VERBS = {"list": ("Lists", "Returns", "Gets"), "count": ("Counts", "Returns", "Gets"),
                "create": ("Creates", "Adds"), "update": ("Updates",), "delete": ("Removes", "Deletes")}
_KIND_LINE = {
    "list": "Lists all {s} (shows which exist).",
    "count": "Counts {s}: how many there are.",
    "create": "Creates (adds) a new {s}.",
    "update": "Updates (changes) {s}.",
    "delete": "Deletes (removes) {s}.",
}
# the converter's sentence ending (codegen/_convert.py): "..., calling GET /path." or "... ZDX (...): GET /path."
_CALLING = re.compile(r"(?:,? calling|:) (?:GET|POST|PUT|PATCH|DELETE) /\S*?(?=\.(?:\s|$))")
# the converter's sentence for a read of one object: "Returns rule label in ZIA (...)"
_RETURNS = re.compile(r"^Returns (?!one |an? |the )([^.,:;()]+?) in (?=[A-Za-z][\w& -]* \()")
# answers that hold a collection: the key a page of items sits under (ZPA `list`, GraphQL `nodes`, ...)
_ITEM_KEYS = {"list", "items", "nodes", "entries", "records", "results", "data", "content", "elements"}
_NAME_VERBS = {"list", "get", "all", "create", "update", "remove", "delete", "add"}


def product_label(short: str, title: str) -> str:
    """"Zscaler Internet Access (ZIA) through Zscaler OneAPI", "ZIA" -> "ZIA (Internet Access)"."""
    product = re.sub(r"^Zscaler\s+|\s*\([^)]*\)|\s+through Zscaler OneAPI$", "", title).strip()
    return short if not product or product.lower() == short.lower() else f"{short} ({product})"


def _is_collection(doc: dict, op: dict, deref) -> bool:
    if op.get("x-oneapi-pagination"):
        return True
    for code, response in sorted((op.get("responses") or {}).items()):
        if not str(code).startswith("2"):
            continue
        for media in (deref(doc, response).get("content") or {}).values():
            schema = deref(doc, media.get("schema") or {})
            if schema.get("type") == "array" or any(
                    key in _ITEM_KEYS and deref(doc, sub).get("type") == "array"
                    for key, sub in (schema.get("properties") or {}).items()):
                return True
    return False


def operation_kind(doc: dict, op: dict, method: str, path: str, name: str, scope: str, deref) -> str | None:
    """list, count, get (one object by the path's last parameter), create, update or delete; None for another
    read (a settings object) or action."""
    words = tokens(name)[1:]
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if scope == "read":
        if "count" in tokens(last) or words[-1:] == ["count"]:  # by words: /publicCloudAccountIdStatus is no count
            return "count"
        if _is_collection(doc, op, deref):
            return "list"
        return "get" if last.startswith("{") else None
    if method == "DELETE" or {"delete", "remove"} & set(words[:2]):
        return "delete"
    if method in ("PUT", "PATCH"):
        return "update"
    return "create" if {"create", "add"} & set(words[:2]) else None


@dataclass(frozen=True)
class ConsoleNames:
    """Console phrase -> the API phrase it names, from vocabulary.yaml's `terms`: only entries that name one API
    phrase (not a fan-out of related words), are not a verb, and are a product's own word (`[assistant, zpa]`)
    or a phrase of two words or more on either side ("firewall policy" -> firewall filtering rule)."""

    entries: tuple[tuple[str, tuple[str, ...], frozenset[str], tuple[str, ...]], ...] = ()

    @classmethod
    def from_vocabulary(cls, data: dict | None) -> ConsoleNames:
        data = data or {}
        services = set(data.get("services") or {})
        verbs = {w for intent, phrases in (data.get("intents") or {}).items() if intent not in ("list", "get", "count")
                 for p in phrases for w in tokens(p)}
        out = []
        for phrase, targets in sorted((data.get("terms") or {}).items()):
            hinted = frozenset(t for t in targets if t in services)
            api = [_key(t) for t in targets if t not in services]
            words = tokens(phrase)
            if len(api) != 1 or not words or words[0] in verbs:
                continue
            if hinted or len(words) >= 2 or len(api[0]) >= 2:
                out.append((phrase, _key(phrase), hinted, api[0]))
        return cls(tuple(out))

    def for_tool(self, service: str, name: str, listed: set[str], limit: int = 3) -> list[str]:
        """The console names of the object a tool's name is about (the longest API phrase its name starts with,
        after the verb), leaving out those whose words the listing has already."""
        subject = [stem(w) for w in tokens(name)[1:]]
        while subject and subject[0] in _NAME_VERBS:
            subject = subject[1:]
        found = [(len(api), phrase, key) for phrase, key, hinted, api in self.entries
                 if (not hinted or service in hinted) and tuple(subject[:len(api)]) == api]
        longest = max((n for n, _, _ in found), default=0)
        names: list[str] = []
        seen: set[tuple[str, ...]] = set()
        for n, phrase, key in sorted(found, key=lambda f: (-f[0], -len(f[2]), f[1])):
            if n == longest and key not in seen and not set(key) <= listed:
                seen.add(key)
                names.append(phrase)
        return names[:limit]


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in tokens(phrase))


def _words(*texts: str) -> set[str]:
    return {stem(w) for text in texts for w in tokens(text)}


def _by(path: str) -> str:
    """What a read of one object is keyed by: the path's last parameter ("{certId}": id, "{ruleType}": rule type)."""
    last = path.rstrip("/").rsplit("/", 1)[-1].strip("{}")
    return "id" if last.lower().endswith("id") else " ".join(tokens(last))


def listed_description(description: str, *, title: str, name: str, kind: str | None, product: str,
                       console: ConsoleNames, service: str, generated: bool, path: str = "",
                       sdk: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> str:
    """The description `--tools-mode full` lists (see the module docstring). `sdk`: the SDK's titles of the
    operation's resource client and its calls (codegen/_sdk_names.listing_names)."""
    text = _CALLING.sub("", description) if generated else description
    if kind == "get" and generated:  # "Returns one rule label by id in ZIA (...)": which read it is
        text = _RETURNS.sub(lambda m: f"Returns one {m[1]} by {_by(path)} in ", text, count=1)
    verb = re.match(rf"^({'|'.join(_TITLE_VERBS.get(kind or '', ()))})\s+(?:all\s+)?(?!or\b)", title)
    subject = re.sub(r"^(?:the|an?)\s+", "", title[verb.end():], flags=re.I) if kind in _TITLE_VERBS and verb else ""
    if kind == "count":
        subject = re.sub(r"\s+counts?$", "", subject, flags=re.I)
    line = _KIND_LINE[kind].format(s=subject) if kind in _KIND_LINE and subject else ""
    if _words(line) <= _words(name, title, text):
        line = ""  # the description says it already ("Counts the custom file types ... (how many there are)")
    parts = [line, text]
    listed = _words(name, title, line, text)
    if not _words(product) <= listed:
        parts.append(f"Product: {product}.")
    names = console.for_tool(service, name, listed)
    titles, calls = sdk
    for title_ in titles:
        if not _words(title_) <= listed | _words(*names):
            names.append(title_)
    if names:
        parts.append(f"Also called: {', '.join(names)}.")
    listed |= _words(*names)
    new_calls = [c for c in calls[:2] if not _words(c) <= listed]
    if new_calls:
        parts.append(f"SDK: {', '.join(new_calls)}.")
    return " ".join(p for p in parts if p)

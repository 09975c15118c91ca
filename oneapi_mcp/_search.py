"""Ranking operations for `search_operations`: words from names, toolsets, paths and descriptions."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from ._catalog import ToolDef

__all__ = ["SearchIndex", "words"]

_FIELD_WEIGHTS = (("name", 4.0), ("toolset", 3.0), ("path", 2.0), ("text", 1.0))
_STOP = {"a", "an", "the", "of", "in", "to", "for", "and", "or", "on", "by", "with", "api", "v1", "zscaler"}


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def words(text: str) -> list[str]:
    """`ListURLCategories user_groups /zia/api/v1` -> ['list', 'url', 'category', 'user', 'group', 'zia']."""
    text = re.sub(r"([a-z\d])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    out = []
    for w in re.split(r"[^A-Za-z0-9]+", text.lower()):
        if w and w not in _STOP:
            out.append(_stem(w))
    return out


class SearchIndex:
    def __init__(self, tools: Iterable[ToolDef]):
        self._entries: list[tuple[ToolDef, dict[str, set[str]]]] = []
        for tool in tools:
            fields = {
                "name": set(words(tool.name)) | set(words(tool.operation_id)),
                "toolset": set(words(tool.toolset)),
                "path": set(words(re.sub(r"\{[^}]*\}", " ", tool.path))),
                "text": set(words(tool.title + " " + tool.description)),
            }
            self._entries.append((tool, fields))
        df: Counter[str] = Counter()
        for _, fields in self._entries:
            df.update(set().union(*fields.values()))
        n = max(len(self._entries), 1)
        # rare words (e.g. "scim") say more about what is wanted than common ones (e.g. "list")
        self._idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self._default_idf = math.log(1 + n)

    def search(self, query: str, *, service: str | None = None, scope: str | None = None,
               allowed: Iterable[str] | None = None, limit: int = 10) -> list[tuple[float, ToolDef]]:
        terms = words(query)
        if not terms:
            return []
        allowed_set = set(allowed) if allowed is not None else None
        scored: list[tuple[float, str, ToolDef]] = []
        for tool, fields in self._entries:
            if service and tool.service != service:
                continue
            if scope and tool.scope != scope:
                continue
            if allowed_set is not None and tool.name not in allowed_set:
                continue
            score = 0.0
            matched = 0
            for term in terms:
                best = 0.0
                for field, weight in _FIELD_WEIGHTS:
                    bag = fields[field]
                    if term in bag:
                        best = max(best, weight)
                    elif len(term) >= 3 and any(w.startswith(term) for w in bag):
                        best = max(best, weight / 2)
                if best:
                    matched += 1
                idf = self._idf.get(term)
                if idf is None:  # a prefix of indexed words: weigh it like the rarest of them
                    idf = max((v for w, v in self._idf.items() if w.startswith(term)), default=self._default_idf)
                score += best * idf
            if matched:
                # every query word found beats a few words found strongly
                score *= matched / len(terms)
                if tool.service in terms:
                    score += 1.0
                if tool.method == "GET" and not tool.path.endswith("}"):
                    score += 0.3  # listing is where an agent usually starts
                scored.append((score, tool.name, tool))
        scored.sort(key=lambda s: (-s[0], len(s[1]), s[1]))
        return [(round(s, 2), t) for s, _, t in scored[:limit]]

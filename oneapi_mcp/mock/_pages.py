"""List answers: filtering by the common query parameters and pagination in each service's style.

- page + short_page (ZIA, ZTW, ZCC): 1-based `page` and `pageSize`; a flat array (or, for a few
  ZCC lists, an object holding it); the last page is the first one shorter than pageSize.
- page + total_pages (ZPA): `page` and `pagesize`; `{totalPages, totalCount, list}` with the
  counts as strings.
- offset + next_offset (ZDX): an opaque `offset` and `limit`; `next_offset` is null at the end.
- offset + next_link (ZIdentity): `offset` and `limit`; `{records, results_total, pageOffset,
  pageSize, next_link, prev_link}` with absolute links, null where there is no such page.
- page + total_pages from 0 (ZCell): `page` (0-based) and `size`; `{content, totalPages, totalElements, size}`.
- page + short_page, rows nested (ZTB): `page` and `limit`; `{result: {count, rows}}` (or `{count, result}`),
  `count` the total.
- offset + next_link (EASM findings, look-alike domains): `offset`; `{results, total_results, next_link,
  prev_link}`, 100 results a page, links relative to the service (`/easm-ui/v1/...?offset=N`) and empty
  where there is no such page (recorded: zeasm/cassettes/TestFindings.yaml).
- single (AI Guard, EASM organizations): no paging; the whole list under one key (`{items}`, `{results,
  total_results}`).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from starlette.datastructures import URL

__all__ = ["Page", "filter_items", "paginate"]

_DEFAULT_SIZE = {"zia": 100, "ztw": 100, "zcc": 50, "zpa": 20, "zdx": 50, "zid": 100}
_MAX_SIZE = {"zia": 10_000, "ztw": 10_000, "zcc": 5_000, "zpa": 500, "zdx": 1_000, "zid": 1_000}
_NAME_FIELDS = ("name", "displayName", "configuredName", "email", "loginName", "primaryEmail", "rule_name", "user")
_ZPA_SEARCH = re.compile(r"(\w+)\+(EQ|NE|GT|LT|GE|LE|CONTAINS|STARTSWITH|ENDSWITH)\+(.*)", re.IGNORECASE)
_IGNORED = {
    "from",
    "to",
    "sortBy",
    "sortOrder",
    "sortDir",
    "microtenantId",
    "includeAll",
    "includeDeleted",
    "searchType",
    "deviceType",
    "excludedynamicgroups",
}
_LIKE = {"loginname": "loginName", "primaryemail": "primaryEmail", "displayname": "displayName", "name": "name"}


class Page:
    """One page of a list, and the wire-format fields to set after the body is fitted to its schema."""

    def __init__(self, body: Any, overrides: dict[str, Any]) -> None:
        self.body = body
        self.overrides = overrides


def _text(value: Any) -> str:
    return str(value).lower()


def _names(item: dict) -> list[str]:
    return [_text(item[f]) for f in _NAME_FIELDS if isinstance(item.get(f), (str, int))]


def _matches(item: dict, name: str, value: Any) -> bool:
    if name == "id" and isinstance(value, list):
        return str(item.get("id")) in {str(v) for v in value}
    if name == "name" and isinstance(item.get("name"), str) and not _ZPA_SEARCH.fullmatch(str(value)):
        # `name` filters the display name only, a "starts with" match (the SDK's zia/user_management.py
        # list_users); it never matches an e-mail address: `search` does (name or e-mail)
        return _text(item["name"]).startswith(_text(value))
    if name in ("search", "q", "name"):
        match = _ZPA_SEARCH.fullmatch(str(value))
        if match:
            field, op, wanted = match.group(1), match.group(2).upper(), match.group(3).lower()
            have = _text(item.get(field, ""))
            return {
                "EQ": have == wanted,
                "NE": have != wanted,
                "CONTAINS": wanted in have,
                "STARTSWITH": have.startswith(wanted),
                "ENDSWITH": have.endswith(wanted),
            }.get(op, True)
        return any(_text(value) in n for n in _names(item))
    if name.endswith("[like]"):
        field = _LIKE.get(name[:-6].lower(), name[:-6])
        return _text(value) in _text(item.get(field, ""))
    if name == "dept" and isinstance(item.get("department"), dict):
        return _text(item["department"].get("name", "")) == _text(value)
    if name == "group" and isinstance(item.get("groups"), list):
        return any(_text(g.get("name", "")) == _text(value) for g in item["groups"] if isinstance(g, dict))
    if name == "username":
        return _text(value) in _text(item.get("user", ""))
    if name == "loginname":
        wanted = value if isinstance(value, list) else [value]
        return _text(item.get("loginName", "")) in {_text(v) for v in wanted}
    if name in item and isinstance(item[name], (str, int, bool)) and not isinstance(value, list):
        return _text(item[name]) == _text(value)
    return True


def filter_items(items: list[dict], query: dict[str, Any], pagination: dict | None) -> list[dict]:
    skip = set(_IGNORED)
    for key in ("page_param", "size_param", "offset_param", "limit_param"):
        if pagination and pagination.get(key):
            skip.add(pagination[key])
    wanted = {k: v for k, v in query.items() if k not in skip and v not in (None, "")}
    return [item for item in items if all(_matches(item, k, v) for k, v in wanted.items())]


def _size(service: str, value: Any) -> int:
    if not isinstance(value, int) or value <= 0:
        return _DEFAULT_SIZE.get(service, 100)
    return min(value, _MAX_SIZE.get(service, 1_000))


def _encode_offset(n: int) -> str:
    return base64.urlsafe_b64encode(f"o:{n}".encode()).decode().rstrip("=")


def _decode_offset(text: Any) -> int:
    if not isinstance(text, str) or not text:
        return 0
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return 0
    return int(raw[2:]) if raw.startswith("o:") and raw[2:].isdigit() else 0


def paginate(
    service: str, pagination: dict | None, items: list[Any], query: dict[str, Any], url: URL, *, flat: bool
) -> Page:
    """Cut one page of `items` and wrap it the way the service does (`flat`: the schema is an array)."""
    style = (pagination or {}).get("style")
    result_key = "@" if flat else (pagination or {}).get("result_key", "@")
    if style == "page":
        size = _size(service, query.get(pagination["size_param"]))
        first = pagination.get("first_page", 1)  # ZCell: 0
        page = query.get(pagination["page_param"])
        page = page if isinstance(page, int) and page >= first else first
        chunk = items[(page - first) * size : (page - first + 1) * size]
        if service == "zpa" and result_key != "@":
            pages = math.ceil(len(items) / size)
            return Page({"list": chunk}, {"totalPages": str(pages), "totalCount": str(len(items))})
        if result_key == "@":
            return Page(chunk, {})
        if service == "zcell":  # {totalElements, totalPages, size, content} (zscaler/oneapi_response.py, zcell)
            return Page({result_key: chunk}, {"totalElements": len(items), "totalPages": math.ceil(len(items) / size),
                                              "size": size})
        if service == "ztb":  # ztb/cassettes/TestSite.yaml {result: {count, rows}}; TestSite2SiteVPN {count, result}
            outer, _, inner = result_key.partition(".")
            body = {outer: {"count": len(items), inner: chunk}} if inner else {"count": len(items), outer: chunk}
            return Page(body, {})
        return Page({result_key: chunk}, {"totalCount": len(items)} if service == "zcc" else {})
    if style == "offset":
        start = _decode_offset(query.get(pagination["offset_param"]))
        size = _size(service, query.get(pagination["limit_param"]))
        end = start + size
        next_offset = _encode_offset(end) if end < len(items) else None
        return Page({result_key: items[start:end]}, {pagination["next_key"]: next_offset})
    if style == "next_link" and service == "easm":
        return _easm_page(items, query.get(pagination["offset_param"]), url)
    if style == "next_link":
        offset_param, limit_param = pagination["offset_param"], pagination["limit_param"]
        offset = query.get(offset_param)
        start = offset if isinstance(offset, int) and offset >= 0 else 0
        size = _size(service, query.get(limit_param))
        end = start + size

        def link(at: int) -> str:
            return str(url.include_query_params(**{offset_param: at, limit_param: size}))

        # as recorded (tests/recorded/zid.jsonl): totalRecord beside results_total, and no link key
        # at all where there is no next or previous page
        overrides = {"results_total": len(items), "totalRecord": len(items), "pageOffset": start, "pageSize": size}
        if end < len(items):
            overrides["next_link"] = link(end)
        if start > 0:
            overrides["prev_link"] = link(max(0, start - size))
        return Page({"records": items[start:end]}, overrides)
    if style == "single" and result_key != "@":
        return Page({result_key: items}, {})  # one answer holds the whole list (AI Guard's {items}, EASM's {results})
    return Page(items, {})


def _easm_page(items: list[Any], offset: Any, url: URL) -> Page:
    """One EASM page: 100 results (as recorded), links without the gateway's `/easm` prefix, "" at the ends."""
    start = offset if isinstance(offset, int) and offset >= 0 else 0
    size = _size("easm", None)
    end = start + size

    def link(at: int) -> str:
        return url.path.removeprefix("/easm") + f"?offset={at}"

    return Page({"results": items[start:end]}, {"total_results": len(items),
                                                 "next_link": link(end) if end < len(items) else "",
                                                 "prev_link": link(max(0, start - size)) if start > 0 else ""})

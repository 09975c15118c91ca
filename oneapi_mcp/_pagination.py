"""The executor's paging layer: each service's pagination style (ZIA/ZTW/ZCC flat arrays that end at a
short page, ZPA `totalPages`, ZDX `next_offset`, ZIdentity and EASM `next_link`), read to the end or to
`max_items`. A key with a dot reaches into the answer: ZTB's `result.rows`, ZMS's `pageInfo.totalPages`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from ._call_result import CallResult
from ._catalog import Catalog, ToolDef

__all__ = ["default_page_size", "paginate"]

# Page sizes for page-numbered lists, within every documented maximum so that no endpoint clamps them
# (a clamped page would look short, the last one): reference/zscaler-api.md "Pagination" (ZIA users
# 10,000; ZPA 500) and the SDK's limits in zscaler/oneapi_response.py (ZIA 10,000, ZCC 5,000, ZPA 500;
# its ZIA default is 500). ZTW is the ZIA platform's API and pages the same way.
_PAGE_SIZE = {"zia": 500, "ztw": 500, "zcc": 1_000, "zpa": 500}
_MAX_PAGES = 200


async def paginate(tool: ToolDef, model: Any, control: dict[str, Any], *,
                   send_page: Callable[[dict[str, Any]], Awaitable[CallResult]],
                   default_size: Callable[[str, int | None], int]) -> CallResult:
    """Read page after page in the tool's style (`send_page(extra query)` sends one), until the last page,
    `max_items` or the page limit; the items gathered, with `more` and a note."""
    p = tool.pagination or {}
    limit = control.get("max_items")
    items: list[Any] = []
    more = False
    received: int | None = 0
    style = p.get("style")
    size_param: str = p.get("size_param") or p.get("limit_param") or ""
    dumped = model.model_dump(by_alias=True, exclude_unset=True)
    page_size = dumped.get(size_param) or (default_size(size_param, limit) if style == "page" else None)
    first = int(p.get("first_page", 1))  # ZCell counts pages from 0 (zscaler/zcell/anomaly_policy.py)
    page = int(dumped.get(p.get("page_param", "page")) or first) if style == "page" else None
    offset: Any = dumped.get(p.get("offset_param", "offset"))
    for _ in range(_MAX_PAGES):
        extra: dict[str, Any] = {}
        if style == "page":
            extra[p["page_param"]] = page
            if page_size:
                extra[size_param] = page_size
        elif offset is not None:
            extra[p["offset_param"]] = offset
        result = await send_page(extra)
        if result.is_error:
            return result
        data = result.data
        received = None if received is None or result.received is None else received + result.received
        batch = _extract(data, p.get("result_key", "@"))
        items.extend(batch)
        if limit and len(items) >= limit:
            more = len(items) > limit or _has_next(p, data, batch, page, page_size)
            items = items[:limit]
            break
        if not _has_next(p, data, batch, page, page_size):
            break
        if style == "page":
            page = (first if page is None else page) + 1
        else:
            offset = _next_offset(p, data)
    else:
        more = True
    note = (f"{len(items)} items; more remain (raise max_items or page on)" if more
            else f"{len(items)} items; no more pages")
    return CallResult({"items": items, "count": len(items), "more": more}, notes=[note], received=received)


def default_page_size(catalog: Catalog, tool: ToolDef, size_param: str, limit: int | None) -> int:
    """The page size sent when reading page by page and the caller chose none. A short-page list
    (ZIA, ZTW, ZCC: flat arrays, no count) ends at the first page shorter than the size asked for,
    so the size must be known: without it the service's default (ZIA 100) looked like a last page."""
    size = _PAGE_SIZE.get(tool.service, 100)
    declared = catalog.input_schema(tool.name).get("properties", {}).get(size_param, {}).get("maximum")
    if declared:
        size = min(size, declared)
    return min(size, limit) if limit else size



def _at(data: Any, key: str) -> Any:
    """`data[key]`, where a dotted key walks down objects (`result.rows`); None when a step is missing."""
    for part in key.split(".") if "." in key else (key,):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _extract(data: Any, key: str) -> list[Any]:
    if key in ("@", "", None) or isinstance(data, list):  # some ZCC lists come both ways (as in the SDK)
        return data if isinstance(data, list) else []
    value = _at(data, key)
    return value if isinstance(value, list) else []


def _has_next(p: dict, data: Any, batch: list, page: int | None, page_size: int | None) -> bool:
    stop = p.get("stop")
    if not batch:
        return False
    total_pages = _at(data, p.get("total_pages_key", "totalPages"))
    if stop == "total_pages" and total_pages is not None:
        first = int(p.get("first_page", 1))
        try:
            return int(total_pages) > (first if page is None else page) - first + 1  # pages read so far
        except (TypeError, ValueError):
            pass  # no usable count: the page's length decides, as for the short-page lists
    if stop in ("short_page", "total_pages"):
        return page_size is not None and len(batch) >= page_size
    return bool(_next_offset(p, data))


def _next_offset(p: dict, data: Any) -> Any:
    if not isinstance(data, dict):
        return None
    nxt = data.get(p.get("next_key", "next_offset"))
    if p.get("style") == "next_link" and isinstance(nxt, str) and nxt:
        m = re.search(r"[?&]" + re.escape(p.get("offset_param", "offset")) + r"=([^&]+)", nxt)
        return m.group(1) if m else None
    return nxt or None

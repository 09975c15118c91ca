"""Where the vendored specs disagree with the documented API, and the documents that say so.

The specs are converted from the SDK's service models, which get a few things wrong that the
reference notes (and the specs' own descriptions) get right. The mock serves the documented
behaviour; these functions give the documents that describe it:

- `corrected_document(svc)` (used to build the mock): ZIdentity's four list operations declare
  `PagedResultPublicsList`, an *array* of pages of *API clients*; the API returns one page
  object whose `records` are the listed objects (users, groups, API clients, resource servers).
- `contract_document(svc)` (used to check the mock's answers, and a tenant's): the above, plus
  the wire formats the models leave out: ZPA sends every int64 (ids, times) and its page counts
  (`totalPages`, `totalCount`, `currentCount`) as strings of digits; ZDX's `next_offset` and
  ZIdentity's `next_link`/`prev_link` are null when there is no further page.

Each change is idempotent, so a spec overlay that fixes the same thing makes it a no-op.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from ._spec import load_document

__all__ = ["CORRECTIONS", "contract_document", "corrected_document"]

CORRECTIONS = (
    (
        "zid",
        "list operations return one page object {records, results_total, pageOffset, pageSize, next_link, "
        "prev_link} of the listed type, not an array of API-client pages",
    ),
    ("zpa", "int64 values and page counts (totalPages, totalCount, currentCount) are strings of digits"),
    ("zdx", "next_offset is null on the last page"),
    ("zid", "next_link and prev_link are null when there is no such page"),
)

_ZPA_NUMBER = {"pattern": "^-?[0-9]{1,19}$", "type": "string"}
_PAGE_COUNTS = ("totalPages", "totalCount", "currentCount")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _fix_zid_lists(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    page = schemas.get("PagedResultPublic")
    for path, item in doc["paths"].items():
        get = item.get("get", {})
        content = get.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        if content.get("schema") != _ref("PagedResultPublicsList") or page is None:
            continue
        single = doc["paths"].get(path + "/{id}", {}).get("get", {})
        item_schema = single.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        item_name = item_schema.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
        if not item_name:
            continue
        page_name = "PagedResultPublic" if item_name == "ApiClient" else f"{item_name}PagedResultPublic"
        if page_name not in schemas:
            schemas[page_name] = {**copy.deepcopy(page)}
            schemas[page_name]["properties"]["records"] = {"items": _ref(item_name), "type": "array"}
        content["schema"] = _ref(page_name)


def _zpa_numbers(node: Any) -> Any:
    if isinstance(node, dict):
        if _ZPA_NUMBER in node.get("anyOf", ()):  # already widened
            return node
        if node.get("type") == "integer" and node.get("format") == "int64":
            return {"anyOf": [dict(node), dict(_ZPA_NUMBER)]}
        out = {}
        for key, value in node.items():
            if key == "properties":
                out[key] = {
                    name: {"anyOf": [dict(sub), dict(_ZPA_NUMBER)]}
                    if name in _PAGE_COUNTS and sub.get("type") == "integer"
                    else _zpa_numbers(sub)
                    for name, sub in value.items()
                }
            else:
                out[key] = _zpa_numbers(value)
        return out
    if isinstance(node, list):
        return [_zpa_numbers(value) for value in node]
    return node


def _nullable(schemas: dict[str, Any], names: tuple[str, ...]) -> None:
    for schema in schemas.values():
        for name in names:
            prop = schema.get("properties", {}).get(name)
            if prop is not None and "$ref" not in prop:
                prop["nullable"] = True


@cache
def _corrected(service: str) -> dict[str, Any]:
    doc = copy.deepcopy(load_document(service))
    if service == "zid":
        _fix_zid_lists(doc)
    return doc


def corrected_document(service: str) -> dict[str, Any]:
    """The service's spec with the structural corrections the mock is built from (shared: do not mutate)."""
    return _corrected(service) if service == "zid" else load_document(service)


def contract_document(service: str) -> dict[str, Any]:
    """A fresh copy of the document the mock's answers (and a tenant's) are checked against."""
    doc = copy.deepcopy(corrected_document(service))
    schemas = doc["components"]["schemas"]
    if service == "zpa":
        doc["components"]["schemas"] = _zpa_numbers(schemas)
    elif service == "zdx":
        _nullable(schemas, ("next_offset",))
    elif service == "zid":
        _nullable(schemas, ("next_link", "prev_link"))
    return doc

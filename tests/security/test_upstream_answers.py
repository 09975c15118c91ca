"""What upstream answers mean (issue 12, items 3 to 5).

- `all_pages` without a page size returned the first page of ZIA/ZTW/ZCC lists and said "no more
  pages" (100 of 1,060 users): a short-page list needs to know the size it asked for.
- A 2xx answer that claims JSON and does not parse was a success ("0 items; no more pages").
- A timed-out or cut-off write said "retry" (it may have been applied); an exhausted 429 said
  `upstream` instead of `rate_limited`.
"""

from __future__ import annotations

import httpx
import pytest

from oneapi_mcp._executor import Executor
from oneapi_mcp.mock import create_mock_app
from oneapi_mcp.mock._pages import _DEFAULT_SIZE

pytestmark = pytest.mark.anyio

CUSTOMER = "216196257331281920"


# -- item 3: every pagination style, all_pages and no page size, against the mock's own paging ------

def _grow(mock, tool, count: int) -> None:
    """Make the list behind `tool` `count` items long (past several of the mock's default pages)."""
    op = next(o for o in mock.operations if o.method.upper() == tool.method and o.path == tool.path)
    key = (op.service, op.collection, ())
    coll = mock.engine._collection_at(key)
    template = next(iter(coll.items.values()), {})
    while len(coll.items) < count:
        coll.put({**template, coll.id_field: coll.new_id()})
    while len(coll.items) > count:
        coll.remove(next(iter(coll.items)))
    mock.state.remember(key, coll)


@pytest.mark.parametrize("name", [
    "zia_list_users",  # page + short_page, flat array
    "ztw_get_location_templates_lite",  # the same style on ZTW
    "zcc_list_admin_roles",  # ZCC flat array
    "zcc_list_trusted_networks",  # ZCC, the array under "trustedNetworkContracts"
    "zpa_get_all_attributes",  # page + totalPages, {totalPages, list}
    "zpa_list_users",  # ZPA list the spec types as a flat array (no totalPages): short page decides
    "zdx_list_users",  # offset + next_offset
    "zid_list_groups",  # offset + next_link
])
async def test_all_pages_without_a_page_size_reads_every_item_in_every_style(catalog, name):
    tool = catalog.tools[name]
    mock = create_mock_app(seed=0, services=[tool.service])
    count = 3 * _DEFAULT_SIZE[tool.service] + 7
    _grow(mock, tool, count)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock),
                               headers={"Authorization": f"Bearer {mock.token()}"})
    executor = Executor(catalog, client, base_url="http://mock.test", customer_id=CUSTOMER)
    result = await executor.call(tool, {"all_pages": True}, cap=False)
    assert not result.is_error, result.data
    assert result.data["count"] == count and result.data["more"] is False
    assert len({str(item.get("id")) for item in result.data["items"]}) == count
    assert result.notes == [f"{count} items; no more pages"]


@pytest.mark.parametrize(("name", "default"), [
    ("zia_list_users", 100),  # reference/zscaler-api.md "Pagination": users default 100
    ("zpa_get_all_attributes", 20),  # reference/zscaler-api.md: ZPA default page size 20 (help.zscaler.com)
    ("zid_list_groups", 100),  # recorded/zid/cassettes/TestUsers.yaml: next_link offset=100 with no limit sent
])
async def test_the_mock_answers_a_request_without_a_page_size_with_the_services_default_page(catalog, name, default):
    """So a client that forgets the page size meets, against the mock, the short first page it meets live."""
    tool = catalog.tools[name]
    mock = create_mock_app(seed=0, services=[tool.service])
    _grow(mock, tool, default * 2 + 1)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock),
                               headers={"Authorization": f"Bearer {mock.token()}"})
    executor = Executor(catalog, client, base_url="http://mock.test", customer_id=CUSTOMER)
    result = await executor.call(tool, {}, cap=False)
    page = result.data if isinstance(result.data, list) else result.data[tool.pagination["result_key"]]
    assert len(page) == default

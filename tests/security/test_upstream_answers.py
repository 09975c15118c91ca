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


# -- item 4: a 2xx answer that claims JSON and does not parse is an error of its own ----------------

class Script:
    """Upstream answering from a list (responses, or exceptions to raise); records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else httpx.Response(200, json=[])
        if isinstance(answer, Exception):
            raise answer
        return answer


def _scripted(catalog, *answers, limiter=None) -> tuple[Executor, Script]:
    upstream = Script(*answers)
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler))
    return Executor(catalog, client, base_url="https://api.zsapi.net", limiter=limiter), upstream


def _raw(status: int, body: bytes, content_type: str | None = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": content_type} if content_type else {})


@pytest.mark.parametrize(("name", "arguments", "answer"), [
    ("zia_list_users", {}, _raw(200, b'[{"id": 1, "name": "cut of')),  # a list cut off mid-body
    ("zia_list_users", {"all_pages": True}, _raw(200, b"<html>gateway error</html>")),  # was "0 items"
    ("zia_create_department", {"body": {"name": "R&D"}}, _raw(201, b'{"id": 9,')),  # was a success
    ("zia_list_users", {}, _raw(200, b'  {"id": 1', content_type=None)),  # no content type, starts with {
    ("zia_list_users", {}, _raw(200, b'["\xff\xfe"]')),  # not UTF-8
])
async def test_an_unparsable_json_answer_is_an_invalid_upstream_response_naming_status_and_excerpt(
        catalog, name, arguments, answer):
    executor, upstream = _scripted(catalog, answer)
    result = await executor.call(catalog.tools[name], arguments)
    err = result.data["error"]
    assert result.is_error and err["kind"] == "invalid_upstream_response" and err["status"] == answer.status_code
    assert f"HTTP {answer.status_code}" in err["message"] and repr(answer.text[:10])[1:-1] in err["message"]
    assert len(upstream.requests) == 1
    assert ("may have been applied" if catalog.tools[name].method == "POST" else "retry;") in err["next_step"]


async def test_a_plain_text_answer_that_does_not_claim_json_is_still_returned_as_text(catalog):
    executor, _ = _scripted(catalog, _raw(200, b"activation queued", content_type="text/plain"))
    result = await executor.call(catalog.tools["zia_get_activation_status"], {})
    assert not result.is_error and result.data["text"] == "activation queued"


# -- item 5: unknown outcomes are never retried; exhausted 429s are rate_limited ---------------------

class RetryEverything:
    """A limiter that would resend anything at once: the executor alone must keep writes from repeating."""

    def __init__(self):
        self.asked = 0

    async def acquire(self, tool) -> None:
        return None

    def retry_delay(self, tool, attempt, response, error):
        self.asked += 1
        failed = error is not None or response.status_code >= 429
        return 0.0 if failed and attempt < 3 else None

    async def sleep(self, seconds: float) -> None:
        return None


@pytest.mark.parametrize(("name", "arguments"), [
    ("zia_create_department", {"body": {"name": "R&D"}}),  # POST
    ("zid_remove_group_user", {"id": "g1", "userId": "u1"}),  # DELETE
])
@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.WriteTimeout("slow"),
                                     httpx.RemoteProtocolError("peer closed connection"), httpx.ReadError("reset")])
async def test_a_write_cut_off_after_sending_says_it_may_have_been_applied_and_is_sent_once(
        catalog, name, arguments, failure):
    limiter = RetryEverything()
    executor, upstream = _scripted(catalog, failure, limiter=limiter)
    result = await executor.call(catalog.tools[name], arguments)
    err = result.data["error"]
    assert result.is_error and err["kind"] == "unknown_outcome"
    assert "may have been applied; check before retrying" in err["message"]
    assert len(upstream.requests) == 1 and limiter.asked == 1  # asked (it settles its slot), not obeyed


@pytest.mark.parametrize("status", [502, 504])
async def test_a_write_a_gateway_gave_up_on_may_have_been_applied(catalog, status):
    gave_up = httpx.Response(status, text="upstream timed out")
    executor, upstream = _scripted(catalog, gave_up, gave_up, limiter=RetryEverything())
    result = await executor.call(catalog.tools["zia_create_department"], {"body": {"name": "R&D"}})
    err = result.data["error"]
    assert (err["kind"], err["status"]) == ("unknown_outcome", status) and "check before retrying" in err["next_step"]
    assert len(upstream.requests) == 1


async def test_a_read_a_gateway_gave_up_on_is_an_upstream_error_to_retry(catalog):
    executor, _ = _scripted(catalog, httpx.Response(504, text="upstream timed out"))
    err = (await executor.call(catalog.tools["zia_get_activation_status"], {})).data["error"]
    assert err["kind"] == "upstream" and "retry shortly" in err["next_step"]


async def test_a_write_that_never_connected_says_nothing_was_sent(catalog):
    executor, upstream = _scripted(catalog, httpx.ConnectError("refused"))
    result = await executor.call(catalog.tools["zia_create_department"], {"body": {"name": "R&D"}})
    err = result.data["error"]
    assert err["kind"] == "unreachable" and "nothing was sent, retry" in err["message"]


async def test_a_read_that_timed_out_still_says_retry(catalog):
    executor, upstream = _scripted(catalog, httpx.ReadTimeout("slow"))
    result = await executor.call(catalog.tools["zia_get_activation_status"], {})
    err = result.data["error"]
    assert err["kind"] == "timeout" and "retry" in err["message"] and len(upstream.requests) == 1


async def test_a_read_that_timed_out_is_retried_by_the_limiter(catalog):
    executor, upstream = _scripted(catalog, httpx.ReadTimeout("slow"), limiter=RetryEverything())
    result = await executor.call(catalog.tools["zia_get_activation_status"], {})
    assert not result.is_error and len(upstream.requests) == 2


async def test_exhausted_429s_are_rate_limited_with_the_wait(catalog):
    too_many = httpx.Response(429, headers={"Retry-After": "13s"}, json={"message": "slow down"})
    executor, upstream = _scripted(catalog, too_many, too_many, too_many, limiter=RetryEverything())
    result = await executor.call(catalog.tools["zia_get_activation_status"], {})
    err = result.data["error"]
    assert (err["kind"], err["status"], err["retry_after_seconds"]) == ("rate_limited", 429, 13)
    assert len(upstream.requests) == 3


async def test_a_429_without_a_wait_is_rate_limited_without_one(catalog):
    executor, _ = _scripted(catalog, httpx.Response(429, json={"message": "slow down"}))
    err = (await executor.call(catalog.tools["zia_get_activation_status"], {})).data["error"]
    assert err["kind"] == "rate_limited" and "retry_after_seconds" not in err

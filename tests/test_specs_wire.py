"""What the stable models' new shapes send on the wire, through the executor (upstream recorded)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest
from test_executor import Upstream, _executor

pytestmark = pytest.mark.anyio


async def test_an_operation_sharing_its_endpoint_sends_its_own_argument_in_the_shared_template(catalog):
    upstream = Upstream({("GET", "/zdx/v1/config/applications/zoom"): httpx.Response(200, json={"name": "zoom"}),
                         ("GET", "/zdx/v1/config/applications/42"): httpx.Response(200, json={"id": 42})})
    executor = _executor(catalog, upstream)
    predefined = await executor.call(catalog.tools["zdx_get_predefined_application"], {"app": "zoom"})
    configured = await executor.call(catalog.tools["zdx_get_config_application"], {"aid": 42})
    assert not predefined.is_error and not configured.is_error
    assert [r.url.path for r in upstream.requests] == ["/zdx/v1/config/applications/zoom",
                                                       "/zdx/v1/config/applications/42"]
    refused = await executor.call(catalog.tools["zdx_get_config_application"], {"aid": "zoom"})
    assert refused.is_error and len(upstream.requests) == 2  # a name is not an id: nothing sent


async def test_a_query_parameter_named_like_the_path_parameter_is_sent_under_its_wire_name(catalog):
    path = "/ziam/admin/api/v1/groups/g1/users"
    upstream = Upstream({("GET", path): httpx.Response(200, json={"records": [], "next_link": None})})
    await _executor(catalog, upstream).call(catalog.tools["zid_list_group_members"],
                                            {"id": "g1", "id_query": ["u1", "u2"]})
    sent = upstream.requests[0]
    assert sent.url.path == path
    assert parse_qsl(sent.url.query.decode()) == [("id", "u1"), ("id", "u2")]


async def test_zdx_configuration_lists_page_like_zia_until_a_short_page(catalog):
    def page(request):
        q = dict(parse_qsl(request.url.query.decode()))
        n, size = int(q["page"]), int(q["pageSize"])
        return httpx.Response(200, json=[{"id": i} for i in range(25)][(n - 1) * size: n * size])

    upstream = Upstream({("GET", "/zdx/v1/config/applications"): page})
    result = await _executor(catalog, upstream).call(catalog.tools["zdx_list_config_applications"],
                                                     {"all_pages": True, "pageSize": 10})
    assert result.data["count"] == 25 and result.data["more"] is False and len(upstream.requests) == 3

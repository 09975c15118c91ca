"""Path values cannot leave their segment (issue 12, item 1).

httpx removes `.` and `..` segments when it builds a URL, so before this fix
`zid_remove_group_user {"id": "..", "userId": "u1"}` sent `DELETE /ziam/admin/api/v1/users/u1`
(another operation), and `{"rule_type": "."}` reached a create endpoint. Every operation of the
catalog is driven here with hostile path values through a recording transport.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest
from _schema_examples import instance

from oneapi_mcp._executor import Executor, PathEscape

pytestmark = pytest.mark.anyio

HOSTILE = [".", "..", "%2e%2e", "%2E.", "../x", "a/../..", "\x00", "\n", "", " "]


def _recording_executor(catalog) -> tuple[Executor, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return Executor(catalog, client, base_url="https://api.zsapi.net", customer_id="7"), sent


def _same_shape(template: str, sent_path: str) -> bool:
    """Independent of the executor's own check: equal segment count, literal segments equal,
    and no placeholder segment that a server would read as a dot segment."""
    want, got = template.split("/"), sent_path.split("/")
    if len(want) != len(got):
        return False
    for pattern, segment in zip(want, got, strict=True):
        if "{" not in pattern:
            if unquote(segment) != pattern:
                return False
        elif re.fullmatch(r"\.*", unquote(unquote(segment))):
            return False
        elif not pattern.endswith("}") and not segment.endswith(pattern.rsplit("}", 1)[1]):
            return False
    return True


def _path_fields(tool) -> list[str]:
    return [fname for fname, _wire, location, _req, _ in tool.params if location == "path"]


async def test_every_operation_refuses_or_keeps_its_path_for_every_hostile_path_value(catalog):
    executor, sent = _recording_executor(catalog)
    checked = refused = 0
    for tool in catalog.tools.values():
        fields = _path_fields(tool)
        if not fields:
            continue
        base = instance(catalog.input_schema(tool.name))
        for fname in fields:
            for value in HOSTILE:
                sent.clear()
                result = await executor.call(tool, {**base, **{f: "1" for f in fields if f != fname}, fname: value})
                checked += 1
                if result.is_error:
                    err = result.data["error"]
                    named = {p.get("field") for p in err.get("problems", [])}
                    assert err["kind"] == "invalid_arguments" and fname in named, (tool.name, fname, value, err)
                    assert sent == [], (tool.name, fname, value)
                    refused += 1
                else:
                    assert sent, (tool.name, fname, value)
                    for request in sent:
                        raw = request.url.raw_path.split(b"?")[0].decode("ascii")
                        assert _same_shape(tool.path, raw), (tool.name, fname, value, raw)
    assert checked > 6000 and refused > checked // 2  # the whole catalog ran, and the strings were refused


async def test_a_dot_dot_group_id_no_longer_deletes_the_user_instead(catalog):
    executor, sent = _recording_executor(catalog)
    result = await executor.call(catalog.tools["zid_remove_group_user"], {"id": "..", "userId": "u1"})
    err = result.data["error"]
    assert result.is_error and err["problems"][0]["field"] == "id" and "'..'" in err["message"]
    assert sent == []


async def test_a_dot_rule_type_no_longer_reaches_a_create_endpoint(catalog):
    executor, sent = _recording_executor(catalog)
    tool = catalog.tools["zia_list_web_application_rule_available_actions"]
    result = await executor.call(tool, {**instance(catalog.input_schema(tool.name)), "rule_type": "."})
    assert result.is_error and "rule_type" in result.data["error"]["message"] and sent == []


async def test_ordinary_identifiers_with_dots_and_at_signs_still_reach_their_own_path(catalog):
    executor, sent = _recording_executor(catalog)
    result = await executor.call(catalog.tools["zid_remove_group_user"], {"id": "g.1", "userId": "jan@example.test"})
    assert not result.is_error
    assert sent[0].url.raw_path == b"/ziam/admin/api/v1/groups/g.1/users/jan%40example.test"


def test_a_request_whose_path_lost_its_shape_is_never_built(catalog):
    """The backstop after building: even a value that slipped past the argument check is refused."""
    executor, _ = _recording_executor(catalog)
    tool = catalog.tools["zid_remove_group_user"]
    model = catalog.input_model(tool.name).model_construct(id="..", userId="u1")
    with pytest.raises(PathEscape, match="does not match the operation's path"):
        executor.build_request(tool, model)

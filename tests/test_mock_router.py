"""The mock's indexed router (oneapi_mcp/mock/_router.py) picks the route Starlette's full scan picks."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Match

from oneapi_mcp.mock import create_mock_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mock():
    return create_mock_app(seed=0)


def _scan(routes, path: str):
    """What Starlette's Router.app does: the first full match, else the first partial one (the mock's
    endpoints take every method: a route's path either matches fully or not at all)."""
    route = next((route for route in routes if route.path_regex.match(path)), None)
    if route is None:
        return None
    match, child = route.matches({"type": "http", "path": path, "root_path": "", "method": "GET"})
    assert match is Match.FULL
    return route, child["path_params"]


def _paths(routes) -> list[str]:
    """Every route's path with its parameters filled in (a value shaped like a literal segment for every
    other route), plus the same one level deeper and on an unknown prefix."""
    out = ["/", "/unknown", "/zia/api/v1", "/zia/api/v1/", "/zpa/nope/v1/admin/customers/1/x"]
    for number, route in enumerate(routes):
        path = re.sub(r"\{[^}]+\}", "users" if number % 2 else "216196257331281920", route.path)
        out += [path, path + "/extra", "/x" + path]
    return out


def test_every_spec_path_and_its_neighbours_reach_the_route_a_full_scan_reaches(mock):
    router = mock.app.router
    assert len(router.routes) > 900
    for path in _paths(router.routes):
        expected = _scan(router.routes, path)
        assert expected is not None  # the catch-all answers anything the spec does not
        assert _scan(router.candidates(path), path) == expected, path
    assert max(len(router.candidates(p)) for p in _paths(router.routes)) < 100  # not the whole table


async def test_a_request_is_served_by_its_own_operation_and_an_unknown_path_by_the_catch_all(mock):
    mock.reset()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as client:
        users = await client.get("/ziam/admin/api/v1/users")
        reset = await client.post("/ziam/admin/api/v1/users/nobody:resetpassword", json={})
        unknown = await client.get("/zia/api/v1/noSuchThing/1/2/3")
    assert users.status_code == 200
    assert reset.status_code != 405 and mock.journal[-1]["operation"] != mock.journal[0]["operation"]
    assert unknown.status_code == 404
    assert [j["path"] for j in mock.journal] == ["/ziam/admin/api/v1/users",
                                                "/ziam/admin/api/v1/users/nobody:resetpassword"]



async def test_two_mocks_share_their_compiled_paths_and_each_serves_its_own_state(mock):
    other = create_mock_app(seed=0)
    ours, theirs = mock.app.router.routes, other.app.router.routes
    assert [r.path for r in ours] == [r.path for r in theirs]
    assert all(a.path_regex is b.path_regex for a, b in zip(ours, theirs, strict=True))  # compiled once
    mock.reset()
    other.fail("GET", "/ziam/admin/api/v1/users", 503)
    for app, status in ((mock, 200), (other, 503)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://mock",
                                     headers={"Authorization": f"Bearer {app.token()}"}) as client:
            assert (await client.get("/ziam/admin/api/v1/users")).status_code == status
    assert len(mock.journal) == 1 and len(other.journal) == 1

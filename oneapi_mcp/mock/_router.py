"""The mock's router: Starlette's, asked only the routes that can match a request's path.

The mock has one route per spec path (~1,000), tried in order until one matches; Starlette tries each
route's regular expression in turn, ~1.5 ms a request that every client of the mock (a test, the demo)
pays. A route's path parameters never contain `/` (the one `{rest:path}` catch-all aside), so a route can
match only a path with as many segments as its own, and with its leading literal segments: routes are
indexed by those, and a request tries just its bucket's routes, in their original order, taking the match
Starlette's full scan would take.

`route` builds the mock's routes from a compiled template per path: `re` keeps 512 compiled patterns and the
mock has ~1,000, so every mock built in a process compiled them all again (60% of `create_mock_app`).
"""

from __future__ import annotations

import copy
from functools import cache

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router, get_name
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["IndexedRouter", "route"]

_LEADING = 4  # literal segments a bucket is keyed by: /zia/api/v1/<resource>, /zpa/mgmtconfig/v1/admin


def _key(segments: list[str]) -> tuple[int, tuple[str, ...]]:
    return len(segments), tuple(segments[1:_LEADING + 1])


class _Unbound:
    """A template route's endpoint: an ASGI instance, as the mock's endpoints are (Starlette routes every
    method to one)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a template route serves nothing")


@cache
def _template(path: str) -> Route:
    return Route(path, _Unbound())


def route(path: str, endpoint: ASGIApp) -> Route:
    """`Route(path, endpoint)` for an ASGI instance endpoint, its path compiled once per process."""
    made = copy.copy(_template(path))
    made.endpoint = made.app = endpoint
    made.name = get_name(endpoint)
    return made


class IndexedRouter(Router):
    """A `Router` over `routes` (in matching order) that tries only the routes a path can match."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        super().__init__(routes=routes, redirect_slashes=False)
        self._exact: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        self._loose: dict[int, list[int]] = {}  # routes with a parameter among their leading segments
        self._anywhere: list[int] = []  # routes whose parameters may span segments ({x:path})
        self._cache: dict[tuple[int, tuple[str, ...]], tuple[Route, ...]] = {}
        for index, route in enumerate(routes):
            path = route.path if isinstance(route, Route) else None
            if path is None or any(c.regex != "[^/]+" for c in route.param_convertors.values()):
                self._anywhere.append(index)
            elif any("{" in segment for segment in path.split("/")[1:_LEADING + 1]):
                self._loose.setdefault(path.count("/") + 1, []).append(index)
            else:
                self._exact.setdefault(_key(path.split("/")), []).append(index)

    def candidates(self, path: str) -> tuple[Route, ...]:
        """The routes that can match `path`, in matching order."""
        key = _key(path.split("/"))
        if key not in self._exact:  # a path no literal prefix knows: the loose routes and the catch-all only
            key = (key[0], ())
        found = self._cache.get(key)
        if found is None:  # keys: the spec's path shapes and the segment counts asked for
            indexes = sorted([*self._exact.get(key, ()), *self._loose.get(key[0], ()), *self._anywhere])
            found = self._cache[key] = tuple(self.routes[i] for i in indexes)  # type: ignore[misc]
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        partial: tuple[Route, Scope] | None = None  # as Router.app: the first full match, else the first partial
        for route in self.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                partial = (route, child_scope)
                break
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is None:
            await self.not_found(scope, receive, send)
            return
        scope["route"] = partial[0]
        scope.update(partial[1])
        await partial[0].handle(scope, receive, send)

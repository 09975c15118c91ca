"""A stateful mock of the Zscaler OneAPI, built at start from the same vendored specs as the tools.

Every operation of ZIA, ZPA, ZDX, ZCC, ZIdentity and ZTW is served (one route per spec path),
with per-service pagination, error bodies, 429 styles and ZIA/ZTW activation, over a seeded,
deterministic tenant (the same people across ZIA, ZIdentity, ZCC and ZDX).

Mock credentials (fake on purpose; they only work against this mock):

    token endpoint   POST /oauth2/v1/token   (form body, audience=https://api.zscaler.com)
    client id        mock-client-id
    client secret    mock-client-secret      (or a JWT client_assertion with iss=sub=mock-client-id)

In process::

    mock = create_mock_app(seed=0)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock")

On a port: ``python -m oneapi_mcp.mock --port 8787 [--seed N] [--rate-limits] [--faults SPEC] [--fail RULE]``;
inside the test process on a free port: ``with MockServer() as server: ... server.url ...``.

For tests of one step going wrong: ``mock.fail("POST", "/zia/api/v1/firewallFilteringRules*", 500)``
fails the next matching request, and ``mock.journal`` lists the requests the mock answered.
"""

from ._app import ConnectionDropped, MockOneAPI, RequestCounter, create_mock_app
from ._auth import AUDIENCE, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, TOKEN_PATH
from ._cli import main
from ._contract import contract_document
from ._faults import FaultConfig
from ._seed import NOW, Person, SeedData, build_seed
from ._thread import MockServer

__all__ = [
    "AUDIENCE",
    "MOCK_CLIENT_ID",
    "MOCK_CLIENT_SECRET",
    "TOKEN_PATH",
    "ConnectionDropped",
    "FaultConfig",
    "MockOneAPI",
    "MockServer",
    "NOW",
    "Person",
    "RequestCounter",
    "SeedData",
    "build_seed",
    "contract_document",
    "create_mock_app",
    "main",
]

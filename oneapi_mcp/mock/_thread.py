"""The mock on a real socket inside the test process: uvicorn in a daemon thread on 127.0.0.1.

For end-to-end tests that need a URL (a server under test that makes its own connections)
while the test still reads the mock's state, journal and scripted failures directly::

    with MockServer() as server:
        server.mock.fail("POST", "/zia/api/v1/firewallFilteringRules*")
        run_the_server_under_test(base_url=server.url, token_url=server.token_url)
        assert server.mock.journal[-1]["status"] == 500
"""

from __future__ import annotations

import logging
import os
import threading
import time
from types import TracebackType

from ._app import MockOneAPI, create_mock_app
from ._auth import TOKEN_PATH
from ._cli import _quiet_injected_drops, bind_socket
from ._faults import FaultConfig

__all__ = ["MockServer"]


class MockServer:
    """Serve `mock` (default: a new one, seed 0, no rate limits, faults or scripted failures, whatever
    the environment says) on a free 127.0.0.1 port for the duration of a `with` block."""

    def __init__(self, mock: MockOneAPI | None = None, *, start_timeout: float = 30.0) -> None:
        if mock is None:
            mock = create_mock_app(seed=0, rate_limits=False, faults=FaultConfig(), failures=())
        self.mock = mock
        self.start_timeout = start_timeout
        self.port: int | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:50123 (only while running)."""
        if self.port is None:
            raise RuntimeError("the mock server is not running; use it as a context manager")
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def start(self) -> MockServer:
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("the mock server is already running")
        # Our own socket on port 0, handed to uvicorn: the port is known before uvicorn starts and
        # no other process can take it in between (as it could after `_ports.free_port`).
        sock = bind_socket("127.0.0.1", 0)
        level = os.environ.get("ONEAPI_MOCK_LOG_LEVEL", "warning")
        server = uvicorn.Server(uvicorn.Config(self.mock, log_level=level, lifespan="off"))
        logging.getLogger("uvicorn.error").addFilter(_quiet_injected_drops)

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            finally:
                sock.close()

        thread = threading.Thread(target=serve, name="oneapi-mock", daemon=True)
        thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(5)
                raise RuntimeError(f"the mock server did not start within {self.start_timeout:.0f} s")
            time.sleep(0.01)
        self._server, self._thread, self.port = server, thread, sock.getsockname()[1]
        return self

    def stop(self) -> None:
        """Ask uvicorn to finish (open connections get a moment to close) and wait for the thread."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(self.start_timeout)
        if self._thread.is_alive():  # a connection that will not close: stop waiting for it
            self._server.force_exit = True
            self._thread.join(5)
        self._server, self._thread, self.port = None, None, None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

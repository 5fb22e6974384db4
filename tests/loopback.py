"""The loopback server both fake APIs run on: a real HTTP server on 127.0.0.1 (a free port),
serving from a daemon thread, that the real ``anthropic`` SDK is pointed at.

A fake API subclasses :class:`LoopbackServer`, says which request handler answers
(:meth:`LoopbackServer.handler_base`; each handler class is given the fake as ``api``) and keeps
its own request log in ``log``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar


class _Logged(Protocol):
    path: str


L = TypeVar("L", bound=_Logged)


class LoopbackServer(Generic[L]):
    """Start with :meth:`start` (or as a context manager); point the SDK at :attr:`base_url`."""

    log: list[L]
    _server: ThreadingHTTPServer | None

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def requests_to(self, path_contains: str) -> list[L]:
        return [entry for entry in self.log if path_contains in entry.path]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        handler: type[Any] = type("Handler", (self.handler_base(),), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

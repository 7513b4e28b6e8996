"""HTTP connections: what aiohttp answers itself, before any route or middleware runs.

A request its parser cannot read (a bad request line, header or chunk) never reaches the
app; aiohttp would answer it in text/plain, quoting the offending bytes, and log an ERROR
with a traceback. Here it gets the API's one error shape, quotes nothing, and logs one
WARNING line without the request's bytes (they may hold a token).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from desktop.server.middlewares import HTTP_CODES, error_response

log = logging.getLogger(__name__)


class Protocol(web.RequestHandler):
    """aiohttp's per-connection handler with the API's answer to requests it cannot parse."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            log.error("error outside the app on %s %s", request.method, request.path, exc_info=exc)
            code, text = "internal", "internal error; see the server log"
        else:
            log.warning("malformed HTTP request from %s: %s", request.remote, type(exc).__name__ if exc else status)
            code, text = HTTP_CODES.get(status, "bad_request"), "the HTTP request could not be parsed"
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had begun; the connection is dropped instead")
        resp = error_response(status, code, text)
        resp.force_close()
        return resp


class Site(web.BaseSite):
    """A TCP listener whose connections are `Protocol`s (web.TCPSite's are plain RequestHandlers)."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, handler_args: dict[str, Any]):
        super().__init__(runner)
        self.host, self.port = host, port
        self.handler_args = handler_args

    @property
    def name(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            lambda: Protocol(server, loop=loop, **self.handler_args), self.host, self.port, reuse_address=True
        )

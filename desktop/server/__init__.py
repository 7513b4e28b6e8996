"""aiohttp application factory, and `conversa serve`: the server on the main thread's loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from desktop.config import Settings
from desktop.server import (
    connection,
    routes_admin,
    routes_analysis,
    routes_auth,
    routes_backups,
    routes_conversations,
    routes_export,
    routes_import,
    routes_knowledge,
    routes_models,
    routes_workflow,
)
from desktop.server.keys import SERVICE, SESSIONS, SETTINGS
from desktop.server.middlewares import MIDDLEWARES, allowed_hosts
from desktop.server.openapi import openapi_route
from desktop.service import Service
from desktop.sessions import Sessions

log = logging.getLogger(__name__)


def create_app(settings: Settings, service: Service) -> web.Application:
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[SERVICE] = service
    app[SESSIONS] = Sessions(service)
    app["allowed_hosts"] = allowed_hosts(settings)
    app.add_routes(routes_auth.routes)
    app.add_routes(routes_import.routes)
    app.add_routes(routes_conversations.routes)
    app.add_routes(routes_models.routes)
    app.add_routes(routes_admin.routes)
    app.add_routes(routes_export.routes)
    app.add_routes(routes_workflow.routes)
    app.add_routes(routes_backups.routes)
    app.add_routes(routes_analysis.routes)
    app.add_routes(routes_knowledge.routes)
    app.add_routes([openapi_route()])
    app.cleanup_ctx.append(_service_ctx)
    app.on_shutdown.append(_end_streams)
    return app


async def _end_streams(app: web.Application) -> None:
    """Before the runner waits for open requests: event streams would only end at its timeout."""
    app[SERVICE].broker.close()


async def _service_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[SERVICE].startup()
    await app[SESSIONS].load_origins()
    yield


async def start_site(app: web.Application, settings: Settings) -> web.AppRunner:
    # keepalive_timeout doubles as the header deadline: aiohttp closes a connection whose
    # request is not complete when it fires (its default leaves half-sent requests for an hour).
    handler_args = {"keepalive_timeout": settings.header_timeout, "access_log": None}
    runner = web.AppRunner(app, shutdown_timeout=2.0, **handler_args)
    await runner.setup()
    # Not web.TCPSite: its connections would answer unparsable requests in text/plain.
    site = connection.Site(runner, settings.host, settings.port, handler_args)
    await site.start()
    log.info("listening on http://%s:%d", settings.host, settings.port)
    return runner


def serve_forever(settings: Settings, service: Service) -> None:
    """Headless: `conversa serve`. Returns on Ctrl+C / SIGTERM."""
    import signal

    async def main() -> None:
        runner = await start_site(create_app(settings, service), settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())

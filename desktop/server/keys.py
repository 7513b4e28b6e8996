"""Typed application keys: what handlers may reach on the app and on a request."""

from __future__ import annotations

from aiohttp import web

from desktop.auth import Principal
from desktop.config import Settings
from desktop.service import Service
from desktop.sessions import Sessions

SERVICE = web.AppKey("service", Service)
SESSIONS = web.AppKey("sessions", Sessions)
SETTINGS = web.AppKey("settings", Settings)
PRINCIPAL = "conversa.principal"  # request-scoped: set by the auth middleware


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]

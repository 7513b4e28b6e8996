"""Reading JSON bodies under the size limit and the body deadline."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from desktop.errors import BodyTooLarge, InvalidInput
from desktop.server.keys import SETTINGS


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    settings = request.app[SETTINGS]
    try:
        raw = await asyncio.wait_for(request.read(), settings.body_timeout)
    except TimeoutError:
        # A client trickling its body would hold a connection forever: drop it.
        if request.transport:
            request.transport.close()
        raise InvalidInput("request body not received in time", code="body_timeout") from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(f"body is larger than {settings.max_body_bytes} bytes") from None
    if not raw:
        if required:
            raise InvalidInput("a JSON body is required", code="invalid_json", field="body")
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInput(f"malformed JSON: {e}", code="invalid_json", field="body") from None

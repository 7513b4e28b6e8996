"""Reading JSON bodies under the size limit and the body deadline.

Whatever a handler gets from `read_json` can be sealed, stored and sent back as JSON: no lone
surrogates (they cannot be encoded as UTF-8), no NaN or infinities (not JSON), no nesting
deeper than MAX_DEPTH, no integer longer than Python parses (4,300 digits).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from aiohttp import web

from desktop.errors import BodyTooLarge, InvalidInput
from desktop.server.keys import SETTINGS

MAX_DEPTH = 32  # the deepest request the API defines is 4 levels
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


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
    except web.RequestPayloadError as e:  # e.g. a broken chunked encoding
        raise InvalidInput(f"malformed body: {e}", code="invalid_body", field="body") from None
    if not raw:
        if required:
            raise InvalidInput("a JSON body is required", code="invalid_json", field="body")
        return {}
    return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or InvalidInput (code invalid_json) saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as e:
        raise _invalid(f"malformed JSON: {e}") from None
    except RecursionError:
        raise _invalid(f"JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # a non-finite number, or an integer over Python's digit limit
        raise _invalid(f"unsupported JSON number: {str(e)[:80]}") from None
    _check(text, value)
    return value


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_json", field="body")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _check(text: str, value: Any) -> None:
    """Depth and lone surrogates, with regular expressions over the text (a walk of every value
    in Python costs seconds on a 1 MiB body of small items)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        brackets = _INNERMOST.sub("", brackets)
        if not brackets:
            break
    else:
        raise _invalid(f"JSON is nested deeper than {MAX_DEPTH} levels")
    # A lone surrogate can only come as a \u escape (UTF-8 decoding refused the raw bytes): only a
    # body with such an escape, usually a valid pair (an emoji), needs its strings walked.
    if _SURROGATE_ESCAPE.search(text):
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    raise _invalid("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
            elif isinstance(item, dict):
                stack.extend(item)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)

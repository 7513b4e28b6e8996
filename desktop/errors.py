"""Errors of the application layer, translated to HTTP by the server's middleware."""

from __future__ import annotations


class ConversaError(Exception):
    """Base error: `code` is machine-readable, the message is safe to show."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class InvalidInput(ConversaError):
    status = 400
    code = "invalid_input"


class Unauthorized(ConversaError):
    status = 401
    code = "unauthorized"


class Forbidden(ConversaError):
    status = 403
    code = "forbidden"


class NotFound(ConversaError):
    status = 404
    code = "not_found"


class Conflict(ConversaError):
    status = 409
    code = "conflict"


class PreconditionFailed(ConversaError):
    """An `If-Match` that no longer names the current version (someone else changed it)."""

    status = 412
    code = "precondition_failed"


class RateLimited(ConversaError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ConversaError):
    status = 503
    code = "unavailable"


class ConfigError(ConversaError):
    """A setting or the environment is wrong; the CLI prints it and exits."""

    code = "config_error"


class BodyTooLarge(ConversaError):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(ConversaError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(ConversaError):
    """Well-formed but refused on its merits (a model file that cannot be used: `code` says why)."""

    status = 422
    code = "unprocessable"

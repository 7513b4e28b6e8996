"""Errors of the store: keys, integrity and look-ups."""

from __future__ import annotations

from desktop.errors import ConversaError, NotFound


class StoreError(ConversaError):
    status = 500
    code = "store_error"


class KeysUnavailable(StoreError):
    """The data key cannot be unwrapped: the app must stop, never recreate anything."""

    code = "keys_unavailable"


class KeyMissing(StoreError):
    """A value's key was erased (crypto-shredded contact)."""

    status = 404
    code = "erased"


class TamperedValue(StoreError):
    code = "tampered_value"


class RecordNotFound(NotFound):
    pass

"""Field encryption (AES-256-GCM envelopes) and blind indexes (HMAC-SHA256).

Envelope = version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag.
The associated data binds a value to its table, column and row, so a ciphertext copied
into another row or column fails to decrypt instead of showing the wrong customer's data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.store.errors import KeyMissing, TamperedValue

VERSION = 1
KID_LEN = 8
NONCE_LEN = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_kid() -> bytes:
    return os.urandom(KID_LEN)


def aad(table: str, column: str, row_id: str) -> bytes:
    return f"{table}/{column}/{row_id}".encode()


def seal(key: bytes, kid: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return bytes([VERSION]) + kid + nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def envelope_kid(blob: bytes) -> bytes:
    if not blob or blob[0] != VERSION or len(blob) < 1 + KID_LEN + NONCE_LEN + 16:
        raise TamperedValue("not a Conversa envelope")
    return blob[1 : 1 + KID_LEN]


def open_sealed(key: bytes, blob: bytes, associated: bytes) -> bytes:
    envelope_kid(blob)
    nonce = blob[1 + KID_LEN : 1 + KID_LEN + NONCE_LEN]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + KID_LEN + NONCE_LEN :], associated)
    except InvalidTag:
        raise TamperedValue("value does not decrypt with its key (wrong key or tampered)") from None


class BlindIndex:
    """Keyed hashes for look-ups and de-duplication of values we never store in clear."""

    def __init__(self, key: bytes):
        self._key = key

    def __call__(self, purpose: str, value: str) -> str:
        norm = unicodedata.normalize("NFC", value).strip()
        return hmac.new(self._key, f"{purpose}\x00{norm}".encode(), hashlib.sha256).hexdigest()


class KeyRing:
    """Resolves key ids to keys for decryption; `lookup` loads a key the ring does not hold."""

    def __init__(self, lookup):
        self._keys: dict[bytes, bytes] = {}
        self._lookup = lookup

    def add(self, kid: bytes, key: bytes) -> None:
        self._keys[kid] = key

    def forget(self, kid: bytes) -> None:
        self._keys.pop(kid, None)

    def get(self, kid: bytes) -> bytes:
        key = self._keys.get(kid)
        if key is None:
            key = self._lookup(kid)
            if key is None:
                raise KeyMissing("the key of this value was erased")
            self._keys[kid] = key
        return key

    def decrypt(self, blob: bytes | None, associated: bytes, expected_kid: bytes | None = None) -> bytes | None:
        """`expected_kid`: the key the value must be sealed with (its contact's), else TamperedValue."""
        if blob is None:
            return None
        kid = envelope_kid(blob)
        if expected_kid is not None and not hmac.compare_digest(kid, expected_kid):
            raise TamperedValue("value is sealed with another contact's key")
        return open_sealed(self.get(kid), blob, associated)

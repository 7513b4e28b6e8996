"""The backup container: a database snapshot encrypted in chunks with AES-256-GCM.

Layout: magic | header length (4 bytes) | header (JSON: format, created_at, key id, size…) |
chunks, each = length (4 bytes) | nonce (12) | ciphertext+tag. Every chunk's associated data
is the header's hash, its index and a last-chunk flag, so a chunk moved, dropped or cut off at
the end, or a header edited, fails to decrypt: a truncated or damaged file is always refused.

The key is derived from the install's general field key (never rotated, unlike the data key,
so backups made before `conversa keys rotate` still open). The header names it by a key id,
a keyed hash that reveals nothing of the key, so a restore can say "another key" up front.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.errors import ConversaError
from desktop.store import private_files

MAGIC = b"CONVERSA-BACKUP\x01"
FORMAT = 1
CHUNK = 1 << 20
NONCE = 12
MAX_HEADER = 64 << 10
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class BackupRefused(ConversaError):
    """The file is not a usable backup (damaged, truncated, another key…): nothing was changed."""

    status = 422
    code = "backup_refused"


def derive_key(general_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"conversa/backup/v1").derive(general_key)


def key_id(key: bytes) -> str:
    return hmac.new(key, b"conversa/backup-key-id", hashlib.sha256).hexdigest()[:16]


def _chunk_ad(header_hash: bytes, index: int, last: bool) -> bytes:
    return header_hash + struct.pack(">QB", index, 1 if last else 0)


def write(src: Path, dest: Path, key: bytes, header: dict[str, Any], progress: Progress | None = None) -> dict:
    """Encrypt the file `src` into `dest` (created 0600, fsynced). Returns the header written."""
    size = src.stat().st_size
    header = {**header, "format": FORMAT, "key_id": key_id(key), "chunk": CHUNK, "size": size}
    raw = json.dumps(header, sort_keys=True).encode()
    header_hash = hashlib.sha256(MAGIC + raw).digest()
    aes = AESGCM(key)
    private_files.create_private(dest)
    with open(src, "rb") as fin, open(dest, "wb") as out:
        out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
        done, index = 0, 0
        chunk = fin.read(CHUNK)
        while True:
            nxt = fin.read(CHUNK) if chunk else b""
            last = not nxt
            nonce = os.urandom(NONCE)
            ct = aes.encrypt(nonce, chunk, _chunk_ad(header_hash, index, last))
            out.write(struct.pack(">I", len(ct)) + nonce + ct)
            done += len(chunk)
            if progress:
                progress(done, size)
            if last:
                break
            chunk, index = nxt, index + 1
        out.flush()
        os.fsync(out.fileno())
    return header


def read_header(path: Path) -> dict[str, Any]:
    """The header alone (no key needed); `BackupRefused` when the file is not a backup."""
    try:
        with open(path, "rb") as f:
            header, _ = _header(f)
    except OSError as e:
        raise BackupRefused(f"cannot read {path.name}: {e.strerror}") from None
    return header


def _header(f) -> tuple[dict[str, Any], bytes]:
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise BackupRefused("this file is not a Conversa backup")
    length = f.read(4)
    if len(length) < 4:
        raise BackupRefused("the backup file is truncated (its header is cut off)")
    (n,) = struct.unpack(">I", length)
    if n > MAX_HEADER:
        raise BackupRefused("the backup file is damaged (its header is not valid)")
    raw = f.read(n)
    if len(raw) < n:
        raise BackupRefused("the backup file is truncated (its header is cut off)")
    try:
        header = json.loads(raw)
    except ValueError:
        raise BackupRefused("the backup file is damaged (its header is not valid)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupRefused("this backup was written by another version of Conversa (unknown format)")
    return header, hashlib.sha256(MAGIC + raw).digest()


def decrypt(path: Path, key: bytes, dest: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Decrypt the backup into `dest` (0600). Refuses a file made with another key, or damaged,
    or truncated, before `dest` is trusted: the caller deletes `dest` when this raises."""
    aes = AESGCM(key)
    private_files.create_private(dest)
    with open(path, "rb") as f, open(dest, "wb") as out:
        header, header_hash = _header(f)
        if not hmac.compare_digest(str(header.get("key_id", "")), key_id(key)):
            raise BackupRefused(
                "this backup was made with another key (another install, or keys restored from elsewhere)",
                code="backup_other_key",
            )
        size, index, done = int(header.get("size", -1)), 0, 0
        while True:
            length = f.read(4)
            if len(length) < 4:
                raise BackupRefused("the backup file is truncated (it ends before its last part)")
            (n,) = struct.unpack(">I", length)
            if n > CHUNK + 16:
                raise BackupRefused("the backup file is damaged (a part has an impossible length)")
            nonce, ct = f.read(NONCE), f.read(n)
            if len(nonce) < NONCE or len(ct) < n:
                raise BackupRefused("the backup file is truncated (it ends inside a part)")
            plain = last = None
            for flag in (False, True):
                try:
                    plain, last = aes.decrypt(nonce, ct, _chunk_ad(header_hash, index, flag)), flag
                    break
                except InvalidTag:
                    continue
            if plain is None:
                raise BackupRefused("the backup file is damaged (a part does not decrypt)")
            out.write(plain)
            done += len(plain)
            if progress:
                progress(done, size)
            if last:
                break
            index += 1
        if f.read(1):
            raise BackupRefused("the backup file is damaged (data after its last part)")
        if done != size:
            raise BackupRefused("the backup file is damaged (its size does not match its header)")
        out.flush()
        os.fsync(out.fileno())
    return header

"""Passwords (scrypt), access tokens (JWT HS256, pinned), refresh tokens and rate limits."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt

from desktop.errors import RateLimited, Unauthorized

ISSUER = "conversa"
AUDIENCE = "conversa-api"
ALGORITHM = "HS256"
# OWASP's minimum for scrypt; older hashes (N = 2^14) are re-hashed at their next login.
_SCRYPT = {"n": 2**17, "r": 8, "p": 1}
_MAX_N = 2**20  # a stored hash asking for more is refused rather than allowed to eat memory
# scrypt needs ~128 MiB at N = 2^17: two at a time keeps memory bounded and the event loop free.
_hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not (1 < n <= _MAX_N and 0 < r <= 32 and 0 < p <= 16):
        raise ValueError("scrypt parameters out of range")
    # OpenSSL needs 128·r·(N + p + 2) bytes; hashlib's default limit (32 MiB) is below N = 2^17.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=32)


def hash_password(password: str) -> str:
    """A new scrypt hash at the current cost (blocking: use `hash_password_async` on the loop)."""
    salt = os.urandom(16)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    dk = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def check_password(password: str, stored: str | None) -> bool:
    """Blocking; use `check_password_async` on the loop."""
    if not stored:
        # Same work as a real check, so response time does not reveal unknown usernames.
        _scrypt(password, b"0" * 16, _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"])
        return False
    try:
        _, n, r, p, salt, dk = stored.split("$")
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(dk))


def needs_rehash(stored: str) -> bool:
    """True when a stored hash was made with other (older) scrypt parameters."""
    parts = stored.split("$")
    current = [str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"])]
    return len(parts) != 6 or parts[0] != "scrypt" or parts[1:4] != current


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing, hash_password, password)


async def check_password_async(password: str, stored: str | None) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_hashing, check_password, password, stored)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_pairing_code() -> str:
    """Eight digits in two groups: easy to type from the desktop window into the popup."""
    n = secrets.randbelow(10**8)
    return f"{n // 10**4:04d}-{n % 10**4:04d}"


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    device_id: str
    expires_at: float = float("inf")  # the access token's `exp` (Unix time)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenIssuer:
    def __init__(self, secret: bytes, ttl_seconds: int):
        self._secret = secret
        self.ttl = ttl_seconds

    def access_token(self, user_id: str, role: str, device_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "role": role,
            "did": device_id,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_hex(12),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        try:
            # The algorithm list is ours; the token's own header never chooses it.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("access token expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid access token", code="invalid_token") from None
        if claims.get("role") not in ("admin", "attendant") or not claims.get("did"):
            raise Unauthorized("invalid access token", code="invalid_token")
        return Principal(claims["sub"], claims["role"], claims["did"], float(claims["exp"]))


@dataclass(frozen=True)
class Attempt:
    """A reserved attempt: the keys it counts against and when."""

    keys: tuple[str, ...]
    at: float


class RateLimiter:
    """Failed attempts: 10 per username or 50 per address in 5 minutes, then 429.

    An attempt is counted as failed *before* it is verified (`reserve`) and given back when it
    succeeds (`release`): a check and a later record would let parallel requests all pass."""

    _SWEEP_EVERY = 1000

    def __init__(self, per_user: int = 10, per_address: int = 50, window: float = 300):
        self.per_user, self.per_address, self.window = per_user, per_address, window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._calls = 0

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def _sweep(self, now: float) -> None:
        # Keys of addresses and usernames that stopped trying would otherwise stay forever.
        for key in [k for k, q in self._fails.items() if not q or q[-1] <= now - self.window]:
            del self._fails[key]

    def reserve(self, address: str, username: str | None = None) -> Attempt:
        """Count one attempt, or raise RateLimited (nothing counted) when a limit is reached."""
        now = time.monotonic()
        self._calls += 1
        if self._calls % self._SWEEP_EVERY == 0:
            self._sweep(now)
        limits = [(f"a:{address}", self.per_address)]
        if username is not None:
            limits.append((f"u:{username}", self.per_user))
        for key, limit in limits:
            q = self._recent(key, now)
            if len(q) >= limit:
                raise RateLimited("too many failed attempts; try again later", int(q[0] + self.window - now) + 1)
        for key, _ in limits:
            self._fails[key].append(now)
        return Attempt(tuple(key for key, _ in limits), now)

    def release(self, attempt: Attempt) -> None:
        """The attempt succeeded: it no longer counts as a failure."""
        for key in attempt.keys:
            q = self._fails.get(key)
            if q is not None and attempt.at in q:
                q.remove(attempt.at)

"""Passwords (scrypt), access tokens (JWT HS256, pinned), refresh tokens and rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

import jwt

from desktop.errors import RateLimited, Unauthorized

ISSUER = "conversa"
AUDIENCE = "conversa-api"
ALGORITHM = "HS256"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        # Same work as a real check, so response time does not reveal unknown usernames.
        hashlib.scrypt(password.encode(), salt=b"0" * 16, dklen=32, **_SCRYPT)
        return False
    try:
        _, n, r, p, salt, dk = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(dk))


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
        return Principal(claims["sub"], claims["role"], claims["did"])


class RateLimiter:
    """Failed logins: 10 per username or 50 per address in 5 minutes, then 429."""

    def __init__(self, per_user: int = 10, per_address: int = 50, window: float = 300):
        self.per_user, self.per_address, self.window = per_user, per_address, window
        self._fails: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def check(self, address: str, username: str | None = None) -> None:
        now = time.monotonic()
        for key, limit in ((f"a:{address}", self.per_address), (f"u:{username}", self.per_user)):
            if key == "u:None":
                continue
            q = self._recent(key, now)
            if len(q) >= limit:
                raise RateLimited("too many failed attempts; try again later", int(q[0] + self.window - now) + 1)

    def fail(self, address: str, username: str | None = None) -> None:
        now = time.monotonic()
        self._fails[f"a:{address}"].append(now)
        if username:
            self._fails[f"u:{username}"].append(now)

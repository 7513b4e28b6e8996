"""Sign-in use cases: first-admin setup, login, pairing, refresh rotation, logout, token checks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from desktop import validation
from desktop.auth import (
    Principal,
    RateLimiter,
    TokenIssuer,
    check_password_async,
    hash_password_async,
    needs_rehash,
    new_pairing_code,
    new_secret,
)
from desktop.errors import Conflict, Forbidden, Unauthorized
from desktop.service import Service
from desktop.store import accounts

PAIRING_TTL = 300
# A client whose refresh answer was lost may present the old token once more within this time.
REFRESH_GRACE_SECONDS = 30.0
_DEVICE_CACHE_SECONDS = 2.0
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")


@dataclass
class _Rotation:
    """The answer to a refresh, kept (in memory only) for its grace window."""

    answer: asyncio.Future[dict[str, Any] | None]
    deadline: float
    retried: bool = False


class Sessions:
    def __init__(self, service: Service):
        self.svc = service
        s = service.settings
        self.tokens = TokenIssuer(service.store.keys.jwt_secret, s.access_token_minutes * 60)
        self.refresh_ttl = s.refresh_token_days * 86400
        self.limiter = RateLimiter()
        self._active: dict[str, tuple[float, str]] = {}  # device id -> (valid until, role)
        self._rotations: dict[str, _Rotation] = {}  # by the hash of the refresh token presented
        self.origins: set[str] = set(s.origins())
        service.on_access_change(self._access_changed)

    async def load_origins(self) -> None:
        self.origins |= await self.svc.db(accounts.device_origins)

    def origin_allowed(self, origin: str, path: str) -> bool:
        if origin in self.origins:
            return True
        # A new browser (e.g. Firefox's per-install id) may sign in; its origin is allowed from then on.
        return path.endswith(("/auth/pair", "/auth/login")) and origin.startswith(EXTENSION_SCHEMES)

    async def _issue(self, user: dict[str, Any], device: str, origin: str | None) -> dict[str, Any]:
        refresh = new_secret()
        keep_origin = origin if origin and origin.startswith(EXTENSION_SCHEMES) else None
        did = await self.svc.db(accounts.add_device, user["id"], device, keep_origin, refresh, self.refresh_ttl)
        if keep_origin:
            self.origins.add(keep_origin)
        return self._tokens(user, did, refresh)

    def _tokens(self, user: dict[str, Any], device_id: str, refresh: str) -> dict[str, Any]:
        return {
            "access_token": self.tokens.access_token(user["id"], user["role"], device_id),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl,
            "user": {"id": user["id"], "username": user["username"], "role": user["role"]},
        }

    async def setup(self, body: Any, from_this_computer: bool) -> dict[str, Any]:
        if not from_this_computer:
            raise Forbidden("setup is only allowed from this computer, not through a proxy", code="setup_loopback_only")
        username, password = validation.credentials(body)
        validation.username(username)
        validation.password(password)
        pw_hash = await hash_password_async(password)

        def create(store):
            if accounts.count_users(store) > 0:
                raise Conflict("setup is already done; sign in instead", code="setup_done")
            return accounts.add_user(store, username, "admin", pw_hash)

        user = await self.svc.db(create)
        return await self._issue(user, validation.device_name(body), None)

    async def login(self, body: Any, address: str, origin: str | None) -> dict[str, Any]:
        username, password = validation.credentials(body)
        attempt = self.limiter.reserve(address, username)  # counted as failed until it succeeds
        row = await self.svc.db(accounts.user_by_name, username)
        stored = row["pw_hash"] if row else None
        ok = await check_password_async(password, stored)
        if not ok or row["disabled"]:
            raise Unauthorized("wrong username or password", code="bad_credentials")
        self.limiter.release(attempt)
        if needs_rehash(stored):
            await self.svc.db(accounts.replace_pw_hash, row["id"], stored, await hash_password_async(password))
        user = {"id": row["id"], "username": row["username"], "role": row["role"]}
        await self.svc.db(accounts.audit, row["id"], "auth.login")
        return await self._issue(user, validation.device_name(body), origin)

    async def pair(self, body: Any, address: str, origin: str | None) -> dict[str, Any]:
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise validation.InvalidInput("code is required", field="code")
        attempt = self.limiter.reserve(address)  # counted as failed until it succeeds
        user_id = await self.svc.db(accounts.use_pairing_code, code.strip())
        if not user_id:
            raise Unauthorized("pairing code is wrong or expired", code="bad_pairing_code")
        self.limiter.release(attempt)
        user = await self.svc.db(accounts.user, user_id)
        if user["disabled"]:
            raise Unauthorized("this user is disabled", code="user_disabled")
        return await self._issue(user, validation.device_name(body), origin)

    async def refresh(self, body: Any) -> dict[str, Any]:
        old = body.get("refresh_token") if isinstance(body, dict) else None
        if not isinstance(old, str) or not old:
            raise validation.InvalidInput("refresh_token is required", field="refresh_token")
        key = accounts.token_hash(old)
        now = time.monotonic()
        for k in [k for k, r in self._rotations.items() if r.deadline <= now]:
            del self._rotations[k]
        rotation = self._rotations.get(key)
        if rotation and not rotation.retried:
            # A second presentation within the grace window: the first answer was lost (or both
            # requests raced). Answer the same tokens once, while they are still unused.
            rotation.retried = True
            out = await asyncio.shield(rotation.answer)
            if out and await self.svc.db(accounts.refresh_usable, out["refresh_token"]):
                return out
            # Otherwise it is judged like any presentation of a used token: the device is revoked.
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        if rotation is None:
            self._rotations[key] = _Rotation(answer, now + REFRESH_GRACE_SECONDS)
        out = None
        try:
            out = await self._rotate(old)
        finally:
            answer.set_result(out)  # None: the rotation failed, a retry is judged afresh
            if out is None and (mine := self._rotations.get(key)) and mine.answer is answer:
                del self._rotations[key]
        return out

    async def _rotate(self, old: str) -> dict[str, Any]:
        new = new_secret()
        res = await self.svc.db(accounts.rotate_refresh, old, new, self.refresh_ttl)
        if res is None:
            raise Unauthorized("refresh token is not valid", code="invalid_refresh_token")
        if res["reused"]:
            self._active.pop(res["device_id"], None)
            raise Unauthorized("refresh token was already used; this device is signed out", code="refresh_reused")
        user = await self.svc.db(accounts.user, res["user_id"])
        if user["disabled"]:
            raise Unauthorized("this user is disabled", code="user_disabled")
        return self._tokens(user, res["device_id"], new)

    async def logout(self, principal: Principal) -> None:
        await self.svc.db(accounts.revoke_device, principal.device_id)
        self._active.pop(principal.device_id, None)

    async def authenticate(self, header: str | None) -> Principal:
        if not header or not header.startswith("Bearer "):
            raise Unauthorized("missing bearer token", code="missing_token")
        principal = self.tokens.verify(header[7:].strip())
        role = await self.device_role(principal.device_id)
        if role is None:
            raise Unauthorized("this device was signed out", code="device_revoked")
        if role != principal.role:
            # An admin changed this user's role: the token's claim is stale; a refresh gets the new one.
            raise Unauthorized("your role changed; refresh your token", code="role_changed")
        return principal

    async def device_active(self, device_id: str) -> bool:
        return await self.device_role(device_id) is not None

    async def device_role(self, device_id: str) -> str | None:
        """The user's role while the device is not revoked and its user not disabled, else None
        (cached for a moment: every request asks; an admin's change clears the cache)."""
        now = time.monotonic()
        cached = self._active.get(device_id)
        if cached and cached[0] >= now:
            return cached[1]
        role = await self.svc.db(accounts.device_role, device_id)
        if role is None:
            self._active.pop(device_id, None)
            return None
        self._active[device_id] = (now + _DEVICE_CACHE_SECONDS, role)
        return role

    async def _access_changed(self) -> None:
        """A device was revoked or a user changed: forget every cached answer, and the origins
        of devices that are gone."""
        self._active.clear()
        self.origins = set(self.svc.settings.origins()) | await self.svc.db(accounts.device_origins)

    async def new_pairing_code(self, principal: Principal, body: Any) -> dict[str, Any]:
        """A code that signs a new browser in as `user` (admins only; default: the caller)."""
        if not principal.is_admin:
            raise Forbidden("only an admin can create pairing codes", code="role_not_allowed")
        if not isinstance(body, dict):
            raise validation.InvalidInput("body must be a JSON object", field="body")
        user_id = body.get("user")
        if user_id is None:
            user_id = principal.user_id
        if not isinstance(user_id, str) or not 0 < len(user_id) <= 64:
            raise validation.InvalidInput("user must be a user id (a string)", field="user")
        code = new_pairing_code()

        def add(store) -> None:
            accounts.add_pairing_code(store, user_id, code, PAIRING_TTL)
            accounts.audit(store, principal.user_id, "pairing_code.create", user_id, "", principal.device_id)

        await self.svc.db(add)
        return {"code": code, "expires_in": PAIRING_TTL}

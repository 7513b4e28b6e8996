"""Sign-in use cases: first-admin setup, login, pairing, refresh rotation, logout, token checks."""

from __future__ import annotations

import time
from typing import Any

from desktop import validation
from desktop.auth import (
    Principal,
    RateLimiter,
    TokenIssuer,
    check_password,
    hash_password,
    new_pairing_code,
    new_secret,
)
from desktop.errors import Conflict, Forbidden, Unauthorized
from desktop.service import Service
from desktop.store import accounts

PAIRING_TTL = 300
_DEVICE_CACHE_SECONDS = 2.0
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")


class Sessions:
    def __init__(self, service: Service):
        self.svc = service
        s = service.settings
        self.tokens = TokenIssuer(service.store.keys.jwt_secret, s.access_token_minutes * 60)
        self.refresh_ttl = s.refresh_token_days * 86400
        self.limiter = RateLimiter()
        self._active: dict[str, float] = {}
        self.origins: set[str] = set(s.origins())

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

    async def setup(self, body: Any, loopback: bool) -> dict[str, Any]:
        if not loopback:
            raise Forbidden("setup is only allowed from this computer", code="setup_loopback_only")
        username, password = validation.credentials(body)
        validation.username(username)
        validation.password(password)

        def create(store):
            if accounts.count_users(store) > 0:
                raise Conflict("setup is already done; sign in instead", code="setup_done")
            return accounts.add_user(store, username, "admin", hash_password(password))

        user = await self.svc.db(create)
        return await self._issue(user, validation.device_name(body), None)

    async def login(self, body: Any, address: str, origin: str | None) -> dict[str, Any]:
        username, password = validation.credentials(body)
        self.limiter.check(address, username)
        row = await self.svc.db(accounts.user_by_name, username)
        ok = check_password(password, row["pw_hash"] if row else None)
        if not ok or row["disabled"]:
            self.limiter.fail(address, username)
            raise Unauthorized("wrong username or password", code="bad_credentials")
        user = {"id": row["id"], "username": row["username"], "role": row["role"]}
        await self.svc.db(accounts.audit, row["id"], "auth.login")
        return await self._issue(user, validation.device_name(body), origin)

    async def pair(self, body: Any, address: str, origin: str | None) -> dict[str, Any]:
        self.limiter.check(address)
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise validation.InvalidInput("code is required", field="code")
        user_id = await self.svc.db(accounts.use_pairing_code, code.strip())
        if not user_id:
            self.limiter.fail(address)
            raise Unauthorized("pairing code is wrong or expired", code="bad_pairing_code")
        user = await self.svc.db(accounts.user, user_id)
        if user["disabled"]:
            raise Unauthorized("this user is disabled", code="user_disabled")
        return await self._issue(user, validation.device_name(body), origin)

    async def refresh(self, body: Any) -> dict[str, Any]:
        old = body.get("refresh_token") if isinstance(body, dict) else None
        if not isinstance(old, str) or not old:
            raise validation.InvalidInput("refresh_token is required", field="refresh_token")
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
        now = time.monotonic()
        if self._active.get(principal.device_id, 0) < now:
            if not await self.svc.db(accounts.device_active, principal.device_id):
                raise Unauthorized("this device was signed out", code="device_revoked")
            self._active[principal.device_id] = now + _DEVICE_CACHE_SECONDS
        return principal

    def forget_device(self, device_id: str) -> None:
        self._active.pop(device_id, None)

    async def new_pairing_code(self, user_id: str) -> dict[str, Any]:
        code = new_pairing_code()
        await self.svc.db(accounts.add_pairing_code, user_id, code, PAIRING_TTL)
        return {"code": code, "expires_in": PAIRING_TTL}

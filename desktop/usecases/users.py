"""Users and devices (admins): create, change role, reset password, disable, remove; list and
revoke devices. Password rules and hashing are the CLI's; the last active admin stays."""

from __future__ import annotations

from typing import Any

from desktop import validation
from desktop.auth import Principal, hash_password_async
from desktop.errors import InvalidInput
from desktop.store import accounts
from desktop.store.database import Store
from desktop.store.exports import iso
from desktop.usecases import access, audit
from desktop.usecases.runtime import Runtime

_PATCHABLE = ("role", "password", "disabled")


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user["id"],
        "username": user["username"],
        "role": user["role"],
        "disabled": bool(user["disabled"]),
        "created_at": iso(user["created_at"]),
    }


def _role(value: Any) -> str:
    if value not in accounts.ROLES:
        raise InvalidInput("role must be one of " + ", ".join(accounts.ROLES), field="role")
    return value


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    return body


class Users:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def all(self, principal: Principal) -> dict[str, Any]:
        access.require_admin(principal)
        return {"items": [_public(u) for u in await self.rt.db(accounts.users)]}

    async def create(self, principal: Principal, body: Any) -> dict[str, Any]:
        access.require_admin(principal)
        body = _body(body)
        unknown = set(body) - {"username", "password", "role"}
        if unknown:
            raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
        name = validation.username(body.get("username"))
        password = validation.password(body.get("password"))
        role = _role(body.get("role", "attendant"))
        pw_hash = await hash_password_async(password)  # off the loop: scrypt takes ~0.3 s

        def add(store: Store) -> dict[str, Any]:
            user = accounts.add_user(store, name, role, pw_hash)
            audit.entry(store, principal, "user.create", user["id"], f"role={role}")
            return user

        return _public(await self.rt.db(add))

    async def patch(self, principal: Principal, user_id: str, body: Any) -> dict[str, Any]:
        access.require_admin(principal)
        body = _body(body)
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key == "role":
                changes["role"] = _role(value)
            elif key == "disabled":
                if not isinstance(value, bool):
                    raise InvalidInput("disabled must be true or false", field="disabled")
                changes["disabled"] = value
            elif key == "password":
                validation.password(value)
            else:
                raise InvalidInput(f"unknown field {key}; expected one of " + ", ".join(_PATCHABLE), field=key)
        if not body:
            raise InvalidInput("nothing to change: give role, password or disabled", field="body")
        if "password" in body:
            changes["pw_hash"] = await hash_password_async(body["password"])

        def change(store: Store) -> dict[str, Any]:
            out = accounts.change_user(store, user_id, changes, keep_device=principal.device_id)
            names = ["password" if k == "pw_hash" else k for k in changes]
            detail = audit.fields_detail(names)
            if "role" in changes:
                detail += f" role={changes['role']}"
            audit.entry(store, principal, "user.update", user_id, detail)
            return out

        out = await self.rt.db(change)
        await self.rt.access_changed()  # a new role or a disabled user counts from the next request
        return {**_public(out["user"]), "devices_signed_out": len(out["signed_out"])}

    async def delete(self, principal: Principal, user_id: str) -> None:
        access.require_admin(principal)

        def remove(store: Store) -> None:
            accounts.delete_user(store, user_id)
            audit.entry(store, principal, "user.delete", user_id)

        await self.rt.db(remove)
        await self.rt.access_changed()

    async def devices(self, principal: Principal, user_id: str | None) -> dict[str, Any]:
        access.require_admin(principal)
        if user_id is not None and not 0 < len(user_id) <= 64:
            raise InvalidInput("user must be a user id", field="user")
        rows = await self.rt.db(accounts.devices, user_id)
        return {
            "items": [
                {
                    "id": d["id"],
                    "user_id": d["user_id"],
                    "username": d["username"],
                    "name": d["name"],
                    "paired_at": iso(d["created_at"]),
                    "last_seen": iso(d["last_seen"]),
                    "revoked_at": iso(d["revoked_at"]),
                    "active": d["revoked_at"] is None,
                }
                for d in reversed(rows)  # newest first
            ]
        }

    async def revoke_device(self, principal: Principal, device_id: str) -> None:
        access.require_admin(principal)

        def revoke(store: Store) -> None:
            accounts.revoke_device(store, device_id)
            audit.entry(store, principal, "device.revoke", device_id)

        await self.rt.db(revoke)
        await self.rt.access_changed()  # its access tokens stop working now, not when they expire

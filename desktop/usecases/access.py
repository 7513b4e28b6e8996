"""Who may see what: admins see everything, attendants their own conversations and contacts."""

from __future__ import annotations

from typing import Any

from desktop.auth import Principal
from desktop.errors import Forbidden, NotFound
from desktop.store import chats, reports
from desktop.usecases.runtime import Runtime


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an admin can do this", code="role_not_allowed")


async def conversation(rt: Runtime, principal: Principal, conversation_id: str) -> dict[str, Any]:
    """The conversation's row; NotFound for one the principal may not see."""
    row = await rt.db(chats.conversation_row, conversation_id)
    if not principal.is_admin and chats.effective_owner(row) != principal.user_id:
        raise NotFound("conversation not found")
    return row


async def check_contact(rt: Runtime, principal: Principal, contact_id: str) -> None:
    if principal.is_admin:
        return
    if not await rt.db(reports.contact_visible, contact_id, principal.user_id):
        raise NotFound("contact not found")

"""GET /conversations carries each conversation's waiting time (the desktop list shows it): how
long the customer's first unanswered message has waited; null once answered or resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import make_server


def _capture(chat: str, msgs: list[tuple[str, str, datetime]]) -> dict:
    return {
        "chat": {"id": f"{chat}@c.us", "title": f"Cliente {chat[-4:]}", "is_group": False, "phone": f"+{chat}"},
        "messages": [
            {"id": f"false_{chat}@c.us_{i:04d}", "direction": d, "author": None if d == "out" else "Cliente",
             "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S"), "text": text, "kind": "text"}
            for i, (d, text, at) in enumerate(msgs)
        ],
        "captured_at": datetime.now(UTC).isoformat(),
        "client": {"extension_version": "0.1.0", "locale": "pt-BR", "tz_offset_minutes": 0},
    }


def test_waiting_seconds_in_the_conversation_list(tmp_path):
    srv = make_server(tmp_path, None, conversa_timezone="UTC")
    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]
        now = datetime.now(UTC).replace(tzinfo=None)
        ids = {}
        for chat, msgs in {
            # asked 3 h ago, answered 2 h ago, asked again 90 and 30 min ago: waiting since the 90
            "5511900000001": [("in", "Oi", now - timedelta(hours=3)), ("out", "Olá!", now - timedelta(hours=2)),
                              ("in", "E o preço?", now - timedelta(minutes=90)),
                              ("in", "Alô?", now - timedelta(minutes=30))],
            "5511900000002": [("in", "Oi", now - timedelta(hours=1)), ("out", "Olá!", now - timedelta(minutes=5))],
        }.items():
            r = srv.request("POST", "/api/v1/captures", _capture(chat, msgs), token=token)
            assert r.status == 202, r.body
            ids[chat] = r.json()["conversation_id"]
        items = {c["id"]: c for c in srv.request("GET", "/api/v1/conversations", token=token).json()["items"]}
        waiting = items[ids["5511900000001"]]["waiting_seconds"]
        assert 90 * 60 - 5 <= waiting <= 90 * 60 + 120, waiting
        assert items[ids["5511900000002"]]["waiting_seconds"] is None  # answered
        r = srv.request("PATCH", f"/api/v1/conversations/{ids['5511900000001']}", {"status": "resolved"}, token=token)
        assert r.status == 200
        items = {c["id"]: c for c in srv.request("GET", "/api/v1/conversations", token=token).json()["items"]}
        assert items[ids["5511900000001"]]["waiting_seconds"] is None  # resolved: nobody waits
    finally:
        srv.stop()

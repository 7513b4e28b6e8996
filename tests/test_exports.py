"""CSV exports (Power BI / Excel) and the contact dossier (LGPD): re-read with Python's csv module
and compared with what the API answers; formula injection neutralised; streamed."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import PASSPHRASE, make_server

from desktop.store import chats, insights
from desktop.store.database import Store

API = "/api/v1"
BOM = "\ufeff".encode()
HYPERLINK = '=HYPERLINK("http://x")'
CONTACTS = 2100  # more than one batch of the export (1000 rows)


def _capture(i: int) -> dict:
    return {
        "chat": {"id": f"55119{i:08d}@c.us", "title": f"Cliente {i}", "is_group": False, "phone": f"+55119{i:08d}"},
        "messages": [
            {"id": f"m{i}a", "direction": "in", "kind": "text", "text": f"oi {i}", "timestamp": "2026-03-10T09:14:00"},
            {"id": f"m{i}b", "direction": "out", "kind": "text", "text": "olá", "timestamp": "2026-03-10T09:20:00"},
        ],
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("export"), None)
    store, _ = Store.open(s.data_dir, PASSPHRASE)
    try:
        admin_id = store.q1("SELECT id FROM users")["id"]
        for i in range(CONTACTS):
            stored = chats.store_capture(store, _capture(i), admin_id)
            if i == 0:
                chats.update_contact(
                    store,
                    stored.contact_id,
                    {"notes": HYPERLINK, "value": 12500.5, "tags": ["@cmd", "vip"], "stage": "proposal"},
                )
                chats.update_contact(store, stored.contact_id, {"name": '-2+3 Maria; "Zé"\nda Silva'})
            if i < 3:
                row = chats.conversation_row(store, stored.conversation_id)
                iid = insights.create(store, stored.conversation_id, None, "test-model")
                insights.save(
                    store,
                    iid,
                    row["kid"],
                    {
                        "state": "ready",
                        "sentiment": {"label": "negative", "score": -0.75},
                        "intent": {"label": "complaint", "confidence": 0.8},
                        "summary": "resumo secreto",
                        "suggestions": [],
                    },
                )
    finally:
        store.close()
    s.start(wait_model=False)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(srv) -> str:
    return srv.login()["access_token"]


def _csv(srv, token, name: str, sep: str | None = None) -> tuple[list[dict], object]:
    r = srv.request("GET", f"{API}/export/{name}.csv" + (f"?sep={sep}" if sep else ""), token=token)
    assert r.status == 200, r.body[:300]
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers.get("transfer-encoding") == "chunked"  # streamed, not built whole
    assert r.body.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"), newline=""), delimiter=sep or ","))
    return rows, r


def _all_conversations(srv, token) -> list[dict]:
    out, cursor = [], None
    while True:
        r = srv.request("GET", API + "/conversations?limit=200" + (f"&cursor={cursor}" if cursor else ""), token=token)
        page = r.json()
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def test_contacts_csv_matches_the_api_and_neutralises_formulas(srv, admin):
    rows, _ = _csv(srv, admin, "contacts")
    api = {c["id"]: c for c in srv.request("GET", API + "/contacts", token=admin).json()["items"]}
    assert len(rows) == len(api) == CONTACTS
    assert len({r["id"] for r in rows}) == CONTACTS  # no row twice across the batches
    for row in rows:
        card = api[row["id"]]
        assert row["stage"] == card["stage"]
        assert (float(row["value"]) if row["value"] else None) == card["value"]
        assert row["phone"] == "'" + card["phone"]  # `+55…` starts like a formula: prefixed too
        assert row["name"] == card["name"] or row["name"] == "'" + card["name"]
        assert row["tags"] == "|".join(card["tags"]) or row["tags"] == "'" + "|".join(card["tags"])
        assert row["created_at"].endswith("Z") and "T" in row["created_at"]
    special = next(r for r in rows if r["notes"].startswith("'"))
    assert special["notes"] == "'" + HYPERLINK  # shown as text by Excel, never run
    assert special["value"] == "12500.5"  # `.` decimals
    assert special["name"] == '\'-2+3 Maria; "Zé"\nda Silva'  # one record despite the newline and quotes
    assert special["tags"] == "'@cmd|vip"


def test_semicolon_separator_for_ptbr_excel(srv, admin):
    rows, r = _csv(srv, admin, "contacts", sep=";")
    first_line = r.body.decode("utf-8-sig").split("\r\n", 1)[0]
    assert first_line.startswith("id;name;phone;")
    assert len(rows) == CONTACTS
    special = next(r for r in rows if r["notes"].startswith("'"))
    assert special["notes"] == "'" + HYPERLINK and special["value"] == "12500.5"


def test_conversations_csv_matches_the_api(srv, admin):
    rows, _ = _csv(srv, admin, "conversations")
    api = {c["id"]: c for c in _all_conversations(srv, admin)}
    assert len(rows) == len(api) == CONTACTS
    for row in rows:
        conv = api[row["id"]]
        assert row["contact_id"] == conv["contact_id"] and row["status"] == conv["status"]
        assert int(row["message_count"]) == conv["message_count"] == 2
        assert row["stage"] == conv["stage"] and row["owner_id"] == conv["owner"]
        assert row["last_message_at"] == conv["last_message_at"] == "2026-03-10T09:20:00"
    labelled = [r for r in rows if r["sentiment"]]
    assert len(labelled) == 3 and all(r["sentiment_score"] == "-0.75" for r in labelled)


def test_insights_csv_matches_the_history_and_holds_no_text(srv, admin):
    rows, r = _csv(srv, admin, "insights")
    assert len(rows) == 3 and b"resumo secreto" not in r.body
    for row in rows:
        hist = srv.request("GET", f"{API}/conversations/{row['conversation_id']}/insights/history", token=admin)
        (item,) = hist.json()["items"]
        assert row["id"] == item["id"] and row["sentiment"] == item["sentiment"]["label"]
        assert float(row["sentiment_score"]) == item["sentiment"]["score"]
        assert row["intent"] == item["intent"]["label"] and float(row["intent_confidence"]) == 0.8


def test_exports_are_audited_and_bad_input_is_refused(srv, admin):
    for name in ("contacts", "conversations", "insights"):
        _csv(srv, admin, name, sep=";")
        row = srv.request("GET", API + "/audit?limit=1", token=admin).json()["items"][0]
        assert row["action"] == f"export.{name}" and row["detail"] == "sep=;" and row["device_id"]
    before = srv.request("GET", API + "/audit?limit=200", token=admin).json()
    for query, field in (("?sep=|", "sep"), ("?sep=", "sep"), ("?format=xlsx", "format")):
        r = srv.request("GET", f"{API}/export/contacts.csv{query}", token=admin)
        assert r.status == 400 and r.json()["error"]["field"] == field, r.body
    assert srv.request("GET", API + "/audit?limit=200", token=admin).json() == before


def test_contact_export_holds_everything_decrypted_and_is_audited(srv, admin):
    conv = next(c for c in _all_conversations(srv, admin) if c["insight"])
    r = srv.request("GET", f"{API}/contacts/{conv['contact_id']}/export", token=admin)
    assert r.status == 200, r.body
    out = r.json()
    assert out["contact"]["id"] == conv["contact_id"] and out["contact"]["phone"].startswith("+55119")
    (c,) = out["conversations"]
    assert c["id"] == conv["id"] and c["title"].startswith("Cliente ")
    assert [m["text"] for m in c["messages"]] == [m["text"] for m in _capture(int(c["title"][8:]))["messages"]]
    assert c["insights"][0]["summary"] == "resumo secreto"
    assert c["corrections"] == [] and c["feedback"] == []
    row = srv.request("GET", API + "/audit?limit=1", token=admin).json()["items"][0]
    assert row["action"] == "contact.export" and row["target"] == conv["contact_id"]
    assert srv.request("GET", f"{API}/contacts/k_missing/export", token=admin).status == 404

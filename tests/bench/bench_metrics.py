"""/metrics benchmark: 90 days x 100,000 conversations, p50/p99 latency (target <= 200 ms).

Run: .venv/bin/python tests/bench/bench_metrics.py [--conversations 100000] [--requests 20]
Seeds the store directly (rows written with SQL through the store's connection, names sealed with
100 contact keys — a real install has one key per contact, which only matters for names, and only
the listed few are decrypted): 10 attendants, each conversation 4 messages (customer, reply,
customer, reply) on one of 90 days, one analysis per conversation, a feedback row per 5
conversations. Then starts a real server without the model and times `GET /metrics` for the
whole 90 days, as an admin (every row) and as one attendant; then as an admin again with a new
capture posted before each request (its kept rows are rebuilt inside the request, as during a
working day). The seeding's inserts fire the store's triggers like any write, so every seeded
conversation starts marked, and the first request (timed alone, `first_request_s`) rebuilds the kept rows of all of
them, as the server's background round would after an upgrade. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import PASSPHRASE, cli, make_server  # noqa: E402

from desktop.pipeline import STAGES  # noqa: E402
from desktop.store.database import Store  # noqa: E402

DAYS = 90
START = datetime(2026, 1, 1, tzinfo=UTC)
SENTIMENTS = ("positive", "neutral", "negative")
FEEDBACK = ("inserted", "edited", "dismissed", "sent")


def seed(store: Store, conversations: int, users: list[str]) -> None:
    rng = random.Random(7)
    kids = [store.new_contact_key() for _ in range(100)]
    contacts, convs, msgs, insights, feedback = [], [], [], [], []
    for n in range(conversations):
        kid = kids[n % len(kids)]
        k, c = f"k{n:07d}", f"c{n:07d}"
        owner = users[n % len(users)]
        day = START + timedelta(days=rng.randrange(DAYS), hours=8 + rng.randrange(10), minutes=rng.randrange(60))
        stage = STAGES[rng.randrange(len(STAGES))]
        value = float(rng.randrange(100, 50_000)) if rng.random() < 0.7 else None
        name = store.seal(kid, "contacts", "name", k, f"Cliente {n}")
        contacts.append((k, kid, name, 0, stage, value, day.timestamp(), day.timestamp()))
        resolved = (day + timedelta(hours=rng.randrange(1, 72))).timestamp() if rng.random() < 0.6 else None
        convs.append((c, k, 0, "resolved" if resolved else "open", owner, day.timestamp(), day.timestamp(), resolved))
        t = day
        for i, direction in enumerate(("in", "out", "in", "out")):
            t += timedelta(minutes=rng.randrange(1, 60))
            ts = t.strftime("%Y-%m-%dT%H:%M:%S")
            msgs.append((f"m{n:07d}{i}", c, f"h{i}", direction, "text", ts, ts, i + 1, t.timestamp(), owner))
        insights.append((f"i{n:07d}", c, "done", SENTIMENTS[rng.randrange(3)], 0.8, "other", t.timestamp(), 0))
        if n % 5 == 0:
            feedback.append((f"f{n:07d}", f"i{n:07d}.0", f"i{n:07d}", c, owner, FEEDBACK[n % 4], t.timestamp()))
    with store.transaction():
        x = store.conn.executemany
        x(
            "INSERT INTO contacts(id, kid, name, is_group, stage, value, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            contacts,
        )
        x(
            "INSERT INTO conversations(id, contact_id, is_group, status, owner_id, created_at, updated_at,"
            " resolved_at, message_count) VALUES (?,?,?,?,?,?,?,?,4)",
            convs,
        )
        x(
            "INSERT INTO messages(id, conversation_id, msg_hash, direction, kind, ts, sort_ts, seq, created_at,"
            " captured_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
            msgs,
        )
        x(
            "INSERT INTO insights(id, conversation_id, state, sentiment_label, sentiment_score, intent_label,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            insights,
        )
        x(
            "INSERT INTO suggestion_feedback(id, suggestion_id, insight_id, conversation_id, user_id, action,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            feedback,
        )


def timed(server, path: str, token: str, n: int, before=None) -> dict:
    lat = []
    for i in range(n):
        if before:
            before(i)
        t0 = time.perf_counter()
        r = server.request("GET", path, token=token, timeout=600)
        lat.append(time.perf_counter() - t0)
        assert r.status == 200, r.body[:300]
    lat.sort()
    return {
        "requests": n,
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 1),
        "bytes": len(r.body),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), None, conversa_timezone="UTC")
        r = cli(
            server.data_dir, "users", "add", "att0", "--role", "attendant", "--password-stdin", stdin="att-pass-123\n"
        )
        assert r.returncode == 0, r.stderr
        store, _ = Store.open(server.data_dir, PASSPHRASE)
        att0 = store.q1("SELECT id FROM users WHERE username='att0'")["id"]
        t0 = time.perf_counter()
        seed(store, args.conversations, [att0] + [f"u_att{i}" for i in range(1, 10)])
        seeded_s = time.perf_counter() - t0
        store.close()
        server.start(wait_model=False)
        try:
            last = (START + timedelta(days=DAYS - 1)).date().isoformat()
            path = f"/api/v1/metrics?from={START.date().isoformat()}&to={last}"
            admin = server.login()["access_token"]
            att = server.login("att0", "att-pass-123")["access_token"]
            t0 = time.perf_counter()
            server.request("GET", path, token=admin, timeout=600)  # rebuilds every marked conversation
            first_s = time.perf_counter() - t0

            def capture(i: int) -> None:
                msgs = [
                    {"id": f"b{i}-{k}", "direction": d, "kind": "text", "author": None, "text": "oi",
                     "timestamp": f"2026-03-{10 + k}T09:0{k}:00"}
                    for k, d in enumerate(("in", "out"))
                ]  # fmt: skip
                body = {"chat": {"id": f"5511{i:09d}@c.us", "title": "Cliente", "is_group": False, "phone": None},
                        "messages": msgs}  # fmt: skip
                r = server.request("POST", "/api/v1/captures", body, token=admin)
                assert r.status in (200, 201, 202), r.body[:300]

            out = {
                "conversations": args.conversations,
                "messages": 4 * args.conversations,
                "days": DAYS,
                "seed_seconds": round(seeded_s, 1),
                "first_request_s": round(first_s, 1),
                "admin": timed(server, path, admin, args.requests),
                "attendant": timed(server, path, att, args.requests),
                "admin_after_a_capture": timed(server, path, admin, args.requests, capture),
            }
            print(json.dumps(out))
        finally:
            server.stop()


if __name__ == "__main__":
    main()

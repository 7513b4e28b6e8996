"""Attendant queue and history benchmark (issue 14). Not a pass/fail test: it prints figures.

Run: .venv/bin/python tests/bench/bench_queue.py [--conversations 2000] [--attendants 50] [--requests 200]
     [--periods 500] [--no-browser]

1. `GET /queue` with 2,000 open conversations spread over 50 attendants (target: p99 <= 50 ms).
   Seeded straight into a real store: per conversation 6 messages (a third end with the customer
   waiting, a third with a reply, a third with a long unanswered run), 3 analyses, a hand-over note
   on every tenth, a due follow-up on every twentieth, 20 resolved chats per attendant that the
   queue must skip. A real server without the model answers; timed as one attendant (their ~40
   chats) and as an admin reading that attendant's queue (`?user=`).
2. The panel's "Histórico" for a contact with 500 past periods (3 analyses each, a summary, a
   hand-over every 10th): real Chromium with the unpacked extension, paired, on the fixture
   WhatsApp page of that contact. Timed in the panel from the click on the tab to the frame after
   the first page is in the DOM (time to first paint), then to all 500 rendered ("Carregar mais").
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from conftest import PASSPHRASE, cli, make_server  # noqa: E402

from desktop.store import accounts  # noqa: E402
from desktop.store.database import Store  # noqa: E402

SENTIMENTS = ("negative", "neutral", "positive")
HISTORY_CHAT = {"id": "5511987654321@c.us", "title": "Mariana Costa"}  # the fixture chat_ptbr_1to1
PW = "bench-queue-pass-1"


def _ts(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))


def seed_queue(store: Store, conversations: int, users: list[str]) -> None:
    rng = random.Random(14)
    now = time.time()
    kids = [store.new_contact_key() for _ in range(50)]
    contacts, convs, msgs, insights, followups = [], [], [], [], []
    total = conversations + 20 * len(users)  # the resolved ones the queue must skip
    for n in range(total):
        kid = kids[n % len(kids)]
        k, c = f"k{n:06d}", f"c{n:06d}"
        owner = users[n % len(users)]
        start = now - rng.randrange(600, 86400)
        contacts.append((k, kid, store.seal(kid, "contacts", "name", k, f"Cliente {n}"), "lead", start, start))
        status = "open" if n < conversations else "resolved"
        note = store.seal(kid, "conversations", "transfer_note", c, f"Nota {n}") if n % 10 == 0 else None
        title = store.seal(kid, "conversations", "title", c, f"Cliente {n}")
        convs.append((c, k, title, status, owner, start, start, note, start if note else None))
        shape = n % 3  # 0: waiting; 1: answered; 2: a long unanswered run
        directions = {0: "in out in out in in", 1: "in out in out in out", 2: "in out in in in in"}[shape].split()
        t = start
        for i, d in enumerate(directions):
            t += rng.randrange(30, 300)
            msgs.append((f"m{n:06d}{i}", c, f"h{i}", d, "text", _ts(t), _ts(t), i + 1, t, owner))
        for i in range(3):
            label = SENTIMENTS[rng.randrange(3)]
            insights.append(
                (
                    f"i{n:06d}{i}",
                    c,
                    "ready",
                    label,
                    {"negative": -0.7, "neutral": 0, "positive": 0.7}[label],
                    "other",
                    start + i,
                    start + i,
                )
            )
        if n % 20 == 0:
            followups.append(
                (f"f{n:06d}", c, owner, now - 60, store.seal(kid, "followups", "note", f"f{n:06d}", "x"), start, start)
            )
    with store.transaction():
        x = store.conn.executemany
        x(
            "INSERT INTO contacts(id, kid, name, is_group, stage, created_at, updated_at) VALUES (?,?,?,0,?,?,?)",
            contacts,
        )
        x(
            "INSERT INTO conversations(id, contact_id, title, is_group, status, owner_id, created_at, updated_at,"
            " message_count, verified, transfer_note, transferred_at) VALUES (?,?,?,0,?,?,?,?,6,1,?,?)",
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
            "INSERT INTO followups(id, conversation_id, user_id, due_at, note, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?)",
            followups,
        )


def seed_history(store: Store, owner: str, periods: int) -> str:
    """The fixture chat's contact with `periods` past periods (resolved, re-opened, ...)."""
    kid = store.new_contact_key()
    k, c = "k_history", "c_history"
    t0 = time.time() - periods * 86400
    title, chat = HISTORY_CHAT["title"], HISTORY_CHAT["id"]
    events, insights = [], []
    for p in range(periods):
        start = t0 + p * 86400
        for i in range(3):
            iid = f"ih{p:04d}{i}"
            label = SENTIMENTS[(p + i) % 3]
            summary = store.seal(kid, "insights", "summary", iid, f"Período {p}: cliente pediu troca de tamanho.")
            insights.append(
                (
                    iid,
                    c,
                    label,
                    {"negative": -0.7, "neutral": 0.1, "positive": 0.8}[label],
                    "order_status",
                    summary,
                    start + 600 * (i + 1),
                )
            )
        if p < periods - 1:
            events.append((f"eh{p:04d}r", c, k, start + 3600, owner, "status", "resolved", None))
            events.append((f"eh{p:04d}o", c, k, start + 86400, owner, "reopen", "open", None))
        if p % 10 == 0:
            eid = f"eh{p:04d}t"
            note = store.seal(kid, "conversation_events", "note", eid, "Passando para você, ver troca")
            events.append((eid, c, k, start + 1800, owner, "transfer", owner, note))
    with store.transaction():
        store.conn.execute(
            "INSERT INTO contacts(id, kid, jid_hash, title_hash, name, is_group, stage, tags, created_at, updated_at)"
            " VALUES (?,?,?,?,?,0,'lead',?,?,?)",
            (
                k,
                kid,
                store.index("jid", chat),
                store.index("title", title),
                store.seal(kid, "contacts", "name", k, title),
                store.seal(kid, "contacts", "tags", k, []),
                t0,
                t0,
            ),
        )
        store.conn.execute(
            "INSERT INTO conversations(id, contact_id, chat_hash, title_hash, title, is_group, status, owner_id,"
            " created_at, updated_at, message_count, verified) VALUES (?,?,?,?,?,0,'open',?,?,?,0,1)",
            (
                c,
                k,
                store.index("chat", chat),
                store.index("title", title),
                store.seal(kid, "conversations", "title", c, title),
                owner,
                t0,
                t0,
            ),
        )
        store.conn.executemany(
            "INSERT INTO conversation_events(id, conversation_id, contact_id, at, user_id, kind, value, note)"
            " VALUES (?,?,?,?,?,?,?,?)",
            events,
        )
        store.conn.executemany(
            "INSERT INTO insights(id, conversation_id, state, sentiment_label, sentiment_score, intent_label, summary,"
            " created_at, updated_at) VALUES (?,?,'ready',?,?,?,?,?,?)",
            [(*i, i[-1]) for i in insights],
        )
    return k


def timed(server, path: str, token: str, n: int) -> dict:
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = server.request("GET", path, token=token)
        lat.append(time.perf_counter() - t0)
        assert r.status == 200, r.body[:300]
    lat.sort()
    return {
        "requests": n,
        "items": len(r.json()["items"]),
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 2),
    }


FIRST_PAINT = """
async ([selector, count]) => {
  const list = document.querySelector('#history-list');
  const t0 = performance.now();
  document.querySelector(selector).click();
  await new Promise((resolve) => {
    if (list.children.length >= count) return resolve();
    const mo = new MutationObserver(() => { if (list.children.length >= count) { mo.disconnect(); resolve(); } });
    mo.observe(list, { childList: true });
  });
  const dom = performance.now() - t0;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));  // the frame is painted
  return { dom_ms: dom, paint_ms: performance.now() - t0, items: list.children.length };
}
"""


def bench_panel(server, periods: int) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_attendant_e2e import Attendant

    node = __import__("shutil").which("node")
    import subprocess

    r = subprocess.run([node, "scripts/build.mjs"], cwd=ROOT / "extension", capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    built = ROOT / "extension" / "dist" / "chromium"
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        who = Attendant(p, built, Path(profile), "att0")
        try:
            who.pair(server)
            frame = who.open_whatsapp("chat_ptbr_1to1.html")
            frame.wait_for_function(
                "() => document.querySelector('#contact-name').value === 'Mariana Costa'", timeout=60_000
            )
            first = frame.evaluate(FIRST_PAINT, ["#tab-history", 20])
            t0 = time.perf_counter()
            while frame.locator("#history-list li.period").count() < periods:
                before = frame.locator("#history-list li.period").count()
                frame.click("#history-more")
                frame.wait_for_function(
                    f"() => document.querySelectorAll('#history-list li.period').length > {before}", timeout=60_000
                )
            all_ms = (time.perf_counter() - t0) * 1000
            frame.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))")
            shot = ROOT / "tests" / "artifacts" / "bench-history.png"
            shot.parent.mkdir(exist_ok=True)
            frame.frame_element().screenshot(path=str(shot))
            return {
                "periods": periods,
                "first_page_items": first["items"],
                "first_page_dom_ms": round(first["dom_ms"], 1),
                "first_page_paint_ms": round(first["paint_ms"], 1),
                "all_periods_rendered_ms": round(all_ms, 1),
                "screenshot": str(shot),
            }
        finally:
            who.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=2000)
    ap.add_argument("--attendants", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--periods", type=int, default=500)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), None, conversa_timezone="UTC")
        r = cli(server.data_dir, "users", "add", "att0", "--role", "attendant", "--password-stdin", stdin=PW + "\n")
        assert r.returncode == 0, r.stderr
        store, _ = Store.open(server.data_dir, PASSPHRASE)
        att0 = accounts.user_by_name(store, "att0")
        users = [att0["id"]] + [
            accounts.add_user(store, f"att{i}", "attendant", att0["pw_hash"])["id"] for i in range(1, args.attendants)
        ]
        t0 = time.perf_counter()
        seed_queue(store, args.conversations, users)
        history_contact = seed_history(store, att0["id"], args.periods)
        seeded_s = time.perf_counter() - t0
        store.close()
        server.start(wait_model=False)
        try:
            att = server.login("att0", PW)["access_token"]
            admin = server.login()["access_token"]
            for _ in range(5):  # warm-up
                server.request("GET", "/api/v1/queue", token=att)
            out = {
                "conversations_open": args.conversations,
                "attendants": args.attendants,
                "seed_seconds": round(seeded_s, 1),
                # The floor on this machine: an authenticated request that reads one small table.
                "baseline_quick_replies": timed(server, "/api/v1/quick-replies", att, args.requests),
                "queue_attendant": timed(server, "/api/v1/queue", att, args.requests),
                "queue_admin_user": timed(server, "/api/v1/queue?user=att0", admin, args.requests),
                "history_api_first_page": timed_history(server, history_contact, att, 50, 20),
                "history_api_500": timed_history(server, history_contact, att, 20, 500),
            }
            if not args.no_browser:
                out["panel_history"] = bench_panel(server, args.periods)
            print(json.dumps(out, indent=1))
        finally:
            server.stop()


def timed_history(server, contact: str, token: str, n: int, limit: int) -> dict:
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = server.request("GET", f"/api/v1/contacts/{contact}/history?limit={limit}", token=token)
        lat.append(time.perf_counter() - t0)
        assert r.status == 200, r.body[:300]
    lat.sort()
    return {
        "requests": n,
        "items": len(r.json()["items"]),
        "total": r.json()["total"],
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 2),
    }


if __name__ == "__main__":
    main()

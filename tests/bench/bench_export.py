"""Export benchmark: `GET /export/conversations.csv` over 100,000 conversations.

Run: .venv/bin/python tests/bench/bench_export.py [--conversations 100000] [--contacts 1000]
Seeds the conversations directly through the store (sealed titles, as captures store them; no
messages: the export reads none), starts a real server without the model, downloads the CSV
once per format and prints rows/s and the server's peak memory (VmHWM) before and after.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import PASSPHRASE, make_server  # noqa: E402

from desktop.store.database import Store, new_id  # noqa: E402


def seed(data_dir: Path, n_conversations: int, n_contacts: int) -> float:
    t0 = time.perf_counter()
    store, _ = Store.open(data_dir, PASSPHRASE)
    try:
        owner = store.q1("SELECT id FROM users")["id"]
        now = time.time()
        per_contact = max(1, n_conversations // n_contacts)
        with store.transaction():
            made = 0
            for c in range(n_contacts):
                cid, kid = new_id("k"), store.new_contact_key()
                store.conn.execute(
                    "INSERT INTO contacts(id, kid, name, phone, is_group, stage, value, tags, notes, owner_id,"
                    " created_at, updated_at) VALUES (?,?,?,?,0,?,?,?,?,?,?,?)",
                    (
                        cid,
                        kid,
                        store.seal(kid, "contacts", "name", cid, f"Cliente {c}"),
                        store.seal(kid, "contacts", "phone", cid, f"+55119{c:08d}"),
                        ("lead", "qualified", "proposal", "won", "lost")[c % 5],
                        float(c * 10),
                        store.seal(kid, "contacts", "tags", cid, ["vip"]),
                        store.seal(kid, "contacts", "notes", cid, '=HYPERLINK("http://x")'),
                        owner,
                        now,
                        now,
                    ),
                )
                for _ in range(per_contact if c < n_contacts - 1 else n_conversations - made):
                    vid = new_id("c")
                    store.conn.execute(
                        "INSERT INTO conversations(id, contact_id, chat_hash, title, is_group, status, owner_id,"
                        " created_at, updated_at, last_message_at, message_count, verified)"
                        " VALUES (?,?,?,?,0,?,?,?,?,?,?,1)",
                        (
                            vid,
                            cid,
                            secrets.token_hex(16),
                            store.seal(kid, "conversations", "title", vid, f"Cliente {c}"),
                            ("open", "pending", "resolved")[made % 3],
                            owner,
                            now - made,
                            now - made,
                            "2026-03-10T09:20:00",
                            made % 40,
                        ),
                    )
                    made += 1
    finally:
        store.close()
    return time.perf_counter() - t0


def peak_rss_kib(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


def download(srv, token: str, path: str) -> tuple[int, int, float]:
    """Rows and bytes of a streamed CSV, read chunk by chunk as a client would."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Host": srv.host, "Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()[:300]
    text = io.TextIOWrapper(resp, encoding="utf-8-sig", newline="")
    size = rows = 0
    for row in csv.reader(text, delimiter=";" if "sep=" in path else ","):
        rows += 1
        size += sum(len(c) for c in row)
    elapsed = time.perf_counter() - t0
    conn.close()
    return rows - 1, size, elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = make_server(Path(tmp), None)
        took = seed(srv.data_dir, args.conversations, args.contacts)
        print(f"seeded {args.conversations} conversations / {args.contacts} contacts in {took:.1f} s")
        srv.start(wait_model=False)
        try:
            token = srv.login()["access_token"]
            pid = srv.proc.pid
            hwm, rss = peak_rss_kib(pid)
            print(f"server before: peak RSS {hwm / 1024:.1f} MiB, RSS {rss / 1024:.1f} MiB")
            for path in ("/api/v1/export/conversations.csv", "/api/v1/export/conversations.csv?sep=;"):
                rows, chars, elapsed = download(srv, token, path)
                hwm, rss = peak_rss_kib(pid)
                print(
                    f"{path}: {rows} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s;"
                    f" server peak RSS {hwm / 1024:.1f} MiB, RSS {rss / 1024:.1f} MiB"
                )
            rows, chars, elapsed = download(srv, token, "/api/v1/export/contacts.csv")
            hwm, _ = peak_rss_kib(pid)
            print(f"contacts.csv: {rows} rows in {elapsed:.2f} s; server peak RSS {hwm / 1024:.1f} MiB")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()

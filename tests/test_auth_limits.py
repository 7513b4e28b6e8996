"""Login and pairing limits hold under parallel requests (issue 10, point 3), and password
hashing is off the event loop at the current scrypt cost, upgrading old hashes (point 4)."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from conftest import ADMIN_PASSWORD, Server, make_server

LOGIN = "/api/v1/auth/login"
PAIR = "/api/v1/auth/pair"
PER_USER, PER_ADDRESS = 10, 50


def _parallel(server: Server, n: int, path: str, body_of) -> Counter:
    """n requests released at the same instant, each on its own connection; statuses counted."""
    gate = threading.Barrier(n)

    def one(i: int) -> int:
        gate.wait()
        return server.request("POST", path, body_of(i), timeout=300).status

    with ThreadPoolExecutor(n) as pool:
        return Counter(pool.map(one, range(n)))


def test_parallel_wrong_passwords_verify_at_most_the_user_limit(tmp_path):
    server = make_server(tmp_path, None)
    server.start()
    try:
        got = _parallel(server, 60, LOGIN, lambda i: {"username": "admin", "password": f"wrong-{i}"})
        # Every verification that fails answers 401; the rest were refused before any scrypt ran.
        assert set(got) <= {401, 429} and got[401] <= PER_USER and got[429] >= 60 - PER_USER, got
        assert server.request("POST", LOGIN, {"username": "admin", "password": ADMIN_PASSWORD}).status == 429
    finally:
        server.stop()


def test_parallel_wrong_pairing_codes_verify_at_most_the_address_limit(tmp_path):
    server = make_server(tmp_path, None)
    server.start()
    try:
        got = _parallel(server, 60, PAIR, lambda i: {"code": f"{i:04d}-0000", "device": "x"})
        assert set(got) <= {401, 429} and got[401] <= PER_ADDRESS and got[429] >= 60 - PER_ADDRESS, got
    finally:
        server.stop()


def test_a_successful_login_does_not_count_as_a_failure(tmp_path):
    server = make_server(tmp_path, None)
    server.start()
    try:
        # Each attempt is reserved as a failure before it is checked; a success gives it back.
        for _ in range(PER_USER + 1):
            server.login()
    finally:
        server.stop()


def test_username_none_is_limited_like_any_other(tmp_path):
    # The limiter used to skip the key "u:None" (meant for pairing, which has no username).
    server = make_server(tmp_path, None)
    server.start()
    try:
        body = {"username": "None", "password": "wrong-password"}
        for _ in range(PER_USER):
            assert server.request("POST", LOGIN, body).status == 401
        assert server.request("POST", LOGIN, body).status == 429
    finally:
        server.stop()


def _stored_hash(server: Server, username: str = "admin") -> str:
    db = sqlite3.connect(server.data_dir / "conversa.db")
    try:
        return db.execute("SELECT pw_hash FROM users WHERE username=?", (username,)).fetchone()[0]
    finally:
        db.close()


def test_new_hashes_use_the_owasp_scrypt_cost(tmp_path):
    server = make_server(tmp_path, None)  # `users add` hashed the admin's password
    assert _stored_hash(server).startswith("scrypt$131072$8$1$")


def test_old_scrypt_hash_is_rehashed_at_the_next_login(tmp_path):
    server = make_server(tmp_path, None)
    salt = os.urandom(16)
    dk = hashlib.scrypt(ADMIN_PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"
    db = sqlite3.connect(server.data_dir / "conversa.db")
    db.execute("UPDATE users SET pw_hash=? WHERE username='admin'", (old,))
    db.commit()
    db.close()
    server.start()
    try:
        assert server.request("POST", LOGIN, {"username": "admin", "password": "not-the-password"}).status == 401
        assert _stored_hash(server) == old  # a failed login changes nothing
        server.login()
        new = _stored_hash(server)
        assert new.startswith("scrypt$131072$8$1$") and new != old
        server.login()  # the new hash checks the same password
        assert _stored_hash(server) == new
        assert server.request("POST", LOGIN, {"username": "admin", "password": "not-the-password"}).status == 401
    finally:
        server.stop()


def test_logins_do_not_block_the_event_loop(tmp_path):
    server = make_server(tmp_path, None)
    server.start()
    try:
        server.login()  # warm up: first imports, first device
        n = 8  # each login is one scrypt of ~0.4 s; on the loop they would queue every request behind them
        with ThreadPoolExecutor(n) as pool:
            logins = [pool.submit(server.login) for _ in range(n)]
            time.sleep(0.3)
            waits = []
            for _ in range(5):
                t0 = time.monotonic()
                assert server.request("GET", "/api/v1/health").status == 200
                waits.append(time.monotonic() - t0)
            still_running = sum(not f.done() for f in logins)
            for f in logins:
                f.result()
        assert still_running > 0, "the logins ended before /health was measured"
        assert max(waits) < 1.0, waits  # on the loop: several seconds behind the queued scrypts
    finally:
        server.stop()

"""/metrics over calendar days of the configured zone, on the database thread, robust to stored times
that are not real times (rows written straight into a real store, as older versions accepted them)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import PASSPHRASE, make_server

from desktop import config
from desktop import metrics as metrics_calc
from desktop.auth import Principal
from desktop.errors import ConfigError, InvalidInput
from desktop.service import Service
from desktop.store import chats
from desktop.store.database import Store


def _capture(chat_id: str, stamps: list[tuple[str, str]], title: str = "Cliente") -> dict:
    """One message per (direction, timestamp); ids are unique per chat."""
    return {
        "chat": {"id": chat_id, "title": title, "is_group": False, "phone": None},
        "messages": [
            {"id": f"{chat_id}-{i}", "direction": d, "kind": "text", "author": None, "timestamp": ts, "text": "oi"}
            for i, (d, ts) in enumerate(stamps)
        ],
    }


def _volumes(srv, token: str, query: str) -> dict:
    r = srv.request("GET", "/api/v1/metrics" + query, token=token)
    assert r.status == 200, r.body
    return r.json()


def test_a_day_is_inclusive_in_the_configured_zone(tmp_path):
    srv = make_server(tmp_path, None, conversa_timezone="America/Sao_Paulo")
    # 02:00Z on 11 March is 23:00 on 10 March in São Paulo. The API refuses offsets, so this row
    # is written the way another client or an import could have stored it.
    store, _ = Store.open(srv.data_dir, PASSPHRASE)
    chats.store_capture(store, _capture("utc@c.us", [("in", "2026-03-11T02:00:00Z")]), "u_import")
    store.close()
    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]
        stamps = [("in", "2026-03-10T00:30:00"), ("out", "2026-03-10T23:30:00"), ("in", "2026-03-11T00:30:00")]
        r = srv.request("POST", "/api/v1/captures", _capture("5511900000001@c.us", stamps), token=token)
        assert r.status == 202, r.body

        day = _volumes(srv, token, "?from=2026-03-10&to=2026-03-10")["volumes"]
        # 00:30 and 23:30 local count, 00:30 the next day does not; the 02:00Z message is the 10th here.
        assert (day["messages_in"], day["messages_out"], day["conversations"]) == (2, 1, 2)
        next_day = _volumes(srv, token, "?from=2026-03-11&to=2026-03-11")["volumes"]
        assert (next_day["messages_in"], next_day["messages_out"], next_day["conversations"]) == (1, 0, 1)
        assert _volumes(srv, token, "?to=2026-03-10")["volumes"]["messages_out"] == 1
        assert _volumes(srv, token, "?from=2026-03-12")["volumes"]["conversations"] == 0
        bad = srv.request("GET", "/api/v1/metrics?from=2026-03-11&to=2026-03-10", token=token)
        assert bad.status == 400 and bad.json()["error"]["field"] == "to"
        bad = srv.request("GET", "/api/v1/metrics?to=2026-02-30", token=token)
        assert bad.status == 400 and bad.json()["error"]["field"] == "to"
    finally:
        srv.stop()


def test_the_zone_decides_the_day_of_a_time_with_an_offset(tmp_path):
    store, _ = Store.open(tmp_path, PASSPHRASE)
    chats.store_capture(store, _capture("utc@c.us", [("in", "2026-03-11T02:00:00Z")]), "u1")
    chats.store_capture(store, _capture("local@c.us", [("in", "2026-03-11T00:30:00")]), "u1")

    def day(d: str, tz: str) -> int:
        return metrics_calc.report(store, None, d, d, tz)["volumes"]["messages_in"]

    assert (day("2026-03-10", "America/Sao_Paulo"), day("2026-03-11", "America/Sao_Paulo")) == (1, 1)
    assert (day("2026-03-10", "UTC"), day("2026-03-11", "UTC")) == (0, 2)
    store.close()


def test_metrics_answer_200_over_impossible_stored_times(tmp_path):
    srv = make_server(tmp_path, None)
    impossible = [
        "2026-13-01T09:14:00",
        "2026-02-30T09:14:00",
        "2026-03-10T24:00",
        "2026-03-10T23:59:60",
        "0000-03-10T09:14:00",
        "2026-03-10T09:14:00\n",
        "٢٠٢٦-٠٣-١٠T09:14:00",
        "２０２６-03-10T09:14:00",
    ]
    store, _ = Store.open(srv.data_dir, PASSPHRASE)
    for i, ts in enumerate(impossible):
        chats.store_capture(store, _capture(f"bad{i}@c.us", [("in", ts), ("out", ts)]), "u_old")
    good = [("in", "2026-03-10T09:00:00"), ("out", "2026-03-10T09:10:00")]
    chats.store_capture(store, _capture("good@c.us", good), "u_old")
    assert store.q1("SELECT count(*) AS n FROM messages")["n"] == 2 * len(impossible) + 2
    store.close()
    srv.start(wait_model=False)
    try:
        token = srv.login()["access_token"]
        for query in ("", "?from=2026-01-01&to=2026-12-31", "?from=2026-03-10&to=2026-03-10", "?to=2026-03-10"):
            m = _volumes(srv, token, query)
            assert m["volumes"]["messages_in"] == 1 and m["volumes"]["messages_out"] == 1, query
            assert m["first_response_seconds"] == {"p50": 600.0, "p90": 600.0, "n": 1}, query
        logged = (srv.data_dir / "logs" / "conversa.log").read_text("utf-8")
        assert "metrics: 16 messages with a stored time that is not a real time were left out" in logged
        assert "2026-13-01" not in logged and "23:59:60" not in logged
    finally:
        srv.stop()


def test_metrics_are_computed_on_the_database_thread(tmp_path, monkeypatch):
    store, _ = Store.open(tmp_path, PASSPHRASE)
    chats.store_capture(
        store, _capture("a@c.us", [("in", "2026-03-10T09:00:00"), ("out", "2026-03-10T09:01:00")]), "u1"
    )
    threads: list[str] = []
    report = metrics_calc.report

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return report(*args, **kwargs)

    monkeypatch.setattr(metrics_calc, "report", recording)
    service = Service(config.load({"data_dir": str(tmp_path)}, env={}), store, None)

    async def run() -> dict:
        service.rt.bind_loop(asyncio.get_running_loop())
        return await service.metrics(Principal("u_admin", "admin", "d1"), {"from": "2026-03-10", "to": "2026-03-10"})

    try:
        out = asyncio.run(run())
    finally:
        service.shutdown()
        store.close()
    assert out["volumes"]["messages_in"] == 1
    assert threads and threads[0] != threading.main_thread().name
    assert threads == ["db"]


def test_bounds_are_checked_before_any_work():
    tz = config.load(env={"CONVERSA_TIMEZONE": "America/Sao_Paulo"}).timezone
    assert tz == "America/Sao_Paulo"
    for value in ("2026-03-1x", "２０２６-03-10", "2026-13-01", "x" * 50):
        with pytest.raises(InvalidInput):
            metrics_calc.window(value, None, metrics_calc.ZoneInfo(tz))
    w = metrics_calc.window("2026-03-10", "2026-03-10", metrics_calc.ZoneInfo(tz))
    assert w.end - w.start == 24 * 3600


def test_timezone_setting_is_validated_and_documented():
    with pytest.raises(ConfigError, match="timezone"):
        config.load(env={"CONVERSA_TIMEZONE": "Mars/Olympus_Mons"})
    with pytest.raises(ConfigError, match="timezone"):
        config.load(env={"CONVERSA_TIMEZONE": "../../etc/passwd"})
    assert config.load(env={"TZ": "", "CONVERSA_TIMEZONE": ""}).timezone == config.local_timezone()
    row = next(s for s in config.describe() if s["name"] == "timezone")
    assert row["default"] == "(the machine's zone)" and "America/Sao_Paulo" in row["help"]

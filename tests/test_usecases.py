"""The use-case modules behind the Service facade: one stage list, errors that never vanish."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from desktop import pipeline

ROOT = Path(__file__).resolve().parent.parent


def test_the_stage_list_is_defined_once():
    """Python code names the stages through desktop.pipeline; the extension's copy matches it."""
    copies = []
    for f in sorted((ROOT / "desktop").rglob("*.py")):
        if f.name == "pipeline.py":
            continue
        for node in ast.walk(ast.parse(f.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in pipeline.STAGES:
                copies.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not copies, "stage names written outside desktop/pipeline.py:\n" + "\n".join(copies)
    js = (ROOT / "extension" / "panel" / "model.js").read_text("utf-8")
    m = re.search(r"export const STAGES = (\[[^\]]*\]);", js)
    assert m and tuple(json.loads(m.group(1).replace("'", '"'))) == pipeline.STAGES


# -- errors that never vanish ------------------------------------------------------------
def test_no_task_is_started_without_a_reference():
    """Fire-and-forget tasks lose their exceptions (and may be collected mid-way): every task in
    desktop/ goes through Runtime.background, which keeps it and logs its failure."""
    found = []
    for f in sorted((ROOT / "desktop").rglob("*.py")):
        if f.relative_to(ROOT).as_posix() == "desktop/usecases/runtime.py":
            continue
        for node in ast.walk(ast.parse(f.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in ("ensure_future", "create_task"):
                    found.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_a_background_failure_is_logged_without_its_message(tmp_path, caplog):
    import asyncio

    from desktop import config
    from desktop.store.database import Store
    from desktop.usecases.runtime import Runtime

    store, _ = Store.open(tmp_path, "")
    rt = Runtime(config.load(env={"CONVERSA_DATA_DIR": str(tmp_path)}), store, None)

    customer_text = "Oi, meu pedido 123 não chegou"

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError(customer_text)

    async def main() -> None:
        task = rt.background(fails())
        assert task in rt._tasks  # referenced while it runs
        await asyncio.sleep(0.05)
        assert task not in rt._tasks

    try:
        asyncio.run(main())
    finally:
        rt.close()
        store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "ValueError" in errors[0] and "in fails" in errors[0], errors
    assert "pedido" not in caplog.text


def _service_with_a_conversation(tmp_path):
    import asyncio

    from conftest import fixture_capture

    from desktop import config
    from desktop.auth import Principal
    from desktop.service import Service
    from desktop.store.database import Store

    store, _ = Store.open(tmp_path, "")
    svc = Service(config.load(env={"CONVERSA_DATA_DIR": str(tmp_path)}), store, None)
    admin = Principal("u_admin", "admin", "d_test")
    out = asyncio.run(svc.ingest(admin, fixture_capture()))  # no model: an `unavailable` insight
    return svc, admin, out["conversation_id"]


def _stream_request(svc, principal, conv_id):
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from desktop.server.keys import PRINCIPAL, SERVICE, SESSIONS

    class _Sessions:  # the stream re-checks its device; here it stays signed in
        async def device_active(self, device_id: str) -> bool:
            return True

    app = web.Application()
    app[SERVICE] = svc
    app[SESSIONS] = _Sessions()
    req = make_mocked_request(
        "GET", f"/api/v1/conversations/{conv_id}/insights/stream", app=app, match_info={"id": conv_id}
    )
    req[PRINCIPAL] = principal
    return req


def test_the_insight_stream_lets_a_cancellation_through(tmp_path):
    """A server stop cancels the stream's handler: it must end cancelled, not return as if done."""
    import asyncio

    import pytest

    from desktop.server.routes_conversations import insight_stream

    svc, admin, conv_id = _service_with_a_conversation(tmp_path)

    async def main() -> None:
        svc.rt.bind_loop(asyncio.get_running_loop())
        handler = asyncio.ensure_future(insight_stream(_stream_request(svc, admin, conv_id)))
        while not svc.broker._subs.get(conv_id):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # past the first events, waiting for the next one
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
        assert not svc.broker._subs.get(conv_id)  # and it unsubscribed

    try:
        asyncio.run(main())
    finally:
        svc.shutdown()
        svc.store.close()


def test_the_insight_stream_does_not_hide_a_read_error(tmp_path):
    """Only 'no insight yet' means an empty start; a stored insight that cannot be read is an error."""
    import asyncio

    import pytest

    from desktop.server.routes_conversations import insight_stream

    svc, admin, conv_id = _service_with_a_conversation(tmp_path)

    def damage(store) -> None:  # a summary sealed for another row: it no longer opens
        blob = store.seal(None, "insights", "summary", "another-row", "resumo")
        store.conn.execute("UPDATE insights SET summary=? WHERE conversation_id=?", (blob, conv_id))

    svc.db_wait(damage)

    async def main() -> None:
        svc.rt.bind_loop(asyncio.get_running_loop())
        with pytest.raises(Exception) as err:
            await asyncio.wait_for(insight_stream(_stream_request(svc, admin, conv_id)), 10)
        assert not isinstance(err.value, TimeoutError), "the stream went on as if there were no insight"

    try:
        asyncio.run(main())
    finally:
        svc.shutdown()
        svc.store.close()


def test_the_first_admin_is_written_by_the_database_thread(tmp_path, monkeypatch):
    """`conversa serve` on a terminal asks for the first admin; that write goes through the writer."""
    import threading

    from desktop import app
    from desktop.store import accounts

    svc, _, _ = _service_with_a_conversation(tmp_path)
    threads = []
    real_add = accounts.add_user

    def add_user(store, *args):
        threads.append(threading.current_thread().name)
        return real_add(store, *args)

    monkeypatch.setattr(accounts, "add_user", add_user)
    monkeypatch.setattr("builtins.input", lambda prompt="": "primeira")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "senha-forte-1")
    try:
        assert app._no_users(svc)
        app._first_admin(svc)
        assert not app._no_users(svc)
        assert threads == ["db"]
    finally:
        svc.shutdown()
        svc.store.close()

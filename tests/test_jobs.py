"""`DELETE /jobs/{id}` stops the work: a cancelled job never ends `done` and its effect is not applied."""

from __future__ import annotations

import asyncio
import threading

from desktop import config, team_adapter
from desktop.auth import Principal
from desktop.service import Service
from desktop.store import corrections
from desktop.store.database import Store
from llm.label_features import text_features

ADMIN = Principal("u_admin", "admin", "d_test")
REVIEWS = [
    ("sentiment", "positive", "adorei, chegou rapidinho"),
    ("sentiment", "negative", "veio quebrado, que raiva"),
    ("sentiment", "neutral", "chegou hoje"),
    ("intent", "complaint", "o produto veio com defeito"),
    ("intent", "order_status", "onde está meu pedido?"),
]


def _store_with_examples(tmp_path) -> Store:
    store, _ = Store.open(tmp_path, "")
    rows = [(task, label, None, text, "pt", text_features(text, "pt")) for task, label, text in REVIEWS]
    corrections.add_imported(store, rows)
    return store


async def _until(cond, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_retrain_cancelled_midway_ends_cancelled_and_saves_nothing(tmp_path, monkeypatch):
    store = _store_with_examples(tmp_path)
    settings = config.load(env={"CONVERSA_DATA_DIR": str(tmp_path)})
    inside, go_on = threading.Event(), threading.Event()
    real_train = team_adapter.train_all

    def train_held_open(stored):
        inside.set()  # the job is mid-way: examples read, training its first task
        assert go_on.wait(30)
        return real_train(stored)

    monkeypatch.setattr(team_adapter, "train_all", train_held_open)
    svc = Service(settings, store, None)

    async def main() -> None:
        await svc.startup()  # the stored examples are newer than any adapter: a retrain starts
        await _until(inside.is_set)
        job_id = (await svc.db(lambda s: s.q1("SELECT id FROM jobs WHERE kind='retrain'")))["id"]
        assert (await svc.job(ADMIN, job_id))["state"] == "running"
        assert (await svc.cancel_job(ADMIN, job_id))["state"] == "cancelled"
        go_on.set()
        await _until(lambda: svc.learning._training is None)
        job = await svc.job(ADMIN, job_id)
        assert job["state"] == "cancelled" and job["done"] < job["total"], job
        assert await svc.db(corrections.load_adapters) == {}  # nothing saved
        assert svc.learning.adapters == {}  # nor used
        assert (await svc.adapter_status())["state"] == "none"

        # The next retrain runs to the end and is applied.
        svc.learning.retrain()
        await _until(lambda: svc.learning._training is None)
        rows = await svc.db(lambda s: s.q("SELECT state, done, total FROM jobs ORDER BY created_at, rowid"))
        assert [r["state"] for r in rows] == ["cancelled", "done"] and rows[1]["done"] == rows[1]["total"]
        assert set(await svc.db(corrections.load_adapters)) == {"sentiment", "intent"}
        assert set(svc.learning.adapters) == {"sentiment", "intent"}

    try:
        asyncio.run(main())
    finally:
        svc.shutdown()
        store.close()


def test_a_cancelled_job_never_changes_again(tmp_path):
    from desktop.store import jobs

    store, _ = Store.open(tmp_path, "")
    try:
        jid = jobs.create(store, "retrain", None, 4)
        assert jobs.update(store, jid, state="running")
        assert jobs.cancel(store, jid)
        assert not jobs.update(store, jid, state="done", done=4)  # the work finishing late
        assert jobs.get(store, jid)["state"] == "cancelled"
        assert not jobs.cancel(store, jid)
    finally:
        store.close()

"""Label corrections round-trip through the API, retrain the adapter, and change a later prediction."""

from __future__ import annotations

import time

from conftest import make_server

PARTS = ["o parafuso da prateleira", "a prateleira azul", "o parafuso da estante", "a dobradiça da prateleira"]
FAULTS = ["veio torto", "soltou", "está frouxo", "quebrou na montagem", "não encaixa", "ficou bambo"]
THANKS = ["obrigado pela atenção de hoje", "valeu pelo retorno rápido", "agradeço a paciência",
          "obrigada pelas informações", "muito obrigado pela ajuda", "valeu, até mais"]
GRIPES = ["o atendimento de vocês é péssimo", "estou muito insatisfeito com a loja", "que descaso com o cliente",
          "nunca mais compro aqui", "vocês não respondem ninguém", "um absurdo esse tratamento"]
PROBE = "o parafuso da prateleira azul soltou de novo"


def _chat(name: str, texts: list[str]) -> list[dict]:
    msgs = []
    for i, text in enumerate(texts):
        msgs.append({"id": f"false_{name}@c.us_IN{i}", "direction": "in", "author": name,
                     "timestamp": f"2026-03-10T10:{i:02d}:00", "text": text, "kind": "text"})
        msgs.append({"id": f"true_{name}@c.us_OUT{i}", "direction": "out", "author": "Loja",
                     "timestamp": f"2026-03-10T10:{i:02d}:30", "text": "Certo, vou verificar.", "kind": "text"})
    return msgs


def _capture(name, messages):
    return {"chat": {"id": f"{name}@c.us", "title": name, "is_group": False, "phone": None}, "messages": messages}


def _intent_of(server, token, name, text) -> str:
    r = server.request("POST", "/api/v1/captures", _capture(name, _chat(name, [text])[:1]), token=token)
    cid = r.json()["conversation_id"]
    events = server.sse(f"/api/v1/conversations/{cid}/insights/stream", token, until="insight")
    assert events[-1][0] == "insight" and events[-1][1]["state"] == "ready", events[-3:]
    return events[-1][1]["intent"]["label"]


def test_corrections_retrain_and_change_a_later_prediction(tmp_path, model_file):
    server = make_server(tmp_path, model_file)
    server.start()
    try:
        token = server.login()["access_token"]
        before = _intent_of(server, token, "551100000001", PROBE)
        assert before != "support_technical"

        groups = [
            ("551100000002", [f"{p} {f}" for p in PARTS for f in FAULTS][:12], "support_technical"),
            ("551100000003", THANKS * 2, "other"),
            ("551100000005", GRIPES * 2, "complaint"),
        ]
        for name, texts, label in groups:
            msgs = _chat(name, texts)
            for i in range(len(texts)):
                r = server.request("POST", "/api/v1/captures", _capture(name, msgs[: 2 * i + 1]), token=token)
                assert r.status == 202
                cid = r.json()["conversation_id"]
                r = server.request("POST", f"/api/v1/conversations/{cid}/labels", {"intent": label}, token=token)
                assert r.status == 204, r.body
        bad = server.request("POST", f"/api/v1/conversations/{cid}/labels", {"intent": "astrology"}, token=token)
        assert bad.status == 400

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            adapter = server.request("GET", "/api/v1/health", token=token).json()["adapter"]
            if adapter["state"] == "ready" and adapter["adapters"].get("intent", {}).get("examples") == 36:
                break
            time.sleep(0.5)
        assert adapter["corrections"] == 36 and adapter["adapters"]["intent"]["examples"] == 36, adapter

        after = _intent_of(server, token, "551100000004", PROBE)
        assert after == "support_technical", (before, after)
    finally:
        server.stop()


def test_what_a_stop_cut_short_is_learnt_at_the_next_start(tmp_path, model_file):
    """A correction whose features were never computed (the app stopped first) and examples
    imported while the server was down are both learnt when the server starts again."""
    import sqlite3

    from conftest import cli

    server = make_server(tmp_path, model_file)
    server.start()
    try:
        token = server.login()["access_token"]
        r = server.request("POST", "/api/v1/captures", _capture("551100000009", _chat("551100000009", GRIPES[:1])),
                           token=token)
        cid = r.json()["conversation_id"]
        assert server.request("POST", f"/api/v1/conversations/{cid}/labels", {"sentiment": "negative"},
                              token=token).status == 204
        deadline = time.monotonic() + 120
        while server.request("GET", "/api/v1/health", token=token).json()["adapter"]["state"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.3)
    finally:
        server.stop()
    db = sqlite3.connect(server.data_dir / "conversa.db")
    db.execute("UPDATE label_corrections SET features=NULL")
    db.execute("DELETE FROM adapters")
    db.commit()
    db.close()
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,text,stars\na,adorei chegou rapido,5\nb,veio certinho mas demorou,4\n", "utf-8")
    assert cli(server.data_dir, "labels", "import", "sentiment", str(reviews), "--no-model").returncode == 0
    db = sqlite3.connect(server.data_dir / "conversa.db")
    db.execute("DELETE FROM adapters")  # as if the import's own training had been cut short
    db.commit()
    db.close()

    server.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            adapter = server.request("GET", "/api/v1/health", token=token).json()["adapter"]
            if adapter["adapters"].get("sentiment", {}).get("examples") == 3:
                break
            assert time.monotonic() < deadline, adapter
            time.sleep(0.3)
        assert adapter["corrections"] == 1 and adapter["imported"] == 2
    finally:
        server.stop()
    db = sqlite3.connect(server.data_dir / "conversa.db")
    assert db.execute("SELECT count(*) FROM label_corrections WHERE features IS NULL").fetchone()[0] == 0
    db.close()

"""Quick replies: admins edit, attendants read; CSV import with a per-row report."""

from __future__ import annotations

from conftest import cli
from test_api_security import assert_error


def test_quick_replies_crud_roles_and_csv_import(shared_server, tmp_path):
    admin = shared_server.login()["access_token"]
    r = cli(
        shared_server.data_dir,
        "users",
        "add",
        "atendente1",
        "--role",
        "attendant",
        "--password-stdin",
        stdin="attendant-pass-1\n",
    )
    assert r.returncode == 0, r.stderr
    att = shared_server.login("atendente1", "attendant-pass-1")["access_token"]

    body = {"shortcut": "/pix", "text": "Oi {nome}! Nossa chave Pix é o CNPJ.", "intents": ["purchase_pricing"]}
    r = shared_server.request("POST", "/api/v1/quick-replies", body, token=admin)
    assert r.status == 201 and r.json()["shortcut"] == "pix"
    qid = r.json()["id"]
    assert_error(shared_server.request("POST", "/api/v1/quick-replies", body, token=att), 403)
    assert_error(
        shared_server.request("POST", "/api/v1/quick-replies", {**body, "intents": ["nope"]}, token=admin), 400
    )
    r = shared_server.request("PATCH", f"/api/v1/quick-replies/{qid}", {"text": "Chave Pix: CNPJ."}, token=admin)
    assert r.status == 200 and r.json()["text"] == "Chave Pix: CNPJ." and r.json()["shortcut"] == "pix"
    items = shared_server.request("GET", "/api/v1/quick-replies", token=att).json()["items"]
    assert [q["shortcut"] for q in items] == ["pix"]

    csv_file = tmp_path / "qr.csv"
    csv_file.write_text(
        "shortcut,text,intents\n"
        "prazo,Entregamos em 2 a 3 dias úteis.,order_status\n"
        "oi,Olá {nome}! Como posso ajudar?,greeting_smalltalk\n"
        "bad shortcut!,texto,other\n",
        encoding="utf-8",
    )
    r = cli(shared_server.data_dir, "quick-replies", "import", str(csv_file))
    assert r.returncode == 1 and "line 4" in r.stdout and "2 quick replies imported, 1 rejected" in r.stdout
    items = shared_server.request("GET", "/api/v1/quick-replies", token=att).json()["items"]
    assert [q["shortcut"] for q in items] == ["oi", "pix", "prazo"]
    assert shared_server.request("DELETE", f"/api/v1/quick-replies/{qid}", token=admin).status == 204
    assert_error(shared_server.request("DELETE", f"/api/v1/quick-replies/{qid}", token=admin), 404)


def test_creating_a_taken_shortcut_is_a_conflict(shared_server):
    """POST never overwrites: a second /frete answers 409 and the first one stays as it was."""
    admin = shared_server.login()["access_token"]
    first = {"shortcut": "frete", "text": "Frete grátis acima de R$ 200.", "intents": ["purchase_pricing"]}
    r = shared_server.request("POST", "/api/v1/quick-replies", first, token=admin)
    assert r.status == 201, r.body
    again = {"shortcut": "/frete", "text": "Outro texto", "intents": []}
    err = assert_error(shared_server.request("POST", "/api/v1/quick-replies", again, token=admin), 409)
    assert err["code"] == "shortcut_taken"
    items = shared_server.request("GET", "/api/v1/quick-replies", token=admin).json()["items"]
    assert [q["text"] for q in items if q["shortcut"] == "frete"] == [first["text"]]

"""Batch lead import (`POST /contacts/import`): the parsing rules, and the route on a real server
started without a model (the rules alone import every field the tests give)."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from desktop import lead_parse
from desktop.lead_parse import Block, Lead
from tests.conftest import cli, fixture_capture, make_server

IMPORT = "/api/v1/contacts/import"

# Five customers; 103 is already a contact (seeded by an earlier import), 105 is malformed.
SEED_103 = "ID do Cliente: 103\nNome: Carla Dias\nTelefone: (31) 99111-2233\nEtapa: novo\nValor: R$ 1.000,00\n"
FIVE = """Lista exportada do outro CRM

ID do Cliente: 101
Nome: Maria Souza
Telefone: (11) 98765-4321
Empresa: Padaria Pão Bom
Etapa: proposta enviada
Valor: R$ 12.500,00
Tags: padaria, sp
Obs: quer entrega semanal

ID do Cliente: 102
João Pereira
WhatsApp: +55 21 99876-5432
Empresa: Oficina JP
12,5 mil
qualificado

ID do Cliente: 103
Nome: Carla Dias
Telefone: (31) 99111-2233
Etapa: negociação
Valor: R$ 3k

ID do Cliente: 104
Nome: Ana Lima
Telefone: 11 3456-7890
Status: fechado
Valor: 7.800

ID do Cliente: 105
??? sem dados ???
"""
CSV_HEADER = "ID do Cliente;Nome;Telefone;Empresa;Etapa;Valor;Tags;Observações\n"
CSV_ROWS = (
    "101;Maria Souza;(11) 98765-4321;Padaria Pão Bom;proposta enviada;R$ 12.500,00;padaria, sp;quer entrega semanal\n"
    "102;João Pereira;+55 21 99876-5432;Oficina JP;qualificado;12,5 mil;;\n"
    "103;Carla Dias;(31) 99111-2233;;negociação;R$ 3k;;\n"
    "104;Ana Lima;11 3456-7890;;fechado;7.800;;\n"
    "105;;;;;;;só um comentário\n"
)


# -- the rules ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,value",
    [
        ("R$ 12.500,00", 12500.0),
        ("R$12.500", 12500.0),
        ("12,5 mil", 12500.0),
        ("R$ 3k", 3000.0),
        ("R$ 1,2 milhão", 1_200_000.0),
        ("R$ 990,90", 990.9),
        ("US$ 12,500.00", 12500.0),
        ("12500", None),  # a bare number on an unlabelled line is not taken for money
        ("em 12/03", None),
    ],
)
def test_money_formats(text, value):
    assert lead_parse.parse_money(text) == value


def test_money_on_a_labelled_line_needs_no_currency():
    assert lead_parse.parse_money("7.800", labelled=True) == 7800.0
    assert lead_parse.parse_money("12500", labelled=True) == 12500.0
    assert lead_parse.parse_money("a combinar", labelled=True) is None


@pytest.mark.parametrize(
    "text,phone",
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("11987654321", "+5511987654321"),
        ("+55 11 98765-4321", "+5511987654321"),
        ("55 (21) 3333-4444", "+552133334444"),
        ("tel 11 3456-7890 comercial", "+551134567890"),
        ("1234-5678", None),  # no area code
        ("(11) 88765-4321", None),  # 11 digits must be a mobile (9 after the area code)
    ],
)
def test_brazilian_phones(text, phone):
    assert lead_parse.find_phone(text) == phone


def test_markers_split_blocks_and_keep_the_ids():
    text = "Clientes:\nID do Cliente: 101\nNome: A\n\nCliente 102 - Bruno Reis\nID: 103\nNome: C\nCliente: Dora\n"
    blocks = lead_parse.split_blocks(text)
    assert [b.external_id for b in blocks] == ["101", "102", "103"]
    assert lead_parse.parse_block(blocks[1]).name == "Bruno Reis"
    # "Cliente: Dora" has no digit: a labelled name inside block 103, not a marker
    assert "Cliente: Dora" in blocks[2].text


def test_without_markers_blank_lines_split_blocks():
    blocks = lead_parse.split_blocks("Ana Lima\n(11) 98765-4321\n\n\nBruno\nR$ 3k\n")
    assert [(b.external_id, lead_parse.parse_block(b).name) for b in blocks] == [(None, "Ana Lima"), (None, "Bruno")]


def test_a_block_is_structured_field_by_field():
    blocks = lead_parse.split_blocks(FIVE)
    assert len(blocks) == 5  # the heading before the first marker is not a customer
    lead = lead_parse.finish(lead_parse.parse_block(blocks[0]))
    assert lead.fields() == {
        "external_id": "101",
        "name": "Maria Souza",
        "phone": "+5511987654321",
        "company": "Padaria Pão Bom",
        "stage": "proposal",
        "value": 12500.0,
        "tags": ["padaria", "sp"],
        "notes": "quer entrega semanal",
        "score": 90,
    }
    second = lead_parse.parse_block(blocks[1])
    assert (second.name, second.phone, second.stage, second.value) == (
        "João Pereira",
        "+5521998765432",
        "qualified",
        12500.0,
    )
    assert lead_parse.parse_block(blocks[4]).problem() == "no name and no phone"


def test_a_sentence_stays_in_the_notes_and_its_phone_and_amount_are_read():
    text = "Ricardo ligou do WhatsApp (11) 91234-5678; trabalha na Loja Azul. Orçamento de 3,5 mil."
    lead = lead_parse.parse_block(Block("7", text))
    assert (lead.phone, lead.value, lead.notes, lead.name) == ("+5511912345678", 3500.0, text, None)
    assert lead.missing() == ["name", "company", "stage"]


def test_stage_words_in_portuguese_and_english():
    cases = {"Fechado": "won", "perdido": "lost", "em negociação": "proposal", "Interested": "qualified"}
    for text, stage in cases.items():
        assert lead_parse.parse_stage(text) == stage
    assert lead_parse.parse_stage("amanhã") is None


def test_score_is_bounded_and_a_given_score_wins():
    hot = lead_parse.finish(Lead(name="A", phone="+5511987654321", stage="won", value=1.0, notes="urgente"))
    assert hot.score == 100
    given = lead_parse.finish(lead_parse.parse_block(Block("1", "Nome: A\nScore: 35")))
    assert given.score == 35


def test_csv_delimiter_and_windows_1252():
    raw = (CSV_HEADER + CSV_ROWS).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    leads = lead_parse.csv_leads(lead_parse.decode(raw))
    assert [lead.external_id for lead in leads] == ["101", "102", "103", "104", "105"]
    assert (leads[0].name, leads[0].company, leads[0].value) == ("Maria Souza", "Padaria Pão Bom", 12500.0)
    assert leads[4].problem() == "no name and no phone"
    comma = lead_parse.csv_leads('name,phone,value\nBia,(11) 98765-4321,"R$ 1.500,00"\n')
    assert (comma[0].name, comma[0].phone, comma[0].value) == ("Bia", "+5511987654321", 1500.0)


def test_the_model_only_fills_what_the_block_backs_up():
    text = "Ana Lima\nfalou que a empresa Acme Ltda fechou o contrato\nnúmero do pedido 77"
    lead = lead_parse.parse_block(Block("9", text))
    assert lead.company is None and lead.stage is None
    answer = {"name": "Maria Invented", "company": "Acme Ltda", "stage": "won", "value": "R$ 5.000"}
    lead_parse.fill_from_model(lead, text, answer)
    assert lead.name == "Ana Lima"  # the rules' value wins
    assert lead.company == "Acme Ltda" and lead.stage == "won"
    assert lead.value is None  # not written in the block: not taken
    other = lead_parse.parse_block(Block("10", "Bruno\nR$ 3k"))
    lead_parse.fill_from_model(other, "Bruno\nR$ 3k", {"stage": "lost", "company": "Zeta"})
    assert other.stage is None and other.company is None


# -- the route -------------------------------------------------------------------------------------------
@pytest.fixture
def srv(tmp_path):
    server = make_server(tmp_path, None)
    r = cli(server.data_dir, "users", "add", "att", "--role", "attendant", "--password-stdin", stdin="att-pass-123\n")
    assert r.returncode == 0, r.stderr
    server.start(wait_model=False)
    yield server
    server.stop()


def _wait(srv, token, job, timeout: float = 60):
    assert job["kind"] == "contacts.import" and job["total"] >= 1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = srv.request("GET", f"/api/v1/jobs/{job['id']}", token=token).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def _import(srv, token, body, timeout: float = 60):
    r = srv.request("POST", IMPORT, body, token=token)
    assert r.status == 202, r.body
    return _wait(srv, token, r.json(), timeout)


def _multipart(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = b""
    for name, (filename, data) in fields.items():
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _contacts(srv, token) -> dict[str, dict]:
    items = srv.request("GET", "/api/v1/contacts", token=token).json()["items"]
    return {c["external_id"]: c for c in items}


def _check_five(srv, token, job):
    """What both forms of the five customers must give."""
    assert job["state"] == "done", job
    rows = {r["row"]: r for r in job["result"]["rows"]}
    assert job["result"]["counts"] == {"created": 3, "updated": 1, "unchanged": 0, "rejected": 1}
    assert [rows[i]["action"] for i in range(1, 6)] == ["created", "created", "updated", "created", "rejected"]
    assert rows[3]["fields"] == ["score", "stage", "value"]
    assert rows[5]["reason"] == "no name and no phone"
    assert "Maria" not in str(job)  # the stored job holds no personal data
    cards = _contacts(srv, token)  # imported contacts have no conversation: admins see them
    assert set(cards) == {"101", "102", "103", "104"}
    maria = cards["101"]
    assert (maria["name"], maria["phone"], maria["company"], maria["stage"], maria["value"]) == (
        "Maria Souza",
        "+5511987654321",
        "Padaria Pão Bom",
        "proposal",
        12500.0,
    )
    assert maria["tags"] == ["padaria", "sp"] and maria["notes"] == "quer entrega semanal"
    assert (cards["103"]["stage"], cards["103"]["value"], cards["103"]["name"]) == ("proposal", 3000.0, "Carla Dias")
    assert cards["103"]["id"] == rows[3]["contact_id"]
    assert (cards["104"]["phone"], cards["104"]["stage"], cards["104"]["value"]) == ("+551134567890", "won", 7800.0)
    assert all(0 <= c["lead_score"] <= 100 for c in cards.values())
    # nothing in clear on disk, and one audit row with counts only
    db = sqlite3.connect(srv.data_dir / "conversa.db")
    try:
        dump = "\n".join(db.iterdump())
        audit = db.execute("SELECT action, target, detail FROM audit_log WHERE action='contacts.import'").fetchall()
    finally:
        db.close()
    for secret in ("Maria Souza", "Padaria", "98765", "5511987654321", "entrega semanal", "padaria"):
        assert secret not in dump
    assert audit[-1] == ("contacts.import", job["id"], "created 3, updated 1, unchanged 0, rejected 1")


def test_pasted_text_of_five_customers(srv):
    token = srv.login()["access_token"]
    seed = _import(srv, token, {"text": SEED_103})
    assert seed["result"]["counts"]["created"] == 1
    job = _import(srv, token, {"text": FIVE})
    _check_five(srv, token, job)
    again = _import(srv, token, {"text": FIVE})  # the same paste twice changes nothing
    assert again["result"]["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 1}


def test_the_same_as_a_windows_1252_csv_upload(srv):
    token = srv.login()["access_token"]
    _import(srv, token, {"text": SEED_103})
    body, ctype = _multipart({"file": ("clientes.csv", (CSV_HEADER + CSV_ROWS).encode("cp1252"))})
    r = srv.request("POST", IMPORT, raw=body, content_type=ctype, token=token)
    assert r.status == 202, r.body
    _check_five(srv, token, _wait(srv, token, r.json()))


def test_dry_run_writes_nothing(srv):
    token = srv.login()["access_token"]
    _import(srv, token, {"text": SEED_103})
    before = _contacts(srv, token)
    preview = _import(srv, token, {"text": FIVE, "dry_run": True})
    assert preview["state"] == "done" and preview["result"]["dry_run"] is True
    assert preview["result"]["counts"] == {"created": 3, "updated": 1, "unchanged": 0, "rejected": 1}
    rows = preview["result"]["rows"]
    assert rows[0]["preview"]["name"] == "Maria Souza" and rows[0]["preview"]["value"] == 12500.0
    assert rows[2]["fields"] == ["score", "stage", "value"] and rows[0]["contact_id"] is None
    body, ctype = _multipart({"file": ("c.csv", (CSV_HEADER + CSV_ROWS).encode("cp1252")), "dry_run": (None, b"true")})
    r = srv.request("POST", IMPORT, raw=body, content_type=ctype, token=token)
    assert r.status == 202, r.body
    assert _wait(srv, token, r.json())["result"]["counts"]["created"] == 3
    assert _contacts(srv, token) == before
    db = sqlite3.connect(srv.data_dir / "conversa.db")
    try:
        stored = db.execute("SELECT result FROM jobs WHERE id=?", (preview["id"],)).fetchone()[0]
        audits = db.execute("SELECT count(*) FROM audit_log WHERE action='contacts.import'").fetchone()[0]
    finally:
        db.close()
    assert "Maria" not in stored  # the values read are shown, never stored
    assert audits == 1  # the seed import's only


def test_attendants_get_403_and_bad_input_is_refused(srv):
    admin = srv.login()["access_token"]
    att = srv.login("att", "att-pass-123")["access_token"]
    r = srv.request("POST", IMPORT, {"text": FIVE}, token=att)
    assert r.status == 403 and r.json()["error"]["code"] == "role_not_allowed"
    body, ctype = _multipart({"file": ("c.csv", (CSV_HEADER + CSV_ROWS).encode())})
    assert srv.request("POST", IMPORT, raw=body, content_type=ctype, token=att).status == 403
    for bad, field in [
        ({"text": ""}, "text"),
        ({"text": FIVE, "csv": CSV_HEADER}, "text"),
        ({"csv": CSV_HEADER, "dry_run": "yes"}, "dry_run"),
        ({"text": FIVE, "owner": "x"}, "owner"),
        ({"csv": CSV_HEADER}, "csv"),  # a header and no row
    ]:
        r = srv.request("POST", IMPORT, bad, token=admin)
        assert r.status == 400 and r.json()["error"]["field"] == field, (bad, r.body)
    r = srv.request("POST", IMPORT, raw=FIVE.encode(), content_type="text/plain", token=admin)
    assert r.status == 415
    # multipart stays refused elsewhere
    r = srv.request("POST", "/api/v1/captures", raw=body, content_type=ctype, token=admin)
    assert r.status == 415
    assert _contacts(srv, admin) == {}


def test_an_imported_contact_without_conversation_can_be_edited_and_erased(srv):
    token = srv.login()["access_token"]
    job = _import(srv, token, {"text": "ID do Cliente: 7\nNome: Bia\nTelefone: (11) 98765-4321"})
    cid = job["result"]["rows"][0]["contact_id"]
    r = srv.request("PATCH", f"/api/v1/contacts/{cid}", {"stage": "won"}, token=token)
    assert r.status == 200 and r.json()["stage"] == "won" and r.json()["external_id"] == "7"
    assert srv.request("DELETE", f"/api/v1/contacts/{cid}", token=token).status == 204
    assert srv.request("GET", f"/api/v1/contacts/{cid}", token=token).status == 404
    again = _import(srv, token, {"text": "ID do Cliente: 7\nNome: Bia"})  # its id is free again
    assert again["result"]["rows"][0]["action"] == "created"


def test_a_lead_without_id_updates_the_captured_contact_with_its_phone(srv):
    token = srv.login()["access_token"]
    capture = fixture_capture()
    assert capture["chat"]["phone"] == "+5511987654321"
    assert srv.request("POST", "/api/v1/captures", capture, token=token).status == 202
    job = _import(srv, token, {"text": "Nome: Outro Nome\nTelefone: (11) 98765-4321\nEtapa: ganho\nValor: R$ 2k"})
    (row,) = job["result"]["rows"]
    assert row["action"] == "updated" and {"stage", "value", "name"} <= set(row["fields"])
    items = srv.request("GET", "/api/v1/contacts", token=token).json()["items"]
    assert len(items) == 1 and items[0]["stage"] == "won" and items[0]["value"] == 2000.0


def test_a_cancelled_import_stops_between_blocks(srv):
    token = srv.login()["access_token"]
    text = "\n".join(f"ID do Cliente: {i}\nNome: Cliente Número {i}\nValor: R$ {i},00\n" for i in range(1, 4001))
    r = srv.request("POST", IMPORT, {"text": text}, token=token)
    assert r.status == 202, r.body
    job = r.json()
    cancelled = srv.request("DELETE", f"/api/v1/jobs/{job['id']}", token=token).json()
    final = _wait(srv, token, cancelled)
    assert final["state"] == "cancelled", "the import finished before the cancellation: make it longer"
    time.sleep(0.5)  # a block in flight would land now
    items = srv.request("GET", "/api/v1/contacts", token=token).json()["items"]
    after = srv.request("GET", f"/api/v1/jobs/{job['id']}", token=token).json()
    assert len(items) == after["done"] < 4000  # every block written is whole and counted, none after
    assert all(c["name"] == f"Cliente Número {c['external_id']}" for c in items)


def test_with_the_real_model_the_rules_values_stand(tmp_path, model_file):
    """The model fills only what the block backs up; what the rules read is imported whatever it says."""
    server = make_server(tmp_path, model_file)
    server.start()
    try:
        assert server.request("GET", "/api/v1/health").json()["model"]["state"] == "ready"
        token = server.login()["access_token"]
        text = "ID do Cliente: 900\nRicardo ligou do WhatsApp (11) 91234-5678; trabalha na Loja Azul."
        text += " Orçamento de 3,5 mil."
        # the model is slow on a busy machine: give it time
        preview = _import(server, token, {"text": text, "dry_run": True}, 600)["result"]["rows"][0]
        job = _import(server, token, {"text": text}, 600)
        assert job["state"] == "done" and job["result"]["counts"]["created"] == 1, job
        card = _contacts(server, token)["900"]
        for lead in (preview["preview"], card):
            assert (lead["phone"], lead["value"]) == ("+5511912345678", 3500.0), lead
            assert lead["stage"] in (None, "lead"), lead  # no stage word in the block: a guess is not taken
            for key in ("name", "company"):
                assert lead[key] is None or lead_parse.fold(lead[key]) in lead_parse.fold(text), lead
            assert lead["name"] is None or not any(c.isdigit() for c in lead["name"]), lead
    finally:
        server.stop()

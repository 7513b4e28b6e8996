"""The knowledge base over HTTP (admin API, OpenAPI-described, audited) and the CLI; passages
are sealed at rest and found again by the in-memory index after a restart."""

from __future__ import annotations

import uuid

import pytest
from conftest import PASSPHRASE, cli, make_server

from desktop import knowledge_parse
from desktop.store.database import Store

API = "/api/v1"
FAQ = """# Trocas e devoluções

Você pode trocar qualquer peça em até 30 dias após o recebimento, com a etiqueta.
A primeira troca tem frete grátis.

## Horário de atendimento

Atendemos de segunda a sábado, das 9h às 18h. Aos domingos a loja fica fechada.
"""
CATALOGUE = "Produto;Preço;Estoque;SKU\nVestido floral azul;199,90;12;VF-001\nBlusa de linho branca;89.9;0;BL-002\n"


def _multipart(fields: dict[str, str], filename: str, content: bytes, ctype: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _pdf(text: str) -> bytes:
    """A one-page PDF with a text layer, written by hand (no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("kb"), None)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def token(srv) -> str:
    return srv.login()["access_token"]


def test_split_and_catalogue_parsing():
    parts = knowledge_parse.split_text(FAQ)
    assert [p.text.split("\n")[0] for p in parts] == ["Trocas e devoluções", "Horário de atendimento"]
    long = knowledge_parse.split_text(("Frase longa sobre a política de trocas da loja. " * 60).strip())
    assert len(long) > 1 and all(len(p.text) <= knowledge_parse.MAX_CHARS for p in long)
    rows = knowledge_parse.parse_csv(CATALOGUE)
    assert rows[0].fields == {"product": "Vestido floral azul", "price": "R$ 199,90", "stock": "12", "sku": "VF-001"}
    assert rows[1].fields["price"] == "R$ 89,90"
    assert rows[0].text == "Vestido floral azul — preço R$ 199,90 — estoque 12 — SKU VF-001"
    comma = knowledge_parse.parse_csv('name,price,stock,sku,cor\n"Saia midi",1299.5,3,SM-9,preta\n')
    assert comma[0].fields == {
        "product": "Saia midi",
        "price": "R$ 1.299,50",
        "stock": "3",
        "sku": "SM-9",
        "cor": "preta",
    }


def test_crud_search_audit_and_roles(srv, token):
    r = srv.request("POST", API + "/knowledge", {"title": "Política de trocas", "text": FAQ}, token=token)
    assert r.status == 201, r.body
    faq = r.json()
    assert faq["kind"] == "text" and faq["passages"] == 2 and faq["title"] == "Política de trocas"
    r = srv.request("POST", API + "/knowledge", {"title": "Catálogo", "csv": CATALOGUE}, token=token)
    assert r.status == 201, r.body
    cat = r.json()
    assert cat["kind"] == "csv" and cat["passages"] == 2

    hits = srv.request("GET", API + "/knowledge/search?q=quanto+custa+o+vestido+floral%3F", token=token).json()["items"]
    assert hits[0]["id"] == cat["id"] + ".1" and hits[0]["title"] == "Catálogo"
    assert hits[0]["fields"]["price"] == "R$ 199,90"
    hits = srv.request("GET", API + "/knowledge/search?q=posso+trocar+a+pe%C3%A7a%3F", token=token).json()["items"]
    assert hits[0]["id"] == faq["id"] + ".1" and "30 dias" in hits[0]["text"]

    full = srv.request("GET", f"{API}/knowledge/{faq['id']}", token=token).json()
    assert full["text"] == FAQ and [p["id"] for p in full["items"]] == [faq["id"] + ".1", faq["id"] + ".2"]
    listed = srv.request("GET", API + "/knowledge", token=token).json()["items"]
    assert {d["id"] for d in listed} == {faq["id"], cat["id"]}

    # PUT replaces the content and the index follows.
    r = srv.request(
        "PUT", f"{API}/knowledge/{faq['id']}", {"title": "Trocas", "text": "Trocas só com nota fiscal."}, token=token
    )
    assert r.status == 200 and r.json()["passages"] == 1 and r.json()["title"] == "Trocas"
    hits = srv.request("GET", API + "/knowledge/search?q=trocar+nota+fiscal", token=token).json()["items"]
    assert hits[0]["id"] == faq["id"] + ".1" and "nota fiscal" in hits[0]["text"]
    assert not any("30 dias" in h["text"] for h in hits)

    # Errors in the one shape.
    bad = srv.request("POST", API + "/knowledge", {"title": "x", "text": "a", "csv": "b"}, token=token)
    assert bad.status == 400 and bad.json()["error"]["field"]
    bad = srv.request("POST", API + "/knowledge", {"title": "x", "csv": "only a header"}, token=token)
    assert bad.status == 400 and bad.json()["error"]["field"] == "csv"
    assert srv.request("GET", f"{API}/knowledge/kb_nope", token=token).status == 404
    assert srv.request("GET", f"{API}/knowledge/search?q=", token=token).status == 400

    # An attendant may not read or change it.
    r = srv.request(
        "POST", API + "/users", {"username": "ana", "password": "senha-boa-123", "role": "attendant"}, token=token
    )
    assert r.status == 201, r.body
    att = srv.login("ana", "senha-boa-123")["access_token"]
    for method, path in [
        ("GET", "/knowledge"),
        ("GET", f"/knowledge/{faq['id']}"),
        ("GET", "/knowledge/search?q=troca"),
    ]:
        assert srv.request(method, API + path, token=att).status == 403
    assert srv.request("POST", API + "/knowledge", {"title": "x", "text": "y"}, token=att).status == 403
    assert srv.request("DELETE", f"{API}/knowledge/{faq['id']}", token=att).status == 403

    assert srv.request("DELETE", f"{API}/knowledge/{faq['id']}", token=token).status == 204
    assert srv.request("GET", f"{API}/knowledge/{faq['id']}", token=token).status == 404
    hits = srv.request("GET", API + "/knowledge/search?q=trocar+nota+fiscal", token=token).json()["items"]
    assert all(not h["id"].startswith(faq["id"]) for h in hits)

    actions = [a["action"] for a in srv.request("GET", API + "/audit?action=knowledge.", token=token).json()["items"]]
    assert sorted(actions) == ["knowledge.create", "knowledge.create", "knowledge.delete", "knowledge.update"]

    doc = srv.request("GET", API + "/openapi.json", token=token).json()
    assert set(doc["paths"]["/knowledge"]) == {"get", "post"}
    assert set(doc["paths"]["/knowledge/{id}"]) == {"get", "put", "delete"}
    assert "get" in doc["paths"]["/knowledge/search"]


def test_file_uploads_txt_md_csv_pdf(srv, token):
    cases = [
        ("frete.txt", "text/plain", "Frete grátis acima de R$ 300 para todo o Brasil.".encode(), "txt"),
        ("pix.md", "text/markdown", b"# Pagamento\n\nPix tem 5% de desconto.\n", "md"),
        ("estoque.csv", "text/csv", CATALOGUE.encode("cp1252"), "csv"),  # a spreadsheet saved on Windows
        ("parcelas.pdf", "application/pdf", _pdf("Parcelamos em ate 6x sem juros no cartao."), "pdf"),
    ]
    for name, ctype, content, kind in cases:
        raw, ct = _multipart({"title": name.upper()} if kind == "md" else {}, name, content, ctype)
        r = srv.request("POST", API + "/knowledge", raw=raw, content_type=ct, token=token)
        assert r.status == 201, (name, r.body)
        assert r.json()["kind"] == kind and r.json()["filename"] == name
    hits = srv.request("GET", API + "/knowledge/search?q=parcelar+sem+juros", token=token).json()["items"]
    assert hits[0]["title"] == "parcelas" and "6x sem juros" in hits[0]["text"]
    hits = srv.request("GET", API + "/knowledge/search?q=blusa+de+linho", token=token).json()["items"]
    assert hits[0]["fields"]["product"] == "Blusa de linho branca"  # cp1252 decoded
    assert (
        srv.request("GET", API + "/knowledge/search?q=pix+desconto", token=token).json()["items"][0]["title"]
        == "PIX.MD"
    )
    # PUT takes a file too: the frete document is replaced by a new upload.
    frete = next(
        d for d in srv.request("GET", API + "/knowledge", token=token).json()["items"] if d["title"] == "frete"
    )
    raw, ct = _multipart({"title": "Frete"}, "frete2.txt", "Frete grátis acima de R$ 250.".encode(), "text/plain")
    r = srv.request("PUT", f"{API}/knowledge/{frete['id']}", raw=raw, content_type=ct, token=token)
    assert r.status == 200 and r.json()["title"] == "Frete" and r.json()["filename"] == "frete2.txt", r.body
    hits = srv.request("GET", API + "/knowledge/search?q=frete+gratis", token=token).json()["items"]
    assert "R$ 250" in hits[0]["text"] and not any("R$ 300" in h["text"] for h in hits)
    raw, ct = _multipart({}, "planilha.xlsx", b"PK\x03\x04", "application/octet-stream")
    r = srv.request("POST", API + "/knowledge", raw=raw, content_type=ct, token=token)
    assert r.status == 400 and r.json()["error"]["field"] == "file"


def test_sealed_at_rest_and_reindexed_after_restart(tmp_path):
    s = make_server(tmp_path, None)
    s.start()
    try:
        token = s.login()["access_token"]
        r = s.request("POST", API + "/knowledge", {"title": "Política de trocas", "text": FAQ}, token=token)
        assert r.status == 201
    finally:
        s.stop()
    for f in s.data_dir.glob("conversa.db*"):
        data = f.read_bytes()
        assert b"Trocas" not in data and b"30 dias" not in data and "Política".encode() not in data, f
    s.start()
    try:
        token = s.login()["access_token"]
        hits = s.request("GET", API + "/knowledge/search?q=trocar+em+30+dias", token=token).json()["items"]
        assert hits and hits[0]["title"] == "Política de trocas"
    finally:
        s.stop()


def test_cli_add_list_remove_and_refusal_while_serving(tmp_path):
    data = tmp_path / "data"
    f = tmp_path / "catalogo.csv"
    f.write_text(CATALOGUE, encoding="utf-8")
    r = cli(data, "knowledge", "add", str(f), "--title", "Catálogo")
    assert r.returncode == 0, r.stderr
    assert "2 passages" in r.stdout
    doc_id = r.stdout.split()[1].rstrip(":")
    r = cli(data, "knowledge", "list")
    assert r.returncode == 0 and doc_id in r.stdout and "Catálogo" in r.stdout

    s = make_server(tmp_path, None)
    s.start()
    try:
        token = s.login()["access_token"]
        hits = s.request("GET", API + "/knowledge/search?q=vestido+floral", token=token).json()["items"]
        assert hits[0]["id"] == doc_id + ".1"  # the CLI's document is indexed at startup
        r = cli(data, "knowledge", "remove", doc_id)
        assert r.returncode == 1 and "stop the server first" in r.stderr
        assert cli(data, "knowledge", "list").returncode == 0  # reading works beside it
    finally:
        s.stop()
    r = cli(data, "knowledge", "remove", doc_id)
    assert r.returncode == 0, r.stderr
    store, _ = Store.open(data, PASSPHRASE)
    try:
        assert store.q("SELECT count(*) AS n FROM knowledge_passages")[0]["n"] == 0
    finally:
        store.close()
    r = cli(data, "knowledge", "remove", doc_id)
    assert r.returncode == 1 and "not found" in r.stderr

"""The knowledge tab under Xvfb against a real server: seeded documents are listed, a pasted
catalogue is added, a search preview shows the catalogue row, a document is removed."""

from __future__ import annotations

import tkinter as tk
from datetime import datetime

import pytest
from conftest import ADMIN_PASSWORD, make_server
from ui_support import display, pump, screenshot  # noqa: F401 - `display` is a fixture

from desktop.ui.api_client import ApiClient
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings
from desktop.ui.tabs import TabContext
from desktop.ui.tabs.knowledge import KnowledgeTab, document_rows, hit_rows, new_document, summary_line

FAQ = (
    "# Trocas\n\nA primeira troca é grátis em até 30 dias após o recebimento, com a etiqueta.\n\n"
    "# Horário\n\nAtendemos de segunda a sábado, das 9h às 18h.\n"
)
CATALOGUE = "Produto;Preço;Estoque;SKU\nVestido floral azul;199,90;12;VF-001\nBlusa de linho branca;89,90;0;BL-002\n"


def test_model_rows_and_body():
    t = Strings("pt_BR")
    rows = document_rows(
        [{"id": "kb_1", "title": "Catálogo", "kind": "csv", "passages": 2, "updated_at": 1_796_000_000}], t
    )
    day = datetime.fromtimestamp(1_796_000_000).strftime("%d/%m/%Y")
    assert rows == [("kb_1", ("Catálogo", "catálogo", "2", day))]
    hits = hit_rows([{"title": "Catálogo", "score": 3.14159, "text": "Vestido   floral\nazul"}], t)
    assert hits == [("Catálogo", "3,14", "Vestido floral azul")]
    assert new_document(" Trocas ", "texto", False, t) == {"title": "Trocas", "text": "texto\n"}
    assert summary_line([{"passages": 1}], t) == "1 documento, 1 trecho"
    with pytest.raises(ValueError, match="título"):
        new_document(" ", "x", True, t)


@pytest.fixture
def srv(tmp_path):
    s = make_server(tmp_path, None)
    s.start()
    yield s
    s.stop()


@pytest.mark.slow
def test_knowledge_tab_renders_adds_searches_and_removes(srv, display, tmp_path):  # noqa: F811
    client = ApiClient(f"http://{srv.host}/api/v1")
    client.login("admin", ADMIN_PASSWORD)
    client.post("/knowledge", {"title": "Política de trocas", "text": FAQ})
    (tmp_path / "frete.md").write_text("# Frete\n\nFrete grátis acima de R$ 300.\n", encoding="utf-8")

    root = tk.Tk()
    root.geometry("1100x640+0+0")
    bridge = Bridge()
    try:
        tab = KnowledgeTab(root, TabContext(client=client, bridge=bridge, t=Strings("pt_BR")))
        tab.pack(fill="both", expand=True)
        tab.refresh()
        pump(root, lambda: len(tab.docs.get_children()) == 1, bridge=bridge)
        assert tab.docs.item(tab.docs.get_children()[0])["values"][:3] == ["Política de trocas", "texto", 2]

        # Paste a catalogue through the form.
        tab.title_var.set("Catálogo")
        tab.kind_var.set("csv")
        tab.content.insert("1.0", CATALOGUE)
        tab.save_btn.invoke()
        pump(root, lambda: len(tab.docs.get_children()) == 2, bridge=bridge)
        assert tab.message.cget("text") == '"Catálogo" salvo: 2 trechos.'

        # Upload a Markdown file.
        tab.upload_file(tmp_path / "frete.md")
        pump(root, lambda: len(tab.docs.get_children()) == 3, bridge=bridge)
        assert tab.summary.cget("text") == "3 documentos, 5 trechos"
        assert tab.message.cget("text") == '"frete" salvo: 1 trecho.'  # no "1 trechos"

        # Search preview: the catalogue row answers a price question.
        tab.query_var.set("quanto custa o vestido floral?")
        tab.search_btn.invoke()
        pump(root, lambda: bool(tab.results.get_children()), bridge=bridge)
        first = tab.results.item(tab.results.get_children()[0])["values"]
        assert first[0] == "Catálogo" and first[2].startswith("Vestido floral azul — preço R$ 199,90")
        root.update()
        shot = screenshot("knowledge_tab")
        assert shot.stat().st_size > 10_000

        # Remove the FAQ.
        faq = next(d for d in tab.items if d["title"] == "Política de trocas")
        tab.remove(faq)
        pump(root, lambda: len(tab.docs.get_children()) == 2, bridge=bridge)
        assert "removido" in tab.message.cget("text")
    finally:
        bridge.close()
        root.destroy()


@pytest.mark.slow
def test_an_attendant_sees_a_message_not_a_traceback(srv, display):  # noqa: F811
    admin = ApiClient(f"http://{srv.host}/api/v1")
    admin.login("admin", ADMIN_PASSWORD)
    admin.post("/users", {"username": "ana", "password": "senha-boa-123", "role": "attendant"})
    client = ApiClient(f"http://{srv.host}/api/v1")
    client.login("ana", "senha-boa-123")
    root = tk.Tk()
    bridge = Bridge()
    try:
        tab = KnowledgeTab(root, TabContext(client=client, bridge=bridge, t=Strings("en")))
        tab.pack(fill="both", expand=True)
        tab.refresh()
        pump(root, lambda: not tab.loading, bridge=bridge)
        assert tab.message.cget("text") == "Only an admin can see and change the knowledge base."
    finally:
        bridge.close()
        root.destroy()

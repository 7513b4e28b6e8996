"""The contacts & pipeline and conversations tabs end to end: a real Tk window under Xvfb, the
real server (with the default model, so conversations carry real analyses) over HTTP, seeded by
a lead import and two captures. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
import tkinter as tk
from tkinter import ttk

import pytest
from ui_support import display, pump, screenshot  # noqa: F401 - display is a fixture

from desktop.ui.api_client import ApiClient
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings
from desktop.ui.tabs import TabContext
from desktop.ui.tabs import contacts as contacts_tab
from desktop.ui.tabs import conversations as conversations_tab
from tests.conftest import ADMIN_PASSWORD, cli, fixture_capture, make_server

SEED = """ID do Cliente: 101
Nome: Beatriz Ramos
Telefone: (11) 97777-1010
Empresa: Doceria Bia
Etapa: proposta enviada
Valor: R$ 12.500,00
Tags: doceria, sp

ID do Cliente: 102
Nome: Carlos Menezes
Telefone: (21) 96666-2020
Etapa: qualificado
Valor: R$ 3.200,00
Tags: atacado

ID do Cliente: 103
Nome: Denise Prado
Telefone: (31) 95555-3030
Etapa: fechado
Valor: R$ 7.800,00
Tags: sp
"""
# One existing client id (101: a new value) and one new (301).
BATCH = """ID do Cliente: 101
Nome: Beatriz Ramos
Telefone: (11) 97777-1010
Etapa: proposta enviada
Valor: R$ 15.000,00

ID do Cliente: 301
Nome: Eduardo Lins
Telefone: (41) 94444-4040
Etapa: novo
Valor: R$ 950,00
Tags: curitiba

ID do Cliente: 302
??? sem dados ???
"""


def _wait_job(srv, token, job, timeout=120):
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = srv.request("GET", f"/api/v1/jobs/{job['id']}", token=token).json()
    assert job["state"] == "done", job
    return job


@pytest.fixture(scope="module")
def env(tmp_path_factory, model_file, display):  # noqa: F811 - the display fixture
    srv = make_server(tmp_path_factory.mktemp("ui-crm"), model_file)
    r = cli(srv.data_dir, "users", "add", "ana", "--role", "attendant", "--password-stdin", stdin="ana-pass-1234\n")
    assert r.returncode == 0, r.stderr
    srv.start()
    try:
        token = srv.login()["access_token"]
        r = srv.request("POST", "/api/v1/contacts/import", {"text": SEED, "use_model": False}, token=token)
        assert r.status == 202, r.body
        _wait_job(srv, token, r.json())
        conv_ids = []
        for name in ("chat_ptbr_1to1", "chat_enus_1to1_lid"):
            r = srv.request("POST", "/api/v1/captures", fixture_capture(name), token=token)
            assert r.status == 202, r.body
            conv_ids.append(r.json()["conversation_id"])
        # The first chat labelled by the real model (its summary and suggestions may still be
        # streaming on a busy machine, and the second chat wait its turn: the tab shows whatever the
        # latest insight holds).
        deadline = time.monotonic() + 900
        for cid in conv_ids[:1]:
            while True:
                r = srv.request("GET", f"/api/v1/conversations/{cid}/insights", token=token)
                if r.status == 200 and (r.json().get("sentiment") or {}).get("label"):
                    break
                assert time.monotonic() < deadline, r.body
                time.sleep(0.5)
        users = {u["username"]: u["id"] for u in srv.request("GET", "/api/v1/users", token=token).json()["items"]}
        contacts = {c["external_id"]: c for c in srv.request("GET", "/api/v1/contacts", token=token).json()["items"]}
        r = srv.request("PATCH", f"/api/v1/contacts/{contacts['102']['id']}", {"owner": users["ana"]}, token=token)
        assert r.status == 200, r.body

        root = tk.Tk()
        root.geometry("1366x800+0+0")
        import sv_ttk

        sv_ttk.set_theme("light")
        client = ApiClient(f"http://127.0.0.1:{srv.port}/api/v1")
        client.login("admin", ADMIN_PASSWORD)
        bridge = Bridge()
        navigated: list[tuple[str, dict]] = []
        ctx = TabContext(client=client, bridge=bridge, t=Strings("pt_BR"),
                         navigate=lambda tab, **kw: navigated.append((tab, kw)))
        yield {"srv": srv, "token": token, "root": root, "ctx": ctx, "bridge": bridge, "convs": conv_ids,
               "users": users, "navigated": navigated}
        bridge.close()
        root.destroy()
    finally:
        srv.stop()


def _mount(env, view_cls):
    root = env["root"]
    for child in root.winfo_children():
        child.destroy()
    view = view_cls(root, env["ctx"])
    view.pack(fill="both", expand=True)
    root.update()
    return view


def _contacts(env) -> dict[str, dict]:
    items = env["srv"].request("GET", "/api/v1/contacts", token=env["token"]).json()["items"]
    return {c.get("external_id") or c["name"]: c for c in items}


def _settle(env, view, until, timeout=60):
    pump(env["root"], lambda: until() and not view.busy.active, timeout, env["bridge"])
    env["root"].update()
    time.sleep(0.2)
    env["root"].update()


def test_contacts_table_and_pipeline_board(env):
    view = _mount(env, contacts_tab.View)
    view.refresh()
    assert view.busy.active  # the progress state shows while the worker waits on the API
    _settle(env, view, lambda: view.loaded)
    table = view.table
    cells = {table.set(i, "name"): table.item(i, "values") for i in table.get_children()}
    assert set(cells) >= {"Beatriz Ramos", "Carlos Menezes", "Denise Prado", "Mariana Costa", "Jordan Miller"}
    beatriz = cells["Beatriz Ramos"]
    assert (beatriz[2], beatriz[3], beatriz[4]) == ("Proposta", "R$ 12.500,00", "doceria, sp")
    assert cells["Carlos Menezes"][5] == "ana"
    assert view.count_label.cget("text") == "5 de 5 contatos"
    path = screenshot("ui_contacts_table")
    assert path.stat().st_size > 10_000

    view.query.set("beatriz")
    env["root"].update()
    assert [table.set(i, "name") for i in table.get_children()] == ["Beatriz Ramos"]
    view.query.set("")
    view.set_filter("tag", "sp")
    assert sorted(table.set(i, "name") for i in table.get_children()) == ["Beatriz Ramos", "Denise Prado"]
    view.set_filter("tag", "")
    view.set_filter("owner", env["users"]["ana"])
    assert [table.set(i, "name") for i in table.get_children()] == ["Carlos Menezes"]
    view.set_filter("owner", "")

    view.views.select(view.board_page)
    env["root"].update()
    frame, total, tree = view.board_columns["proposal"]
    assert frame.cget("text") == "Proposta · 1" and total.cget("text") == "R$ 12.500,00"
    assert [tree.item(i, "values")[0].strip() for i in tree.get_children()] == ["Beatriz Ramos", "R$ 12.500,00"]
    _, won_total, _ = view.board_columns["won"]
    assert won_total.cget("text") == "R$ 7.800,00"
    path = screenshot("ui_contacts_pipeline")
    assert path.stat().st_size > 10_000


def test_edit_a_contact_and_a_conflict_is_shown(env):
    view = _mount(env, contacts_tab.View)
    view.refresh()
    _settle(env, view, lambda: view.loaded)
    cid = _contacts(env)["103"]["id"]
    view.open_item(contact_id=cid)
    _settle(env, view, lambda: view.current is not None and view.current["id"] == cid)
    assert view.value_var.get() == "7.800,00"
    view.value_var.set("8.100,50")
    view.tags_var.set("sp, vip")
    view.stage_box.current(2)  # proposal
    view.notes.insert("1.0", "ligar na sexta")
    view.save_button.invoke()
    _settle(env, view, lambda: "salvo" in view.detail_message.cget("text"))
    card = _contacts(env)["103"]
    assert (card["value"], card["tags"], card["stage"], card["notes"]) == (8100.5, ["sp", "vip"], "proposal",
                                                                          "ligar na sexta")
    assert view.table.set(cid, "value") == "R$ 8.100,50"

    view.value_var.set("1,234.50")  # English form in a pt-BR window: refused before any request
    view.save_button.invoke()
    assert "Valor inválido" in view.detail_message.cget("text")

    # The server sends ETags: a stale If-Match is shown as a conflict, not overwritten.
    assert view.etag
    r = env["srv"].request("PATCH", f"/api/v1/contacts/{cid}", {"notes": "mudado por outra pessoa"},
                           token=env["token"])
    assert r.status == 200
    view.value_var.set("9.000,00")
    view.save_button.invoke()
    _settle(env, view, lambda: "Outra pessoa" in view.detail_message.cget("text"))
    assert _contacts(env)["103"]["value"] == 8100.5
    assert view.notes.get("1.0", "end").strip() == "mudado por outra pessoa"


def test_batch_import_previews_then_creates_and_updates(env):
    view = _mount(env, contacts_tab.View)
    view.refresh()
    _settle(env, view, lambda: view.loaded)
    view.import_button.invoke()
    dialog = view.import_dialog
    dialog.geometry("900x640+230+80")
    dialog.text.insert("1.0", BATCH)
    dialog.use_model.set(False)  # every field is labelled: the rules read them all
    dialog.preview_button.invoke()
    pump(env["root"], lambda: dialog.finished is not None, 60, env["bridge"])
    assert dialog.finished["result"]["dry_run"] is True
    assert str(dialog.confirm_button.cget("state")) == "normal"
    tree = dialog.tree
    groups = {g: [tree.item(c) for c in tree.get_children(f"group-{g}")] for g in ("created", "updated", "rejected")}
    assert tree.item("group-created", "text") == "Serão criados (1)"
    assert [(c["text"], c["values"][1]) for c in groups["created"]][0][0] == "Eduardo Lins (#301)"
    assert "R$ 950,00" in groups["created"][0]["values"][1]
    (updated,) = groups["updated"]  # the new value (and the lead score the rules recompute)
    assert updated["text"] == "Beatriz Ramos (#101)" and "valor" in updated["values"][1].split(", ")
    assert [c["values"][1] for c in groups["rejected"]] == ["sem nome e sem telefone"]
    assert "Nada foi gravado" in dialog.message.cget("text")
    assert "301" not in _contacts(env)  # a dry run writes nothing
    env["root"].update()
    path = screenshot("ui_contacts_import_preview")
    assert path.stat().st_size > 10_000

    dialog.finished = None
    dialog.confirm_button.invoke()
    pump(env["root"], lambda: dialog.finished is not None, 60, env["bridge"])
    assert dialog.finished["result"]["dry_run"] is False
    assert dialog.finished["result"]["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert tree.item("group-updated", "text") == "Atualizados (1)"
    cards = _contacts(env)
    assert (cards["301"]["name"], cards["301"]["value"], cards["301"]["tags"]) == ("Eduardo Lins", 950.0,
                                                                                 ["curitiba"])
    assert cards["101"]["value"] == 15000.0
    _settle(env, view, lambda: view.table.exists(cards["301"]["id"]))  # the tab reloaded after the import
    assert view.table.set(cards["101"]["id"], "value") == "R$ 15.000,00"
    dialog.destroy()


def test_csv_export_is_written_where_the_admin_picks(env, tmp_path, monkeypatch):
    view = _mount(env, contacts_tab.View)
    view.refresh()
    _settle(env, view, lambda: view.loaded)
    target = tmp_path / "contatos.csv"
    monkeypatch.setattr(contacts_tab.filedialog, "asksaveasfilename", lambda **kw: str(target))
    view.export_button.invoke()
    _settle(env, view, lambda: "CSV salvo" in view.busy.message.cget("text"))
    with open(target, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))  # pt-BR window: ; for Excel
    by_name = {r["name"]: r for r in rows}
    assert len(rows) == len(_contacts(env)) and "(6 contatos)" in view.busy.message.cget("text")
    assert by_name["Eduardo Lins"]["value"] in ("950.0", "950") and by_name["Eduardo Lins"]["stage"] == "lead"
    assert by_name["Carlos Menezes"]["owner"] == "ana"
    assert not list(tmp_path.glob("*.part"))


def test_export_then_erase_one_contact_through_the_confirmation(env, tmp_path, monkeypatch):
    view = _mount(env, contacts_tab.View)
    view.refresh()
    _settle(env, view, lambda: view.loaded)
    jordan = next(c for c in _contacts(env).values() if c["name"] == "Jordan Miller")
    view.open_item(contact_id=jordan["id"])
    _settle(env, view, lambda: view.current is not None and view.current["id"] == jordan["id"])

    target = tmp_path / "jordan.json"
    monkeypatch.setattr(contacts_tab.filedialog, "asksaveasfilename", lambda **kw: str(target))
    view.export_one_button.invoke()
    _settle(env, view, lambda: target.exists())
    data = json.loads(target.read_text("utf-8"))
    assert data["contact"]["name"] == "Jordan Miller" and data["conversations"]
    assert data["conversations"][0]["messages"]

    view.erase_button.invoke()
    dialog = view.erase_dialog
    dialog.geometry("+400+160")
    env["root"].update()
    for words in ("Jordan Miller", "LGPD", "mensagens", "análises", "notas", "irreversível"):
        assert words in dialog.text
    assert str(dialog.erase_button.cget("state")) == "disabled"  # not before the tick
    dialog.erase_button.invoke()
    assert dialog.winfo_exists()
    path = screenshot("ui_contacts_erase_confirmation")
    assert path.stat().st_size > 10_000
    dialog.understood.set(True)
    dialog._toggle()
    dialog.erase_button.invoke()
    _settle(env, view, lambda: "apagado" in view.busy.message.cget("text"))
    r = env["srv"].request("GET", f"/api/v1/contacts/{jordan['id']}", token=env["token"])
    assert r.status == 404
    assert not view.table.exists(jordan["id"]) and view.current is None


def test_conversations_list_open_status_and_label_correction(env):
    view = _mount(env, conversations_tab.View)
    view.refresh()
    _settle(env, view, lambda: view.loaded)
    table = view.table
    titles = {table.set(i, "title"): table.item(i, "values") for i in table.get_children()}
    assert set(titles) == {"Mariana Costa"}  # Jordan was erased with his conversation
    mariana = env["convs"][0]
    row = titles["Mariana Costa"]
    assert row[1] == "Aberta" and row[2].split()[-1] in ("Negativo", "Neutro", "Positivo") and row[3] != "—"
    assert row[5] == "14"
    assert row[4].endswith(" h") or row[4].endswith(" min")  # her last message waits for a reply

    view.open_item(conversation_id=mariana)
    _settle(env, view, lambda: view.current is not None)
    text = view.messages.get("1.0", "end")
    assert "Mariana Costa" in text and len(text.splitlines()) >= 14
    history = [view.history.item(i, "values") for i in view.history.get_children()]
    assert len(history) >= 1 and history[0][1].split()[-1] in ("Negativo", "Neutro", "Positivo")
    assert view.summary.cget("text")
    view.pages.select(0)
    env["root"].update()
    path = screenshot("ui_conversation_open")
    assert path.stat().st_size > 10_000
    view.pages.select(1)
    env["root"].update()
    screenshot("ui_conversation_insights")

    view.status_box.current(2)  # resolved
    view.status_button.invoke()
    _settle(env, view, lambda: "Resolvida" in view.detail_message.cget("text"))
    r = env["srv"].request("GET", f"/api/v1/conversations/{mariana}", token=env["token"])
    assert r.json()["status"] == "resolved"
    assert table.set(mariana, "status") == "Resolvida" and table.set(mariana, "waiting") == "—"

    current = view.insight["sentiment"]["label"]
    current_intent = view.insight["intent"]["label"]
    other = next(s for s in ("negative", "neutral", "positive") if s != current)
    view.sentiment_box.current(("negative", "neutral", "positive").index(other))
    view.intent_box.current(4)  # cancellation
    view.correct_button.invoke()
    _settle(env, view, lambda: "Correção enviada" in view.detail_message.cget("text"))
    db = sqlite3.connect(env["srv"].data_dir / "conversa.db")
    try:
        stored = db.execute("SELECT task, label FROM label_corrections WHERE conversation_id=?",
                            (mariana,)).fetchall()
    finally:
        db.close()
    assert ("sentiment", other) in stored
    if current_intent != "cancellation":
        assert ("intent", "cancellation") in stored

    # The analysis finishes (summary and suggestions, streamed after the labels): reopened, the
    # tab shows exactly what the server's latest insight holds.
    deadline = time.monotonic() + 900
    while True:
        latest = env["srv"].request("GET", f"/api/v1/conversations/{mariana}/insights", token=env["token"]).json()
        if latest["state"] != "pending":
            break
        assert time.monotonic() < deadline, latest
        time.sleep(1)
    view.open_item(conversation_id=mariana)
    _settle(env, view, lambda: (view.insight or {}).get("state") == latest["state"])
    shown = [label.cget("text") for box in view.suggestions.winfo_children()
             for label in (box.winfo_children() if isinstance(box, ttk.Labelframe) else [box])]
    expected = [x["text"] for x in latest.get("suggestions") or []]
    assert shown == (expected or ["Sem sugestões na última análise."])
    if latest["state"] == "ready":
        assert view.summary.cget("text") == (latest.get("summary") or "(sem resumo)")
    view.pages.select(2)
    env["root"].update()
    screenshot("ui_conversation_suggestions")

    view.analyze_button.invoke()
    _settle(env, view, lambda: "Análise na fila" in view.detail_message.cget("text"))

    view.contact_button.invoke()
    assert env["navigated"][-1][0] == "contacts"

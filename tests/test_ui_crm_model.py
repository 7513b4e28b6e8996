"""The contacts and conversations tabs' models, without Tk: rows (R$ in pt-BR), filters, the
pipeline board, PATCH bodies, the import preview grouping, label corrections."""

from __future__ import annotations

import pytest

from desktop.ui import contacts_model as cm
from desktop.ui import conversations_model as vm
from desktop.ui.i18n import Strings

PT, EN = Strings("pt_BR"), Strings("en")

CONTACTS = [
    {"id": "k1", "name": "Maria Souza", "phone": "+5511987654321", "stage": "proposal", "value": 12500.0,
     "tags": ["padaria", "sp"], "notes": "quer entrega semanal", "owner": "u1", "external_id": "101",
     "company": "Padaria Pão Bom"},
    {"id": "k2", "name": "João Pereira", "phone": "+5521998765432", "stage": "qualified", "value": 1234.5,
     "tags": ["Oficina"], "notes": "", "owner": None, "external_id": "102"},
    {"id": "k3", "name": None, "phone": "+551134567890", "stage": "won", "value": None, "tags": [],
     "notes": None, "owner": "u2"},
]
METRICS = {
    "health": {"threshold": 50, "contacts": [
        {"contact_id": "k1", "score": 35, "previous": 60, "reasons": ["waiting_unanswered"]},
        {"contact_id": "k2", "score": 90, "previous": None, "reasons": ["inactive_14d"]},
    ]},
    "at_risk": [{"contact_id": "k1", "name": "Maria Souza", "score": 35, "stage": "proposal",
                 "reasons": [{"code": "waiting_unanswered", "text": "cliente aguardando resposta além do SLA"}]}],
}
USERS = {"u1": "ana", "u2": "bruno"}


def rows(lang="pt_BR"):
    t = PT if lang == "pt_BR" else EN
    return cm.contact_rows(CONTACTS, cm.health_index(METRICS, t), USERS, t, lang)


def test_rows_format_money_stage_owner_and_health_in_pt_br():
    r = {x.id: x for x in rows()}
    assert r["k1"].cells() == ("Maria Souza", "+5511987654321", "Proposta", "R$ 12.500,00", "padaria, sp", "ana",
                               "35 ⚠ em risco", "101")
    assert r["k2"].value_text == "R$ 1.234,50" and r["k2"].owner_text == "—"
    assert r["k2"].health_text == "90" and r["k2"].health.reasons == ["sem mensagens há 14 dias ou mais"]
    assert r["k3"].name == "+551134567890" and r["k3"].value_text == "—" and r["k3"].health_text == "—"
    assert r["k1"].health.reasons == ["cliente aguardando resposta além do SLA"]
    en = {x.id: x for x in rows("en")}
    assert en["k1"].value_text == "R$12,500.00" and en["k1"].stage_text == "Proposal"
    assert en["k1"].health.reasons == ["customer waiting for a reply beyond the SLA"]
    # at risk is the server's call (the at_risk list), not a guess from the score
    assert not r["k2"].health.at_risk and r["k1"].health.at_risk


@pytest.mark.parametrize("filters, ids", [
    (cm.Filters(), ["k1", "k2", "k3"]),
    (cm.Filters(query="joao"), ["k2"]),  # accents folded
    (cm.Filters(query="padaria bom"), ["k1"]),  # every word, across name, company, tags
    (cm.Filters(query="98765-4321"), ["k1"]),  # digits typed with the formatting
    (cm.Filters(query="3456 7890"), ["k3"]),
    (cm.Filters(stage="won"), ["k3"]),
    (cm.Filters(tag="oficina"), ["k2"]),  # case-insensitive
    (cm.Filters(owner="u1"), ["k1"]),
    (cm.Filters(owner="none"), ["k2"]),
    (cm.Filters(health="at_risk"), ["k1"]),
    (cm.Filters(health="healthy"), ["k2"]),
    (cm.Filters(health="unscored"), ["k3"]),
    (cm.Filters(query="maria", stage="won"), []),
])
def test_filters(filters, ids):
    assert [r.id for r in cm.apply_filters(rows(), filters)] == ids


def test_board_has_every_stage_in_order_with_totals():
    cols = cm.board(rows(), PT)
    assert [c.stage for c in cols] == ["lead", "qualified", "proposal", "won", "lost"]
    by = {c.stage: c for c in cols}
    assert by["proposal"].title == "Proposta · 1" and by["proposal"].total_text == "R$ 12.500,00"
    assert by["lead"].title == "Lead · 0" and by["lead"].total_text == "R$ 0,00"
    assert [r.id for r in by["won"].rows] == ["k3"]
    assert cm.all_tags(rows()) == ["Oficina", "padaria", "sp"]


def test_patch_body_sends_only_what_changed_and_reads_pt_br_money():
    c = CONTACTS[0]
    same = dict(stage="proposal", value_text="12.500,00", tags_text="sp, padaria", notes="quer entrega semanal\n",
                owner="u1")
    assert cm.patch_body(c, **same) == {}
    assert cm.value_for_entry(12500.0) == "12.500,00"
    assert cm.patch_body(c, **(same | {"value_text": "R$ 13.000,5"})) == {"value": 13000.5}
    assert cm.patch_body(c, **(same | {"stage": "won", "tags_text": "vip; sp,padaria", "owner": None})) == {
        "stage": "won", "tags": ["padaria", "sp", "vip"], "owner": None}
    assert cm.patch_body(c, **(same | {"owner": "u2"}), can_set_owner=False) == {}
    assert cm.patch_body(c, **(same | {"value_text": ""})) == {"value": None}
    with pytest.raises(ValueError):
        cm.patch_body(c, **(same | {"value_text": "1,234.50"}))  # English form typed in pt-BR
    with pytest.raises(ValueError):
        cm.patch_body(c, **(same | {"value_text": "-5"}))


JOB = {"id": "j1", "state": "done", "result": {"dry_run": True,
       "counts": {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}, "rows": [
           {"row": 1, "action": "updated", "contact_id": "k9", "fields": ["stage", "value"], "warnings": [],
            "preview": {"external_id": "103", "name": "Carla Dias", "value": 3000.0}},
           {"row": 2, "action": "created", "contact_id": None, "fields": ["external_id", "name", "value"],
            "warnings": ["phone unreadable"], "preview": {"external_id": "201", "name": "Novo Cliente",
                                                          "value": 450.0}},
           {"row": 3, "action": "rejected", "reason": "no name and no phone", "warnings": [],
            "preview": {"external_id": "105"}},
       ]}}


def test_import_preview_groups_rows_with_fields_and_reasons():
    g = cm.preview_groups(JOB, PT)
    assert list(g) == ["created", "updated", "unchanged", "rejected"]
    (created,), (updated,), (rejected,) = g["created"], g["updated"], g["rejected"]
    assert (created.row, created.name, created.warnings) == (2, "Novo Cliente (#201)", "phone unreadable")
    assert created.detail == "ID do cliente, nome, valor · R$ 450,00"
    assert (updated.name, updated.detail) == ("Carla Dias (#103)", "etapa, valor")
    assert (rejected.name, rejected.detail) == ("(sem nome) (#105)", "sem nome e sem telefone")
    assert g["unchanged"] == []
    assert cm.preview_counts(JOB) == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert cm.group_title("created", 1, PT) == "Serão criados (1)"
    assert cm.group_title("created", 1, PT, done=True) == "Criados (1)"
    assert cm.preview_groups(JOB, EN)["rejected"][0].detail == "no name and no phone"
    # The real run carries no values: the dry run's names label its rows.
    real = {"result": {"rows": [{"row": 1, "action": "updated", "contact_id": "k9", "fields": ["value"]}]}}
    assert cm.preview_groups(real, PT, names={1: "Carla Dias (#103)"})["updated"][0].name == "Carla Dias (#103)"


def test_import_body_and_csv_decoding():
    assert cm.import_body(text="ID do Cliente: 1\nNome: A", dry_run=True) == {
        "text": "ID do Cliente: 1\nNome: A", "dry_run": True, "use_model": True}
    assert cm.import_body(text="ignored", csv_text="a;b\n1;2", dry_run=False, use_model=False) == {
        "csv": "a;b\n1;2", "dry_run": False, "use_model": False}
    with pytest.raises(ValueError):
        cm.import_body(text="  \n", dry_run=True)
    assert cm.decode_csv("\ufeffNome;Observações\n".encode()) == "Nome;Observações\n"
    assert cm.decode_csv("Nome;Observações\n".encode("cp1252")) == "Nome;Observações\n"


def test_erase_confirmation_names_the_consequences():
    text = cm.erase_consequences(CONTACTS[0], 2, PT)
    for words in ("Maria Souza", "LGPD", "mensagens", "análises", "notas", "irreversível", "backups", "2"):
        assert words in text, words
    assert "cannot be undone" in cm.erase_consequences(CONTACTS[0], None, EN)
    assert cm.export_name(CONTACTS[0]) == "conversa-contato-k1.json"


CONVS = [
    {"id": "c1", "title": "Mariana Costa", "status": "open", "contact_id": "k1", "message_count": 12,
     "last_message_at": "2026-03-10T09:14:00", "waiting_seconds": 720,
     "insight": {"state": "ready", "sentiment": "negative", "score": -0.7, "intent": "complaint"}},
    {"id": "c2", "title": "Loja do Zé", "status": "resolved", "contact_id": "k2", "message_count": 3,
     "last_message_at": None, "insight": None},
    {"id": "c3", "title": "Ana", "status": "pending", "contact_id": "k3", "message_count": 1,
     "insight": {"state": "pending", "sentiment": None, "intent": None}},
]


def test_conversation_rows_and_filters():
    r = vm.conversation_rows(CONVS, PT, waiting={"c3": 3 * 3600 + 300})
    assert r[0].cells == ("Mariana Costa", "Aberta", "▼ Negativo", "Reclamação", "12 min", "12", "10/03/2026 09:14")
    assert r[1].cells[2:5] == ("—", "—", "—")
    assert r[2].cells[2] == "analisando…" and r[2].cells[4] == "3 h 05 min"  # from GET /queue
    assert [x.id for x in vm.filter_rows(r, query="loja do ze")] == ["c2"]
    assert [x.id for x in vm.filter_rows(r, status="pending")] == ["c3"]
    assert [x.id for x in vm.filter_rows(r, sentiment="negative")] == ["c1"]
    assert [x.id for x in vm.filter_rows(r, waiting_only=True)] == ["c1", "c3"]
    assert [x.id for x in vm.sort_rows(r, "waiting")] == ["c3", "c1", "c2"]
    en = vm.conversation_rows(CONVS, EN)
    assert en[0].cells[1:4] == ("Open", "▼ Negative", "Complaint")


def test_messages_history_summary_and_corrections():
    conv = {"messages": [
        {"id": "m1", "direction": "in", "kind": "text", "author": "Mariana", "timestamp": "2026-03-10T09:14:00",
         "text": "Oi, meu pedido não chegou"},
        {"id": "m2", "direction": "in", "kind": "audio", "author": "Mariana", "timestamp": "2026-03-10T09:15:00",
         "text": None},
        {"id": "m3", "direction": "out", "kind": "text", "author": None, "timestamp": "2026-03-10T09:20:00",
         "text": "Vou verificar"},
        {"id": "m4", "direction": "in", "kind": "system", "author": None, "timestamp": None, "text": None},
    ]}
    lines = vm.message_lines(conv, PT)
    assert [(x.who, x.header, x.text) for x in lines] == [
        ("in", "Mariana · 10/03/2026 09:14", "Oi, meu pedido não chegou"),
        ("in", "Mariana · 10/03/2026 09:15", "[áudio]"),
        ("out", "Você · 10/03/2026 09:20", "Vou verificar"),
        ("system", "", "[aviso do WhatsApp]"),
    ]
    history = {"items": [
        {"sentiment": {"label": "neutral", "score": 0.0}, "intent": {"label": "order_status", "confidence": 0.6},
         "created_at": "2026-03-10T12:00:00+00:00"},
        {"sentiment": {"label": "negative", "score": -0.72}, "intent": {"label": "complaint", "confidence": 0.81},
         "created_at": "2026-03-11T12:30:00+00:00"},
    ]}
    assert vm.history_rows(history, PT) == [
        ("11/03/2026 12:30", "▼ Negativo", "-0,72", "Reclamação", "81 %"),
        ("10/03/2026 12:00", "■ Neutro", "+0,00", "Status do pedido", "60 %"),
    ]
    insight = {"state": "ready", "summary": "Pedido atrasado", "sentiment": {"label": "negative"},
               "intent": {"label": "complaint"}, "suggestions": [{"id": "s1", "text": "Sinto muito!"}]}
    assert vm.insight_summary(insight, PT) == ("Pedido atrasado", ["Sinto muito!"])
    assert vm.insight_summary(None, PT)[0] == "Ainda sem análise para esta conversa."
    cited = {**insight, "suggestions": [
        {"id": "s1", "text": "A troca é grátis em até 30 dias.", "citations": [
            {"id": "k1.1", "title": "Política de trocas"}, {"id": "k1.2", "title": "Política de trocas"}]},
        {"id": "s2", "text": "Sinto muito!", "citations": []}]}
    assert vm.suggestion_sources(cited, PT) == ["fonte: Política de trocas", ""]
    assert vm.suggestion_sources({"state": "pending"}, PT) == []
    assert vm.label_correction(insight, "negative", "complaint") == {}
    assert vm.label_correction(insight, "neutral", "complaint") == {"sentiment": "neutral"}
    assert vm.label_correction(insight, "", "order_status") == {"intent": "order_status"}
    assert vm.label_correction(None, "positive", "bogus") == {"sentiment": "positive"}


def test_every_key_the_tabs_use_exists_in_both_languages():
    from desktop.ui.i18n import catalogue

    for lang in ("pt_BR", "en"):
        cat = catalogue(lang)
        keys = [f"contacts.stage.{s}" for s in ("lead", "qualified", "proposal", "won", "lost")]
        keys += [f"conv.sentiment.{s}" for s in vm.SENTIMENTS] + [f"conv.intent.{i}" for i in vm.INTENTS]
        keys += [f"conv.status.{s}" for s in ("open", "pending", "resolved")]
        keys += [f"contacts.import.group.{g}" for g in cm.IMPORT_GROUPS]
        assert not [k for k in keys if k not in cat], lang


def test_label_sets_match_the_models():
    """The window holds no llm code: its copy of the label sets must match the model's."""
    from llm.prompts import INTENTS, SENTIMENTS

    assert vm.SENTIMENTS == SENTIMENTS and vm.INTENTS == INTENTS

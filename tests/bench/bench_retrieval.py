"""Retrieval benchmark: the knowledge passages and team replies an analysis request carries.

Run: .venv/bin/python tests/bench/bench_retrieval.py [--replies 10000] [--passages 10000] [--queries 500]
Builds the in-memory indexes the server keeps (desktop/usecases/knowledge.py, team_replies.py)
over generated pt-BR material: a catalogue and FAQ of `--passages` passages and `--replies`
past (customer turn → reply) pairs, then times what `_request` runs per analysis (the customer's
last turn → top-4 passages + top-5 team replies from other chats). Prints p50/p99 per part and
for both together, and the indexing time. Not a pass/fail test; the issue's target is p99 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop import knowledge_parse  # noqa: E402
from desktop.contact_facts import mask  # noqa: E402
from desktop.usecases.grounding import customer_query  # noqa: E402
from desktop.usecases.knowledge import KnowledgeBase  # noqa: E402
from desktop.usecases.team_replies import TeamReplies, _Entry  # noqa: E402
from llm.sources import Passage  # noqa: E402

ITEMS = "vestido blusa saia calça camisa jaqueta bolsa sandália tênis bota short macacão casaco cinto".split()
ADJ = "floral listrado liso estampado bordado plissado jeans linho seda malha couro algodão tricô".split()
COLORS = "azul preto branco vermelho verde rosa bege amarelo cinza marrom lilás".split()
TOPICS = [
    "troca",
    "devolução",
    "frete",
    "prazo de entrega",
    "pagamento no pix",
    "parcelamento no cartão",
    "horário de atendimento",
    "retirada na loja",
    "tabela de medidas",
    "garantia",
    "cupom de desconto",
    "nota fiscal",
    "rastreamento do pedido",
    "cancelamento",
]
ASKS = [
    "quanto custa o {p}?",
    "tem {p} no tamanho M?",
    "o {p} ainda tem em estoque?",
    "como funciona a {t}?",
    "qual o prazo de {t}?",
    "meu pedido não chegou, e agora?",
    "quero fazer a {t} do {p}",
    "vocês aceitam {t}?",
    "o {p} veio com defeito, quero {t}",
    "boa tarde, queria saber sobre {t}",
]
REPLIES = [
    "Oi {n}! Sobre {t}: você tem até 30 dias, é só nos chamar por aqui.",
    "Temos sim! O {p} está disponível, quer que eu separe?",
    "Sinto muito pelo ocorrido, {n}. Já abri a {t} do seu pedido {o}.",
    "O {p} sai por R$ {v},90 no pix. Posso te mandar o link?",
    "Bom dia! Atendemos de segunda a sábado; a {t} pode ser feita na loja.",
]
NAMES = "Ana Bruna Carla Daniela Eduardo Fernanda Gabriel Helena Igor Juliana Lucas Mariana Pedro Rafael".split()


def product(r: random.Random) -> str:
    return f"{r.choice(ITEMS)} {r.choice(ADJ)} {r.choice(COLORS)}"


def fill(r: random.Random, template: str) -> str:
    return template.format(
        p=product(r), t=r.choice(TOPICS), n=r.choice(NAMES), o=r.randint(10000, 99999), v=r.randint(49, 399)
    )


def build(n_passages: int, n_replies: int, seed: int = 7) -> tuple[KnowledgeBase, TeamReplies, float, float]:
    r = random.Random(seed)
    kb = KnowledgeBase(None)  # type: ignore[arg-type]  # the index only: no store in a bench
    started = time.perf_counter()
    n_rows = n_passages * 4 // 5
    rows = "\n".join(f"{product(r)};{r.randint(49, 399)},90;{r.randint(0, 40)};SKU-{i:05d}" for i in range(n_rows))
    parsed = knowledge_parse.parse_csv("produto;preço;estoque;sku\n" + rows)
    faq = [
        knowledge_parse.ParsedPassage(
            f"{t.capitalize()}\n" + " ".join(fill(r, r.choice(REPLIES)) for _ in range(4)), {}
        )
        for t in (r.choice(TOPICS) for _ in range(n_passages - n_rows))
    ]
    for i, p in enumerate(parsed + faq):
        title = "Catálogo" if p.fields else "Perguntas frequentes"
        kb.index.add(f"{title}\n{p.text}")
        kb._entries.append(Passage(id=f"kb_bench.{i + 1}", title=title, text=p.text, fields=p.fields))
    kb_secs = time.perf_counter() - started
    team = TeamReplies(None)  # type: ignore[arg-type]
    started = time.perf_counter()
    for i in range(n_replies):
        turn, reply = fill(r, r.choice(ASKS)), fill(r, r.choice(REPLIES))
        team._add(
            _Entry(f"c_{i // 8}", f"m_{i}", mask(reply), mask(turn), r.choice([None, "order_status", "complaint"]))
        )
    team_secs = time.perf_counter() - started
    return kb, team, kb_secs, team_secs


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies", type=int, default=10_000)
    ap.add_argument("--passages", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args()
    kb, team, kb_secs, team_secs = build(args.passages, args.replies)
    print(f"indexed {len(kb)} passages in {kb_secs:.2f} s, {len(team)} team replies in {team_secs:.2f} s")
    r = random.Random(11)
    chats = [
        [{"direction": "in", "text": fill(r, r.choice(ASKS)), "kind": "text"} for _ in range(r.randint(1, 3))]
        for _ in range(args.queries)
    ]
    t_kb, t_team, t_all, cpu = [], [], [], []
    for msgs in chats:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        q = customer_query(msgs)
        t1 = time.perf_counter()
        kb.search(q, 4)
        t2 = time.perf_counter()
        team.search(q, exclude_conversation="c_3", k=5)
        t3 = time.perf_counter()
        t_kb.append((t2 - t1) * 1000)
        t_team.append((t3 - t2) * 1000)
        t_all.append((t3 - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    for name, v in (("knowledge top-4", t_kb), ("team replies top-5", t_team), ("both (per analysis)", t_all)):
        print(f"{name:<22} p50 {pct(v, 50):6.2f} ms   p99 {pct(v, 99):6.2f} ms   max {max(v):6.2f} ms")
    # On a shared machine the wall-clock tail is mostly waiting for a core: the CPU time says what
    # the retrieval itself costs.
    print(f"{'both, CPU time':<22} p50 {pct(cpu, 50):6.2f} ms   p99 {pct(cpu, 99):6.2f} ms   max {max(cpu):6.2f} ms")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()

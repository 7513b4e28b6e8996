"""Does the default model's embedding help retrieval? BM25 alone vs the model's mean-pooled
embedding (cosine) vs both (reciprocal-rank fusion), on a small hand-written set: 14 FAQ and
catalogue passages and 28 customer questions that say the same thing in other words, each with
the passage that answers it. Also times one query embedding, the cost that would be added to
each analysis's retrieval (budget: p99 ≤ 20 ms for the whole retrieval).

Run: .venv/bin/python tests/bench/bench_retrieval_embeddings.py [--model PATH.gguf]
Not a pass/fail test; the set is small, so read the figures as a direction, not a verdict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llm.retrieval import BM25Index  # noqa: E402

PASSAGES = [
    "Trocas: a primeira troca é grátis em até 30 dias após o recebimento, com a etiqueta na peça.",
    "Devolução e reembolso: se desistir da compra, devolvemos o valor em até 7 dias úteis após recebermos o produto.",
    "Frete: grátis acima de R$ 300 para todo o Brasil; abaixo disso o frete é calculado pelo CEP no carrinho.",
    "Prazo de entrega: capitais em 3 a 5 dias úteis, interior em até 10 dias úteis após a postagem.",
    "Pagamento: no Pix há 5% de desconto; no cartão parcelamos em até 6x sem juros.",
    "Horário de atendimento: segunda a sábado, das 9h às 18h; aos domingos e feriados a loja fica fechada.",
    "Retirada: você pode retirar o pedido na loja da Rua Augusta sem pagar frete, a partir do dia seguinte.",
    "Tabela de medidas: P veste 36-38, M veste 40-42, G veste 44-46; na dúvida escolha o maior.",
    "Garantia: defeitos de fabricação são cobertos por 90 dias; envie fotos do defeito pelo WhatsApp.",
    "Rastreamento: o código de rastreio chega por e-mail quando o pedido é postado nos Correios.",
    "Cancelamento: pedidos ainda não enviados podem ser cancelados sem custo pelo WhatsApp.",
    "Vestido floral azul — preço R$ 199,90 — estoque 12 — SKU VF-001",
    "Blusa de linho branca — preço R$ 89,90 — estoque 0 — SKU BL-002",
    "Tênis de couro preto — preço R$ 259,00 — estoque 4 — SKU TC-003",
]
QUESTIONS = [
    ("posso trocar a peça se não servir?", 0),
    ("comprei e ficou pequeno, consigo outro número?", 0),
    ("me arrependi da compra, vocês devolvem o dinheiro?", 1),
    ("quero meu dinheiro de volta", 1),
    ("quanto fica pra mandar pra Recife?", 2),
    ("o envio é gratuito?", 2),
    ("em quantos dias chega?", 3),
    ("demora muito pra entregar no interior?", 3),
    ("tem desconto se eu pagar à vista?", 4),
    ("dá pra dividir no cartão?", 4),
    ("vocês abrem domingo?", 5),
    ("até que horas posso chamar vocês?", 5),
    ("posso buscar pessoalmente?", 6),
    ("tem loja física pra pegar o pedido?", 6),
    ("visto 40, qual tamanho peço?", 7),
    ("como sei meu tamanho?", 7),
    ("a costura abriu depois de uma semana de uso", 8),
    ("veio com defeito, e agora?", 8),
    ("onde acompanho a encomenda?", 9),
    ("não recebi o código pra rastrear", 9),
    ("desisti, dá pra cancelar antes de enviar?", 10),
    ("quero cancelar meu pedido", 10),
    ("quanto é aquele vestido de flores azul?", 11),
    ("o vestido florido ainda tem?", 11),
    ("a blusa branca de linho voltou?", 12),
    ("qual o valor da blusa de linho?", 12),
    ("tem o tênis preto de couro?", 13),
    ("quanto custa o tênis?", 13),
]


def embed(llama, text: str) -> np.ndarray:
    vec = np.asarray(llama.embed(text), dtype=np.float64)
    if vec.ndim == 2:  # one vector per token: mean-pool
        vec = vec.mean(axis=0)
    return vec / (np.linalg.norm(vec) or 1.0)


def ranks_bm25(index: BM25Index, q: str) -> list[int]:
    found = [i for i, _ in index.search(q, len(PASSAGES))]
    return found + [i for i in range(len(PASSAGES)) if i not in found]


def fuse(*rankings: list[int], k: int = 60) -> list[int]:
    score: dict[int, float] = {}
    for ranking in rankings:
        for r, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1 / (k + r + 1)
    return sorted(score, key=lambda i: -score[i])


def main() -> None:
    from conftest import _models_cache

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(_models_cache() / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = ap.parse_args()
    from llama_cpp import Llama

    llama = Llama(args.model, embedding=True, n_ctx=512, n_threads=2, verbose=False)
    index = BM25Index(PASSAGES)
    doc_vecs = np.stack([embed(llama, p) for p in PASSAGES])
    hits = {"BM25": [], "embedding": [], "BM25 + embedding (RRF)": []}
    times, cpu = [], []
    for q, gold in QUESTIONS:
        t0, c0 = time.perf_counter(), time.process_time()
        qv = embed(llama, q)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        by_emb = list(np.argsort(-(doc_vecs @ qv)))
        by_bm25 = ranks_bm25(index, q)
        for name, ranking in (
            ("BM25", by_bm25),
            ("embedding", by_emb),
            ("BM25 + embedding (RRF)", fuse(by_bm25, by_emb)),
        ):
            hits[name].append((ranking[0] == gold, gold in ranking[:3]))
    print(f"{len(QUESTIONS)} questions over {len(PASSAGES)} passages, model {Path(args.model).name}")
    for name, h in hits.items():
        r1 = sum(a for a, _ in h) / len(h)
        r3 = sum(b for _, b in h) / len(h)
        print(f"{name:<24} recall@1 {r1:5.0%}   recall@3 {r3:5.0%}")
    q = statistics.quantiles(times, n=100, method="inclusive")
    c = statistics.quantiles(cpu, n=100, method="inclusive")
    print(f"query embedding: wall p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms; CPU p50 {c[49]:.1f} ms, p99 {c[98]:.1f} ms")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
